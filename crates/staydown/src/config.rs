//! Configuration: built-in defaults < TOML file < `STAYDOWN_*` environment < command-line flags.
//!
//! Two stages: the raw file shape (`FileConfig`, unknown keys rejected) is merged and then
//! validated into `Config`, with no ambiguity left; errors name the key. Secrets are never
//! printed (`Secret`'s `Debug` is redacted, `config show` masks them).

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};
use staydown_domain::misuse::MisusePolicy;
use staydown_domain::policy::{Policy, Tier, parse_duration};

/// The documented example, which is also the reference for every default.
pub const EXAMPLE: &str = include_str!("../../../staydown.example.toml");

#[derive(Debug, Default, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub listen: Option<String>,
    pub database: Option<String>,
    pub public_url: Option<String>,
    pub body_limit: Option<usize>,
    pub public_notices_per_minute: Option<u32>,
    pub public_notice_burst: Option<u32>,
    pub screen_body_limit: Option<usize>,
    /// Memory all image decodes together may hold, in bytes (issue 15).
    pub screen_decode_memory: Option<u64>,
    /// Longest one image decode may take, e.g. "10s".
    pub screen_decode_timeout: Option<String>,
    pub bank_refresh_interval: Option<String>,
    /// Reverse proxies (addresses or CIDR blocks) whose Forwarded / X-Forwarded-For are believed.
    pub trusted_proxies: Option<Vec<String>>,
    #[serde(default)]
    pub metrics: MetricsConfig,
    #[serde(default)]
    pub policy: PolicyConfig,
    #[serde(default)]
    pub email: EmailConfig,
    #[serde(default)]
    pub decisions: DecisionsConfig,
    #[serde(default)]
    pub webhook: WebhookConfig,
    #[serde(default)]
    pub misuse: MisuseConfig,
    #[serde(default)]
    pub transparency_database: TransparencyDatabaseConfig,
    #[serde(default)]
    pub staff: StaffConfig,
    #[serde(default)]
    pub helpline: HelplineConfig,
    #[serde(default)]
    pub public: PublicConfig,
    #[serde(default)]
    pub vault: VaultConfig,
    #[serde(default)]
    pub video: VideoConfig,
}

/// `[metrics]`: who may scrape `/metrics`.
#[derive(Debug, Default, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsConfig {
    /// Serve `/metrics` on this separate address only (e.g. `127.0.0.1:9464`).
    pub listen: Option<String>,
    /// Or require `Authorization: Bearer <token>` on the main address.
    pub token: Option<Secret>,
    pub token_file: Option<PathBuf>,
}

/// `[staff]`: sign-in of staff accounts (sessions, key lifetime, throttling of password guesses).
#[derive(Debug, Default, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct StaffConfig {
    pub session_idle: Option<String>,
    pub session_absolute: Option<String>,
    pub key_lifetime: Option<String>,
    pub failed_sign_ins_per_account: Option<u32>,
    pub failed_sign_ins_per_address: Option<u32>,
    pub failed_sign_in_window: Option<String>,
    pub law_enforcement_contact: Option<String>,
}

/// `[helpline]`: helpline mode's answer times, sync and URL checks (issue 13).
#[derive(Debug, Default, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct HelplineConfig {
    pub answer_within: Option<String>,
    pub trusted_flagger_answer_within: Option<String>,
    pub sync_interval: Option<String>,
    pub recheck_interval: Option<String>,
    pub recheck_gone_after: Option<String>,
    pub url_check_timeout: Option<String>,
    pub url_check_max_bytes: Option<usize>,
    pub danger_url_check_allow_loopback: Option<bool>,
}

/// `[public]`: what the public pages say from configuration (privacy contact, retention, the
/// support list of `/help` and the tracking page) and the key that signs their CSRF tokens.
#[derive(Debug, Default, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PublicConfig {
    pub privacy_contact: Option<String>,
    pub retention_en: Option<String>,
    pub retention_nl: Option<String>,
    /// `[[public.support]]` entries: name, phone, url, en, nl. Replaces the built-in Dutch list.
    pub support: Option<Vec<staydown_server::pages::info::SupportContact>>,
    /// File with 64 hex digits (`openssl rand -hex 32`): one CSRF key for every process behind a
    /// load balancer; without it each process makes its own (forms then fail across processes).
    pub csrf_key_file: Option<PathBuf>,
    /// The time zone pages show times in (IANA name). Default `Europe/Amsterdam`.
    pub time_zone: Option<String>,
}

/// `[vault]`: the keys that encrypt attached content and evidence at rest (staydown-vault).
#[derive(Debug, Default, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct VaultConfig {
    /// Key file: one `ID BASE64` line per key, the first seals (`staydown vault keygen`).
    pub key_file: Option<PathBuf>,
    /// Default retention of stored blobs, e.g. `365d`; none keeps them until erased.
    pub retention: Option<String>,
}

/// `[video]`: video screening (issue 17, docs/video.md).
#[derive(Debug, Default, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct VideoConfig {
    pub seconds_per_hash: Option<f64>,
    pub dedup_distance: Option<u32>,
    pub max_bytes: Option<usize>,
    pub max_duration: Option<String>,
    pub decode_timeout: Option<String>,
}

#[derive(Debug, Default, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DecisionsConfig {
    pub platform_name: Option<String>,
    pub out_of_court_settlement: Option<String>,
    pub court: Option<String>,
    pub out_of_court_settlement_nl: Option<String>,
    pub court_nl: Option<String>,
}

#[derive(Debug, Default, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    pub url: Option<String>,
    pub secret: Option<Secret>,
    pub secret_file: Option<PathBuf>,
}

#[derive(Debug, Default, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MisuseConfig {
    pub window: Option<String>,
    pub warn_after: Option<u32>,
    pub suspend_after: Option<u32>,
    pub min_share_percent: Option<u32>,
    pub suspension: Option<String>,
}

/// `[transparency_database]`: submission of statements of reasons to the EU database (Art. 24(5)).
#[derive(Debug, Default, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TransparencyDatabaseConfig {
    pub enabled: Option<bool>,
    pub endpoint: Option<String>,
    pub token: Option<Secret>,
    pub token_file: Option<PathBuf>,
    pub batch_size: Option<usize>,
}

#[derive(Debug, Default, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyConfig {
    pub urgent_deadline: Option<String>,
    pub trusted_flagger_deadline: Option<String>,
    pub automated_match_deadline: Option<String>,
    pub standard_deadline: Option<String>,
}

#[derive(Debug, Default, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct EmailConfig {
    pub mode: Option<String>,
    pub folder: Option<PathBuf>,
    pub smtp_host: Option<String>,
    pub smtp_port: Option<u16>,
    pub from: Option<String>,
    pub username: Option<String>,
    pub password: Option<Secret>,
    pub password_file: Option<PathBuf>,
    /// `none`, `starttls` or `implicit`; default by port: 465 implicit, 587 starttls, else none.
    pub tls: Option<String>,
    /// PEM file of a private CA that signs the SMTP server's certificate (beside the Mozilla roots).
    pub ca_file: Option<PathBuf>,
}

/// A secret string whose `Debug` and `Serialize` never show it.
#[derive(Clone, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("\"********\"")
    }
}

impl Serialize for Secret {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str("********")
    }
}

/// How email leaves.
#[derive(Debug, Clone)]
pub enum EmailMode {
    None,
    Folder(PathBuf),
    Smtp {
        host: String,
        port: u16,
        from: String,
        credentials: Option<(String, Secret)>,
        tls: staydown_server::mail::SmtpTls,
        ca_pem: Option<Vec<u8>>,
    },
}

/// The validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: String,
    pub database: String,
    pub public_url: String,
    pub body_limit: usize,
    pub public_notices_per_minute: u32,
    pub public_notice_burst: u32,
    pub screen_body_limit: usize,
    pub screen_decode_memory: u64,
    pub screen_decode_timeout: std::time::Duration,
    pub bank_refresh_interval: std::time::Duration,
    pub policy: Policy,
    pub email: EmailMode,
    pub platform_name: String,
    pub out_of_court_settlement: String,
    pub court: String,
    pub out_of_court_settlement_nl: String,
    pub court_nl: String,
    pub webhook: Option<(String, Secret)>,
    pub misuse: MisusePolicy,
    pub transparency_database: TransparencyDatabase,
    /// Reverse proxies whose forwarded-for headers name the client.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Separate listen address for `/metrics`.
    pub metrics_listen: Option<String>,
    /// Bearer token for `/metrics` on the main address.
    pub metrics_token: Option<Secret>,
    pub staff: staydown_server::staff::StaffSettings,
    pub law_enforcement_contact: Option<String>,
    pub helpline: staydown_server::helpline::HelplineSettings,
    /// What the public pages show from configuration.
    pub public: staydown_server::pages::info::PublicInfo,
    /// The CSRF signing key from `[public] csrf_key_file`.
    pub csrf_key: Option<[u8; 32]>,
    /// Encryption at rest; `None` when no key file is configured (storing content is then refused).
    pub vault: Option<staydown_vault::Keyring>,
    /// Default retention of stored blobs.
    pub blob_retention: Option<std::time::Duration>,
    pub video: staydown_server::VideoSettings,
}

fn video(v: &VideoConfig) -> anyhow::Result<staydown_server::VideoSettings> {
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
    Ok(out)
}

fn staff(raw: &StaffConfig) -> anyhow::Result<staydown_server::staff::StaffSettings> {
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

fn read_secret(key: &str, value: &Option<Secret>, file: &Option<PathBuf>) -> anyhow::Result<Option<Secret>> {
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

fn transparency_database(raw: &TransparencyDatabaseConfig) -> anyhow::Result<TransparencyDatabase> {
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

/// Flags that override everything else.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub config: Option<PathBuf>,
    pub listen: Option<String>,
    pub database: Option<String>,
}

/// Loads and validates the configuration.
pub fn load(overrides: &Overrides) -> anyhow::Result<(Config, FileConfig)> {
    let env: Vec<(String, String)> = std::env::vars().filter(|(k, _)| k.starts_with("STAYDOWN_")).collect();
    let path = overrides
        .config
        .clone()
        .or_else(|| env.iter().find(|(k, _)| k == "STAYDOWN_CONFIG").map(|(_, v)| PathBuf::from(v)))
        .or_else(|| Path::new("staydown.toml").exists().then(|| PathBuf::from("staydown.toml")));
    let text = match &path {
        Some(p) => std::fs::read_to_string(p).with_context(|| format!("reading config file {}", p.display()))?,
        None => String::new(),
    };
    let raw = merge(&text, &env, overrides).with_context(|| match &path {
        Some(p) => format!("in config file {} or STAYDOWN_* environment", p.display()),
        None => "in STAYDOWN_* environment".to_owned(),
    })?;
    let config = validate(&raw)?;
    Ok((config, raw))
}

/// Merges file text, environment variables and flags into one raw config.
pub fn merge(file_text: &str, env: &[(String, String)], overrides: &Overrides) -> anyhow::Result<FileConfig> {
    let mut table: toml::Table = toml::from_str(file_text).context("the file is not valid TOML")?;
    for (key, value) in env {
        let Some(path) = key.strip_prefix("STAYDOWN_") else { continue };
        // Variables of the tools and tests around the server, not configuration keys.
        if path == "CONFIG"
            || path == "LOG"
            || path.starts_with("TEST_")
            || path.starts_with("REQUIRE_")
            || matches!(path, "PG_BIN" | "ACCOUNT_PASSWORD" | "SCREENSHOTS" | "CHROMIUM" | "CHROMEDRIVER")
            || matches!(path, "FFMPEG" | "FFPROBE")
        {
            continue;
        }
        let parts: Vec<String> = path.split("__").map(str::to_ascii_lowercase).collect();
        // `65536` is a number, `true` a boolean, anything else a string.
        let parsed = toml::from_str::<toml::Table>(&format!("v = {value}"))
            .ok()
            .and_then(|mut t| t.remove("v"))
            .filter(|v| !v.is_table() && !v.is_array())
            .unwrap_or_else(|| toml::Value::String(value.clone()));
        match parts.as_slice() {
            [k] => {
                table.insert(k.clone(), parsed);
            }
            [section, k] => {
                let entry = table.entry(section.clone()).or_insert_with(|| toml::Value::Table(toml::Table::new()));
                let toml::Value::Table(t) = entry else { bail!("STAYDOWN_{path}: `{section}` is not a section") };
                t.insert(k.clone(), parsed);
            }
            _ => bail!("STAYDOWN_{path}: use STAYDOWN_KEY or STAYDOWN_SECTION__KEY"),
        }
    }
    let mut raw: FileConfig = toml::Value::Table(table).try_into().context("unknown or mistyped key")?;
    if let Some(l) = &overrides.listen {
        raw.listen = Some(l.clone());
    }
    if let Some(d) = &overrides.database {
        raw.database = Some(d.clone());
    }
    Ok(raw)
}

fn tier(value: &Option<String>, default: Tier, key: &str) -> anyhow::Result<Tier> {
    Ok(match value {
        None => default,
        Some(v) => Tier {
            priority: default.priority,
            deadline: parse_duration(v).map_err(|e| anyhow::anyhow!("policy.{key}: {e}"))?,
        },
    })
}

/// Validates a merged raw config.
pub fn validate(raw: &FileConfig) -> anyhow::Result<Config> {
    let defaults = Policy::default();
    let p = &raw.policy;
    let policy = Policy {
        urgent: tier(&p.urgent_deadline, defaults.urgent, "urgent_deadline")?,
        trusted_flagger: tier(&p.trusted_flagger_deadline, defaults.trusted_flagger, "trusted_flagger_deadline")?,
        automated_match: tier(&p.automated_match_deadline, defaults.automated_match, "automated_match_deadline")?,
        standard: tier(&p.standard_deadline, defaults.standard, "standard_deadline")?,
    };
    let listen = raw.listen.clone().unwrap_or_else(|| "127.0.0.1:8080".into());
    listen
        .parse::<std::net::SocketAddr>()
        .with_context(|| format!("listen: `{listen}` is not an address like 127.0.0.1:8080"))?;
    let database = raw.database.clone().unwrap_or_else(|| "sqlite://data/staydown.db".into());
    if !(database.starts_with("sqlite:")
        || database.starts_with("postgres://")
        || database.starts_with("postgresql://"))
    {
        bail!("database: `{database}` must start with sqlite:// or postgres://");
    }
    let public_url =
        raw.public_url.clone().unwrap_or_else(|| format!("http://{listen}")).trim_end_matches('/').to_owned();
    let body_limit = raw.body_limit.unwrap_or(64 * 1024);
    if !(1024..=16 * 1024 * 1024).contains(&body_limit) {
        bail!("body_limit: must be between 1024 and 16777216 bytes");
    }
    let public_notices_per_minute = raw.public_notices_per_minute.unwrap_or(30);
    let public_notice_burst = raw.public_notice_burst.unwrap_or(10);
    if public_notices_per_minute == 0 || public_notice_burst == 0 {
        bail!("public_notices_per_minute and public_notice_burst must be at least 1");
    }
    let screen_body_limit = raw.screen_body_limit.unwrap_or(20 * 1024 * 1024);
    if !(1024..=1024 * 1024 * 1024).contains(&screen_body_limit) {
        bail!("screen_body_limit: must be between 1024 and 1073741824 bytes");
    }
    let screen_decode_memory = raw.screen_decode_memory.unwrap_or(1 << 30);
    if !((16 << 20)..=(1 << 40)).contains(&screen_decode_memory) {
        bail!("screen_decode_memory: must be between 16777216 (16 MiB) and 1099511627776 bytes");
    }
    let screen_decode_timeout = parse_duration(raw.screen_decode_timeout.as_deref().unwrap_or("10s"))
        .map_err(|e| anyhow::anyhow!("screen_decode_timeout: {e}"))?;
    let bank_refresh_interval = parse_duration(raw.bank_refresh_interval.as_deref().unwrap_or("30s"))
        .map_err(|e| anyhow::anyhow!("bank_refresh_interval: {e}"))?;
    let e = &raw.email;
    let email = match e.mode.as_deref().unwrap_or("none") {
        "none" => EmailMode::None,
        "folder" => EmailMode::Folder(e.folder.clone().unwrap_or_else(|| PathBuf::from("data/mail"))),
        "smtp" => {
            let password = match (&e.password, &e.password_file) {
                (Some(p), _) => Some(p.clone()),
                (None, Some(f)) => Some(Secret(
                    std::fs::read_to_string(f)
                        .with_context(|| format!("email.password_file: reading {}", f.display()))?
                        .trim()
                        .to_owned(),
                )),
                (None, None) => None,
            };
            let credentials = match (&e.username, password) {
                (Some(u), Some(p)) => Some((u.clone(), p)),
                (None, None) => None,
                _ => bail!("email: give both username and password (or password_file), or neither"),
            };
            let port = e.smtp_port.unwrap_or(25);
            let tls = match e.tls.as_deref() {
                None if port == 465 => staydown_server::mail::SmtpTls::Implicit,
                None if port == 587 => staydown_server::mail::SmtpTls::StartTls,
                None | Some("none") => staydown_server::mail::SmtpTls::None,
                Some("starttls") => staydown_server::mail::SmtpTls::StartTls,
                Some("implicit") => staydown_server::mail::SmtpTls::Implicit,
                Some(other) => bail!("email.tls: `{other}` must be none, starttls or implicit"),
            };
            let ca_pem = match &e.ca_file {
                None => None,
                Some(f) => Some(std::fs::read(f).with_context(|| format!("email.ca_file: reading {}", f.display()))?),
            };
            EmailMode::Smtp {
                host: e.smtp_host.clone().unwrap_or_else(|| "localhost".into()),
                port,
                from: e.from.clone().unwrap_or_else(|| "staydown <noreply@localhost>".into()),
                credentials,
                tls,
                ca_pem,
            }
        }
        other => bail!("email.mode: `{other}` must be none, folder or smtp"),
    };
    let server_defaults = staydown_server::Settings::default();
    let d = &raw.decisions;
    let w = &raw.webhook;
    let secret = read_secret("webhook.secret", &w.secret, &w.secret_file)?;
    let webhook = match (&w.url, secret) {
        (None, None) => None,
        (Some(url), Some(secret)) => {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                bail!("webhook.url: `{url}` must be an http(s) URL");
            }
            if secret.expose().len() < 16 {
                bail!("webhook.secret: use at least 16 characters (e.g. `openssl rand -hex 32`)");
            }
            Some((url.clone(), secret))
        }
        _ => bail!("webhook: give both url and secret (or secret_file), or neither"),
    };
    let m = &raw.misuse;
    let misuse_defaults = MisusePolicy::default();
    let duration =
        |v: &Option<String>, default: std::time::Duration, key: &str| -> anyhow::Result<std::time::Duration> {
            match v {
                None => Ok(default),
                Some(v) => parse_duration(v).map_err(|e| anyhow::anyhow!("misuse.{key}: {e}")),
            }
        };
    let misuse = MisusePolicy {
        window: duration(&m.window, misuse_defaults.window, "window")?,
        warn_after: m.warn_after.unwrap_or(misuse_defaults.warn_after),
        suspend_after: m.suspend_after.unwrap_or(misuse_defaults.suspend_after),
        min_share_percent: m.min_share_percent.unwrap_or(misuse_defaults.min_share_percent),
        suspension: duration(&m.suspension, misuse_defaults.suspension, "suspension")?,
    };
    if misuse.warn_after == 0 || misuse.suspend_after < misuse.warn_after || misuse.min_share_percent > 100 {
        bail!("misuse: need 1 <= warn_after <= suspend_after and min_share_percent <= 100");
    }
    let transparency_database = transparency_database(&raw.transparency_database)?;
    let staff = staff(&raw.staff)?;
    let law_enforcement_contact = match raw.staff.law_enforcement_contact.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(c) if c.contains('@') && !c.contains(char::is_whitespace) => Some(c.to_owned()),
        Some(c) => bail!("staff.law_enforcement_contact: `{c}` is not an email address"),
    };
    let helpline = helpline(&raw.helpline)?;
    let mut public = staydown_server::pages::info::PublicInfo::default();
    let p = &raw.public;
    if let Some(c) = &p.privacy_contact {
        public.privacy_contact = c.clone();
    }
    if let Some(r) = &p.retention_en {
        public.retention_en = r.clone();
    }
    if let Some(r) = &p.retention_nl {
        public.retention_nl = r.clone();
    }
    if let Some(tz) = &p.time_zone {
        public.time_zone = jiff::tz::TimeZone::get(tz).with_context(|| {
            format!("public.time_zone: `{tz}` is not an IANA time zone name (e.g. Europe/Amsterdam)")
        })?;
    }
    if let Some(list) = &p.support {
        if list.is_empty() {
            bail!(
                "public.support: list at least one place to get help (e.g. 112), or leave it out for the built-in list"
            );
        }
        public.support = list.clone();
    }
    let csrf_key = match &p.csrf_key_file {
        None => None,
        Some(f) => {
            let text =
                std::fs::read_to_string(f).with_context(|| format!("public.csrf_key_file: reading {}", f.display()))?;
            let bytes = hex::decode(text.trim()).ok().and_then(|b| <[u8; 32]>::try_from(b).ok()).ok_or_else(|| {
                anyhow::anyhow!("public.csrf_key_file: {} must hold 64 hex digits (openssl rand -hex 32)", f.display())
            })?;
            Some(bytes)
        }
    };
    let vault = match &raw.vault.key_file {
        None => None,
        Some(path) => {
            Some(staydown_vault::Keyring::from_file(path).map_err(|e| anyhow::anyhow!("vault.key_file: {e}"))?)
        }
    };
    let mut trusted_proxies = Vec::new();
    for entry in raw.trusted_proxies.iter().flatten() {
        let net = entry
            .parse::<ipnet::IpNet>()
            .or_else(|_| entry.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
            .map_err(|_| {
                anyhow::anyhow!("trusted_proxies: `{entry}` is not an address or CIDR block like 10.0.0.0/8")
            })?;
        trusted_proxies.push(net);
    }
    let metrics_listen = raw.metrics.listen.clone();
    if let Some(l) = &metrics_listen {
        l.parse::<std::net::SocketAddr>()
            .with_context(|| format!("metrics.listen: `{l}` is not an address like 127.0.0.1:9464"))?;
    }
    let metrics_token = read_secret("metrics.token", &raw.metrics.token, &raw.metrics.token_file)?;
    if metrics_token.as_ref().is_some_and(|t| t.expose().len() < 16) {
        bail!("metrics.token: use at least 16 characters (e.g. `openssl rand -hex 32`)");
    }
    let blob_retention = match &raw.vault.retention {
        None => None,
        Some(v) => Some(parse_duration(v).map_err(|e| anyhow::anyhow!("vault.retention: {e}"))?),
    };
    let video = video(&raw.video)?;
    Ok(Config {
        listen,
        database,
        public_url,
        body_limit,
        public_notices_per_minute,
        public_notice_burst,
        screen_body_limit,
        screen_decode_memory,
        screen_decode_timeout,
        bank_refresh_interval,
        policy,
        email,
        platform_name: d.platform_name.clone().unwrap_or(server_defaults.platform_name),
        out_of_court_settlement: d.out_of_court_settlement.clone().unwrap_or(server_defaults.out_of_court_settlement),
        court: d.court.clone().unwrap_or(server_defaults.court),
        out_of_court_settlement_nl: d
            .out_of_court_settlement_nl
            .clone()
            .unwrap_or(server_defaults.out_of_court_settlement_nl),
        court_nl: d.court_nl.clone().unwrap_or(server_defaults.court_nl),
        webhook,
        misuse,
        transparency_database,
        staff,
        law_enforcement_contact,
        helpline,
        public,
        csrf_key,
        vault,
        blob_retention,
        trusted_proxies,
        metrics_listen,
        metrics_token,
        video,
    })
}

fn helpline(h: &HelplineConfig) -> anyhow::Result<staydown_server::helpline::HelplineSettings> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_parses_and_matches_the_built_in_defaults() {
        let raw = merge(EXAMPLE, &[], &Overrides::default()).unwrap();
        let from_example = validate(&raw).unwrap();
        let defaults = validate(&FileConfig::default()).unwrap();
        assert_eq!(from_example.listen, defaults.listen);
        assert_eq!(from_example.database, defaults.database);
        assert_eq!(from_example.body_limit, defaults.body_limit);
        assert_eq!(from_example.public_notices_per_minute, defaults.public_notices_per_minute);
        assert_eq!(from_example.public_notice_burst, defaults.public_notice_burst);
        assert_eq!(from_example.screen_body_limit, defaults.screen_body_limit);
        assert_eq!(from_example.screen_decode_memory, defaults.screen_decode_memory);
        assert_eq!(from_example.screen_decode_timeout, defaults.screen_decode_timeout);
        assert_eq!(from_example.bank_refresh_interval, defaults.bank_refresh_interval);
        assert_eq!(from_example.policy, defaults.policy);
        assert_eq!(from_example.platform_name, defaults.platform_name);
        assert_eq!(from_example.out_of_court_settlement, defaults.out_of_court_settlement);
        assert_eq!(from_example.court, defaults.court);
        assert_eq!(from_example.out_of_court_settlement_nl, defaults.out_of_court_settlement_nl);
        assert_eq!(from_example.court_nl, defaults.court_nl);
        assert_eq!(from_example.misuse, defaults.misuse);
        let (ev, dv) = (&from_example.video, &defaults.video);
        assert_eq!((ev.sampling, ev.max_bytes, &ev.limits), (dv.sampling, dv.max_bytes, &dv.limits));
        assert!(from_example.webhook.is_none());
        assert_eq!(from_example.public_url, "http://localhost:8080");
        let (e, d) = (&from_example.transparency_database, &defaults.transparency_database);
        assert_eq!((e.enabled, &e.endpoint, e.batch_size), (d.enabled, &d.endpoint, d.batch_size));
        assert!(e.token.is_none() && d.token.is_none());
        assert_eq!(from_example.staff, defaults.staff);
        assert_eq!(from_example.law_enforcement_contact, defaults.law_enforcement_contact);
        assert_eq!(defaults.staff, staydown_server::staff::StaffSettings::default());
        let (e, d) = (&from_example.helpline, &defaults.helpline);
        assert_eq!(e.answer_times, d.answer_times);
        assert_eq!(
            (e.sync_interval, e.recheck_interval, e.recheck_gone_after),
            (d.sync_interval, d.recheck_interval, d.recheck_gone_after)
        );
        assert_eq!((e.url_check.timeout, e.url_check.max_bytes), (d.url_check.timeout, d.url_check.max_bytes));
        assert!(!e.url_check.danger_allow_loopback && !d.url_check.danger_allow_loopback);
        assert!(from_example.vault.is_none() && defaults.vault.is_none());
        assert_eq!(from_example.trusted_proxies, defaults.trusted_proxies);
        assert_eq!(from_example.metrics_listen, defaults.metrics_listen);
        assert!(from_example.metrics_token.is_none());
        assert_eq!(from_example.blob_retention, defaults.blob_retention);
    }

    #[test]
    fn transparency_database_needs_a_token_when_enabled_and_takes_it_from_the_environment() {
        let file = "[transparency_database]\nenabled = true\n";
        let err = validate(&merge(file, &[], &Overrides::default()).unwrap()).unwrap_err();
        assert!(format!("{err:#}").contains("transparency_database.token"), "{err:#}");
        let env = vec![
            ("STAYDOWN_TRANSPARENCY_DATABASE__TOKEN".to_owned(), "7|s3cret".to_owned()),
            ("STAYDOWN_TRANSPARENCY_DATABASE__BATCH_SIZE".to_owned(), "50".to_owned()),
        ];
        let raw = merge(file, &env, &Overrides::default()).unwrap();
        assert!(!format!("{raw:?}").contains("s3cret") && !toml::to_string(&raw).unwrap().contains("s3cret"));
        let settings = validate(&raw).unwrap().transparency_database.settings().unwrap();
        assert_eq!((settings.token.as_str(), settings.batch_size), ("7|s3cret", 50));
        assert_eq!(settings.endpoint, TDB_PRODUCTION);
        let err = validate(&merge("[transparency_database]\nbatch_size = 101", &[], &Overrides::default()).unwrap())
            .unwrap_err();
        assert!(format!("{err:#}").contains("transparency_database.batch_size"), "{err:#}");
        // Off by default, even with a token.
        let off =
            validate(&merge("[transparency_database]\ntoken = \"1|x\"", &[], &Overrides::default()).unwrap()).unwrap();
        assert!(off.transparency_database.settings().is_none());
    }

    #[test]
    fn environment_beats_file_and_flags_beat_environment() {
        let file = "listen = \"127.0.0.1:1\"\nbody_limit = 2048\n[policy]\nstandard_deadline = \"2h\"\n";
        let env = vec![
            ("STAYDOWN_LISTEN".to_owned(), "127.0.0.1:2".to_owned()),
            ("STAYDOWN_BODY_LIMIT".to_owned(), "4096".to_owned()),
            ("STAYDOWN_POLICY__STANDARD_DEADLINE".to_owned(), "3h".to_owned()),
        ];
        let raw = merge(file, &env, &Overrides::default()).unwrap();
        let c = validate(&raw).unwrap();
        assert_eq!((c.listen.as_str(), c.body_limit), ("127.0.0.1:2", 4096));
        assert_eq!(c.policy.standard.deadline, std::time::Duration::from_secs(3 * 3600));
        let flags = Overrides { listen: Some("127.0.0.1:3".into()), ..Default::default() };
        assert_eq!(validate(&merge(file, &env, &flags).unwrap()).unwrap().listen, "127.0.0.1:3");
    }

    #[test]
    fn the_public_pages_take_their_support_list_and_contacts_from_configuration() {
        let file = "[public]\nprivacy_contact = \"dpo@platform.example\"\n\
                    [[public.support]]\nname = \"Helpwanted\"\nurl = \"https://www.helpwanted.nl\"\nen = \"Help\"\nnl = \"Hulp\"\n";
        let config = validate(&merge(file, &[], &Overrides::default()).unwrap()).unwrap();
        assert_eq!(config.public.privacy_contact, "dpo@platform.example");
        assert_eq!(config.public.support.len(), 1);
        assert_eq!(config.public.support[0].name, "Helpwanted");
        let bad =
            validate(&merge("[public]\ntime_zone = \"Mars/Olympus_Mons\"\n", &[], &Overrides::default()).unwrap());
        assert!(format!("{:#}", bad.unwrap_err()).contains("public.time_zone"));
        let utc = validate(&merge("[public]\ntime_zone = \"UTC\"\n", &[], &Overrides::default()).unwrap()).unwrap();
        assert_eq!(utc.public.time_zone, jiff::tz::TimeZone::UTC);
        let defaults = validate(&FileConfig::default()).unwrap();
        assert!(defaults.public.support.iter().any(|c| c.name == "Centrum Seksueel Geweld"));
        let empty = merge("[public]\nsupport = []\n", &[], &Overrides::default()).unwrap();
        assert!(validate(&empty).unwrap_err().to_string().contains("public.support"));
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("csrf.key");
        std::fs::write(&key, "ab".repeat(32)).unwrap();
        let with_key = format!("[public]\ncsrf_key_file = \"{}\"\n", key.display());
        assert_eq!(
            validate(&merge(&with_key, &[], &Overrides::default()).unwrap()).unwrap().csrf_key,
            Some([0xab; 32])
        );
        std::fs::write(&key, "short").unwrap();
        assert!(validate(&merge(&with_key, &[], &Overrides::default()).unwrap()).is_err());
    }

    #[test]
    fn tool_and_test_variables_are_not_configuration() {
        let env: Vec<(String, String)> = ["REQUIRE_BROWSER", "REQUIRE_POSTGRES", "SCREENSHOTS", "CHROMIUM", "FFMPEG"]
            .iter()
            .map(|k| (format!("STAYDOWN_{k}"), "1".to_owned()))
            .collect();
        merge("", &env, &Overrides::default()).expect("CI's variables must not break `staydown serve`");
    }

    #[test]
    fn mistakes_name_the_key() {
        let err = merge("lisen = \"x\"", &[], &Overrides::default()).unwrap_err();
        assert!(format!("{err:#}").contains("lisen"), "{err:#}");
        let err =
            validate(&merge("[policy]\nurgent_deadline = \"soon\"", &[], &Overrides::default()).unwrap()).unwrap_err();
        assert!(format!("{err:#}").contains("policy.urgent_deadline"), "{err:#}");
        let err = validate(&merge("[email]\nmode = \"pigeon\"", &[], &Overrides::default()).unwrap()).unwrap_err();
        assert!(format!("{err:#}").contains("email.mode"), "{err:#}");
    }

    #[test]
    fn secrets_are_masked() {
        let raw =
            merge("[email]\nmode = \"smtp\"\nusername = \"u\"\npassword = \"hunter2\"", &[], &Overrides::default())
                .unwrap();
        assert!(!format!("{raw:?}").contains("hunter2"));
        assert!(!toml::to_string(&raw).unwrap().contains("hunter2"));
    }
}
