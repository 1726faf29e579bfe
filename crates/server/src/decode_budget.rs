//! The memory budget of image decodes, and the one bounded path every uploaded image is hashed
//! through (`POST /api/v1/screen`, content attached to a case).
//!
//! Issue 15 ("a timed-out decode actually stops, and peak memory stays under a configured cap").
//! Before any pixel is decoded, [`staydown_media::decode_cost`] reads from the headers what the
//! decode will hold at its peak, and that many bytes are reserved from a semaphore holding
//! `screen_decode_memory` (in KiB permits). An image needing more than the whole budget is refused
//! (422 `too_much_memory`); otherwise the upload waits for room, at most `screen_decode_timeout`
//! (503 after that). The reservation moves into the blocking task and is released only when that
//! task ends — when its buffers are freed, not when the request gives up — so the sum of live
//! decodes never exceeds the budget. On timeout the request answers 422 `too_slow` at once and
//! raises a stop flag that the task checks between its steps
//! ([`staydown_media::hash_image_bytes_until`]), so it stops at its next step and frees its budget.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::AppState;
use crate::problem::ApiError;

/// A semaphore of bytes (counted in KiB so a u32 permit count covers a terabyte).
#[derive(Debug)]
pub struct DecodeBudget {
    kib: Arc<Semaphore>,
    total_kib: u32,
}

impl DecodeBudget {
    /// A budget of `bytes` (at least 1 MiB).
    pub fn new(bytes: u64) -> Self {
        let total_kib = u32::try_from((bytes / 1024).max(1024)).unwrap_or(u32::MAX).min(Semaphore::MAX_PERMITS as u32);
        DecodeBudget { kib: Arc::new(Semaphore::new(total_kib as usize)), total_kib }
    }

    /// The whole budget, in bytes.
    pub fn total_bytes(&self) -> u64 {
        u64::from(self.total_kib) * 1024
    }

    /// Bytes not reserved right now.
    pub fn available_bytes(&self) -> u64 {
        self.kib.available_permits() as u64 * 1024
    }

    /// Reserves `bytes`, waiting while other decodes hold the budget. `None` if `bytes` is more
    /// than the whole budget (it could never fit).
    pub async fn reserve(&self, bytes: u64) -> Option<OwnedSemaphorePermit> {
        let kib = u32::try_from(bytes.div_ceil(1024)).ok().filter(|k| *k <= self.total_kib)?;
        self.kib.clone().acquire_many_owned(kib.max(1)).await.ok()
    }
}

/// How an uploaded JPEG is decoded for the screening lookup (setting `screen_jpeg_decode`, issue 16;
/// docs/screening-perf.md has the drift figures).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum JpegDecode {
    /// Every pixel, bit-exact with the reference (the default).
    #[default]
    Exact,
    /// Straight to ½, ¼ or ⅛ size by DCT scaling (`staydown_media::hash_image_for_lookup_until`):
    /// PDQ within a few bits of the exact hash, for the lookup only.
    Scaled,
}

impl JpegDecode {
    /// The setting's value: `exact` or `scaled`.
    pub fn as_str(self) -> &'static str {
        match self {
            JpegDecode::Exact => "exact",
            JpegDecode::Scaled => "scaled",
        }
    }
}

impl std::str::FromStr for JpegDecode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "exact" => Ok(JpegDecode::Exact),
            "scaled" => Ok(JpegDecode::Scaled),
            other => Err(format!("expected \"exact\" or \"scaled\", not {other:?}")),
        }
    }
}

/// What [`hash_upload`] gives back.
pub type Hashed = (staydown_media::ContentHashes, Option<staydown_provenance::Provenance>);

/// A media error as a field error on `field`: code `undecodable` for a corrupt or unsupported
/// file (as before issue 15), otherwise the bound's own reason (`data_too_short`,
/// `too_many_scans`, `too_many_frames`, `truncated`, `too_many_pixels`, `too_many_bytes`, `too_much_memory`).
pub fn refusal(field: &str, e: &staydown_media::MediaError) -> ApiError {
    use staydown_media::MediaError as E;
    let code = match e {
        E::Corrupt(_) | E::UnsupportedFormat | E::UnsupportedFeature(_) => "undecodable",
        other => other.reason(),
    };
    ApiError::field(field, code, e.to_string())
}

/// Hashes an uploaded image within the byte limit `max_bytes`, the decode budget and the decode
/// timeout, off the async threads, one decode slot; reads its provenance too when `provenance` is
/// set. The inner error is the image's own problem (undecodable, over a bound); the outer one is
/// the server's refusal on `field`: `too_much_memory` (more than the whole budget), `too_slow`
/// (past the timeout), or 503 `busy` when the budget stays full for the whole timeout.
pub async fn hash_upload(
    state: &AppState,
    field: &'static str,
    bytes: Arc<Vec<u8>>,
    max_bytes: usize,
    provenance: bool,
) -> Result<Result<Hashed, staydown_media::MediaError>, ApiError> {
    bounded(state, field, bytes, max_bytes, provenance, |bytes, limits, stopped| {
        staydown_media::hash_image_bytes_until(bytes, limits, stopped)
    })
    .await
}

/// [`hash_upload`] for the screening lookup: a JPEG is decoded as `decode` says (DCT-scaled hashes
/// are for the lookup only and must not be stored or answered: `LookupHashes::scale` says so), and
/// SHA-256 and MD5 are computed only as `digests` says.
pub async fn hash_upload_for_lookup(
    state: &AppState,
    field: &'static str,
    bytes: Arc<Vec<u8>>,
    max_bytes: usize,
    decode: JpegDecode,
    digests: staydown_media::Digests,
) -> Result<
    Result<(staydown_media::LookupHashes, Option<staydown_provenance::Provenance>), staydown_media::MediaError>,
    ApiError,
> {
    bounded(state, field, bytes, max_bytes, true, move |bytes, limits, stopped| match decode {
        JpegDecode::Scaled => staydown_media::hash_image_for_lookup_until(bytes, limits, stopped, digests),
        JpegDecode::Exact => {
            staydown_media::hash_image_bytes_until(bytes, limits, stopped).map(|h| staydown_media::LookupHashes {
                pdq: h.pdq,
                quality: h.quality,
                dihedral: h.dihedral,
                sha256: digests.sha256.then_some(h.sha256),
                md5: digests.md5.then_some(h.md5),
                width: h.width,
                height: h.height,
                scale: None,
            })
        }
    })
    .await
}

/// Runs `hash` on the upload within the byte limit, the decode budget and the timeout, on the
/// blocking pool, one decode slot, then reads its provenance when `provenance` is set (see
/// [`hash_upload`] for the errors).
async fn bounded<T: Send + 'static>(
    state: &AppState,
    field: &'static str,
    bytes: Arc<Vec<u8>>,
    max_bytes: usize,
    provenance: bool,
    hash: impl FnOnce(&[u8], &staydown_media::DecodeLimits, &dyn Fn() -> bool) -> Result<T, staydown_media::MediaError>
    + Send
    + 'static,
) -> Result<Result<(T, Option<staydown_provenance::Provenance>), staydown_media::MediaError>, ApiError> {
    let limits = staydown_media::DecodeLimits { max_bytes, ..Default::default() };
    let timeout = state.settings().screen_decode_timeout;
    let deadline = tokio::time::Instant::now() + timeout;
    let cost = match staydown_media::decode_cost(&bytes, &limits) {
        Ok(cost) => cost,
        Err(e) => return Ok(Err(e)),
    };
    let budget = state.decode_budget();
    if cost > budget.total_bytes() {
        return Err(ApiError::field(
            field,
            "too_much_memory",
            format!(
                "decoding the image needs {} MiB, more than this server's decode memory ({} MiB)",
                cost.div_ceil(1 << 20),
                budget.total_bytes() >> 20
            ),
        ));
    }
    let reserved = tokio::time::timeout_at(deadline, budget.reserve(cost))
        .await
        .map_err(|_| ApiError::Busy("every image decoder is busy; please retry".into()))?
        .ok_or_else(|| ApiError::Internal("decode budget closed".into()))?;
    let _slot = tokio::time::timeout_at(deadline, state.decode_slots().acquire())
        .await
        .map_err(|_| ApiError::Busy("every image decoder is busy; please retry".into()))?
        .map_err(|_| ApiError::Unavailable)?;
    let stop = Arc::new(AtomicBool::new(false));
    let stop_flag = stop.clone();
    let provenance_limits = staydown_provenance::Limits { max_bytes, ..Default::default() };
    let work = tokio::task::spawn_blocking(move || {
        // Held until this closure returns, i.e. until the decode's buffers are dropped.
        let _reserved = reserved;
        let stopped = || stop_flag.load(Ordering::Relaxed);
        let hashes = hash(&bytes, &limits, &stopped)?;
        let provenance =
            if provenance && !stopped() { staydown_provenance::analyze(&bytes, &provenance_limits).ok() } else { None };
        Ok::<_, staydown_media::MediaError>((hashes, provenance))
    });
    match tokio::time::timeout_at(deadline, work).await {
        Ok(joined) => joined.map_err(|e| ApiError::Internal(format!("decoding task failed: {e}"))),
        Err(_) => {
            stop.store(true, Ordering::Relaxed);
            Err(ApiError::field(field, "too_slow", "the image took too long to decode"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn reservations_wait_for_room_and_refuse_what_never_fits() {
        let budget = DecodeBudget::new(4 << 20);
        assert!(budget.reserve(5 << 20).await.is_none(), "more than the whole budget");
        let first = budget.reserve(3 << 20).await.unwrap();
        assert_eq!(budget.available_bytes(), 1 << 20);
        // The second must wait until the first is dropped.
        let waiting = tokio::time::timeout(std::time::Duration::ZERO, budget.reserve(2 << 20)).await;
        assert!(waiting.is_err(), "reserved past the budget");
        drop(first);
        let second = budget.reserve(2 << 20).await.unwrap();
        assert_eq!(budget.available_bytes(), 2 << 20);
        drop(second);
        assert_eq!(budget.available_bytes(), budget.total_bytes());
    }
}
