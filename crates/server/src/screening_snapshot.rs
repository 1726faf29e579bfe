//! Index snapshots: a screening node's match index written to one file and read back at start, so
//! a screener with millions of bank entries serves within seconds instead of reading every entry
//! from the database (issue 16 goal 4, docs/deploy.md).
//!
//! A snapshot holds what the index holds (entry keys and ids, their bank, PDQ hashes of quality ≥
//! 50, SHA-256 and MD5 digests, the matchable frames of banked videos) as of one change of the
//! bank change log (`head`). It is **checked against the change log** before use: the change at
//! `head` in the database must be the one the snapshot recorded (same kind, bank and entry or
//! import), and every bank it names must exist. A snapshot of another database, of a database
//! restored from an older backup, or a damaged file is refused with a log line, and the index is
//! built from the database instead. A snapshot that passes is then caught up from the change log
//! like any index (`BankIndex::catch_up`), so changes committed after it was written (added and
//! removed entries, imports, new banks) all apply.
//!
//! Bank settings (thresholds, actions, dihedral) are not in the file: they are read from the
//! database at load, so a threshold changed since the snapshot is never stale.
//!
//! Format (little-endian, version 1): the magic `STAYDOWN-INDEX\0\x01`, `head` (i64), the change
//! fingerprint (u32 length + UTF-8), the bank ids in slot order (u32 count, each u32 length +
//! UTF-8), then five sections each prefixed by a u64 count — entries (key u64, id 16 bytes, bank
//! slot u32), PDQ (key u64, hash 32), SHA-256 (digest 32, key u64), MD5 (digest 16, key u64),
//! videos (key u64, frame count u32, then frame number u64 and hash 32 per frame) — and the magic
//! again as a trailer, so a truncated file is refused. Files are written to a temporary name and
//! renamed, so a reader never sees half a file. Nothing in it is personal data: hashes and ids.

use std::io::{BufReader, BufWriter, Read, Write};
use std::path::Path;

use staydown_index::{Hash256, MatchIndex};
use staydown_store::{BankChangeKind, Store};

use super::{BankIndex, EntryInfo, State, VideoInfo, frame_key, poisoned};

const MAGIC: &[u8; 16] = b"STAYDOWN-INDEX\0\x01";
/// Refuse absurd counts in a damaged header instead of allocating for them.
const MAX_COUNT: u64 = 1 << 32;

/// What a snapshot load did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Loaded {
    /// The index now holds the snapshot as of change `head`, with `entries` entries.
    Used {
        /// The change log position the snapshot was taken at.
        head: i64,
        /// Entries loaded.
        entries: usize,
    },
    /// The snapshot was not used; the reason is given (the index is unchanged).
    Refused(String),
}

/// The change log's description of change `seq`, as recorded in and checked against a snapshot.
async fn fingerprint(store: &Store, seq: i64) -> Result<Option<String>, staydown_store::StoreError> {
    if seq <= 0 {
        return Ok(Some("empty".to_owned()));
    }
    let changes = store.bank_changes_since(seq - 1, 1).await?;
    Ok(changes.first().filter(|c| c.seq == seq).map(|c| match &c.kind {
        BankChangeKind::BankCreated => "bank_created".to_owned(),
        BankChangeKind::BankUpdated => "bank_updated".to_owned(),
        BankChangeKind::EntryAdded(e) => format!("entry_added:{}:{}", e.bank_id, e.id),
        BankChangeKind::EntryRemoved(e) => format!("entry_removed:{}:{}", e.bank_id, e.id),
        BankChangeKind::ImportCommitted { import_id, bank_id } => format!("import_committed:{bank_id}:{import_id}"),
    }))
}

fn write_bytes(w: &mut impl Write, bytes: &[u8]) -> std::io::Result<()> {
    w.write_all(&(bytes.len() as u32).to_le_bytes())?;
    w.write_all(bytes)
}

impl BankIndex {
    /// Writes the index to `path` (through a temporary file renamed over it). Returns the change
    /// log position written and the number of entries. The index is read under its read lock, so
    /// searches go on; catch-ups wait until the copy is taken.
    ///
    /// # Errors
    /// A sentence: the index is not loaded yet, the database cannot be read, or the file cannot be
    /// written (the temporary file is then removed and an older snapshot left in place).
    pub async fn write_snapshot(&self, store: &Store, path: &Path) -> Result<(i64, usize), String> {
        let head = self.applied();
        if head < 0 || !self.is_loaded() {
            return Err("the index is not built yet".into());
        }
        let fingerprint = fingerprint(store, head)
            .await
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("change {head} is not in the change log"))?;
        let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
        let io = |e: std::io::Error| format!("writing {}: {e}", tmp.display());
        let result = (|| -> Result<usize, String> {
            let state = self.state.read().map_err(|_| poisoned().to_string())?;
            if state.head != head {
                return Err("the index moved on while the snapshot was being started; retry".into());
            }
            let mut w = BufWriter::with_capacity(1 << 20, std::fs::File::create(&tmp).map_err(io)?);
            write_state(&mut w, &state, head, &fingerprint).map_err(io)?;
            let entries = state.entries.len();
            drop(state);
            w.into_inner().map_err(|e| io(e.into_error()))?.sync_all().map_err(io)?;
            Ok(entries)
        })();
        match result.and_then(|entries| {
            std::fs::rename(&tmp, path).map_err(|e| format!("renaming to {}: {e}", path.display()))?;
            Ok(entries)
        }) {
            Ok(entries) => Ok((head, entries)),
            Err(e) => {
                std::fs::remove_file(&tmp).ok();
                Err(e)
            }
        }
    }

    /// Loads the snapshot at `path` into an index that is not loaded yet, after checking it against
    /// the change log and the banks in the database. A refused snapshot leaves the index as it was
    /// (the caller then builds it from the database with [`BankIndex::catch_up`], which also
    /// catches a used one up).
    ///
    /// # Errors
    /// Only the database being unreachable; a bad or foreign file is [`Loaded::Refused`].
    pub async fn load_snapshot(&self, store: &Store, path: &Path) -> Result<Loaded, staydown_store::StoreError> {
        let _one_at_a_time = self.catching_up.lock().await;
        if self.is_loaded() {
            return Ok(Loaded::Refused("the index is already built".into()));
        }
        let banks = store.banks().await?;
        let db_head = store.bank_head().await?;
        let path = path.to_owned();
        let read = tokio::task::spawn_blocking(move || read_file(&path))
            .await
            .map_err(|e| staydown_store::StoreError::Corrupt(format!("snapshot reader: {e}")))?;
        let file = match read {
            Ok(file) => file,
            Err(why) => return Ok(Loaded::Refused(why)),
        };
        if file.head > db_head {
            return Ok(Loaded::Refused(format!(
                "the snapshot is at change {} but the database's change log ends at {db_head} (another database, or one restored from an older backup)",
                file.head
            )));
        }
        match fingerprint(store, file.head).await? {
            Some(found) if found == file.fingerprint => {}
            found => {
                return Ok(Loaded::Refused(format!(
                    "change {} is {:?} in the database but {:?} in the snapshot (another database)",
                    file.head, found, file.fingerprint
                )));
            }
        }
        let mut state = State { loaded: true, head: file.head, ..State::default() };
        state.set_banks(&banks);
        let mut slot_of = Vec::with_capacity(file.bank_ids.len());
        for id in &file.bank_ids {
            match state.bank_slots.get(id) {
                Some(&slot) => slot_of.push(slot),
                None => return Ok(Loaded::Refused(format!("the snapshot names bank {id}, which the database lacks"))),
            }
        }
        let entries = file.entries.len();
        let built = tokio::task::spawn_blocking(move || {
            // The PDQ index (the larger part of a start at millions of entries) is built on a
            // thread of its own while this one fills the maps.
            let File { entries, pdq, sha256, md5, videos, .. } = file;
            let pdq = std::thread::scope(|scope| {
                let pdq = scope.spawn(move || MatchIndex::from_entries(pdq));
                state.entries.reserve(entries.len());
                for (key, id, slot) in entries {
                    let Some(&bank) = slot_of.get(slot as usize) else { continue };
                    state.entries.insert(key, EntryInfo { id: uuid::Uuid::from_bytes(id), bank });
                }
                state.sha256.reserve(sha256.len());
                for (h, key) in sha256 {
                    state.sha256.entry(h).or_default().push(key);
                }
                state.md5.reserve(md5.len());
                for (h, key) in md5 {
                    state.md5.entry(h).or_default().push(key);
                }
                let mut frames = Vec::new();
                for (key, video) in videos {
                    frames.extend(video.iter().enumerate().map(|(pos, (_, h))| (frame_key(key, pos), *h)));
                    state.videos.insert(key, VideoInfo { frame_numbers: video.iter().map(|f| f.0).collect() });
                }
                state.frames = MatchIndex::from_entries(frames);
                pdq.join()
            });
            state.pdq = match pdq {
                Ok(pdq) => pdq,
                Err(panic) => std::panic::resume_unwind(panic),
            };
            state
        })
        .await
        .map_err(|e| staydown_store::StoreError::Corrupt(format!("snapshot build: {e}")))?;
        let head = built.head;
        *self.state.write().map_err(|_| poisoned())? = built;
        self.applied.send_replace(head);
        Ok(Loaded::Used { head, entries })
    }
}

fn write_state(w: &mut impl Write, state: &State, head: i64, fingerprint: &str) -> std::io::Result<()> {
    w.write_all(MAGIC)?;
    w.write_all(&head.to_le_bytes())?;
    write_bytes(w, fingerprint.as_bytes())?;
    let mut bank_ids = vec![String::new(); state.banks.len()];
    for (id, &slot) in &state.bank_slots {
        bank_ids[slot as usize].clone_from(id);
    }
    w.write_all(&(bank_ids.len() as u32).to_le_bytes())?;
    for id in &bank_ids {
        write_bytes(w, id.as_bytes())?;
    }
    w.write_all(&(state.entries.len() as u64).to_le_bytes())?;
    for (key, info) in &state.entries {
        w.write_all(&key.to_le_bytes())?;
        w.write_all(info.id.as_bytes())?;
        w.write_all(&info.bank.to_le_bytes())?;
    }
    w.write_all(&(state.pdq.len() as u64).to_le_bytes())?;
    for (key, hash) in state.pdq.live_entries() {
        w.write_all(&key.to_le_bytes())?;
        w.write_all(&hash.to_bytes())?;
    }
    let pairs: usize = state.sha256.values().map(Vec::len).sum();
    w.write_all(&(pairs as u64).to_le_bytes())?;
    for (h, keys) in &state.sha256 {
        for key in keys {
            w.write_all(h)?;
            w.write_all(&key.to_le_bytes())?;
        }
    }
    let pairs: usize = state.md5.values().map(Vec::len).sum();
    w.write_all(&(pairs as u64).to_le_bytes())?;
    for (h, keys) in &state.md5 {
        for key in keys {
            w.write_all(h)?;
            w.write_all(&key.to_le_bytes())?;
        }
    }
    w.write_all(&(state.videos.len() as u64).to_le_bytes())?;
    for (key, video) in &state.videos {
        w.write_all(&key.to_le_bytes())?;
        w.write_all(&(video.frame_numbers.len() as u32).to_le_bytes())?;
        for (pos, frame) in video.frame_numbers.iter().enumerate() {
            let hash = state.frames.get(frame_key(*key, pos)).map_or([0; 32], |h| h.to_bytes());
            w.write_all(&frame.to_le_bytes())?;
            w.write_all(&hash)?;
        }
    }
    w.write_all(MAGIC)
}

struct File {
    head: i64,
    fingerprint: String,
    bank_ids: Vec<String>,
    entries: Vec<(u64, [u8; 16], u32)>,
    pdq: Vec<(u64, Hash256)>,
    sha256: Vec<([u8; 32], u64)>,
    md5: Vec<([u8; 16], u64)>,
    videos: Vec<(u64, Vec<(u64, Hash256)>)>,
}

struct Reader<R>(R);

impl<R: Read> Reader<R> {
    fn array<const N: usize>(&mut self) -> std::io::Result<[u8; N]> {
        let mut b = [0u8; N];
        self.0.read_exact(&mut b)?;
        Ok(b)
    }
    fn u32(&mut self) -> std::io::Result<u32> {
        self.array().map(u32::from_le_bytes)
    }
    fn u64(&mut self) -> std::io::Result<u64> {
        self.array().map(u64::from_le_bytes)
    }
    fn count(&mut self) -> std::io::Result<usize> {
        let n = self.u64()?;
        if n > MAX_COUNT {
            return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, format!("count {n} out of range")));
        }
        Ok(n as usize)
    }
    fn text(&mut self) -> std::io::Result<String> {
        let n = self.u32()? as usize;
        if n > 4096 {
            return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, "text field too long"));
        }
        let mut b = vec![0; n];
        self.0.read_exact(&mut b)?;
        String::from_utf8(b).map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidData, "text not UTF-8"))
    }
}

fn read_file(path: &Path) -> Result<File, String> {
    let file = std::fs::File::open(path).map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    let mut r = Reader(BufReader::with_capacity(1 << 20, file));
    let bad = |e: std::io::Error| format!("{} is damaged or truncated: {e}", path.display());
    if &r.array::<16>().map_err(bad)? != MAGIC {
        return Err(format!("{} is not a staydown index snapshot of this version", path.display()));
    }
    let head = i64::from_le_bytes(r.array().map_err(bad)?);
    let fingerprint = r.text().map_err(bad)?;
    let banks = r.u32().map_err(bad)?;
    if banks > 1 << 20 {
        return Err(bad(std::io::Error::new(std::io::ErrorKind::InvalidData, "bank count out of range")));
    }
    let bank_ids = (0..banks).map(|_| r.text()).collect::<std::io::Result<Vec<_>>>().map_err(bad)?;
    let mut read = || -> std::io::Result<File> {
        let n = r.count()?;
        let mut entries = Vec::with_capacity(n);
        for _ in 0..n {
            entries.push((r.u64()?, r.array()?, r.u32()?));
        }
        let n = r.count()?;
        let mut pdq = Vec::with_capacity(n);
        for _ in 0..n {
            pdq.push((r.u64()?, Hash256::from_bytes(r.array()?)));
        }
        let n = r.count()?;
        let mut sha256 = Vec::with_capacity(n);
        for _ in 0..n {
            sha256.push((r.array()?, r.u64()?));
        }
        let n = r.count()?;
        let mut md5 = Vec::with_capacity(n);
        for _ in 0..n {
            md5.push((r.array()?, r.u64()?));
        }
        let n = r.count()?;
        let mut videos = Vec::with_capacity(n.min(1 << 20));
        for _ in 0..n {
            let key = r.u64()?;
            let frames = r.u32()? as usize;
            if frames > super::MAX_VIDEO_FRAMES {
                return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, "too many frames"));
            }
            let mut video = Vec::with_capacity(frames);
            for _ in 0..frames {
                video.push((r.u64()?, Hash256::from_bytes(r.array()?)));
            }
            videos.push((key, video));
        }
        if &r.array::<16>()? != MAGIC {
            return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, "no trailer"));
        }
        Ok(File {
            head,
            fingerprint: fingerprint.clone(),
            bank_ids: bank_ids.clone(),
            entries,
            pdq,
            sha256,
            md5,
            videos,
        })
    };
    let file = read().map_err(bad)?;
    let mut rest = [0u8; 1];
    if r.0.read(&mut rest).map_err(bad)? != 0 {
        return Err(format!("{} has bytes after its trailer", path.display()));
    }
    Ok(file)
}

/// Start-up of a screening node: loads the snapshot at `path` if there is a usable one, then
/// catches up from the change log (building from the database if the snapshot was refused or
/// absent), and writes a fresh snapshot when it had to build from the database. Logs what it did.
pub async fn start(index: &BankIndex, store: &Store, path: &Path) {
    let started = std::time::Instant::now();
    let used = if path.exists() {
        match index.load_snapshot(store, path).await {
            Ok(Loaded::Used { head, entries }) => {
                tracing::info!(path = %path.display(), head, entries, seconds = started.elapsed().as_secs_f64(), "index snapshot loaded");
                true
            }
            Ok(Loaded::Refused(why)) => {
                tracing::warn!(path = %path.display(), %why, "index snapshot refused; building the index from the database");
                false
            }
            Err(e) => {
                tracing::warn!(error = %e, "index snapshot not loaded (database)");
                false
            }
        }
    } else {
        tracing::info!(path = %path.display(), "no index snapshot yet; building the index from the database");
        false
    };
    if let Err(e) = index.catch_up(store).await {
        tracing::warn!(error = %e, "bank index catch-up failed; will retry");
        return;
    }
    tracing::info!(seconds = started.elapsed().as_secs_f64(), entries = index.len(), "screening index ready");
    if !used {
        match index.write_snapshot(store, path).await {
            Ok((head, entries)) => tracing::info!(path = %path.display(), head, entries, "index snapshot written"),
            Err(e) => tracing::warn!(path = %path.display(), error = %e, "index snapshot not written"),
        }
    }
}
