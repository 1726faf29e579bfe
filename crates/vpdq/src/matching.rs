//! vPDQ matching: the reference's two percentages.
//!
//! ThreatExchange `vpdq` (`matchTwoHashBrute`): drop the frames of both videos whose quality is
//! below `quality_tolerance`; then the **query match** is the share of query frames that have at
//! least one target frame at Hamming distance `< distance_tolerance`, and the **target match**
//! the share of target frames that have at least one such query frame, both in percent (0 when
//! either side has no frame left). A short clip cut from a long video scores a high query match
//! and a low target match; a compilation containing a whole video the reverse.
//!
//! This module is the brute-force statement of that rule, used as the oracle in tests and for
//! one-to-one comparisons; the server computes the same two numbers for a whole bank through the
//! exact match index (`staydown-server::screening`), with staydown's inclusive threshold
//! (`distance ≤ t`, i.e. the reference's `distance_tolerance = t + 1`).

use crate::Feature;

/// Both match percentages of one comparison.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MatchPercent {
    /// Share of the query's (quality-filtered) frames found in the target, 0–100.
    pub query: f64,
    /// Share of the target's (quality-filtered) frames found in the query, 0–100.
    pub target: f64,
}

/// The reference's brute-force match: frames of quality `< quality_tolerance` are ignored, a frame
/// pair matches when its distance is `< distance_tolerance` (strict, as the reference).
pub fn match_two_hash_brute(
    query: &[Feature],
    target: &[Feature],
    distance_tolerance: u32,
    quality_tolerance: u8,
) -> MatchPercent {
    let q: Vec<&Feature> = query.iter().filter(|f| f.quality >= quality_tolerance).collect();
    let t: Vec<&Feature> = target.iter().filter(|f| f.quality >= quality_tolerance).collect();
    if q.is_empty() || t.is_empty() {
        return MatchPercent { query: 0.0, target: 0.0 };
    }
    let found = |a: &[&Feature], b: &[&Feature]| {
        a.iter().filter(|x| b.iter().any(|y| x.hash.hamming_distance(&y.hash) < distance_tolerance)).count()
    };
    MatchPercent {
        query: found(&q, &t) as f64 * 100.0 / q.len() as f64,
        target: found(&t, &q) as f64 * 100.0 / t.len() as f64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::PdqHash;

    fn f(bits: &[usize], quality: u8) -> Feature {
        let mut b = [0u8; 32];
        for &k in bits {
            b[k / 8] |= 1 << (k % 8);
        }
        Feature { frame_number: 0, quality, hash: PdqHash::from_bytes(b), timestamp: 0.0 }
    }

    #[test]
    fn clip_and_compilation_percentages() {
        let far: Vec<usize> = (0..100).collect();
        let far2: Vec<usize> = (100..200).collect();
        let banked = vec![f(&[], 100), f(&far, 100), f(&far2, 100), f(&[1, 2, 3], 100)];
        // A clip: two frames of the banked video (one slightly changed).
        let clip = vec![f(&[0], 100), f(&far, 100)];
        let m = match_two_hash_brute(&clip, &banked, 31, 50);
        assert_eq!(m.query, 100.0);
        assert_eq!(m.target, 75.0); // [] , [1,2,3] (distance 4 from [0]) and far
        // Low-quality frames are ignored on both sides.
        let m = match_two_hash_brute(&[f(&[], 10)], &banked, 31, 50);
        assert_eq!(m, MatchPercent { query: 0.0, target: 0.0 });
        // Strict tolerance: distance 4 does not match at tolerance 4.
        let m = match_two_hash_brute(&[f(&[0, 1, 2, 3], 100)], &[f(&[], 100)], 4, 50);
        assert_eq!(m.query, 0.0);
        let m = match_two_hash_brute(&[f(&[0, 1, 2, 3], 100)], &[f(&[], 100)], 5, 50);
        assert_eq!(m.query, 100.0);
    }
}
