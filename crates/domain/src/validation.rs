//! Field-level validation problems, collected rather than stopping at the first.
//!
//! These feed the `errors` list of the API's RFC 9457 problem documents, so a person filing a
//! notice learns everything that is wrong at once.

use serde::Serialize;

/// One problem with one field of an input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// JSON path of the field, e.g. `locations[0].url`.
    pub field: String,
    /// Stable machine code, e.g. `required`, `invalid`, `too_long`.
    pub code: &'static str,
    /// Human explanation.
    pub message: String,
}

/// All problems found in one input.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldErrors(pub Vec<FieldError>);

impl FieldErrors {
    /// Records a problem.
    pub fn push(&mut self, field: impl Into<String>, code: &'static str, message: impl Into<String>) {
        self.0.push(FieldError { field: field.into(), code, message: message.into() });
    }

    /// Records that a mandatory field is missing.
    pub fn required(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.push(field, "required", message);
    }

    /// `Ok(value)` when nothing was recorded.
    pub fn into_result<T>(self, value: T) -> Result<T, FieldErrors> {
        if self.0.is_empty() { Ok(value) } else { Err(self) }
    }

    /// Whether a problem was recorded for `field`.
    pub fn has(&self, field: &str) -> bool {
        self.0.iter().any(|e| e.field == field)
    }
}

impl std::fmt::Display for FieldErrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = self.0.iter().map(|e| format!("{}: {}", e.field, e.message)).collect();
        f.write_str(&parts.join("; "))
    }
}

impl std::error::Error for FieldErrors {}
