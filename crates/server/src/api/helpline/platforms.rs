//! The platform registry's API: how removal requests reach each platform. No answer carries a
//! platform's API key.

use super::*;

/// A platform as shown (never its API key).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PlatformView {
    id: String,
    name: String,
    channel: &'static str,
    staydown_url: Option<String>,
    email: Option<String>,
    web_form_url: Option<String>,
    member_state: Option<String>,
    trusted_flagger: bool,
    digital_services_coordinator: Option<String>,
    has_api_key: bool,
}

impl From<PlatformRecord> for PlatformView {
    fn from(p: PlatformRecord) -> Self {
        Self {
            id: p.id,
            name: p.name,
            channel: p.channel.as_str(),
            staydown_url: p.staydown_url,
            email: p.email,
            web_form_url: p.web_form_url,
            member_state: p.member_state,
            trusted_flagger: p.trusted_flagger,
            digital_services_coordinator: p.dsc,
            has_api_key: p.api_key.is_some(),
        }
    }
}

pub(super) async fn create_platform(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(draft): ApiJson<PlatformDraft>,
) -> Result<Response, ApiError> {
    caller.require(Permission::HelplineWork)?;
    let record = register_platform(&state, &caller.principal(), draft).await?;
    Ok((StatusCode::CREATED, Json(PlatformView::from(record))).into_response())
}

/// Validates and registers a platform; its API key is sealed at rest when vault keys are
/// configured. A duplicate name is a field error. Shared with the caseworker's pages.
pub async fn register_platform(
    state: &AppState,
    actor: &str,
    draft: PlatformDraft,
) -> Result<PlatformRecord, ApiError> {
    let mut platform = validate_platform(draft).map_err(ApiError::Validation)?;
    let id = uuid::Uuid::now_v7().to_string();
    // The helpline's key at the platform is sealed at rest when vault keys are configured.
    platform.api_key =
        platform.api_key.map(|k| crate::helpline::seal_secret(state, &crate::helpline::api_key_context(&id), &k));
    match state.store().insert_helpline_platform(&id, &platform, actor, state.now()).await {
        Err(StoreError::Conflict(_)) => {
            return Err(ApiError::field("name", "duplicate", "a platform with this name is registered already"));
        }
        other => other?,
    }
    state.store().helpline_platform(&id).await?.ok_or(ApiError::NotFound)
}

pub(super) async fn list_platforms(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<PlatformView>>, ApiError> {
    caller.require(Permission::HelplineWork)?;
    Ok(Json(state.store().helpline_platforms().await?.into_iter().map(PlatformView::from).collect()))
}
