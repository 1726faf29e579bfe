//! How a level cuts hashes into chunks (its layout), and per radius which chunk tables a query
//! probes and within which chunk distance (its plans).
//!
//! The exactness argument lives here. A layout splits the 256 bits into disjoint chunks. If
//! `d(x, q) <= r` then `sum_c d_c(x, q) <= r`, so for thresholds `t_c` with
//! `sum_c (t_c + 1) >= r + 1` some chunk has `d_c <= t_c` (generalised pigeonhole; a table
//! with no threshold is not probed and counts 0). Every plan built here satisfies that sum, for
//! every radius 0..=256, so every match has a chunk within its threshold, and probing the
//! buckets within `t_c` of the query's chunk finds it.
//!
//! Which thresholds: a greedy split of the `r + 1` units by marginal expected cost (buckets
//! probed × (probe cost + entries per bucket)), optimal here because each table's cost is
//! convex in its threshold. At r = 31 with 16 chunks of 16 bits this is the classic `t_c = 1`
//! everywhere (17 buckets per table); for r = 0 it is one bucket of one table.
//!
//! Which layout: 16 chunks of 16 bits while a level is small; from 2^21 entries on, 12 chunks
//! of 21–22 bits with thresholds up to 2 (about 5× fewer candidates at 10M entries for 7×
//! more, but cheap, bucket probes; see `docs/index.md` for the measurements that chose it).

/// Most chunks (tables) any layout has; plans are fixed-size arrays of this length.
pub(crate) const MAX_CHUNKS: usize = 16;

/// Cost of probing one bucket (two dependent random reads: its offsets, then its slots), in
/// units of one entry of a linear scan.
const PROBE_COST: f64 = 8.0;
/// Cost of verifying one candidate (one random cache-line read), same unit.
const CANDIDATE_COST: f64 = 4.0;

/// One chunk: `width` bits starting at bit `start` (bit `i` is bit `i % 64` of word `i / 64`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Chunk {
    pub start: u32,
    pub width: u32,
}

impl Chunk {
    /// The chunk's bits of `hash`, as the low `width` bits of the result (width <= 32).
    #[inline]
    pub fn of(self, hash: &crate::Hash256) -> u32 {
        let word = (self.start / 64) as usize;
        let offset = self.start % 64;
        let mut bits = hash.0[word] >> offset;
        if offset + self.width > 64 {
            // Crosses into the next word; start + width <= 256 keeps word + 1 in range.
            bits |= hash.0[word + 1] << (64 - offset);
        }
        // Truncation keeps exactly the chunk's bits (width <= 32).
        (bits & ((1u64 << self.width) - 1)) as u32
    }
}

/// The chunks of a layout, covering the 256 bits without overlap.
pub(crate) type Layout = Vec<Chunk>;

/// Chunks of the given widths, laid end to end.
fn layout_of(widths: &[u32]) -> Layout {
    let mut start = 0;
    let layout: Layout = widths
        .iter()
        .map(|&width| {
            let chunk = Chunk { start, width };
            start += width;
            chunk
        })
        .collect();
    debug_assert_eq!(start, crate::HASH_BITS);
    layout
}

/// 16 chunks of 16 bits (HMA's and FAISS's multi-hash split).
pub(crate) fn layout_16x16() -> Layout {
    layout_of(&[16; 16])
}

/// 12 chunks: 4 of 22 bits, 8 of 21 bits.
#[cfg(test)]
pub(crate) fn layout_12() -> Layout {
    layout_even(12)
}

/// `m` chunks (clamped to 2..=[`MAX_CHUNKS`]) as even as possible, the wider ones first:
/// 12 gives 4 × 22 + 8 × 21 bits, 10 gives 6 × 26 + 4 × 25.
pub(crate) fn layout_even(m: usize) -> Layout {
    let m = m.clamp(2, MAX_CHUNKS) as u32;
    let (narrow, wider) = (crate::HASH_BITS / m, crate::HASH_BITS % m);
    let widths: Vec<u32> = (0..m).map(|c| if c < wider { narrow + 1 } else { narrow }).collect();
    layout_of(&widths)
}

/// Levels with at least this many entries use [`layout_even`]`(large_tables)`.
pub(crate) const LARGE_LEVEL: usize = 1 << 21;

/// Tables of a level of [`LARGE_LEVEL`] entries or more unless set otherwise
/// ([`crate::MatchIndex::with_large_level_tables`]).
pub(crate) const DEFAULT_LARGE_TABLES: usize = 12;

/// The layout a level of `n` entries is built with, `large_tables` chunks for large levels.
pub(crate) fn layout_for(n: usize, large_tables: usize) -> Layout {
    if n >= LARGE_LEVEL { layout_even(large_tables) } else { layout_16x16() }
}

/// Directory bits of a table over a `width`-bit chunk in a level of `n` entries: about two to
/// four entries per bucket at most, so that directories stay small next to the entries; the
/// chunk bits below the directory are checked by the full distance.
pub(crate) fn dir_bits_for(n: usize, width: u32) -> u32 {
    n.max(1).ilog2().saturating_sub(1).min(width)
}

/// Thresholds for one radius.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Plan {
    /// Query radius (clamped to 256).
    pub radius: u32,
    /// `thresholds[c]`: table `c` is probed within this chunk distance; `None`: not probed.
    pub thresholds: [Option<u32>; MAX_CHUNKS],
    /// Whether probing is expected to cost less than scanning the level.
    pub use_tables: bool,
}

impl Plan {
    /// Whether table `c` is the first table (in order) whose chunk distance is within its
    /// threshold. A match is reported only from that table, so that it is reported once
    /// without a "seen" set; the pigeonhole argument guarantees that such a table exists.
    /// Table `c` itself is checked too: when a directory has fewer bits than its chunk, a
    /// table also yields entries whose chunk is outside the threshold.
    #[inline]
    pub fn is_canonical(
        &self,
        layout: &[Chunk],
        stored: &crate::Hash256,
        query_chunks: &[u32; MAX_CHUNKS],
        c: usize,
    ) -> bool {
        let within =
            |j: usize| self.thresholds[j].is_some_and(|t| (layout[j].of(stored) ^ query_chunks[j]).count_ones() <= t);
        within(c) && !(0..c).any(within)
    }
}

/// `C(n, k)` as f64 (0 when k > n); exact for the sizes used here (n <= 32).
fn binomial(n: u32, k: u32) -> f64 {
    if k > n {
        return 0.0;
    }
    let k = k.min(n - k);
    (0..k).fold(1.0, |acc, i| acc * f64::from(n - i) / f64::from(i + 1))
}

/// Number of bit patterns of `bits` bits within Hamming distance `t` of a given one.
pub(crate) fn ball_volume(bits: u32, t: u32) -> u64 {
    let mut total = 0u64;
    let mut binom = 1u64; // C(bits, k), exact in u64 for bits <= 32 and the k reached here
    for k in 0..=t.min(bits) {
        total += binom;
        binom = binom * u64::from(bits - k) / u64::from(k + 1);
    }
    total
}

/// The plans of a level for every radius 0..=256 (index = radius).
///
/// Built incrementally: the plan for `r + 1` is the plan for `r` plus one unit given to the
/// table whose next unit costs least.
pub(crate) fn plans_for(layout: &[Chunk], dir_bits: &[u32], n: usize) -> Vec<Plan> {
    let n = n as f64;
    let m = layout.len();
    // Expected cost of one probed bucket of table c: the probe plus its entries.
    let per_bucket: Vec<f64> =
        dir_bits.iter().map(|&p| PROBE_COST + CANDIDATE_COST * n / f64::from(1u32 << p).max(1.0)).collect();
    // Marginal cost of raising table c from threshold t to t + 1 (t = -1: start probing):
    // the buckets at exactly distance t + 1 in its directory.
    let marginal = |c: usize, next: u32| binomial(dir_bits[c], next) * per_bucket[c];
    let mut thresholds: [Option<u32>; MAX_CHUNKS] = [None; MAX_CHUNKS];
    let mut cost = 0.0;
    let mut plans = Vec::with_capacity(crate::HASH_BITS as usize + 1);
    for radius in 0..=crate::HASH_BITS {
        // One more unit: sum (t_c + 1) must reach radius + 1.
        let best = (0..m)
            .filter(|&c| thresholds[c].is_none_or(|t| t < layout[c].width))
            .map(|c| {
                let next = thresholds[c].map_or(0, |t| t + 1);
                (marginal(c, next), c)
            })
            .min_by(|a, b| a.0.total_cmp(&b.0));
        // Some table always has room: sum (width + 1) = 256 + m > 256 units.
        if let Some((delta, c)) = best {
            thresholds[c] = Some(thresholds[c].map_or(0, |t| t + 1));
            cost += delta;
        }
        plans.push(Plan { radius, thresholds, use_tables: cost < n });
    }
    plans
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

    fn check_layout(layout: &[Chunk]) {
        assert_eq!(layout.iter().map(|c| c.width).sum::<u32>(), 256);
        assert!(layout.len() <= MAX_CHUNKS);
        for n in [1usize, 5, 1000, 1 << 20, 10_000_000] {
            let dir_bits: Vec<u32> = layout.iter().map(|c| dir_bits_for(n, c.width)).collect();
            let plans = plans_for(layout, &dir_bits, n);
            assert_eq!(plans.len(), 257);
            for (radius, plan) in plans.iter().enumerate() {
                assert_eq!(plan.radius as usize, radius);
                let units: u32 = plan.thresholds.iter().map(|t| t.map_or(0, |t| t + 1)).sum();
                assert!(units as usize > radius, "n {n} radius {radius}: {units} units");
                for (c, t) in plan.thresholds.iter().enumerate() {
                    assert!(c < layout.len() || t.is_none());
                }
            }
        }
    }

    #[test]
    fn plans_cover_every_radius() {
        check_layout(&layout_16x16());
        check_layout(&layout_12());
        assert_eq!(layout_12(), layout_of(&[22, 22, 22, 22, 21, 21, 21, 21, 21, 21, 21, 21]));
        assert_eq!(layout_even(16), layout_16x16());
        for m in 2..=MAX_CHUNKS {
            check_layout(&layout_even(m));
        }
        let big = vec![16; 16];
        let plans = plans_for(&layout_16x16(), &big, 1 << 20);
        assert_eq!(plans[31].thresholds, [Some(1); MAX_CHUNKS]);
        assert!(plans[31].use_tables);
        assert_eq!(plans[0].thresholds.iter().flatten().count(), 1, "r = 0 probes one table");
        assert!(!plans[200].use_tables);
    }

    #[test]
    fn chunk_extraction_crosses_words() {
        let hash = crate::Hash256([0xF000_0000_0000_0000, 0x3, 0, 1 << 63]);
        assert_eq!(Chunk { start: 60, width: 6 }.of(&hash), 0b11_1111);
        assert_eq!(Chunk { start: 59, width: 8 }.of(&hash), 0b0111_1110);
        assert_eq!(Chunk { start: 255, width: 1 }.of(&hash), 1);
        assert_eq!(Chunk { start: 234, width: 22 }.of(&hash), 1 << 21);
    }

    #[test]
    fn flip_masks_are_the_hamming_ball() {
        for bits in 0..=10u32 {
            for t in 0..=4u32 {
                let mut seen = Vec::new();
                for_each_flip_mask(bits, t, &mut |m| seen.push(m));
                let mut expected: Vec<u32> = (0..1u32 << bits).filter(|m| m.count_ones() <= t).collect();
                assert_eq!(seen.len() as u64, ball_volume(bits, t));
                seen.sort_unstable();
                expected.sort_unstable();
                assert_eq!(seen, expected, "bits {bits} t {t}");
            }
        }
        assert_eq!(ball_volume(16, 1), 17);
        assert_eq!(ball_volume(16, 16), 1 << 16);
        assert_eq!(binomial(21, 2), 210.0);
        assert_eq!(binomial(3, 5), 0.0);
    }
}
