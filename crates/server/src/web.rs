//! Embedded static files of the PDQ WebAssembly module.
//!
//! The PDQ WebAssembly module (`crates/pdq-wasm`, committed under `web/static/pdq/`), embedded so the
//! server needs no build step on a fresh machine. The hash-only report page (`pages::report`) uses
//! it to hash photos on the person's own device.

use axum::extract::Path;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use crate::problem::ApiError;

/// The embedded static files: (name, content type, bytes).
const PDQ_FILES: &[(&str, &str, &[u8])] = &[
    (
        "staydown_pdq_wasm.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../../web/static/pdq/staydown_pdq_wasm.js"),
    ),
    (
        "staydown_pdq_wasm_bg.wasm",
        "application/wasm",
        include_bytes!("../../../web/static/pdq/staydown_pdq_wasm_bg.wasm"),
    ),
];

/// `GET /static/pdq/{file}`.
pub async fn pdq_file(Path(name): Path<String>) -> Result<Response, ApiError> {
    let (_, content_type, bytes) = PDQ_FILES.iter().find(|(n, _, _)| *n == name).ok_or(ApiError::NotFound)?;
    let mut response = bytes.into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600"));
    Ok(response)
}
