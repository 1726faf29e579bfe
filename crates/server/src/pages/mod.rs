//! The public web: server-rendered pages for people (victims, notifiers, uploaders), beside the
//! JSON API (`crate::api`) for machines. Both front doors call the same domain and store code.
//!
//! - [`router`] holds the page routes; `crate::router` merges it and wraps the whole app in
//!   [`layer`], which sets the security headers on every HTML response ([`headers`]), remembers a
//!   language chosen with `?lang=`, issues the anonymous CSRF cookie ([`csrf`]) and turns
//!   problem+json errors into readable HTML pages for browsers (decided by `Accept`).
//! - Templates live in `crates/server/templates/{layout.html,views/,common/}` (askama, checked at
//!   compile time); every visible string is a Fluent key in `crates/server/locales/{en,nl}/` ([`i18n`]).
//! - Static files (CSS, favicon, scripts, the PDQ WebAssembly) are embedded in the binary ([`assets`]).
//!
//! Accessibility target: WCAG 2.2 AA (landmarks, labels, error summary, contrast, 320 px wide),
//! checked with axe-core in headless Chromium (`tests/browser`).

pub mod appeal;
pub mod assets;
pub mod complain;
pub mod csrf;
pub mod errors;
pub mod form;
pub mod headers;
pub mod home;
pub mod i18n;
pub mod info;
pub mod once;
pub mod report;
pub mod statement;
pub mod track;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::header::{self, HeaderValue};
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

pub use self::i18n::Lang;
use crate::AppState;

/// Body limit of the report forms, in bytes.
pub const REPORT_FORM_LIMIT: usize = 1024 * 1024;

/// The page routes (merged into `crate::router`).
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(home::home))
        .route("/help", get(info::help))
        .route("/policy", get(info::policy))
        .route("/privacy", get(info::privacy))
        // The largest valid report (10,000 characters of explanation, 100 locations) fits well
        // inside this; the textareas' maxlength keeps people from typing past the limits.
        .route("/report", get(report::form).post(report::submit).layer(DefaultBodyLimit::max(REPORT_FORM_LIMIT)))
        .route(
            "/report/hashes",
            get(report::hashes_form).post(report::submit_hashes).layer(DefaultBodyLimit::max(REPORT_FORM_LIMIT)),
        )
        .route("/report/received/{id}", get(report::received))
        .route("/complain/{decision}", get(complain::page).post(complain::submit))
        .route("/statement/{id}", get(statement::show))
        .route("/statement/{id}/appeal", get(complain::after_statement_form).post(statement::appeal))
        .route("/track/{id}", get(track::show))
        .route("/track/{id}/appeal", get(complain::after_tracking_form).post(track::appeal))
        .route("/track/{id}/withdraw", get(complain::after_tracking_form).post(track::withdraw))
        .route("/favicon.ico", get(assets::favicon))
        .route("/static/{file}", get(assets::file))
}

/// The anonymous CSRF binding of the current request (set by [`layer`]).
#[derive(Debug, Clone)]
pub struct CsrfBinding(pub String);

/// One entry of the language switch.
#[derive(Debug, Clone)]
pub struct LangLink {
    /// Language code.
    pub code: &'static str,
    /// The language's own name.
    pub name: &'static str,
    /// This page in that language.
    pub href: String,
    /// Whether it is the page's language.
    pub current: bool,
}

/// What every page template needs: the language, the CSRF token, the current address (for the
/// language switch) and the service's name.
#[derive(Debug, Clone)]
pub struct Ctx {
    /// Page language.
    pub lang: Lang,
    /// CSRF token for forms on this page (see [`csrf`]).
    pub csrf: String,
    /// The service's configured name.
    pub service: String,
    /// The time zone times are shown in (`[public] time_zone`; UTC when built with [`Ctx::new`]).
    pub tz: jiff::tz::TimeZone,
    /// The `id` of a form whose typed contents the language switch carries over: the switch is
    /// then a button that sends that form back to its page (`switch_lang`), which shows it again
    /// in the other language with everything typed, instead of a link that would lose it.
    pub switch_form: Option<&'static str>,
    /// Set on a tracking or statement page reached through the complaint form
    /// (`pages::complain`): that page is answered in place, never at its own address, because its
    /// address carries the person's code. Links on it (the language switch) lead here instead, and
    /// its forms say `via=complain` so that their answers stay in place too ([`Ctx::private`]).
    pub private_path: Option<String>,
    path: String,
    query: Vec<(String, String)>,
}

impl Ctx {
    /// A context for `lang` at `path` (query pairs kept for the language switch, `lang` dropped).
    pub fn new(lang: Lang, csrf: String, service: String, path: &str, query: Option<&str>) -> Ctx {
        let query = query
            .map(|q| {
                url::form_urlencoded::parse(q.as_bytes())
                    .filter(|(k, _)| k != "lang")
                    .map(|(k, v)| (k.into_owned(), v.into_owned()))
                    .collect()
            })
            .unwrap_or_default();
        Ctx {
            lang,
            csrf,
            service,
            tz: jiff::tz::TimeZone::UTC,
            switch_form: None,
            private_path: None,
            path: path.to_owned(),
            query,
        }
    }

    /// The same context on the page at `path` with `query` (the language switch links there).
    /// A page answering a form's POST uses this to name the page the form lives on: its own
    /// address is POST-only and would answer the link's GET with 405.
    /// A page answered in place for a private one ([`Ctx::private`]) keeps the private address.
    pub fn on_page(mut self, path: impl Into<String>, query: &[(&str, &str)]) -> Ctx {
        if let Some(private) = &self.private_path {
            self.path = private.clone();
            self.query.clear();
            return self;
        }
        self.path = path.into();
        self.query = query.iter().map(|&(k, v)| (k.to_owned(), v.to_owned())).collect();
        self
    }

    /// The same context for a page whose own address carries the person's code and that is
    /// therefore answered in place, with `path` (a page without the code) as its address.
    pub fn private(mut self, path: impl Into<String>) -> Ctx {
        let path = path.into();
        self.path = path.clone();
        self.query.clear();
        self.private_path = Some(path);
        // The switch re-sends the page's code form (`common/private_lang_form.html`).
        self.switch_form = Some("private-lang");
        self
    }

    /// A moment as a person reads it, in the configured time zone and the page language:
    /// "30 November 2026, 09:28" / "30 november 2026, 09:28" (month names from the catalogue).
    pub fn when(&self, t: time::OffsetDateTime) -> String {
        let nanos = t.unix_timestamp_nanos();
        let Ok(ts) = jiff::Timestamp::from_nanosecond(nanos) else { return report::datetime(t) };
        let local = self.tz.to_datetime(ts);
        let month = self.t(format!("month-{}", local.month()));
        format!("{} {} {}, {:02}:{:02}", local.day(), month, local.year(), local.hour(), local.minute())
    }

    /// Translation of `key` in the page language.
    pub fn t(&self, key: impl AsRef<str>) -> String {
        self.lang.t(key.as_ref())
    }

    /// Translation with one argument.
    pub fn ta(&self, key: &str, name: &str, value: impl std::fmt::Display) -> String {
        self.lang.ta(key, &[(name, &value.to_string())])
    }

    /// Translation with two arguments.
    pub fn ta2(&self, key: &str, n1: &str, v1: impl std::fmt::Display, n2: &str, v2: impl std::fmt::Display) -> String {
        self.lang.ta(key, &[(n1, &v1.to_string()), (n2, &v2.to_string())])
    }

    /// The page language's code (`en`, `nl`).
    pub fn code(&self) -> &'static str {
        self.lang.code()
    }

    /// The languages the switch offers.
    pub fn languages(&self) -> Vec<LangLink> {
        Lang::ALL
            .iter()
            .map(|&l| {
                let mut q = url::form_urlencoded::Serializer::new(String::new());
                for (k, v) in &self.query {
                    q.append_pair(k, v);
                }
                q.append_pair("lang", l.code());
                LangLink {
                    code: l.code(),
                    name: l.endonym(),
                    href: format!("{}?{}", self.path, q.finish()),
                    current: l == self.lang,
                }
            })
            .collect()
    }

    /// The page's own address in language `code`, for a form's language switch (`switch_form`).
    pub fn path_in(&self, code: &str) -> String {
        format!("{}?lang={code}", self.path)
    }

    /// Whether the current page is `path` (for `aria-current` in the navigation).
    pub fn is(&self, path: &str) -> bool {
        self.path == path
    }
}

/// The page whose form posts to `path`: where links on a page answering that POST (the language
/// switch) must lead, since a form's own address may answer only POST. Forms that post to their
/// own page (`/report`, `/staff/login`, `/staff/banks`, …) keep their path; the tracking and
/// statement pages, whose address carries a token, set theirs with [`Ctx::on_page`].
pub(crate) fn form_page(path: &str) -> String {
    let segments: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    match segments.as_slice() {
        ["", "staff", "cases", id, _, ..] => format!("/staff/cases/{id}"),
        ["", "staff", "appeals", id, _, ..] => format!("/staff/appeals/{id}"),
        ["", "staff", "helpline", "cases"] => "/staff/helpline/cases/new".to_owned(),
        ["", "staff", "helpline", "cases", id, _, ..] => format!("/staff/helpline/cases/{id}"),
        ["", "staff", "helpline", "requests", ..] => "/staff/helpline".to_owned(),
        ["", "staff", "banks", name, _, ..] => format!("/staff/banks/{name}"),
        ["", "staff", "transparency", _, ..] => "/staff/transparency".to_owned(),
        ["", "staff", "admin", _, ..] => "/staff/admin".to_owned(),
        ["", "staff", "logout" | "password"] => "/staff".to_owned(),
        _ => path.to_owned(),
    }
}

impl FromRequestParts<AppState> for Ctx {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let lang = Lang::negotiate(parts.uri.query(), &parts.headers);
        let binding = parts.extensions.get::<CsrfBinding>().map(|b| b.0.clone()).unwrap_or_default();
        let token = if binding.is_empty() { String::new() } else { csrf::token(&binding) };
        // Inside `nest("/api/v1", …)` the URI has lost its prefix; links (the language switch) need
        // the path the browser asked for.
        let uri = parts.extensions.get::<axum::extract::OriginalUri>().map_or(&parts.uri, |o| &o.0);
        let mut ctx = if parts.method == axum::http::Method::GET || parts.method == axum::http::Method::HEAD {
            Ctx::new(lang, token, state.settings().platform_name.clone(), uri.path(), uri.query())
        } else {
            Ctx::new(lang, token, state.settings().platform_name.clone(), &form_page(uri.path()), None)
        };
        ctx.tz = state.settings().public.time_zone.clone();
        Ok(ctx)
    }
}

/// Middleware for the whole app: security headers on HTML, the language cookie, the anonymous
/// CSRF cookie, and HTML error pages for browsers. Apply with `axum::middleware::from_fn_with_state`.
/// The most of a staff form's body kept across a sign-in (a decision's texts fit many times).
const CARRY_LIMIT: usize = 256 * 1024;

/// A urlencoded staff form sent after the session ended: instead of the handler's redirect to the
/// sign-in (which lost what was typed), the sign-in page carrying the form's fields, so that
/// signing in offers to send them again (`staff::sign_in::carry_page`). Forms with a password
/// field, sign-out and uploads (multipart) keep the plain redirect. `Err` gives the request back.
async fn carried_form(state: &AppState, req: Request, lang: Lang, path: &str) -> Result<Response, Request> {
    let urlencoded = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let candidate = req.method() == axum::http::Method::POST
        && urlencoded
        && path.starts_with("/staff/")
        && !path.starts_with("/staff/login")
        && path != "/staff/logout"
        && !path.ends_with("/password");
    if !candidate || !matches!(crate::staff::session::current_session(state, req.headers()).await, Ok(None)) {
        return Err(req);
    }
    let (parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, CARRY_LIMIT).await else {
        let page = form_page(path);
        let to = format!("{}&ended=1", crate::staff::pages::login_redirect(&page));
        return Ok(axum::response::Redirect::to(&to).into_response());
    };
    if url::form_urlencoded::parse(&bytes).any(|(k, _)| k.contains("password")) {
        return Err(Request::from_parts(parts, axum::body::Body::from(bytes)));
    }
    let mut ctx = Ctx::new(lang, String::new(), state.settings().platform_name.clone(), "/staff/login", None);
    ctx.tz = state.settings().public.time_zone.clone();
    Ok(crate::staff::sign_in::carry_page(ctx, path, &bytes))
}

pub async fn layer(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let (binding, new_cookie) = csrf::anonymous_binding(req.headers());
    req.extensions_mut().insert(CsrfBinding(binding.clone()));
    let chosen = req.uri().query().and_then(i18n::query_lang);
    let wants_html = errors::wants_html(req.headers());
    let lang = Lang::negotiate(req.uri().query(), req.headers());
    let path = req.uri().path().to_owned();
    let mut response = match carried_form(&state, req, lang, &path).await {
        Ok(page) => page,
        Err(req) => next.run(req).await,
    };
    if wants_html && errors::is_problem(&response) {
        let ctx = Ctx::new(lang, csrf::token(&binding), state.settings().platform_name.clone(), &path, None);
        response = errors::html_error(&ctx, &response);
    }
    if headers::is_html(response.headers()) {
        headers::set_security_headers(response.headers_mut());
        csrf::set_cookie(response.headers_mut(), new_cookie);
        if let Some(l) = chosen
            && let Ok(v) = HeaderValue::from_str(&format!(
                "{}={}; Path=/; Max-Age=31536000; SameSite=Lax",
                i18n::LANG_COOKIE,
                l.code()
            ))
        {
            response.headers_mut().append(header::SET_COOKIE, v);
        }
    } else if response.status().is_redirection() {
        // A redirect between pages (after a form, from an old address) gets the same headers.
        headers::set_security_headers(response.headers_mut());
    } else {
        response.headers_mut().insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    }
    response
}
