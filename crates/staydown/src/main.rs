//! The `staydown` binary: command-line parsing, configuration, logging and wiring of the library
//! crates. This is the only place that chooses a store and the only user of anyhow.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod cmd;
mod config;
mod demo;

#[derive(Debug, Parser)]
#[command(name = "staydown", version, about = "DSA notice-and-action and stay-down for intimate-image abuse")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the HTTP API (SQLite by default, PostgreSQL by URL).
    Serve(cmd::serve::ServeArgs),
    /// Manage API keys.
    Key(cmd::key::KeyArgs),
    /// Manage staff accounts.
    Account(cmd::account::AccountArgs),
    /// Check the audit log.
    Audit(cmd::audit::AuditArgs),
    /// Hash banks: create, list, import, export.
    Bank(cmd::bank::BankArgs),
    /// Statements of reasons for the EU Transparency Database: export them, see the queue.
    Sor(cmd::sor::SorArgs),
    /// The transparency report of a period (DSA Art. 15, 24(1)), as JSON or CSV.
    Report(cmd::report::ReportArgs),
    /// Print the example configuration, or the effective one.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Keys for encryption at rest of attached content and evidence.
    Vault(cmd::vault::VaultArgs),
    /// Hash image files and folders (PDQ, SHA-256, MD5), one JSON object per image.
    Hash(cmd::hash::HashArgs),
    /// Print provenance signals (C2PA, XMP, PNG text, EXIF) for image files.
    Provenance(cmd::provenance::ProvenanceArgs),
    /// Benchmarks that compare staydown against the named reference in the same run.
    #[command(subcommand)]
    Bench(BenchCommand),
    /// Internal: hash one video for a parent `staydown serve` (`staydown_vpdq::child`): a JSON
    /// request, then the file; one JSON answer on stdout.
    #[cfg(feature = "video-libav")]
    #[command(hide = true)]
    VideoChild {
        /// The request the parent wrote.
        request: String,
        /// The video file.
        path: std::path::PathBuf,
    },
}

#[derive(Debug, Subcommand)]
enum ConfigCommand {
    /// Print the documented example configuration (every key, its env var and default).
    Example,
    /// Print the effective configuration (file + environment + flags), secrets masked.
    Show {
        /// Configuration file.
        #[arg(long)]
        config: Option<std::path::PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
enum BenchCommand {
    /// Durable notices/s and latency through the real HTTP stack on SQLite.
    Intake(cmd::bench_intake::BenchIntakeArgs),
    /// PDQ decode / hash / end-to-end throughput against the reference `pdqhash` (Python).
    Pdq(cmd::bench_pdq::BenchPdqArgs),
    /// Match-index queries/s and memory against brute force (and FAISS via bench/).
    Index(cmd::bench_index::BenchIndexArgs),
    /// The transparency report over a synthetic year, against loading the rows and computing in Rust.
    Report(cmd::bench_report::BenchReportArgs),
    /// vPDQ video hashing against PyPI `vpdq`, and matching a long video against a large bank.
    Video(cmd::bench_video::BenchVideoArgs),
    /// Uploads screened per second over HTTP (1M-hash bank, 8 clients) against Pillow + pdqhash + FAISS.
    Screen(cmd::bench_screen::BenchScreenArgs),
}

fn init_tracing() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("STAYDOWN_LOG")
        .unwrap_or_else(|_| EnvFilter::new("info,tower_http=warn,sqlx=warn,c2pa=error"));
    // Colour codes only for a person at a terminal: journald, files and pipes get plain text.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    tracing_subscriber::fmt().with_env_filter(filter).with_ansi(ansi).with_writer(std::io::stderr).init();
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread().enable_all().build()?)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing();
    let result = match cli.command {
        Command::Serve(args) => runtime().and_then(|rt| rt.block_on(cmd::serve::run(args))),
        Command::Key(args) => runtime().and_then(|rt| rt.block_on(cmd::key::run(args))),
        Command::Account(args) => runtime().and_then(|rt| rt.block_on(cmd::account::run(args))),
        Command::Audit(args) => runtime().and_then(|rt| rt.block_on(cmd::audit::run(args))),
        Command::Bank(args) => runtime().and_then(|rt| rt.block_on(cmd::bank::run(args))),
        Command::Sor(args) => runtime().and_then(|rt| rt.block_on(cmd::sor::run(args))),
        Command::Report(args) => runtime().and_then(|rt| rt.block_on(cmd::report::run(args))),
        Command::Vault(args) => cmd::vault::run(&args),
        Command::Config(ConfigCommand::Example) => {
            print!("{}", config::EXAMPLE);
            Ok(ExitCode::SUCCESS)
        }
        Command::Config(ConfigCommand::Show { config }) => {
            config::load(&config::Overrides { config, ..Default::default() }).and_then(|(_, raw)| {
                print!("{}", toml::to_string(&raw)?);
                Ok(ExitCode::SUCCESS)
            })
        }
        Command::Hash(args) => cmd::hash::run(args),
        #[cfg(feature = "video-libav")]
        Command::VideoChild { request, path } => match staydown_vpdq::child::child_main(&request, &path) {
            Ok(answer) => {
                println!("{answer}");
                Ok(ExitCode::SUCCESS)
            }
            Err(e) => Err(anyhow::anyhow!("video-child: unreadable request: {e}")),
        },
        Command::Provenance(args) => cmd::provenance::run(args),
        Command::Bench(BenchCommand::Intake(args)) => {
            runtime().and_then(|rt| rt.block_on(cmd::bench_intake::run(args)))
        }
        Command::Bench(BenchCommand::Pdq(args)) => cmd::bench_pdq::run(args),
        Command::Bench(BenchCommand::Index(args)) => cmd::bench_index::run(args),
        Command::Bench(BenchCommand::Video(args)) => cmd::bench_video::run(&args),
        Command::Bench(BenchCommand::Screen(args)) => {
            runtime().and_then(|rt| rt.block_on(cmd::bench_screen::run(args)))
        }
        Command::Bench(BenchCommand::Report(args)) => {
            runtime().and_then(|rt| rt.block_on(cmd::bench_report::run(args)))
        }
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
