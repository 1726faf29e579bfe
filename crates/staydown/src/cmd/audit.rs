//! `staydown audit verify`: checks the hash chain of the audit log.

use std::process::ExitCode;

use anyhow::Context;
use staydown_store::Store;

#[derive(Debug, clap::Args)]
pub struct AuditArgs {
    #[command(subcommand)]
    pub command: AuditCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum AuditCommand {
    /// Verify the chain; exit 1 and name the first bad entry if any row was changed, removed or reordered.
    Verify {
        /// Database URL.
        #[arg(long, env = "STAYDOWN_DATABASE", default_value = "sqlite://data/staydown.db")]
        database: String,
    },
}

pub async fn run(args: AuditArgs) -> anyhow::Result<ExitCode> {
    let AuditCommand::Verify { database } = args.command;
    let store = Store::connect_existing(&database).await.with_context(|| format!("opening {database}"))?;
    let report = store.verify_audit().await?;
    match report.broken {
        None => {
            println!("audit log intact: {} entries, head {}", report.entries, report.head_hash);
            Ok(ExitCode::SUCCESS)
        }
        Some(broken) => {
            println!("audit log BROKEN: {broken} ({} entries verified before it)", report.entries);
            Ok(ExitCode::FAILURE)
        }
    }
}
