//! Help cases: intake, the case view (contact details only when asked for, audited), erasure of
//! contact details and referrals.

use super::*;

pub(super) async fn create_case(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(draft): ApiJson<HelpCaseDraft>,
) -> Result<Response, ApiError> {
    caller.require(Permission::HelplineWork)?;
    let id = open(&state, &caller.principal(), draft).await?;
    let location = format!("/api/v1/helpline/cases/{id}");
    Ok((StatusCode::CREATED, [(header::LOCATION, location)], Json(serde_json::json!({"id": id}))).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct CaseQuery {
    /// Show the contact details (audited).
    #[serde(default)]
    contact: bool,
}

pub(super) async fn show_case(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(q): Query<CaseQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    caller.require(Permission::HelplineWork)?;
    let store = state.store();
    let case = store.help_case(&id).await?.ok_or(ApiError::NotFound)?;
    let requests: Vec<RequestView> = store.helpline_case_requests(&id).await?.into_iter().map(request_view).collect();
    let referrals: Vec<serde_json::Value> = store
        .helpline_referrals(&id)
        .await?
        .into_iter()
        .map(|(kind, at)| serde_json::json!({"kind": kind, "referred_at": rfc3339(at)}))
        .collect();
    let contact = if q.contact {
        store
            .help_case_contact(&id, &caller.principal(), state.now())
            .await?
            .map(|c| serde_json::json!({"name": c.name, "email": c.email, "phone": c.phone}))
    } else {
        None
    };
    Ok(Json(serde_json::json!({
        "id": case.id,
        "summary": case.summary,
        "channel": case.channel,
        "image_kind": case.image_kind,
        "sextortion": case.sextortion,
        "exposure": case.exposure,
        "minor_involved": case.minor_involved,
        "municipality": case.municipality,
        "consent": case.consent,
        "reporting_organisation": case.reporting_organisation,
        "created_at": rfc3339(case.created_at),
        "contact": contact,
        "referrals": referrals,
        "requests": requests,
    })))
}

pub(super) async fn erase_contact(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    caller.require(Permission::HelplineWork)?;
    state.store().erase_help_case_contact(&id, &caller.principal(), state.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct ReferralBody {
    kind: Option<String>,
}

pub(super) async fn refer(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ReferralBody>,
) -> Result<Response, ApiError> {
    caller.require(Permission::HelplineWork)?;
    let (referral, kind) = add_referral(&state, &caller.principal(), &id, body.kind.as_deref()).await?;
    Ok((StatusCode::CREATED, Json(serde_json::json!({"id": referral, "kind": kind}))).into_response())
}

/// Validates and opens a help case; returns its id. Shared with the caseworker's pages.
pub async fn open(state: &AppState, actor: &str, draft: HelpCaseDraft) -> Result<String, ApiError> {
    let case = validate_case(draft).map_err(ApiError::Validation)?;
    let id = uuid::Uuid::now_v7().to_string();
    state.store().insert_help_case(&id, &case, actor, state.now()).await?;
    Ok(id)
}

/// Records a referral (`kind` one of [`ReferralKind`]); returns its id and kind. Shared with the
/// caseworker's pages.
pub async fn add_referral(
    state: &AppState,
    actor: &str,
    id: &str,
    kind: Option<&str>,
) -> Result<(String, &'static str), ApiError> {
    let kinds = ReferralKind::ALL.iter().map(|k| k.as_str()).collect::<Vec<_>>().join(", ");
    let kind = kind
        .and_then(ReferralKind::parse)
        .ok_or_else(|| ApiError::field("kind", "invalid", format!("one of: {kinds}")))?;
    state.store().help_case(id).await?.ok_or(ApiError::NotFound)?;
    let referral = uuid::Uuid::now_v7().to_string();
    state.store().insert_helpline_referral(&referral, id, kind.as_str(), actor, state.now()).await?;
    Ok((referral, kind.as_str()))
}
