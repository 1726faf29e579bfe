//! The 256-bit hash value the index stores, and the Hamming distance between two of them.
//!
//! Held as four `u64` words so that a distance is four XORs and four popcounts, and aligned to
//! 32 bytes so that a stored hash never straddles two cache lines: a candidate check is then
//! exactly one memory access (see `level.rs`).

/// Number of bits in a hash (PDQ: 256).
pub const HASH_BITS: u32 = 256;

/// A 256-bit perceptual hash (PDQ), as four 64-bit words.
///
/// The byte order used by [`Hash256::from_bytes`] is big-endian per word, so the words read in
/// the same order as the usual 64-character hex form; the Hamming distance does not depend on
/// it as long as every hash is converted the same way.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default, Debug, PartialOrd, Ord)]
#[repr(C, align(32))]
pub struct Hash256(pub [u64; 4]);

impl Hash256 {
    /// Builds a hash from its 32 bytes (e.g. a decoded PDQ hex string).
    #[must_use]
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        let mut words = [0u64; 4];
        for (word, chunk) in words.iter_mut().zip(bytes.chunks_exact(8)) {
            let mut eight = [0u8; 8];
            eight.copy_from_slice(chunk);
            *word = u64::from_be_bytes(eight);
        }
        Self(words)
    }

    /// The 32 bytes of the hash; the inverse of [`Hash256::from_bytes`].
    #[must_use]
    pub fn to_bytes(&self) -> [u8; 32] {
        let mut bytes = [0u8; 32];
        for (chunk, word) in bytes.chunks_exact_mut(8).zip(self.0) {
            chunk.copy_from_slice(&word.to_be_bytes());
        }
        bytes
    }

    /// Hamming distance (number of differing bits), 0..=256.
    #[inline]
    #[must_use]
    pub fn distance(&self, other: &Self) -> u32 {
        let a = &self.0;
        let b = &other.0;
        (a[0] ^ b[0]).count_ones()
            + (a[1] ^ b[1]).count_ones()
            + (a[2] ^ b[2]).count_ones()
            + (a[3] ^ b[3]).count_ones()
    }

    /// The distance if it is at most `radius`, else `None`.
    ///
    /// Looks at the first half first: a candidate that is not a match (almost all of them, since
    /// random 256-bit hashes lie about 128 apart) is rejected after two popcounts.
    #[inline]
    #[must_use]
    pub fn distance_within(&self, other: &Self, radius: u32) -> Option<u32> {
        let a = &self.0;
        let b = &other.0;
        let half = (a[0] ^ b[0]).count_ones() + (a[1] ^ b[1]).count_ones();
        if half > radius {
            return None;
        }
        let d = half + (a[2] ^ b[2]).count_ones() + (a[3] ^ b[3]).count_ones();
        (d <= radius).then_some(d)
    }
}

impl From<[u8; 32]> for Hash256 {
    fn from(bytes: [u8; 32]) -> Self {
        Self::from_bytes(bytes)
    }
}

impl From<Hash256> for [u8; 32] {
    fn from(hash: Hash256) -> Self {
        hash.to_bytes()
    }
}
