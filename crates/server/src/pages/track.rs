//! The notifier's tracking page (DSA Art. 16(5), 20): what happened to a report, in words.
//!
//! The `tracking_url` of receipts and e-mails is `/track/{id}?token=…` ([`url`], [`show`]): always
//! this page. The API's own address of a notice (`/api/v1/notices/{id}?token=…`, which older
//! e-mails linked to) answers JSON to machines and this page to browsers: `api::notices::show`
//! hands a request whose `Accept` prefers `text/html` to [`page`] (docs/pages.md). The page
//! shows a timeline, the decision with its reasons, the redress options (Art. 20 complaint with a
//! form, Art. 21 out-of-court settlement, court), and for a hash-only report a withdraw button.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, RawForm, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use staydown_domain::appeal::{Appellant, appeal_deadline};
use staydown_domain::case::CaseState;
use staydown_domain::secret_digest;

use super::appeal::{AppealTyped, Refusal};
use super::form::{Errors, FormData};
use super::{Ctx, csrf, errors};
use crate::AppState;
use crate::problem::ApiError;

/// One step of the timeline.
#[derive(Debug, Clone)]
pub struct Step {
    /// Catalogue key of its label.
    pub key: &'static str,
    /// When, if it happened.
    pub at: Option<String>,
}

/// The tracking page.
#[derive(Template, WebTemplate)]
#[template(path = "views/track.html")]
pub struct TrackPage {
    ctx: Ctx,
    id: String,
    token: String,
    status_key: &'static str,
    steps: Vec<Step>,
    decision: Option<DecisionView>,
    /// The notifier's latest complaint about the decision, if any.
    complaint: Option<ComplaintView>,
    hash_only: bool,
    withdrawn: Option<String>,
    locations: Vec<String>,
    errors: Errors,
    reason: String,
    new_facts: String,
    needs_new_facts: bool,
    max_appeal: usize,
    appeal_action: String,
    /// The are-you-sure step of a withdrawal is showing.
    confirm_withdraw: bool,
    flash: Option<String>,
    support: Vec<(super::info::SupportContact, String)>,
}

impl TrackPage {
    /// A complaint is being handled: no second one meanwhile.
    fn complaint_open(&self) -> bool {
        self.complaint.as_ref().is_some_and(|c| c.open)
    }
}

/// The notifier's latest complaint (Art. 20) as the page shows it: when it arrived and, once
/// decided, the outcome and the reasons both sides receive (Art. 20(5)).
#[derive(Debug, Clone)]
pub struct ComplaintView {
    /// When it was received.
    pub received: String,
    /// Still being handled.
    pub open: bool,
    /// The outcome's catalogue key, once decided.
    pub outcome: Option<&'static str>,
    /// The reasons for the outcome, as the senior reviewer wrote them.
    pub reasons: Option<String>,
    /// When it was decided.
    pub decided: Option<String>,
}

/// A decision as the page shows it.
#[derive(Debug, Clone)]
pub struct DecisionView {
    /// Decision id.
    pub id: String,
    /// When.
    pub decided_at: String,
    /// The decision notice in the page language (statement of its reasons).
    pub text: String,
    /// Whether the content was restricted (still in force).
    pub restricts: bool,
    /// Appeal window closes.
    pub appeal_until: String,
    /// Whether an appeal may still be filed.
    pub appeal_open: bool,
    /// Art. 21 body.
    pub out_of_court: String,
    /// Court.
    pub court: String,
}

impl TrackPage {
    fn error(&self, field: &str) -> Option<String> {
        self.errors.get(field).cloned()
    }
    fn invalid(&self, field: &str) -> &'static str {
        if self.errors.get(field).is_some() { "field invalid" } else { "field" }
    }
}

fn status_key(state: CaseState, withdrawn: bool, restricts: Option<bool>) -> &'static str {
    if withdrawn {
        return "track-status-withdrawn";
    }
    match (state, restricts) {
        (CaseState::New, _) => "track-status-received",
        (CaseState::InReview, _) => "track-status-in-review",
        (CaseState::Appealed, _) => "track-status-appealed",
        (_, Some(true)) => "track-status-removed",
        (_, Some(false)) => "track-status-not-removed",
        (_, None) => "track-status-decided",
    }
}

/// Renders the page for `id` if `token` is its tracking token; a 404 page otherwise.
/// The tracking page's address for a notice and its tracking token (a path; the caller adds the
/// public base URL where it needs an absolute link): `/track/{id}?token={token}`.
pub fn url(id: &str, token: &str) -> String {
    format!("/track/{id}?token={token}")
}

/// The confirmation line after a form of this page was sent (`done=appeal|withdrawn`).
pub fn flash(ctx: &Ctx, done: Option<&str>) -> Option<String> {
    match done {
        Some("appeal") => Some(ctx.t("track-appeal-done")),
        Some("withdrawn") => Some(ctx.t("track-withdraw-done")),
        _ => None,
    }
}

/// `GET /track/{id}?token=…`: the tracking page, whatever the client accepts. A missing or wrong
/// token gets the 404 page, like an unknown notice.
pub async fn show(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Query(q): Query<crate::api::notices::TokenQuery>,
) -> Response {
    let token = q.token.unwrap_or_default();
    if token.is_empty() {
        return errors::page(&ctx, StatusCode::NOT_FOUND);
    }
    let flash = flash(&ctx, q.done.as_deref());
    page(&state, ctx, &id, &token, Errors::default(), String::new(), flash).await
}

pub async fn page(
    state: &AppState,
    ctx: Ctx,
    id: &str,
    token: &str,
    errors: Errors,
    typed: impl Into<AppealTyped>,
    flash: Option<String>,
) -> Response {
    render(state, ctx, id, token, errors, typed.into(), flash, false).await
}

#[allow(clippy::too_many_arguments)]
async fn render(
    state: &AppState,
    ctx: Ctx,
    id: &str,
    token: &str,
    errors: Errors,
    typed: AppealTyped,
    flash: Option<String>,
    confirm_withdraw: bool,
) -> Response {
    let ctx = ctx.on_page(format!("/track/{id}"), &[("token", token)]);
    match build(state, ctx.clone(), id, token, errors, typed, flash).await {
        // Asked to confirm a withdrawal of a report that cannot be withdrawn (not hash-only, or
        // withdrawn already): the page as it is, with 409.
        Ok(Some(p)) if confirm_withdraw && !p.hash_only => with_status(p.into_response(), StatusCode::CONFLICT),
        Ok(Some(mut p)) => {
            p.confirm_withdraw = confirm_withdraw;
            p.into_response()
        }
        Ok(None) => errors::page(&ctx, StatusCode::NOT_FOUND),
        Err(e) => {
            tracing::error!(error = ?e, "tracking page");
            errors::page(&ctx, StatusCode::INTERNAL_SERVER_ERROR)
        }
    }
}

async fn build(
    state: &AppState,
    ctx: Ctx,
    id: &str,
    token: &str,
    errors: Errors,
    typed: AppealTyped,
    flash: Option<String>,
) -> Result<Option<TrackPage>, ApiError> {
    let store = state.store();
    let Some(status) = store.notice_status(id, &secret_digest(token)).await? else { return Ok(None) };
    let (withdrawn_at, hash_only) = store.notice_withdrawal(id).await?.unwrap_or((None, false));
    let record = store.notice_decision(id).await?;
    let now = state.now();
    let decision = record.as_ref().map(|d| {
        // The page shows the redress section and the complaint form itself, so the text is the
        // decision without the e-mail's redress paragraph.
        let texts = if d.status == "reversed" {
            staydown_domain::statement::reversed_notice()
        } else {
            staydown_domain::statement::decision_summary(&d.decision, id)
        };
        let until = appeal_deadline(d.decided_at);
        DecisionView {
            id: d.id.clone(),
            decided_at: ctx.when(d.decided_at),
            text: if ctx.lang == super::Lang::Nl { texts.nl } else { texts.en },
            restricts: d.decision.restricts() && d.status != "reversed",
            appeal_until: ctx.when(until),
            appeal_open: now <= until,
            out_of_court: if ctx.lang == super::Lang::Nl {
                state.settings().out_of_court_settlement_nl.clone()
            } else {
                state.settings().out_of_court_settlement.clone()
            },
            court: if ctx.lang == super::Lang::Nl {
                state.settings().court_nl.clone()
            } else {
                state.settings().court.clone()
            },
        }
    });
    let complaint = match &record {
        Some(d) => store
            .case_appeals(&d.case_id)
            .await?
            .into_iter()
            .filter(|a| a.notice_id.as_deref() == Some(id))
            .max_by_key(|a| a.received_at),
        None => None,
    };
    let complaint = complaint.map(|a| ComplaintView {
        received: ctx.when(a.received_at),
        open: a.state == "open",
        outcome: a.outcome.map(|o| match o {
            staydown_domain::appeal::AppealOutcome::Upheld => "track-complaint-upheld",
            staydown_domain::appeal::AppealOutcome::Reversed => "track-complaint-reversed",
            staydown_domain::appeal::AppealOutcome::Modified => "track-complaint-modified",
        }),
        reasons: a.reasons.clone(),
        decided: a.decided_at.map(|t| ctx.when(t)),
    });
    let reached = |s: CaseState| status.case_state as u8 >= s as u8;
    // Only steps that happened or will happen: no confirmation step for an anonymous report (no
    // address to send it to), and nothing pending after a withdrawal.
    let mut steps = vec![Step { key: "track-step-received", at: Some(ctx.when(status.received_at)) }];
    if status.confirmation_expected {
        steps.push(Step { key: "track-step-confirmed", at: status.acknowledged_at.map(|t| ctx.when(t)) });
    }
    if let Some(at) = withdrawn_at {
        if reached(CaseState::InReview) || decision.is_some() {
            steps.push(Step { key: "track-step-review", at: Some(String::new()) });
        }
        if let Some(d) = &decision {
            steps.push(Step { key: "track-step-decided", at: Some(d.decided_at.clone()) });
        }
        steps.push(Step { key: "track-step-withdrawn", at: Some(ctx.when(at)) });
    } else {
        steps.push(Step {
            key: "track-step-review",
            at: reached(CaseState::InReview)
                .then(|| decision.as_ref().map_or_else(String::new, |d| d.decided_at.clone())),
        });
        steps.push(Step { key: "track-step-decided", at: decision.as_ref().map(|d| d.decided_at.clone()) });
    }
    if withdrawn_at.is_none() && reached(CaseState::Appealed) {
        let at = complaint.as_ref().map_or_else(String::new, |c| c.received.clone());
        steps.push(Step { key: "track-step-appealed", at: Some(at) });
    }
    if matches!(status.case_state, CaseState::Redecided | CaseState::Closed) && reached(CaseState::Appealed) {
        let at = complaint.as_ref().and_then(|c| c.decided.clone());
        steps.push(Step {
            key: "track-step-outcome",
            at: at.or_else(|| decision.as_ref().map(|d| d.decided_at.clone())),
        });
    }
    let needs_new_facts = match &record {
        Some(d) => super::appeal::needs_new_facts(state, &d.id, Appellant::Notifier, Some(id)).await,
        None => false,
    } || errors.get("new_facts").is_some();
    Ok(Some(TrackPage {
        status_key: status_key(status.case_state, withdrawn_at.is_some(), decision.as_ref().map(|d| d.restricts)),
        steps,
        decision,
        complaint,
        hash_only: hash_only && withdrawn_at.is_none(),
        withdrawn: withdrawn_at.map(|t| ctx.when(t)),
        locations: status.locations,
        id: id.to_owned(),
        token: token.to_owned(),
        errors,
        reason: typed.reason,
        new_facts: typed.new_facts,
        needs_new_facts,
        max_appeal: staydown_domain::appeal::MAX_APPEAL_TEXT,
        appeal_action: format!("/track/{id}/appeal"),
        confirm_withdraw: false,
        flash,
        support: super::info::support_list(state, &ctx),
        ctx,
    }))
}

/// `POST /track/{id}/appeal`: the notifier's complaint about the decision (Art. 20).
pub async fn appeal(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawForm(body): RawForm,
) -> Response {
    let form = FormData::parse(&body);
    let token = form.get("token");
    let typed = AppealTyped::from_form(&form);
    let Ok(Some(record)) = state.store().notice_decision(&id).await else {
        return errors::page(&ctx, StatusCode::NOT_FOUND);
    };
    let private = form.get("via") == "complain";
    let ctx = if private { ctx.private(format!("/complain/{}", record.id)) } else { ctx };
    if !csrf::verify_anonymous(&headers, &form.get(csrf::FIELD)) {
        let mut errs = Errors::default();
        errs.add("reason", ctx.t("form-expired"));
        return with_status(page(&state, ctx, &id, &token, errs, typed, None).await, StatusCode::BAD_REQUEST);
    }
    // The tracking token must belong to this notice (the store checks it against the decision).
    if state.store().notice_status(&id, &secret_digest(&token)).await.ok().flatten().is_none() {
        return errors::page(&ctx, StatusCode::NOT_FOUND);
    }
    match super::appeal::file(&state, &ctx, &record.id, &token, &typed).await {
        // Reached through the complaint form: the answer stays in place (the address would
        // carry the code).
        Ok(()) if private => {
            let flash = flash(&ctx, Some("appeal"));
            page(&state, ctx, &id, &token, Errors::default(), String::new(), flash).await
        }
        Ok(()) => Redirect::to(&format!("{}&done=appeal", url(&id, &token))).into_response(),
        Err(Refusal::Form(errs, status)) => {
            with_status(page(&state, ctx, &id, &token, errs, typed, None).await, status)
        }
        Err(Refusal::Page(status)) => errors::page(&ctx, status),
    }
}

/// `POST /track/{id}/withdraw`: withdraws a hash-only report; its hashes leave every bank fed
/// from it (`Store::withdraw_hash_notice`, audited).
pub async fn withdraw(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawForm(body): RawForm,
) -> Response {
    let form = FormData::parse(&body);
    let token = form.get("token");
    let private = form.get("via") == "complain";
    let ctx = match state.store().notice_decision(&id).await {
        Ok(Some(record)) if private => ctx.private(format!("/complain/{}", record.id)),
        _ => ctx,
    };
    if !csrf::verify_anonymous(&headers, &form.get(csrf::FIELD)) {
        let mut errs = Errors::default();
        errs.add("withdraw", ctx.t("form-expired"));
        return with_status(page(&state, ctx, &id, &token, errs, String::new(), None).await, StatusCode::BAD_REQUEST);
    }
    // Withdrawing cannot be undone: the first press asks "are you sure?" (WCAG 2.2 SC 3.3.4).
    if form.get("confirm") != "yes" {
        return render(&state, ctx, &id, &token, Errors::default(), AppealTyped::default(), None, true).await;
    }
    match state.store().withdraw_hash_notice(&id, &secret_digest(&token), state.now()).await {
        Ok(_) => {
            state.refresh_banks().await;
            if ctx.private_path.is_some() {
                let flash = flash(&ctx, Some("withdrawn"));
                return page(&state, ctx, &id, &token, Errors::default(), String::new(), flash).await;
            }
            Redirect::to(&format!("{}&done=withdrawn", url(&id, &token))).into_response()
        }
        Err(staydown_store::StoreError::NotFound) => errors::page(&ctx, StatusCode::NOT_FOUND),
        Err(staydown_store::StoreError::Conflict(_)) => errors::page(&ctx, StatusCode::CONFLICT),
        Err(e) => {
            tracing::error!(error = %e, "withdrawing a hash-only report");
            errors::page(&ctx, StatusCode::INTERNAL_SERVER_ERROR)
        }
    }
}

fn with_status(mut r: Response, status: StatusCode) -> Response {
    if r.status().is_success() {
        *r.status_mut() = status;
    }
    r
}
