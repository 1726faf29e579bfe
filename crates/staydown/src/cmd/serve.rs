//! `staydown serve`: the HTTP API on the configured database, with optional demo data.

use std::process::ExitCode;

use anyhow::Context;
use staydown_server::{AppState, Mailer, Settings, WebhookSettings, system_clock};
use staydown_store::Store;

use crate::config::{self, EmailMode, Overrides};

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Configuration file (TOML). Default: $STAYDOWN_CONFIG, else ./staydown.toml if present.
    #[arg(long)]
    pub config: Option<std::path::PathBuf>,
    /// Address to listen on, e.g. 127.0.0.1:8080.
    #[arg(long)]
    pub listen: Option<String>,
    /// Database URL: sqlite://PATH or postgres://USER:PASS@HOST/DB.
    #[arg(long)]
    pub database: Option<String>,
    /// Seed demo keys and notices into an empty database (and write email to mail/ beside the database).
    #[arg(long)]
    pub demo: bool,
    /// Roles of this process on a PostgreSQL deployment of several nodes: api, screen, worker or
    /// all (repeat the flag or give a comma list; default all in one). Also `role` in the config
    /// file or STAYDOWN_ROLE. docs/deploy.md.
    #[arg(long = "role", value_delimiter = ',')]
    pub roles: Vec<String>,
    /// Screening nodes: index snapshot file, loaded at start (checked against the bank change log)
    /// and written after building the index from the database. Also `index_snapshot` in the
    /// config file or STAYDOWN_INDEX_SNAPSHOT.
    #[arg(long)]
    pub index_snapshot: Option<std::path::PathBuf>,
}

/// The roles asked for, refused where they cannot work: on SQLite only all in one process (one
/// database file, one writing process), and the demo only all in one.
pub fn roles(config: &config::Config, demo: bool) -> anyhow::Result<staydown_server::nodes::Roles> {
    let roles = config.roles;
    if !roles.is_all() && !config.database.starts_with("postgres") {
        anyhow::bail!(
            "role {roles}: separate roles need PostgreSQL; on SQLite run one process with all roles (leave out --role and `role`): \
             one database file has one writing process"
        );
    }
    if !roles.is_all() && demo {
        anyhow::bail!("--demo runs all roles in one process; leave out --role");
    }
    if config.index_snapshot.is_some() && !roles.screen {
        anyhow::bail!("--index-snapshot is for nodes with the screen role (this one runs {roles})");
    }
    Ok(roles)
}

pub fn mailer(mode: &EmailMode) -> anyhow::Result<Mailer> {
    Ok(match mode {
        EmailMode::None => Mailer::None,
        EmailMode::Folder(dir) => Mailer::Folder(dir.clone()),
        EmailMode::Smtp { host, port, from, credentials, tls, ca_pem } => Mailer::smtp(
            host,
            *port,
            from,
            credentials.as_ref().map(|(u, p)| (u.clone(), p.expose().to_owned())),
            *tls,
            ca_pem.as_deref(),
        )
        .map_err(anyhow::Error::msg)?,
    })
}

pub async fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let overrides = Overrides {
        config: args.config.clone(),
        listen: args.listen.clone(),
        database: args.database.clone(),
        roles: args.roles.clone(),
        index_snapshot: args.index_snapshot.clone(),
    };
    let (config, _) = config::load(&overrides)?;
    let roles = roles(&config, args.demo)?;
    let store =
        Store::connect(&config.database).await.with_context(|| format!("opening database {}", config.database))?;
    let mut email = config.email.clone();
    if args.demo && matches!(email, EmailMode::None) {
        // Beside the database, wherever it is, not in whatever folder the server was started from.
        email = EmailMode::Folder(crate::cmd::vault::data_folder(&config.database).join("mail"));
    }
    let settings = Settings {
        public_url: config.public_url.clone(),
        body_limit: config.body_limit,
        public_notices_per_minute: config.public_notices_per_minute,
        public_notice_burst: config.public_notice_burst,
        // The demo names a made-up service, so statements and pages read as they would in use.
        platform_name: if args.demo && config.platform_name == Settings::default().platform_name {
            "Fotoplek (demo)".to_owned()
        } else {
            config.platform_name.clone()
        },
        out_of_court_settlement: config.out_of_court_settlement.clone(),
        out_of_court_settlement_nl: config.out_of_court_settlement_nl.clone(),
        court_nl: config.court_nl.clone(),
        court: config.court.clone(),
        webhook: config
            .webhook
            .as_ref()
            .map(|(url, secret)| WebhookSettings { url: url.clone(), secret: secret.expose().to_owned() }),
        misuse: config.misuse.clone(),
        screen_body_limit: config.screen_body_limit,
        screen_decode_memory: config.screen_decode_memory,
        screen_decode_timeout: config.screen_decode_timeout,
        screen_jpeg_decode: config.screen_jpeg_decode,
        bank_refresh_interval: config.bank_refresh_interval,
        staff: config.staff,
        law_enforcement_contact: config.law_enforcement_contact.clone(),
        helpline: config.helpline.clone(),
        vault: match (&config.vault, args.demo) {
            (Some(keys), _) => Some(keys.clone()),
            (None, true) => Some(crate::cmd::vault::demo_keyring(&config.database)?),
            (None, false) => None,
        },
        blob_retention: config.blob_retention,
        public: config.public.clone(),
        trusted_proxies: config.trusted_proxies.clone(),
        metrics_access: match (&config.metrics_listen, &config.metrics_token) {
            (Some(_), _) => staydown_server::MetricsAccess::Elsewhere,
            (None, Some(token)) => staydown_server::MetricsAccess::Token(token.expose().to_owned()),
            (None, None) => staydown_server::MetricsAccess::Loopback,
        },
        video: config.video.clone(),
        roles,
        index_snapshot: config.index_snapshot.clone(),
    };
    if let Some(key) = config.csrf_key {
        staydown_server::pages::csrf::set_key(key);
    }
    if settings.vault.is_none() {
        tracing::warn!(
            "no [vault] key_file: tracking links and appeal tokens wait in the outbox unencrypted until delivered, \
             and attached content or evidence cannot be stored (staydown vault keygen)"
        );
    }
    let state = AppState::new(store, config.policy.clone(), settings, mailer(&email)?, system_clock());
    let listener = tokio::net::TcpListener::bind(&config.listen)
        .await
        .with_context(|| format!("listening on {}", config.listen))?;
    if args.demo {
        crate::demo::seed(&state, &config.listen).await?;
    }
    tracing::info!(listen = %config.listen, database = %redact_url(&config.database), %roles, "staydown serving");
    eprintln!(
        "staydown listening on http://{} (database {}, roles {roles})",
        config.listen,
        redact_url(&config.database)
    );
    // DSA Art. 24(5): statements of reasons to the EU Transparency Database, when configured; on
    // worker nodes only (`nodes`).
    let tdb = config.transparency_database.settings().filter(|_| roles.worker).map(|settings| {
        tracing::info!(endpoint = %settings.endpoint, "submitting statements of reasons to the EU Transparency Database");
        tokio::spawn(staydown_server::tdb::run(state.clone(), settings))
    });
    if tdb.is_none() && roles.worker {
        tracing::info!("EU Transparency Database submission is off ([transparency_database] enabled = false)");
    }
    let metrics_server = match &config.metrics_listen {
        Some(address) => {
            let listener = tokio::net::TcpListener::bind(address)
                .await
                .with_context(|| format!("metrics.listen: binding {address}"))?;
            eprintln!("staydown metrics on http://{address}/metrics");
            Some(tokio::spawn(staydown_server::serve_metrics(listener, state.clone())))
        }
        None => None,
    };
    let result = staydown_server::serve(listener, state, shutdown_signal()).await;
    if let Some(server) = metrics_server {
        server.abort();
    }
    if let Some(worker) = tdb {
        worker.abort();
    }
    result?;
    Ok(ExitCode::SUCCESS)
}

/// Hides the password in a database URL.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let creds = &url[scheme_end + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:****{}", &url[..scheme_end + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        tokio::signal::ctrl_c().await.ok();
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
    tracing::info!("shutting down");
}

#[cfg(test)]
mod tests {
    #[test]
    fn passwords_are_hidden() {
        assert_eq!(super::redact_url("postgres://u:secret@h/db"), "postgres://u:****@h/db");
        assert_eq!(super::redact_url("sqlite://data/x.db"), "sqlite://data/x.db");
    }
}
