//! `staydown bench_index` (placeholder: being written).

use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct BenchIndexArgs {}

pub fn run(_args: BenchIndexArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("not built yet")
}
