//! One immutable, compact multi-index over a set of entries (a "level" of [`crate::MatchIndex`]).
//!
//! Layout (struct of arrays, no per-entry allocation, no hash map):
//! - `ids`: entry ids in ascending order (slot `s` holds the entry `ids[s]`); a removal finds the
//!   slot by binary search, so no id → slot map is stored.
//! - `hashes`: the hash of each slot, 32-byte aligned (one cache line access per candidate).
//! - For each of the 16 chunk tables, CSR style: `offsets` (one `u32` per bucket + 1) and
//!   `slots` (one `u32` per entry, grouped by bucket, ascending within a bucket). A bucket is
//!   keyed by the top `dir_bits` bits of the chunk: 16 for levels of 2^18 entries or more (a
//!   bucket then holds entries whose chunk is exactly the probed value), fewer for small levels so
//!   that the directories stay small next to the entries (the rest of the chunk is then checked
//!   by the full distance).
//! - `removed`: a tombstone bit per slot; removals do not move anything.
//!
//! Memory: 32 (hash) + 8 (id) + 16 × 4 (table slots) bytes per entry, plus 16 × (2^16 + 1) × 4
//! bytes of directories (4 MiB) and a bit per entry.

use crate::plan::{CHUNK_BITS, CHUNKS, Plan, ball_volume, for_each_flip_mask};
use crate::{Hash256, Match};

/// How a level is searched; `Auto` picks by estimated cost, the others exist so tests can
/// check both paths at every radius.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(
    not(test),
    allow(dead_code, reason = "the forced strategies are for tests")
)]
pub(crate) enum Strategy {
    /// Index when its estimated cost is below a linear scan, else linear.
    Auto,
    /// Always probe the chunk tables.
    Indexed,
    /// Always scan every slot.
    Linear,
}

/// See the module documentation.
pub(crate) struct Level {
    ids: Vec<u64>,
    hashes: Vec<Hash256>,
    dir_bits: u32,
    offsets: Vec<u32>,
    slots: Vec<u32>,
    removed: Vec<u64>,
    n_removed: usize,
}

/// Largest number of entries in one level: slots are `u32`.
pub(crate) const MAX_LEVEL_ENTRIES: usize = u32::MAX as usize;

/// Directory bits for a level of `n` entries: about four entries per bucket, at most 16.
fn dir_bits_for(n: usize) -> u32 {
    // ilog2 of a usize is < 64, so the cast is exact.
    let log2 = n.max(1).ilog2();
    log2.saturating_sub(2).min(CHUNK_BITS)
}

impl Level {
    /// Builds a level from entries sorted by id with unique ids, at most
    /// [`MAX_LEVEL_ENTRIES`] of them (the caller splits larger sets).
    pub fn build(entries: Vec<(u64, Hash256)>) -> Self {
        debug_assert!(entries.len() <= MAX_LEVEL_ENTRIES);
        debug_assert!(entries.windows(2).all(|w| w[0].0 < w[1].0));
        let n = entries.len();
        let mut ids = Vec::with_capacity(n);
        let mut hashes = Vec::with_capacity(n);
        for (id, hash) in entries {
            ids.push(id);
            hashes.push(hash);
        }
        let dir_bits = dir_bits_for(n);
        let buckets = 1usize << dir_bits;
        let shift = CHUNK_BITS - dir_bits;
        let mut offsets = vec![0u32; CHUNKS * (buckets + 1)];
        let mut slots = vec![0u32; CHUNKS * n];
        let mut cursor = vec![0u32; buckets];
        for c in 0..CHUNKS {
            // Counting sort of the slots by bucket: two passes, no comparison sort.
            let table_offsets = &mut offsets[c * (buckets + 1)..(c + 1) * (buckets + 1)];
            for hash in &hashes {
                table_offsets[(hash.chunk(c) >> shift) as usize + 1] += 1;
            }
            for b in 0..buckets {
                table_offsets[b + 1] += table_offsets[b];
            }
            cursor.copy_from_slice(&table_offsets[..buckets]);
            let table_slots = &mut slots[c * n..(c + 1) * n];
            // n <= u32::MAX, so the slot numbers produced by the zip fit.
            for (slot, hash) in (0u32..).zip(&hashes) {
                let bucket = (hash.chunk(c) >> shift) as usize;
                table_slots[cursor[bucket] as usize] = slot;
                cursor[bucket] += 1;
            }
        }
        Self {
            ids,
            hashes,
            dir_bits,
            offsets,
            slots,
            removed: vec![0u64; n.div_ceil(64)],
            n_removed: 0,
        }
    }

    /// Number of entries not removed.
    pub fn live(&self) -> usize {
        self.ids.len() - self.n_removed
    }

    /// Bytes of heap memory held by this level's arrays (their capacities).
    pub fn heap_bytes(&self) -> usize {
        self.ids.capacity() * size_of::<u64>()
            + self.hashes.capacity() * size_of::<Hash256>()
            + self.offsets.capacity() * size_of::<u32>()
            + self.slots.capacity() * size_of::<u32>()
            + self.removed.capacity() * size_of::<u64>()
    }

    #[inline]
    fn is_removed(&self, slot: usize) -> bool {
        self.removed[slot / 64] >> (slot % 64) & 1 == 1
    }

    /// The live slot holding `id`, if any.
    fn find(&self, id: u64) -> Option<usize> {
        let slot = self.ids.binary_search(&id).ok()?;
        (!self.is_removed(slot)).then_some(slot)
    }

    /// The hash of the live entry `id`, if this level holds it.
    pub fn get(&self, id: u64) -> Option<Hash256> {
        self.find(id).map(|slot| self.hashes[slot])
    }

    /// Tombstones the live entry `id`; returns its hash if it was here.
    pub fn remove(&mut self, id: u64) -> Option<Hash256> {
        let slot = self.find(id)?;
        self.removed[slot / 64] |= 1 << (slot % 64);
        self.n_removed += 1;
        Some(self.hashes[slot])
    }

    /// Live entries in ascending id order.
    pub fn live_entries(&self) -> impl Iterator<Item = (u64, Hash256)> + '_ {
        (0..self.ids.len())
            .filter(|&slot| !self.is_removed(slot))
            .map(|slot| (self.ids[slot], self.hashes[slot]))
    }

    /// Appends every live entry within `plan.radius` of `query` to `out` (each once).
    pub fn search(&self, query: &Hash256, plan: &Plan, strategy: Strategy, out: &mut Vec<Match>) {
        if self.live() == 0 {
            return;
        }
        let indexed = match strategy {
            Strategy::Indexed => true,
            Strategy::Linear => false,
            Strategy::Auto => self.indexed_is_cheaper(plan),
        };
        if indexed {
            self.search_indexed(query, plan, out);
        } else {
            self.search_linear(query, plan.radius, out);
        }
    }

    /// Cost model: a probed bucket or a candidate is a dependent random access, taken as four
    /// times the cost of one entry of a sequential scan (a linear scan streams the hashes).
    fn indexed_is_cheaper(&self, plan: &Plan) -> bool {
        let probes: u64 = plan
            .thresholds
            .iter()
            .flatten()
            .map(|&t| ball_volume(self.dir_bits, t))
            .sum();
        let n = self.ids.len() as u64;
        let candidates = probes.saturating_mul(n) >> self.dir_bits;
        probes.saturating_add(candidates).saturating_mul(4) < n
    }

    fn search_linear(&self, query: &Hash256, radius: u32, out: &mut Vec<Match>) {
        for (slot, stored) in self.hashes.iter().enumerate() {
            if let Some(distance) = stored.distance_within(query, radius)
                && !self.is_removed(slot)
            {
                out.push(Match {
                    entry_id: self.ids[slot],
                    distance,
                });
            }
        }
    }

    fn search_indexed(&self, query: &Hash256, plan: &Plan, out: &mut Vec<Match>) {
        let n = self.ids.len();
        let buckets = 1usize << self.dir_bits;
        let shift = CHUNK_BITS - self.dir_bits;
        for (c, threshold) in plan.thresholds.iter().enumerate() {
            let Some(threshold) = *threshold else {
                continue;
            };
            let offsets = &self.offsets[c * (buckets + 1)..(c + 1) * (buckets + 1)];
            let slots = &self.slots[c * n..(c + 1) * n];
            let key = query.chunk(c) >> shift;
            for_each_flip_mask(self.dir_bits, threshold, &mut |mask| {
                let bucket = (key ^ mask) as usize;
                let bucket_slots = &slots[offsets[bucket] as usize..offsets[bucket + 1] as usize];
                for &slot in bucket_slots {
                    let slot = slot as usize;
                    let stored = &self.hashes[slot];
                    // Almost every candidate fails here; the rest are true matches, rare
                    // enough that the canonical-table and tombstone checks cost nothing.
                    if let Some(distance) = stored.distance_within(query, plan.radius)
                        && plan.is_canonical(stored, query, c)
                        && !self.is_removed(slot)
                    {
                        out.push(Match {
                            entry_id: self.ids[slot],
                            distance,
                        });
                    }
                }
            });
        }
    }
}
