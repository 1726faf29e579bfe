//! Reading `application/x-www-form-urlencoded` bodies (repeated names allowed) and carrying field
//! errors back to a form in the person's language.

use std::collections::BTreeMap;

/// A submitted form: every (name, value) pair in order.
#[derive(Debug, Clone, Default)]
pub struct FormData(pub Vec<(String, String)>);

impl FormData {
    /// Parses a urlencoded body.
    pub fn parse(body: &[u8]) -> FormData {
        FormData(url::form_urlencoded::parse(body).map(|(k, v)| (k.into_owned(), v.into_owned())).collect())
    }

    /// The first value of `name`, trimmed ("" when absent).
    pub fn get(&self, name: &str) -> String {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim().to_owned()).unwrap_or_default()
    }

    /// Every value of `name`.
    pub fn all(&self, name: &str) -> Vec<String> {
        self.0.iter().filter(|(k, _)| k == name).map(|(_, v)| v.clone()).collect()
    }
}

/// Field errors of a form: field name → translated message.
#[derive(Debug, Clone, Default)]
pub struct Errors(pub BTreeMap<String, String>);

impl Errors {
    /// Records the first error of a field.
    pub fn add(&mut self, field: &str, message: String) {
        self.0.entry(field.to_owned()).or_insert(message);
    }

    /// The error of a field.
    pub fn get(&self, field: &str) -> Option<&String> {
        self.0.get(field)
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The errors in the order the fields appear on the form (`order`, top to bottom), fields not
    /// named there last — the order an error summary lists them in (WCAG 2.2 SC 3.3.1, 1.3.2).
    pub fn in_form_order(&self, order: &[&str]) -> Vec<(String, String)> {
        let rank = |f: &str| order.iter().position(|o| *o == f).unwrap_or(order.len());
        let mut all: Vec<(String, String)> = self.0.iter().map(|(f, m)| (f.clone(), m.clone())).collect();
        all.sort_by_key(|(f, _)| rank(f));
        all
    }

    /// `"true"` when the field has an error, else `"false"`: the value of its `aria-invalid`.
    pub fn aria_invalid(&self, field: &str) -> &'static str {
        if self.0.contains_key(field) { "true" } else { "false" }
    }

    /// The whole ` aria-describedby="…"` attribute (with its leading space) for [`Self::described_by`],
    /// or nothing when the field has neither hint nor error, so no input carries an empty reference
    /// list. The ids are the template's own field names; write it with `|safe`.
    pub fn described_by_attr(&self, field: &str, hint: &str) -> String {
        let ids = self.described_by(field, hint);
        if ids.is_empty() { String::new() } else { format!(" aria-describedby=\"{ids}\"") }
    }

    /// The value of a field's `aria-describedby`: its hint's id (may be empty) and, when it has an
    /// error, the error message's id (`{field}-error`, written by `common/field_error.html`).
    pub fn described_by(&self, field: &str, hint: &str) -> String {
        match (self.0.contains_key(field), hint.is_empty()) {
            (true, true) => format!("{field}-error"),
            (true, false) => format!("{hint} {field}-error"),
            (false, _) => hint.to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Errors;

    #[test]
    fn summary_follows_the_form_and_inputs_point_at_their_errors() {
        let mut e = Errors::default();
        e.add("email", "bad e-mail".into());
        e.add("what", "choose".into());
        e.add("zzz", "other".into());
        let order: Vec<String> = e.in_form_order(&["locations", "what", "email"]).into_iter().map(|(f, _)| f).collect();
        assert_eq!(order, ["what", "email", "zzz"]);
        assert_eq!(e.aria_invalid("email"), "true");
        assert_eq!(e.aria_invalid("name"), "false");
        assert_eq!(e.described_by("email", ""), "email-error");
        assert_eq!(e.described_by("what", "what-hint"), "what-hint what-error");
        assert_eq!(e.described_by("name", "name-hint"), "name-hint");
    }
}
