//! Validation of the sections that become the server's settings (`[video]`, `[staff]`,
//! `[transparency_database]`, `[helpline]`): each turns its raw section into settings or an
//! error naming the key.

use std::path::PathBuf;

use anyhow::{Context, bail};
use staydown_domain::policy::parse_duration;

use super::*;

pub(super) fn video(v: &VideoConfig) -> anyhow::Result<staydown_server::VideoSettings> {
    let mut out = staydown_server::VideoSettings::default();
    if let Some(s) = v.seconds_per_hash {
        if !(s.is_finite() && (0.0..=60.0).contains(&s)) {
            bail!("video.seconds_per_hash: must be between 0 (every frame) and 60");
        }
        out.sampling.seconds_per_hash = s;
    }
    if let Some(d) = v.dedup_distance {
        if d > 64 {
            bail!("video.dedup_distance: must be at most 64 bits");
        }
        out.sampling.dedup_distance = Some(d);
    }
    if let Some(b) = v.max_bytes {
        if !(1024..=16 << 30).contains(&b) {
            bail!("video.max_bytes: must be between 1024 and 17179869184 bytes");
        }
        out.max_bytes = b;
        out.limits.max_bytes = b as u64;
    }
    if let Some(d) = &v.max_duration {
        out.limits.max_duration_s =
            parse_duration(d).map_err(|e| anyhow::anyhow!("video.max_duration: {e}"))?.as_secs_f64();
    }
    if let Some(d) = &v.decode_timeout {
        out.limits.max_wall = parse_duration(d).map_err(|e| anyhow::anyhow!("video.decode_timeout: {e}"))?;
    }
    out.decoder = match v.decoder.as_deref().unwrap_or("auto") {
        "ffmpeg" => staydown_server::VideoDecoder::Ffmpeg,
        "libav" if !cfg!(feature = "video-libav") => {
            bail!("video.decoder: \"libav\" needs staydown built with its video-libav feature (docs/video.md)")
        }
        "libav" | "auto" if cfg!(feature = "video-libav") => staydown_server::VideoDecoder::Child {
            program: std::env::current_exe().context("video.decoder: where is this binary?")?,
            args: vec!["video-child".into()],
        },
        "auto" => staydown_server::VideoDecoder::Ffmpeg,
        other => bail!("video.decoder: {other:?} is not one of \"auto\", \"libav\", \"ffmpeg\""),
    };
    Ok(out)
}

pub(super) fn staff(raw: &StaffConfig) -> anyhow::Result<staydown_server::staff::StaffSettings> {
    let d = staydown_server::staff::StaffSettings::default();
    let duration = |v: &Option<String>, default: std::time::Duration, key: &str| match v {
        None => Ok(default),
        Some(v) => parse_duration(v).map_err(|e| anyhow::anyhow!("staff.{key}: {e}")),
    };
    let settings = staydown_server::staff::StaffSettings {
        session_idle: duration(&raw.session_idle, d.session_idle, "session_idle")?,
        session_absolute: duration(&raw.session_absolute, d.session_absolute, "session_absolute")?,
        key_lifetime: duration(&raw.key_lifetime, d.key_lifetime, "key_lifetime")?,
        throttle: staydown_server::staff::throttle::ThrottleLimits {
            per_account: raw.failed_sign_ins_per_account.unwrap_or(d.throttle.per_account),
            per_address: raw.failed_sign_ins_per_address.unwrap_or(d.throttle.per_address),
            window: duration(&raw.failed_sign_in_window, d.throttle.window, "failed_sign_in_window")?,
        },
    };
    if settings.session_idle.is_zero() || settings.session_absolute < settings.session_idle {
        bail!("staff: need 0 < session_idle <= session_absolute");
    }
    if settings.throttle.per_account == 0 || settings.throttle.per_address == 0 || settings.throttle.window.is_zero() {
        bail!(
            "staff: failed_sign_ins_per_account, failed_sign_ins_per_address and failed_sign_in_window must be above 0"
        );
    }
    Ok(settings)
}

/// The validated `[transparency_database]` section.
#[derive(Debug, Clone)]
pub struct TransparencyDatabase {
    pub enabled: bool,
    pub endpoint: String,
    /// Present whenever `enabled` is.
    pub token: Option<Secret>,
    pub batch_size: usize,
}

impl TransparencyDatabase {
    /// The submitter's settings, when submission is on.
    pub fn settings(&self) -> Option<staydown_server::tdb::TdbSettings> {
        let token = self.token.as_ref().filter(|_| self.enabled)?;
        Some(staydown_server::tdb::TdbSettings {
            endpoint: self.endpoint.clone(),
            token: token.expose().to_owned(),
            batch_size: self.batch_size,
        })
    }
}

/// Production host of the EU DSA Transparency Database.
pub const TDB_PRODUCTION: &str = "https://transparency.dsa.ec.europa.eu";

pub(super) fn read_secret(key: &str, value: &Option<Secret>, file: &Option<PathBuf>) -> anyhow::Result<Option<Secret>> {
    Ok(match (value, file) {
        (Some(v), _) => Some(v.clone()),
        (None, Some(f)) => Some(Secret(
            std::fs::read_to_string(f)
                .with_context(|| format!("{key}_file: reading {}", f.display()))?
                .trim()
                .to_owned(),
        )),
        (None, None) => None,
    })
}

pub(super) fn transparency_database(raw: &TransparencyDatabaseConfig) -> anyhow::Result<TransparencyDatabase> {
    let enabled = raw.enabled.unwrap_or(false);
    let endpoint = raw.endpoint.clone().unwrap_or_else(|| TDB_PRODUCTION.into()).trim_end_matches('/').to_owned();
    if !(endpoint.starts_with("https://") || endpoint.starts_with("http://")) {
        bail!("transparency_database.endpoint: `{endpoint}` must be an https:// URL");
    }
    let batch_size = raw.batch_size.unwrap_or(100);
    if !(1..=100).contains(&batch_size) {
        bail!("transparency_database.batch_size: must be between 1 and 100 (the API takes at most 100 per call)");
    }
    let token = read_secret("transparency_database.token", &raw.token, &raw.token_file)?;
    if enabled && token.as_ref().is_none_or(|t| t.expose().is_empty()) {
        bail!(
            "transparency_database.token: required when enabled (or token_file; env STAYDOWN_TRANSPARENCY_DATABASE__TOKEN)"
        );
    }
    Ok(TransparencyDatabase { enabled, endpoint, token, batch_size })
}

pub(super) fn helpline(h: &HelplineConfig) -> anyhow::Result<staydown_server::helpline::HelplineSettings> {
    let d = staydown_server::helpline::HelplineSettings::default();
    let duration =
        |v: &Option<String>, default: std::time::Duration, key: &str| -> anyhow::Result<std::time::Duration> {
            match v {
                None => Ok(default),
                Some(v) => parse_duration(v).map_err(|e| anyhow::anyhow!("helpline.{key}: {e}")),
            }
        };
    let time = |std: std::time::Duration| time::Duration::seconds(std.as_secs() as i64);
    let std = |t: time::Duration| std::time::Duration::from_secs(t.whole_seconds().max(0) as u64);
    let answer_within = duration(&h.answer_within, std(d.answer_times.answer_within), "answer_within")?;
    let tf = duration(
        &h.trusted_flagger_answer_within,
        std(d.answer_times.trusted_flagger_answer_within),
        "trusted_flagger_answer_within",
    )?;
    let max_bytes = h.url_check_max_bytes.unwrap_or(d.url_check.max_bytes);
    if max_bytes == 0 {
        bail!("helpline.url_check_max_bytes: must be more than 0");
    }
    Ok(staydown_server::helpline::HelplineSettings {
        answer_times: staydown_domain::helpline::request::AnswerTimes {
            answer_within: time(answer_within),
            trusted_flagger_answer_within: time(tf),
        },
        sync_interval: duration(&h.sync_interval, d.sync_interval, "sync_interval")?,
        recheck_interval: duration(&h.recheck_interval, d.recheck_interval, "recheck_interval")?,
        recheck_gone_after: duration(&h.recheck_gone_after, d.recheck_gone_after, "recheck_gone_after")?,
        url_check: staydown_server::helpline::UrlCheckSettings {
            timeout: duration(&h.url_check_timeout, d.url_check.timeout, "url_check_timeout")?,
            max_bytes,
            danger_allow_loopback: h.danger_url_check_allow_loopback.unwrap_or(false),
            ..d.url_check.clone()
        },
        ..d
    })
}
