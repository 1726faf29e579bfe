//! The JSON body extractor: bounded, strict, and explained field by field.
//!
//! Unlike axum's `Json`, rejections are problem documents: a syntax error is `400 malformed-json`,
//! a wrong type, an unknown or a mistyped field is `422 validation-failed` naming the field path,
//! an oversized body is `413`.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, Request};
use axum::http::{StatusCode, header};
use serde::de::DeserializeOwned;

use crate::problem::ApiError;

/// A JSON request body of type `T`.
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|v| {
                let v = v.trim();
                v.eq_ignore_ascii_case("application/json") || v.ends_with("+json")
            });
        if !is_json {
            return Err(ApiError::UnsupportedMediaType);
        }
        let limit = req.extensions().get::<BodyLimit>().map_or(DEFAULT_BODY_LIMIT, |l| l.0);
        let bytes = Bytes::from_request(req, state).await.map_err(|e: BytesRejection| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::PayloadTooLarge { limit }
            } else {
                ApiError::MalformedJson(e.body_text())
            }
        })?;
        parse(&bytes).map(ApiJson)
    }
}

/// Default limit on JSON bodies: generous for a notice with many locations, tiny for an attacker.
pub const DEFAULT_BODY_LIMIT: usize = 64 * 1024;

/// The body limit in force, put in request extensions by the router so errors can name it.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit(pub usize);

/// Parses JSON bytes, turning serde errors into field-level problems. Any string anywhere in the
/// body holding a control or bidirectional-override character
/// ([`staydown_domain::validation::forbidden_character`]) is refused with a `control_character`
/// problem naming its path, whatever the endpoint: PostgreSQL cannot store NUL, and such characters
/// make stored text differ from what a reviewer sees.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if may_hold_forbidden_characters(bytes)
        && let Ok(value) = serde_json::from_slice::<serde_json::Value>(bytes)
    {
        let mut errors = staydown_domain::validation::FieldErrors::default();
        check_strings(&value, &mut String::new(), &mut errors);
        if !errors.0.is_empty() {
            return Err(ApiError::Validation(errors));
        }
    }
    // A UTF-8 byte-order mark (files saved by Windows tools and sent as the body) is not JSON
    // (RFC 8259 §8.1 lets parsers ignore it); accept it rather than fail on the first byte.
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut *de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        match inner.classify() {
            serde_json::error::Category::Data => {
                let field = if path == "." { "body".to_owned() } else { path };
                let message = inner.to_string();
                let message = message.split(" at line ").next().unwrap_or(&message).to_owned();
                let code = if message.starts_with("unknown field") {
                    "unknown_field"
                } else if message.starts_with("missing field") {
                    "required"
                } else {
                    "invalid"
                };
                ApiError::field(&field, code, message)
            }
            _ => ApiError::MalformedJson(inner.to_string()),
        }
    })?;
    // Anything after the JSON value but whitespace is not JSON either.
    de.end().map_err(|e| ApiError::MalformedJson(e.to_string()))?;
    Ok(value)
}

/// Cheap pre-check on the raw bytes: a `\\u` escape, a C1 control (UTF-8 `C2 80`–`C2 9F`), or a
/// bidirectional control (`E2 80 AA`–`AE`, `E2 81 A6`–`A9`). Raw C0 controls are already invalid JSON.
fn may_hold_forbidden_characters(bytes: &[u8]) -> bool {
    bytes.windows(2).any(|w| w == b"\\u" || (w[0] == 0xC2 && (0x80..=0x9F).contains(&w[1])))
        || bytes.windows(3).any(|w| {
            w[0] == 0xE2
                && ((w[1] == 0x80 && (0xAA..=0xAE).contains(&w[2])) || (w[1] == 0x81 && (0xA6..=0xA9).contains(&w[2])))
        })
}

fn check_strings(value: &serde_json::Value, path: &mut String, errors: &mut staydown_domain::validation::FieldErrors) {
    match value {
        serde_json::Value::String(s) => {
            let field = if path.is_empty() { "body" } else { path.as_str() };
            staydown_domain::validation::check_characters(errors, field, s);
        }
        serde_json::Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                check_strings(item, path, errors);
                path.truncate(len);
            }
        }
        serde_json::Value::Object(map) => {
            for (key, item) in map {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(key);
                staydown_domain::validation::check_characters(errors, path, key);
                check_strings(item, path, errors);
                path.truncate(len);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Body {
        a: Vec<std::collections::BTreeMap<String, String>>,
    }

    #[test]
    fn control_characters_are_refused_with_their_path() {
        for (body, field) in [
            (r#"{"a":[{"x":"fine"},{"y":"nul\u0000"}]}"#, "a[1].y"),
            ("{\"a\":[{\"x\":\"bidi \u{202e}override\"}]}", "a[0].x"),
            ("{\"a\":[{\"x\":\"c1 \u{85}\"}]}", "a[0].x"),
        ] {
            match parse::<Body>(body.as_bytes()) {
                Err(ApiError::Validation(e)) => {
                    assert_eq!(e.0[0].field, field, "{body}");
                    assert_eq!(e.0[0].code, "control_character");
                }
                other => panic!("{body}: {other:?}"),
            }
        }
        assert!(parse::<Body>(br#"{"a":[{"x":"line\nbreak \u00e9 \ud83d\ude00"}]}"#).is_ok());
    }
}

#[cfg(test)]
mod bom_tests {
    #[derive(serde::Deserialize, Debug, PartialEq)]
    struct Entry {
        pdq: String,
    }

    #[test]
    fn a_leading_byte_order_mark_is_accepted() {
        let body = b"\xEF\xBB\xBF{\"pdq\": \"ab\"}";
        assert_eq!(super::parse::<Entry>(body).unwrap(), Entry { pdq: "ab".into() });
        assert!(super::parse::<Entry>(b"{\"pdq\": \"ab\"}\xEF\xBB\xBF").is_err());
    }
}
