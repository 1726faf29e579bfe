//! The staff console's pages (issue 12): the frame every console page shares and the review
//! pages (queue, case, decision, appeals).
//!
//! - [`Console`] is the extractor of every console page: it needs a live staff session
//!   (`staff::session`) and builds the page context — the person, their role, the language, the
//!   session's CSRF token and the navigation ([`nav`]). A request without a session is sent to
//!   `/staff/login?next=<this page>`; [`Console::refusal`] answers a readable 403 page when the
//!   role may not see a page. Permissions are the API's (`auth::allowed`), so a page never shows
//!   what the same person could not fetch with a key.
//! - Templates: `templates/staff/layout.html` (the frame) and one file per page under
//!   `templates/staff/`; strings in `locales/{en,nl}/staff.ftl`.

pub mod appeals;
pub mod case;
pub mod decide;
pub mod names;
pub mod nav;
pub mod queue;

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use staydown_domain::roles::Role;

use super::session::{self, NoSession, StaffSession};
use crate::AppState;
use crate::auth::{Caller, Permission, allowed};
use crate::pages::Ctx;

/// Marks a catalogue key for the completeness test (`pages::i18n`).
pub(crate) const fn t(key: &'static str) -> &'static str {
    key
}

/// A time as staff read it, to the minute, in the service's time zone (`[public] time_zone`, the
/// one the public pages and the helpline's forms use) with the zone's abbreviation:
/// `2026-11-30 10:28 CET` (`2026-11-30 09:28 UTC` where the zone is UTC).
pub fn when(ctx: &Ctx, t: time::OffsetDateTime) -> String {
    match jiff::Timestamp::from_nanosecond(t.unix_timestamp_nanos()) {
        Ok(ts) => ts.to_zoned_datetime(ctx.tz.clone()).strftime("%Y-%m-%d %H:%M %Z").to_string(),
        Err(_) => crate::pages::report::datetime(t),
    }
}

/// Marks a catalogue key prefix (the page shows `<prefix>-title` and `<prefix>-text`) for the
/// completeness test.
pub(crate) const fn tk(prefix: &'static str) -> &'static str {
    prefix
}

/// The signed-in person and the navigation, as the layout shows them.
#[derive(Debug, Clone, Default)]
pub struct Chrome {
    /// Username and role (`None` on the sign-in page).
    pub user: Option<(String, Role)>,
    /// Navigation entries for the person's role.
    pub nav: Vec<NavLink>,
}

/// A navigation entry as rendered.
#[derive(Debug, Clone)]
pub struct NavLink {
    /// Where it leads.
    pub href: &'static str,
    /// Catalogue key of its label.
    pub label: &'static str,
    /// Whether the current page is (under) it.
    pub current: bool,
}

impl Chrome {
    /// The catalogue key naming the signed-in person's role ("" without one).
    pub fn user_role_key(&self) -> &'static str {
        self.user.as_ref().map_or("", |(_, role)| Self::role_key(*role))
    }

    /// The catalogue key naming a role.
    pub fn role_key(role: Role) -> &'static str {
        match role {
            Role::TrustedFlagger => t("staff-role-trusted-flagger"),
            Role::Authority => t("staff-role-authority"),
            Role::Platform => t("staff-role-platform"),
            Role::Reviewer => t("staff-role-reviewer"),
            Role::SeniorReviewer => t("staff-role-senior-reviewer"),
            Role::Admin => t("staff-role-admin"),
            Role::Auditor => t("staff-role-auditor"),
            Role::Caseworker => t("staff-role-caseworker"),
        }
    }
}

/// Every console page's context. Extracting it requires a live staff session.
#[derive(Debug, Clone)]
pub struct Console {
    /// Language, CSRF token (the session's), service name and current address.
    pub ctx: Ctx,
    /// The person and the navigation.
    pub chrome: Chrome,
    /// The session.
    pub session: StaffSession,
}

impl Console {
    /// The signed-in person's role.
    pub fn role(&self) -> Role {
        self.session.record.account.role
    }

    /// Whether the person's role has `permission`.
    pub fn may(&self, permission: Permission) -> bool {
        allowed(Some(self.role()), permission)
    }

    /// `Ok` when the role has `permission`, else the readable 403 page (kept from the first
    /// layout commit for pages built on it; [`Console::refusal`] is the same as an `Option`).
    #[allow(clippy::result_large_err)]
    pub fn require(&self, permission: Permission) -> Result<(), Response> {
        self.refusal(permission).map_or(Ok(()), Err)
    }

    /// `None` when the role has `permission`, else the readable 403 page to answer with.
    pub fn refusal(&self, permission: Permission) -> Option<Response> {
        (!self.may(permission)).then(|| self.message(StatusCode::FORBIDDEN, tk("staff-forbidden")))
    }

    /// Whether a form's token is the session's (constant time).
    pub fn csrf_ok(&self, token: &str) -> bool {
        self.session.csrf_ok(token)
    }

    /// The readable 403 page for a form sent without this session's token; nothing was changed.
    pub fn csrf_refused(&self) -> Response {
        self.message(StatusCode::FORBIDDEN, tk("staff-form-expired"))
    }

    /// The person as an API caller, so pages run the same validation and storage paths as the
    /// API. Its principal is `account:<id>` (as for the account's keys), and the audit actor
    /// names the session (`key:session-<first 12 hex of its digest>`).
    pub fn caller(&self) -> Caller {
        let r = &self.session.record;
        Caller {
            key: Some(staydown_store::ApiKeyRecord {
                id: format!("session-{}", r.id_digest.get(..12).unwrap_or(&r.id_digest)),
                name: r.account.username.clone(),
                role: r.account.role,
                created_at: r.created_at,
                account_id: Some(r.account.id.clone()),
            }),
        }
    }

    /// A console page that shows one message (`<key>-title`, `<key>-text`) with `status`.
    pub fn message(&self, status: StatusCode, key: &'static str) -> Response {
        message_page(self.ctx.clone(), self.chrome.clone(), status, key, None)
    }
}

/// The one-message page (errors and refusals) of the console.
#[derive(Template, WebTemplate)]
#[template(path = "staff/message.html")]
pub struct MessagePage {
    ctx: Ctx,
    chrome: Chrome,
    key: &'static str,
    detail: Option<String>,
}

impl MessagePage {
    fn title_key(&self) -> String {
        format!("{}-title", self.key)
    }
    fn text_key(&self) -> String {
        format!("{}-text", self.key)
    }
}

/// Renders the one-message page. `key` is a catalogue prefix (`-title`, `-text` are added);
/// `detail` is a further sentence already in the page language.
pub fn message_page(
    ctx: Ctx,
    chrome: Chrome,
    status: StatusCode,
    key: &'static str,
    detail: Option<String>,
) -> Response {
    let lang = ctx.code();
    let mut r = (status, MessagePage { ctx, chrome, key, detail }).into_response();
    r.headers_mut().insert(header::CONTENT_LANGUAGE, HeaderValue::from_static(lang));
    r
}

/// The sign-in address that returns to `path_and_query` afterwards (a local `/staff/` path only;
/// anything else returns to the queue).
pub fn login_redirect(path_and_query: &str) -> String {
    if path_and_query.starts_with("/staff/") && !path_and_query.starts_with("/staff/login") {
        let next: String = url::form_urlencoded::byte_serialize(path_and_query.as_bytes()).collect();
        format!("/staff/login?next={next}")
    } else {
        "/staff/login".to_owned()
    }
}

/// The chrome for a session.
pub fn chrome_for(session: &StaffSession, path: &str) -> Chrome {
    let role = session.record.account.role;
    let nav = nav::for_role(role)
        .map(|item| NavLink {
            href: item.href,
            label: item.label,
            current: path == item.href || path.starts_with(&format!("{}/", item.href)),
        })
        .collect();
    Chrome { user: Some((session.record.account.username.clone(), role)), nav }
}

impl FromRequestParts<AppState> for Console {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let Ok(mut ctx) = Ctx::from_request_parts(parts, state).await;
        let session = match session::current_session(state, &parts.headers).await {
            Ok(Some(s)) => s,
            Ok(None) => {
                let uri = parts.extensions.get::<axum::extract::OriginalUri>().map_or(&parts.uri, |o| &o.0);
                if parts.method != axum::http::Method::GET && parts.method != axum::http::Method::HEAD {
                    // A form sent after the session ended: nothing was recorded. After signing in
                    // the person lands on the form's page (its own address may answer only POST)
                    // and the sign-in page says what happened.
                    // An upload (multipart) is not carried across the sign-in (files of up to
                    // 20 MB would have to be kept for a person not signed in): the sign-in page
                    // says the file must be chosen again.
                    let page = crate::pages::form_page(uri.path());
                    let upload = parts
                        .headers
                        .get(axum::http::header::CONTENT_TYPE)
                        .and_then(|v| v.to_str().ok())
                        .is_some_and(|v| v.starts_with("multipart/"));
                    let ended = if upload { "file" } else { "1" };
                    return Err(Redirect::to(&format!("{}&ended={ended}", login_redirect(&page))).into_response());
                }
                let here = uri.path_and_query().map_or("/staff/queue", |p| p.as_str());
                return Err(Redirect::to(&login_redirect(here)).into_response());
            }
            Err(NoSession::Unavailable) => {
                return Err(message_page(
                    ctx,
                    Chrome::default(),
                    StatusCode::SERVICE_UNAVAILABLE,
                    tk("staff-unavailable"),
                    None,
                ));
            }
            Err(e @ NoSession::SignInRequired) => return Err(e.into_response()),
        };
        ctx.csrf = session.csrf_token().to_owned();
        let chrome = chrome_for(&session, parts.uri.path());
        Ok(Console { ctx, chrome, session })
    }
}

/// The console pages' routes. `upload_limit` bounds the content upload's body (bytes; the API's
/// attach route uses the same bound).
pub fn routes(upload_limit: usize) -> Router<AppState> {
    Router::new()
        .route("/staff", get(home))
        .route("/staff/queue", get(queue::queue))
        .route("/staff/cases/{id}", get(case::show))
        .route("/staff/cases/{id}/take", post(queue::take))
        .route("/staff/cases/{id}/decision", post(decide::decide))
        .route("/staff/cases/{id}/art18", post(case::art18))
        .route("/staff/cases/{id}/content", post(case::upload).layer(DefaultBodyLimit::max(upload_limit)))
        .route("/staff/cases/{id}/content/{item}", get(case::content))
        .route("/staff/cases/{id}/content/{item}/reveal", post(case::reveal_content))
        .route("/staff/cases/{id}/notices/{notice}/reveal", post(case::reveal_notifier))
        .route("/staff/appeals", get(appeals::list))
        .route("/staff/appeals/{id}", get(appeals::show))
        .route("/staff/appeals/{id}/decision", post(appeals::decide))
}

/// `GET /staff`: the first page of the navigation the person's role may see — the queue for
/// reviewers, the helpline for caseworkers, the dashboard for auditors (the sign-in page without
/// a session, through the [`Console`] extractor).
pub async fn home(console: Console, uri: axum::http::Uri) -> Redirect {
    let first = nav::for_role(console.role()).next().map_or("/staff/account", |item| item.href);
    // A language chosen on the way here (the switch links to `/staff?lang=nl`) is kept.
    match uri.query().and_then(crate::pages::i18n::query_lang) {
        Some(lang) => Redirect::to(&format!("{first}?lang={}", lang.code())),
        None => Redirect::to(first),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_next_page_stays_on_the_console() {
        assert_eq!(login_redirect("/staff/cases/1?x=y"), "/staff/login?next=%2Fstaff%2Fcases%2F1%3Fx%3Dy");
        assert_eq!(login_redirect("/staff/login?next=/staff/queue"), "/staff/login");
        assert_eq!(login_redirect("//evil.example/staff/"), "/staff/login");
        assert_eq!(login_redirect("/api/v1/cases"), "/staff/login");
    }

    #[test]
    fn every_role_has_a_name_and_reviewers_see_the_queue() {
        assert_eq!(Chrome::role_key(Role::SeniorReviewer), "staff-role-senior-reviewer");
        assert!(nav::for_role(Role::Reviewer).any(|i| i.href == "/staff/queue"));
        assert!(!nav::for_role(Role::Platform).any(|i| i.href == "/staff/queue"));
    }
}
