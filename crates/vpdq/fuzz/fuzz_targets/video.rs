//! Fuzz target: untrusted bytes through the video path (issue 17). The bytes are read as a vPDQ
//! file (the JSON/import path) and matched against themselves, and, when they sniff as a video
//! container, written to a file and decoded by the bounded ffmpeg subprocess and hashed
//! (`staydown_vpdq::decode::hash_bytes`, the upload path). Any panic, abort, hang past the wall
//! bound or unbounded allocation in this process is a finding; ffmpeg's own crashes come back as
//! `Undecodable` errors by design.
//!
//! Run: `cd crates/vpdq/fuzz && cargo +nightly fuzz run video corpus/video seeds -- -max_total_time=660 -timeout=30`
//! (docs/video.md records how long it ran and what it found).
#![no_main]

use libfuzzer_sys::fuzz_target;
use staydown_vpdq::decode::{Limits, Tools, hash_bytes};
use staydown_vpdq::matching::match_two_hash_brute;
use staydown_vpdq::{Sampling, parse_vpdq_file, to_vpdq_file};

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data)
        && let Ok(features) = parse_vpdq_file(text, 1000)
    {
        assert!(features.iter().all(|f| f.quality <= 100));
        // Writing and reading back gives the same frames.
        let again = parse_vpdq_file(&to_vpdq_file(&features), 1000).expect("own output parses");
        assert_eq!(again.len(), features.len());
        let m = match_two_hash_brute(&features, &features, 32, 0);
        assert!(m.query == 100.0 && m.target == 100.0);
    }
    // Small bounds so every input stays fast; the code paths are the production ones.
    let limits = Limits {
        max_bytes: 1 << 20,
        max_duration_s: 30.0,
        max_pixels: 1920 * 1080,
        max_frames: 60,
        max_wall: std::time::Duration::from_secs(10),
        max_memory_bytes: 1 << 30,
        threads: 1,
        ..Limits::default()
    };
    if let Ok(v) = hash_bytes(data, &Sampling::default(), &limits, &Tools::default()) {
        assert!(!v.features.is_empty() && v.features.len() as u64 <= limits.max_frames);
        assert!(u64::from(v.info.width) * u64::from(v.info.height) <= limits.max_pixels);
    }
});
