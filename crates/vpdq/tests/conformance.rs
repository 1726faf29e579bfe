//! Conformance against the reference: ThreatExchange `vpdq`'s sample hashes (fixtures/vpdq, from
//! `facebook/ThreatExchange` `vpdq/sample-hashes` and `tmk/sample-videos`, BSD licence).
//!
//! Every frame is hashed (`seconds_per_hash = 0`, as the sample hashes were made), at the coded
//! size and downscaled to 128×128. The same frames must come out (frame numbers and count equal),
//! each hash within [`MAX_DISTANCE`] bits of the reference's and each quality within
//! [`MAX_QUALITY_DELTA`] points: the reference links libswscale directly, we run Debian's ffmpeg
//! binary, and the two builds' YUV→RGB conversion can differ by a unit in a few pixels.

use std::path::PathBuf;

use staydown_vpdq::decode::{Limits, Tools, hash_file_with};
use staydown_vpdq::{Sampling, parse_vpdq_file};

/// Largest Hamming distance allowed between our frame hash and the reference's.
const MAX_DISTANCE: u32 = 16;
/// Largest quality difference allowed.
const MAX_QUALITY_DELTA: u8 = 5;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/vpdq")
}

fn check(name: &str, size: Option<(u32, u32)>) -> (u32, f64, usize) {
    let suffix = if size.is_some() { "-128x128" } else { "" };
    let expected_text = std::fs::read_to_string(fixtures().join(format!("expected/{name}{suffix}.txt"))).unwrap();
    let expected = parse_vpdq_file(&expected_text, 100_000).unwrap();
    let sampling = Sampling { seconds_per_hash: 0.0, dedup_distance: None };
    let got = hash_file_with(&fixtures().join(format!("videos/{name}.mp4")), &sampling, &Limits::default(), &Tools::default(), size)
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(got.features.len(), expected.len(), "{name}{suffix}: frame count");
    let (mut worst, mut sum, mut exact) = (0, 0u64, 0);
    for (g, e) in got.features.iter().zip(&expected) {
        assert_eq!(g.frame_number, e.frame_number, "{name}{suffix}");
        assert!((g.timestamp - e.timestamp).abs() < 0.0011, "{name}{suffix} frame {}: timestamp {} vs {}", e.frame_number, g.timestamp, e.timestamp);
        let d = g.hash.hamming_distance(&e.hash);
        if std::env::var_os("VPDQ_CONFORMANCE_DUMP").is_some() {
            eprintln!("{name}{suffix} frame {} d {d} q {} vs {}", e.frame_number, g.quality, e.quality);
            continue;
        }
        assert!(d <= MAX_DISTANCE, "{name}{suffix} frame {}: distance {d}", e.frame_number);
        assert!(g.quality.abs_diff(e.quality) <= MAX_QUALITY_DELTA, "{name}{suffix} frame {}: quality {} vs {}", e.frame_number, g.quality, e.quality);
        worst = worst.max(d);
        sum += u64::from(d);
        exact += usize::from(d == 0);
    }
    let mean = sum as f64 / expected.len() as f64;
    eprintln!("{name}{suffix}: {} frames, worst distance {worst}, mean {mean:.2}, identical {exact}", expected.len());
    (worst, mean, exact)
}

#[test]
fn doorknob_matches_the_reference() {
    check("doorknob-hd-no-bar", None);
    check("doorknob-hd-no-bar", Some((128, 128)));
}

#[test]
fn padded_dimensions_match_the_reference() {
    check("test-padded-dimensions", None);
}

#[test]
fn pattern_grey_bar_matches_the_reference() {
    check("pattern-sd-grey-bar", None);
    check("pattern-sd-grey-bar", Some((128, 128)));
}
