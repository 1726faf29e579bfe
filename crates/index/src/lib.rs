//! Exact Hamming-radius match index over 256-bit perceptual hashes (PDQ) for stay-down screening.
//!
//! Implements the matching side of `specs/pdq.md` ("Matching") and design §5: given a query hash
//! and a radius `r` (each bank has its own threshold, 31 by default), return **every** entry
//! within Hamming distance `r`, exactly — a missed match is a removed image that comes back.
//!
//! # Shape
//!
//! Multi-index hashing with a generalised pigeonhole bound (`plan.rs`): the hash is cut into
//! `m` disjoint chunks (16 of 16 bits in levels below 2^21 entries, 12 of 21–22 bits above, or
//! as set by [`MatchIndex::with_large_level_tables`]);
//! an entry within `r` has some chunk within `t_c` of the query's chunk for thresholds with
//! `sum (t_c + 1) >= r + 1` (with 16 × 16, all `t_c = 1` at r = 31: 17 buckets per table).
//! Each chunk has a table of buckets; a query probes the buckets within `t_c` bit flips, and
//! verifies each candidate with four popcounts. Random 256-bit hashes lie about 128 bits apart,
//! so the work at r = 31 is filtering candidates, and a candidate costs one cache-line read.
//!
//! Tables are compact sorted arrays (CSR: a directory of bucket starts, a 3-byte slot per entry
//! while a level has at most 2^24 entries), not hash maps of vectors, and a match is reported
//! only from the first table whose chunk is within its threshold, so no "seen" set is needed
//! (`level.rs`).
//!
//! Updates: the arrays are immutable once built, so the index is a small log-structured set of
//! levels (`level.rs`) plus an unindexed tail of at most [`TAIL_CAPACITY`] entries. Inserts
//! go to the tail; a full tail becomes a level, and a level is merged into the previous one
//! while it is at least a quarter of its size, so there are O(log n) levels and each entry is
//! rebuilt O(log n) times. Removals set a tombstone bit; merges drop tombstoned entries. After
//! [`MatchIndex::from_entries`] or [`MatchIndex::compact`] there is a single level.
//!
//! The crate is pure (no I/O, no clock, no threads) and `Sync`: searches take `&self`, so the
//! server can search from many threads under a read lock and update under the write lock.
//! Entry ids are opaque `u64`s chosen by the caller and unique within an index.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod hash;
mod level;
mod persist;
mod plan;
mod rng;
#[cfg(test)]
mod tests;

pub use hash::{HASH_BITS, Hash256};
pub use persist::{FORMAT_VERSION, ImportError};
pub use rng::SplitMix64;

use level::{Level, MAX_LEVEL_ENTRIES, Strategy};

/// Most entries held in the unindexed tail before it is turned into a level. The tail is scanned
/// linearly by every search, so it is kept small (1024 × 32 bytes is a few microseconds).
pub const TAIL_CAPACITY: usize = 1024;

/// A newer level is merged into the previous one while it is at least `1 / MERGE_RATIO` of it.
const MERGE_RATIO: usize = 4;

/// One search result: an entry within the radius, and its distance to the query.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub struct Match {
    /// Hamming distance between the query and the entry's hash (0..=256).
    pub distance: u32,
    /// The id the entry was inserted with.
    pub entry_id: u64,
}

/// Exact Hamming-radius index over 256-bit hashes; see the crate documentation.
pub struct MatchIndex {
    /// Immutable levels, oldest (largest) first.
    levels: Vec<Level>,
    /// Recently inserted entries not yet in a level; ids unique.
    tail: Vec<(u64, Hash256)>,
    /// Live entries in levels and tail.
    len: usize,
    /// Tail size that triggers a flush: [`TAIL_CAPACITY`], smaller in tests to exercise merges.
    tail_capacity: usize,
    /// Layout for new levels instead of the size-based choice (tests use both at every size).
    layout_override: Option<plan::Layout>,
    /// Slot width for new levels instead of the size-based choice (tests force 4 bytes).
    slot_bytes_override: Option<usize>,
    /// Tables of new levels of at least [`plan::LARGE_LEVEL`] entries.
    large_tables: usize,
}

impl Default for MatchIndex {
    fn default() -> Self {
        Self {
            levels: Vec::new(),
            tail: Vec::new(),
            len: 0,
            tail_capacity: TAIL_CAPACITY,
            layout_override: None,
            slot_bytes_override: None,
            large_tables: plan::DEFAULT_LARGE_TABLES,
        }
    }
}

impl std::fmt::Debug for MatchIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MatchIndex")
            .field("len", &self.len)
            .field("levels", &self.levels.iter().map(Level::live).collect::<Vec<_>>())
            .field("tail", &self.tail.len())
            .finish()
    }
}

impl MatchIndex {
    /// An empty index.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty index whose levels of 2^21 entries or more are built with `tables` chunk
    /// tables (clamped to 2..=16; default 12) instead of 12: each table costs 3 bytes per
    /// entry, and fewer tables mean higher thresholds per table, so more candidates per query.
    /// The memory/speed trade-off measured at 10M entries is in `docs/index.md`; searches are
    /// exact at every setting. Smaller levels always use 16 tables of 16 bits.
    #[must_use]
    pub fn with_large_level_tables(tables: usize) -> Self {
        Self { large_tables: tables.clamp(2, plan::MAX_CHUNKS), ..Self::default() }
    }

    /// Like [`MatchIndex::from_entries`] with [`MatchIndex::with_large_level_tables`].
    #[must_use]
    pub fn from_entries_with_tables(entries: impl IntoIterator<Item = (u64, Hash256)>, tables: usize) -> Self {
        let mut index = Self::with_large_level_tables(tables);
        index.tail = entries.into_iter().collect();
        index.flush_tail();
        index
    }

    /// Builds an index in one pass (the server's start-up path). When an id occurs more than
    /// once, the last occurrence wins, as if the entries had been inserted in order.
    #[must_use]
    pub fn from_entries(entries: impl IntoIterator<Item = (u64, Hash256)>) -> Self {
        let mut index = Self::new();
        index.tail = entries.into_iter().collect();
        index.flush_tail();
        index
    }

    /// Number of entries.
    #[must_use]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the index holds no entry.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The hash stored for `entry_id`, if any.
    #[must_use]
    pub fn get(&self, entry_id: u64) -> Option<Hash256> {
        if let Some((_, hash)) = self.tail.iter().find(|(id, _)| *id == entry_id) {
            return Some(*hash);
        }
        self.levels.iter().find_map(|level| level.get(entry_id))
    }

    /// Every live entry once, in no particular order (an index snapshot writes them out).
    pub fn live_entries(&self) -> impl Iterator<Item = (u64, Hash256)> + '_ {
        self.tail.iter().copied().chain(self.levels.iter().flat_map(|level| level.live_entries()))
    }

    /// Inserts or replaces the entry `entry_id`; returns the hash it replaced.
    pub fn insert(&mut self, entry_id: u64, hash: Hash256) -> Option<Hash256> {
        let previous = self.remove(entry_id);
        self.tail.push((entry_id, hash));
        self.len += 1;
        if self.tail.len() >= self.tail_capacity {
            self.flush_tail();
        }
        previous
    }

    /// Inserts or replaces many entries, building one level for all of them (a bulk import);
    /// later occurrences of an id win over earlier ones.
    pub fn extend(&mut self, entries: impl IntoIterator<Item = (u64, Hash256)>) {
        for (entry_id, hash) in entries {
            // Remove older copies from the levels now; duplicates within the tail are
            // resolved by `flush_tail`, which keeps the last one.
            for level in &mut self.levels {
                if level.remove(entry_id).is_some() {
                    self.len -= 1;
                }
            }
            self.tail.push((entry_id, hash));
        }
        self.flush_tail();
    }

    /// Removes the entry `entry_id`; returns its hash, or `None` if it was not in the index.
    pub fn remove(&mut self, entry_id: u64) -> Option<Hash256> {
        if let Some(pos) = self.tail.iter().position(|(id, _)| *id == entry_id) {
            self.len -= 1;
            return Some(self.tail.swap_remove(pos).1);
        }
        let (pos, hash) = self
            .levels
            .iter_mut()
            .enumerate()
            .find_map(|(pos, level)| level.remove(entry_id).map(|hash| (pos, hash)))?;
        self.len -= 1;
        if self.levels[pos].live() == 0 {
            self.levels.remove(pos);
        }
        Some(hash)
    }

    /// Every entry within Hamming distance `radius` of `query` (any radius; 256 and above
    /// match everything), sorted by distance, then entry id.
    #[must_use]
    pub fn search(&self, query: &Hash256, radius: u32) -> Vec<Match> {
        let mut out = Vec::new();
        self.search_into(query, radius, &mut out);
        out
    }

    /// Like [`MatchIndex::search`], appending to `out` (cleared first) to reuse its allocation.
    pub fn search_into(&self, query: &Hash256, radius: u32, out: &mut Vec<Match>) {
        self.search_with(query, radius, Strategy::Auto, out);
    }

    fn search_with(&self, query: &Hash256, radius: u32, strategy: Strategy, out: &mut Vec<Match>) {
        out.clear();
        for level in &self.levels {
            level.search(query, radius, strategy, out);
        }
        for (entry_id, hash) in &self.tail {
            if let Some(distance) = hash.distance_within(query, radius) {
                out.push(Match { entry_id: *entry_id, distance });
            }
        }
        out.sort_unstable();
    }

    /// Merges every level and the tail into a single level (drops tombstones); useful after a
    /// bulk removal or before a long read-only period.
    pub fn compact(&mut self) {
        let mut entries = std::mem::take(&mut self.tail);
        entries.extend(self.levels.drain(..).flat_map(|level| {
            let live: Vec<_> = level.live_entries().collect();
            live
        }));
        self.tail = entries;
        self.flush_tail();
    }

    /// Bytes of heap memory held by the index: the capacities of all its arrays, times their
    /// element sizes (the allocator's own overhead is not counted).
    #[must_use]
    pub fn heap_bytes(&self) -> usize {
        self.levels.iter().map(Level::heap_bytes).sum::<usize>()
            + self.tail.capacity() * size_of::<(u64, Hash256)>()
            + self.levels.capacity() * size_of::<Level>()
    }

    /// Number of immutable levels (for tests and diagnostics).
    #[must_use]
    pub fn level_count(&self) -> usize {
        self.levels.len()
    }

    /// Turns the tail into a level (last occurrence of an id wins), then merges levels.
    fn flush_tail(&mut self) {
        if self.tail.is_empty() {
            return;
        }
        let mut entries = std::mem::take(&mut self.tail);
        // Stable sort keeps insertion order among equal ids; keep the last of each run.
        entries.sort_by_key(|(id, _)| *id);
        let mut unique: Vec<(u64, Hash256)> = Vec::with_capacity(entries.len());
        for entry in entries {
            match unique.last_mut() {
                Some(last) if last.0 == entry.0 => *last = entry,
                _ => unique.push(entry),
            }
        }
        self.len = self.levels.iter().map(Level::live).sum::<usize>() + unique.len();
        self.push_sorted(unique);
    }

    /// Adds entries sorted by unique id (not present in any level) as new level(s) and merges.
    fn push_sorted(&mut self, mut entries: Vec<(u64, Hash256)>) {
        while entries.len() > MAX_LEVEL_ENTRIES {
            let rest = entries.split_off(MAX_LEVEL_ENTRIES);
            self.levels.push(self.build_level(entries));
            entries = rest;
        }
        let level = self.build_level(entries);
        self.levels.push(level);
        while let [.., older, newer] = self.levels.as_slice() {
            let (older, newer) = (older.live(), newer.live());
            if newer * MERGE_RATIO < older || older + newer > MAX_LEVEL_ENTRIES {
                break;
            }
            let (Some(newer), Some(older)) = (self.levels.pop(), self.levels.pop()) else {
                break; // unreachable: the slice pattern above saw two levels
            };
            let level = self.build_level(merge_by_id(&older, &newer));
            self.levels.push(level);
        }
    }

    fn build_level(&self, entries: Vec<(u64, Hash256)>) -> Level {
        match (&self.layout_override, self.slot_bytes_override) {
            (None, None) => Level::build(entries, self.large_tables),
            (layout, slot_bytes) => {
                let layout = layout.clone().unwrap_or_else(|| plan::layout_for(entries.len(), self.large_tables));
                match slot_bytes {
                    Some(slot_bytes) => Level::build_packed(entries, layout, slot_bytes),
                    None => Level::build_with(entries, layout),
                }
            }
        }
    }
}

/// Live entries of two levels, merged in ascending id order (ids are unique across levels).
fn merge_by_id(a: &Level, b: &Level) -> Vec<(u64, Hash256)> {
    let mut out = Vec::with_capacity(a.live() + b.live());
    let mut a = a.live_entries().peekable();
    let mut b = b.live_entries().peekable();
    loop {
        let next = match (a.peek(), b.peek()) {
            (Some(x), Some(y)) => {
                if x.0 <= y.0 {
                    a.next()
                } else {
                    b.next()
                }
            }
            (Some(_), None) => a.next(),
            (None, Some(_)) => b.next(),
            (None, None) => break,
        };
        out.extend(next);
    }
    out
}
