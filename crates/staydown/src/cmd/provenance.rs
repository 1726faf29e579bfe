//! `staydown provenance` (placeholder: being written).

use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct ProvenanceArgs {}

pub fn run(_args: ProvenanceArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("not built yet")
}
