//! Export and import of a built index: its levels' arrays written as they are in memory, so that
//! a screening node starts from a file with one bulk read per array instead of rebuilding the
//! tables (issue 16 goal 4: a 10M-hash bank serving within 10 s of start; the server's index
//! snapshot, `crates/server/src/screening_snapshot.rs`, embeds this).
//!
//! Format (little-endian; [`FORMAT_VERSION`]): the magic `SDMATCHIDX`, the version (u16), the
//! large-level table count (u32), the live entry count (u64), the tail (u64 count, then id u64 and
//! hash 4 × u64 per entry), the level count (u32), then per level: entries `n` (u64), removed
//! (u64), slot width (u8), the layout (u8 chunk count, then start and width u16 each), directory
//! bits per chunk (u8 each), the ids (a tag: 0 packed with base u64, delta width u8, the block
//! starts `⌈n/32⌉` × u32 and the deltas `n` × width bytes; 1 narrow with base u64 and `n` × u32;
//! 2 wide with `n` × u64), the hashes (`n` × 4 × u64), per table its directory (offset width u8,
//! then its cache lines of 64 bytes), the slots (chunks × `n` × width bytes) and the tombstones
//! (`⌈n/64⌉` × u64). Probing plans are not stored: they are recomputed from the layout.
//!
//! **Import validates everything a search or an update relies on**, so that a damaged or hostile
//! file is refused with an [`ImportError`] and never causes a panic, an out-of-bounds read or an
//! allocation larger than the bytes it is given (every array's size is checked against the byte
//! budget before it is allocated): the layout covers the 256 bits, directory bits are the ones a
//! build would choose, ids ascend strictly without overflow, every directory starts at slot 0,
//! is monotone and ends at `n`, every slot is below `n`, tombstones match their count, live ids
//! are unique across levels and tail, and the counts add up. What validation cannot see is a
//! slot placed in the wrong bucket (a search would then miss it): a checksum over the file, as
//! the server's snapshot has, catches accidental damage of that kind.

use std::io::{Read, Write};

use crate::level::{Directory, ID_BLOCK, Ids, Level, Line, MAX_LEVEL_ENTRIES};
use crate::plan::{Chunk, MAX_CHUNKS, dir_bits_for, plans_for};
use crate::{Hash256, MatchIndex, TAIL_CAPACITY};

const MAGIC: &[u8; 10] = b"SDMATCHIDX";
/// Version of the export format; an import of another version is refused.
pub const FORMAT_VERSION: u16 = 1;
/// Most levels an imported index may have (a real one has O(log n)).
const MAX_LEVELS: usize = 64;
/// Bytes converted per step when an array of words is read or written.
const STEP: usize = 1 << 16;

/// Why an import was refused.
#[derive(Debug)]
pub enum ImportError {
    /// Reading failed (including a file that ends early).
    Io(std::io::Error),
    /// The bytes are not a valid index export of this version: the reason.
    Invalid(String),
}

impl std::fmt::Display for ImportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Io(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => f.write_str("truncated"),
            Self::Io(e) => write!(f, "read error: {e}"),
            Self::Invalid(why) => f.write_str(why),
        }
    }
}

impl std::error::Error for ImportError {}

impl From<std::io::Error> for ImportError {
    fn from(e: std::io::Error) -> Self {
        Self::Io(e)
    }
}

fn invalid(why: impl Into<String>) -> ImportError {
    ImportError::Invalid(why.into())
}

fn check(ok: bool, why: &str) -> Result<(), ImportError> {
    if ok { Ok(()) } else { Err(invalid(why)) }
}

impl MatchIndex {
    /// Writes the index (levels as built, tail, tombstones) to `w`; [`MatchIndex::import`] reads
    /// it back into an index that answers every search exactly as this one. Streams the arrays
    /// with no copy of the index; the bytes written are about [`MatchIndex::heap_bytes`].
    ///
    /// # Errors
    /// Those of `w`.
    pub fn export(&self, w: &mut impl Write) -> std::io::Result<()> {
        w.write_all(MAGIC)?;
        w.write_all(&FORMAT_VERSION.to_le_bytes())?;
        w.write_all(&(self.large_tables as u32).to_le_bytes())?;
        w.write_all(&(self.len as u64).to_le_bytes())?;
        w.write_all(&(self.tail.len() as u64).to_le_bytes())?;
        for (id, hash) in &self.tail {
            w.write_all(&id.to_le_bytes())?;
            write_words(w, &hash.0)?;
        }
        w.write_all(&(self.levels.len() as u32).to_le_bytes())?;
        for level in &self.levels {
            export_level(level, w)?;
        }
        Ok(())
    }

    /// Reads an index written by [`MatchIndex::export`], reading at most `max_bytes` bytes from
    /// `r` (pass the size of the file it comes from: no array larger than that is allocated).
    /// Everything read is validated (see the module documentation).
    ///
    /// # Errors
    /// [`ImportError::Io`] when `r` fails or ends early, [`ImportError::Invalid`] with the reason
    /// when the bytes are not a valid export of this version.
    pub fn import(r: &mut impl Read, max_bytes: u64) -> Result<Self, ImportError> {
        let mut r = Budget { r, left: max_bytes };
        check(&r.array::<10>()? == MAGIC, "not a match index export")?;
        let version = u16::from_le_bytes(r.array()?);
        if version != FORMAT_VERSION {
            return Err(invalid(format!("match index format {version}, this build reads {FORMAT_VERSION}")));
        }
        let large_tables = r.u32()? as usize;
        check((2..=MAX_CHUNKS).contains(&large_tables), "large-level table count out of range")?;
        let len = r.u64()?;
        let tail_len = r.u64()?;
        check(tail_len <= TAIL_CAPACITY as u64, "tail longer than its capacity")?;
        let mut tail = Vec::with_capacity(tail_len as usize);
        for _ in 0..tail_len {
            let id = r.u64()?;
            tail.push((id, Hash256([r.u64()?, r.u64()?, r.u64()?, r.u64()?])));
        }
        let level_count = r.u32()? as usize;
        check(level_count <= MAX_LEVELS, "too many levels")?;
        let mut levels = Vec::with_capacity(level_count);
        for _ in 0..level_count {
            levels.push(import_level(&mut r)?);
        }
        let live: u64 = levels.iter().map(|l| l.live() as u64).sum::<u64>() + tail_len;
        check(live == len, "entry count does not match the levels and tail")?;
        check_unique_ids(&levels, &tail)?;
        Ok(Self { levels, tail, len: len as usize, large_tables, ..Self::default() })
    }
}

fn export_level(level: &Level, w: &mut impl Write) -> std::io::Result<()> {
    let n = level.ids.len();
    w.write_all(&(n as u64).to_le_bytes())?;
    w.write_all(&(level.n_removed as u64).to_le_bytes())?;
    w.write_all(&[level.slot_bytes as u8])?;
    w.write_all(&[level.layout.len() as u8])?;
    for chunk in &level.layout {
        w.write_all(&(chunk.start as u16).to_le_bytes())?;
        w.write_all(&(chunk.width as u16).to_le_bytes())?;
    }
    for &bits in &level.dir_bits {
        w.write_all(&[bits as u8])?;
    }
    match &level.ids {
        Ids::Packed { base, blocks, deltas, delta_bytes, .. } => {
            w.write_all(&[0])?;
            w.write_all(&base.to_le_bytes())?;
            w.write_all(&[*delta_bytes as u8])?;
            write_words(w, blocks)?;
            w.write_all(deltas)?;
        }
        Ids::Narrow { base, offsets } => {
            w.write_all(&[1])?;
            w.write_all(&base.to_le_bytes())?;
            write_words(w, offsets)?;
        }
        Ids::Wide(ids) => {
            w.write_all(&[2])?;
            write_words(w, ids)?;
        }
    }
    let mut buf = Vec::with_capacity(STEP);
    for hashes in level.hashes.chunks(STEP / 32) {
        buf.clear();
        for hash in hashes {
            for word in hash.0 {
                buf.extend_from_slice(&word.to_le_bytes());
            }
        }
        w.write_all(&buf)?;
    }
    for dir in &level.dirs {
        w.write_all(&[dir.rel_bytes as u8])?;
        for lines in dir.lines.chunks(STEP / 64) {
            buf.clear();
            for line in lines {
                buf.extend_from_slice(&line.0);
            }
            w.write_all(&buf)?;
        }
    }
    w.write_all(&level.slots)?;
    write_words(w, &level.removed)
}

fn import_level<R: Read>(r: &mut Budget<'_, R>) -> Result<Level, ImportError> {
    let n = r.u64()?;
    check(n <= MAX_LEVEL_ENTRIES as u64, "level larger than a level can be")?;
    let n = n as usize;
    let n_removed = r.u64()?;
    check(n_removed <= n as u64, "more removed entries than entries")?;
    let slot_bytes = usize::from(r.u8()?);
    check(slot_bytes == 4 || (slot_bytes == 3 && n <= 1 << 24), "slot width out of range")?;
    let m = usize::from(r.u8()?);
    check((1..=MAX_CHUNKS).contains(&m), "chunk count out of range")?;
    let mut layout = Vec::with_capacity(m);
    let mut next_start = 0u32;
    for _ in 0..m {
        let start = u32::from(u16::from_le_bytes(r.array()?));
        let width = u32::from(u16::from_le_bytes(r.array()?));
        check(start == next_start && (1..=32).contains(&width), "chunks do not tile the hash")?;
        next_start += width;
        layout.push(Chunk { start, width });
    }
    check(next_start == crate::HASH_BITS, "chunks do not cover the hash")?;
    let mut dir_bits = Vec::with_capacity(m);
    for chunk in &layout {
        let bits = u32::from(r.u8()?);
        check(bits == dir_bits_for(n, chunk.width), "directory bits differ from the build's")?;
        dir_bits.push(bits);
    }
    let ids = import_ids(r, n)?;
    let hashes = r.hashes(n)?;
    let mut dirs = Vec::with_capacity(m);
    for &bits in &dir_bits {
        dirs.push(import_directory(r, bits, n)?);
    }
    let slot_len = m * n * slot_bytes;
    let slots = r.bytes(slot_len)?;
    check_slots(&slots, slot_bytes, n)?;
    let removed: Vec<u64> = r.words(n.div_ceil(64))?;
    let ones: u64 = removed.iter().map(|w| u64::from(w.count_ones())).sum();
    check(ones == n_removed, "tombstones do not match their count")?;
    if !n.is_multiple_of(64) {
        check(removed[n / 64] >> (n % 64) == 0, "tombstones past the last entry")?;
    }
    let plans = plans_for(&layout, &dir_bits, n);
    Ok(Level { ids, hashes, layout, dir_bits, dirs, slots, slot_bytes, removed, n_removed: n_removed as usize, plans })
}

fn import_ids<R: Read>(r: &mut Budget<'_, R>, n: usize) -> Result<Ids, ImportError> {
    let ids = match r.u8()? {
        0 => {
            let base = r.u64()?;
            let delta_bytes = usize::from(r.u8()?);
            check(delta_bytes == 1 || delta_bytes == 2, "id delta width out of range")?;
            let blocks: Vec<u32> = r.words(n.div_ceil(ID_BLOCK))?;
            let deltas = r.bytes(n * delta_bytes)?;
            check(base.checked_add(u64::from(u32::MAX) + 0xFFFF).is_some(), "ids overflow")?;
            Ids::Packed { base, blocks, deltas, delta_bytes, len: n }
        }
        1 => {
            let base = r.u64()?;
            check(base.checked_add(u64::from(u32::MAX)).is_some(), "ids overflow")?;
            Ids::Narrow { base, offsets: r.words(n)? }
        }
        2 => Ids::Wide(r.words(n)?),
        _ => return Err(invalid("unknown id form")),
    };
    // Strictly ascending: removals find slots by binary search, merges assume unique ids.
    let mut previous = None;
    for slot in 0..n {
        let id = ids.get(slot);
        check(previous.is_none_or(|p| p < id), "ids do not ascend")?;
        previous = Some(id);
    }
    Ok(ids)
}

fn import_directory<R: Read>(r: &mut Budget<'_, R>, bits: u32, n: usize) -> Result<Directory, ImportError> {
    let rel_bytes = usize::from(r.u8()?);
    check(matches!(rel_bytes, 1 | 2 | 4), "directory offset width out of range")?;
    let per_line = 60 / rel_bytes;
    let boundaries = (1usize << bits) + 1;
    let line_count = boundaries.div_ceil(per_line);
    let bytes = r.bytes(line_count.checked_mul(64).ok_or_else(|| invalid("directory too large"))?)?;
    let lines: Vec<Line> = bytes
        .chunks_exact(64)
        .map(|c| {
            let mut line = [0u8; 64];
            line.copy_from_slice(c);
            Line(line)
        })
        .collect();
    drop(bytes);
    // Every boundary, in order: starts at 0, never decreases, ends at n; each line's first
    // offset is 0 (a bucket's end is read from the next line's base).
    let mut previous = 0usize;
    for (l, line) in lines.iter().enumerate() {
        let base = u32::from_le_bytes([line.0[0], line.0[1], line.0[2], line.0[3]]) as usize;
        let in_line = per_line.min(boundaries - l * per_line);
        for i in 0..in_line {
            let mut word = [0u8; 4];
            word[..rel_bytes].copy_from_slice(&line.0[4 + i * rel_bytes..4 + (i + 1) * rel_bytes]);
            let boundary = base + u32::from_le_bytes(word) as usize;
            check(i > 0 || boundary == base, "directory line does not start at its base")?;
            check(boundary >= previous && boundary <= n, "directory not monotone within the entries")?;
            previous = boundary;
        }
    }
    let first = lines.first().map_or(0, |line| u32::from_le_bytes([line.0[0], line.0[1], line.0[2], line.0[3]]));
    check(first == 0 && previous == n, "directory does not span the entries")?;
    Ok(Directory { lines, rel_bytes })
}

fn check_slots(slots: &[u8], slot_bytes: usize, n: usize) -> Result<(), ImportError> {
    let in_range = if slot_bytes == 3 {
        slots.chunks_exact(3).all(|s| (u32::from(s[0]) | u32::from(s[1]) << 8 | u32::from(s[2]) << 16) < n as u32)
    } else {
        slots.chunks_exact(4).all(|s| (u32::from_le_bytes([s[0], s[1], s[2], s[3]]) as usize) < n)
    };
    check(in_range, "a slot points past the entries")
}

/// Live ids are unique across levels and tail (an id lives in one place).
fn check_unique_ids(levels: &[Level], tail: &[(u64, Hash256)]) -> Result<(), ImportError> {
    let mut tail_ids: Vec<u64> = tail.iter().map(|e| e.0).collect();
    tail_ids.sort_unstable();
    check(tail_ids.windows(2).all(|w| w[0] < w[1]), "an id occurs twice in the tail")?;
    for &id in &tail_ids {
        check(levels.iter().all(|level| level.get(id).is_none()), "an id is both in the tail and a level")?;
    }
    if levels.len() > 1 {
        // Each level's live ids ascend; merge them all and look for a repeat.
        let mut heap: std::collections::BinaryHeap<std::cmp::Reverse<(u64, usize)>> = Default::default();
        let mut iters: Vec<_> = levels.iter().map(|l| l.live_entries().map(|e| e.0)).collect();
        for (i, it) in iters.iter_mut().enumerate() {
            if let Some(id) = it.next() {
                heap.push(std::cmp::Reverse((id, i)));
            }
        }
        let mut previous = None;
        while let Some(std::cmp::Reverse((id, i))) = heap.pop() {
            check(previous != Some(id), "an id is live in two levels")?;
            previous = Some(id);
            if let Some(next) = iters[i].next() {
                heap.push(std::cmp::Reverse((next, i)));
            }
        }
    }
    Ok(())
}

/// Little-endian words, written a step at a time.
trait Word: Copy {
    const BYTES: usize;
    fn put(self, out: &mut Vec<u8>);
    fn take(bytes: &[u8]) -> Self;
}

impl Word for u32 {
    const BYTES: usize = 4;
    fn put(self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_le_bytes());
    }
    fn take(b: &[u8]) -> Self {
        Self::from_le_bytes([b[0], b[1], b[2], b[3]])
    }
}

impl Word for u64 {
    const BYTES: usize = 8;
    fn put(self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_le_bytes());
    }
    fn take(b: &[u8]) -> Self {
        Self::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]])
    }
}

fn write_words<T: Word>(w: &mut impl Write, words: &[T]) -> std::io::Result<()> {
    let mut buf = Vec::with_capacity(STEP);
    for step in words.chunks(STEP / T::BYTES) {
        buf.clear();
        for &word in step {
            word.put(&mut buf);
        }
        w.write_all(&buf)?;
    }
    Ok(())
}

/// A reader that refuses to read (or allocate for) more than `left` bytes.
struct Budget<'a, R> {
    r: &'a mut R,
    left: u64,
}

impl<R: Read> Budget<'_, R> {
    fn spend(&mut self, bytes: usize) -> Result<(), ImportError> {
        match self.left.checked_sub(bytes as u64) {
            Some(left) => {
                self.left = left;
                Ok(())
            }
            None => Err(invalid("an array is larger than the file")),
        }
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], ImportError> {
        self.spend(N)?;
        let mut b = [0u8; N];
        self.r.read_exact(&mut b)?;
        Ok(b)
    }

    fn u8(&mut self) -> Result<u8, ImportError> {
        Ok(self.array::<1>()?[0])
    }

    fn u32(&mut self) -> Result<u32, ImportError> {
        self.array().map(u32::from_le_bytes)
    }

    fn u64(&mut self) -> Result<u64, ImportError> {
        self.array().map(u64::from_le_bytes)
    }

    fn bytes(&mut self, len: usize) -> Result<Vec<u8>, ImportError> {
        self.spend(len)?;
        let mut out = vec![0u8; len];
        self.r.read_exact(&mut out)?;
        Ok(out)
    }

    /// `count` hashes of four little-endian words each.
    fn hashes(&mut self, count: usize) -> Result<Vec<Hash256>, ImportError> {
        self.spend(count.checked_mul(32).ok_or_else(|| invalid("array too large"))?)?;
        let mut out = Vec::with_capacity(count);
        let mut buf = vec![0u8; STEP.min(count * 32)];
        let mut left = count;
        while left > 0 {
            let step = left.min(STEP / 32);
            let bytes = &mut buf[..step * 32];
            self.r.read_exact(bytes)?;
            out.extend(bytes.chunks_exact(32).map(|h| {
                Hash256([u64::take(&h[..8]), u64::take(&h[8..16]), u64::take(&h[16..24]), u64::take(&h[24..])])
            }));
            left -= step;
        }
        Ok(out)
    }

    fn words<T: Word>(&mut self, count: usize) -> Result<Vec<T>, ImportError> {
        self.spend(count.checked_mul(T::BYTES).ok_or_else(|| invalid("array too large"))?)?;
        let mut out = Vec::with_capacity(count);
        let mut buf = vec![0u8; STEP.min(count * T::BYTES)];
        let mut left = count;
        while left > 0 {
            let step = left.min(STEP / T::BYTES);
            let bytes = &mut buf[..step * T::BYTES];
            self.r.read_exact(bytes)?;
            out.extend(bytes.chunks_exact(T::BYTES).map(T::take));
            left -= step;
        }
        Ok(out)
    }
}
