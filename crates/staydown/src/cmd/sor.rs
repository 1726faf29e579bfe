//! `staydown sor export` and `staydown sor queue`: statements of reasons as the EU Transparency
//! Database takes them (DSA Art. 24(5)).
//!
//! `export` writes each queued statement's exact API JSON, one per line, reading the queue page by
//! page so a year of statements never sits in memory; use it to archive, to check what was sent, or
//! to upload by other means. `queue` shows what is pending, submitted or refused, with the API's
//! error. Neither contains personal data: the statements carry none by construction.

use std::io::Write;
use std::process::ExitCode;

use anyhow::{Context, bail};
use staydown_store::{Store, SubmissionState};
use time::format_description::well_known::Rfc3339;
use time::{Date, OffsetDateTime};

#[derive(Debug, clap::Args)]
pub struct SorArgs {
    #[command(subcommand)]
    pub command: SorCommand,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Format {
    /// One JSON statement per line, exactly as sent to the API.
    Jsonl,
}

#[derive(Debug, clap::Subcommand)]
pub enum SorCommand {
    /// Write queued statements (any state) in the Transparency Database's JSON, oldest first.
    Export {
        /// Database URL.
        #[arg(long, env = "STAYDOWN_DATABASE", default_value = "sqlite://data/staydown.db")]
        database: String,
        /// First moment included: RFC 3339 (2026-11-23T00:00:00Z) or a date (2026-11-23, UTC midnight).
        #[arg(long)]
        since: String,
        /// First moment excluded, in the same forms. Default: no end.
        #[arg(long)]
        until: Option<String>,
        /// Output format.
        #[arg(long, value_enum, default_value = "jsonl")]
        format: Format,
        /// Write to this file instead of standard output.
        #[arg(long)]
        output: Option<std::path::PathBuf>,
    },
    /// List the submission queue, newest first, with the API's errors.
    Queue {
        /// Database URL.
        #[arg(long, env = "STAYDOWN_DATABASE", default_value = "sqlite://data/staydown.db")]
        database: String,
        /// Only this state: pending, submitted or failed.
        #[arg(long)]
        state: Option<String>,
        /// At most this many rows.
        #[arg(long, default_value_t = 100)]
        limit: i64,
    },
    /// Put statements the Transparency Database refused back in the queue, due now.
    Requeue {
        /// Database URL.
        #[arg(long, env = "STAYDOWN_DATABASE", default_value = "sqlite://data/staydown.db")]
        database: String,
        /// The refused statements' puids (see `staydown sor queue --state failed`).
        #[arg(required_unless_present = "all_failed")]
        puids: Vec<String>,
        /// Every refused statement.
        #[arg(long, conflicts_with = "puids")]
        all_failed: bool,
    },
}

/// Parses `--since` / `--until`: RFC 3339, or a date meaning midnight UTC.
pub fn parse_moment(value: &str) -> anyhow::Result<OffsetDateTime> {
    if let Ok(t) = OffsetDateTime::parse(value, &Rfc3339) {
        return Ok(t);
    }
    let date = Date::parse(value, time::macros::format_description!("[year]-[month]-[day]"))
        .with_context(|| format!("`{value}` is neither an RFC 3339 time nor a YYYY-MM-DD date"))?;
    Ok(date.midnight().assume_utc())
}

pub async fn run(args: SorArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        SorCommand::Export { database, since, until, format: Format::Jsonl, output } => {
            let since = parse_moment(&since).context("--since")?;
            let until = until.as_deref().map(parse_moment).transpose().context("--until")?;
            if until.is_some_and(|u| u <= since) {
                bail!("--until must be after --since");
            }
            let store = Store::connect_existing(&database).await.with_context(|| format!("opening {database}"))?;
            let sink: Box<dyn Write> = match &output {
                Some(path) => {
                    Box::new(std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?)
                }
                None => Box::new(std::io::stdout().lock()),
            };
            let mut out = std::io::BufWriter::new(sink);
            let mut cursor = None;
            let mut written = 0_u64;
            loop {
                let (page, next) = store.statements_since(since, until, cursor.as_ref(), 500).await?;
                for s in &page {
                    out.write_all(s.statement_json.as_bytes())?;
                    out.write_all(b"\n")?;
                }
                written += page.len() as u64;
                match next {
                    Some(c) => cursor = Some(c),
                    None => break,
                }
            }
            out.flush().context("writing the export")?;
            eprintln!("{written} statement(s) exported");
            Ok(ExitCode::SUCCESS)
        }
        SorCommand::Queue { database, state, limit } => {
            let state = state
                .as_deref()
                .map(|s| {
                    SubmissionState::parse(s)
                        .with_context(|| format!("--state `{s}`: use pending, submitted or failed"))
                })
                .transpose()?;
            let store = Store::connect_existing(&database).await.with_context(|| format!("opening {database}"))?;
            let items = store.submission_queue(state, limit.clamp(1, 100_000)).await?;
            let mut out = std::io::stdout().lock();
            writeln!(out, "puid\tstate\tattempts\tqueued_at\tdecision_id\ttdb_uuid\tlast_error")?;
            for s in &items {
                let queued = s.created_at.format(&Rfc3339).unwrap_or_default();
                let error = s.last_error.as_deref().unwrap_or("").replace(['\t', '\n'], " ");
                let uuid = s.tdb_uuid.as_deref().unwrap_or("");
                let line = format!(
                    "{}\t{}\t{}\t{queued}\t{}\t{uuid}\t{error}",
                    s.puid,
                    s.state.as_str(),
                    s.attempts,
                    s.decision_id
                );
                writeln!(out, "{line}")?;
            }
            Ok(ExitCode::SUCCESS)
        }
        SorCommand::Requeue { database, puids, all_failed } => {
            let store = Store::connect(&database).await.with_context(|| format!("opening {database}"))?;
            let chosen = if all_failed { None } else { Some(puids.as_slice()) };
            let requeued = store.requeue_failed_statements(chosen, "cli", OffsetDateTime::now_utc()).await?;
            for puid in &requeued {
                println!("{puid}");
            }
            eprintln!("{} statement(s) queued again", requeued.len());
            Ok(ExitCode::SUCCESS)
        }
    }
}
