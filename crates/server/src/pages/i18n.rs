//! Page language and translation catalogues (Fluent, `crates/server/locales/{en,nl}/*.ftl`).
//!
//! The language of a page comes from `?lang=` first, then the `lang` cookie (set whenever `?lang=`
//! is used), then the browser's `Accept-Language`, and defaults to English. Every visible string on
//! a page is a key in both catalogues; `tests::catalogues_are_complete` checks that both languages
//! hold the same keys and that every key a template or page handler uses exists.

use std::collections::HashMap;

use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::request::Parts;
use fluent_templates::fluent_bundle::FluentValue;
use fluent_templates::{Loader, static_loader};

static_loader! {
    static LOCALES = {
        locales: "./locales",
        fallback_language: "en",
        // Fluent wraps arguments in Unicode isolation marks by default; in HTML they only get in
        // the way (copying a case code would copy them too).
        customise: |bundle| bundle.set_use_isolating(false),
    };
}

/// Name of the cookie that remembers a chosen language.
pub const LANG_COOKIE: &str = "lang";

/// A language the pages are offered in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// English.
    En,
    /// Dutch.
    Nl,
}

impl Lang {
    /// Every supported language, in the order the switch shows them.
    pub const ALL: [Lang; 2] = [Lang::Nl, Lang::En];

    /// BCP 47 code (`en`, `nl`).
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Nl => "nl",
        }
    }

    /// Parses a code such as `nl`, `nl-BE` or `EN`.
    pub fn parse(s: &str) -> Option<Lang> {
        let primary = s.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        match primary.as_str() {
            "en" => Some(Lang::En),
            "nl" => Some(Lang::Nl),
            _ => None,
        }
    }

    /// The language's own name, as shown on the switch.
    pub fn endonym(self) -> &'static str {
        match self {
            Lang::En => "English",
            Lang::Nl => "Nederlands",
        }
    }

    /// The domain's language for messages to the notifier (e-mails, statements).
    pub fn domain(self) -> staydown_domain::notice::Language {
        match self {
            Lang::En => staydown_domain::notice::Language::En,
            Lang::Nl => staydown_domain::notice::Language::Nl,
        }
    }

    fn id(self) -> fluent_templates::LanguageIdentifier {
        match self {
            Lang::En => fluent_templates::langid!("en"),
            Lang::Nl => fluent_templates::langid!("nl"),
        }
    }

    /// The best supported language in an `Accept-Language` header, honouring q-values.
    pub fn from_accept_language(header: &str) -> Option<Lang> {
        let mut best: Option<(f32, Lang)> = None;
        for part in header.split(',') {
            let mut pieces = part.split(';');
            let Some(tag) = pieces.next() else { continue };
            let q = pieces
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            if let Some(lang) = Lang::parse(tag)
                && q > 0.0
                && best.is_none_or(|(bq, _)| q > bq)
            {
                best = Some((q, lang));
            }
        }
        best.map(|(_, l)| l)
    }

    /// The language for a request: `?lang=`, then the cookie, then `Accept-Language`, then English.
    pub fn negotiate(query: Option<&str>, headers: &HeaderMap) -> Lang {
        if let Some(l) = query.and_then(query_lang) {
            return l;
        }
        if let Some(l) = cookie_value(headers, LANG_COOKIE).and_then(|v| Lang::parse(&v)) {
            return l;
        }
        headers
            .get(axum::http::header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .and_then(Lang::from_accept_language)
            .unwrap_or(Lang::En)
    }

    /// Looks `key` up; a missing key shows as the key itself (and fails the catalogue test).
    pub fn t(self, key: &str) -> String {
        LOCALES.try_lookup(&self.id(), key).unwrap_or_else(|| key.to_owned())
    }

    /// Looks `key` up with named arguments.
    pub fn ta(self, key: &str, args: &[(&str, &str)]) -> String {
        let map: HashMap<std::borrow::Cow<'static, str>, FluentValue<'_>> =
            args.iter().map(|(k, v)| (std::borrow::Cow::Owned((*k).to_owned()), FluentValue::from(*v))).collect();
        LOCALES.try_lookup_with_args(&self.id(), key, &map).unwrap_or_else(|| key.to_owned())
    }
}

/// `lang=xx` in a query string, if present and supported.
pub fn query_lang(query: &str) -> Option<Lang> {
    url::form_urlencoded::parse(query.as_bytes()).find(|(k, _)| k == "lang").and_then(|(_, v)| Lang::parse(&v))
}

/// A cookie's value from the `Cookie` headers.
pub fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers.get_all(axum::http::header::COOKIE).iter().filter_map(|v| v.to_str().ok()).find_map(|v| {
        v.split(';').find_map(|pair| {
            let (k, val) = pair.trim().split_once('=')?;
            (k == name).then(|| val.to_owned())
        })
    })
}

impl<S: Send + Sync> FromRequestParts<S> for Lang {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Lang::negotiate(parts.uri.query(), &parts.headers))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::path::Path;

    use super::*;

    fn keys_in(dir: &Path) -> BTreeSet<String> {
        let mut keys = BTreeSet::new();
        for entry in std::fs::read_dir(dir).expect("locale dir") {
            let path = entry.expect("entry").path();
            if path.extension().is_some_and(|e| e == "ftl") {
                let text = std::fs::read_to_string(&path).expect("read ftl");
                for line in text.lines() {
                    // A message starts at column 0 with `key =`; attributes, comments and
                    // continuation lines are indented or start with `#`.
                    if let Some((k, _)) = line.split_once(" =")
                        && !line.starts_with([' ', '#', '\t', '.'])
                        && !k.is_empty()
                    {
                        assert!(keys.insert(k.trim().to_owned()), "duplicate key {k} in {}", path.display());
                    }
                }
            }
        }
        keys
    }

    /// Every `t("key")` / `ta("key", …)` / `tk("key")` in the templates and the page handlers.
    fn keys_used() -> BTreeSet<String> {
        fn walk(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
            for entry in std::fs::read_dir(dir).expect("dir") {
                let path = entry.expect("entry").path();
                if path.is_dir() {
                    walk(&path, out);
                } else {
                    out.push(path);
                }
            }
        }
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files = Vec::new();
        walk(&root.join("templates"), &mut files);
        walk(&root.join("src/pages"), &mut files);
        walk(&root.join("src/staff"), &mut files);
        files.push(root.join("src/mail.rs"));
        let mut used = BTreeSet::new();
        // This file names the markers in its own docs and tests.
        for f in files.into_iter().filter(|f| !f.ends_with("i18n.rs")) {
            let text = std::fs::read_to_string(&f).expect("read source");
            for marker in ["t(\"", "ta(\"", "tk(\""] {
                let mut rest = text.as_str();
                while let Some(i) = rest.find(marker) {
                    let before = rest[..i].chars().last();
                    rest = &rest[i + marker.len()..];
                    // `t(` must be a call of its own, not the end of another name (`alert(`).
                    if marker == "t(\"" && before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                        continue;
                    }
                    let Some(end) = rest.find('"') else { break };
                    let key = &rest[..end];
                    if key.is_empty() || key.contains(['{', ' ']) {
                        continue;
                    }
                    if marker == "tk(\"" {
                        // A prefix: the page shows `<prefix>-title` and `<prefix>-text`.
                        used.insert(format!("{key}-title"));
                        used.insert(format!("{key}-text"));
                    } else {
                        used.insert(key.to_owned());
                    }
                }
            }
        }
        used
    }

    /// The public pages address people with "u"; the staff console addresses colleagues with
    /// "je", in every part of it (console, admin pages, helpline pages).
    #[test]
    fn dutch_staff_pages_address_colleagues_with_je() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("locales/nl");
        for file in ["staff.ftl", "staff-admin.ftl", "helpline.ftl"] {
            let text = std::fs::read_to_string(root.join(file)).expect("catalogue");
            for line in text.lines().filter(|l| !l.starts_with('#')) {
                let Some((key, value)) = line.split_once(" = ") else { continue };
                // "{ $hours } u" is "uur", not "u".
                let words = value.replace("} u", "}").replace(|c: char| !c.is_alphanumeric(), " ");
                let formal = words.split_whitespace().any(|w| matches!(w, "u" | "U" | "uw" | "Uw"));
                assert!(!formal, "{file}: {key} says \"u\" to a colleague: {value}");
            }
        }
    }

    #[test]
    fn catalogues_are_complete() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("locales");
        let en = keys_in(&root.join("en"));
        let nl = keys_in(&root.join("nl"));
        let only_en: Vec<_> = en.difference(&nl).collect();
        let only_nl: Vec<_> = nl.difference(&en).collect();
        assert!(only_en.is_empty(), "keys missing in nl: {only_en:?}");
        assert!(only_nl.is_empty(), "keys missing in en: {only_nl:?}");
        let used = keys_used();
        assert!(used.len() > 20, "the scan found too few keys ({}); is the marker still right?", used.len());
        let missing: Vec<_> = used.iter().filter(|k| !en.contains(*k)).collect();
        assert!(missing.is_empty(), "keys used but not in the catalogues: {missing:?}");
        // Every message resolves in both languages, given values for the variables it names.
        let sources: String = ["en", "nl"]
            .iter()
            .flat_map(|l| std::fs::read_dir(root.join(l)).expect("dir"))
            .map(|e| std::fs::read_to_string(e.expect("entry").path()).expect("read"))
            .collect();
        let vars: BTreeSet<String> = sources
            .split("{ $")
            .skip(1)
            .filter_map(|rest| rest.split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-')).next())
            .map(str::to_owned)
            .collect();
        let args: Vec<(&str, &str)> = vars.iter().map(|v| (v.as_str(), "1")).collect();
        for key in &en {
            for lang in Lang::ALL {
                assert_ne!(lang.ta(key, &args), *key, "{key} does not resolve in {}", lang.code());
            }
        }
    }

    #[test]
    fn negotiation_order() {
        let mut h = HeaderMap::new();
        h.insert("accept-language", "de-DE,nl;q=0.8,en;q=0.5".parse().unwrap());
        assert_eq!(Lang::negotiate(None, &h), Lang::Nl);
        h.insert("cookie", "a=b; lang=en".parse().unwrap());
        assert_eq!(Lang::negotiate(None, &h), Lang::En);
        assert_eq!(Lang::negotiate(Some("token=x&lang=nl"), &h), Lang::Nl);
        assert_eq!(Lang::negotiate(None, &HeaderMap::new()), Lang::En);
        assert_eq!(Lang::from_accept_language("en;q=0.1, nl-BE"), Some(Lang::Nl));
    }
}
