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

/// Parses JSON bytes, turning serde errors into field-level problems.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    // A UTF-8 byte-order mark (files saved by Windows tools and sent as the body) is not JSON
    // (RFC 8259 §8.1 lets parsers ignore it); accept it rather than fail on the first byte.
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(|e| {
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
    })
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
