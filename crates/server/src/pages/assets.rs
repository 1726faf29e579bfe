//! Static files of the pages, embedded in the binary (no build step, no CDN): the stylesheet, the
//! favicon, the page scripts and the PDQ WebAssembly (`web/static/`).

use axum::extract::Path;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use crate::problem::ApiError;

/// (name, content type, bytes).
const FILES: &[(&str, &str, &[u8])] = &[
    ("site.css", "text/css; charset=utf-8", include_bytes!("../../../../web/static/site.css")),
    ("console.css", "text/css; charset=utf-8", include_bytes!("../../../../web/static/console.css")),
    ("favicon.svg", "image/svg+xml", include_bytes!("../../../../web/static/favicon.svg")),
    ("report-hashes.js", "text/javascript; charset=utf-8", include_bytes!("../../../../web/static/report-hashes.js")),
];

/// `GET /static/{file}`.
pub async fn file(Path(name): Path<String>) -> Result<Response, ApiError> {
    let (_, content_type, bytes) = FILES.iter().find(|(n, _, _)| *n == name).ok_or(ApiError::NotFound)?;
    Ok(serve(content_type, bytes))
}

/// `GET /favicon.ico` (the SVG icon; browsers sniff the type from the header).
pub async fn favicon() -> Response {
    serve("image/svg+xml", include_bytes!("../../../../web/static/favicon.svg"))
}

fn serve(content_type: &'static str, bytes: &'static [u8]) -> Response {
    let mut response = bytes.into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600"));
    response
}
