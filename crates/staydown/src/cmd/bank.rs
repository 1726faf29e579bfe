//! `staydown bank create|set|list|import|export|video-thresholds`: hash banks from the command line.
//!
//! Issue 5 (banks, import/export). Imports are all or nothing: every line is checked first and
//! every bad line reported with its number; with bad lines the import stops before touching the
//! database unless `--skip-invalid` is given. The good entries are written in short chunks (a
//! running server's intake never waits for more than one chunk) and become visible all at once at
//! the end; an import that fails or is killed never becomes visible (`store::bank_import`, issue
//! 15). A running server sees the change through PostgreSQL's notification, or on its next
//! periodic catch-up (`bank_refresh_interval`).

use std::io::{BufWriter, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressStyle};
use staydown_domain::bank::{BankAction, BankDraft, BankProvenance, HashedBy, NewEntry, validate_bank};
use staydown_store::Store;

use staydown_server::bank_formats::{self, Format};

/// Audit actor for changes made with the CLI.
const ACTOR: &str = "cli";

#[derive(Debug, clap::Args)]
pub struct BankArgs {
    #[command(subcommand)]
    pub command: BankCommand,
    /// Database URL.
    #[arg(long, global = true, env = "STAYDOWN_DATABASE", default_value = "sqlite://data/staydown.db")]
    pub database: String,
}

#[derive(Debug, clap::Subcommand)]
pub enum BankCommand {
    /// Create a bank.
    Create {
        /// Name: lowercase letters, digits, '-', '_', '.'.
        name: String,
        /// What a match does.
        #[arg(long, value_parser = parse_action)]
        action: BankAction,
        /// Largest PDQ distance that counts as a match, 0–31.
        #[arg(long, default_value_t = 31)]
        threshold: u8,
        /// Free text.
        #[arg(long)]
        description: Option<String>,
        /// victim_submitted, helpline, external_list or confirmed_decision.
        #[arg(long, value_parser = parse_provenance, default_value = "external_list")]
        provenance: BankProvenance,
        /// Also match rotations and mirror images of uploads (true/false; default: true for
        /// victim_submitted and confirmed_decision banks, false otherwise).
        #[arg(long)]
        dihedral: Option<bool>,
        /// Video entries: percent (1–100) of an upload's frames that must be found in a banked
        /// video for a match, or `off` (default 80; API `query_pct`).
        #[arg(long, value_parser = parse_pct)]
        video_query_pct: Option<VideoPct>,
        /// Video entries: percent (1–100) of a banked video's frames that must be found in the
        /// upload for a match, or `off` (default 80; API `banked_pct`).
        #[arg(long, value_parser = parse_pct)]
        video_banked_pct: Option<VideoPct>,
    },
    /// Show a bank's two vPDQ thresholds, or change them: a direction not given keeps its value
    /// (the API's `PUT /api/v1/banks/{name}/video-thresholds`).
    VideoThresholds {
        /// The bank.
        name: String,
        /// Percent (1–100) of an upload's frames found in a banked video, or `off`.
        #[arg(long, value_parser = parse_pct)]
        query_pct: Option<VideoPct>,
        /// Percent (1–100) of a banked video's frames found in the upload, or `off`.
        #[arg(long, value_parser = parse_pct)]
        banked_pct: Option<VideoPct>,
    },
    /// Change a bank's settings after creation (today: `--dihedral`); a running server picks the
    /// change up like any other bank change.
    Set {
        /// The bank.
        name: String,
        /// Also match rotations and mirror images of uploads (true/false).
        #[arg(long, action = clap::ArgAction::Set)]
        dihedral: bool,
    },
    /// List banks with their entry counts.
    List,
    /// Import entries from a file (all or nothing; see --skip-invalid).
    Import {
        /// The bank to add to.
        #[arg(long)]
        bank: String,
        /// File format: csv, json or te.
        #[arg(long, value_parser = parse_format)]
        format: Format,
        /// Import the valid lines and only report the bad ones.
        #[arg(long)]
        skip_invalid: bool,
        /// Which program computed the file's PDQ hashes, recorded on the bank so a reviewer can
        /// judge a miss: staydown, meta-reference, python-threatexchange (also HMA; its hashes of
        /// palette images and CMYK JPEGs differ, docs/banks.md) or unknown.
        #[arg(long, value_parser = parse_hashed_by)]
        hashed_by: Option<HashedBy>,
        /// The file.
        file: PathBuf,
    },
    /// Export a bank's live entries.
    Export {
        /// The bank.
        #[arg(long)]
        bank: String,
        /// File format: csv, json or te.
        #[arg(long, value_parser = parse_format)]
        format: Format,
        /// Output file; `-` for standard output.
        file: PathBuf,
    },
    /// Import video entries: each file one vPDQ in the reference's file format (ThreatExchange
    /// `vpdq`: `frame,quality,pdq_hex,timestamp` lines), all or nothing.
    ImportVideos {
        /// The bank to add to.
        #[arg(long)]
        bank: String,
        /// Most frames per file.
        #[arg(long, default_value_t = 20_000)]
        max_frames: usize,
        /// vPDQ files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Write the screening index snapshot that `serve --role screen --index-snapshot FILE` loads
    /// at start (issue 16, docs/deploy.md): builds the index from the database as a screener
    /// would and writes it, through a temporary file, to FILE. Safe beside running servers.
    Snapshot {
        /// The snapshot file.
        #[arg(long)]
        out: PathBuf,
    },
    /// Export a bank's live video entries: one vPDQ file per entry, `<entry id>.txt`, in the
    /// reference's file format.
    ExportVideos {
        /// The bank.
        #[arg(long)]
        bank: String,
        /// Output folder (created if missing).
        dir: PathBuf,
    },
}

fn parse_action(s: &str) -> Result<BankAction, String> {
    BankAction::parse(s).ok_or_else(|| "one of block, hold, flag".to_owned())
}

fn parse_format(s: &str) -> Result<Format, String> {
    Format::parse(s).ok_or_else(|| "one of csv, json, te".to_owned())
}

fn parse_provenance(s: &str) -> Result<BankProvenance, String> {
    BankProvenance::parse(s)
        .ok_or_else(|| "one of victim_submitted, helpline, external_list, confirmed_decision".into())
}

fn parse_hashed_by(s: &str) -> Result<HashedBy, String> {
    HashedBy::parse(s).ok_or_else(|| "one of staydown, meta-reference, python-threatexchange, unknown".into())
}

/// A vPDQ match percentage from the command line: `Some(1..=100)`, or `None` for `off`.
#[derive(Debug, Clone, Copy)]
pub struct VideoPct(Option<u8>);

fn parse_pct(s: &str) -> Result<VideoPct, String> {
    if s.eq_ignore_ascii_case("off") {
        return Ok(VideoPct(None));
    }
    match s.parse::<u8>() {
        Ok(p) if (1..=100).contains(&p) => Ok(VideoPct(Some(p))),
        _ => Err("a percentage from 1 to 100, or `off` to turn this direction off".to_owned()),
    }
}

fn pct(p: Option<u8>) -> String {
    p.map_or_else(|| "off".to_owned(), |p| p.to_string())
}

fn progress(len: u64, what: &str) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len);
    if let Ok(style) =
        ProgressStyle::with_template(&format!("{{bar:40}} {{pos}}/{{len}} {what} {{per_sec}} eta {{eta}}"))
    {
        bar.set_style(style);
    }
    bar
}

pub async fn run(args: BankArgs) -> anyhow::Result<ExitCode> {
    let database = args.database;
    let reads_only = matches!(
        args.command,
        BankCommand::List
            | BankCommand::Export { .. }
            | BankCommand::Snapshot { .. }
            | BankCommand::VideoThresholds { query_pct: None, banked_pct: None, .. }
    );
    let store = if reads_only { Store::connect_existing(&database).await } else { Store::connect(&database).await }
        .with_context(|| format!("opening {database}"))?;
    let now = time::OffsetDateTime::now_utc();
    match args.command {
        BankCommand::Create {
            name,
            action,
            threshold,
            description,
            provenance,
            dihedral,
            video_query_pct,
            video_banked_pct,
        } => {
            let draft = BankDraft {
                name: Some(name),
                description,
                action: Some(action),
                threshold: Some(threshold),
                provenance: Some(provenance),
                dihedral,
            };
            let bank = validate_bank(draft).map_err(|e| anyhow::anyhow!("{e}"))?;
            let created = store.create_bank(&bank, ACTOR, now).await.context("creating the bank")?;
            eprintln!(
                "created bank {} (action {}, threshold {}, dihedral {})",
                created.name,
                created.action.as_str(),
                created.threshold,
                created.dihedral
            );
            if video_query_pct.is_some() || video_banked_pct.is_some() {
                let query = video_query_pct.map_or(created.video_query_pct, |p| p.0);
                let banked = video_banked_pct.map_or(created.video_banked_pct, |p| p.0);
                let b = store
                    .set_bank_video_thresholds(&created.name, query, banked, ACTOR, now)
                    .await
                    .context("setting the video thresholds")?;
                eprintln!("video thresholds: query {}, banked {}", pct(b.video_query_pct), pct(b.video_banked_pct));
            }
        }
        BankCommand::VideoThresholds { name, query_pct, banked_pct } => {
            let Some(bank) = store.bank(&name).await? else {
                bail!("there is no bank named `{name}` (staydown bank list)");
            };
            let bank = if query_pct.is_some() || banked_pct.is_some() {
                let query = query_pct.map_or(bank.video_query_pct, |p| p.0);
                let banked = banked_pct.map_or(bank.video_banked_pct, |p| p.0);
                store
                    .set_bank_video_thresholds(&name, query, banked, ACTOR, now)
                    .await
                    .context("setting the video thresholds")?
            } else {
                bank
            };
            println!("query_pct\t{}\nbanked_pct\t{}", pct(bank.video_query_pct), pct(bank.video_banked_pct));
        }
        BankCommand::Set { name, dihedral } => {
            let bank = match store.set_bank_dihedral(&name, dihedral, ACTOR, now).await {
                Err(staydown_store::StoreError::NotFound) => {
                    bail!("there is no bank named `{name}` (staydown bank list)")
                }
                other => other.context("changing the bank")?,
            };
            eprintln!("bank {} now has dihedral {}", bank.name, bank.dihedral);
        }
        BankCommand::Snapshot { out } => {
            let started = std::time::Instant::now();
            let index = staydown_server::screening::BankIndex::default();
            index.catch_up(&store).await.context("building the index from the database")?;
            let built = started.elapsed();
            let (head, entries) = index.write_snapshot(&store, &out).await.map_err(anyhow::Error::msg)?;
            eprintln!(
                "index snapshot of {entries} entries at change {head} written to {} (built in {:.1} s, written in {:.1} s)",
                out.display(),
                built.as_secs_f64(),
                (started.elapsed() - built).as_secs_f64()
            );
        }
        BankCommand::List => {
            println!("name\taction\tthreshold\tprovenance\tentries\tdihedral\thashed_by\tdescription");
            for b in store.banks().await? {
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
                    b.name,
                    b.action.as_str(),
                    b.threshold,
                    b.provenance.as_str(),
                    b.entry_count,
                    b.dihedral,
                    b.hashed_by.map_or("-", HashedBy::as_str),
                    b.description
                );
            }
        }
        BankCommand::Import { bank, format, skip_invalid, hashed_by, file } => {
            let code = import(&store, &bank, format, skip_invalid, &file, now).await?;
            if let Some(hashed_by) = hashed_by
                && code == ExitCode::SUCCESS
            {
                store.set_bank_hashed_by(&bank, hashed_by, ACTOR, now).await.context("recording --hashed-by")?;
                if hashed_by.differs_on_palette_and_cmyk() {
                    eprintln!(
                        "note: {} hashes palette images (GIF, palette PNG) and CMYK JPEGs differently from \
                         staydown; such images will not match (docs/banks.md)",
                        hashed_by.as_str()
                    );
                }
            }
            return Ok(code);
        }
        BankCommand::Export { bank, format, file } => export(&store, &bank, format, &file).await?,
        BankCommand::ImportVideos { bank, max_frames, files } => {
            if store.bank(&bank).await?.is_none() {
                bail!("there is no bank named `{bank}` (staydown bank list)");
            }
            let mut videos = Vec::new();
            let mut bad = 0;
            for file in &files {
                let text = std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
                match staydown_vpdq::parse_vpdq_file(&text, max_frames) {
                    Ok(features) => videos.push(staydown_store::NewVideoEntry {
                        vpdq: staydown_vpdq::to_vpdq_file(&features),
                        frame_count: features.len() as u32,
                        sha256: None,
                        md5: None,
                        note: None,
                        reason: Some(format!("imported from {}", file.display())),
                    }),
                    Err(e) => {
                        bad += 1;
                        eprintln!("{}: {e}", file.display());
                    }
                }
            }
            if bad > 0 {
                eprintln!("{bad} bad file(s); nothing was imported");
                return Ok(ExitCode::FAILURE);
            }
            let report = store
                .import_bank_videos(&bank, &videos, ACTOR, "vpdq files", now)
                .await
                .context("importing (nothing was imported)")?;
            eprintln!("imported {} videos into {bank}; {} already there", report.added, report.duplicates);
        }
        BankCommand::ExportVideos { bank, dir } => {
            if store.bank(&bank).await?.is_none() {
                bail!("there is no bank named `{bank}` (staydown bank list)");
            }
            std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
            let (mut after, mut written) = (0, 0);
            loop {
                let page = store.bank_videos(&bank, after, 1000).await?;
                let Some(last) = page.last() else { break };
                after = last.entry.seq;
                for v in &page {
                    let path = dir.join(format!("{}.txt", v.entry.id));
                    std::fs::write(&path, &v.vpdq).with_context(|| format!("writing {}", path.display()))?;
                    written += 1;
                }
            }
            eprintln!("exported {written} videos from {bank} to {}", dir.display());
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn import(
    store: &Store,
    bank: &str,
    format: Format,
    skip_invalid: bool,
    file: &std::path::Path,
    now: time::OffsetDateTime,
) -> anyhow::Result<ExitCode> {
    if store.bank(bank).await?.is_none() {
        bail!("there is no bank named `{bank}` (staydown bank list)");
    }
    let text = std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let parsed = bank_formats::parse(format, &text);
    for e in &parsed.errors {
        eprintln!("{}: {e}", file.display());
    }
    if !parsed.errors.is_empty() && !skip_invalid {
        eprintln!(
            "{} bad line(s); nothing was imported. Fix them, or pass --skip-invalid to import the {} valid entries.",
            parsed.errors.len(),
            parsed.entries.len()
        );
        return Ok(ExitCode::FAILURE);
    }
    let entries: Vec<NewEntry> = parsed.entries.into_iter().map(|(_, e)| e).collect();
    let bar = progress(entries.len() as u64, "entries");
    let source = format!("{} ({:?})", file.display(), format).to_lowercase();
    let report = store
        .import_bank_entries(bank, &entries, ACTOR, &source, now, &|done| bar.set_position(done as u64))
        .await
        .context("importing (nothing was imported)")?;
    bar.finish_and_clear();
    eprintln!(
        "imported {} entries into {bank}; {} already there; {} bad line(s) skipped",
        report.added,
        report.duplicates,
        parsed.errors.len()
    );
    Ok(ExitCode::SUCCESS)
}

async fn export(store: &Store, bank: &str, format: Format, file: &std::path::Path) -> anyhow::Result<()> {
    let Some(info) = store.bank(bank).await? else { bail!("there is no bank named `{bank}` (staydown bank list)") };
    let out: Box<dyn Write> = if file.as_os_str() == "-" {
        Box::new(std::io::stdout().lock())
    } else {
        Box::new(std::fs::File::create(file).with_context(|| format!("creating {}", file.display()))?)
    };
    let mut out = BufWriter::new(out);
    if let Some(h) = bank_formats::header(format) {
        writeln!(out, "{h}")?;
    }
    let bar = progress(u64::try_from(info.entry_count).unwrap_or(0), "entries");
    let (mut after, mut written, mut left_out) = (0, 0u64, 0u64);
    loop {
        let page = store.bank_entries(bank, after, 10_000).await?;
        let Some(last) = page.last() else { break };
        after = last.seq;
        for entry in &page {
            match bank_formats::line(format, entry) {
                Some(line) => {
                    writeln!(out, "{line}")?;
                    written += 1;
                }
                None => left_out += 1,
            }
        }
        bar.inc(page.len() as u64);
    }
    out.flush()?;
    bar.finish_and_clear();
    eprintln!("exported {written} entries from {bank}");
    if left_out > 0 {
        eprintln!("{left_out} entries without a PDQ hash were left out (the te format carries PDQ only)");
    }
    Ok(())
}
