//! `/api/v1/helpline/…`: helpline mode's JSON API (issue 13) — the platform registry, help cases,
//! removal requests and their answers, URL checks, the league table, the yearly figures and the
//! escalation pack.
//!
//! The helpline's side of DSA Art. 16 and 22. Handlers authenticate (`caseworker`; figures also
//! for admins and auditors), parse, validate in `domain::helpline`, store in `store::helpline`
//! and leave sending and following to `crate::helpline`. No response carries a platform's API key
//! or a tracking token; contact details of the person helped are shown only when asked for, and
//! each such view is an audit entry.

use std::io::Write;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use staydown_domain::helpline::league::league as league_table;
use staydown_domain::helpline::request::{RequestDraft, RequestState, validate_hash_notice, validate_request};
use staydown_domain::helpline::{
    HelpCaseDraft, PlatformChannel, PlatformDraft, ReferralKind, validate_case, validate_platform,
};
use staydown_domain::notice::MediaHashes;
use staydown_store::{PlatformRecord, RequestAnswer, RequestRecord, StoreError};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::AppState;
use crate::auth::{Caller, Permission};
use crate::json::ApiJson;
use crate::problem::ApiError;

mod cases;
mod evidence;
mod figures;
mod platforms;
mod requests;

pub use cases::{add_referral, open as open_case};
pub use evidence::{
    HashBody, MAX_EVIDENCE_BYTES, PREEMPTIVE_BANK, add_preemptive_hash, build_police_bundle, case_evidence,
    case_hashes, store_evidence,
};
pub use figures::build_pack;
pub use figures::figures_json;
pub use platforms::{PlatformView, register_platform};
pub use requests::RequestView;
use requests::request_view;
pub use requests::{
    AnswerBody, SentBody, answer as record_request_answer, create as create_request, file_hashes,
    sent as mark_request_sent,
};

/// The routes, nested under `/api/v1` by the router.
pub fn routes() -> crate::api::contract::ApiRoutes {
    crate::api::contract::ApiRoutes::new()
        .route("/helpline/platforms", get(platforms::list_platforms).post(platforms::create_platform))
        .route("/helpline/platforms/{id}/pack", get(figures::pack))
        .route("/helpline/cases", post(cases::create_case))
        .route("/helpline/cases/{id}", get(cases::show_case))
        .route("/helpline/cases/{id}/contact", delete(cases::erase_contact))
        .route("/helpline/cases/{id}/referrals", post(cases::refer))
        .route("/helpline/cases/{id}/requests", post(requests::create_request))
        .route("/helpline/cases/{id}/evidence", get(evidence::list_evidence).post(evidence::add_evidence))
        .route("/helpline/cases/{id}/police-bundle", get(evidence::police_bundle))
        .route("/helpline/cases/{id}/hashes", get(evidence::list_hashes).post(evidence::add_hash))
        .route("/helpline/cases/{id}/hash-notices", post(requests::file_hash_notice))
        .route("/helpline/evidence/{id}", get(evidence::view_evidence).delete(evidence::erase_evidence))
        .route("/helpline/evidence/{id}/legal-hold", post(evidence::legal_hold))
        .route("/helpline/requests/{id}", get(requests::show_request))
        .route("/helpline/requests/{id}/answer", post(requests::record_answer))
        .route("/helpline/requests/{id}/check", post(requests::check_now))
        .route("/helpline/requests/{id}/release", post(requests::release))
        .route("/helpline/requests/{id}/sent", post(requests::mark_sent))
        .route("/helpline/sync", post(requests::sync))
        .route("/helpline/league", get(figures::league))
        .route("/helpline/figures", get(figures::figures))
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}

fn opt(t: Option<OffsetDateTime>) -> Option<String> {
    t.map(rfc3339)
}

/// The helpline's body schemas, for the OpenAPI document (`super::openapi`).
pub(crate) fn schemas(out: &mut Vec<(String, utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>)>) {
    use super::openapi::add;
    add::<staydown_domain::helpline::HelpCaseDraft>(out);
    add::<staydown_domain::helpline::PlatformDraft>(out);
    add::<staydown_domain::helpline::request::RequestDraft>(out);
    add::<staydown_domain::helpline::league::LeagueRow>(out);
    add::<cases::ReferralBody>(out);
    add::<requests::AnswerBody>(out);
    add::<requests::SentBody>(out);
    add::<evidence::HashBody>(out);
    add::<requests::RequestView>(out);
    add::<platforms::PlatformView>(out);
    add::<crate::helpline::UrlCheck>(out);
    add::<crate::helpline::SyncReport>(out);
}
