//! The in-memory screening state: every live bank entry in a PDQ match index and two exact maps
//! (SHA-256, MD5), kept current by replaying the database's bank change log.
//!
//! Issue 5, design.md §5 ("Rebuilt from the database at start, updated incrementally") and §9
//! (screening nodes are stateless apart from this index; bank updates reach every node through
//! the database). The state remembers the last change it applied; [`BankIndex::catch_up`] applies
//! newer ones. It runs after every bank mutation this process commits, when PostgreSQL notifies
//! that another process committed one ([`spawn_bank_sync`]), and on a timer as a safety net (and
//! as the only path on SQLite for changes made by the CLI).
//!
//! Per-bank thresholds: the PDQ index is searched once at the largest threshold of any bank and
//! each hit is kept only if it is within its own bank's threshold. PDQ hashes of quality below 50
//! are neither indexed nor queried (specs/pdq.md §5).
//!
//! Rotations and mirror images (issue 14): when the query carries the eight dihedral variants of
//! its PDQ hash (computed from one DCT, specs/pdq.md step 6), the seven other than the original are
//! searched too, at the largest threshold of the banks with `dihedral` on, and their hits count
//! only for those banks. Each entry is reported once, at its smallest distance, naming the
//! transform of the upload that matched (`transform`; absent for the upload as given).

use std::collections::HashMap;
use std::sync::RwLock;
use std::time::Duration;

use staydown_domain::bank::{BankAction, pdq_matchable};
use staydown_index::{Hash256, MatchIndex};
use staydown_store::{Bank, BankChangeKind, IndexedEntry, Store, StoreError};
use tokio::sync::{Mutex, watch};

use crate::AppState;

/// Index snapshots: written to a file, loaded at start, checked against the change log (issue 16).
#[path = "screening_snapshot.rs"]
pub mod snapshot;

/// Lookup tables by entry key and digest: sorted flat arrays plus the changes since (issue 16).
#[path = "screening_tables.rs"]
mod tables;
use tables::{Digests, Entries};

/// Changes read from the database per round trip.
const CHANGE_BATCH: i64 = 10_000;

/// Live entries read from the database per round trip when the index is built from it.
const ENTRY_PAGE: i64 = 50_000;

#[derive(Debug, Clone)]
struct BankInfo {
    name: String,
    action: BankAction,
    threshold: u32,
    /// vPDQ thresholds (issue 17): percent of the upload's / the banked video's frames.
    video_query_pct: Option<u8>,
    video_banked_pct: Option<u8>,
    dihedral: bool,
}

#[derive(Debug, Clone, Copy)]
struct EntryInfo {
    id: uuid::Uuid,
    bank: u32,
}

/// Which hash of an upload matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum MatchedHash {
    /// Exact SHA-256.
    Sha256,
    /// Exact MD5.
    Md5,
    /// PDQ within the bank's threshold.
    Pdq,
    /// A video matched a banked video by vPDQ frame percentages (issue 17).
    Vpdq,
    /// One frame across media: an image matched a frame of a banked video, or a frame of an
    /// uploaded video matched a banked image (issue 17).
    VideoFrame,
}

impl MatchedHash {
    /// Wire form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sha256 => "sha256",
            Self::Md5 => "md5",
            Self::Pdq => "pdq",
            Self::Vpdq => "vpdq",
            Self::VideoFrame => "video_frame",
        }
    }
}

/// One bank entry an upload matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// Bank name.
    pub bank: String,
    /// Entry id.
    pub entry_id: String,
    /// Which hash matched (the exact one when several did).
    pub hash: MatchedHash,
    /// PDQ distance, for PDQ matches.
    pub distance: Option<u32>,
    /// For a PDQ match of a rotated or mirrored variant of the upload: which one
    /// (`staydown_pdq::DIHEDRAL_NAMES`, never `original`).
    pub transform: Option<&'static str>,
    /// The bank's action.
    pub action: BankAction,
    /// Frame counts behind a video match (issue 17); `None` for image-to-image matches.
    pub video: Option<VideoMatch>,
}

/// The frame counts behind a video match; the two percentages are `matched / frames · 100`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct VideoMatch {
    /// Upload frames (quality ≥ 50) with a banked frame within the threshold.
    pub query_matched: u32,
    /// Upload frames of quality ≥ 50 (1 for an image upload).
    pub query_frames: u32,
    /// Banked frames (quality ≥ 50) with an upload frame within the threshold.
    pub banked_matched: u32,
    /// Banked frames of quality ≥ 50 (1 for an image entry).
    pub banked_frames: u32,
    /// The frame number of the closest pair: in the upload for a video upload, in the banked video
    /// for an image upload.
    pub frame: Option<u64>,
}

impl VideoMatch {
    /// Share of the upload's frames found in the banked entry, percent.
    pub fn query_pct(&self) -> f64 {
        if self.query_frames == 0 { 0.0 } else { f64::from(self.query_matched) * 100.0 / f64::from(self.query_frames) }
    }

    /// Share of the banked entry's frames found in the upload, percent.
    pub fn banked_pct(&self) -> f64 {
        if self.banked_frames == 0 {
            0.0
        } else {
            f64::from(self.banked_matched) * 100.0 / f64::from(self.banked_frames)
        }
    }
}

/// A video upload to screen: its frames of quality ≥ 50 (frame number, PDQ) and file digests.
#[derive(Debug, Clone, Default)]
pub struct VideoQuery {
    /// Matchable frames.
    pub frames: Vec<(u64, [u8; 32])>,
    /// SHA-256 of the file.
    pub sha256: Option<[u8; 32]>,
    /// MD5 of the file.
    pub md5: Option<[u8; 16]>,
}

/// Most frames of one banked video that are indexed (positions are packed into 20 bits).
pub const MAX_VIDEO_FRAMES: usize = 1 << 20;

/// Frame keys live in their own index; the entry key and the frame's position are packed.
fn frame_key(entry: u64, pos: usize) -> u64 {
    (entry << 20) | pos as u64
}

fn split_frame_key(key: u64) -> (u64, usize) {
    (key >> 20, (key & ((1 << 20) - 1)) as usize)
}

/// The indexed frames of one video entry: frame numbers of its matchable frames, by position.
#[derive(Debug, Clone, Default)]
struct VideoInfo {
    frame_numbers: Vec<u64>,
}

/// Parses a stored vPDQ into (frame number, hash) of its matchable frames.
fn matchable_frames(vpdq: &str) -> Vec<(u64, Hash256)> {
    match staydown_vpdq::parse_vpdq_file(vpdq, MAX_VIDEO_FRAMES) {
        Ok(features) => features
            .iter()
            .filter(|f| pdq_matchable(Some(f.quality)))
            .map(|f| (f.frame_number, Hash256::from_bytes(f.hash.to_bytes())))
            .collect(),
        Err(e) => {
            tracing::warn!(error = %e, "stored vPDQ unreadable; video entry not indexed");
            Vec::new()
        }
    }
}

/// What an upload is screened with.
#[derive(Debug, Clone, Default)]
pub struct Query {
    /// PDQ hash, when it may be matched (quality known to be ≥ 50 or unknown).
    pub pdq: Option<[u8; 32]>,
    /// The eight dihedral variants of `pdq` in `staydown_pdq::DIHEDRAL_NAMES` order (the first is
    /// `pdq` itself), when known; matched against banks with `dihedral` on.
    pub pdq_dihedral: Option<[[u8; 32]; 8]>,
    /// SHA-256.
    pub sha256: Option<[u8; 32]>,
    /// MD5.
    pub md5: Option<[u8; 16]>,
}

#[derive(Default)]
struct State {
    loaded: bool,
    head: i64,
    banks: Vec<BankInfo>,
    bank_slots: HashMap<String, u32>,
    entries: Entries,
    pdq: MatchIndex,
    sha256: Digests<32>,
    md5: Digests<16>,
    /// Frames of banked videos (issue 17), keyed by [`frame_key`].
    frames: MatchIndex,
    videos: HashMap<u64, VideoInfo>,
}

fn decode<const N: usize>(hex_text: Option<&str>) -> Option<[u8; N]> {
    let mut out = [0u8; N];
    hex::decode_to_slice(hex_text?, &mut out).ok()?;
    Some(out)
}

impl State {
    fn set_banks(&mut self, banks: &[Bank]) {
        for bank in banks {
            let info = BankInfo {
                name: bank.name.clone(),
                action: bank.action,
                threshold: u32::from(bank.threshold),
                video_query_pct: bank.video_query_pct,
                video_banked_pct: bank.video_banked_pct,
                dihedral: bank.dihedral,
            };
            match self.bank_slots.get(&bank.id) {
                Some(&slot) => self.banks[slot as usize] = info,
                None => {
                    self.bank_slots.insert(bank.id.clone(), self.banks.len() as u32);
                    self.banks.push(info);
                }
            }
        }
    }

    fn max_threshold(&self) -> u32 {
        self.banks.iter().map(|b| b.threshold).max().unwrap_or(0)
    }

    /// The largest threshold among banks that match rotations and mirror images, if any does.
    fn max_dihedral_threshold(&self) -> Option<u32> {
        self.banks.iter().filter(|b| b.dihedral).map(|b| b.threshold).max()
    }

    fn entry_info(&self, e: &IndexedEntry) -> Option<EntryInfo> {
        let bank = *self.bank_slots.get(&e.bank_id)?;
        let id = uuid::Uuid::parse_str(&e.id).ok()?;
        Some(EntryInfo { id, bank })
    }

    fn add(&mut self, e: &IndexedEntry) {
        let Some(info) = self.entry_info(e) else {
            tracing::warn!(entry = %e.id, bank = %e.bank_id, "bank entry of an unknown bank or with a bad id; not indexed");
            return;
        };
        self.entries.insert(e.key, info);
        if let Some(vpdq) = &e.vpdq {
            let frames = matchable_frames(vpdq);
            for (pos, (_, h)) in frames.iter().enumerate() {
                self.frames.insert(frame_key(e.key, pos), *h);
            }
            self.videos.insert(e.key, VideoInfo { frame_numbers: frames.iter().map(|f| f.0).collect() });
        }
        if pdq_matchable(e.quality)
            && let Some(bytes) = decode::<32>(e.pdq.as_deref())
        {
            self.pdq.insert(e.key, Hash256::from_bytes(bytes));
        }
        if let Some(h) = decode::<32>(e.sha256.as_deref()) {
            self.sha256.insert(h, e.key);
        }
        if let Some(h) = decode::<16>(e.md5.as_deref()) {
            self.md5.insert(h, e.key);
        }
    }

    /// Adds many image entries (an import), building one index level for their PDQ hashes.
    fn add_many(&mut self, entries: &[IndexedEntry]) {
        let mut pdq = Vec::with_capacity(entries.len());
        for e in entries {
            if e.vpdq.is_some() {
                self.add(e);
                continue;
            }
            let Some(info) = self.entry_info(e) else {
                tracing::warn!(entry = %e.id, bank = %e.bank_id, "bank entry of an unknown bank or with a bad id; not indexed");
                continue;
            };
            self.entries.insert(e.key, info);
            if pdq_matchable(e.quality)
                && let Some(bytes) = decode::<32>(e.pdq.as_deref())
            {
                pdq.push((e.key, Hash256::from_bytes(bytes)));
            }
            if let Some(h) = decode::<32>(e.sha256.as_deref()) {
                self.sha256.insert(h, e.key);
            }
            if let Some(h) = decode::<16>(e.md5.as_deref()) {
                self.md5.insert(h, e.key);
            }
        }
        self.pdq.extend(pdq);
    }

    fn remove(&mut self, e: &IndexedEntry) {
        self.entries.remove(&e.key);
        self.pdq.remove(e.key);
        if let Some(video) = self.videos.remove(&e.key) {
            for pos in 0..video.frame_numbers.len() {
                self.frames.remove(frame_key(e.key, pos));
            }
        }
        if let Some(h) = decode::<32>(e.sha256.as_deref()) {
            self.sha256.remove(&h, e.key);
        }
        if let Some(h) = decode::<16>(e.md5.as_deref()) {
            self.md5.remove(&h, e.key);
        }
    }

    fn found(&self, key: u64, hash: MatchedHash, distance: Option<u32>, transform: usize) -> Option<Found> {
        let info = self.entries.get(&key)?;
        let bank = &self.banks[info.bank as usize];
        if let Some(d) = distance
            && d > bank.threshold
        {
            return None;
        }
        if transform != 0 && !bank.dihedral {
            return None;
        }
        Some(Found {
            bank: bank.name.clone(),
            entry_id: info.id.to_string(),
            hash,
            distance,
            transform: (transform != 0).then(|| staydown_pdq::DIHEDRAL_NAMES[transform]),
            action: bank.action,
            video: None,
        })
    }

    /// A video upload against every bank (issue 17): exact file digests; each frame against the
    /// frames of banked videos (one exact-index search per frame), giving both percentages per
    /// video entry, kept when either reaches its bank's threshold; and each frame against banked
    /// images (any frame within the bank's PDQ threshold matches).
    fn search_video(&self, q: &VideoQuery) -> Vec<Found> {
        let mut found = self.search(&Query { pdq: None, pdq_dihedral: None, sha256: q.sha256, md5: q.md5 });
        let mut seen: std::collections::HashSet<String> = found.iter().map(|f| f.entry_id.clone()).collect();
        let radius = self.max_threshold();
        let within =
            |key: u64, d: u32| self.entries.get(&key).is_some_and(|info| d <= self.banks[info.bank as usize].threshold);
        // Per video entry: matched upload frames, matched banked positions, closest pair.
        let mut videos: HashMap<u64, (Vec<u32>, Vec<u32>, u32, u64)> = HashMap::new();
        let mut images: HashMap<u64, (u32, u64)> = HashMap::new();
        let mut hits = Vec::new();
        for (qi, (frame_number, h)) in q.frames.iter().enumerate() {
            let hash = Hash256::from_bytes(*h);
            hits.clear();
            self.frames.search_into(&hash, radius, &mut hits);
            for m in &hits {
                let (entry, pos) = split_frame_key(m.entry_id);
                if !within(entry, m.distance) {
                    continue;
                }
                let v = videos.entry(entry).or_insert_with(|| (Vec::new(), Vec::new(), u32::MAX, 0));
                if v.0.last() != Some(&(qi as u32)) {
                    v.0.push(qi as u32);
                }
                v.1.push(pos as u32);
                if m.distance < v.2 {
                    v.2 = m.distance;
                    v.3 = *frame_number;
                }
            }
            hits.clear();
            self.pdq.search_into(&hash, radius, &mut hits);
            for m in &hits {
                if within(m.entry_id, m.distance) {
                    let best = images.entry(m.entry_id).or_insert((u32::MAX, 0));
                    if m.distance < best.0 {
                        *best = (m.distance, *frame_number);
                    }
                }
            }
        }
        let query_frames = q.frames.len() as u32;
        for (entry, (query_hit, mut banked_hit, distance, frame)) in videos {
            let Some(info) = self.entries.get(&entry) else { continue };
            let bank = &self.banks[info.bank as usize];
            banked_hit.sort_unstable();
            banked_hit.dedup();
            let banked_frames = self.videos.get(&entry).map_or(0, |v| v.frame_numbers.len() as u32);
            let video = VideoMatch {
                query_matched: query_hit.len() as u32,
                query_frames,
                banked_matched: banked_hit.len() as u32,
                banked_frames,
                frame: Some(frame),
            };
            let reaches = |pct: Option<u8>, matched: u32, of: u32| {
                pct.is_some_and(|p| of > 0 && u64::from(matched) * 100 >= u64::from(p) * u64::from(of))
            };
            if !(reaches(bank.video_query_pct, video.query_matched, query_frames)
                || reaches(bank.video_banked_pct, video.banked_matched, banked_frames))
            {
                continue;
            }
            if let Some(f) = self.found(entry, MatchedHash::Vpdq, Some(distance), 0)
                && seen.insert(f.entry_id.clone())
            {
                found.push(Found { video: Some(video), ..f });
            }
        }
        for (entry, (distance, frame)) in images {
            if let Some(f) = self.found(entry, MatchedHash::VideoFrame, Some(distance), 0)
                && seen.insert(f.entry_id.clone())
            {
                let video = VideoMatch {
                    query_matched: 1,
                    query_frames,
                    banked_matched: 1,
                    banked_frames: 1,
                    frame: Some(frame),
                };
                found.push(Found { video: Some(video), ..f });
            }
        }
        found.sort_by(|a, b| {
            b.action
                .cmp(&a.action)
                .then(a.hash.cmp(&b.hash))
                .then(a.distance.cmp(&b.distance))
                .then(a.bank.cmp(&b.bank))
                .then(a.entry_id.cmp(&b.entry_id))
        });
        found
    }

    fn search(&self, q: &Query) -> Vec<Found> {
        let mut found: Vec<Found> = Vec::new();
        let mut seen: HashMap<u64, usize> = HashMap::new();
        let mut push = |key: u64, f: Option<Found>| {
            if let Some(f) = f
                && !seen.contains_key(&key)
            {
                seen.insert(key, found.len());
                found.push(f);
            }
        };
        if let Some(h) = &q.sha256 {
            for key in self.sha256.keys(h) {
                push(key, self.found(key, MatchedHash::Sha256, None, 0));
            }
        }
        if let Some(h) = &q.md5 {
            for key in self.md5.keys(h) {
                push(key, self.found(key, MatchedHash::Md5, None, 0));
            }
        }
        if let Some(h) = &q.pdq {
            // Best (smallest distance, original first on ties) PDQ hit per entry over the variants.
            let mut best: HashMap<u64, (u32, usize)> = HashMap::new();
            let mut consider = |entry: u64, distance: u32, transform: usize| {
                let slot = best.entry(entry).or_insert((distance, transform));
                if distance < slot.0 {
                    *slot = (distance, transform);
                }
            };
            for m in self.pdq.search(&Hash256::from_bytes(*h), self.max_threshold()) {
                consider(m.entry_id, m.distance, 0);
            }
            if let (Some(variants), Some(radius)) = (&q.pdq_dihedral, self.max_dihedral_threshold()) {
                for (transform, variant) in variants.iter().enumerate().skip(1) {
                    for m in self.pdq.search(&Hash256::from_bytes(*variant), radius) {
                        if self.entries.get(&m.entry_id).is_some_and(|e| self.banks[e.bank as usize].dihedral) {
                            consider(m.entry_id, m.distance, transform);
                        }
                    }
                }
            }
            let mut hits: Vec<(u64, u32, usize)> = best.into_iter().map(|(k, (d, t))| (k, d, t)).collect();
            hits.sort_unstable();
            for (key, distance, transform) in hits {
                push(key, self.found(key, MatchedHash::Pdq, Some(distance), transform));
            }
            // An image against the frames of banked videos (issue 17): closest frame first.
            let mut hits = self.frames.search(&Hash256::from_bytes(*h), self.max_threshold());
            hits.sort_unstable();
            for m in hits {
                let (entry, pos) = split_frame_key(m.entry_id);
                let frame = self.videos.get(&entry).and_then(|v| v.frame_numbers.get(pos).copied());
                let banked_frames = self.videos.get(&entry).map_or(0, |v| v.frame_numbers.len() as u32);
                let video = VideoMatch { query_matched: 1, query_frames: 1, banked_matched: 1, banked_frames, frame };
                push(
                    entry,
                    self.found(entry, MatchedHash::VideoFrame, Some(m.distance), 0)
                        .map(|f| Found { video: Some(video), ..f }),
                );
            }
        }
        // Strictest first, then exact before perceptual, then closest.
        found.sort_by(|a, b| {
            b.action
                .cmp(&a.action)
                .then(a.hash.cmp(&b.hash))
                .then(a.distance.cmp(&b.distance))
                .then(a.bank.cmp(&b.bank))
        });
        found
    }
}

/// The screening index shared by all requests of one server process.
pub struct BankIndex {
    state: RwLock<State>,
    catching_up: Mutex<()>,
    applied: watch::Sender<i64>,
}

impl std::fmt::Debug for BankIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BankIndex").field("applied", &*self.applied.borrow()).finish_non_exhaustive()
    }
}

impl Default for BankIndex {
    fn default() -> Self {
        Self { state: RwLock::new(State::default()), catching_up: Mutex::new(()), applied: watch::channel(-1).0 }
    }
}

impl BankIndex {
    /// Whether the index was built from the database yet.
    pub fn is_loaded(&self) -> bool {
        self.state.read().is_ok_and(|s| s.loaded)
    }

    /// The last change applied (−1 before the first load).
    pub fn applied(&self) -> i64 {
        *self.applied.borrow()
    }

    /// Waits until changes up to `seq` are applied (tests; a caller bounds it with a timeout).
    pub async fn wait_applied(&self, seq: i64) {
        let mut rx = self.applied.subscribe();
        rx.wait_for(|applied| *applied >= seq).await.ok();
    }

    /// Number of indexed entries.
    pub fn len(&self) -> usize {
        self.state.read().map_or(0, |s| s.entries.len())
    }

    /// Whether no entry is indexed.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Builds the index from the database on first use, then applies every change committed since
    /// the last one applied. Returns the sequence number applied up to.
    pub async fn catch_up(&self, store: &Store) -> Result<i64, StoreError> {
        let _one_at_a_time = self.catching_up.lock().await;
        if !self.is_loaded() {
            // Head first, entries second: see `Store::live_bank_entries_after`. Read page by page
            // in key order into flat arrays, so that the peak is the index, not the rows.
            let head = store.bank_head().await?;
            let banks = store.bank_settings().await?;
            let mut fresh = State { loaded: true, head, ..State::default() };
            fresh.set_banks(&banks);
            let (mut keys, mut infos, mut pdq, mut frames) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
            let (mut sha256, mut md5) = (Vec::new(), Vec::new());
            let mut after = 0;
            loop {
                let page = store.live_bank_entries_after(after, ENTRY_PAGE).await?;
                let Some(last) = page.last() else { break };
                after = last.key;
                for e in &page {
                    let Some(info) = fresh.entry_info(e) else {
                        tracing::warn!(entry = %e.id, bank = %e.bank_id, "bank entry of an unknown bank or with a bad id; not indexed");
                        continue;
                    };
                    keys.push(e.key);
                    infos.push(info);
                    if let Some(vpdq) = &e.vpdq {
                        let matchable = matchable_frames(vpdq);
                        frames.extend(matchable.iter().enumerate().map(|(pos, (_, h))| (frame_key(e.key, pos), *h)));
                        fresh
                            .videos
                            .insert(e.key, VideoInfo { frame_numbers: matchable.iter().map(|f| f.0).collect() });
                    }
                    if pdq_matchable(e.quality)
                        && let Some(bytes) = decode::<32>(e.pdq.as_deref())
                    {
                        pdq.push((e.key, Hash256::from_bytes(bytes)));
                    }
                    if let Some(h) = decode::<32>(e.sha256.as_deref()) {
                        sha256.push((h, e.key));
                    }
                    if let Some(h) = decode::<16>(e.md5.as_deref()) {
                        md5.push((h, e.key));
                    }
                }
                if (page.len() as i64) < ENTRY_PAGE {
                    break;
                }
            }
            fresh.entries = Entries::from_sorted(keys, infos)
                .map_err(|why| StoreError::Corrupt(format!("live bank entries: {why}")))?;
            fresh.sha256 = Digests::from_unsorted(sha256);
            fresh.md5 = Digests::from_unsorted(md5);
            fresh.pdq = MatchIndex::from_entries(pdq);
            fresh.frames = MatchIndex::from_entries(frames);
            tracing::info!(entries = fresh.entries.len(), banks = banks.len(), head, "bank index built");
            *self.state.write().map_err(|_| poisoned())? = fresh;
        }
        loop {
            let head = self.state.read().map_err(|_| poisoned())?.head;
            let changes = store.bank_changes_since(head, CHANGE_BATCH).await?;
            let Some(last) = changes.last().map(|c| c.seq) else { break };
            let unknown_bank = {
                let state = self.state.read().map_err(|_| poisoned())?;
                changes.iter().any(|c| match &c.kind {
                    BankChangeKind::BankCreated | BankChangeKind::BankUpdated => true,
                    BankChangeKind::EntryAdded(e) | BankChangeKind::EntryRemoved(e) => {
                        !state.bank_slots.contains_key(&e.bank_id)
                    }
                    BankChangeKind::ImportCommitted { bank_id, .. } => !state.bank_slots.contains_key(bank_id),
                })
            };
            let banks = if unknown_bank { Some(store.bank_settings().await?) } else { None };
            if let Some(banks) = &banks {
                self.state.write().map_err(|_| poisoned())?.set_banks(banks);
            }
            // Changes in order; a committed import is read from the database page by page, with
            // the lock released between pages so searches go on meanwhile.
            for change in &changes {
                match &change.kind {
                    BankChangeKind::BankCreated | BankChangeKind::BankUpdated => {}
                    BankChangeKind::EntryAdded(e) => self.state.write().map_err(|_| poisoned())?.add(e),
                    BankChangeKind::EntryRemoved(e) => self.state.write().map_err(|_| poisoned())?.remove(e),
                    BankChangeKind::ImportCommitted { import_id, .. } => {
                        let mut after = 0;
                        loop {
                            let page = store.import_entries(import_id, after, CHANGE_BATCH).await?;
                            let Some(last_key) = page.last().map(|e| e.key) else { break };
                            after = last_key;
                            self.state.write().map_err(|_| poisoned())?.add_many(&page);
                            if (page.len() as i64) < CHANGE_BATCH {
                                break;
                            }
                        }
                    }
                }
            }
            self.state.write().map_err(|_| poisoned())?.head = last;
            if (changes.len() as i64) < CHANGE_BATCH {
                break;
            }
        }
        let head = self.state.read().map_err(|_| poisoned())?.head;
        self.applied.send_replace(head);
        Ok(head)
    }

    /// Every entry the query matches, strictest action first.
    pub fn search(&self, q: &Query) -> Vec<Found> {
        self.state.read().map(|s| s.search(q)).unwrap_or_default()
    }

    /// The digests an upload needs for its lookup: SHA-256 when some indexed entry holds one,
    /// MD5 likewise (issue 16: a digest no bank holds cannot match, so it is not computed).
    pub fn digests_held(&self) -> staydown_media::Digests {
        self.state
            .read()
            .map(|s| staydown_media::Digests { sha256: !s.sha256.is_empty(), md5: !s.md5.is_empty() })
            .unwrap_or(staydown_media::Digests::ALL)
    }

    /// Every entry a video upload matches (issue 17), strictest action first.
    pub fn search_video(&self, q: &VideoQuery) -> Vec<Found> {
        self.state.read().map(|s| s.search_video(q)).unwrap_or_default()
    }
}

fn poisoned() -> StoreError {
    StoreError::Corrupt("the bank index lock was poisoned by a panic".into())
}

/// Keeps `state`'s bank index current with changes other processes commit: on PostgreSQL it
/// `LISTEN`s for the notification each bank mutation sends and catches up on each one; on both
/// backends it also catches up every `interval` (notifications can be missed while a connection is
/// being re-established; on SQLite this is the only way to see `staydown bank import` runs).
pub fn spawn_bank_sync(state: AppState, interval: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let listener = match state.store().bank_listener().await {
                Ok(listener) => listener,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot listen for bank changes; polling only until it works");
                    None
                }
            };
            // Listen first, then catch up: nothing committed before LISTEN can be missed.
            state.refresh_banks().await;
            match listener {
                Some(mut listener) => loop {
                    tokio::select! {
                        received = listener.recv() => match received {
                            Ok(_) => state.refresh_banks().await,
                            Err(e) => {
                                tracing::warn!(error = %e, "bank change listener failed; reconnecting");
                                tick.tick().await;
                                break;
                            }
                        },
                        _ = tick.tick() => state.refresh_banks().await,
                    }
                },
                None => loop {
                    tick.tick().await;
                    state.refresh_banks().await;
                    if state.store().backend() == staydown_store::Backend::Postgres {
                        break;
                    }
                },
            }
        }
    })
}
