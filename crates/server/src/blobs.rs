//! Sealing and opening stored bytes (content attached to a case, a helpline's evidence) with the
//! configured vault keys, so that handlers never see a key or write plaintext to the database.
//!
//! Storage and the custody log are `store::blobs`; the cipher and format are `staydown-vault`.
//! Every read goes through [`open`], which the store audits with its purpose.

use sha2::{Digest, Sha256};
use staydown_store::BlobMeta;

use crate::AppState;
use crate::problem::ApiError;

const NO_VAULT: &str = "storing content or evidence needs encryption keys: set [vault] key_file \
                        (make one with `staydown vault keygen`)";

/// Seals `bytes` and stores them as a blob of `owner` (e.g. `case:<id>`) and `kind` (e.g.
/// `content`), with the configured default retention. Returns the stored description, whose
/// `sha256` is the plaintext's digest taken here, at intake.
///
/// # Errors
/// [`ApiError::NotConfigured`] without vault keys; store errors as usual.
pub async fn seal_and_store(
    state: &AppState,
    owner: &str,
    kind: &str,
    content_type: &str,
    bytes: Vec<u8>,
    actor: &str,
) -> Result<BlobMeta, ApiError> {
    let keyring = state.settings().vault.clone().ok_or(ApiError::NotConfigured(NO_VAULT))?;
    let id = uuid::Uuid::now_v7().to_string();
    let size = bytes.len() as i64;
    let seal_id = id.clone();
    // Hashing and sealing megabytes is CPU work: keep it off the async workers.
    let (sha256, sealed, key_id) = tokio::task::spawn_blocking(move || {
        let sha256 = hex::encode(Sha256::digest(&bytes));
        let sealed = keyring.seal(&bytes, seal_id.as_bytes());
        (sha256, sealed, keyring.active_id().to_owned())
    })
    .await
    .map_err(|e| ApiError::Internal(format!("sealing task failed: {e}")))?;
    let now = state.now();
    let retain_until = state.settings().blob_retention.map(|d| now + d);
    let blob = staydown_store::NewBlob {
        id: &id,
        owner,
        kind,
        content_type,
        size,
        sha256: &sha256,
        key_id: &key_id,
        sealed: &sealed,
        retain_until,
    };
    Ok(state.store().put_blob(&blob, actor, now).await?)
}

/// Reads and opens a blob, logging the access with `purpose` (e.g. `preview`, `export:police`).
/// The plaintext's SHA-256 is checked against the digest taken at intake.
///
/// # Errors
/// [`ApiError::NotFound`] for an unknown blob, [`ApiError::Conflict`] for an erased one,
/// [`ApiError::NotConfigured`] without vault keys, [`ApiError::Internal`] when the bytes fail
/// authentication or their digest (tampering, or a missing old key).
pub async fn open(state: &AppState, id: &str, actor: &str, purpose: &str) -> Result<(BlobMeta, Vec<u8>), ApiError> {
    let keyring = state.settings().vault.clone().ok_or(ApiError::NotConfigured(NO_VAULT))?;
    let (meta, sealed) = state.store().read_blob(id, actor, purpose, state.now()).await?;
    let id = id.to_owned();
    let expected = meta.sha256.clone();
    let plain = tokio::task::spawn_blocking(move || {
        let plain = keyring.open(&sealed, id.as_bytes()).map_err(|e| format!("blob {id}: {e}"))?;
        if hex::encode(Sha256::digest(&plain)) != expected {
            return Err(format!("blob {id}: content does not match the digest taken at intake"));
        }
        Ok(plain)
    })
    .await
    .map_err(|e| ApiError::Internal(format!("opening task failed: {e}")))?
    .map_err(ApiError::Internal)?;
    Ok((meta, plain))
}
