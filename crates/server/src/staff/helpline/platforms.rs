//! The platforms registry on the caseworker's pages: how removal requests reach each platform
//! (a staydown instance with the helpline's trusted-flagger key, an e-mail address, a web form
//! to fill by hand, a letter), its member state, whether the helpline is a trusted flagger there,
//! and its Digital Services Coordinator. The API key is write-only: never shown again.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{RawForm, State};
use axum::response::{IntoResponse, Response};
use staydown_domain::helpline::PlatformDraft;
use staydown_store::PlatformRecord;

use super::cases::channel_key;
use super::{checked_form, form_errors, see_other, t};
use crate::AppState;
use crate::auth::Permission;
use crate::pages::Ctx;
use crate::pages::form::{Errors, FormData};
use crate::staff::pages::{Chrome, Console};

/// How notices reach a platform (value, catalogue key).
pub const CHANNELS: &[(&str, &str)] = &[
    ("staydown", t("helpline-platform-channel-staydown")),
    ("email", t("helpline-platform-channel-email")),
    ("web_form", t("helpline-platform-channel-web_form")),
    ("letter", t("helpline-platform-channel-letter")),
];

/// `GET /staff/helpline/platforms`.
#[derive(Template, WebTemplate)]
#[template(path = "staff/helpline/platforms.html")]
pub struct PlatformsPage {
    ctx: Ctx,
    chrome: Chrome,
    platforms: Vec<PlatformRecord>,
    errors: Errors,
    typed: FormData,
}

impl PlatformsPage {
    fn summary(&self) -> Vec<(String, String)> {
        super::summary_lines(&self.ctx, &self.errors, super::PLATFORM_FIELDS)
    }
    fn error(&self, name: &str) -> Option<&String> {
        self.errors.get(name)
    }
    fn invalid(&self, name: &str) -> &'static str {
        if self.errors.get(name).is_some() { "field invalid" } else { "field" }
    }
    fn val(&self, name: &str) -> String {
        self.typed.get(name)
    }
    fn is(&self, name: &str, value: &str) -> bool {
        self.typed.get(name) == value
    }
    fn channel(&self, p: &PlatformRecord) -> String {
        self.ctx.t(channel_key(p.channel.as_str()))
    }
    fn reach(&self, p: &PlatformRecord) -> String {
        p.staydown_url.clone().or_else(|| p.email.clone()).or_else(|| p.web_form_url.clone()).unwrap_or_default()
    }
}

async fn page(state: &AppState, console: Console, errors: Errors, typed: FormData) -> Result<Response, Response> {
    let platforms =
        state.store().helpline_platforms().await.map_err(|e| crate::problem::ApiError::from(e).into_response())?;
    let status =
        if errors.is_empty() { axum::http::StatusCode::OK } else { axum::http::StatusCode::UNPROCESSABLE_ENTITY };
    Ok((status, PlatformsPage { ctx: console.ctx, chrome: console.chrome, platforms, errors, typed }).into_response())
}

/// The registry and the form to add a platform.
pub async fn list(State(state): State<AppState>, console: Console) -> Result<Response, Response> {
    console.require(Permission::HelplineWork)?;
    page(&state, console, Errors::default(), FormData::default()).await
}

fn opt(s: String) -> Option<String> {
    Some(s).filter(|s| !s.is_empty())
}

/// `POST /staff/helpline/platforms`: registers a platform through the API's own path.
pub async fn create(
    State(state): State<AppState>,
    console: Console,
    RawForm(body): RawForm,
) -> Result<Response, Response> {
    console.require(Permission::HelplineWork)?;
    let form = checked_form(&console, &body)?;
    let channel = opt(form.get("channel")).and_then(|c| serde_json::from_value(serde_json::Value::String(c)).ok());
    let language = opt(form.get("language")).and_then(|c| serde_json::from_value(serde_json::Value::String(c)).ok());
    let draft = PlatformDraft {
        name: opt(form.get("name")),
        staydown_url: opt(form.get("staydown_url")),
        api_key: opt(form.get("api_key")),
        email: opt(form.get("email")),
        web_form_url: opt(form.get("web_form_url")),
        channel,
        member_state: opt(form.get("member_state")),
        trusted_flagger: Some(form.get("trusted_flagger") == "yes"),
        digital_services_coordinator: opt(form.get("digital_services_coordinator")),
        language,
    };
    match crate::api::helpline::register_platform(&state, &console.caller().principal(), draft).await {
        Ok(_) => Ok(see_other("/staff/helpline/platforms")),
        Err(e) => {
            let errors = form_errors(&console, e)?;
            // The key is never echoed back into the page.
            let typed = FormData(form.0.into_iter().filter(|(k, _)| k != "api_key").collect());
            page(&state, console, errors, typed).await
        }
    }
}
