//! Per-query search plan: which chunk tables to probe, and within which chunk distance.
//!
//! The exactness argument lives here. The 256 bits are split into [`CHUNKS`] disjoint 16-bit
//! chunks. If `d(x, q) <= r` then `sum_c d_c(x, q) <= r`, so for thresholds `t_c` with
//! `sum_c (t_c + 1) >= r + 1` some chunk has `d_c <= t_c` (generalised pigeonhole; a table with
//! `t_c = -1` is not probed at all). Spreading the `r + 1` units evenly gives `t_c = 1` for all
//! 16 tables at r = 31 (17 buckets per table), `t_c = 0` for one table at r = 0, and still a
//! correct plan for every radius up to 256; when the plan would touch a large share of a level
//! anyway, the level is scanned linearly instead (`Level::search`).

/// Number of 16-bit chunks (= tables) a hash is split into.
pub(crate) const CHUNKS: usize = 16;

/// Bits per chunk.
pub(crate) const CHUNK_BITS: u32 = 16;

/// Chunk thresholds for one radius.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Plan {
    /// Query radius (already clamped to 256).
    pub radius: u32,
    /// `thresholds[c]`: chunk `c` is probed within this distance; `None`: not probed.
    pub thresholds: [Option<u32>; CHUNKS],
}

impl Plan {
    /// The even split of `radius + 1` units over the chunks.
    pub fn new(radius: u32) -> Self {
        let radius = radius.min(crate::HASH_BITS);
        let units = radius as usize + 1;
        let per = units / CHUNKS;
        let extra = units % CHUNKS;
        let mut thresholds = [None; CHUNKS];
        for (c, slot) in thresholds.iter_mut().enumerate() {
            let share = per + usize::from(c < extra);
            // share <= 257 / 16 + 1, so it fits in u32; a share of 0 means "not probed".
            *slot = share
                .checked_sub(1)
                .map(|t| t.min(CHUNK_BITS as usize) as u32);
        }
        Self { radius, thresholds }
    }

    /// Whether chunk `c` is the first chunk (in table order) whose distance is within its
    /// threshold. A match is reported only from that table, so that it is reported once
    /// without a "seen" set; the pigeonhole argument guarantees that such a chunk exists.
    ///
    /// Chunk `c` itself is checked too: in a level whose buckets are keyed by fewer than 16
    /// bits, table `c` also yields entries whose chunk is outside the threshold.
    #[inline]
    pub fn is_canonical(&self, stored: &crate::Hash256, query: &crate::Hash256, c: usize) -> bool {
        let within = |j: usize| {
            self.thresholds[j].is_some_and(|t| (stored.chunk(j) ^ query.chunk(j)).count_ones() <= t)
        };
        within(c) && !(0..c).any(within)
    }
}

/// Number of bit patterns of `bits` bits within Hamming distance `t` of a given one.
pub(crate) fn ball_volume(bits: u32, t: u32) -> u64 {
    let mut total = 0u64;
    let mut binom = 1u64; // C(bits, k), exact in u64 for bits <= 16
    for k in 0..=t.min(bits) {
        total += binom;
        binom = binom * u64::from(bits - k) / u64::from(k + 1);
    }
    total
}

/// Calls `f` once with every mask of `bits` bits that has at most `max_flips` bits set.
pub(crate) fn for_each_flip_mask(bits: u32, max_flips: u32, f: &mut impl FnMut(u32)) {
    fn go(mask: u32, next_bit: u32, bits: u32, left: u32, f: &mut impl FnMut(u32)) {
        f(mask);
        if left == 0 {
            return;
        }
        for bit in next_bit..bits {
            go(mask | (1 << bit), bit + 1, bits, left - 1, f);
        }
    }
    go(0, 0, bits, max_flips, f);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_cover_the_radius() {
        for radius in 0..=300u32 {
            let plan = Plan::new(radius);
            let units: u32 = plan.thresholds.iter().map(|t| t.map_or(0, |t| t + 1)).sum();
            assert!(units > plan.radius, "radius {radius}: {units} units");
        }
        assert_eq!(Plan::new(31).thresholds, [Some(1); CHUNKS]);
        let zero = Plan::new(0);
        assert_eq!(zero.thresholds[0], Some(0));
        assert!(zero.thresholds[1..].iter().all(Option::is_none));
    }

    #[test]
    fn flip_masks_are_the_hamming_ball() {
        for bits in 0..=10u32 {
            for t in 0..=4u32 {
                let mut seen = Vec::new();
                for_each_flip_mask(bits, t, &mut |m| seen.push(m));
                let mut expected: Vec<u32> =
                    (0..1u32 << bits).filter(|m| m.count_ones() <= t).collect();
                assert_eq!(seen.len() as u64, ball_volume(bits, t));
                seen.sort_unstable();
                expected.sort_unstable();
                assert_eq!(seen, expected, "bits {bits} t {t}");
            }
        }
        assert_eq!(ball_volume(16, 1), 17);
        assert_eq!(ball_volume(16, 16), 1 << 16);
    }
}
