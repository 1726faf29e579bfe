//! SplitMix64: a tiny seeded generator for reproducible random hashes in tests and benchmarks.
//!
//! Not for anything secret. It lives in the index crate so that the property tests and
//! `staydown bench index` draw their data the same way, and so any run can be reproduced from
//! its seed (and re-implemented in a few lines by an outside comparison such as the FAISS script).

use crate::Hash256;

/// SplitMix64 state.
#[derive(Debug, Clone)]
pub struct SplitMix64(pub u64);

impl SplitMix64 {
    /// The next 64 random-looking bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n > 0`); the modulo bias at test and bench sizes is negligible.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    /// A random 256-bit hash.
    pub fn hash(&mut self) -> Hash256 {
        Hash256([self.next_u64(), self.next_u64(), self.next_u64(), self.next_u64()])
    }
}
