//! `staydown bench report --decisions N`: the transparency report over a year of `N` decided
//! cases from the rollups (issue 16), against the named reference — the same report by the
//! row-scanning SQL of issue 7 — in the same run, with the ratio and a check that both agree
//! (counts exactly, medians to the minute); then the notices table once more against every row
//! loaded and computed in Rust.
//!
//! The synthetic year comes from `Store::bench_seed_decided_chunk` (benchmark data only: generated
//! by the database, bypassing intake and the audit chain, `--chunk` cases a transaction, each with
//! the rollups of the days it completes), into a fresh SQLite file unless `--database` names an
//! empty database (or one an interrupted run of the same command left: it resumes). The
//! rollups-against-SQL check covers every section; the in-memory one the notices table (Art.
//! 15(1)(b): counts, actions by basis, medians of time to action, trusted-flagger variants, TOTAL
//! and per category). `--rebuild-rollups` also times a rebuild from the rows and requires the
//! same report from it.

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, bail};
use staydown_store::{Figure, NoticeRow, Period, Store, Table};
use time::macros::date;

#[derive(Debug, clap::Args)]
pub struct BenchReportArgs {
    /// Decided cases to generate.
    #[arg(long, default_value_t = 1_000_000)]
    decisions: i64,
    /// An empty database to use (default: a fresh SQLite file in a temporary folder).
    #[arg(long)]
    database: Option<String>,
    /// The database named by `--database` already holds this benchmark's synthetic year and its
    /// rollups (from an earlier run): skip generating and rebuilding, time the reports only.
    #[arg(long, requires = "database")]
    reuse: bool,
    /// Skip the reference (row-scanning SQL and the in-memory check): for data sets where it
    /// would take most of an hour. No ratio and no agreement check are printed then.
    #[arg(long)]
    skip_reference: bool,
    /// Skip only the third opinion (every notice row loaded into this process, about 1.4 GiB per
    /// million decided cases), keeping the row-scanning SQL, its ratio and the agreement check.
    #[arg(long)]
    skip_in_memory: bool,
    /// Decided cases per transaction while generating (each with the rollups of the days it
    /// completes): bounds the write-ahead log and memory, and an interrupted run resumes after the
    /// last committed chunk (run it again with the same `--decisions` and `--database`).
    #[arg(long, default_value_t = 250_000)]
    chunk: i64,
    /// After generating, also time `staydown report --rebuild-rollups`'s recount of every rollup
    /// from the rows, and require the report from it to equal the one from the rollups the chunks
    /// kept.
    #[arg(long, conflicts_with = "reuse")]
    rebuild_rollups: bool,
}

/// Sorted values → median (mean of the middle two for an even count).
fn median(values: &mut [i64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    let n = values.len();
    Some(if n % 2 == 1 { values[n / 2] as f64 } else { (values[n / 2 - 1] as f64 + values[n / 2] as f64) / 2.0 })
}

#[derive(Default)]
struct Acc {
    counts: BTreeMap<&'static str, i64>,
    tta: Vec<i64>,
    tta_tf: Vec<i64>,
}

/// The reference: the notices table computed in Rust from every row.
fn reference(rows: &[NoticeRow]) -> BTreeMap<String, BTreeMap<&'static str, Figure>> {
    let mut groups: BTreeMap<String, Acc> = BTreeMap::new();
    for r in rows {
        for key in ["TOTAL".to_owned(), r.category.clone()] {
            let acc = groups.entry(key).or_default();
            let tf = i64::from(r.trusted_flagger);
            let received = i64::from(r.received);
            let acted = r.time_to_action_ms.is_some();
            let law = acted && r.restricts && r.ground.as_deref() == Some("illegal");
            let terms = acted && r.restricts && r.ground.as_deref() == Some("incompatible");
            let auto = |kind: &str| i64::from(acted && r.automated_decision.as_deref() == Some(kind));
            for (name, n) in [
                ("notices_received", received),
                ("notices_received_tf", received * tf),
                ("items", r.items),
                ("items_tf", r.items * tf),
                ("decided", i64::from(acted)),
                ("actions_law", i64::from(law)),
                ("actions_law_tf", i64::from(law) * tf),
                ("actions_terms", i64::from(terms)),
                ("actions_terms_tf", i64::from(terms) * tf),
                ("processed_solely_automated", auto("fully")),
                ("processed_partly_automated", auto("partially")),
            ] {
                *acc.counts.entry(name).or_default() += n;
            }
            if let Some(ms) = r.time_to_action_ms {
                acc.tta.push(ms);
                if r.trusted_flagger {
                    acc.tta_tf.push(ms);
                }
            }
        }
    }
    groups
        .into_iter()
        .map(|(key, mut acc)| {
            let mut figures: BTreeMap<&'static str, Figure> =
                acc.counts.iter().map(|(k, v)| (*k, Figure::Count(*v))).collect();
            figures.insert("median_time_to_action", Figure::Millis(median(&mut acc.tta)));
            figures.insert("median_time_to_action_tf", Figure::Millis(median(&mut acc.tta_tf)));
            (key, figures)
        })
        .collect()
}

/// Differences between the SQL table and the reference (empty when they agree).
fn compare(table: &Table, reference: &BTreeMap<String, BTreeMap<&'static str, Figure>>) -> Vec<String> {
    let mut diffs = Vec::new();
    for row in &table.rows {
        let Some(expected) = reference.get(&row.keys[0]) else {
            diffs.push(format!("{}: only in SQL", row.keys[0]));
            continue;
        };
        for (column, figure) in table.columns.iter().zip(&row.figures) {
            let same = match (figure, expected.get(column.key)) {
                (Figure::Count(a), Some(Figure::Count(b))) => a == b,
                (Figure::Millis(a), Some(Figure::Millis(b))) => match (a, b) {
                    (Some(a), Some(b)) => (a - b).abs() <= 1e-6 * b.abs().max(1.0),
                    (None, None) => true,
                    _ => false,
                },
                _ => false,
            };
            if !same {
                diffs.push(format!(
                    "{} {}: SQL {figure:?}, reference {:?}",
                    row.keys[0],
                    column.key,
                    expected.get(column.key)
                ));
            }
        }
    }
    if table.rows.len() != reference.len() {
        diffs.push(format!("{} rows in SQL, {} in the reference", table.rows.len(), reference.len()));
    }
    diffs
}

/// Peak resident memory of this process so far (Linux `VmHWM`), in MiB.
fn peak_rss_mib() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmHWM:")).map(str::to_owned))
        .and_then(|l| l.split_whitespace().nth(1).and_then(|kb| kb.parse::<f64>().ok()))
        .map_or_else(|| "unknown".to_owned(), |kb| format!("{:.0} MiB", kb / 1024.0))
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".to_owned())
}

pub async fn run(args: BenchReportArgs) -> anyhow::Result<ExitCode> {
    if args.decisions < 1 || args.chunk < 1 {
        bail!("--decisions and --chunk must be at least 1");
    }
    let dir = tempfile::tempdir().context("temporary folder")?;
    let url = args.database.clone().unwrap_or_else(|| format!("sqlite://{}", dir.path().join("bench.db").display()));
    let store = Store::connect(&url).await.with_context(|| format!("opening {url}"))?;
    let year = Period::days(date!(2025 - 01 - 01), date!(2025 - 12 - 31));
    println!("report benchmark: {} decided cases over {}, {url}", args.decisions, year.label());
    println!("  load average before: {}", load_average());

    if args.reuse {
        println!(
            "  generating     : skipped (--reuse: the database already holds {} notices and their rollups)",
            store.count_notices().await?
        );
    } else {
        let stored = store.count_notices().await?;
        if stored > args.decisions {
            bail!("the database already holds {stored} notices, more than --decisions {}", args.decisions);
        }
        if stored > 0 {
            println!("  resuming after case {stored} (the chunks committed by an earlier run of the same command)");
        }
        let started = Instant::now();
        let (mut next, mut rollup_rows) = (stored + 1, 0);
        while next <= args.decisions {
            let last = (next + args.chunk - 1).min(args.decisions);
            let chunk_started = Instant::now();
            rollup_rows += store
                .bench_seed_decided_chunk(next, last, args.decisions, year.from, year.until - year.from)
                .await
                .with_context(|| format!("generating cases {next}..={last}"))?;
            println!("    cases {next:>9}..={last:<9}: {:>7.2} s", chunk_started.elapsed().as_secs_f64());
            next = last + 1;
        }
        println!(
            "  generating     : {:>9.2} s ({} cases, {} a transaction, each with the rollups of the days it \
             completes: {rollup_rows} rollup rows)",
            started.elapsed().as_secs_f64(),
            args.decisions - stored,
            args.chunk
        );
    }

    let started = Instant::now();
    let report = store.transparency_report(year).await.context("full report from rollups")?;
    let rollups = started.elapsed().as_secs_f64();
    println!("  full report    : {rollups:>9.3} s ({} sections, every one from rollups)", report.tables.len());
    // Once more, warm (the first read also pays for the database's page cache).
    let started = Instant::now();
    let again = store.transparency_report(year).await.context("full report from rollups, again")?;
    println!("  full report    : {:>9.3} s (again, warm)", started.elapsed().as_secs_f64());
    if again != report {
        bail!("the second report from rollups differs from the first");
    }
    if args.rebuild_rollups {
        let started = Instant::now();
        let rollup_rows = store.rebuild_rollups().await.context("rebuilding the rollups")?;
        println!(
            "  rollup rebuild : {:>9.2} s ({rollup_rows} rollup rows; `staydown report --rebuild-rollups`)",
            started.elapsed().as_secs_f64()
        );
        if store.transparency_report(year).await.context("full report after the rebuild")? != report {
            bail!("the report from the rebuilt rollups differs from the one from the rollups the chunks kept");
        }
        println!("  the report from the rebuilt rollups equals the one from the rollups the chunks kept");
    }
    if args.skip_reference {
        println!("  reference      : skipped (--skip-reference): no ratio, no agreement check in this run");
        println!("  load average after: {}", load_average());
        store.close().await;
        return Ok(ExitCode::SUCCESS);
    }
    let started = Instant::now();
    let scanned = store.transparency_report_sql(year).await.context("full report by row-scanning SQL")?;
    let sql = started.elapsed().as_secs_f64();
    println!(
        "  reference      : {sql:>9.2} s (the same report by row-scanning SQL, peak memory so far {})",
        peak_rss_mib()
    );
    println!("  ratio reference / rollups (full report): {:.1}", sql / rollups);
    // Rollups keep durations by whole minute: medians agree to the minute, counts exactly.
    let diffs = report.differences(&scanned, 60_000.0);
    if diffs.is_empty() {
        println!("  rollups and row-scanning SQL agree on every figure (medians to the minute)");
    } else {
        eprintln!("rollups and row-scanning SQL DISAGREE:\n{}", diffs.join("\n"));
    }

    if args.skip_in_memory {
        println!("  in-memory check: skipped (--skip-in-memory)");
        println!("  load average after: {}", load_average());
        store.close().await;
        return Ok(if diffs.is_empty() { ExitCode::SUCCESS } else { ExitCode::FAILURE });
    }
    // A third opinion on the notices table: every row loaded and computed in Rust.
    let table = scanned.table("notices").context("notices table")?.clone();
    let started = Instant::now();
    let rows = store.report_notice_rows(year).await.context("loading rows")?;
    let computed = reference(&rows);
    println!(
        "  in-memory check: {:>9.2} s (load {} rows, medians in Rust; notices table; peak memory {})",
        started.elapsed().as_secs_f64(),
        rows.len(),
        peak_rss_mib()
    );
    println!("  load average after: {}", load_average());
    let total = |name: &str| table.figure(&["TOTAL"], name);
    println!(
        "  figures: {:?} notices received, median time to action {:.2} h",
        total("notices_received").and_then(Figure::count).unwrap_or(0),
        total("median_time_to_action").and_then(Figure::millis).unwrap_or(0.0) / 3_600_000.0
    );
    let mut all = diffs;
    all.extend(compare(&table, &computed));
    store.close().await;
    if all.is_empty() {
        println!("  SQL and the in-memory computation agree on every figure ({} rows)", table.rows.len());
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!("DISAGREE:\n{}", all.join("\n"));
        Ok(ExitCode::FAILURE)
    }
}
