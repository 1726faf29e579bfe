//! The 256-bit PDQ hash value: bit layout, hex form and Hamming distance.
//!
//! Implements the hex form of `specs/pdq.md` ("The conformance target"): 64 lowercase hex digits, the
//! first bit of the reference's bit vector being the most significant bit of the hex string. Meta's
//! C++ core sets bit `k = 16·row + col` of its `Hash256` for DCT coefficient `(row, col)` and prints
//! the words most significant first, so the hex string is the 256-bit integer `Σ bitₖ·2ᵏ`. We store
//! that integer big-endian (byte 0 = the first two hex digits), which makes hex formatting a plain
//! byte walk and lets other crates (the match index) treat the hash as 32 opaque bytes.

use std::fmt;
use std::str::FromStr;

/// A 256-bit PDQ hash.
///
/// `bytes[0]` holds the first two hex digits; bit `k` in the reference's numbering (coefficient
/// `(k / 16, k % 16)` of the 16×16 DCT block) is bit `k % 8` of `bytes[31 - k / 8]`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct PdqHash([u8; 32]);

impl PdqHash {
    /// Number of bits in a hash.
    pub const BITS: u32 = 256;

    /// The all-zero hash, which the reference returns for images smaller than 5 pixels a side.
    pub const ZERO: PdqHash = PdqHash([0; 32]);

    /// Wraps 32 big-endian bytes (the hex form's byte order).
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        PdqHash(bytes)
    }

    /// The 32 bytes in hex order (big-endian).
    pub const fn to_bytes(self) -> [u8; 32] {
        self.0
    }

    /// The 32 bytes in hex order (big-endian), borrowed.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Bit `k` (0..256) in the reference's numbering: coefficient `(k / 16, k % 16)`.
    ///
    /// # Panics
    /// If `k >= 256`.
    pub fn bit(&self, k: usize) -> bool {
        assert!(k < 256, "PDQ bit index {k} out of range");
        (self.0[31 - k / 8] >> (k % 8)) & 1 == 1
    }

    /// Sets bit `k` (0..256) in the reference's numbering.
    pub(crate) fn set_bit(&mut self, k: usize) {
        self.0[31 - k / 8] |= 1 << (k % 8);
    }

    /// Number of differing bits (0..=256).
    pub fn hamming_distance(&self, other: &PdqHash) -> u32 {
        self.0
            .chunks_exact(8)
            .zip(other.0.chunks_exact(8))
            .map(|(a, b)| {
                let mut x = [0u8; 8];
                for ((x, a), b) in x.iter_mut().zip(a).zip(b) {
                    *x = a ^ b;
                }
                u64::from_ne_bytes(x).count_ones()
            })
            .sum()
    }

    /// Number of set bits.
    pub fn count_ones(&self) -> u32 {
        self.0.iter().map(|b| b.count_ones()).sum()
    }

    /// The 64-digit lowercase hex form.
    pub fn to_hex(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for PdqHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl fmt::LowerHex for PdqHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Debug for PdqHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PdqHash({self})")
    }
}

/// Why a string is not a PDQ hash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ParseHashError {
    /// Not exactly 64 characters long (the length found).
    Length(usize),
    /// A character that is not a hex digit, at this byte offset.
    InvalidDigit(usize),
}

impl fmt::Display for ParseHashError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseHashError::Length(n) => {
                write!(f, "a PDQ hash is 64 hex digits, got {n} characters")
            }
            ParseHashError::InvalidDigit(at) => {
                write!(f, "invalid hex digit at position {at} of PDQ hash")
            }
        }
    }
}

impl std::error::Error for ParseHashError {}

impl FromStr for PdqHash {
    type Err = ParseHashError;

    /// Parses 64 hex digits; upper case is accepted (exchanged lists are not always normalised),
    /// output is always lower case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let digits = s.as_bytes();
        if digits.len() != 64 {
            return Err(ParseHashError::Length(s.len()));
        }
        let mut out = [0u8; 32];
        for (i, (byte, pair)) in out.iter_mut().zip(digits.chunks_exact(2)).enumerate() {
            let hi = hex_value(pair[0]).ok_or(ParseHashError::InvalidDigit(2 * i))?;
            let lo = hex_value(pair[1]).ok_or(ParseHashError::InvalidDigit(2 * i + 1))?;
            *byte = (hi << 4) | lo;
        }
        Ok(PdqHash(out))
    }
}

fn hex_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trip_and_bit_order() {
        let hex = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22";
        let h: PdqHash = hex.parse().unwrap();
        assert_eq!(h.to_string(), hex);
        // Last hex digit '2' = 0b0010: bit 1 is set, bit 0 is not (least significant end).
        assert!(!h.bit(0));
        assert!(h.bit(1));
        // First hex digit 'f': the four most significant bits 255..252 are set.
        assert!((252..256).all(|k| h.bit(k)));
        assert_eq!("F8F8F0CEE0F4A84F06370A22038F63F0B36E2ED596621E1D33E6B39C4E9C9B22".parse::<PdqHash>().unwrap(), h);
    }

    #[test]
    fn set_bit_matches_bit() {
        for k in 0..256 {
            let mut h = PdqHash::ZERO;
            h.set_bit(k);
            assert!(h.bit(k));
            assert_eq!(h.count_ones(), 1);
        }
    }

    #[test]
    fn parse_errors() {
        assert_eq!("ab".parse::<PdqHash>(), Err(ParseHashError::Length(2)));
        let mut s = "0".repeat(64);
        s.replace_range(10..11, "g");
        assert_eq!(s.parse::<PdqHash>(), Err(ParseHashError::InvalidDigit(10)));
        // A multi-byte character must not be mistaken for two digits.
        let s = format!("{}é", "0".repeat(62));
        assert!(s.parse::<PdqHash>().is_err());
    }

    #[test]
    fn hamming_distance_counts_bits() {
        let a: PdqHash = "ff".repeat(32).parse().unwrap();
        let b: PdqHash = format!("00{}", "ff".repeat(31)).parse().unwrap();
        assert_eq!(a.hamming_distance(&b), 8);
        assert_eq!(a.hamming_distance(&PdqHash::ZERO), 256);
        assert_eq!(a.hamming_distance(&a), 0);
    }

    #[test]
    fn hex_round_trip_pseudo_random() {
        // xorshift so the test needs no dependency; every byte value is exercised.
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..200 {
            let mut bytes = [0u8; 32];
            for b in &mut bytes {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                *b = x as u8;
            }
            let h = PdqHash::from_bytes(bytes);
            assert_eq!(h.to_hex().parse::<PdqHash>().unwrap(), h);
            assert_eq!(h.to_hex().len(), 64);
        }
    }
}
