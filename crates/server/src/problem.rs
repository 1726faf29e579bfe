//! RFC 9457 problem details: the one place where errors become HTTP responses.
//!
//! Every variant has a stable kebab-case code (the last segment of `type`) and its status is
//! chosen in one match. 5xx bodies say only "internal error" and a request id; the cause goes to
//! the log, never to the client.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use staydown_domain::validation::{FieldError, FieldErrors};
use staydown_store::StoreError;

/// Media type of problem documents.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// Every error the API can answer with.
#[derive(Debug)]
pub enum ApiError {
    /// Input failed validation; every field problem is listed.
    Validation(FieldErrors),
    /// The path or query string could not be read (e.g. `?limit=abc`); the problems are listed.
    BadRequest(FieldErrors),
    /// The body is not JSON at all.
    MalformedJson(String),
    /// The body is larger than allowed.
    PayloadTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// The body is not `application/json`.
    UnsupportedMediaType,
    /// The API key is missing where required, unknown or revoked.
    Unauthorized(&'static str),
    /// The caller's role may not do this.
    Forbidden(&'static str),
    /// Nothing here (also for a wrong tracking token: the caller learns nothing).
    NotFound,
    /// The method is not allowed on this path.
    MethodNotAllowed,
    /// A conflicting state, e.g. a duplicate.
    Conflict(String),
    /// Too many anonymous requests from one address; retry after the given seconds.
    RateLimited {
        /// Seconds until a request will be accepted again.
        retry_after_secs: u64,
    },
    /// Too many failed password attempts for this account name or from this address.
    SignInThrottled {
        /// Seconds until an attempt will be considered again.
        retry_after_secs: u64,
    },
    /// The notifier's notices are suspended under DSA Art. 23(2).
    NotifierSuspended {
        /// End of the suspension (RFC 3339).
        until: String,
        /// The recorded reasons.
        reason: String,
    },
    /// The six-month window for internal complaints (Art. 20(1)) has closed.
    AppealWindowClosed {
        /// When it closed (RFC 3339).
        closed_at: String,
    },
    /// A feature needs configuration that this server lacks (e.g. `[vault] key_file`).
    NotConfigured(&'static str),
    /// The database is unreachable.
    Unavailable,
    /// Every image decoder stayed busy (the decode memory budget was full) for the whole decode
    /// timeout; nothing was stored. Answered with `Retry-After: 1` (issue 15).
    Busy(String),
    /// A bug or unexpected failure; the cause is logged with the request id.
    Internal(String),
    /// The route belongs to a node role this process does not run (`nodes`, issue 16): the load
    /// balancer sent it to the wrong pool. 421 Misdirected Request.
    WrongNode(String),
}

#[derive(Serialize)]
struct Problem<'a> {
    #[serde(rename = "type")]
    kind: String,
    title: &'a str,
    status: u16,
    detail: String,
    #[serde(skip_serializing_if = "<[FieldError]>::is_empty")]
    errors: &'a [FieldError],
    #[serde(skip_serializing_if = "Option::is_none")]
    request_id: Option<String>,
}

impl ApiError {
    /// A validation problem on a single field.
    pub fn field(field: &str, code: &'static str, message: impl Into<String>) -> Self {
        let mut e = FieldErrors::default();
        e.push(field, code, message);
        Self::Validation(e)
    }

    fn parts(&self) -> (StatusCode, &'static str, &'static str, String) {
        match self {
            Self::Validation(e) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation-failed",
                "The request has invalid or missing fields",
                format!("{} problem(s): {e}", e.0.len()),
            ),
            Self::BadRequest(e) => (
                StatusCode::BAD_REQUEST,
                "bad-request",
                "The path or query string is malformed",
                format!("{} problem(s): {e}", e.0.len()),
            ),
            Self::MalformedJson(m) => {
                (StatusCode::BAD_REQUEST, "malformed-json", "The body is not valid JSON", m.clone())
            }
            Self::PayloadTooLarge { limit } => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload-too-large",
                "The request body is too large",
                format!("the body may be at most {limit} bytes"),
            ),
            Self::UnsupportedMediaType => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                "Send JSON",
                "set Content-Type: application/json".to_owned(),
            ),
            Self::Unauthorized(m) => {
                (StatusCode::UNAUTHORIZED, "unauthorized", "Authentication failed", (*m).to_owned())
            }
            Self::Forbidden(m) => (StatusCode::FORBIDDEN, "forbidden", "Not allowed", (*m).to_owned()),
            Self::NotFound => (StatusCode::NOT_FOUND, "not-found", "Not found", "nothing here".to_owned()),
            Self::MethodNotAllowed => (
                StatusCode::METHOD_NOT_ALLOWED,
                "method-not-allowed",
                "Method not allowed",
                "this path does not accept that method".to_owned(),
            ),
            Self::Conflict(m) => (StatusCode::CONFLICT, "conflict", "Conflict", m.clone()),
            Self::RateLimited { retry_after_secs } => (
                StatusCode::TOO_MANY_REQUESTS,
                "rate-limited",
                "Too many requests",
                format!("too many notices from your address; please try again in {retry_after_secs} seconds"),
            ),
            Self::SignInThrottled { retry_after_secs } => (
                StatusCode::TOO_MANY_REQUESTS,
                "sign-in-throttled",
                "Too many failed sign-ins",
                format!(
                    "too many failed password attempts for this account or from your address; try again in \
                     {retry_after_secs} seconds"
                ),
            ),
            Self::NotifierSuspended { until, reason } => (
                StatusCode::FORBIDDEN,
                "notifier-suspended",
                "Your notices are suspended",
                format!(
                    "after a prior warning, notices from you are not processed until {until} (DSA Art. 23(2)): {reason}"
                ),
            ),
            Self::AppealWindowClosed { closed_at } => (
                StatusCode::CONFLICT,
                "appeal-window-closed",
                "The appeal period has ended",
                format!("appeals against this decision were possible until {closed_at} (DSA Art. 20(1): six months)"),
            ),
            Self::NotConfigured(m) => {
                (StatusCode::SERVICE_UNAVAILABLE, "not-configured", "Not configured on this server", (*m).to_owned())
            }
            Self::Unavailable => (
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "Temporarily unavailable",
                "the database is unavailable; nothing was stored, please retry".to_owned(),
            ),
            Self::Busy(m) => (StatusCode::SERVICE_UNAVAILABLE, "busy", "Busy, please retry", m.clone()),
            Self::WrongNode(m) => {
                (StatusCode::MISDIRECTED_REQUEST, "wrong-node", "This node does not serve this route", m.clone())
            }
            Self::Internal(_) => {
                (StatusCode::INTERNAL_SERVER_ERROR, "internal", "Internal error", "internal error".to_owned())
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code, title, detail) = self.parts();
        let request_id = match &self {
            Self::Internal(cause) => {
                let id = uuid::Uuid::new_v4().to_string();
                tracing::error!(request_id = %id, %cause, "internal error");
                Some(id)
            }
            Self::Unavailable => {
                let id = uuid::Uuid::new_v4().to_string();
                tracing::warn!(request_id = %id, "database unavailable");
                Some(id)
            }
            _ => None,
        };
        let errors = match &self {
            Self::Validation(e) | Self::BadRequest(e) => e.0.as_slice(),
            _ => &[],
        };
        let body =
            Problem { kind: format!("/problems/{code}"), title, status: status.as_u16(), detail, errors, request_id };
        let mut response = (status, serde_json::to_string(&body).unwrap_or_default()).into_response();
        response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if let Self::RateLimited { retry_after_secs } | Self::SignInThrottled { retry_after_secs } = self
            && let Ok(v) = HeaderValue::from_str(&retry_after_secs.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, v);
        }
        if let Self::Busy(_) = self {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        response
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => Self::NotFound,
            StoreError::Conflict(m) => Self::Conflict(m),
            StoreError::Suspended { until, reason } => Self::NotifierSuspended {
                until: until.format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
                reason,
            },
            StoreError::Unavailable(cause) => {
                tracing::warn!(%cause, "store unavailable");
                Self::Unavailable
            }
            other => Self::Internal(other.to_string()),
        }
    }
}

/// Answers unknown paths with a problem document.
pub async fn not_found() -> ApiError {
    ApiError::NotFound
}

/// Answers a wrong method with a problem document.
pub async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (status, code, _, detail) = self.parts();
        match self {
            Self::Internal(cause) => write!(f, "{} {code}: {cause}", status.as_u16()),
            _ => write!(f, "{} {code}: {detail}", status.as_u16()),
        }
    }
}

impl std::error::Error for ApiError {}

/// Middleware: turns the framework's own plain-text rejections (a query string that does not
/// deserialize, a path parameter of the wrong type, a wrong method or media type on an extractor)
/// into problem documents, so that *every* error of the API is RFC 9457 problem+json. Responses that
/// already have a body type of their own (problem+json, JSON, HTML, metrics text) pass untouched.
pub async fn framework_rejections(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let response = next.run(req).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let content_type =
        response.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    let plain = content_type.is_empty() || content_type.starts_with("text/plain");
    if !plain || response.headers().contains_key("x-staydown-plain") {
        return response;
    }
    let retry_after = response.headers().get(header::RETRY_AFTER).cloned();
    let text = match axum::body::to_bytes(response.into_body(), 16 * 1024).await {
        Ok(bytes) => String::from_utf8_lossy(&bytes).trim().to_owned(),
        Err(_) => String::new(),
    };
    let error = match status {
        StatusCode::NOT_FOUND => ApiError::NotFound,
        StatusCode::METHOD_NOT_ALLOWED => ApiError::MethodNotAllowed,
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ApiError::UnsupportedMediaType,
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge { limit: 0 },
        s if s.is_client_error() => ApiError::BadRequest(rejection_fields(&text)),
        _ => ApiError::Internal(text),
    };
    let mut out = error.into_response();
    if let Some(v) = retry_after {
        out.headers_mut().insert(header::RETRY_AFTER, v);
    }
    out
}

/// Field problems from an axum rejection text such as
/// `Failed to deserialize query string: limit: invalid digit found in string`.
fn rejection_fields(text: &str) -> FieldErrors {
    let mut errors = FieldErrors::default();
    for (prefix, place) in [
        ("Failed to deserialize query string: ", "query"),
        ("Failed to deserialize form: ", "form"),
        ("Invalid URL: ", "path"),
        ("Failed to deserialize path parameters: ", "path"),
    ] {
        if let Some(rest) = text.strip_prefix(prefix) {
            match rest.split_once(": ") {
                Some((field, message)) if !field.contains(' ') => {
                    errors.push(format!("{place}.{field}"), "invalid", message);
                }
                _ => errors.push(place, "invalid", rest),
            }
            return errors;
        }
    }
    errors.push("request", "invalid", if text.is_empty() { "the request is malformed" } else { text });
    errors
}
