//! The index against a brute-force oracle (a `BTreeMap` of the live entries), on random data
//! with planted near-duplicates at every distance 0..=r+2, after inserts, replacements and
//! removals, with both search paths forced (probing the tables, scanning linearly) and the
//! automatic choice.

use std::collections::BTreeMap;

use proptest::prelude::*;

use crate::level::Strategy as SearchStrategy;
use crate::plan::{Layout, layout_12, layout_16x16, layout_even};
use crate::{Hash256, Match, MatchIndex};

/// The shared seeded generator, with a `usize` bound for indexing.
type Rng = crate::SplitMix64;

trait BelowUsize {
    fn below_usize(&mut self, n: usize) -> usize;
}

impl BelowUsize for Rng {
    fn below_usize(&mut self, n: usize) -> usize {
        self.below(n as u64) as usize
    }
}

fn flip(hash: &mut Hash256, bit: usize) {
    hash.0[bit / 64] ^= 1 << (bit % 64);
}

/// How the differing bits of a planted near-duplicate are placed.
#[derive(Clone, Copy, Debug)]
enum Pattern {
    /// Distinct random bits.
    Random,
    /// Round-robin over the 16 chunks: the worst case for the pigeonhole bound (at d = 31,
    /// only one chunk is within one flip).
    Spread,
    /// Consecutive bits from a random start: whole chunks differ, others are equal.
    Packed,
}

/// `hash` with exactly `distance` bits flipped, placed by `pattern`.
fn plant(rng: &mut Rng, hash: &Hash256, distance: usize, pattern: Pattern) -> Hash256 {
    let mut out = *hash;
    let bits: Vec<usize> = match pattern {
        Pattern::Random => {
            let mut all: Vec<usize> = (0..256).collect();
            for i in 0..distance {
                let j = i + rng.below_usize(256 - i);
                all.swap(i, j);
            }
            all.truncate(distance);
            all
        }
        Pattern::Spread => {
            let offset = rng.below_usize(16);
            (0..distance).map(|i| (i % 16) * 16 + (i / 16 + offset) % 16).collect()
        }
        Pattern::Packed => {
            let start = rng.below_usize(256);
            (0..distance).map(|i| (start + i) % 256).collect()
        }
    };
    for bit in bits {
        flip(&mut out, bit);
    }
    debug_assert_eq!(out.distance(hash) as usize, distance);
    out
}

fn brute_force(model: &BTreeMap<u64, Hash256>, query: &Hash256, radius: u32) -> Vec<Match> {
    let mut out: Vec<Match> = model
        .iter()
        .filter_map(|(&entry_id, hash)| {
            let distance = hash.distance(query);
            (distance <= radius).then_some(Match { distance, entry_id })
        })
        .collect();
    out.sort_unstable();
    out
}

/// Searches with every strategy and compares with brute force.
fn check_all(index: &MatchIndex, model: &BTreeMap<u64, Hash256>, query: &Hash256, radius: u32) {
    let expected = brute_force(model, query, radius);
    for strategy in [SearchStrategy::Auto, SearchStrategy::Indexed, SearchStrategy::Linear] {
        let mut got = Vec::new();
        index.search_with(query, radius, strategy, &mut got);
        assert_eq!(got, expected, "radius {radius}, strategy {strategy:?}");
    }
    assert_eq!(index.search(query, radius), expected);
    // Every live entry once, wherever it lives (tail or a level): what an index snapshot writes.
    let mut live: Vec<(u64, Hash256)> = index.live_entries().collect();
    live.sort_by_key(|e| e.0);
    assert_eq!(live, model.iter().map(|(k, v)| (*k, *v)).collect::<Vec<_>>());
}

/// A new id. `mode` 0 mixes small and huge ids (ids are opaque and may be anything: levels
/// store them as `u64`); 1 gives small ids and 2 ids just above 2^40 (levels store `u32`
/// offsets from their smallest id, or 2-byte deltas in blocks); 3 a dense rising sequence from
/// 2^41 with small gaps (a database sequence: 1-byte deltas).
fn fresh_id(rng: &mut Rng, model: &BTreeMap<u64, Hash256>, mode: u8) -> u64 {
    loop {
        let id = match mode {
            0 if rng.below_usize(2) == 0 => rng.next_u64() % 10_000,
            0 => rng.next_u64(),
            1 => rng.next_u64() % 100_000,
            2 => (1 << 40) + rng.next_u64() % 100_000,
            // A dense sequence with gaps: levels store 1-byte deltas in blocks.
            _ => model.keys().next_back().map_or(1 << 41, |last| last + 1) + rng.below_usize(3) as u64,
        };
        if !model.contains_key(&id) {
            return id;
        }
    }
}

#[derive(Debug, Clone)]
struct Case {
    seed: u64,
    radius: u32,
    n_queries: usize,
    n_random: usize,
    n_bulk_inserts: usize,
    n_removes: usize,
    n_replaces: usize,
    tail_capacity: usize,
    /// 0: chosen by size (production), 1: 16 × 16 bits, 2: 12 chunks of 21–22 bits, 3: 9
    /// chunks of 28–29 bits (`MatchIndex::with_large_level_tables(9)`).
    layout: u8,
    /// How ids are drawn (`fresh_id`).
    id_mode: u8,
    /// Build levels with 4-byte slots (as levels above 2^24 entries are) instead of 3.
    wide_slots: bool,
}

fn case() -> impl Strategy<Value = Case> {
    (
        any::<u64>(),
        prop::sample::select(vec![0u32, 1, 2, 15, 16, 31, 32, 40, 64]),
        1usize..4,
        0usize..600,
        0usize..300,
        0usize..200,
        0usize..50,
        prop::sample::select(vec![1usize, 7, 64, 1024]),
        (0u8..4, 0u8..4, any::<bool>()),
    )
        .prop_map(
            |(
                seed,
                radius,
                n_queries,
                n_random,
                n_bulk_inserts,
                n_removes,
                n_replaces,
                tail_capacity,
                (layout, id_mode, wide_slots),
            )| Case {
                seed,
                radius,
                n_queries,
                n_random,
                n_bulk_inserts,
                n_removes,
                n_replaces,
                tail_capacity,
                layout,
                id_mode,
                wide_slots,
            },
        )
}

fn run_case(case: &Case) {
    let mut rng = crate::SplitMix64(case.seed);
    let radius = case.radius;
    let queries: Vec<Hash256> = (0..case.n_queries).map(|_| rng.hash()).collect();
    let mut model = BTreeMap::new();
    // Planted near-duplicates of each query at every distance 0..=r+2, three placements, and
    // every fifth one twice under different ids.
    let mut planted = Vec::new();
    for query in &queries {
        for distance in 0..=(radius as usize + 2).min(256) {
            for pattern in [Pattern::Random, Pattern::Spread, Pattern::Packed] {
                let hash = plant(&mut rng, query, distance, pattern);
                let copies = if planted.len() % 5 == 0 { 2 } else { 1 };
                for _ in 0..copies {
                    let id = fresh_id(&mut rng, &model, case.id_mode);
                    model.insert(id, hash);
                    planted.push((id, hash));
                }
            }
        }
    }
    for _ in 0..case.n_random {
        let id = fresh_id(&mut rng, &model, case.id_mode);
        let hash = rng.hash();
        model.insert(id, hash);
        planted.push((id, hash));
    }
    // Half in one build, the rest one insert at a time (tail, flushes and merges).
    let split = planted.len() / 2;
    let layout: Option<Layout> = match case.layout {
        0 => None,
        1 => Some(layout_16x16()),
        2 => Some(layout_12()),
        _ => Some(layout_even(9)),
    };
    let mut index = if layout.is_none() && !case.wide_slots {
        MatchIndex::from_entries(planted[..split].iter().copied())
    } else {
        let mut index = MatchIndex::new();
        index.layout_override = layout;
        index.slot_bytes_override = case.wide_slots.then_some(4);
        index.extend(planted[..split].iter().copied());
        index
    };
    index.tail_capacity = case.tail_capacity;
    for &(id, hash) in &planted[split..] {
        assert_eq!(index.insert(id, hash), None);
    }
    // A bulk insert of near-duplicates of the queries (another level at once).
    let mut bulk = Vec::new();
    for _ in 0..case.n_bulk_inserts {
        let query = queries[rng.below_usize(queries.len())];
        let distance = rng.below_usize(radius as usize + 3).min(256);
        let hash = plant(&mut rng, &query, distance, Pattern::Random);
        let id = fresh_id(&mut rng, &model, case.id_mode);
        model.insert(id, hash);
        bulk.push((id, hash));
    }
    index.extend(bulk);
    assert_eq!(index.len(), model.len());
    for query in &queries {
        check_all(&index, &model, query, radius);
    }
    // Removals of present ids (returning their hash) and of missing ones (returning None).
    for _ in 0..case.n_removes {
        let id = if rng.below_usize(4) == 0 || model.is_empty() {
            rng.next_u64()
        } else {
            let ids: Vec<u64> = model.keys().copied().collect();
            ids[rng.below_usize(ids.len())]
        };
        assert_eq!(index.remove(id), model.remove(&id), "remove {id}");
    }
    // Replacements: an existing id gets a new hash near a query.
    for _ in 0..case.n_replaces {
        if model.is_empty() {
            break;
        }
        let ids: Vec<u64> = model.keys().copied().collect();
        let id = ids[rng.below_usize(ids.len())];
        let query = queries[rng.below_usize(queries.len())];
        let distance = rng.below_usize(radius as usize + 3).min(256);
        let hash = plant(&mut rng, &query, distance, Pattern::Spread);
        assert_eq!(index.insert(id, hash), model.insert(id, hash));
    }
    assert_eq!(index.len(), model.len());
    for (id, hash) in model.iter().take(20) {
        assert_eq!(index.get(*id), Some(*hash));
    }
    for query in &queries {
        check_all(&index, &model, query, radius);
        // Neighbouring radii on the same data: off-by-one in the plan shows up here.
        check_all(&index, &model, query, radius.saturating_sub(1));
        check_all(&index, &model, query, radius + 1);
    }
    // Export and import (an index snapshot): the copy answers every query like the original,
    // and takes further updates like it.
    let mut copy = round_trip(&index);
    assert_eq!((copy.len(), copy.level_count()), (index.len(), index.level_count()));
    for query in &queries {
        check_all(&copy, &model, query, radius);
    }
    if let Some(id) = model.keys().next().copied() {
        assert_eq!(copy.remove(id), model.remove(&id));
        let hash = plant(&mut rng, &queries[0], 1, Pattern::Random);
        let id = fresh_id(&mut rng, &model, case.id_mode);
        model.insert(id, hash);
        copy.insert(id, hash);
    }
    for query in &queries {
        check_all(&copy, &model, query, radius);
    }
    let mut index = copy;
    index.compact();
    assert!(index.level_count() <= 1);
    for query in &queries {
        check_all(&index, &model, query, radius);
    }
}

fn export(index: &MatchIndex) -> Vec<u8> {
    let mut bytes = Vec::new();
    index.export(&mut bytes).unwrap();
    bytes
}

fn round_trip(index: &MatchIndex) -> MatchIndex {
    let bytes = export(index);
    MatchIndex::import(&mut bytes.as_slice(), bytes.len() as u64).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn search_equals_brute_force(case in case()) {
        run_case(&case);
    }
}

#[test]
fn empty_index_finds_nothing() {
    let index = MatchIndex::new();
    assert!(index.is_empty());
    assert_eq!(index.search(&Hash256::default(), 256), Vec::new());
    let built = MatchIndex::from_entries(Vec::new());
    assert_eq!(built.level_count(), 0);
    assert_eq!(built.search(&Hash256::default(), 31), Vec::new());
}

#[test]
fn same_hash_under_different_ids_is_found_under_each() {
    let hash = Hash256([1, 2, 3, 4]);
    let mut index = MatchIndex::from_entries([(7, hash), (3, hash)]);
    index.insert(11, hash);
    let got = index.search(&hash, 0);
    let ids: Vec<u64> = got.iter().map(|m| m.entry_id).collect();
    assert_eq!(ids, vec![3, 7, 11]);
    assert!(got.iter().all(|m| m.distance == 0));
}

#[test]
fn removing_a_missing_id_changes_nothing() {
    let hash = Hash256([9, 9, 9, 9]);
    let mut index = MatchIndex::from_entries([(1, hash)]);
    assert_eq!(index.remove(2), None);
    assert_eq!(index.len(), 1);
    assert_eq!(index.remove(1), Some(hash));
    assert_eq!(index.remove(1), None);
    assert!(index.is_empty());
    assert_eq!(index.search(&hash, 256), Vec::new());
}

#[test]
fn insert_replaces_and_last_duplicate_wins_in_bulk() {
    let a = Hash256([0, 0, 0, 0]);
    let b = Hash256([u64::MAX, 0, 0, 0]);
    let mut index = MatchIndex::from_entries([(5, a), (5, b)]);
    assert_eq!(index.len(), 1);
    assert_eq!(index.get(5), Some(b));
    assert_eq!(index.insert(5, a), Some(b));
    assert_eq!(index.len(), 1);
    assert_eq!(index.search(&b, 63), Vec::new());
    assert_eq!(index.search(&b, 64), vec![Match { distance: 64, entry_id: 5 }]);
    index.extend([(5, b), (6, a)]);
    assert_eq!(index.len(), 2);
    assert_eq!(index.get(5), Some(b));
}

#[test]
fn bytes_round_trip_and_distance() {
    let mut bytes = [0u8; 32];
    for (i, byte) in bytes.iter_mut().enumerate() {
        *byte = (i as u8).wrapping_mul(37);
    }
    let hash = Hash256::from_bytes(bytes);
    assert_eq!(hash.to_bytes(), bytes);
    assert_eq!(hash.0[0] >> 56, 0, "first byte is the top of the first word");
    let mut other = bytes;
    other[31] ^= 0b1011;
    assert_eq!(hash.distance(&Hash256::from(other)), 3);
    assert_eq!(Hash256([0; 4]).distance(&Hash256([u64::MAX; 4])), 256);
    assert_eq!(hash.distance_within(&Hash256::from(other), 2), None);
    assert_eq!(hash.distance_within(&Hash256::from(other), 3), Some(3));
}

/// A level large enough for full 16-bit directories, in both layouts, against brute force on
/// planted queries at r = 31 and 32.
#[test]
fn full_size_level_equals_brute_force() {
    let mut rng = crate::SplitMix64(0x5EED);
    let mut model = BTreeMap::new();
    for id in 0..300_000u64 {
        model.insert(id, rng.hash());
    }
    let queries: Vec<Hash256> = (0..8).map(|_| rng.hash()).collect();
    let mut next_id = 1_000_000u64;
    for query in &queries {
        for distance in 0..=34 {
            for pattern in [Pattern::Random, Pattern::Spread, Pattern::Packed] {
                model.insert(next_id, plant(&mut rng, query, distance, pattern));
                next_id += 1;
            }
        }
    }
    let index = MatchIndex::from_entries(model.iter().map(|(id, hash)| (*id, *hash)));
    assert_eq!(index.level_count(), 1);
    let mut index_12 = MatchIndex::new();
    index_12.layout_override = Some(layout_12());
    index_12.extend(model.iter().map(|(id, hash)| (*id, *hash)));
    assert_eq!(index_12.level_count(), 1);
    for query in &queries {
        for radius in [0, 1, 16, 31, 32] {
            check_all(&index, &model, query, radius);
            check_all(&index_12, &model, query, radius);
        }
    }
}

/// Clustered data: 70,000 entries share one hash and 5,000 more lie within a few bits of it, so
/// one bucket of every table outgrows the one- and two-byte directory offsets; the directories
/// widen and the index still equals brute force. Ids near 2^50 are stored as `u32` offsets.
#[test]
fn clustered_entries_widen_the_directory_and_stay_exact() {
    let mut rng = crate::SplitMix64(0xC1A5);
    let centre = rng.hash();
    let mut model = BTreeMap::new();
    let base = 1u64 << 50;
    for i in 0..70_000u64 {
        model.insert(base + i, centre);
    }
    for i in 0..5_000u64 {
        let distance = rng.below_usize(6);
        model.insert(base + 70_000 + i, plant(&mut rng, &centre, distance, Pattern::Random));
    }
    for i in 0..50_000u64 {
        model.insert(base + 100_000 + i, rng.hash());
    }
    let index = MatchIndex::from_entries(model.iter().map(|(id, hash)| (*id, *hash)));
    assert_eq!(index.level_count(), 1);
    for radius in [0, 3, 31] {
        check_all(&index, &model, &centre, radius);
        check_all(&index, &model, &plant(&mut rng, &centre, 20, Pattern::Spread), radius);
    }
    let narrow = MatchIndex::from_entries((0..125_000u64).map(|i| (base + i, rng.hash())));
    let wide = MatchIndex::from_entries((0..125_000u64).map(|i| (i << 33, rng.hash())));
    let sparse = MatchIndex::from_entries((0..125_000u64).map(|i| (base + i * 3000, rng.hash())));
    assert_eq!(wide.heap_bytes() - sparse.heap_bytes(), 125_000 * 4, "ids: u32 offsets vs u64");
    let blocks = 125_000usize.div_ceil(32) * 4;
    assert_eq!(sparse.heap_bytes() - narrow.heap_bytes(), 125_000 * 3 - blocks, "dense ids: 1-byte deltas");
    let spaced = MatchIndex::from_entries((0..125_000u64).map(|i| (base + i * 100, rng.hash())));
    assert_eq!(sparse.heap_bytes() - spaced.heap_bytes(), 125_000 * 2 - blocks, "2-byte deltas");
    for (index, step) in [(&narrow, 1), (&spaced, 100), (&sparse, 3000)] {
        for i in [0u64, 1, 31, 32, 33, 124_999] {
            let id = base + i * step;
            assert!(index.get(id).is_some(), "id {id} (step {step})");
            assert_eq!(index.get(id + 1).is_some(), step == 1 && i < 124_999);
        }
        assert_eq!(index.get(base - 1), None);
        assert_eq!(index.get(base + 125_000 * step), None);
    }
}

/// Searches take `&self` and the index is shared across request handlers.
#[test]
fn index_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<MatchIndex>();
}

/// An index with several levels, a tail, tombstones and both slot widths' worth of structure.
fn small_index(seed: u64) -> MatchIndex {
    let mut rng = crate::SplitMix64(seed);
    let mut index = MatchIndex::from_entries((0..3000u64).map(|id| (id * 3, rng.hash())));
    index.tail_capacity = 64;
    for id in 10_000..10_200u64 {
        index.insert(id, rng.hash());
    }
    for id in (0..3000u64).step_by(7) {
        index.remove(id * 3);
    }
    assert!(index.level_count() >= 2 && !index.tail.is_empty());
    index
}

/// Every truncation of an export is refused, never a panic; so is a wrong budget.
#[test]
fn truncated_exports_are_refused() {
    let bytes = export(&small_index(1));
    for cut in (0..bytes.len()).step_by(97).chain([bytes.len() - 1]) {
        assert!(MatchIndex::import(&mut &bytes[..cut], bytes.len() as u64).is_err(), "cut at {cut}");
    }
    assert!(MatchIndex::import(&mut bytes.as_slice(), bytes.len() as u64 - 1).is_err());
    assert!(MatchIndex::import(&mut bytes.as_slice(), bytes.len() as u64).is_ok());
    let mut other_version = bytes.clone();
    other_version[10] ^= 1;
    let refused = MatchIndex::import(&mut other_version.as_slice(), bytes.len() as u64).unwrap_err();
    assert!(refused.to_string().contains("format"), "{refused}");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// A damaged or hostile export (bytes overwritten anywhere, counts and offsets included) is
    /// refused or, where the damage is only in hash values, imported; it never panics, and an
    /// imported one searches without panicking.
    #[test]
    fn damaged_exports_are_refused_or_searchable(seed in any::<u64>(), flips in prop::collection::vec((any::<u32>(), any::<u8>()), 1..6)) {
        let index = small_index(seed % 4);
        let mut bytes = export(&index);
        let mut rng = crate::SplitMix64(seed);
        for (at, value) in flips {
            // Half of the damage in the first 200 bytes, where counts and layouts live.
            let at = if at % 2 == 0 { at as usize % 200 } else { at as usize % bytes.len() };
            bytes[at] = value;
        }
        if let Ok(copy) = MatchIndex::import(&mut bytes.as_slice(), bytes.len() as u64) {
            for _ in 0..4 {
                let query = rng.hash();
                let _ = copy.search(&query, 64);
            }
            let _ = copy.get(3);
        }
    }
}

#[test]
fn a_full_size_level_round_trips_with_four_byte_slots_and_every_id_form() {
    let mut rng = crate::SplitMix64(9);
    for ids in [
        (0..5000u64).map(|i| i * 2).collect::<Vec<_>>(),      // packed deltas
        (0..5000u64).map(|i| i * 70_000).collect::<Vec<_>>(), // narrow offsets
        (0..5000u64).map(|i| i << 40).collect::<Vec<_>>(),    // wide
    ] {
        let entries: Vec<(u64, Hash256)> = ids.iter().map(|&id| (id, rng.hash())).collect();
        let mut index = MatchIndex::new();
        index.slot_bytes_override = Some(4);
        index.extend(entries.iter().copied());
        let copy = round_trip(&index);
        let model: BTreeMap<u64, Hash256> = entries.iter().copied().collect();
        for (_, hash) in entries.iter().step_by(500) {
            let query = plant(&mut rng, hash, 20, Pattern::Spread);
            check_all(&copy, &model, &query, 31);
        }
    }
}

/// Targeted damage is refused with its reason: a slot past the entries, a stray tombstone.
#[test]
fn out_of_range_slots_and_stray_tombstones_are_refused() {
    let mut rng = crate::SplitMix64(3);
    let n = 1000usize;
    let index = MatchIndex::from_entries((0..n as u64).map(|id| (id, rng.hash())));
    let bytes = export(&index);
    // One level and no tail: the level's tombstones end the export, its slots come just before.
    let tombstones = n.div_ceil(64) * 8;
    let slots_end = bytes.len() - tombstones;
    let import = |bytes: &[u8]| MatchIndex::import(&mut &bytes[..], bytes.len() as u64);
    let mut bad_slot = bytes.clone();
    bad_slot[slots_end - 3..slots_end].copy_from_slice(&[0xFF, 0xFF, 0x00]);
    assert!(import(&bad_slot).unwrap_err().to_string().contains("slot points past"));
    let mut stray = bytes.clone();
    stray[bytes.len() - 8] |= 1;
    assert!(import(&stray).unwrap_err().to_string().contains("tombstones"));
    assert_eq!(import(&bytes).unwrap().len(), n);
}
