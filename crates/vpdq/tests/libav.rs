//! The in-process decoder (`staydown_vpdq::libav`, feature `libav`) against PyPI `vpdq` 0.2.5 built
//! here (`fixtures/vpdq/expected-pypi/`, see `conformance.rs`) and against the `ffmpeg` subprocess
//! path: the same frames, bit-identical hashes, while decoding fewer frames at one per second.

use std::path::PathBuf;

use staydown_vpdq::decode::{Limits, Tools, VideoError};
use staydown_vpdq::libav::{hash_bytes, hash_file};
use staydown_vpdq::{Feature, Sampling, parse_vpdq_file};

const FIXTURES: [&str; 3] = ["doorknob-hd-no-bar", "pattern-sd-grey-bar", "test-padded-dimensions"];

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/vpdq")
}

fn expected(name: &str, size: Option<(u32, u32)>) -> Vec<Feature> {
    let suffix = if size.is_some() { "-128x128" } else { "" };
    let text = std::fs::read_to_string(fixtures().join(format!("expected-pypi/{name}{suffix}.txt"))).unwrap();
    parse_vpdq_file(&text, 100_000).unwrap()
}

fn same(label: &str, got: &[Feature], want: &[Feature]) {
    assert_eq!(got.len(), want.len(), "{label}: frame count");
    for (g, w) in got.iter().zip(want) {
        assert_eq!(
            (g.frame_number, g.quality, g.hash, format!("{:.3}", g.timestamp)),
            (w.frame_number, w.quality, w.hash, format!("{:.3}", w.timestamp)),
            "{label}: frame {}",
            w.frame_number
        );
    }
}

#[test]
fn every_frame_is_bit_identical_to_pypi_vpdq() {
    let every = Sampling { seconds_per_hash: 0.0, dedup_distance: None };
    for name in FIXTURES {
        for size in [None, Some((128, 128))] {
            let path = fixtures().join(format!("videos/{name}.mp4"));
            let (got, stats) = hash_file(&path, &every, &Limits::default(), size).unwrap();
            same(&format!("{name} {size:?}"), &got.features, &expected(name, size));
            assert!(!stats.skipped_nonref, "every frame is sampled: nothing to skip");
            assert_eq!(stats.frames_decoded, got.features.len() as u64);
        }
    }
}

#[test]
fn one_frame_per_second_skips_unsampled_nonreference_frames_and_keeps_the_frames() {
    for name in FIXTURES {
        let path = fixtures().join(format!("videos/{name}.mp4"));
        let (got, stats) = hash_file(&path, &Sampling::default(), &Limits::default(), None).unwrap();
        let step = Sampling::default().frame_step(got.info.frame_rate);
        let want: Vec<Feature> = expected(name, None).into_iter().filter(|f| f.frame_number % step == 0).collect();
        same(&format!("{name} 1 fps vs PyPI vpdq"), &got.features, &want);
        assert!(stats.skipped_nonref, "{name}: H.264 in MP4 takes the skipping path");
        assert!(stats.frames_decoded < stats.packets, "{name}: {stats:?} decoded fewer frames than packets");
        // The subprocess path gives the same record, metadata included.
        let sub = staydown_vpdq::decode::hash_file(&path, &Sampling::default(), &Limits::default(), &Tools::default())
            .unwrap();
        same(&format!("{name} libav vs ffmpeg subprocess"), &got.features, &sub.features);
        assert_eq!(
            (&got.info.codec, got.info.width, got.info.height),
            (&sub.info.codec, sub.info.width, sub.info.height)
        );
        assert_eq!(got.info.frame_rate, sub.info.frame_rate);
        assert_eq!(got.info.encoder_tokens, sub.info.encoder_tokens);
        let (a, b) = (got.info.duration_s.unwrap(), sub.info.duration_s.unwrap());
        assert!((a - b).abs() < 1e-3, "{name}: duration {a} vs {b}");
        assert_eq!((got.sha256, got.md5), (sub.sha256, sub.md5));
    }
}

#[test]
fn other_codecs_decode_every_frame_like_the_subprocess() {
    // VP9/WebM, MPEG-4 Part 2/AVI, MPEG-2/TS (the fuzz seeds): not eligible for skipping; the frames
    // are counted as the decoder outputs them, as the reference and the subprocess path do.
    let every = Sampling { seconds_per_hash: 0.0, dedup_distance: None };
    for seed in ["tiny.webm", "tiny.avi", "tiny.ts", "tiny.mp4"] {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds").join(seed);
        for sampling in [Sampling::default(), every] {
            let (got, stats) = hash_file(&path, &sampling, &Limits::default(), None).unwrap();
            let sub =
                staydown_vpdq::decode::hash_file(&path, &sampling, &Limits::default(), &Tools::default()).unwrap();
            same(&format!("{seed} {}", sampling.seconds_per_hash), &got.features, &sub.features);
            if seed != "tiny.mp4" {
                assert!(!stats.skipped_nonref, "{seed}");
            }
        }
    }
}

#[test]
fn hostile_inputs_are_refused_with_reasons() {
    let s = Sampling::default();
    let l = Limits::default();
    assert!(matches!(
        hash_bytes(b"#EXTM3U\n#EXTINF:1,\nfile:///etc/passwd\n", &s, &l),
        Err(VideoError::UnsupportedContainer)
    ));
    let bytes = std::fs::read(fixtures().join("videos/test-padded-dimensions.mp4")).unwrap();
    // Truncated: an error, never a partial hash or a panic.
    assert!(hash_bytes(&bytes[..4096], &s, &l).is_err());
    // An MP4 header in front of a playlist: the demuxer is held to the sniffed one.
    let mut fake = b"\0\0\0\x20ftypisom\0\0\0\0isomiso2avc1mp41".to_vec();
    fake.extend_from_slice(b"#EXTM3U\n#EXTINF:1,\nfile:///etc/passwd\n");
    assert!(hash_bytes(&fake, &s, &l).is_err());
    assert!(matches!(hash_bytes(&bytes, &s, &Limits { max_bytes: 1000, ..l }), Err(VideoError::TooLarge { .. })));
    assert!(matches!(hash_bytes(&bytes, &s, &Limits { max_pixels: 100, ..l }), Err(VideoError::TooManyPixels { .. })));
    assert!(matches!(hash_bytes(&bytes, &s, &Limits { max_duration_s: 1.0, ..l }), Err(VideoError::TooLong { .. })));
    assert!(matches!(hash_bytes(&bytes, &s, &Limits { max_frames: 2, ..l }), Err(VideoError::TooLong { .. })));
    assert!(matches!(
        hash_bytes(&bytes, &s, &Limits { max_frame_rate: 10.0, ..l }),
        Err(VideoError::BadFrameRate { .. })
    ));
    let every = Sampling { seconds_per_hash: 0.0, dedup_distance: None };
    assert!(matches!(
        hash_bytes(&bytes, &every, &Limits { max_wall: std::time::Duration::from_millis(1), ..l }),
        Err(VideoError::TimedOut(_))
    ));
}
