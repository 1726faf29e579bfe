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

/// The first character in `text` that has no place in anything people or machines send us:
/// NUL and the other C0 controls except tab, line feed and carriage return, DEL and the C1
/// controls (U+007F–U+009F), and the bidirectional embeddings, overrides and isolates
/// (U+202A–U+202E, U+2066–U+2069) that make text display differently from what it says
/// ("Trojan Source", CVE-2021-42574). PostgreSQL cannot even store NUL in text.
pub fn forbidden_character(text: &str) -> Option<char> {
    text.chars().find(|&c| {
        matches!(c, '\u{0}'..='\u{8}' | '\u{b}' | '\u{c}' | '\u{e}'..='\u{1f}' | '\u{7f}'..='\u{9f}')
            || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    })
}

/// Records a `control_character` problem on `field` when `text` holds a [`forbidden_character`].
pub fn check_characters(errors: &mut FieldErrors, field: &str, text: &str) {
    if let Some(c) = forbidden_character(text) {
        errors.push(
            field,
            "control_character",
            format!("contains the invisible control character U+{:04X}; remove it and send again", u32::from(c)),
        );
    }
}

impl std::fmt::Display for FieldErrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = self.0.iter().map(|e| format!("{}: {}", e.field, e.message)).collect();
        f.write_str(&parts.join("; "))
    }
}

impl std::error::Error for FieldErrors {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_and_bidi_characters_are_found_and_ordinary_text_passes() {
        for bad in ["a\u{0}b", "x\u{1b}[31m", "\u{7f}", "\u{85}", "abc\u{202e}cba", "\u{2066}x"] {
            assert!(forbidden_character(bad).is_some(), "{bad:?}");
        }
        for good in ["Line one\nline two\r\n\tindented", "Zoë — naïve 😀", "پرسش\u{200c}ها", "👩\u{200d}💻"]
        {
            assert_eq!(forbidden_character(good), None, "{good:?}");
        }
        let mut e = FieldErrors::default();
        check_characters(&mut e, "explanation", "nul\u{0}here");
        assert_eq!(e.0[0].code, "control_character");
        assert!(e.0[0].message.contains("U+0000"));
    }
}
