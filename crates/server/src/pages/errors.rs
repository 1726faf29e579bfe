//! Error pages for browsers. API clients keep RFC 9457 problem+json (`crate::problem`); a request
//! whose `Accept` names `text/html` (every browser navigation does) gets the same status as a
//! readable page in its language instead. Headers such as `Retry-After` and `Allow` are kept.

use askama::Template;
use askama_web::WebTemplate;
use axum::http::StatusCode;
use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};

use super::Ctx;
use crate::problem::PROBLEM_JSON;

/// Whether the client prefers an HTML page (a browser) to JSON.
pub fn wants_html(headers: &HeaderMap) -> bool {
    headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|accept| {
        let html = accept.find("text/html");
        let json = accept.find("json");
        match (html, json) {
            (Some(h), Some(j)) => h < j,
            (Some(_), None) => true,
            _ => false,
        }
    })
}

/// Whether a response is a problem document.
pub fn is_problem(response: &Response) -> bool {
    response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with(PROBLEM_JSON))
}

/// The error page.
#[derive(Template, WebTemplate)]
#[template(path = "views/error.html")]
pub struct ErrorPage {
    /// Page context.
    pub ctx: Ctx,
    /// HTTP status code.
    pub status: u16,
    /// Key prefix of the title and text (`error-404`, …).
    pub key: &'static str,
}

impl ErrorPage {
    fn title_key(&self) -> String {
        format!("{}-title", self.key)
    }
    fn text_key(&self) -> String {
        format!("{}-text", self.key)
    }
}

/// The catalogue key prefix for a status.
pub fn key_for(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 | 422 => tk("error-400"),
        403 | 401 => tk("error-403"),
        404 => tk("error-404"),
        405 => tk("error-405"),
        409 => tk("error-409"),
        413 => tk("error-413"),
        429 => tk("error-429"),
        _ if status.is_server_error() => tk("error-500"),
        _ => tk("error-400"),
    }
}

/// Marks a catalogue key prefix (`-title` and `-text` are added) for the completeness test.
const fn tk(prefix: &'static str) -> &'static str {
    prefix
}

/// Replaces a problem response with the HTML page for its status.
pub fn html_error(ctx: &Ctx, problem: &Response) -> Response {
    let status = problem.status();
    let page = ErrorPage { ctx: ctx.clone(), status: status.as_u16(), key: key_for(status) };
    let mut response = (status, page).into_response();
    for name in [header::RETRY_AFTER, header::ALLOW] {
        if let Some(v) = problem.headers().get(&name) {
            response.headers_mut().insert(name, v.clone());
        }
    }
    response
}

/// An error page answered directly by a page handler.
pub fn page(ctx: &Ctx, status: StatusCode) -> Response {
    let mut r = (status, ErrorPage { ctx: ctx.clone(), status: status.as_u16(), key: key_for(status) }).into_response();
    r.headers_mut().insert(header::CONTENT_LANGUAGE, HeaderValue::from_static(ctx.code()));
    r
}
