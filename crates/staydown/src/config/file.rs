//! The configuration file's shape, section by section, as read from TOML before validation
//! (unknown keys rejected), and `Secret`, a value that is never printed.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

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
    /// How an uploaded JPEG is decoded for the screening lookup: "exact" or "scaled" (issue 16).
    pub screen_jpeg_decode: Option<String>,
    pub bank_refresh_interval: Option<String>,
    /// Reverse proxies (addresses or CIDR blocks) whose Forwarded / X-Forwarded-For are believed.
    pub trusted_proxies: Option<Vec<String>>,
    /// Roles of this process (`api`, `screen`, `worker`, `all`; issue 16, docs/deploy.md): a comma
    /// list or an array. Default all three.
    pub role: Option<RoleList>,
    /// Screening nodes: the index snapshot file loaded at start and written after a build.
    pub index_snapshot: Option<PathBuf>,
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

/// `role = "api,worker"` or `role = ["api", "worker"]` (the environment gives the first form).
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
#[serde(untagged)]
pub enum RoleList {
    One(String),
    Many(Vec<String>),
}

impl RoleList {
    /// The items as written (each may still be a comma list).
    pub fn items(&self) -> Vec<String> {
        match self {
            RoleList::One(s) => vec![s.clone()],
            RoleList::Many(v) => v.clone(),
        }
    }
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
    pub decoder: Option<String>,
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
pub struct Secret(pub(super) String);

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
