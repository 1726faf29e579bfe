//! `staydown provenance PATH…`: prints what each image file says about its own origin
//! (AI-generated or not, by which generator, edited or not) as one JSON object per line.
//!
//! Issue 6; the reading itself is `staydown-provenance` (EU AI Act Art. 50(2) marks: C2PA, IPTC
//! XMP, generator text, EXIF). This module only reads files, bounded by `--max-bytes` before the
//! bytes are loaded, and reports per-file errors without stopping: a batch of evidence files
//! should yield every result it can, then fail loudly.

use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use serde::Serialize;
use staydown_provenance::{Limits, Provenance, analyze};

#[derive(Debug, clap::Args)]
pub struct ProvenanceArgs {
    /// Image files to read (JPEG, PNG, WebP; other formats get C2PA only).
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    /// Largest file read, in bytes; larger files are reported as errors.
    #[arg(long, value_name = "BYTES", default_value_t = Limits::default().max_bytes)]
    pub max_bytes: usize,
}

#[derive(Serialize)]
struct Line<'a> {
    path: String,
    #[serde(flatten)]
    provenance: &'a Provenance,
}

pub fn run(args: ProvenanceArgs) -> anyhow::Result<ExitCode> {
    let limits = Limits { max_bytes: args.max_bytes, ..Limits::default() };
    let mut stdout = std::io::stdout().lock();
    let mut failed = 0usize;
    let total = args.paths.len();
    for path in args.paths {
        match provenance_of(&path, &limits) {
            Ok(provenance) => {
                let line = Line { path: path.display().to_string(), provenance: &provenance };
                serde_json::to_writer(&mut stdout, &line).context("writing JSON to stdout")?;
                writeln!(stdout).context("writing to stdout")?;
            }
            Err(err) => {
                eprintln!("error: {}: {err:#}", path.display());
                failed += 1;
            }
        }
    }
    stdout.flush().context("writing to stdout")?;
    if failed > 0 {
        eprintln!("error: {failed} of {total} files could not be read");
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

fn provenance_of(path: &Path, limits: &Limits) -> anyhow::Result<Provenance> {
    let file = File::open(path).context("cannot open")?;
    let metadata = file.metadata().context("cannot stat")?;
    anyhow::ensure!(!metadata.is_dir(), "is a directory");
    // Bound before loading: `take` also covers files that grow or lie about their size.
    let mut bytes = Vec::new();
    file.take(limits.max_bytes as u64 + 1).read_to_end(&mut bytes).context("cannot read")?;
    Ok(analyze(&bytes, limits)?)
}
