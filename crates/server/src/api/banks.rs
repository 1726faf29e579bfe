//! `/api/v1/banks`: hash banks for admins — list, create, change `dihedral`, show with entries, add
//! and remove entries.
//!
//! Issue 5 (stay-down banks; design.md §4). Every mutation is committed with its audit entry and
//! change-log row, then applied to this process's screening index before the answer, so a screen
//! call that follows sees it; other processes hear of it through the database (`screening`).

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use staydown_domain::bank::{BankDraft, EntryDraft, validate_bank, validate_entry};
use staydown_store::{Bank, BankEntry};
use time::OffsetDateTime;

use crate::AppState;
use crate::auth::{Caller, Permission};
use crate::json::ApiJson;
use crate::problem::ApiError;

/// A bank on the wire.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BankView {
    name: String,
    description: String,
    action: &'static str,
    threshold: u8,
    provenance: &'static str,
    /// Whether rotations and mirror images of uploads are matched too.
    dihedral: bool,
    /// Which program computed the imported hashes, when an import said so.
    #[serde(skip_serializing_if = "Option::is_none")]
    hashed_by: Option<&'static str>,
    entry_count: i64,
    #[schema(value_type = String, format = DateTime)]
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
    created_by: String,
}

impl From<Bank> for BankView {
    fn from(b: Bank) -> Self {
        Self {
            name: b.name,
            description: b.description,
            action: b.action.as_str(),
            threshold: b.threshold,
            provenance: b.provenance.as_str(),
            dihedral: b.dihedral,
            hashed_by: b.hashed_by.map(|h| h.as_str()),
            entry_count: b.entry_count,
            created_at: b.created_at,
            created_by: b.created_by,
        }
    }
}

/// An entry on the wire.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EntryView {
    id: String,
    seq: i64,
    pdq: Option<String>,
    quality: Option<u8>,
    sha256: Option<String>,
    md5: Option<String>,
    note: Option<String>,
    reason: Option<String>,
    added_by: String,
    #[schema(value_type = String, format = DateTime)]
    #[serde(with = "time::serde::rfc3339")]
    added_at: OffsetDateTime,
}

impl From<BankEntry> for EntryView {
    fn from(e: BankEntry) -> Self {
        Self {
            id: e.id,
            seq: e.seq,
            pdq: e.pdq,
            quality: e.quality,
            sha256: e.sha256,
            md5: e.md5,
            note: e.note,
            reason: e.reason,
            added_by: e.added_by,
            added_at: e.added_at,
        }
    }
}

/// `GET /api/v1/banks`.
pub async fn list(State(state): State<AppState>, caller: Caller) -> Result<Json<Vec<BankView>>, ApiError> {
    caller.require(Permission::ManageBanks)?;
    Ok(Json(state.store().banks().await?.into_iter().map(BankView::from).collect()))
}

/// `POST /api/v1/banks`.
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(draft): ApiJson<BankDraft>,
) -> Result<Response, ApiError> {
    caller.require(Permission::ManageBanks)?;
    let bank = validate_bank(draft).map_err(ApiError::Validation)?;
    let created = state.store().create_bank(&bank, &caller.actor(), state.now()).await?;
    state.refresh_banks().await;
    let location = format!("/api/v1/banks/{}", created.name);
    Ok((StatusCode::CREATED, [(header::LOCATION, location)], Json(BankView::from(created))).into_response())
}

/// Body of `PATCH /api/v1/banks/{name}`: the settings that may change after creation.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BankPatch {
    /// Match rotations and mirror images of uploads (the eight dihedral PDQ variants).
    dihedral: Option<bool>,
}

/// `PATCH /api/v1/banks/{name}`: change `dihedral` (issue 14). The change is committed with its
/// audit entry and change-log row and applied to this process's screening index before the
/// answer; other processes pick it up from the change log. Answers the bank as stored.
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
    ApiJson(patch): ApiJson<BankPatch>,
) -> Result<Json<BankView>, ApiError> {
    caller.require(Permission::ManageBanks)?;
    let Some(dihedral) = patch.dihedral else {
        return Err(ApiError::field("dihedral", "required", "true or false: the only setting that can change"));
    };
    let bank = state.store().set_bank_dihedral(&name, dihedral, &caller.actor(), state.now()).await?;
    state.refresh_banks().await;
    Ok(Json(BankView::from(bank)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EntriesQuery {
    /// Return entries after this position (`next_after` of the previous page).
    after: Option<i64>,
    /// Page size, 1–1000 (default 100).
    limit: Option<i64>,
}

/// A bank with one page of its entries.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BankPage {
    #[serde(flatten)]
    bank: BankView,
    entries: Vec<EntryView>,
    /// Pass as `after` for the next page; absent on the last page.
    next_after: Option<i64>,
}

/// `GET /api/v1/banks/{name}`.
pub async fn show(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
    Query(q): Query<EntriesQuery>,
) -> Result<Json<BankPage>, ApiError> {
    caller.require(Permission::ManageBanks)?;
    let limit = q.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::field("limit", "invalid", "must be between 1 and 1000"));
    }
    let bank = state.store().bank(&name).await?.ok_or(ApiError::NotFound)?;
    let entries = state.store().bank_entries(&name, q.after.unwrap_or(0), limit).await?;
    let next_after = if entries.len() as i64 == limit { entries.last().map(|e| e.seq) } else { None };
    Ok(Json(BankPage { bank: bank.into(), entries: entries.into_iter().map(EntryView::from).collect(), next_after }))
}

/// `POST /api/v1/banks/{name}/entries`.
pub async fn add_entry(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
    ApiJson(draft): ApiJson<EntryDraft>,
) -> Result<Response, ApiError> {
    caller.require(Permission::ManageBanks)?;
    let entry = validate_entry(draft).map_err(ApiError::Validation)?;
    let stored = state.store().add_bank_entry(&name, &entry, &caller.actor(), state.now()).await?;
    state.refresh_banks().await;
    let location = format!("/api/v1/banks/{name}/entries/{}", stored.id);
    Ok((StatusCode::CREATED, [(header::LOCATION, location)], Json(EntryView::from(stored))).into_response())
}

/// `DELETE /api/v1/banks/{name}/entries/{id}`.
pub async fn remove_entry(
    State(state): State<AppState>,
    caller: Caller,
    Path((name, id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    caller.require(Permission::ManageBanks)?;
    state.store().remove_bank_entry(&name, &id, &caller.actor(), state.now()).await?;
    state.refresh_banks().await;
    Ok(StatusCode::NO_CONTENT)
}
