//! The `staydown` binary: command-line parsing and wiring of the library crates.
//!
//! Each subcommand lives in its own module under `cmd/` and exposes an `Args` struct (clap) and a
//! `run` function; this file only dispatches. anyhow is used here and nowhere else.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod cmd;

#[derive(Debug, Parser)]
#[command(name = "staydown", version, about = "DSA notice-and-action and stay-down for intimate-image abuse")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Hash image files and folders (PDQ, SHA-256, MD5), one JSON object per image.
    Hash(cmd::hash::HashArgs),
    /// Print provenance signals (C2PA, XMP, PNG text, EXIF) for image files.
    Provenance(cmd::provenance::ProvenanceArgs),
    /// Benchmarks that compare staydown against the named reference in the same run.
    #[command(subcommand)]
    Bench(BenchCommand),
}

#[derive(Debug, Subcommand)]
enum BenchCommand {
    /// PDQ decode / hash / end-to-end throughput against the reference `pdqhash` (Python).
    Pdq(cmd::bench_pdq::BenchPdqArgs),
    /// Match-index queries/s and memory against brute force (and FAISS via bench/).
    Index(cmd::bench_index::BenchIndexArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Hash(args) => cmd::hash::run(args),
        Command::Provenance(args) => cmd::provenance::run(args),
        Command::Bench(BenchCommand::Pdq(args)) => cmd::bench_pdq::run(args),
        Command::Bench(BenchCommand::Index(args)) => cmd::bench_index::run(args),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
