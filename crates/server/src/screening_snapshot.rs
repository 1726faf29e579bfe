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
//! Format (little-endian, version 2): the magic `STAYDOWN-INDEX\0\x02`, `head` (i64), the change
//! fingerprint (u32 length + UTF-8), the bank ids in slot order (u32 count, each u32 length +
//! UTF-8), then the tables as flat arrays, each section prefixed by a u64 count `n` — entries in
//! ascending key order (`n` keys u64, then `n` ids of 16 bytes, then `n` bank slots u32), SHA-256
//! and MD5 pairs in ascending (digest, key) order (`n` digests, then `n` keys u64), videos (key
//! u64, frame count u32, the frame numbers u64) — then the PDQ index and the video-frame index as
//! built (`staydown_index::MatchIndex::export`: levels, tables and directories), a CRC-32 of every
//! byte before it, and the magic again as a trailer. Loading is one bulk read per array and no
//! rebuild (about 75 bytes per entry for the index, 28 for the entry and 24 for an MD5). Every
//! section is validated as it is read (counts against the file's size, keys and digests strictly
//! ascending, bank slots in range, the index's own checks), so a damaged or hostile file is
//! refused, never a panic; the checksum catches damage that leaves the structure valid. A file of
//! version 1 (rows, rebuilt at load) is refused like a damaged one and the index is built from
//! the database, which then writes a version 2 file. Files are written to a temporary name and
//! renamed, so a reader never sees half a file. Nothing in it is personal data: hashes and ids.

use std::io::{BufReader, BufWriter, Read, Write};
use std::path::Path;

use staydown_index::MatchIndex;
use staydown_store::{BankChangeKind, Store};

use super::tables::{Digests, Entries};
use super::{BankIndex, EntryInfo, State, VideoInfo, poisoned};

const MAGIC: &[u8; 16] = b"STAYDOWN-INDEX\0\x02";
/// The first 15 bytes of every version's magic: tells an older file from a foreign one.
const MAGIC_STEM: &[u8; 15] = b"STAYDOWN-INDEX\0";
/// Bytes converted per step when an array is read.
const STEP: usize = 1 << 16;

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
            let file = std::fs::File::create(&tmp).map_err(io)?;
            let mut w = BufWriter::with_capacity(1 << 20, Crc::new(file));
            write_state(&mut w, &state, head, &fingerprint).map_err(io)?;
            let entries = state.entries.len();
            drop(state);
            let Crc { inner: mut file, hasher, .. } = w.into_inner().map_err(|e| io(e.into_error()))?;
            file.write_all(&hasher.finalize().to_le_bytes()).map_err(io)?;
            file.write_all(MAGIC).map_err(io)?;
            file.sync_all().map_err(io)?;
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
        let started = std::time::Instant::now();
        let banks = store.bank_settings().await?;
        let db_head = store.bank_head().await?;
        let database_seconds = started.elapsed().as_secs_f64();
        let path = path.to_owned();
        let read = tokio::task::spawn_blocking(move || read_file(&path))
            .await
            .map_err(|e| staydown_store::StoreError::Corrupt(format!("snapshot reader: {e}")))?;
        // Where a start's time goes (issue 16 goal 4): the file is read and validated in one pass.
        tracing::info!(
            database_seconds,
            read_seconds = started.elapsed().as_secs_f64() - database_seconds,
            "index snapshot read"
        );
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
        let File { head, mut entries, sha256, md5, videos, pdq, frames, .. } = file;
        let built = tokio::task::spawn_blocking(move || {
            entries.map_banks(|slot| slot_of[slot as usize]);
            state.entries = entries;
            state.sha256 = sha256;
            state.md5 = md5;
            state.videos = videos;
            state.pdq = pdq;
            state.frames = frames;
            state
        })
        .await
        .map_err(|e| staydown_store::StoreError::Corrupt(format!("snapshot build: {e}")))?;
        let entries = built.entries.len();
        *self.state.write().map_err(|_| poisoned())? = built;
        self.applied.send_replace(head);
        Ok(Loaded::Used { head, entries })
    }
}

/// A reader or writer that keeps a CRC-32 of the bytes that pass and counts them.
struct Crc<T> {
    inner: T,
    hasher: crc32fast::Hasher,
    bytes: u64,
}

impl<T> Crc<T> {
    fn new(inner: T) -> Self {
        Self { inner, hasher: crc32fast::Hasher::new(), bytes: 0 }
    }
}

impl<W: Write> Write for Crc<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

impl<R: Read> Read for Crc<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
}

/// Writes everything but the checksum and trailer, streaming the arrays out of `state`.
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
    for (key, _) in state.entries.sorted() {
        w.write_all(&key.to_le_bytes())?;
    }
    for (_, info) in state.entries.sorted() {
        w.write_all(info.id.as_bytes())?;
    }
    for (_, info) in state.entries.sorted() {
        w.write_all(&info.bank.to_le_bytes())?;
    }
    write_digests(w, &state.sha256)?;
    write_digests(w, &state.md5)?;
    let mut videos: Vec<(&u64, &VideoInfo)> = state.videos.iter().collect();
    videos.sort_unstable_by_key(|v| *v.0);
    w.write_all(&(videos.len() as u64).to_le_bytes())?;
    for (key, video) in videos {
        w.write_all(&key.to_le_bytes())?;
        w.write_all(&(video.frame_numbers.len() as u32).to_le_bytes())?;
        for frame in &video.frame_numbers {
            w.write_all(&frame.to_le_bytes())?;
        }
    }
    state.pdq.export(w)?;
    state.frames.export(w)
}

fn write_digests<const N: usize>(w: &mut impl Write, digests: &Digests<N>) -> std::io::Result<()> {
    w.write_all(&(digests.len() as u64).to_le_bytes())?;
    for (digest, _) in digests.sorted() {
        w.write_all(&digest)?;
    }
    for (_, key) in digests.sorted() {
        w.write_all(&key.to_le_bytes())?;
    }
    Ok(())
}

struct File {
    head: i64,
    fingerprint: String,
    bank_ids: Vec<String>,
    /// Bank fields are slots of `bank_ids` until mapped to the database's.
    entries: Entries,
    sha256: Digests<32>,
    md5: Digests<16>,
    videos: std::collections::HashMap<u64, VideoInfo>,
    pdq: MatchIndex,
    frames: MatchIndex,
}

fn invalid(why: impl Into<String>) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, why.into())
}

/// Reads a snapshot through a checksum, never reading or allocating past the file's size.
struct Reader<R> {
    r: Crc<R>,
    size: u64,
}

impl<R: Read> Reader<R> {
    fn left(&self) -> u64 {
        self.size.saturating_sub(self.r.bytes)
    }
    fn array<const N: usize>(&mut self) -> std::io::Result<[u8; N]> {
        let mut b = [0u8; N];
        self.r.read_exact(&mut b)?;
        Ok(b)
    }
    fn u32(&mut self) -> std::io::Result<u32> {
        self.array().map(u32::from_le_bytes)
    }
    fn u64(&mut self) -> std::io::Result<u64> {
        self.array().map(u64::from_le_bytes)
    }
    /// A count of items of at least `item_bytes` bytes each, refused if the rest of the file
    /// cannot hold them.
    fn count(&mut self, item_bytes: u64) -> std::io::Result<usize> {
        let n = self.u64()?;
        if n.checked_mul(item_bytes).is_none_or(|bytes| bytes > self.left()) {
            return Err(invalid(format!("count {n} out of range")));
        }
        Ok(n as usize)
    }
    fn text(&mut self) -> std::io::Result<String> {
        let n = self.u32()? as usize;
        if n > 4096 {
            return Err(invalid("text field too long"));
        }
        let mut b = vec![0; n];
        self.r.read_exact(&mut b)?;
        String::from_utf8(b).map_err(|_| invalid("text not UTF-8"))
    }
    /// `n` items of `N` bytes each, converted by `f`, read a step at a time.
    fn items<const N: usize, T>(&mut self, n: usize, f: impl Fn([u8; N]) -> T) -> std::io::Result<Vec<T>> {
        let mut out = Vec::with_capacity(n);
        let mut buf = vec![0u8; (STEP / N * N).min(n * N)];
        let mut left = n;
        while left > 0 {
            let step = left.min(STEP / N);
            let bytes = &mut buf[..step * N];
            self.r.read_exact(bytes)?;
            out.extend(bytes.chunks_exact(N).map(|c| {
                let mut item = [0u8; N];
                item.copy_from_slice(c);
                f(item)
            }));
            left -= step;
        }
        Ok(out)
    }
    fn digests<const N: usize>(&mut self) -> std::io::Result<Digests<N>> {
        let n = self.count(N as u64 + 8)?;
        let digests = self.items::<N, _>(n, |d| d)?;
        let keys = self.items::<8, _>(n, u64::from_le_bytes)?;
        Digests::from_sorted(digests.into_iter().zip(keys).collect()).map_err(invalid)
    }
    fn index(&mut self) -> std::io::Result<MatchIndex> {
        let left = self.left();
        MatchIndex::import(&mut self.r, left).map_err(|e| match e {
            staydown_index::ImportError::Io(e) => e,
            invalid_index => invalid(format!("match index: {invalid_index}")),
        })
    }
}

fn read_file(path: &Path) -> Result<File, String> {
    let file = std::fs::File::open(path).map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    let size = file.metadata().map_err(|e| format!("cannot read {}: {e}", path.display()))?.len();
    let mut r = Reader { r: Crc::new(BufReader::with_capacity(1 << 20, file)), size };
    let bad = |e: std::io::Error| format!("{} is damaged or truncated: {e}", path.display());
    let magic = r.array::<16>().map_err(bad)?;
    if &magic != MAGIC {
        return Err(if magic.starts_with(MAGIC_STEM) {
            format!("{} is an index snapshot of format {}, this build reads format 2", path.display(), magic[15])
        } else {
            format!("{} is not a staydown index snapshot", path.display())
        });
    }
    let head = i64::from_le_bytes(r.array().map_err(bad)?);
    let fingerprint = r.text().map_err(bad)?;
    let banks = r.u32().map_err(bad)?;
    if banks > 1 << 20 {
        return Err(bad(invalid("bank count out of range")));
    }
    let bank_ids = (0..banks).map(|_| r.text()).collect::<std::io::Result<Vec<_>>>().map_err(bad)?;
    let mut read = || -> std::io::Result<File> {
        let n = r.count(28)?;
        let keys = r.items::<8, _>(n, u64::from_le_bytes)?;
        let ids = r.items::<16, _>(n, uuid::Uuid::from_bytes)?;
        let slots = r.items::<4, _>(n, u32::from_le_bytes)?;
        if slots.iter().any(|&slot| slot >= banks) {
            return Err(invalid("an entry names a bank slot out of range"));
        }
        let infos = ids.into_iter().zip(slots).map(|(id, bank)| EntryInfo { id, bank }).collect();
        let entries = Entries::from_sorted(keys, infos).map_err(invalid)?;
        let sha256 = r.digests::<32>()?;
        let md5 = r.digests::<16>()?;
        let n = r.count(12)?;
        let mut videos = std::collections::HashMap::with_capacity(n);
        for _ in 0..n {
            let key = r.u64()?;
            let frames = r.u32()? as usize;
            if frames > super::MAX_VIDEO_FRAMES || frames as u64 * 8 > r.left() {
                return Err(invalid("too many frames"));
            }
            let frame_numbers = r.items::<8, _>(frames, u64::from_le_bytes)?;
            if videos.insert(key, VideoInfo { frame_numbers }).is_some() {
                return Err(invalid("a video occurs twice"));
            }
        }
        let pdq = r.index()?;
        let frames = r.index()?;
        let computed = r.r.hasher.clone().finalize();
        let mut stored = [0u8; 4];
        r.r.inner.read_exact(&mut stored)?;
        if u32::from_le_bytes(stored) != computed {
            return Err(invalid("checksum mismatch"));
        }
        let mut trailer = [0u8; 16];
        r.r.inner.read_exact(&mut trailer)?;
        if &trailer != MAGIC {
            return Err(invalid("no trailer"));
        }
        Ok(File {
            head,
            fingerprint: fingerprint.clone(),
            bank_ids: bank_ids.clone(),
            entries,
            sha256,
            md5,
            videos,
            pdq,
            frames,
        })
    };
    let file = read().map_err(bad)?;
    let mut rest = [0u8; 1];
    if r.r.inner.read(&mut rest).map_err(bad)? != 0 {
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
