//! The security headers of every HTML response, set in one place ([`set_security_headers`]).
//!
//! The Content-Security-Policy allows nothing inline: scripts and styles are files from this
//! server, WebAssembly may be compiled (`'wasm-unsafe-eval'`, for the in-browser hashing), and
//! `connect-src 'self'` means a page's script can talk to this server only — a selected photo
//! cannot be sent anywhere else. `media-src blob:` lets the hash-only report play a chosen video
//! from memory to fingerprint it on the device (issue 17); no media from elsewhere. `frame-ancestors 'none'` forbids framing (clickjacking);
//! `Referrer-Policy: no-referrer` keeps tracking tokens (they are in URLs) out of other sites' logs;
//! `Cache-Control: no-store` keeps pages with tokens and case details out of shared caches.

use axum::http::header::{self, HeaderMap, HeaderValue};

/// The Content-Security-Policy of every page.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; \
     style-src 'self'; img-src 'self' data: blob:; media-src blob:; connect-src 'self'; font-src 'self'; \
     manifest-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Sets the security headers on an HTML response.
pub fn set_security_headers(headers: &mut HeaderMap) {
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONTENT_SECURITY_POLICY));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::HeaderName::from_static("permissions-policy"),
        HeaderValue::from_static("camera=(), microphone=(), geolocation=(), interest-cohort=()"),
    );
}

/// Whether a response is an HTML document (and so must carry the headers).
pub fn is_html(headers: &HeaderMap) -> bool {
    headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| v.starts_with("text/html"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_forbid_inline_code_framing_and_foreign_connections() {
        let mut h = HeaderMap::new();
        set_security_headers(&mut h);
        let csp = h[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
        let directives: Vec<&str> = csp.split(';').map(str::trim).collect();
        assert!(directives.contains(&"default-src 'none'"));
        assert!(directives.contains(&"frame-ancestors 'none'"));
        assert!(directives.contains(&"connect-src 'self'"));
        assert!(directives.contains(&"style-src 'self'"));
        assert!(directives.contains(&"script-src 'self' 'wasm-unsafe-eval'"));
        assert!(!csp.contains("unsafe-inline"), "no inline script or style");
        assert!(!csp.contains("'unsafe-eval'"), "no eval");
        assert!(!csp.contains("http"), "no other origin");
        assert_eq!(h[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        assert_eq!(h[header::REFERRER_POLICY], "no-referrer");
        assert_eq!(h[header::CACHE_CONTROL], "no-store");
    }
}
