//! `staydown bench_pdq` (placeholder: being written).

use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct BenchPdqArgs {}

pub fn run(_args: BenchPdqArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("not built yet")
}
