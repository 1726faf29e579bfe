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
    // Found by fuzzing (`fuzz/seeds/regress-sws-abort.mpg`): an MPEG-1 stream whose pixel format is
    // unknown until a frame decodes; a converter made up front made swscale abort the process.
    let seed = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds/regress-sws-abort.mpg");
    assert!(hash_bytes(&std::fs::read(seed).unwrap(), &s, &l).is_err());
    // Found by fuzzing (`fuzz/seeds/regress-read-error-loop.mp4`): every read after the 100th packet
    // fails (ENOMEM); `ffmpeg-next`'s packet iterator retried it forever. Reading stops there, as the
    // reference's loop does, and the frames before it are hashed. (The channel turns a hang into a
    // failure instead of a stuck test run; it measures no speed.)
    let seed = std::fs::read(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds/regress-read-error-loop.mp4"));
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(hash_bytes(&seed.unwrap(), &Sampling::default(), &Limits::default()));
    });
    let (video, stats) = rx.recv_timeout(std::time::Duration::from_secs(300)).expect("returns").unwrap();
    assert_eq!((stats.packets, video.features.len()), (100, 4), "{stats:?}");
    let every = Sampling { seconds_per_hash: 0.0, dedup_distance: None };
    assert!(matches!(
        hash_bytes(&bytes, &every, &Limits { max_wall: std::time::Duration::from_millis(1), ..l }),
        Err(VideoError::TimedOut(_))
    ));
}

/// Makes a 12-second 320×240 test clip with FFmpeg's own encoders (`.ci/run` installs `ffmpeg`).
fn encode(dir: &std::path::Path, name: &str, rate: u32, codec: &[&str]) -> PathBuf {
    let out = dir.join(name);
    let src = format!("testsrc2=size=320x240:rate={rate}:duration=12");
    let mut args = vec!["-nostdin", "-v", "error", "-f", "lavfi", "-i", &src];
    args.extend_from_slice(codec);
    args.extend_from_slice(&["-pix_fmt", "yuv420p", out.to_str().unwrap()]);
    let status = std::process::Command::new("ffmpeg").args(&args).status().expect("ffmpeg runs");
    assert!(status.success(), "ffmpeg {args:?}");
    out
}

#[test]
fn streams_cut_at_idr_pictures_give_the_frames_of_the_every_frame_decode() {
    let dir = tempfile::tempdir().unwrap();
    let x264 = ["-c:v", "libx264", "-preset", "veryfast", "-bf", "3"];
    let closed264: Vec<&str> = x264.iter().copied().chain(["-g", "50", "-keyint_min", "50"]).collect();
    let open264: Vec<&str> = x264.iter().copied().chain(["-g", "50", "-x264-params", "open-gop=1"]).collect();
    // (file, cut into several segments?)
    let cases = [
        (encode(dir.path(), "closed.mp4", 30, &closed264), true),
        (encode(dir.path(), "closed.mkv", 30, &closed264), true),
        // Open GOPs start at non-IDR I pictures whose leading B-pictures refer back: never cut.
        (encode(dir.path(), "open.mp4", 30, &open264), false),
        (
            encode(
                dir.path(),
                "closed-hevc.mp4",
                25,
                &[
                    "-c:v",
                    "libx265",
                    "-preset",
                    "ultrafast",
                    "-x265-params",
                    "keyint=40:min-keyint=40:open-gop=0:bframes=3:log-level=error",
                ],
            ),
            true,
        ),
        // x265's default open GOPs: CRA pictures with RASL leading pictures, never cut.
        (
            encode(
                dir.path(),
                "open-hevc.mp4",
                25,
                &[
                    "-c:v",
                    "libx265",
                    "-preset",
                    "ultrafast",
                    "-x265-params",
                    "keyint=40:min-keyint=40:bframes=3:log-level=error",
                ],
            ),
            false,
        ),
    ];
    let every = Sampling { seconds_per_hash: 0.0, dedup_distance: None };
    for (path, cut) in &cases {
        let name = path.file_name().unwrap().to_string_lossy();
        let (all, all_stats) = hash_file(path, &every, &Limits { threads: 1, ..Limits::default() }, None).unwrap();
        assert_eq!(all_stats.segments, 0, "{name}: every frame sampled, nothing to cut");
        let step = Sampling::default().frame_step(all.info.frame_rate);
        let want: Vec<Feature> = all.features.iter().filter(|f| f.frame_number % step == 0).cloned().collect();
        assert_eq!(want.len(), 12, "{name}");
        // One worker, and three side by side (more than this machine may have cores).
        for threads in [1, 3] {
            let limits = Limits { threads, ..Limits::default() };
            let (got, stats) = hash_file(path, &Sampling::default(), &limits, None).unwrap();
            same(&format!("{name} threads={threads}"), &got.features, &want);
            assert!(stats.skipped_nonref, "{name}: {stats:?}");
            assert!(stats.frames_decoded < all_stats.frames_decoded, "{name}: {stats:?} decoded less");
            if *cut {
                assert!(stats.segments >= 4, "{name}: {stats:?} cut at its IDR pictures");
                assert_eq!(stats.workers, if threads == 1 { 1 } else { 3 }, "{name}: {stats:?}");
            } else {
                assert_eq!(stats.segments, 1, "{name}: {stats:?} never cut");
            }
            assert_eq!((got.sha256, got.md5), (all.sha256, all.md5));
        }
    }
}
