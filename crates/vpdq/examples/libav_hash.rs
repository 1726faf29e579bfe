//! Times `staydown_vpdq::libav::hash_file` on one file (`bench/vpdq_libav.sh` runs it beside the
//! reference): prints the vPDQ record to stdout, and wall time, CPU seconds (this process, all
//! threads, from `/proc/self/stat`) and the decode statistics to stderr.
//!
//! `libav_hash FILE THREADS SECONDS_PER_HASH` (THREADS 0: libavcodec chooses).

use std::time::Instant;

fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<f64> = rest.split_whitespace().filter_map(|x| x.parse().ok()).collect();
    // After ')': the state letter is dropped by the numeric filter; utime and stime are f[10], f[11].
    f.get(10).zip(f.get(11)).map_or(f64::NAN, |(u, s)| (u + s) / 100.0)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, path, threads, seconds_per_hash] = args.as_slice() else {
        return Err("usage: libav_hash FILE THREADS SECONDS_PER_HASH".into());
    };
    let limits = staydown_vpdq::decode::Limits { threads: threads.parse()?, ..Default::default() };
    let sampling = staydown_vpdq::Sampling { seconds_per_hash: seconds_per_hash.parse()?, dedup_distance: None };
    let (t, c) = (Instant::now(), cpu_seconds());
    let (video, stats) = staydown_vpdq::libav::hash_file(std::path::Path::new(path), &sampling, &limits, None)?;
    let (wall, cpu) = (t.elapsed().as_secs_f64(), cpu_seconds() - c);
    print!("{}", staydown_vpdq::to_vpdq_file(&video.features));
    eprintln!("{path}: threads={threads} {stats:?} hashed={} wall={wall:.3}s cpu={cpu:.3}s", video.features.len());
    Ok(())
}
