//! Evidence with chain of custody (sealed at rest, every read audited), the police bundle, and
//! pre-emptive hashes made in the caseworker's browser.

use super::*;

pub(super) fn evidence_owner(case_id: &str) -> String {
    format!("helpline_case:{case_id}")
}

pub(super) fn evidence_json(b: &staydown_store::BlobMeta) -> serde_json::Value {
    serde_json::json!({
        "id": b.id, "kind": b.kind, "content_type": b.content_type, "size": b.size, "sha256": b.sha256,
        "created_at": rfc3339(b.created_at), "retain_until": opt(b.retain_until), "legal_hold": b.legal_hold,
        "erased_at": opt(b.erased_at),
    })
}

/// Largest evidence file accepted, in bytes.
pub const MAX_EVIDENCE_BYTES: usize = 20 * 1024 * 1024;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct EvidenceQuery {
    /// `evidence` (default) or `screenshot`.
    kind: Option<String>,
}

/// Stores a file or screenshot for a case: the raw request body, sealed at rest with its SHA-256
/// taken at intake (the vault's `store::blobs`; every later read is an audit entry).
pub(super) async fn add_evidence(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(q): Query<EvidenceQuery>,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    caller.require(Permission::HelplineWork)?;
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
    let meta = store_evidence(&state, &caller.principal(), &id, q.kind.as_deref(), content_type, body.to_vec()).await?;
    Ok((StatusCode::CREATED, Json(evidence_json(&meta))).into_response())
}

/// Seals and stores one evidence file of a case (`kind`: `evidence`, the default, or
/// `screenshot`); only a plain media type is kept. Shared with the caseworker's pages.
pub async fn store_evidence(
    state: &AppState,
    actor: &str,
    case_id: &str,
    kind: Option<&str>,
    content_type: Option<&str>,
    body: Vec<u8>,
) -> Result<staydown_store::BlobMeta, ApiError> {
    state.store().help_case(case_id).await?.ok_or(ApiError::NotFound)?;
    let kind = match kind {
        None | Some("evidence") => "evidence",
        Some("screenshot") => "screenshot",
        Some(_) => return Err(ApiError::field("kind", "invalid", "evidence or screenshot")),
    };
    if body.is_empty() {
        return Err(ApiError::field("body", "required", "send the file's bytes as the request body"));
    }
    if body.len() > MAX_EVIDENCE_BYTES {
        return Err(ApiError::PayloadTooLarge { limit: MAX_EVIDENCE_BYTES });
    }
    // Only a plain media type is kept: no parameters or free text from the client.
    let content_type = content_type
        .and_then(|v| v.split(';').next())
        .map(str::trim)
        .filter(|v| v.len() <= 100 && v.bytes().all(|b| b.is_ascii_alphanumeric() || b"/.+-".contains(&b)))
        .unwrap_or("application/octet-stream")
        .to_owned();
    crate::blobs::seal_and_store(state, &evidence_owner(case_id), kind, &content_type, body, actor).await
}

pub(super) async fn list_evidence(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Vec<serde_json::Value>>, ApiError> {
    caller.require(Permission::HelplineWork)?;
    state.store().help_case(&id).await?.ok_or(ApiError::NotFound)?;
    Ok(Json(state.store().blobs_of(&evidence_owner(&id)).await?.iter().map(evidence_json).collect()))
}

pub(super) async fn evidence_meta(state: &AppState, id: &str) -> Result<staydown_store::BlobMeta, ApiError> {
    let meta = match state.store().blob_meta(id).await {
        Err(StoreError::NotFound) => return Err(ApiError::NotFound),
        other => other?,
    };
    if !meta.owner.starts_with("helpline_case:") {
        return Err(ApiError::NotFound);
    }
    Ok(meta)
}

/// The file's bytes, opened and checked against its intake digest; the view is an audit entry.
pub(super) async fn view_evidence(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    caller.require(Permission::HelplineWork)?;
    evidence_meta(&state, &id).await?;
    let (meta, bytes) = crate::blobs::open(&state, &id, &caller.principal(), "view").await?;
    Ok((
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, meta.content_type),
            (header::HeaderName::from_static("x-content-sha256"), meta.sha256),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        bytes,
    )
        .into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct HoldBody {
    hold: Option<bool>,
    reason: Option<String>,
}

pub(super) async fn legal_hold(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<HoldBody>,
) -> Result<Json<serde_json::Value>, ApiError> {
    caller.require(Permission::HelplineWork)?;
    evidence_meta(&state, &id).await?;
    let hold = body.hold.ok_or_else(|| ApiError::field("hold", "required", "true or false"))?;
    let reason = body.reason.unwrap_or_default();
    if reason.chars().count() > 500 {
        return Err(ApiError::field("reason", "too_long", "at most 500 characters"));
    }
    state.store().set_blob_legal_hold(&id, hold, &reason, &caller.principal(), state.now()).await?;
    Ok(Json(evidence_json(&state.store().blob_meta(&id).await?)))
}

/// Erases the bytes on request; refused under legal hold. The description and the custody log
/// stay, so the audit chain is unbroken.
pub(super) async fn erase_evidence(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    caller.require(Permission::HelplineWork)?;
    evidence_meta(&state, &id).await?;
    state.store().erase_blob(&id, "erasure on request", &caller.principal(), state.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The police bundle for one case: every evidence file still held (opened and digest-checked,
/// each read logged with purpose `export:police`), `custody.json` (each file's custody log from the
/// audit chain) and `manifest.json` with each file's SHA-256 at intake and in the bundle.
pub(super) async fn police_bundle(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    caller.require(Permission::HelplineWork)?;
    build_police_bundle(&state, &caller.principal(), &id).await
}

/// The police bundle of one case as a ZIP download (shared with the caseworker's pages).
pub async fn build_police_bundle(state: &AppState, actor: &str, id: &str) -> Result<Response, ApiError> {
    let (state, id) = (state.clone(), id.to_owned());
    state.store().help_case(&id).await?.ok_or(ApiError::NotFound)?;
    let blobs = state.store().blobs_of(&evidence_owner(&id)).await?;
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    let mut listed = Vec::new();
    for b in blobs.iter().filter(|b| b.erased_at.is_none()) {
        let (meta, bytes) = crate::blobs::open(&state, &b.id, actor, "export:police").await?;
        let name = format!("evidence/{}", meta.id);
        listed.push(serde_json::json!({
            "name": name, "kind": meta.kind, "content_type": meta.content_type, "bytes": bytes.len(),
            "sha256_at_intake": meta.sha256, "sha256": hex::encode(Sha256::digest(&bytes)),
            "stored_at": rfc3339(meta.created_at),
        }));
        files.push((name, bytes));
    }
    let mut custody = Vec::new();
    for b in &blobs {
        let entries = state.store().blob_custody(&b.id).await?;
        custody.push(serde_json::json!({
            "blob": b.id,
            "erased_at": opt(b.erased_at),
            "entries": entries.iter().map(|e| serde_json::json!({
                "seq": e.seq, "at_ms": e.at_ms, "actor": e.actor, "action": e.action, "detail": e.detail,
                "prev_hash": e.prev_hash, "hash": e.hash,
            })).collect::<Vec<_>>(),
        }));
    }
    let custody_bytes = serde_json::to_vec_pretty(&custody).map_err(|e| ApiError::Internal(e.to_string()))?;
    listed.push(serde_json::json!({"name": "custody.json", "bytes": custody_bytes.len(), "sha256": hex::encode(Sha256::digest(&custody_bytes))}));
    files.push(("custody.json".into(), custody_bytes));
    let now = state.now();
    let manifest = serde_json::json!({
        "kind": "staydown helpline police bundle", "case": id, "generated_at": rfc3339(now), "files": listed,
    });
    let manifest_bytes = serde_json::to_vec_pretty(&manifest).map_err(|e| ApiError::Internal(e.to_string()))?;
    files.push(("manifest.json".into(), manifest_bytes));
    let zip_err = |e: zip::result::ZipError| ApiError::Internal(format!("zip: {e}"));
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for (name, bytes) in &files {
        zip.start_file(name.as_str(), options).map_err(zip_err)?;
        zip.write_all(bytes).map_err(|e| ApiError::Internal(format!("zip: {e}")))?;
    }
    let bytes = zip.finish().map_err(zip_err)?.into_inner();
    Ok((
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "application/zip".to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"police-bundle-{id}.zip\"")),
        ],
        bytes,
    )
        .into_response())
}

/// The bank that holds pre-emptive hashes (sextortion cases: images not yet shared), exportable
/// with `staydown bank export --bank helpline-preemptive --format csv|json|te`.
pub const PREEMPTIVE_BANK: &str = "helpline-preemptive";

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HashBody {
    /// PDQ (64 hex).
    pub pdq: Option<String>,
    /// PDQ quality (0-100).
    pub quality: Option<u8>,
    /// SHA-256 (64 hex).
    pub sha256: Option<String>,
    /// MD5 (32 hex).
    pub md5: Option<String>,
}

/// Adds hashes computed in the caseworker's browser (as on the public hash page; the image never
/// reaches the server) to the helpline's pre-emptive bank, referenced by the case id only.
pub(super) async fn add_hash(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<HashBody>,
) -> Result<Response, ApiError> {
    caller.require(Permission::HelplineWork)?;
    let added = add_preemptive_hash(&state, &caller.principal(), &id, body).await?;
    Ok((
        StatusCode::CREATED,
        Json(serde_json::json!({"id": added.id, "bank": PREEMPTIVE_BANK, "pdq": added.pdq, "sha256": added.sha256, "md5": added.md5})),
    )
        .into_response())
}

/// Adds one hash set made in the caseworker's browser to the helpline's pre-emptive bank
/// (created on first use), referenced by the case id only. Shared with the caseworker's pages.
pub async fn add_preemptive_hash(
    state: &AppState,
    actor: &str,
    id: &str,
    body: HashBody,
) -> Result<staydown_store::BankEntry, ApiError> {
    use staydown_domain::bank::{BankAction, BankDraft, BankProvenance, EntryDraft, validate_bank, validate_entry};
    let store = state.store();
    store.help_case(id).await?.ok_or(ApiError::NotFound)?;
    let entry = validate_entry(EntryDraft {
        pdq: body.pdq,
        quality: body.quality,
        sha256: body.sha256,
        md5: body.md5,
        note: None,
        reason: Some(evidence_owner(id)),
    })
    .map_err(ApiError::Validation)?;
    if store.bank(PREEMPTIVE_BANK).await?.is_none() {
        let bank = validate_bank(BankDraft {
            name: Some(PREEMPTIVE_BANK.into()),
            description: Some("Pre-emptive hashes from helpline cases (images not yet shared)".into()),
            action: Some(BankAction::Hold),
            threshold: None,
            provenance: Some(BankProvenance::Helpline),
            // Victims' own photos: a re-upload may well be rotated or mirrored.
            dihedral: Some(true),
        })
        .map_err(ApiError::Validation)?;
        match store.create_bank(&bank, actor, state.now()).await {
            Ok(_) | Err(StoreError::Conflict(_)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    let added = store.add_bank_entry(PREEMPTIVE_BANK, &entry, actor, state.now()).await?;
    state.refresh_banks().await;
    Ok(added)
}

pub(super) async fn list_hashes(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Vec<serde_json::Value>>, ApiError> {
    caller.require(Permission::HelplineWork)?;
    state.store().help_case(&id).await?.ok_or(ApiError::NotFound)?;
    Ok(Json(
        case_hashes(&state, &id)
            .await?
            .into_iter()
            .map(|e| serde_json::json!({"id": e.id, "pdq": e.pdq, "sha256": e.sha256, "md5": e.md5, "added_at": rfc3339(e.added_at)}))
            .collect(),
    ))
}

/// The pre-emptive hashes of one case still in the helpline's bank, oldest first.
pub async fn case_hashes(state: &AppState, case_id: &str) -> Result<Vec<staydown_store::BankEntry>, ApiError> {
    let store = state.store();
    if store.bank(PREEMPTIVE_BANK).await?.is_none() {
        return Ok(Vec::new());
    }
    let reason = evidence_owner(case_id);
    Ok(store
        .bank_entries(PREEMPTIVE_BANK, i64::MIN, 100_000)
        .await?
        .into_iter()
        .filter(|e| e.reason.as_deref() == Some(reason.as_str()) && e.removed_at.is_none())
        .collect())
}

/// The evidence files of one case (erased ones too: their description and custody stay).
pub async fn case_evidence(state: &AppState, case_id: &str) -> Result<Vec<staydown_store::BlobMeta>, ApiError> {
    Ok(state.store().blobs_of(&evidence_owner(case_id)).await?)
}
