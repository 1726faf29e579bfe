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

/// Changes read from the database per round trip.
const CHANGE_BATCH: i64 = 10_000;

#[derive(Debug, Clone)]
struct BankInfo {
    name: String,
    action: BankAction,
    threshold: u32,
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
}

impl MatchedHash {
    /// Wire form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sha256 => "sha256",
            Self::Md5 => "md5",
            Self::Pdq => "pdq",
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
    entries: HashMap<u64, EntryInfo>,
    pdq: MatchIndex,
    sha256: HashMap<[u8; 32], Vec<u64>>,
    md5: HashMap<[u8; 16], Vec<u64>>,
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
        if pdq_matchable(e.quality)
            && let Some(bytes) = decode::<32>(e.pdq.as_deref())
        {
            self.pdq.insert(e.key, Hash256::from_bytes(bytes));
        }
        if let Some(h) = decode::<32>(e.sha256.as_deref()) {
            let keys = self.sha256.entry(h).or_default();
            if !keys.contains(&e.key) {
                keys.push(e.key);
            }
        }
        if let Some(h) = decode::<16>(e.md5.as_deref()) {
            let keys = self.md5.entry(h).or_default();
            if !keys.contains(&e.key) {
                keys.push(e.key);
            }
        }
    }

    fn remove(&mut self, e: &IndexedEntry) {
        self.entries.remove(&e.key);
        self.pdq.remove(e.key);
        if let Some(h) = decode::<32>(e.sha256.as_deref())
            && let Some(keys) = self.sha256.get_mut(&h)
        {
            keys.retain(|k| *k != e.key);
            if keys.is_empty() {
                self.sha256.remove(&h);
            }
        }
        if let Some(h) = decode::<16>(e.md5.as_deref())
            && let Some(keys) = self.md5.get_mut(&h)
        {
            keys.retain(|k| *k != e.key);
            if keys.is_empty() {
                self.md5.remove(&h);
            }
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
        })
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
            for &key in self.sha256.get(h).map_or(&[][..], Vec::as_slice) {
                push(key, self.found(key, MatchedHash::Sha256, None, 0));
            }
        }
        if let Some(h) = &q.md5 {
            for &key in self.md5.get(h).map_or(&[][..], Vec::as_slice) {
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
            // Head first, entries second: see `Store::live_bank_entries`.
            let head = store.bank_head().await?;
            let banks = store.banks().await?;
            let entries = store.live_bank_entries().await?;
            let mut fresh = State { loaded: true, head, ..State::default() };
            fresh.set_banks(&banks);
            let mut pdq = Vec::with_capacity(entries.len());
            for e in &entries {
                if let Some(info) = fresh.entry_info(e) {
                    fresh.entries.insert(e.key, info);
                    if pdq_matchable(e.quality)
                        && let Some(bytes) = decode::<32>(e.pdq.as_deref())
                    {
                        pdq.push((e.key, Hash256::from_bytes(bytes)));
                    }
                    if let Some(h) = decode::<32>(e.sha256.as_deref()) {
                        fresh.sha256.entry(h).or_default().push(e.key);
                    }
                    if let Some(h) = decode::<16>(e.md5.as_deref()) {
                        fresh.md5.entry(h).or_default().push(e.key);
                    }
                }
            }
            fresh.pdq = MatchIndex::from_entries(pdq);
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
                    BankChangeKind::BankCreated => true,
                    BankChangeKind::EntryAdded(e) | BankChangeKind::EntryRemoved(e) => {
                        !state.bank_slots.contains_key(&e.bank_id)
                    }
                })
            };
            let banks = if unknown_bank { Some(store.banks().await?) } else { None };
            let mut state = self.state.write().map_err(|_| poisoned())?;
            if let Some(banks) = &banks {
                state.set_banks(banks);
            }
            for change in &changes {
                match &change.kind {
                    BankChangeKind::BankCreated => {}
                    BankChangeKind::EntryAdded(e) => state.add(e),
                    BankChangeKind::EntryRemoved(e) => state.remove(e),
                }
            }
            state.head = last;
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
