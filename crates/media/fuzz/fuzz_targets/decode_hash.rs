//! Fuzz target: untrusted bytes through the production decode + hash path
//! (`staydown_media::hash_image_bytes`). Any panic, abort, leak or out-of-memory is a finding.
//!
//! Run: `cd crates/media && cargo +nightly fuzz run decode_hash fuzz/corpus/decode_hash fuzz/seeds`
//! (docs/pdq.md records how long it ran and what it found).
#![no_main]

use libfuzzer_sys::fuzz_target;
use staydown_media::{DecodeLimits, hash_image_bytes};

fuzz_target!(|data: &[u8]| {
    // Smaller limits than production so that each input stays fast and well under libFuzzer's
    // 2 GB RSS limit; the code paths (header check, allocation check, decode) are the same.
    let limits = DecodeLimits {
        max_bytes: 1 << 20,
        max_pixels: 4_000_000,
        max_alloc_bytes: 64 << 20,
        ..DecodeLimits::default()
    };
    if let Ok(hashes) = hash_image_bytes(data, &limits) {
        assert!(hashes.quality <= 100);
        assert!(u64::from(hashes.width) * u64::from(hashes.height) <= limits.max_pixels);
    }
});
