//! The libav video decoder in a bounded child process (`staydown video-child`, feature
//! `video-libav`; `staydown_vpdq::child`): the same record, metadata and digests as the `ffmpeg`
//! path on the reference's sample videos, the child's refusals come back as the same errors, and a
//! child that dies or runs past its time is an error, never a partial hash.
#![cfg(feature = "video-libav")]

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use staydown_vpdq::Sampling;
use staydown_vpdq::decode::{Limits, Tools, VideoError};

const BIN: &str = env!("CARGO_BIN_EXE_staydown");

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/vpdq/videos").join(name)
}

fn child(
    path: &std::path::Path,
    sampling: &Sampling,
    limits: &Limits,
) -> Result<staydown_vpdq::decode::HashedVideo, VideoError> {
    let args: Vec<OsString> = vec!["video-child".into()];
    staydown_vpdq::child::hash_file(BIN.as_ref(), &args, path, sampling, limits, &Tools::default())
}

#[test]
fn the_child_gives_the_ffmpeg_paths_record_metadata_and_digests() {
    for name in ["doorknob-hd-no-bar.mp4", "pattern-sd-grey-bar.mp4", "test-padded-dimensions.mp4"] {
        for sampling in [Sampling::default(), Sampling { seconds_per_hash: 0.5, dedup_distance: Some(4) }] {
            let path = fixture(name);
            let got = child(&path, &sampling, &Limits::default()).unwrap();
            let want =
                staydown_vpdq::decode::hash_file(&path, &sampling, &Limits::default(), &Tools::default()).unwrap();
            assert_eq!(got.features, want.features, "{name} {sampling:?}");
            assert_eq!(got.frames_hashed, want.frames_hashed, "{name}");
            assert_eq!((got.sha256, got.md5), (want.sha256, want.md5), "{name}");
            let (g, w) = (&got.info, &want.info);
            assert_eq!(
                (g.container, &g.codec, g.width, g.height, g.frame_rate),
                (w.container, &w.codec, w.width, w.height, w.frame_rate)
            );
            assert_eq!(g.encoder_tokens, w.encoder_tokens, "{name}");
        }
    }
}

#[test]
fn refusals_deaths_and_timeouts_come_back_as_errors() {
    let s = Sampling::default();
    let l = Limits::default();
    let video = fixture("test-padded-dimensions.mp4");
    assert!(matches!(child(&video, &s, &Limits { max_pixels: 100, ..l }), Err(VideoError::TooManyPixels { .. })));
    assert!(matches!(child(&video, &s, &Limits { max_duration_s: 1.0, ..l }), Err(VideoError::TooLong { .. })));
    assert!(matches!(child(&video, &s, &Limits { max_bytes: 1000, ..l }), Err(VideoError::TooLarge { .. })));
    let dir = tempfile::tempdir().unwrap();
    let truncated = dir.path().join("truncated.mp4");
    std::fs::write(&truncated, &std::fs::read(&video).unwrap()[..4096]).unwrap();
    assert!(matches!(child(&truncated, &s, &l), Err(VideoError::Undecodable(_))));
    let playlist = dir.path().join("list.mp4");
    std::fs::write(&playlist, b"#EXTM3U\nfile:///etc/passwd\n").unwrap();
    assert!(matches!(child(&playlist, &s, &l), Err(VideoError::UnsupportedContainer)));
    // A child that cannot live within its address space dies: an error, not a partial answer.
    let starved = Limits { max_memory_bytes: 16 << 20, ..l };
    assert!(
        matches!(child(&video, &s, &starved), Err(VideoError::Undecodable(_))),
        "{:?}",
        child(&video, &s, &starved)
    );
    let hurried = Limits { max_wall: Duration::from_millis(1), ..l };
    assert!(matches!(child(&fixture("doorknob-hd-no-bar.mp4"), &s, &hurried), Err(VideoError::TimedOut(_))));
    // A program that is not there.
    let missing =
        staydown_vpdq::child::hash_file("/nonexistent/staydown".as_ref(), &[], &video, &s, &l, &Tools::default());
    assert!(matches!(missing, Err(VideoError::Tool { .. })), "{missing:?}");
}
