//! Configuration: built-in defaults < TOML file < `STAYDOWN_*` environment < command-line flags.
//!
//! Two stages: the raw file shape (`FileConfig`, unknown keys rejected) is merged and then
//! validated into `Config`, with no ambiguity left; errors name the key. Secrets are never
//! printed (`Secret`'s `Debug` is redacted, `config show` masks them).

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use staydown_domain::misuse::MisusePolicy;
use staydown_domain::policy::{Policy, Tier, parse_duration};

/// The documented example, which is also the reference for every default.
pub const EXAMPLE: &str = include_str!("../../../../staydown.example.toml");

mod file;
mod sections;

pub use file::*;
#[cfg(test)]
use sections::TDB_PRODUCTION;
pub use sections::TransparencyDatabase;
use sections::{helpline, read_secret, staff, transparency_database, video};

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
    /// How an uploaded JPEG is decoded for the screening lookup (issue 16).
    pub screen_jpeg_decode: staydown_server::decode_budget::JpegDecode,
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
    /// This process's roles (`role`; all three unless set).
    pub roles: staydown_server::nodes::Roles,
    /// `index_snapshot`: the screening index's snapshot file.
    pub index_snapshot: Option<PathBuf>,
}
/// Flags that override everything else.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub config: Option<PathBuf>,
    pub listen: Option<String>,
    pub database: Option<String>,
    /// `--role` (empty: not given).
    pub roles: Vec<String>,
    pub index_snapshot: Option<PathBuf>,
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
    if !overrides.roles.is_empty() {
        raw.role = Some(RoleList::Many(overrides.roles.clone()));
    }
    if let Some(f) = &overrides.index_snapshot {
        raw.index_snapshot = Some(f.clone());
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
    let roles = staydown_server::nodes::Roles::parse(&raw.role.as_ref().map(RoleList::items).unwrap_or_default())
        .map_err(|e| anyhow::anyhow!("role: {e}"))?;
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
    let screen_jpeg_decode = raw
        .screen_jpeg_decode
        .as_deref()
        .unwrap_or("exact")
        .parse()
        .map_err(|e| anyhow::anyhow!("screen_jpeg_decode: {e}"))?;
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
        screen_jpeg_decode,
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
        roles,
        index_snapshot: raw.index_snapshot.clone(),
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
        assert_eq!(from_example.screen_jpeg_decode, defaults.screen_jpeg_decode);
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
        assert_eq!(ev.decoder, dv.decoder);
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
        assert_eq!(from_example.roles, defaults.roles);
        assert_eq!(defaults.roles, staydown_server::nodes::Roles::ALL);
        assert_eq!(from_example.index_snapshot, defaults.index_snapshot);
    }

    #[test]
    fn roles_and_the_index_snapshot_come_from_file_environment_or_flags() {
        use staydown_server::nodes::Roles;
        let file = "role = [\"api\", \"worker\"]\nindex_snapshot = \"/var/lib/staydown/index.snapshot\"\n";
        let c = validate(&merge(file, &[], &Overrides::default()).unwrap()).unwrap();
        assert_eq!(c.roles, Roles { api: true, screen: false, worker: true });
        assert_eq!(c.index_snapshot.as_deref(), Some(Path::new("/var/lib/staydown/index.snapshot")));
        let c = validate(&merge("role = \"screen,worker\"", &[], &Overrides::default()).unwrap()).unwrap();
        assert_eq!(c.roles, Roles { api: false, screen: true, worker: true });
        // STAYDOWN_ROLE, as docs/deploy.md gives it, beats the file; --role beats both.
        let env = vec![
            ("STAYDOWN_ROLE".to_owned(), "screen".to_owned()),
            ("STAYDOWN_INDEX_SNAPSHOT".to_owned(), "/tmp/i.snapshot".to_owned()),
        ];
        let c = validate(&merge(file, &env, &Overrides::default()).unwrap()).unwrap();
        assert_eq!(c.roles, Roles { api: false, screen: true, worker: false });
        assert_eq!(c.index_snapshot.as_deref(), Some(Path::new("/tmp/i.snapshot")));
        let flags = Overrides { roles: vec!["worker".into()], ..Default::default() };
        assert_eq!(
            validate(&merge(file, &env, &flags).unwrap()).unwrap().roles,
            Roles { api: false, screen: false, worker: true }
        );
        let err = validate(&merge("role = \"screener\"", &[], &Overrides::default()).unwrap()).unwrap_err();
        assert!(format!("{err:#}").contains("role: unknown role \"screener\""), "{err:#}");
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
    fn the_video_decoder_is_chosen_by_name_and_libav_only_when_built_in() {
        use staydown_server::VideoDecoder;
        let decoder = |name: &str| {
            validate(&merge(&format!("[video]\ndecoder = \"{name}\"\n"), &[], &Overrides::default()).unwrap())
                .map(|c| c.video.decoder)
        };
        assert_eq!(decoder("ffmpeg").unwrap(), VideoDecoder::Ffmpeg);
        let err = format!("{:#}", decoder("gstreamer").unwrap_err());
        assert!(err.contains("video.decoder") && err.contains("gstreamer"), "{err}");
        if cfg!(feature = "video-libav") {
            for name in ["libav", "auto"] {
                let VideoDecoder::Child { program, args } = decoder(name).unwrap() else { panic!("{name}") };
                assert_eq!((program, args), (std::env::current_exe().unwrap(), vec!["video-child".into()]));
            }
        } else {
            assert_eq!(decoder("auto").unwrap(), VideoDecoder::Ffmpeg);
            let err = format!("{:#}", decoder("libav").unwrap_err());
            assert!(err.contains("video-libav feature"), "{err}");
        }
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
