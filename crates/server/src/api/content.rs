//! Content on the case: `POST /api/v1/cases/{id}/content` (a platform or a reviewer attaches the
//! bytes of a reported item, multipart field `file`, optional `content_id` and `url`),
//! `GET /api/v1/cases/{id}/content/{item}` (the bytes, each read audited with its purpose) and
//! `POST /api/v1/cases/{id}/content/{item}/legal-hold` (`{"hold": bool, "reason": "…"}`).
//!
//! The bytes are hostile: bounded by `screen_body_limit`, decoded (for PDQ) only by the bounded
//! decoder on the blocking pool under the decode timeout, and sealed at rest with the vault keys
//! (`server::blobs`) under the configured retention. Attaching also links uploads screened earlier
//! under the case's content ids; a removal then banks every attached and linked item's hashes.

use axum::Json;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use staydown_store::{ContentHashes, NewAttachment};

use crate::AppState;
use crate::auth::{Caller, Permission};
use crate::json::ApiJson;
use crate::problem::ApiError;

const MAX_TEXT: usize = 2048;

/// `POST /api/v1/cases/{id}/content`.
pub async fn attach(
    State(state): State<AppState>,
    caller: Caller,
    Path(case_id): Path<String>,
    req: axum::extract::Request,
) -> Result<Response, ApiError> {
    caller.require(Permission::AttachContent)?;
    // Parsed only after the permission check, so a refused caller learns nothing about the body.
    let mut form = <Multipart as axum::extract::FromRequest<AppState>>::from_request(req, &state)
        .await
        .map_err(|e| ApiError::field("body", "invalid", format!("send multipart/form-data: {}", e.body_text())))?;
    let limit = state.settings().screen_body_limit;
    let read_error = |e: axum::extract::multipart::MultipartError| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::PayloadTooLarge { limit }
        } else {
            ApiError::field("body", "invalid", format!("unreadable multipart body: {}", e.body_text()))
        }
    };
    let (mut file, mut content_type, mut content_id, mut url) = (None, None, None, None);
    while let Some(field) = form.next_field().await.map_err(read_error)? {
        let name = field.name().unwrap_or_default().to_owned();
        match name.as_str() {
            "file" => {
                content_type = field.content_type().map(str::to_owned);
                file = Some(field.bytes().await.map_err(read_error)?);
            }
            "content_id" | "url" => {
                let text = field.text().await.map_err(read_error)?.trim().to_owned();
                if text.len() > MAX_TEXT || text.chars().any(char::is_control) {
                    return Err(ApiError::field(&name, "invalid", "at most 2048 characters, no control characters"));
                }
                if name == "content_id" { content_id = Some(text) } else { url = Some(text) }
            }
            other => {
                return Err(ApiError::field(other, "unknown_field", "unknown field; expected file, content_id, url"));
            }
        }
    }
    let bytes = file
        .filter(|b| !b.is_empty())
        .ok_or_else(|| ApiError::field("file", "required", "send the content's bytes in the multipart field `file`"))?;
    let a = attach_bytes(
        &state,
        &caller.principal(),
        &case_id,
        bytes.to_vec(),
        content_type,
        content_id.as_deref(),
        url.as_deref(),
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(serde_json::json!({
            "id": a.item,
            "case_id": case_id,
            "blob_id": a.meta.id,
            "size": a.meta.size,
            "content_type": a.meta.content_type,
            "hashes": {"sha256": a.hashes.sha256, "md5": a.hashes.md5, "pdq": a.hashes.pdq, "pdq_quality": a.hashes.pdq_quality},
            "pdq_skipped": a.pdq_skipped,
            "retain_until": a.meta.retain_until.map(crate::api::rfc3339),
        })),
    )
        .into_response())
}

/// Content attached to a case.
#[derive(Debug)]
pub struct Attached {
    /// The content item's id.
    pub item: String,
    /// The sealed blob.
    pub meta: staydown_store::BlobMeta,
    /// The hashes taken.
    pub hashes: ContentHashes,
    /// Why no PDQ hash was taken (not an image we decode), if none was.
    pub pdq_skipped: Option<String>,
}

/// Hashes, seals and attaches `data` to a case as `principal`: the one path for the API and the
/// console's upload form. `content_type` is kept only when it is a plain media type.
///
/// # Errors
/// `NotFound` for an unknown case; a `file` field error when decoding takes too long.
pub async fn attach_bytes(
    state: &AppState,
    principal: &str,
    case_id: &str,
    data: Vec<u8>,
    content_type: Option<String>,
    content_id: Option<&str>,
    url: Option<&str>,
) -> Result<Attached, ApiError> {
    if state.store().case_summary(case_id).await?.is_none() {
        return Err(ApiError::NotFound);
    }
    let limit = state.settings().screen_body_limit;
    // Only a plain media type is kept (it is shown back to staff); anything else is opaque bytes.
    let content_type = content_type
        .filter(|t| t.len() <= 100 && t.chars().all(|c| c.is_ascii_alphanumeric() || "/.+-".contains(c)))
        .unwrap_or_else(|| "application/octet-stream".to_owned());

    // The same bounded path as screening (crate::decode_budget, issue 15).
    let data = std::sync::Arc::new(data);
    let hashed = crate::decode_budget::hash_upload(state, "file", data.clone(), limit, false).await?;
    let data = std::sync::Arc::try_unwrap(data).unwrap_or_else(|shared| shared.as_ref().clone());
    let (hashes, pdq_skipped) = match hashed.map(|(h, _)| h) {
        Ok(h) => (
            ContentHashes {
                sha256: Some(h.sha256_hex()),
                md5: Some(h.md5_hex()),
                pdq: Some(h.pdq.to_hex()),
                pdq_quality: Some(h.quality),
            },
            None,
        ),
        // Not an image we decode (a video, a damaged file): exact hashes only.
        Err(e) => {
            use md5::Digest as _;
            let sha256 = hex::encode(sha2::Sha256::digest(&data));
            let md5 = hex::encode(md5::Md5::digest(&data));
            (ContentHashes { sha256: Some(sha256), md5: Some(md5), pdq: None, pdq_quality: None }, Some(e.to_string()))
        }
    };
    let meta =
        crate::blobs::seal_and_store(state, &format!("case:{case_id}"), "content", &content_type, data, principal)
            .await?;
    let item = state
        .store()
        .attach_content(
            &NewAttachment { case_id, blob_id: &meta.id, content_id, url, hashes: &hashes },
            principal,
            state.now(),
        )
        .await?;
    Ok(Attached { item, meta, hashes, pdq_skipped })
}

/// Query of the content read.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReadQuery {
    /// Why it is opened: `preview` (blurred on the page) or `reveal` (shown as is). Logged.
    purpose: Option<String>,
}

/// `GET /api/v1/cases/{id}/content/{item}`: the bytes, with the read in the custody log.
pub async fn read(
    State(state): State<AppState>,
    caller: Caller,
    Path((case_id, item)): Path<(String, String)>,
    Query(q): Query<ReadQuery>,
) -> Result<Response, ApiError> {
    caller.require(Permission::ViewCase)?;
    let purpose = q.purpose.as_deref().unwrap_or("preview");
    if !matches!(purpose, "preview" | "reveal") {
        return Err(ApiError::field("purpose", "invalid", "preview or reveal"));
    }
    let blob = state.store().content_item_blob(&case_id, &item).await?;
    let (meta, bytes) = crate::blobs::open(&state, &blob, &caller.principal(), purpose).await?;
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&meta.content_type).unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    headers.insert(header::CONTENT_DISPOSITION, HeaderValue::from_static("inline"));
    Ok(response)
}

/// Body of a legal-hold change.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HoldBody {
    hold: Option<bool>,
    reason: Option<String>,
}

/// `POST /api/v1/cases/{id}/content/{item}/legal-hold`: keep (or release) the bytes past retention.
pub async fn legal_hold(
    State(state): State<AppState>,
    caller: Caller,
    Path((case_id, item)): Path<(String, String)>,
    ApiJson(body): ApiJson<HoldBody>,
) -> Result<StatusCode, ApiError> {
    caller.require(Permission::ManageLegalHold)?;
    let mut errors = staydown_domain::validation::FieldErrors::default();
    if body.hold.is_none() {
        errors.required("hold", "true to hold, false to release");
    }
    let reason = body.reason.unwrap_or_default().trim().to_owned();
    if reason.is_empty() || reason.len() > 500 {
        errors.push("reason", "invalid", "say why, in at most 500 characters (e.g. a police request reference)");
    }
    errors.into_result(()).map_err(ApiError::Validation)?;
    let blob = state.store().content_item_blob(&case_id, &item).await?;
    state
        .store()
        .set_blob_legal_hold(&blob, body.hold.unwrap_or(false), &reason, &caller.principal(), state.now())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
