//! Server-rendered pages and embedded static files.
//!
//! `/hash` lets a person compute the PDQ hash of an image in their own browser (the image never
//! leaves the device; the same Rust PDQ code as the server, compiled to WebAssembly), so they can
//! report by hash alone. The wasm build is committed under `web/static/pdq/` and embedded here, so
//! the server needs no build step on a fresh machine.

use axum::extract::Path;
use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};

use crate::problem::ApiError;

/// The embedded static files: (name, content type, bytes).
const PDQ_FILES: &[(&str, &str, &[u8])] = &[
    ("pdq.js", "text/javascript; charset=utf-8", include_bytes!("../../../web/static/pdq/pdq.js")),
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

/// `GET /hash`: hash an image in the browser.
pub async fn hash_page() -> Html<&'static str> {
    Html(include_str!("hash.html"))
}
