//! `staydown account create`: staff accounts (reviewer, senior reviewer, admin, auditor).
//!
//! The password is read from `STAYDOWN_ACCOUNT_PASSWORD` or the first line of standard input, never
//! from a flag (flags end up in shell history and process lists). The person then exchanges it for
//! a personal API key: `curl -u USER -X POST …/api/v1/keys`.

use std::io::BufRead;
use std::process::ExitCode;

use anyhow::Context;
use staydown_server::api::accounts::{hash_password, validate_account};
use staydown_store::Store;

#[derive(Debug, clap::Args)]
pub struct AccountArgs {
    #[command(subcommand)]
    pub command: AccountCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum AccountCommand {
    /// Create a staff account; the password comes from STAYDOWN_ACCOUNT_PASSWORD or stdin.
    Create {
        /// Database URL.
        #[arg(long, env = "STAYDOWN_DATABASE", default_value = "sqlite://data/staydown.db")]
        database: String,
        /// reviewer, senior_reviewer, admin or auditor.
        #[arg(long)]
        role: String,
        /// Login name.
        username: String,
    },
}

/// Creates an account in `store`; returns its id.
pub async fn create_account(store: &Store, username: &str, role: &str, password: &str) -> anyhow::Result<String> {
    let role = validate_account(username, role, password).map_err(|e| anyhow::anyhow!("{e}"))?;
    let hash = hash_password(password).map_err(|e| anyhow::anyhow!("{e}"))?;
    let id = uuid::Uuid::now_v7().to_string();
    store.create_account(&id, username, role, &hash, "cli", time::OffsetDateTime::now_utc()).await?;
    Ok(id)
}

pub async fn run(args: AccountArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        AccountCommand::Create { database, role, username } => {
            let password = match std::env::var("STAYDOWN_ACCOUNT_PASSWORD") {
                Ok(p) => p,
                Err(_) => {
                    eprintln!("password for {username} (one line on stdin):");
                    let mut line = String::new();
                    std::io::stdin().lock().read_line(&mut line).context("reading the password from stdin")?;
                    line.trim_end_matches(['\r', '\n']).to_owned()
                }
            };
            let store = Store::connect(&database).await.with_context(|| format!("opening {database}"))?;
            let id = create_account(&store, &username, &role, &password).await?;
            eprintln!(
                "created {role} account {username} ({id}); get a key with: curl -u {username} -X POST <server>/api/v1/keys"
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}
