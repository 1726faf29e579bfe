//! `staydown key create|revoke`: API keys for trusted flaggers, authorities, platforms and staff.

use std::process::ExitCode;

use anyhow::Context;
use staydown_domain::roles::Role;
use staydown_domain::secret_digest;
use staydown_store::Store;

#[derive(Debug, clap::Args)]
pub struct KeyArgs {
    #[command(subcommand)]
    pub command: KeyCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum KeyCommand {
    /// Create a key and print it once (only its digest is stored).
    Create {
        /// Database URL.
        #[arg(long, env = "STAYDOWN_DATABASE", default_value = "sqlite://data/staydown.db")]
        database: String,
        /// trusted_flagger, authority, platform, reviewer, senior_reviewer, admin or auditor.
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// Who the key is for, e.g. "Offlimits (Helpwanted)".
        #[arg(long)]
        name: String,
    },
    /// Revoke a key by its id (the part after `sd_`, before the second `_`).
    Revoke {
        /// Database URL.
        #[arg(long, env = "STAYDOWN_DATABASE", default_value = "sqlite://data/staydown.db")]
        database: String,
        /// Key id.
        id: String,
    },
}

fn parse_role(s: &str) -> Result<Role, String> {
    Role::parse(s).ok_or_else(|| {
        format!("unknown role `{s}`; one of: {}", Role::ALL.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(", "))
    })
}

/// Creates a key in `store`, returning the clear key.
pub async fn create_key(store: &Store, role: Role, name: &str) -> anyhow::Result<String> {
    let (id, key) = staydown_server::auth::generate_api_key();
    store.create_api_key(&id, name, role, &secret_digest(&key), time::OffsetDateTime::now_utc()).await?;
    Ok(key)
}

pub async fn run(args: KeyArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        KeyCommand::Create { database, role, name } => {
            let store = Store::connect(&database).await.with_context(|| format!("opening {database}"))?;
            let key = create_key(&store, role, &name).await?;
            eprintln!("created a {} key for {name}; it is shown only now:", role.as_str());
            println!("{key}");
        }
        KeyCommand::Revoke { database, id } => {
            let store = Store::connect(&database).await.with_context(|| format!("opening {database}"))?;
            store.revoke_api_key(&id, time::OffsetDateTime::now_utc()).await.context("revoking")?;
            eprintln!("revoked key {id}");
        }
    }
    Ok(ExitCode::SUCCESS)
}
