//! The ballot board's indices in compact form, and the index log that lets a board reopen
//! without replaying its ballots.
//!
//! # Fingerprint tables
//!
//! Each index (trackers, scoped ballot ids, ciphertexts, and the casts of each credential) is
//! an open-addressing table of `(fingerprint, entry)` pairs, 12 bytes per slot, filled to at
//! most 80 %. A fingerprint is the first 8 bytes of `SHA-512("evote/board-index/v1" ‖ key ‖
//! kind ‖ value)`, where the 32-byte `key` is derived from the ballot box's secret key: nobody
//! outside the ballot box can aim ballots at one slot or one fingerprint. Fingerprints may
//! repeat (a table is a multi-map): a lookup returns every entry stored under a fingerprint, and
//! the board confirms each against the entry itself, read back from the file, before it refuses
//! anything. A repeated fingerprint costs one read, never a wrong answer.
//!
//! # The index log
//!
//! Beside the board, `<board>.index` holds, for each entry in order, its kind, its byte offset
//! and its fingerprints; every [`MARK_EVERY`] entries (and when the board closes or its writer
//! is dropped) a mark `(entries, head, SHA-512 of the fingerprint key and the log so far)`. The log is written after
//! the entry is durable and never synced: it is a cache. `open` reads it up to its last mark
//! whose hash holds, checks that mark's head against the hash the board itself stores for that
//! entry, loads the tables, and replays only the board's entries after the mark; a missing,
//! foreign, damaged or stale log is rebuilt by replaying the whole board.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha512};

/// Entries between two marks of the index log.
pub const MARK_EVERY: u64 = 1024;

const LOG_MAGIC: &[u8; 16] = b"EVOTE-BOARD-IDX\0";
const LOG_VERSION: u8 = 1;
/// Log record kinds: an entry's kinds are the board's (1 ballot, 2 close, 3 challenge).
const RECORD_MARK: u8 = 0xFF;

/// Domain labels (docs/election.md, *Indices and restart*).
const LABEL_FINGERPRINT: &[u8] = b"evote/board-index/v1";
const LABEL_KEY: &[u8] = b"evote/board-index-key/v1";
const LABEL_KEY_CHECK: &[u8] = b"evote/board-index-key-check/v1";
const LABEL_LOG: &[u8] = b"evote/board-index-log/v1";

/// Fingerprint kinds.
pub(crate) const FP_TRACKER: u8 = 1;
pub(crate) const FP_BALLOT_ID: u8 = 2;
pub(crate) const FP_CIPHERTEXT: u8 = 3;
pub(crate) const FP_CREDENTIAL: u8 = 4;

/// Keyed 64-bit fingerprints.
#[derive(Clone)]
pub(crate) struct Fingerprinter {
    key: [u8; 32],
    /// Every value gets fingerprint 1 (tests only: every lookup then takes the confirming
    /// path, as if every fingerprint collided).
    degenerate: bool,
}

impl Drop for Fingerprinter {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.key);
    }
}

impl Fingerprinter {
    /// The fingerprint key of a ballot box: `SHA-512("evote/board-index-key/v1" ‖ secret)[..32]`.
    pub(crate) fn new(secret: &[u8]) -> Self {
        let digest = Sha512::new()
            .chain_update(LABEL_KEY)
            .chain_update(secret)
            .finalize();
        let mut key = [0u8; 32];
        key.copy_from_slice(digest.get(..32).unwrap_or(&[0u8; 32]));
        Self {
            key,
            degenerate: false,
        }
    }

    /// A fingerprinter under which everything collides.
    #[cfg(test)]
    pub(crate) fn degenerate() -> Self {
        Self {
            key: [0; 32],
            degenerate: true,
        }
    }

    /// A public check value of the key, stored in the log: a log written under another
    /// ballot box key is not used.
    fn check_value(&self) -> [u8; 16] {
        let digest = Sha512::new()
            .chain_update(LABEL_KEY_CHECK)
            .chain_update(self.key)
            .finalize();
        let mut out = [0u8; 16];
        out.copy_from_slice(digest.get(..16).unwrap_or(&[0u8; 16]));
        out
    }

    /// The running hash of an index log starts from the key: nobody without the ballot box's
    /// secret can write a log whose marks hold (a forged log could otherwise hide duplicates
    /// from the board).
    fn keyed_hash(&self) -> Sha512 {
        let mut h = Sha512::new();
        h.update(LABEL_LOG);
        h.update(self.key);
        h
    }

    /// The fingerprint of `value` in the index `kind` (never 0: 0 marks an empty slot).
    pub(crate) fn fp(&self, kind: u8, value: &[u8]) -> u64 {
        if self.degenerate {
            return 1;
        }
        let digest = Sha512::new()
            .chain_update(LABEL_FINGERPRINT)
            .chain_update(self.key)
            .chain_update([kind])
            .chain_update(value)
            .finalize();
        let mut eight = [0u8; 8];
        eight.copy_from_slice(digest.get(..8).unwrap_or(&[0u8; 8]));
        u64::from_le_bytes(eight).max(1)
    }
}

/// An open-addressing multi-map from fingerprints to entry numbers (linear probing, at most
/// 80 % full, grown by half when full).
#[derive(Default)]
pub(crate) struct FpTable {
    fps: Vec<u64>,
    entries: Vec<u32>,
    len: usize,
    /// Entries beyond `u32::MAX` (never in practice), kept exactly.
    large: Vec<(u64, u64)>,
}

impl FpTable {
    /// A table that holds `keys` fingerprints without growing.
    pub(crate) fn with_capacity(keys: usize) -> Self {
        let slots = (keys.saturating_mul(5) / 4).max(16);
        Self {
            fps: vec![0; slots],
            entries: vec![0; slots],
            len: 0,
            large: Vec::new(),
        }
    }

    fn home(fp: u64, slots: usize) -> usize {
        // Multiply-shift ("fastrange"): the fingerprint is uniform, so its high bits are too.
        ((u128::from(fp) * slots as u128) >> 64) as usize
    }

    /// Adds `(fp, entry)`.
    pub(crate) fn insert(&mut self, fp: u64, entry: u64) {
        let Ok(small) = u32::try_from(entry) else {
            self.large.push((fp, entry));
            return;
        };
        if (self.len + 1) * 5 > self.fps.len() * 4 {
            self.grow();
        }
        self.place(fp, small);
        self.len += 1;
    }

    fn place(&mut self, fp: u64, entry: u32) {
        let slots = self.fps.len();
        let mut i = Self::home(fp, slots);
        loop {
            match self.fps.get_mut(i) {
                Some(slot) if *slot == 0 => {
                    *slot = fp;
                    if let Some(e) = self.entries.get_mut(i) {
                        *e = entry;
                    }
                    return;
                }
                Some(_) => i += 1,
                None => i = 0,
            }
        }
    }

    fn grow(&mut self) {
        let slots = (self.fps.len() + self.fps.len() / 2).max(16);
        let fps = std::mem::replace(&mut self.fps, vec![0; slots]);
        let entries = std::mem::replace(&mut self.entries, vec![0; slots]);
        for (fp, entry) in fps.into_iter().zip(entries) {
            if fp != 0 {
                self.place(fp, entry);
            }
        }
    }

    /// Every entry stored under `fp`.
    pub(crate) fn get(&self, fp: u64) -> Vec<u64> {
        let mut out = Vec::new();
        let slots = self.fps.len();
        if slots > 0 {
            let mut i = Self::home(fp, slots);
            for _ in 0..slots {
                match self.fps.get(i) {
                    Some(0) => break,
                    Some(f) => {
                        if *f == fp {
                            out.extend(self.entries.get(i).map(|&e| u64::from(e)));
                        }
                        i += 1;
                    }
                    None => i = 0,
                }
            }
        }
        out.extend(
            self.large
                .iter()
                .filter(|(f, _)| *f == fp)
                .map(|&(_, entry)| entry),
        );
        out
    }

    /// The bytes the table holds.
    pub(crate) fn bytes(&self) -> usize {
        self.fps.capacity() * 8 + self.entries.capacity() * 4 + self.large.capacity() * 16
    }
}

/// The board's indices: four fingerprint tables, the challenge entries, and every entry's byte
/// offset (to read an entry back when a fingerprint matches).
pub(crate) struct Indices {
    pub(crate) fingerprinter: Fingerprinter,
    pub(crate) trackers: FpTable,
    pub(crate) ballot_ids: FpTable,
    pub(crate) ciphertexts: FpTable,
    pub(crate) casts: FpTable,
    /// One bit per entry: is it a challenge.
    pub(crate) challenges: Vec<u64>,
    /// `offsets[n - 1]`: where entry `n`'s length prefix starts.
    pub(crate) offsets: Vec<u64>,
}

/// What one entry adds to the indices.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct EntryKeys {
    pub(crate) kind: u8,
    pub(crate) offset: u64,
    /// Tracker, scoped ballot id, then (cast ballots) the credential, then the ciphertexts.
    pub(crate) fps: Vec<u64>,
}

impl Indices {
    /// Empty indices sized for `ballots` ballots of `ciphertexts` ciphertexts each.
    pub(crate) fn new(fingerprinter: Fingerprinter, ballots: usize, ciphertexts: usize) -> Self {
        Self {
            fingerprinter,
            trackers: FpTable::with_capacity(ballots),
            ballot_ids: FpTable::with_capacity(ballots),
            ciphertexts: FpTable::with_capacity(ballots.saturating_mul(ciphertexts)),
            casts: FpTable::with_capacity(ballots),
            challenges: Vec::new(),
            offsets: Vec::with_capacity(ballots),
        }
    }

    /// Adds entry `number` (the next one).
    pub(crate) fn add(&mut self, number: u64, keys: &EntryKeys) {
        self.offsets.push(keys.offset);
        let mut fps = keys.fps.iter();
        if keys.kind == super::board::KIND_BALLOT || keys.kind == super::board::KIND_CHALLENGE {
            if let Some(&fp) = fps.next() {
                self.trackers.insert(fp, number);
            }
            if let Some(&fp) = fps.next() {
                self.ballot_ids.insert(fp, number);
            }
            if keys.kind == super::board::KIND_BALLOT {
                if let Some(&fp) = fps.next() {
                    self.casts.insert(fp, number);
                }
            } else {
                self.set_challenge(number);
            }
            for &fp in fps {
                self.ciphertexts.insert(fp, number);
            }
        }
    }

    fn set_challenge(&mut self, number: u64) {
        let word = usize::try_from(number / 64).unwrap_or(usize::MAX);
        if self.challenges.len() <= word {
            self.challenges.resize(word.saturating_add(1), 0);
        }
        if let Some(w) = self.challenges.get_mut(word) {
            *w |= 1 << (number % 64);
        }
    }

    /// Whether entry `number` is a challenge.
    pub(crate) fn is_challenge(&self, number: u64) -> bool {
        usize::try_from(number / 64)
            .ok()
            .and_then(|w| self.challenges.get(w))
            .is_some_and(|w| w & (1 << (number % 64)) != 0)
    }

    /// Where entry `number` starts.
    pub(crate) fn offset(&self, number: u64) -> Option<u64> {
        usize::try_from(number.checked_sub(1)?)
            .ok()
            .and_then(|i| self.offsets.get(i))
            .copied()
    }

    /// The bytes the indices hold.
    pub(crate) fn bytes(&self) -> usize {
        self.trackers.bytes()
            + self.ballot_ids.bytes()
            + self.ciphertexts.bytes()
            + self.casts.bytes()
            + self.challenges.capacity() * 8
            + self.offsets.capacity() * 8
    }
}

/// The index log's path beside the board.
pub(crate) fn log_path(board: &Path) -> PathBuf {
    let mut name = board
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(".index");
    board.with_file_name(name)
}

/// The writer side of the index log.
pub(crate) struct LogWriter {
    out: BufWriter<File>,
    hash: Sha512,
    since_mark: u64,
}

impl LogWriter {
    /// Starts a new log at `path` (replacing any), for the board of `election`.
    pub(crate) fn create(
        path: &Path,
        election: &[u8; 64],
        fingerprinter: &Fingerprinter,
    ) -> std::io::Result<Self> {
        let mut header = Vec::with_capacity(16 + 1 + 64 + 16);
        header.extend_from_slice(LOG_MAGIC);
        header.push(LOG_VERSION);
        header.extend_from_slice(election);
        header.extend_from_slice(&fingerprinter.check_value());
        let mut out = BufWriter::with_capacity(1 << 16, File::create(path)?);
        out.write_all(&header)?;
        out.flush()?;
        let mut hash = fingerprinter.keyed_hash();
        hash.update(&header);
        Ok(Self {
            out,
            hash,
            since_mark: 0,
        })
    }

    fn put(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.hash.update(bytes);
        self.out.write_all(bytes)
    }

    /// Appends one entry's record (not yet flushed).
    pub(crate) fn entry(&mut self, keys: &EntryKeys) -> std::io::Result<()> {
        let mut record = Vec::with_capacity(11 + 8 * keys.fps.len());
        record.push(keys.kind);
        record.extend_from_slice(&keys.offset.to_le_bytes());
        record.extend_from_slice(&(keys.fps.len() as u16).to_le_bytes());
        for fp in &keys.fps {
            record.extend_from_slice(&fp.to_le_bytes());
        }
        self.since_mark += 1;
        self.put(&record)
    }

    /// Appends a mark when one is due (or `force`), and hands what was written to the OS.
    pub(crate) fn flush(
        &mut self,
        entries: u64,
        head: &[u8; 64],
        force: bool,
    ) -> std::io::Result<()> {
        if self.since_mark > 0 && (force || self.since_mark >= MARK_EVERY) {
            let mut mark = Vec::with_capacity(1 + 8 + 64 + 64);
            mark.push(RECORD_MARK);
            mark.extend_from_slice(&entries.to_le_bytes());
            mark.extend_from_slice(head);
            self.hash.update(&mark);
            let digest: [u8; 64] = self.hash.clone().finalize().into();
            mark.extend_from_slice(&digest);
            self.hash.update(digest);
            self.out.write_all(&mark)?;
            self.since_mark = 0;
        }
        self.out.flush()
    }
}

/// What a log's last good mark says, with the indices it rebuilt.
pub(crate) struct Loaded {
    pub(crate) indices: Indices,
    /// Entries the mark covers.
    pub(crate) entries: u64,
    /// The head after them.
    pub(crate) head: [u8; 64],
    /// The log's length up to the end of the mark (where new records go).
    pub(crate) log_end: u64,
    /// The log's running hash at that point.
    hash: Sha512,
}

impl Loaded {
    /// A writer that continues the log after the mark (the rest is cut).
    pub(crate) fn writer(&self, path: &Path) -> std::io::Result<LogWriter> {
        let file = std::fs::OpenOptions::new().write(true).open(path)?;
        file.set_len(self.log_end)?;
        let mut file = file;
        file.seek(SeekFrom::Start(self.log_end))?;
        Ok(LogWriter {
            out: BufWriter::with_capacity(1 << 16, file),
            hash: self.hash.clone(),
            since_mark: 0,
        })
    }
}

/// Reads a log: `None` unless it is this board's (same election, same key) and has a mark
/// whose hash holds. Records after the last good mark are ignored (the board replays them).
/// `sizes` = (ballots, ciphertexts per ballot) to size the tables.
pub(crate) fn load(
    path: &Path,
    election: &[u8; 64],
    fingerprinter: &Fingerprinter,
    sizes: (usize, usize),
) -> Option<Loaded> {
    let mut input = BufReader::with_capacity(1 << 16, File::open(path).ok()?);
    let mut header = [0u8; 16 + 1 + 64 + 16];
    input.read_exact(&mut header).ok()?;
    let mut expected = Vec::with_capacity(header.len());
    expected.extend_from_slice(LOG_MAGIC);
    expected.push(LOG_VERSION);
    expected.extend_from_slice(election);
    expected.extend_from_slice(&fingerprinter.check_value());
    if header.as_slice() != expected.as_slice() {
        return None;
    }
    let mut hash = fingerprinter.keyed_hash();
    hash.update(header);
    let mut offset = header.len() as u64;
    let mut indices = Indices::new(fingerprinter.clone(), sizes.0, sizes.1);
    // Records since the last mark, applied only once a mark vouches for them.
    let mut pending: Vec<EntryKeys> = Vec::new();
    let mut entries = 0u64;
    let mut good: Option<([u8; 64], u64, Sha512)> = None;
    loop {
        let mut kind = [0u8; 1];
        if input.read_exact(&mut kind).is_err() {
            break;
        }
        if kind == [RECORD_MARK] {
            let mut body = [0u8; 8 + 64];
            let mut digest = [0u8; 64];
            if input.read_exact(&mut body).is_err() || input.read_exact(&mut digest).is_err() {
                break;
            }
            hash.update(kind);
            hash.update(body);
            let expected: [u8; 64] = hash.clone().finalize().into();
            let (count, head) = body.split_at(8);
            let count = u64::from_le_bytes(count.try_into().unwrap_or([0; 8]));
            if expected != digest || count != entries + pending.len() as u64 {
                break;
            }
            hash.update(digest);
            offset += 1 + 8 + 64 + 64;
            for keys in pending.drain(..) {
                entries += 1;
                indices.add(entries, &keys);
            }
            let mut h = [0u8; 64];
            h.copy_from_slice(head);
            good = Some((h, offset, hash.clone()));
            continue;
        }
        if ![
            super::board::KIND_BALLOT,
            super::board::KIND_CLOSE,
            super::board::KIND_CHALLENGE,
        ]
        .contains(&kind[0])
        {
            break;
        }
        let mut fixed = [0u8; 8 + 2];
        if input.read_exact(&mut fixed).is_err() {
            break;
        }
        let (at, count) = fixed.split_at(8);
        let count = u16::from_le_bytes(count.try_into().unwrap_or([0; 2])) as usize;
        let mut fps = vec![0u8; 8 * count];
        if input.read_exact(&mut fps).is_err() {
            break;
        }
        hash.update(kind);
        hash.update(fixed);
        hash.update(&fps);
        offset += 1 + 10 + fps.len() as u64;
        pending.push(EntryKeys {
            kind: kind[0],
            offset: u64::from_le_bytes(at.try_into().unwrap_or([0; 8])),
            fps: fps
                .chunks_exact(8)
                .map(|c| u64::from_le_bytes(c.try_into().unwrap_or([0; 8])))
                .collect(),
        });
    }
    let (head, log_end, hash) = good?;
    Some(Loaded {
        indices,
        entries,
        head,
        log_end,
        hash,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn tables_return_every_entry_of_a_fingerprint_and_grow() {
        let mut t = FpTable::with_capacity(4);
        for i in 1..=1000u64 {
            t.insert(i % 97 + 1, i);
        }
        for fp in 1..=97u64 {
            let mut got = t.get(fp);
            got.sort_unstable();
            let expected: Vec<u64> = (1..=1000u64).filter(|i| i % 97 + 1 == fp).collect();
            assert_eq!(got, expected, "{fp}");
        }
        assert!(t.get(500).is_empty());
        // Never more than 80 % full.
        assert!(t.len * 5 <= t.fps.len() * 4);
        t.insert(3, u64::from(u32::MAX) + 5);
        assert!(t.get(3).contains(&(u64::from(u32::MAX) + 5)));
    }

    #[test]
    fn fingerprints_depend_on_key_kind_and_value_and_are_never_zero() {
        let a = Fingerprinter::new(&[1; 32]);
        let b = Fingerprinter::new(&[2; 32]);
        assert_ne!(a.fp(1, b"x"), b.fp(1, b"x"));
        assert_ne!(a.fp(1, b"x"), a.fp(2, b"x"));
        assert_ne!(a.fp(1, b"x"), a.fp(1, b"y"));
        assert_ne!(a.check_value(), b.check_value());
        assert!((0..1000u32).all(|i| a.fp(1, &i.to_le_bytes()) != 0));
    }

    #[test]
    fn a_log_is_read_up_to_its_last_good_mark() {
        let dir = std::env::temp_dir().join(format!("evote-index-log-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("b.index");
        let f = Fingerprinter::new(&[7; 32]);
        let election = [9u8; 64];
        let mut w = LogWriter::create(&path, &election, &f).unwrap();
        let keys = |n: u64| EntryKeys {
            kind: super::super::board::KIND_BALLOT,
            offset: 100 * n,
            fps: vec![n, n + 1000, n + 2000, n + 3000],
        };
        for n in 1..=10 {
            w.entry(&keys(n)).unwrap();
        }
        w.flush(10, &[1; 64], true).unwrap();
        for n in 11..=12 {
            w.entry(&keys(n)).unwrap();
        }
        w.flush(12, &[2; 64], false).unwrap(); // not due: no mark
        drop(w);
        let loaded = load(&path, &election, &f, (4, 1)).unwrap();
        assert_eq!((loaded.entries, loaded.head), (10, [1; 64]));
        assert_eq!(loaded.indices.trackers.get(3), vec![3]);
        assert_eq!(loaded.indices.offset(4), Some(400));
        // Continuing after the mark cuts the unmarked records and chains on.
        let mut w = loaded.writer(&path).unwrap();
        w.entry(&keys(11)).unwrap();
        w.flush(11, &[3; 64], true).unwrap();
        drop(w);
        let again = load(&path, &election, &f, (4, 1)).unwrap();
        assert_eq!((again.entries, again.head), (11, [3; 64]));
        // Another key, another election, or a flipped byte: not this board's log (or only up
        // to the mark before the flip).
        assert!(load(&path, &election, &Fingerprinter::new(&[8; 32]), (4, 1)).is_none());
        assert!(load(&path, &[0u8; 64], &f, (4, 1)).is_none());
        let mut bytes = std::fs::read(&path).unwrap();
        let last = bytes.len() - 70;
        bytes[last] ^= 1;
        std::fs::write(&path, &bytes).unwrap();
        assert_eq!(load(&path, &election, &f, (4, 1)).unwrap().entries, 10);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
