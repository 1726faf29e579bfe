//! `staydown bench index`: queries/s, build time and memory of the match index, against brute
//! force in the same run (issue 5, design §5).
//!
//! The data is synthetic and seeded: uniformly random 256-bit hashes (ids 0..n), and queries of
//! which every even one is a planted near-duplicate of a random entry at a distance drawn
//! uniformly from 0..=radius and every odd one is random. Random hashes are the hard case for
//! filtering (real PDQ banks cluster more), and the planted half makes recall meaningful.
//!
//! Recall is checked against brute force over **all** queries; the index must return exactly
//! the brute-force set (recall 1.0 and no extra entries), else the command fails.
//! `--dump DIR` writes the entries, queries, the brute-force truth and the final JSON line so
//! that `bench/faiss_index.py DIR` runs FAISS on the very same data.
//!
//! `--dihedral` (issue 14) measures what matching rotations and mirror images costs: every upload
//! is searched as its eight dihedral variants, as screening does for banks with `dihedral` on.
//! The variants are derived from each query's bits (transposition and sign-pattern inversions of
//! the 16×16 bit block — for random hashes they are just seven more random-looking queries, which
//! is the cost that matters here; real variants come from one DCT, `staydown bench pdq`). The
//! query list then holds 8 hashes per upload, so the dump and FAISS run the same 8 searches, and
//! uploads/s is queries/s ÷ 8 for both. The same run also times each upload's own hash searched
//! alone (the plain, non-dihedral cost), so the two figures come from one data set and one build.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context as _, bail, ensure};
use staydown_index::{Hash256, Match, MatchIndex, SplitMix64};

#[derive(Debug, clap::Args)]
pub struct BenchIndexArgs {
    /// Number of random entries in the index.
    #[arg(long, default_value_t = 1_000_000)]
    entries: usize,
    /// Number of queries (half planted near-duplicates, half random).
    #[arg(long, default_value_t = 10_000)]
    queries: usize,
    /// Search radius (Hamming distance, inclusive).
    #[arg(long, default_value_t = 31)]
    radius: u32,
    /// Threads for the multi-threaded runs (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
    /// Seed of the data generator.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Queries used for the single-thread brute-force timing (the first ones; the
    /// multi-threaded brute force that checks recall always runs all of them).
    #[arg(long, default_value_t = 1_000)]
    brute_queries: usize,
    /// Write entries, queries, truth and the result JSON here for `bench/faiss_index.py`.
    #[arg(long)]
    dump: Option<PathBuf>,
    /// Search every upload as its eight dihedral variants (the cost of per-bank `dihedral`).
    #[arg(long)]
    dihedral: bool,
    /// Chunk tables of index levels of 2^21 entries or more (2..=16; the default is the
    /// index's, 12): fewer tables take less memory and find more candidates per query.
    #[arg(long, value_parser = clap::value_parser!(u8).range(2..=16))]
    tables: Option<u8>,
}

/// The eight dihedral variants of a hash's 16×16 bit block (bit `16·i + j` in the reference's
/// numbering is bit `k % 64` of word `3 − k / 64`, as `Hash256` stores the big-endian bytes):
/// original, then transposition and the sign patterns of the rotations and flips applied as bit
/// inversions. The same transforms as `staydown_pdq`'s dihedral table, on bits.
fn dihedral_variants(words: &[u64; 4]) -> [[u64; 4]; 8] {
    let bit = |w: &[u64; 4], k: usize| (w[3 - k / 64] >> (k % 64)) & 1 == 1;
    let mut out = [[0u64; 4]; 8];
    for (t, variant) in out.iter_mut().enumerate() {
        for i in 0..16 {
            for j in 0..16 {
                let (odd_i, odd_j) = (i % 2 == 1, j % 2 == 1);
                let (transpose, keep) = match t {
                    0 => (false, true),
                    1 => (true, odd_j),
                    2 => (false, !(odd_i ^ odd_j)),
                    3 => (true, odd_i),
                    4 => (false, odd_i),
                    5 => (false, odd_j),
                    6 => (true, true),
                    _ => (true, !(odd_i ^ odd_j)),
                };
                if bit(words, i * 16 + j) == keep {
                    let k = if transpose { j * 16 + i } else { i * 16 + j };
                    variant[3 - k / 64] |= 1 << (k % 64);
                }
            }
        }
    }
    out
}

struct Data {
    entries: Vec<[u64; 4]>,
    queries: Vec<[u64; 4]>,
}

fn generate(n_entries: usize, n_queries: usize, radius: u32, seed: u64) -> Data {
    let mut rng = SplitMix64(seed);
    let entries: Vec<[u64; 4]> = (0..n_entries).map(|_| rng.hash().0).collect();
    let max_distance = u64::from(radius.min(256));
    let queries = (0..n_queries)
        .map(|i| {
            if i % 2 == 1 || entries.is_empty() {
                return rng.hash().0;
            }
            // usize -> u64 is lossless on every supported target.
            let mut query = entries[rng.below(entries.len() as u64) as usize];
            let distance = rng.below(max_distance + 1) as usize;
            // Partial Fisher-Yates: `distance` distinct bit positions.
            let mut bits: Vec<usize> = (0..256).collect();
            for k in 0..distance {
                let j = k + rng.below((256 - k) as u64) as usize;
                bits.swap(k, j);
                query[bits[k] / 64] ^= 1 << (bits[k] % 64);
            }
            query
        })
        .collect();
    Data { entries, queries }
}

/// The baseline: one pass over a flat array, four XOR + popcount per entry.
fn brute_force(entries: &[[u64; 4]], query: &[u64; 4], radius: u32, out: &mut Vec<Match>) {
    out.clear();
    for (entry_id, entry) in (0u64..).zip(entries) {
        let distance = (entry[0] ^ query[0]).count_ones()
            + (entry[1] ^ query[1]).count_ones()
            + (entry[2] ^ query[2]).count_ones()
            + (entry[3] ^ query[3]).count_ones();
        if distance <= radius {
            out.push(Match { distance, entry_id });
        }
    }
}

/// Runs `search` over `queries` on `threads` threads (contiguous shares); returns the results
/// in query order and the wall-clock seconds.
fn timed_parallel<F>(queries: &[[u64; 4]], threads: usize, search: F) -> (Vec<Vec<Match>>, f64)
where
    F: Fn(&[u64; 4], &mut Vec<Match>) + Sync,
{
    let share = queries.len().div_ceil(threads.max(1)).max(1);
    let start = Instant::now();
    let results: Vec<Vec<Match>> = std::thread::scope(|scope| {
        let handles: Vec<_> = queries
            .chunks(share)
            .map(|chunk| {
                let search = &search;
                scope.spawn(move || {
                    let mut buf = Vec::new();
                    chunk
                        .iter()
                        .map(|q| {
                            search(q, &mut buf);
                            buf.clone()
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))).collect()
    });
    (results, start.elapsed().as_secs_f64())
}

/// Resident set size of this process from /proc (Linux), for a cross-check of `heap_bytes`.
fn rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

fn write_words(path: &Path, hashes: &[[u64; 4]]) -> anyhow::Result<()> {
    let mut bytes = Vec::with_capacity(hashes.len() * 32);
    for hash in hashes {
        for word in hash {
            bytes.extend_from_slice(&word.to_le_bytes());
        }
    }
    std::fs::write(path, bytes).with_context(|| format!("writing {}", path.display()))
}

fn dump(dir: &Path, data: &Data, truth: &[Vec<Match>], radius: u32, seed: u64) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    write_words(&dir.join("entries.bin"), &data.entries)?;
    write_words(&dir.join("queries.bin"), &data.queries)?;
    let mut counts = Vec::with_capacity(truth.len() * 4);
    let mut ids = Vec::new();
    for matches in truth {
        let n = u32::try_from(matches.len()).context("too many matches for one query")?;
        counts.extend_from_slice(&n.to_le_bytes());
        let mut sorted: Vec<u64> = matches.iter().map(|m| m.entry_id).collect();
        sorted.sort_unstable();
        for id in sorted {
            ids.extend_from_slice(&id.to_le_bytes());
        }
    }
    std::fs::write(dir.join("truth_counts.bin"), counts).context("writing truth_counts.bin")?;
    std::fs::write(dir.join("truth_ids.bin"), ids).context("writing truth_ids.bin")?;
    let meta = serde_json::json!({
        "entries": data.entries.len(),
        "queries": data.queries.len(),
        "radius": radius,
        "seed": seed,
        "layout": "entries.bin/queries.bin: 32 bytes per hash (4 little-endian u64); \
                   truth_counts.bin: u32 LE per query; truth_ids.bin: u64 LE entry ids \
                   (= row numbers of entries.bin), ascending per query",
    });
    std::fs::write(dir.join("meta.json"), format!("{meta}\n")).context("writing meta.json")?;
    Ok(())
}

fn per_second(count: usize, seconds: f64) -> f64 {
    if seconds > 0.0 { count as f64 / seconds } else { f64::INFINITY }
}

pub fn run(args: BenchIndexArgs) -> anyhow::Result<ExitCode> {
    let BenchIndexArgs {
        entries: n,
        queries: n_queries,
        radius,
        threads,
        seed,
        brute_queries,
        dump: dump_dir,
        dihedral,
        tables,
    } = args;
    ensure!(n > 0, "--entries must be at least 1");
    ensure!(n_queries > 0, "--queries must be at least 1");
    let threads = threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from)).max(1);
    let raw_bytes = n * 32;

    eprintln!("generating {n} entries and {n_queries} queries (seed {seed})…");
    let mut data = generate(n, n_queries, radius, seed);
    let per_upload = if dihedral { 8 } else { 1 };
    if dihedral {
        data.queries = data.queries.iter().flat_map(dihedral_variants).collect();
    }

    let rss_before = rss_bytes();
    let start = Instant::now();
    let entries = (0u64..).zip(data.entries.iter().map(|w| Hash256(*w)));
    let index = match tables {
        Some(tables) => MatchIndex::from_entries_with_tables(entries, usize::from(tables)),
        None => MatchIndex::from_entries(entries),
    };
    let build_s = start.elapsed().as_secs_f64();
    let rss_after = rss_bytes();
    let memory_bytes = index.heap_bytes();

    // Index, one thread.
    let search = |q: &[u64; 4], out: &mut Vec<Match>| index.search_into(&Hash256(*q), radius, out);
    let (results, seconds_1) = timed_parallel(&data.queries, 1, search);
    let qps_1 = per_second(data.queries.len(), seconds_1);
    // Index, all threads.
    let (results_n, seconds_n) = timed_parallel(&data.queries, threads, search);
    let qps_n = per_second(data.queries.len(), seconds_n);
    ensure!(results == results_n, "multi-threaded results differ from single-threaded ones");
    // With --dihedral, the plain figure in the same run: each upload's own hash (variant 0, every
    // 8th query) searched alone, one thread — what a bank with `dihedral = false` costs.
    let plain = if dihedral {
        let originals: Vec<[u64; 4]> = data.queries.iter().step_by(per_upload).copied().collect();
        let (plain_results, seconds) = timed_parallel(&originals, 1, search);
        let same = plain_results.iter().zip(results.iter().step_by(per_upload)).all(|(a, b)| a == b);
        ensure!(same, "plain searches differ from the same queries' results in the dihedral run");
        Some(per_second(originals.len(), seconds))
    } else {
        None
    };

    // Brute force: single thread on a subset for its speed, all threads on all queries for
    // the truth.
    let brute = |q: &[u64; 4], out: &mut Vec<Match>| {
        brute_force(&data.entries, q, radius, out);
        out.sort_unstable();
    };
    let subset = &data.queries[..brute_queries.clamp(1, data.queries.len())];
    eprintln!("brute force on {} queries, one thread…", subset.len());
    let (_, brute_seconds_1) = timed_parallel(subset, 1, brute);
    let brute_qps_1 = per_second(subset.len(), brute_seconds_1);
    eprintln!("brute force on all {} queries, {threads} threads (the truth for recall)…", data.queries.len());
    let (truth, brute_seconds_n) = timed_parallel(&data.queries, threads, brute);
    let brute_qps_n = per_second(data.queries.len(), brute_seconds_n);

    let mut expected = 0usize;
    let mut found = 0usize;
    let mut extra = 0usize;
    for (got, want) in results.iter().zip(&truth) {
        expected += want.len();
        found += got.iter().filter(|m| want.binary_search(m).is_ok()).count();
        extra += got.iter().filter(|m| want.binary_search(m).is_err()).count();
    }
    let recall = if expected == 0 { 1.0 } else { found as f64 / expected as f64 };
    let planted_matched = results.iter().step_by(2 * per_upload).filter(|r| !r.is_empty()).count();

    let mut out = std::io::stdout().lock();
    writeln!(out, "staydown bench index: {n} entries, {n_queries} queries, radius {radius}, seed {seed}")?;
    writeln!(
        out,
        "  build             {build_s:.3} s ({} level; {} tables in levels of 2^21 entries or more)",
        index.level_count(),
        tables.map_or_else(|| "12 (default)".to_owned(), |t| t.to_string())
    )?;
    writeln!(
        out,
        "  memory            {memory_bytes} bytes = {:.2} × raw hash bytes ({raw_bytes}), {:.1} bytes/entry \
         (sum of the index's array capacities × element sizes; RSS grew by {})",
        memory_bytes as f64 / raw_bytes as f64,
        memory_bytes as f64 / n as f64,
        match (rss_before, rss_after) {
            (Some(a), Some(b)) => format!("{} bytes", b.saturating_sub(a)),
            _ => "n/a".to_owned(),
        }
    )?;
    writeln!(out, "  index             {qps_1:.0} queries/s (1 thread), {qps_n:.0} queries/s ({threads} threads)")?;
    writeln!(
        out,
        "  brute force       {brute_qps_1:.0} queries/s (1 thread, {} queries), {brute_qps_n:.0} queries/s ({threads} threads, all)",
        subset.len()
    )?;
    writeln!(
        out,
        "  speed-up          {:.1}× (1 thread), {:.1}× ({threads} threads)",
        qps_1 / brute_qps_1,
        qps_n / brute_qps_n
    )?;
    writeln!(
        out,
        "  recall            {recall} ({found} of {expected} brute-force matches, {extra} extra); \
         planted queries with a match: {planted_matched} of {}",
        (data.queries.len() / per_upload).div_ceil(2)
    )?;
    if dihedral {
        writeln!(
            out,
            "  dihedral          {:.0} uploads/s (1 thread), {:.0} uploads/s ({threads} threads): each upload is 8 searches",
            qps_1 / 8.0,
            qps_n / 8.0
        )?;
    }
    if let Some(plain_qps) = plain {
        writeln!(
            out,
            "  plain             {plain_qps:.0} uploads/s (1 thread, the same uploads' own hashes only); \
             dihedral costs {:.1}× the plain search per upload",
            plain_qps / (qps_1 / 8.0)
        )?;
    }
    let json = serde_json::json!({
        "entries": n,
        "queries": data.queries.len(),
        "radius": radius,
        "threads": threads,
        "qps": qps_n,
        "brute_force_qps": brute_qps_n,
        "recall": recall,
        "memory_bytes": memory_bytes,
        "memory_bytes_per_entry": memory_bytes as f64 / n as f64,
        "memory_ratio_to_raw": memory_bytes as f64 / raw_bytes as f64,
        "build_s": build_s,
        "qps_single_thread": qps_1,
        "brute_force_qps_single_thread": brute_qps_1,
        "seed": seed,
        "dihedral": dihedral,
        "large_level_tables": tables.unwrap_or(12),
        "uploads_per_s": qps_n / per_upload as f64,
        "uploads_per_s_single_thread": qps_1 / per_upload as f64,
        "plain_uploads_per_s_single_thread": plain,
    });
    if let Some(dir) = &dump_dir {
        dump(dir, &data, &truth, radius, seed)?;
        std::fs::write(dir.join("staydown.json"), format!("{json}\n")).context("writing staydown.json")?;
        writeln!(out, "  dumped data to {} (run bench/faiss_index.py on it)", dir.display())?;
    }
    writeln!(out, "{json}")?;
    if extra > 0 || found != expected {
        bail!("the index disagrees with brute force: recall {recall}, {extra} extra matches");
    }
    Ok(ExitCode::SUCCESS)
}
