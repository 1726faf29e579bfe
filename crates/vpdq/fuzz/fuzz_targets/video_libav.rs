//! Fuzz target: untrusted bytes through the libav decoder (`staydown_vpdq::libav::hash_bytes`,
//! what `staydown video-child` runs for the server), with two workers so that streams cut into
//! segments are decoded side by side. A panic, abort, hang past the wall bound or unbounded
//! allocation in this process is a finding. (libav's own code is not instrumented; in the server
//! it runs in a bounded child process.)
//!
//! Run: `cd crates/vpdq/fuzz && cargo +nightly fuzz run video_libav corpus/video_libav seeds -- -max_total_time=660 -timeout=30`
//! (docs/video.md records how long it ran and what it found).
#![no_main]

use libfuzzer_sys::fuzz_target;
use staydown_vpdq::Sampling;
use staydown_vpdq::decode::Limits;
use staydown_vpdq::libav::hash_bytes;

fuzz_target!(|data: &[u8]| {
    let limits = Limits {
        max_bytes: 1 << 20,
        max_duration_s: 30.0,
        max_pixels: 1920 * 1080,
        max_frames: 60,
        max_wall: std::time::Duration::from_secs(10),
        threads: 2,
        ..Limits::default()
    };
    if let Ok((v, stats)) = hash_bytes(data, &Sampling::default(), &limits) {
        assert!(!v.features.is_empty() && v.features.len() as u64 <= limits.max_frames);
        assert!(u64::from(v.info.width) * u64::from(v.info.height) <= limits.max_pixels);
        assert!(v.features.windows(2).all(|w| w[0].frame_number < w[1].frame_number));
        assert!(stats.workers <= 2);
    }
});
