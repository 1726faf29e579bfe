//! `POST /api/v1/screen`: upload screening against the hash banks (stay-down), with provenance.
//!
//! Issue 5 and design.md §5: a platform sends each upload's image bytes (multipart field `image`)
//! or its hashes (JSON `pdq`, `pdq_quality`, `sha256`, `md5`) and gets `allow`, `hold` or `block`
//! with the matches. Exact SHA-256/MD5 matches and PDQ matches within each bank's threshold count;
//! PDQ hashes of quality below 50 are not matched and the answer says so (`pdq_skipped`). A hold
//! or block files an `automated_match` notice through ordinary intake (case grouping, queue,
//! deadline, audit) and stores the upload as a content item with its provenance signals (issue 6),
//! all committed before the answer; a flag match is recorded but allowed (DSA Art. 16(6), 17(3)(c)).
//!
//! Videos (issue 17, docs/video.md): multipart field `video` (bytes, bounded by
//! `Settings::video`: bytes, duration, resolution, frame rate, frames, decode time and memory, in
//! `staydown_vpdq::decode`) or JSON `vpdq` (the reference's vPDQ file text). The answer gives, per
//! matching video entry, both match percentages (`query_match_pct`: share of the upload's frames
//! found in the banked video; `banked_match_pct`: share of the banked video's frames found in the
//! upload) judged against the bank's two thresholds; frames are also matched against banked images
//! and images against banked videos' frames (`video_frame`).
//!
//! Image bytes are untrusted: the body is bounded by `screen_body_limit`, decoding by
//! `staydown_media`'s limits and provenance parsing by its own, both on the blocking pool, under a
//! timeout and a per-process cap on concurrent decodes.

use std::time::Instant;

use axum::Json;
use axum::extract::{FromRequest, Multipart, Request, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use staydown_domain::bank::{MatchSummary, Upload, Verdict, automated_match_notice, pdq_matchable};
use staydown_domain::notice::MediaHashes;
use staydown_domain::secret_digest;
use staydown_provenance::Provenance;
use staydown_store::{NewScreening, ScreeningCase, StoredNotice};

use crate::AppState;
use crate::auth::{Caller, Permission, generate_tracking_token};
use crate::json;
use crate::problem::ApiError;
use crate::screening::{Found, Query, VideoQuery};

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// Longest content id, URL or uploader reference accepted (characters).
const MAX_TEXT: usize = 2_000;

/// The JSON form: hashes the platform computed itself.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScreenRequest {
    pdq: Option<String>,
    pdq_quality: Option<u8>,
    /// The eight dihedral variants of `pdq` (as `pdqhash.compute_dihedral` or staydown's browser
    /// hasher gives them, original first), so that banks with `dihedral` on match rotations and
    /// mirror images of a hash-only query too.
    pdq_dihedral: Option<Vec<String>>,
    sha256: Option<String>,
    md5: Option<String>,
    /// A video's vPDQ in the reference's file format (issue 17).
    vpdq: Option<String>,
    content_id: Option<String>,
    url: Option<String>,
    uploader: Option<String>,
}

/// The upload's hashes as answered.
#[derive(Debug, Default, Serialize, utoipa::ToSchema)]
pub struct Hashes {
    #[serde(skip_serializing_if = "Option::is_none")]
    pdq: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pdq_quality: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sha256: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    md5: Option<String>,
    /// The video's vPDQ (reference file format), for a video upload.
    #[serde(skip_serializing_if = "Option::is_none")]
    vpdq: Option<String>,
}

/// One match on the wire.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MatchView {
    bank: String,
    entry_id: String,
    hash: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    distance: Option<u32>,
    /// The rotation or mirror image of the upload that matched (`rotate90`, `flip_x`, …); absent
    /// when the upload as given matched.
    #[serde(skip_serializing_if = "Option::is_none")]
    transform: Option<&'static str>,
    action: &'static str,
    /// Share of the upload's frames found in the banked entry, percent (video matches).
    #[serde(skip_serializing_if = "Option::is_none")]
    query_match_pct: Option<f64>,
    /// Share of the banked entry's frames found in the upload, percent (video matches).
    #[serde(skip_serializing_if = "Option::is_none")]
    banked_match_pct: Option<f64>,
    /// Frame number of the closest pair (upload's frame for a video upload, banked video's for an image).
    #[serde(skip_serializing_if = "Option::is_none")]
    frame: Option<u64>,
}

/// The answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ScreenResponse {
    verdict: &'static str,
    matches: Vec<MatchView>,
    hashes: Hashes,
    /// Why the PDQ hash was not matched (`low_quality`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pdq_skipped: Option<&'static str>,
    /// What the file says about its origin (issue 6); only when image bytes were sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    provenance: Option<Provenance>,
    /// What the container says (video bytes only): controlled tokens and numbers, no free text.
    #[serde(skip_serializing_if = "Option::is_none")]
    video: Option<VideoView>,
    /// The case a hold or block opened or joined.
    #[serde(skip_serializing_if = "Option::is_none")]
    case_id: Option<String>,
    /// The screening record (any match).
    #[serde(skip_serializing_if = "Option::is_none")]
    screening_id: Option<String>,
}

/// A video upload's summary on the wire.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = ScreenedVideo)]
pub struct VideoView {
    /// Frames hashed (before deduplication).
    frames_hashed: u64,
    /// Frames in the vPDQ.
    frames: usize,
    /// Frames of quality ≥ 50 (the ones matched).
    frames_matchable: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    info: Option<staydown_vpdq::decode::VideoInfo>,
}

/// What the request carried, after parsing.
#[derive(Debug, Default)]
struct Input {
    hashes: Hashes,
    dihedral: Option<[[u8; 32]; 8]>,
    content_id: Option<String>,
    url: Option<String>,
    uploader: Option<String>,
    provenance: Option<Provenance>,
    video: Option<VideoInput>,
    /// When the PDQ hashes came from a DCT-scaled decode (`screen_jpeg_decode = "scaled"`): the
    /// upload's bytes, decoded exactly before any PDQ hash is stored or answered.
    scaled: Option<Scaled>,
}

/// An image upload whose PDQ hashes are lookup-only (issue 16).
#[derive(Debug)]
struct Scaled {
    bytes: std::sync::Arc<Vec<u8>>,
    limit: usize,
}

#[derive(Debug)]
struct VideoInput {
    features: Vec<staydown_vpdq::Feature>,
    frames_hashed: u64,
    info: Option<staydown_vpdq::decode::VideoInfo>,
}

fn hex_field(
    errors: &mut staydown_domain::validation::FieldErrors,
    field: &str,
    value: Option<String>,
    digits: usize,
) -> Option<String> {
    let value = value.map(|v| v.trim().to_ascii_lowercase()).filter(|v| !v.is_empty())?;
    if value.len() != digits || !value.bytes().all(|b| b.is_ascii_hexdigit()) {
        errors.push(field, "invalid", format!("must be {digits} hexadecimal digits"));
        return None;
    }
    Some(value)
}

fn text_field(
    errors: &mut staydown_domain::validation::FieldErrors,
    field: &str,
    value: Option<String>,
) -> Option<String> {
    let value = value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())?;
    if value.chars().count() > MAX_TEXT {
        errors.push(field, "too_long", format!("must be at most {MAX_TEXT} characters"));
    }
    Some(value)
}

fn location_fields(
    errors: &mut staydown_domain::validation::FieldErrors,
    content_id: Option<String>,
    url: Option<String>,
    uploader: Option<String>,
) -> (Option<String>, Option<String>, Option<String>) {
    let content_id = text_field(errors, "content_id", content_id);
    let url = text_field(errors, "url", url);
    if let Some(u) = &url
        && !url::Url::parse(u).is_ok_and(|p| matches!(p.scheme(), "http" | "https") && p.host().is_some())
    {
        errors.push("url", "invalid", "must be a full http(s) URL");
    }
    (content_id, url, text_field(errors, "uploader", uploader))
}

fn from_json(r: ScreenRequest, max_vpdq_frames: usize) -> Result<Input, ApiError> {
    let mut errors = staydown_domain::validation::FieldErrors::default();
    let pdq = hex_field(&mut errors, "pdq", r.pdq, 64);
    let sha256 = hex_field(&mut errors, "sha256", r.sha256, 64);
    let md5 = hex_field(&mut errors, "md5", r.md5, 32);
    if r.pdq_quality.is_some_and(|q| q > 100) {
        errors.push("pdq_quality", "invalid", "must be between 0 and 100");
    }
    let mut video = None;
    if let Some(text) = r.vpdq.as_deref().filter(|t| !t.trim().is_empty()) {
        if pdq.is_some() {
            errors.push("vpdq", "conflict", "send either pdq (an image) or vpdq (a video), not both");
        }
        match staydown_vpdq::parse_vpdq_file(text, max_vpdq_frames) {
            Ok(features) => {
                video = Some(VideoInput { frames_hashed: features.len() as u64, features, info: None });
            }
            Err(e) => errors.push("vpdq", "invalid", format!("not a vPDQ file: {e}")),
        }
    }
    if pdq.is_none() && sha256.is_none() && md5.is_none() && video.is_none() && errors.0.is_empty() {
        errors.required(
            "pdq",
            "send the image or video (multipart field `image` or `video`) or at least one of pdq, vpdq, sha256, md5",
        );
    }
    let dihedral = r.pdq_dihedral.and_then(|variants| dihedral_field(&mut errors, pdq.as_deref(), &variants));
    let (content_id, url, uploader) = location_fields(&mut errors, r.content_id, r.url, r.uploader);
    errors.into_result(()).map_err(ApiError::Validation)?;
    let pdq_quality = pdq.as_ref().and(r.pdq_quality);
    let vpdq = video.as_ref().map(|v| staydown_vpdq::to_vpdq_file(&v.features));
    Ok(Input {
        hashes: Hashes { pdq, pdq_quality, sha256, md5, vpdq },
        dihedral,
        content_id,
        url,
        uploader,
        provenance: None,
        video,
        scaled: None,
    })
}

/// Eight PDQ hashes, the first equal to `pdq`.
fn dihedral_field(
    errors: &mut staydown_domain::validation::FieldErrors,
    pdq: Option<&str>,
    variants: &[String],
) -> Option<[[u8; 32]; 8]> {
    let field = "pdq_dihedral";
    if variants.len() != 8 {
        errors.push(field, "invalid", "must list the 8 dihedral variants, the original first");
        return None;
    }
    let mut out = [[0u8; 32]; 8];
    for (slot, v) in out.iter_mut().zip(variants) {
        if hex::decode_to_slice(v.trim(), slot).is_err() {
            errors.push(field, "invalid", "each variant must be 64 hexadecimal digits");
            return None;
        }
    }
    match pdq {
        Some(p) if variants[0].trim().eq_ignore_ascii_case(p) => Some(out),
        _ => {
            errors.push(field, "invalid", "the first variant must equal `pdq`");
            None
        }
    }
}

async fn from_multipart(state: &AppState, mut form: Multipart) -> Result<Input, ApiError> {
    let limit = state.settings().screen_body_limit;
    let read_error = |e: axum::extract::multipart::MultipartError| {
        if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::PayloadTooLarge { limit }
        } else {
            ApiError::field("body", "invalid", format!("unreadable multipart body: {}", e.body_text()))
        }
    };
    let mut image = None;
    let mut video = None;
    let (mut content_id, mut url, mut uploader) = (None, None, None);
    while let Some(mut field) = form.next_field().await.map_err(read_error)? {
        let name = field.name().unwrap_or_default().to_owned();
        match name.as_str() {
            "image" => {
                // Read in chunks against the image bound: the route admits bodies up to the video
                // bound, which must not let an image field grow past its own.
                let mut bytes = Vec::new();
                while let Some(chunk) = field.chunk().await.map_err(read_error)? {
                    if bytes.len() + chunk.len() > limit {
                        return Err(ApiError::PayloadTooLarge { limit });
                    }
                    bytes.extend_from_slice(&chunk);
                }
                image = Some(bytes);
            }
            "video" => {
                // Streamed to a private temporary file, counting bytes against the video bound.
                let max = state.settings().video.max_bytes;
                let mut file = tempfile::NamedTempFile::new()
                    .map_err(|e| ApiError::Internal(format!("cannot create a temporary file: {e}")))?;
                let mut written = 0usize;
                while let Some(chunk) = field.chunk().await.map_err(video_read_error(max))? {
                    written += chunk.len();
                    if written > max {
                        return Err(ApiError::PayloadTooLarge { limit: max });
                    }
                    std::io::Write::write_all(&mut file, &chunk)
                        .map_err(|e| ApiError::Internal(format!("cannot write a temporary file: {e}")))?;
                }
                video = Some((file, written));
            }
            "content_id" | "url" | "uploader" => {
                let text = field.text().await.map_err(read_error)?;
                match name.as_str() {
                    "content_id" => content_id = Some(text),
                    "url" => url = Some(text),
                    _ => uploader = Some(text),
                }
            }
            other => {
                return Err(ApiError::field(
                    other,
                    "unknown_field",
                    "unknown field; expected image or video, content_id, url, uploader",
                ));
            }
        }
    }
    let mut errors = staydown_domain::validation::FieldErrors::default();
    if image.is_some() && video.is_some() {
        errors.push("video", "conflict", "send one file: either `image` or `video`");
    }
    if image.as_ref().is_none_or(|b| b.is_empty()) && video.as_ref().is_none_or(|v| v.1 == 0) {
        errors.required("image", "send the image bytes in the multipart field `image` (or a video in `video`)");
    }
    let (content_id, url, uploader) = location_fields(&mut errors, content_id, url, uploader);
    errors.into_result(()).map_err(ApiError::Validation)?;
    if let Some((file, _)) = video {
        let video = hash_video(state, file).await?;
        let hashed = &video.0;
        return Ok(Input {
            hashes: Hashes {
                pdq: None,
                pdq_quality: None,
                sha256: Some(hex::encode(hashed.sha256)),
                md5: Some(hex::encode(hashed.md5)),
                vpdq: Some(staydown_vpdq::to_vpdq_file(&hashed.features)),
            },
            dihedral: None,
            content_id,
            url,
            uploader,
            provenance: video.1,
            video: Some(VideoInput {
                features: video.0.features,
                frames_hashed: video.0.frames_hashed,
                info: Some(video.0.info),
            }),
            scaled: None,
        });
    }
    // Bounded decoding off the async threads, within the decode memory budget, under a timeout
    // (crate::decode_budget, issue 15). The bytes as read are shared with the decode, not copied.
    let bytes = std::sync::Arc::new(image.unwrap_or_default());
    let decode = state.settings().screen_jpeg_decode;
    // A scaled lookup answers only what it used: the digests some bank holds (an exact one, and
    // whatever is stored, carries both: `screen_input`).
    let digests = match decode {
        crate::decode_budget::JpegDecode::Exact => staydown_media::Digests::ALL,
        crate::decode_budget::JpegDecode::Scaled => state.banks().digests_held(),
    };
    let (hashes, provenance) =
        crate::decode_budget::hash_upload_for_lookup(state, "image", bytes.clone(), limit, decode, digests)
            .await?
            .map_err(|e| crate::decode_budget::refusal("image", &e))?;
    Ok(Input {
        hashes: Hashes {
            pdq: Some(hashes.pdq.to_hex()),
            pdq_quality: Some(hashes.quality),
            sha256: hashes.sha256.map(hex::encode),
            md5: hashes.md5.map(hex::encode),
            vpdq: None,
        },
        dihedral: Some(hashes.dihedral.to_array().map(|h| h.to_bytes())),
        content_id,
        url,
        uploader,
        provenance,
        video: None,
        scaled: hashes.scale.map(|_| Scaled { bytes, limit }),
    })
}

fn video_read_error(limit: usize) -> impl Fn(axum::extract::multipart::MultipartError) -> ApiError {
    move |e| {
        if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::PayloadTooLarge { limit }
        } else {
            ApiError::field("body", "invalid", format!("unreadable multipart body: {}", e.body_text()))
        }
    }
}

/// Decodes and hashes a video off the async threads, one decode slot, under the video bounds;
/// also reads provenance (C2PA in MP4) when the file is small enough for the provenance reader.
async fn hash_video(
    state: &AppState,
    file: tempfile::NamedTempFile,
) -> Result<(staydown_vpdq::decode::HashedVideo, Option<Provenance>), ApiError> {
    let _slot = state.decode_slots().acquire().await.map_err(|_| ApiError::Unavailable)?;
    let settings = state.settings().video.clone();
    let image_limit = state.settings().screen_body_limit;
    let work = tokio::task::spawn_blocking(move || {
        let tools = staydown_vpdq::decode::Tools::default();
        let hashed = match &settings.decoder {
            crate::VideoDecoder::Ffmpeg => {
                staydown_vpdq::decode::hash_file(file.path(), &settings.sampling, &settings.limits, &tools)
            }
            crate::VideoDecoder::Child { program, args } => staydown_vpdq::child::hash_file(
                program,
                args,
                file.path(),
                &settings.sampling,
                &settings.limits,
                &tools,
            ),
        };
        let provenance = match std::fs::metadata(file.path()) {
            Ok(m) if m.len() as usize <= image_limit => std::fs::read(file.path()).ok().and_then(|bytes| {
                let limits = staydown_provenance::Limits { max_bytes: image_limit, ..Default::default() };
                staydown_provenance::analyze(&bytes, &limits).ok()
            }),
            _ => None,
        };
        (hashed, provenance)
    });
    // The decoder kills its own child at `limits.max_wall`; this outer bound is a safety net.
    let outer = state.settings().video.limits.max_wall + std::time::Duration::from_secs(5);
    let (hashed, provenance) = tokio::time::timeout(outer, work)
        .await
        .map_err(|_| ApiError::field("video", "too_slow", "the video took too long to decode"))?
        .map_err(|e| ApiError::Internal(format!("decoding task failed: {e}")))?;
    let hashed = hashed.map_err(|e| video_error(&e))?;
    Ok((hashed, provenance))
}

/// Maps a decoding refusal to a field error with a stable code.
fn video_error(e: &staydown_vpdq::decode::VideoError) -> ApiError {
    use staydown_vpdq::decode::VideoError as E;
    let code = match e {
        E::TooLarge { max, .. } => {
            return ApiError::PayloadTooLarge { limit: usize::try_from(*max).unwrap_or(usize::MAX) };
        }
        E::UnsupportedContainer => "unsupported_format",
        E::NoVideoStream => "no_video_stream",
        E::TooManyPixels { .. } => "too_many_pixels",
        E::BadFrameRate { .. } => "bad_frame_rate",
        E::TooLong { .. } => "too_long",
        E::TimedOut(_) => "too_slow",
        E::Tool { .. } | E::Io(_) => return ApiError::Internal(format!("video decoder unavailable: {e}")),
        _ => "undecodable",
    };
    ApiError::field("video", code, e.to_string())
}

fn decode<const N: usize>(hex_text: Option<&str>) -> Option<[u8; N]> {
    let mut out = [0u8; N];
    hex::decode_to_slice(hex_text?, &mut out).ok()?;
    Some(out)
}

/// Screens one upload.
pub async fn screen(State(state): State<AppState>, caller: Caller, req: Request) -> Result<Response, ApiError> {
    caller.require(Permission::Screen)?;
    let started = Instant::now();
    let content_type = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    let media_type = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    let input = if media_type == "multipart/form-data" {
        let form = Multipart::from_request(req, &state)
            .await
            .map_err(|e| ApiError::field("body", "invalid", e.body_text()))?;
        from_multipart(&state, form).await?
    } else if media_type == "application/json" || media_type.ends_with("+json") {
        // A JSON body may carry a vPDQ (issue 17), bounded by its frame limit.
        let limit = state.settings().body_limit.max(state.settings().video.json_limit());
        let bytes =
            axum::body::to_bytes(req.into_body(), limit).await.map_err(|_| ApiError::PayloadTooLarge { limit })?;
        from_json(json::parse::<ScreenRequest>(&bytes)?, state.settings().video.max_vpdq_frames)?
    } else {
        return Err(ApiError::UnsupportedMediaType);
    };

    let body = screen_input(&state, &caller, input).await?;
    crate::metrics::record_screening(started.elapsed().as_secs_f64(), body.verdict);
    Ok(Json(body).into_response())
}

/// Screens an upload given by its hashes, as `POST /api/v1/screen` with a JSON body does: the path
/// for callers inside the process (the demo seeder).
pub async fn screen_hashes(
    state: &AppState,
    caller: &Caller,
    request: ScreenRequest,
) -> Result<ScreenResponse, ApiError> {
    caller.require(Permission::Screen)?;
    let input = from_json(request, state.settings().video.max_vpdq_frames)?;
    screen_input(state, caller, input).await
}

impl ScreenResponse {
    /// The case a hold or block opened or joined.
    pub fn case_id(&self) -> Option<&str> {
        self.case_id.as_deref()
    }
}

async fn screen_input(state: &AppState, caller: &Caller, mut input: Input) -> Result<ScreenResponse, ApiError> {
    if !state.banks().is_loaded() {
        state.banks().catch_up(state.store()).await?;
    }
    let matchable = pdq_matchable(input.hashes.pdq_quality);
    let pdq_skipped = (input.hashes.pdq.is_some() && !matchable).then_some("low_quality");
    let found = match &input.video {
        Some(video) => state.banks().search_video(&VideoQuery {
            frames: video
                .features
                .iter()
                .filter(|f| pdq_matchable(Some(f.quality)))
                .map(|f| (f.frame_number, f.hash.to_bytes()))
                .collect(),
            sha256: decode::<32>(input.hashes.sha256.as_deref()),
            md5: decode::<16>(input.hashes.md5.as_deref()),
        }),
        None => state.banks().search(&Query {
            pdq: if matchable { decode::<32>(input.hashes.pdq.as_deref()) } else { None },
            pdq_dihedral: if matchable { input.dihedral } else { None },
            sha256: decode::<32>(input.hashes.sha256.as_deref()),
            md5: decode::<16>(input.hashes.md5.as_deref()),
        }),
    };
    let verdict = Verdict::of(found.iter().map(|f| f.action));
    let matches: Vec<MatchView> = found
        .iter()
        .map(|f| MatchView {
            bank: f.bank.clone(),
            entry_id: f.entry_id.clone(),
            hash: f.hash.as_str(),
            distance: f.distance,
            transform: f.transform,
            action: f.action.as_str(),
            query_match_pct: f.video.map(|v| round2(v.query_pct())),
            banked_match_pct: f.video.map(|v| round2(v.banked_pct())),
            frame: f.video.and_then(|v| v.frame),
        })
        .collect();
    let video = input.video.as_ref().map(|v| VideoView {
        frames_hashed: v.frames_hashed,
        frames: v.features.len(),
        frames_matchable: v.features.iter().filter(|f| pdq_matchable(Some(f.quality))).count(),
        info: v.info.clone(),
    });

    if let Some(scaled) = input.scaled.take() {
        // The lookup used a DCT-scaled decode. What is stored (the remembered content, the
        // screening record, the notice and content item) and what is answered is the exact hash
        // and both digests: decode exactly when anything will be stored, otherwise answer without
        // a PDQ hash (and with only the digests the lookup computed).
        if !found.is_empty() || input.content_id.is_some() {
            let (exact, _) = crate::decode_budget::hash_upload(state, "image", scaled.bytes, scaled.limit, false)
                .await?
                .map_err(|e| crate::decode_budget::refusal("image", &e))?;
            input.hashes.pdq = Some(exact.pdq.to_hex());
            input.hashes.pdq_quality = Some(exact.quality);
            input.hashes.sha256 = Some(exact.sha256_hex());
            input.hashes.md5 = Some(exact.md5_hex());
        } else {
            input.hashes.pdq = None;
            input.hashes.pdq_quality = None;
        }
    }
    let (mut case_id, mut screening_id) = (None, None);
    if found.is_empty()
        && let Some(content_id) = input.content_id.as_deref()
    {
        // Kept so that a later notice naming this content id can bank what was uploaded (issue 12).
        let hashes = staydown_store::ContentHashes {
            sha256: input.hashes.sha256.clone(),
            md5: input.hashes.md5.clone(),
            pdq: input.hashes.pdq.clone(),
            pdq_quality: input.hashes.pdq_quality,
        };
        state.store().remember_screened_content(content_id, &hashes, state.now()).await?;
    }
    if !found.is_empty() {
        let (id, case) = record(state, caller, &input, &found, verdict, pdq_skipped, &matches).await?;
        case_id = case;
        screening_id = Some(id);
    }
    Ok(ScreenResponse {
        verdict: verdict.as_str(),
        matches,
        hashes: input.hashes,
        pdq_skipped,
        provenance: input.provenance,
        video,
        case_id,
        screening_id,
    })
}

/// Writes the screening record, and for hold/block the notice and content item, in one transaction.
async fn record(
    state: &AppState,
    caller: &Caller,
    input: &Input,
    found: &[Found],
    verdict: Verdict,
    pdq_skipped: Option<&'static str>,
    matches: &[MatchView],
) -> Result<(String, Option<String>), ApiError> {
    let now = state.now();
    let id = uuid::Uuid::now_v7().to_string();
    let case = if verdict == Verdict::Allow {
        None
    } else {
        let upload = Upload {
            content_id: input.content_id.clone(),
            url: input.url.clone(),
            hashes: Some(MediaHashes {
                pdq: input.hashes.pdq.clone(),
                pdq_quality: input.hashes.pdq_quality,
                sha256: input.hashes.sha256.clone(),
                md5: input.hashes.md5.clone(),
                video: None,
            }),
        };
        let summaries: Vec<MatchSummary> = found
            .iter()
            .map(|f| MatchSummary {
                bank: f.bank.clone(),
                entry_id: f.entry_id.clone(),
                hash: f.hash.as_str(),
                distance: f.distance,
                transform: f.transform,
                action: f.action,
            })
            .collect();
        let submitted_by = caller.key.as_ref().map_or("platform", |k| k.name.as_str());
        let notice = automated_match_notice(&upload, &summaries, verdict, submitted_by);
        let assessment = state.policy().assess(&notice, now);
        let meta = StoredNotice {
            id: uuid::Uuid::now_v7().to_string(),
            new_case_id: uuid::Uuid::now_v7().to_string(),
            received_at: now,
            assessment,
            // Nobody follows an automated notice by token; a random one keeps the column's meaning.
            tracking_digest: secret_digest(&generate_tracking_token()),
            api_key_id: caller.key.as_ref().map(|k| k.id.clone()),
            actor: caller.actor(),
            // A platform's own screening is not a notifier whose notices could be unfounded (Art. 23).
            notifier_ref: None,
            confirmation: None,
        };
        let keys = found.iter().map(|f| format!("bank_entry:{}", f.entry_id)).collect();
        Some(ScreeningCase { notice, meta, keys })
    };
    let provenance = input.provenance.as_ref();
    let screening = NewScreening {
        id: id.clone(),
        at: now,
        api_key_id: caller.key.as_ref().map(|k| k.id.clone()),
        actor: caller.actor(),
        verdict,
        matches: serde_json::to_value(matches).unwrap_or_default(),
        pdq: input.hashes.pdq.clone(),
        pdq_quality: input.hashes.pdq_quality,
        sha256: input.hashes.sha256.clone(),
        md5: input.hashes.md5.clone(),
        pdq_skipped: pdq_skipped.map(str::to_owned),
        content_id: input.content_id.clone(),
        url: input.url.clone(),
        uploader_ref: input.uploader.clone(),
        provenance: provenance.and_then(|p| serde_json::to_value(p).ok()),
        ai_generated: provenance.map(|p| verdict_str(p.ai_generated).to_owned()),
        generator: provenance.and_then(|p| p.generator.clone()),
        edited: provenance.map(|p| verdict_str(p.edited).to_owned()),
        case,
        video: input.video.as_ref().map(|v| staydown_store::CaseVideo {
            sha256: input.hashes.sha256.clone(),
            md5: input.hashes.md5.clone(),
            frame_count: v.features.len() as u32,
            vpdq: staydown_vpdq::to_vpdq_file(&v.features),
        }),
    };
    let receipt = state.store().record_screening(&screening).await?;
    Ok((id, receipt.case_id))
}

fn verdict_str(v: staydown_provenance::Verdict) -> &'static str {
    match v {
        staydown_provenance::Verdict::Yes => "yes",
        staydown_provenance::Verdict::No => "no",
        staydown_provenance::Verdict::Unknown => "unknown",
    }
}
