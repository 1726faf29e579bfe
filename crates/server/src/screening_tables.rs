//! The screening index's lookup tables by entry key and by exact digest, as sorted flat arrays
//! (binary search) with the changes applied since they were built kept beside them, so that they
//! are built from a sorted sequence or read back from an index snapshot in bulk, with no hashing
//! or allocation per entry (issue 16 goal 4: a 10M-hash bank serving within 10 s of start), and
//! take about a third of the memory of hash maps of vectors.
//!
//! Each table is a **base** (sorted arrays, with a tombstone bit per position) plus an **overlay**
//! (a hash map of what was added since). A key or digest pair lives in one of the two: an insert of
//! something in the base updates it there. Lookups cost one binary search (about 24 steps at 10M)
//! and one hash probe; they run once per screening hit, not per candidate.

use std::collections::HashMap;

use super::EntryInfo;

/// A tombstone bitmap over base positions.
#[derive(Debug, Clone, Default)]
struct Tombstones {
    bits: Vec<u64>,
    count: usize,
}

impl Tombstones {
    fn new(len: usize) -> Self {
        Self { bits: vec![0; len.div_ceil(64)], count: 0 }
    }

    fn is_set(&self, pos: usize) -> bool {
        self.bits[pos / 64] >> (pos % 64) & 1 == 1
    }

    /// Sets or clears the bit; returns whether it changed.
    fn set(&mut self, pos: usize, removed: bool) -> bool {
        if self.is_set(pos) == removed {
            return false;
        }
        self.bits[pos / 64] ^= 1 << (pos % 64);
        if removed {
            self.count += 1;
        } else {
            self.count -= 1;
        }
        true
    }
}

/// Entry information by index key (the entry's `seq`).
#[derive(Debug, Default)]
pub(super) struct Entries {
    /// Base keys, strictly ascending.
    keys: Vec<u64>,
    /// Base information, by position.
    infos: Vec<EntryInfo>,
    removed: Tombstones,
    /// Entries added since the base was built (keys never in `keys`).
    added: HashMap<u64, EntryInfo>,
}

impl Entries {
    /// A base from keys in strictly ascending order and their information.
    ///
    /// # Errors
    /// The keys do not ascend strictly, or the two arrays differ in length.
    pub(super) fn from_sorted(keys: Vec<u64>, infos: Vec<EntryInfo>) -> Result<Self, &'static str> {
        if keys.len() != infos.len() {
            return Err("entry keys and entries differ in number");
        }
        if !keys.windows(2).all(|w| w[0] < w[1]) {
            return Err("entry keys are not in ascending order");
        }
        let removed = Tombstones::new(keys.len());
        Ok(Self { keys, infos, removed, added: HashMap::new() })
    }

    fn position(&self, key: u64) -> Option<usize> {
        self.keys.binary_search(&key).ok()
    }

    pub(super) fn get(&self, key: &u64) -> Option<EntryInfo> {
        match self.position(*key) {
            Some(pos) => (!self.removed.is_set(pos)).then(|| self.infos[pos]),
            None => self.added.get(key).copied(),
        }
    }

    pub(super) fn insert(&mut self, key: u64, info: EntryInfo) {
        match self.position(key) {
            Some(pos) => {
                self.infos[pos] = info;
                self.removed.set(pos, false);
            }
            None => {
                self.added.insert(key, info);
            }
        }
    }

    pub(super) fn remove(&mut self, key: &u64) {
        match self.position(*key) {
            Some(pos) => {
                self.removed.set(pos, true);
            }
            None => {
                self.added.remove(key);
            }
        }
    }

    pub(super) fn len(&self) -> usize {
        self.keys.len() - self.removed.count + self.added.len()
    }

    /// Replaces every entry's bank slot by `map(slot)` (a snapshot's slots to this process's).
    pub(super) fn map_banks(&mut self, map: impl Fn(u32) -> u32) {
        for info in self.infos.iter_mut().chain(self.added.values_mut()) {
            info.bank = map(info.bank);
        }
    }

    /// Every live entry in ascending key order (an index snapshot writes them so).
    pub(super) fn sorted(&self) -> impl Iterator<Item = (u64, EntryInfo)> + '_ {
        let mut added: Vec<(u64, EntryInfo)> = self.added.iter().map(|(k, v)| (*k, *v)).collect();
        added.sort_unstable_by_key(|e| e.0);
        let base =
            (0..self.keys.len()).filter(|&pos| !self.removed.is_set(pos)).map(|pos| (self.keys[pos], self.infos[pos]));
        merge_sorted(base, added.into_iter(), |a, b| a.0 <= b.0)
    }
}

/// Entry keys by exact digest (SHA-256 or MD5: `N` bytes); one digest may have several keys.
#[derive(Debug)]
pub(super) struct Digests<const N: usize> {
    /// Base pairs, strictly ascending by (digest, key).
    pairs: Vec<([u8; N], u64)>,
    removed: Tombstones,
    /// Pairs added since the base was built (never in `pairs`).
    added: HashMap<[u8; N], Vec<u64>>,
}

impl<const N: usize> Default for Digests<N> {
    fn default() -> Self {
        Self { pairs: Vec::new(), removed: Tombstones::default(), added: HashMap::new() }
    }
}

impl<const N: usize> Digests<N> {
    /// A base from (digest, key) pairs in strictly ascending order.
    ///
    /// # Errors
    /// The pairs do not ascend strictly.
    pub(super) fn from_sorted(pairs: Vec<([u8; N], u64)>) -> Result<Self, &'static str> {
        if !pairs.windows(2).all(|w| w[0] < w[1]) {
            return Err("digests are not in ascending order");
        }
        let removed = Tombstones::new(pairs.len());
        Ok(Self { pairs, removed, added: HashMap::new() })
    }

    /// A base from pairs in any order (duplicates dropped).
    pub(super) fn from_unsorted(mut pairs: Vec<([u8; N], u64)>) -> Self {
        pairs.sort_unstable();
        pairs.dedup();
        let removed = Tombstones::new(pairs.len());
        Self { pairs, removed, added: HashMap::new() }
    }

    /// Base positions of `digest`.
    fn range(&self, digest: &[u8; N]) -> std::ops::Range<usize> {
        let start = self.pairs.partition_point(|p| p.0 < *digest);
        let end = start + self.pairs[start..].partition_point(|p| p.0 == *digest);
        start..end
    }

    /// The live keys of `digest`.
    pub(super) fn keys(&self, digest: &[u8; N]) -> Vec<u64> {
        let mut keys: Vec<u64> =
            self.range(digest).filter(|&pos| !self.removed.is_set(pos)).map(|pos| self.pairs[pos].1).collect();
        keys.extend(self.added.get(digest).map_or(&[][..], Vec::as_slice));
        keys
    }

    pub(super) fn insert(&mut self, digest: [u8; N], key: u64) {
        if let Some(pos) = self.range(&digest).find(|&pos| self.pairs[pos].1 == key) {
            self.removed.set(pos, false);
            return;
        }
        let keys = self.added.entry(digest).or_default();
        if !keys.contains(&key) {
            keys.push(key);
        }
    }

    pub(super) fn remove(&mut self, digest: &[u8; N], key: u64) {
        if let Some(pos) = self.range(digest).find(|&pos| self.pairs[pos].1 == key) {
            self.removed.set(pos, true);
            return;
        }
        if let Some(keys) = self.added.get_mut(digest) {
            keys.retain(|k| *k != key);
            if keys.is_empty() {
                self.added.remove(digest);
            }
        }
    }

    /// Number of live (digest, key) pairs.
    pub(super) fn len(&self) -> usize {
        self.pairs.len() - self.removed.count + self.added.values().map(Vec::len).sum::<usize>()
    }

    /// Whether no live pair is left (O(1): an added digest with no keys is dropped on removal).
    pub(super) fn is_empty(&self) -> bool {
        self.pairs.len() == self.removed.count && self.added.is_empty()
    }

    /// Every live pair in ascending (digest, key) order.
    pub(super) fn sorted(&self) -> impl Iterator<Item = ([u8; N], u64)> + '_ {
        let mut added: Vec<([u8; N], u64)> =
            self.added.iter().flat_map(|(d, keys)| keys.iter().map(|k| (*d, *k))).collect();
        added.sort_unstable();
        let base = (0..self.pairs.len()).filter(|&pos| !self.removed.is_set(pos)).map(|pos| self.pairs[pos]);
        merge_sorted(base, added.into_iter(), |a, b| a <= b)
    }
}

/// Merges two sorted sequences.
fn merge_sorted<T>(
    a: impl Iterator<Item = T>,
    b: impl Iterator<Item = T>,
    le: impl Fn(&T, &T) -> bool,
) -> impl Iterator<Item = T> {
    let mut a = a.peekable();
    let mut b = b.peekable();
    std::iter::from_fn(move || match (a.peek(), b.peek()) {
        (Some(x), Some(y)) => {
            if le(x, y) {
                a.next()
            } else {
                b.next()
            }
        }
        (Some(_), None) => a.next(),
        (None, _) => b.next(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(n: u8) -> EntryInfo {
        EntryInfo { id: uuid::Uuid::from_bytes([n; 16]), bank: u32::from(n) }
    }

    #[test]
    fn entries_apply_changes_over_the_base_like_a_map() {
        let mut entries = Entries::from_sorted(vec![2, 4, 6], vec![info(2), info(4), info(6)]).unwrap();
        let mut model: std::collections::BTreeMap<u64, u8> = [(2, 2), (4, 4), (6, 6)].into();
        for (op, key, n) in [(0, 4, 0), (1, 5, 5), (1, 4, 9), (0, 2, 0), (1, 2, 7), (0, 5, 0), (1, 1, 1), (0, 6, 0)] {
            if op == 0 {
                entries.remove(&key);
                model.remove(&key);
            } else {
                entries.insert(key, info(n));
                model.insert(key, n);
            }
            assert_eq!(entries.len(), model.len());
            for k in 0..8 {
                assert_eq!(entries.get(&k).map(|i| i.bank), model.get(&k).map(|&n| u32::from(n)), "key {k}");
            }
            let sorted: Vec<u64> = entries.sorted().map(|e| e.0).collect();
            assert_eq!(sorted, model.keys().copied().collect::<Vec<_>>());
        }
        assert!(Entries::from_sorted(vec![3, 3], vec![info(1), info(1)]).is_err());
    }

    #[test]
    fn digests_apply_changes_over_the_base_like_a_multimap() {
        let d = |n: u8| [n; 4];
        let mut digests = Digests::<4>::from_unsorted(vec![(d(2), 20), (d(1), 11), (d(1), 10), (d(2), 20)]);
        let mut model: std::collections::BTreeSet<([u8; 4], u64)> = [(d(1), 10), (d(1), 11), (d(2), 20)].into();
        for (op, digest, key) in [(0, 1, 10), (1, 1, 12), (1, 1, 10), (0, 2, 20), (1, 3, 30), (0, 3, 30), (1, 2, 21)] {
            if op == 0 {
                digests.remove(&d(digest), key);
                model.remove(&(d(digest), key));
            } else {
                digests.insert(d(digest), key);
                model.insert((d(digest), key));
            }
            assert_eq!(digests.len(), model.len());
            assert_eq!(digests.is_empty(), model.is_empty());
            for n in 0..4 {
                let mut keys = digests.keys(&d(n));
                keys.sort_unstable();
                let expected: Vec<u64> = model.iter().filter(|p| p.0 == d(n)).map(|p| p.1).collect();
                assert_eq!(keys, expected, "digest {n}");
            }
            assert_eq!(digests.sorted().collect::<Vec<_>>(), model.iter().copied().collect::<Vec<_>>());
        }
        assert!(Digests::<4>::from_sorted(vec![(d(2), 1), (d(1), 1)]).is_err());
        // Emptied from both sides: the base's pairs removed and an added digest removed again.
        let mut emptied = Digests::<4>::from_sorted(vec![(d(1), 1)]).expect("sorted");
        emptied.insert(d(5), 50);
        assert!(!emptied.is_empty());
        emptied.remove(&d(1), 1);
        assert!(!emptied.is_empty());
        emptied.remove(&d(5), 50);
        assert!(emptied.is_empty() && Digests::<4>::default().is_empty());
    }
}
