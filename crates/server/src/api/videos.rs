//! `/api/v1/banks/{name}/videos` and `/api/v1/banks/{name}/video-thresholds`: video entries of
//! hash banks (issue 17, docs/video.md).
//!
//! A video entry is added by its vPDQ in the reference's file format (ThreatExchange `vpdq`: one
//! `frame,quality,pdq_hex,timestamp` line per sampled frame), optionally with the file's SHA-256
//! and MD5; listing gives each entry's vPDQ back in the same format. Each bank has two vPDQ
//! thresholds: the percent of an upload's frames that must be found in a banked video
//! (`query_pct`, catches a clip cut from it) and the percent of the banked video's frames that must
//! be found in the upload (`banked_pct`, catches a compilation containing it); either reaching its
//! threshold is a match, `null` turns a direction off.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use staydown_store::NewVideoEntry;

use crate::AppState;
use crate::auth::{Caller, Permission};
use crate::json::ApiJson;
use crate::problem::ApiError;

/// A video entry as sent.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VideoDraft {
    vpdq: Option<String>,
    sha256: Option<String>,
    md5: Option<String>,
    note: Option<String>,
    reason: Option<String>,
}

/// A video entry on the wire.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = BankVideo)]
pub struct VideoView {
    id: String,
    seq: i64,
    frames: u32,
    vpdq: String,
    sha256: Option<String>,
    md5: Option<String>,
    note: Option<String>,
    reason: Option<String>,
}

/// The two vPDQ thresholds.
#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Thresholds {
    query_pct: Option<u8>,
    banked_pct: Option<u8>,
}

/// Validates a video draft: the vPDQ must parse (bounded), digests must be hex.
pub fn validate_video(draft: VideoDraft, max_frames: usize) -> Result<NewVideoEntry, ApiError> {
    let mut errors = staydown_domain::validation::FieldErrors::default();
    let mut frames = 0;
    let vpdq = match draft.vpdq.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        None => {
            errors.required("vpdq", "the video's vPDQ, one `frame,quality,pdq_hex,timestamp` line per frame");
            String::new()
        }
        Some(text) => match staydown_vpdq::parse_vpdq_file(text, max_frames) {
            Ok(features) => {
                frames = features.len() as u32;
                staydown_vpdq::to_vpdq_file(&features)
            }
            Err(e) => {
                errors.push("vpdq", "invalid", format!("not a vPDQ file: {e}"));
                String::new()
            }
        },
    };
    let mut hex = |field: &str, value: Option<String>, digits: usize| {
        let v = value.map(|v| v.trim().to_ascii_lowercase()).filter(|v| !v.is_empty())?;
        if v.len() != digits || !v.bytes().all(|b| b.is_ascii_hexdigit()) {
            errors.push(field, "invalid", format!("must be {digits} hexadecimal digits"));
            return None;
        }
        Some(v)
    };
    let sha256 = hex("sha256", draft.sha256, 64);
    let md5 = hex("md5", draft.md5, 32);
    let text = |errors: &mut staydown_domain::validation::FieldErrors, field: &str, v: Option<String>| {
        let v = v.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())?;
        if v.chars().count() > staydown_domain::bank::MAX_NOTE_CHARS {
            errors.push(
                field,
                "too_long",
                format!("must be at most {} characters", staydown_domain::bank::MAX_NOTE_CHARS),
            );
        }
        Some(v)
    };
    let note = text(&mut errors, "note", draft.note);
    let reason = text(&mut errors, "reason", draft.reason);
    errors.into_result(()).map_err(ApiError::Validation)?;
    Ok(NewVideoEntry { vpdq, frame_count: frames, sha256, md5, note, reason })
}

/// `POST /api/v1/banks/{name}/videos`.
pub async fn add_video(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
    ApiJson(draft): ApiJson<VideoDraft>,
) -> Result<Response, ApiError> {
    caller.require(Permission::ManageBanks)?;
    let video = validate_video(draft, state.settings().video.max_vpdq_frames)?;
    let stored = state.store().add_bank_video(&name, &video, &caller.actor(), state.now()).await?;
    state.refresh_banks().await;
    let location = format!("/api/v1/banks/{name}/entries/{}", stored.id);
    let view = VideoView {
        id: stored.id,
        seq: stored.seq,
        frames: video.frame_count,
        vpdq: video.vpdq,
        sha256: stored.sha256,
        md5: stored.md5,
        note: stored.note,
        reason: stored.reason,
    };
    Ok((StatusCode::CREATED, [(header::LOCATION, location)], Json(view)).into_response())
}

/// Paging of `GET /api/v1/banks/{name}/videos`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Page {
    after: Option<i64>,
    limit: Option<i64>,
}

/// `GET /api/v1/banks/{name}/videos`: live video entries with their vPDQ.
pub async fn list_videos(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
    Query(q): Query<Page>,
) -> Result<Json<Vec<VideoView>>, ApiError> {
    caller.require(Permission::ManageBanks)?;
    let limit = q.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::field("limit", "invalid", "must be between 1 and 1000"));
    }
    state.store().bank(&name).await?.ok_or(ApiError::NotFound)?;
    let videos = state.store().bank_videos(&name, q.after.unwrap_or(0), limit).await?;
    Ok(Json(
        videos
            .into_iter()
            .map(|v| VideoView {
                id: v.entry.id,
                seq: v.entry.seq,
                frames: v.frame_count,
                vpdq: v.vpdq,
                sha256: v.entry.sha256,
                md5: v.entry.md5,
                note: v.entry.note,
                reason: v.entry.reason,
            })
            .collect(),
    ))
}

/// `PUT /api/v1/banks/{name}/video-thresholds`.
pub async fn set_thresholds(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
    ApiJson(t): ApiJson<Thresholds>,
) -> Result<Json<Thresholds>, ApiError> {
    caller.require(Permission::ManageBanks)?;
    let mut errors = staydown_domain::validation::FieldErrors::default();
    for (field, v) in [("query_pct", t.query_pct), ("banked_pct", t.banked_pct)] {
        if v.is_some_and(|p| !(1..=100).contains(&p)) {
            errors.push(field, "invalid", "a percentage from 1 to 100, or null to turn this direction off");
        }
    }
    errors.into_result(()).map_err(ApiError::Validation)?;
    let bank =
        state.store().set_bank_video_thresholds(&name, t.query_pct, t.banked_pct, &caller.actor(), state.now()).await?;
    state.refresh_banks().await;
    Ok(Json(Thresholds { query_pct: bank.video_query_pct, banked_pct: bank.video_banked_pct }))
}
