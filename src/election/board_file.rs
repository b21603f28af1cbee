//! The board file: the default [`Store`], embedded, no server needed.
//!
//! Format, durability and recovery: the module documentation of [`super::board`]. The indices
//! are fingerprint tables in memory (`board_index`), confirmed against the entries read back
//! from the file, with the index log beside the board so that reopening replays only what the
//! log does not cover.

use std::fs::{File, OpenOptions};
use std::io::{BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use super::ballot::{peek_credential, Ballot, Body, ChallengedBallot, CAST_TAIL, CHALLENGE_TAIL};
use super::board::{
    chain, genesis, BallotBoxKey, BoardError, BoardReader, Entry, Next, Recovered, BOARD_VERSION,
    HEADER_BYTES, KIND_BALLOT, KIND_CHALLENGE, KIND_CLOSE, MAGIC, MAX_ENTRY_BYTES,
    MAX_UNSYNCED_BYTES, TAIL_SLACK_BYTES,
};
use super::board_index::{
    self, log_path, EntryKeys, Fingerprinter, FpTable, Indices, LogWriter, FP_BALLOT_ID,
    FP_CIPHERTEXT, FP_CREDENTIAL, FP_TRACKER,
};
use super::board_store::{Held, Hit, Staged, Store, Tip};
use super::context::ElectionContext;
use super::receipt::SignedHead;
use crate::keys::PublicKey;

/// The board's file, its head, and the indices that find duplicates and replays.
pub(crate) struct FileStore {
    file: File,
    path: PathBuf,
    ballot_box: PublicKey,
    election: [u8; 64],
    tip: Tip,
    /// Trackers, scoped ballot ids, ciphertexts (first 16 bytes of each alpha) and each
    /// credential's casts, as fingerprint tables (`board_index`), with every entry's offset.
    indices: Indices,
    /// The index log beside the board (a cache: `None` once a write to it failed).
    log: Option<LogWriter>,
    /// The file length after the last complete entry.
    end: u64,
    /// What `open` moved aside.
    recovered: Option<Recovered>,
}

/// Takes the writer's lock: exclusive, advisory, held until the file is closed.
fn lock(file: &File) -> Result<(), BoardError> {
    match file.try_lock() {
        Ok(()) => Ok(()),
        Err(std::fs::TryLockError::WouldBlock) => Err(BoardError::Locked),
        Err(std::fs::TryLockError::Error(e)) => Err(e.into()),
    }
}

/// Makes a directory entry durable (where the platform can; a directory that cannot be opened
/// for syncing is not an error).
fn sync_dir(path: &Path) -> Result<(), BoardError> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    if let Ok(d) = File::open(dir) {
        d.sync_all()?;
    }
    Ok(())
}

/// Whether `tail` (the bytes after the last complete entry) starts with a complete entry of one
/// of the valid payload `lengths` that chains from `head` as entry `number`: an acknowledged
/// entry whose length prefix was damaged, never a torn write.
fn holds_an_entry(tail: &[u8], head: &[u8; 64], number: u64, lengths: &[u32; 3]) -> bool {
    lengths.iter().any(|&len| {
        let len = len as usize;
        match (tail.get(4..4 + len), tail.get(4 + len..4 + len + 64)) {
            (Some(payload), Some(hash)) => {
                chain(head, payload).as_slice() == hash
                    && payload.get(..8) == Some(number.to_le_bytes().as_slice())
            }
            _ => false,
        }
    })
}

impl FileStore {
    /// Creates a new, empty board file for `context`, whose receipts `key` signs (refuses to
    /// overwrite a file). The key's public half goes into the header and the genesis hash.
    ///
    /// # Errors
    /// I/O errors (including an existing file).
    pub(crate) fn create(
        path: &Path,
        context: &ElectionContext,
        key: &BallotBoxKey,
    ) -> Result<Self, BoardError> {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .ok_or_else(|| std::io::Error::other("the board path has no file name"))?;
        let temporary = path.with_file_name(format!(
            ".{name}.creating-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos())
        ));
        let written = (|| {
            let mut file = OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&temporary)?;
            file.write_all(MAGIC)?;
            file.write_all(&[BOARD_VERSION])?;
            file.write_all(context.hash())?;
            file.write_all(key.public().as_bytes())?;
            file.sync_all()?;
            // A hard link never replaces an existing file: the board's path names either
            // nothing or a complete header.
            std::fs::hard_link(&temporary, path)
        })();
        let _ = std::fs::remove_file(&temporary);
        written?;
        sync_dir(path)?;
        let file = OpenOptions::new().read(true).write(true).open(path)?;
        lock(&file)?;
        let mut board = Self::empty(file, path, context, key);
        board.file.seek(SeekFrom::Start(HEADER_BYTES))?;
        board.log = LogWriter::create(
            &log_path(path),
            &board.election,
            &board.indices.fingerprinter,
        )
        .ok();
        Ok(board)
    }

    pub(crate) fn empty(
        file: File,
        path: &Path,
        context: &ElectionContext,
        key: &BallotBoxKey,
    ) -> Self {
        Self {
            file,
            path: path.to_path_buf(),
            election: *context.hash(),
            ballot_box: *key.public(),
            tip: Tip::empty(genesis(context.hash(), key.public())),
            indices: Indices::new(
                Fingerprinter::new(key.expose_secret_bytes().as_slice()),
                expected_ballots(context),
                ciphertexts_per_ballot(context),
            ),
            log: None,
            end: HEADER_BYTES,
            recovered: None,
        }
    }

    /// Opens an existing board to write to it with the ballot box key `key`, replaying its
    /// entries to rebuild the indices and recovering from a crash: a torn last entry is cut off
    /// (it was never acknowledged).
    ///
    /// # Errors
    /// [`BoardError::WrongBoard`] for another election's file or another ballot box's key;
    /// [`BoardError::Corrupt`] for a complete entry that does not chain or decode; I/O errors.
    pub(crate) fn open(
        path: &Path,
        context: &ElectionContext,
        key: &BallotBoxKey,
    ) -> Result<Self, BoardError> {
        let file = OpenOptions::new().read(true).write(true).open(path)?;
        lock(&file)?;
        let mut reader = BoardReader::new(BufReader::new(file.try_clone()?))?;
        let cast = 9 + u32::try_from(context.manifest().ballot_len()).unwrap_or(u32::MAX);
        let lengths = [
            9,
            cast,
            cast.saturating_add(CHALLENGE_TAIL as u32 - CAST_TAIL as u32),
        ];
        reader.lengths = Some(lengths);
        if reader.election() != context.hash() {
            return Err(BoardError::WrongBoard {
                reason: "the board belongs to another election",
            });
        }
        if reader.ballot_box() != key.public() {
            return Err(BoardError::WrongBoard {
                reason: "the board was written under another ballot box key",
            });
        }
        let mut board = Self::empty(file, path, context, key);
        let log = log_path(path);
        let sizes = (expected_ballots(context), ciphertexts_per_ballot(context));
        // The index log, if it is this board's: the entries its last good mark covers are not
        // decoded again, only read and chained, so every byte of the board is still checked.
        let covered =
            match board_index::load(&log, &board.election, &board.indices.fingerprinter, sizes) {
                Some(loaded) => {
                    board.log = loaded.writer(&log).ok();
                    let covered = (loaded.entries, loaded.head);
                    board.indices = loaded.indices;
                    Some(covered)
                }
                None => None,
            };
        if covered.is_none() {
            board.log = LogWriter::create(&log, &board.election, &board.indices.fingerprinter).ok();
        }
        let mut good_end = match board.replay(&mut reader, covered, &lengths, context)? {
            Some(end) => end,
            None => {
                // The log disagrees with the board (another board's, or a board restored from
                // an older copy): rebuild the indices from the board alone.
                board.indices = Indices::new(board.indices.fingerprinter.clone(), sizes.0, sizes.1);
                board.tip = Tip::empty(genesis(&board.election, &board.ballot_box));
                board.log =
                    LogWriter::create(&log, &board.election, &board.indices.fingerprinter).ok();
                reader.resume_at(HEADER_BYTES, 0, board.tip.head)?;
                board
                    .replay(&mut reader, None, &lengths, context)?
                    .unwrap_or(HEADER_BYTES)
            }
        };
        if good_end < HEADER_BYTES {
            good_end = HEADER_BYTES;
        }
        board.file.seek(SeekFrom::Start(good_end))?;
        board.end = good_end;
        board.flush_log(true);
        Ok(board)
    }

    /// Indexes a cast or challenged body's tracker, scoped ballot id and ciphertexts.
    /// Replays the board's entries into the indices; returns where the last complete entry
    /// ends. Entries up to `covered` (an index log's mark: entries and head) are already
    /// indexed: they are read and chained, and must sit where the log says with the head it
    /// says, else `None` (the log is stale). Later entries are decoded and indexed.
    fn replay(
        &mut self,
        reader: &mut BoardReader<BufReader<File>>,
        covered: Option<(u64, [u8; 64])>,
        lengths: &[u32; 3],
        context: &ElectionContext,
    ) -> Result<Option<u64>, BoardError> {
        let (covered, covered_head) = covered.unwrap_or((0, [0u8; 64]));
        let mut good_end = reader.offset;
        loop {
            let start = good_end;
            let next = reader.next_entry()?;
            if let Next::Entry(entry, end) = &next {
                let (number, head, challenge) = match entry {
                    Entry::Ballot { number, head, .. } => (*number, *head, false),
                    Entry::Challenge { number, head, .. } => (*number, *head, true),
                    Entry::Close { number, head } => (*number, *head, false),
                };
                if number <= covered {
                    if self.indices.offset(number) != Some(start)
                        || self.indices.is_challenge(number) != challenge
                        || (number == covered && head != covered_head)
                    {
                        return Ok(None);
                    }
                    self.tip.closed |= matches!(entry, Entry::Close { .. });
                    self.tip.head = head;
                    self.tip.entries = number;
                    good_end = *end;
                    continue;
                }
            } else if self.tip.entries < covered {
                // The board ends before the log's mark.
                return Ok(None);
            }
            match next {
                Next::Entry(
                    Entry::Ballot {
                        number,
                        bytes,
                        head,
                    },
                    end,
                ) => {
                    let ballot = Ballot::from_bytes(&bytes).map_err(|_| BoardError::Corrupt {
                        entry: number,
                        reason: "the ballot does not decode",
                    })?;
                    let keys =
                        self.keys(KIND_BALLOT, start, ballot.body(), Some(ballot.credential()));
                    self.record(number, &keys);
                    self.tip.head = head;
                    self.tip.entries = number;
                    good_end = end;
                }
                Next::Entry(
                    Entry::Challenge {
                        number,
                        bytes,
                        head,
                    },
                    end,
                ) => {
                    let challenged =
                        ChallengedBallot::from_bytes(&bytes).map_err(|_| BoardError::Corrupt {
                            entry: number,
                            reason: "the challenged ballot does not decode",
                        })?;
                    let keys = self.keys(KIND_CHALLENGE, start, challenged.body(), None);
                    self.record(number, &keys);
                    self.tip.head = head;
                    self.tip.entries = number;
                    good_end = end;
                }
                Next::Entry(Entry::Close { number, head }, end) => {
                    self.record(number, &close_keys(start));
                    self.tip.closed = true;
                    self.tip.head = head;
                    self.tip.entries = number;
                    good_end = end;
                }
                Next::End => break,
                Next::Torn | Next::Impossible => {
                    self.recover_tail(good_end, lengths, context)?;
                    break;
                }
            }
            if self.tip.entries.is_multiple_of(board_index::MARK_EVERY) {
                self.flush_log(false);
            }
        }
        Ok(Some(good_end))
    }

    /// The rule of the module's Durability for the bytes after `good_end`: move a torn tail
    /// aside and cut it, or refuse.
    fn recover_tail(
        &mut self,
        good_end: u64,
        lengths: &[u32; 3],
        context: &ElectionContext,
    ) -> Result<(), BoardError> {
        let file_len = self.file.metadata()?.len();
        let tail_len = file_len.saturating_sub(good_end);
        let number = self.tip.entries + 1;
        let one_entry = 4 + 9 + context.manifest().ballot_len() + CHALLENGE_TAIL as u64;
        let corrupt = |reason| BoardError::CorruptAt {
            entry: number,
            offset: good_end,
            reason,
        };
        if tail_len > MAX_UNSYNCED_BYTES + one_entry + TAIL_SLACK_BYTES {
            return Err(corrupt(
                "an entry is damaged or truncated and more follows than a crash can leave \
                 unsynced",
            ));
        }
        let mut tail = vec![0u8; usize::try_from(tail_len).unwrap_or(0)];
        self.file.seek(SeekFrom::Start(good_end))?;
        self.file.read_exact(&mut tail)?;
        if holds_an_entry(&tail, &self.tip.head, number, lengths) {
            return Err(corrupt(
                "a complete entry's length prefix is damaged (the entry chains under its true \
                 length)",
            ));
        }
        // A torn write: keep its bytes beside the board, durably, before cutting them.
        let name = self
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let (mut aside, mut moved_to) = (None, PathBuf::new());
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        for attempt in 0..64u32 {
            let candidate = self.path.with_file_name(if attempt == 0 {
                format!("{name}.torn-{good_end}-{stamp}")
            } else {
                format!("{name}.torn-{good_end}-{stamp}.{attempt}")
            });
            match OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&candidate)
            {
                Ok(f) => {
                    aside = Some(f);
                    moved_to = candidate;
                    break;
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(e.into()),
            }
        }
        let mut aside = aside.ok_or_else(|| std::io::Error::other("no free name for the tail"))?;
        aside.write_all(&tail)?;
        aside.sync_all()?;
        sync_dir(&moved_to)?;
        self.file.set_len(good_end)?;
        self.file.sync_all()?;
        self.recovered = Some(Recovered {
            offset: good_end,
            bytes: tail_len,
            moved_to,
        });
        Ok(())
    }

    /// The index keys of an entry of `kind` starting at `offset`: a cast ballot's or a
    /// challenge's body (and a cast ballot's credential).
    fn keys(
        &self,
        kind: u8,
        offset: u64,
        body: &Body,
        credential: Option<&PublicKey>,
    ) -> EntryKeys {
        let f = &self.indices.fingerprinter;
        let mut fps = vec![
            f.fp(FP_TRACKER, &body.tracker()),
            f.fp(FP_BALLOT_ID, &body.scoped_id()),
        ];
        if let Some(c) = credential {
            fps.push(f.fp(FP_CREDENTIAL, c.as_bytes()));
        }
        fps.extend(body.alpha_keys().iter().map(|k| f.fp(FP_CIPHERTEXT, k)));
        EntryKeys { kind, offset, fps }
    }

    /// Adds entry `number` to the indices and to the index log.
    fn record(&mut self, number: u64, keys: &EntryKeys) {
        self.indices.add(number, keys);
        if let Some(log) = &mut self.log {
            if log.entry(keys).is_err() {
                self.log = None;
            }
        }
    }

    /// Hands the index log's new records to the OS, with a mark when one is due (or `force`).
    /// A failed write drops the log: it is rebuilt at the next `open`.
    fn flush_log(&mut self, force: bool) {
        if let Some(log) = &mut self.log {
            if log.flush(self.tip.entries, &self.tip.head, force).is_err() {
                self.log = None;
            }
        }
    }

    /// The payload of entry `number` (entry number, kind, bytes), read back from the file.
    fn read_entry(&self, number: u64) -> Result<Vec<u8>, BoardError> {
        let corrupt = BoardError::Corrupt {
            entry: number,
            reason: "the index names an entry the file does not hold",
        };
        let offset = self.indices.offset(number).ok_or(BoardError::Corrupt {
            entry: number,
            reason: "the index names an entry the file does not hold",
        })?;
        let mut len = [0u8; 4];
        read_at(&self.file, &mut len, offset)?;
        let len = u32::from_le_bytes(len);
        if !(9..=MAX_ENTRY_BYTES).contains(&len) {
            return Err(corrupt);
        }
        let mut payload = vec![0u8; len as usize];
        read_at(&self.file, &mut payload, offset + 4)?;
        if payload.get(..8) != Some(number.to_le_bytes().as_slice()) {
            return Err(corrupt);
        }
        Ok(payload)
    }

    /// The body of entry `number` (a cast ballot's or a challenge's), decoded from the file.
    fn body_of(&self, number: u64) -> Result<Option<Body>, BoardError> {
        let payload = self.read_entry(number)?;
        let corrupt = |_| BoardError::Corrupt {
            entry: number,
            reason: "an indexed entry does not decode",
        };
        Ok(match payload.get(8..).and_then(|p| p.split_first()) {
            Some((&KIND_BALLOT, bytes)) => {
                Some(Ballot::from_bytes(bytes).map_err(corrupt)?.body().clone())
            }
            Some((&KIND_CHALLENGE, bytes)) => Some(
                ChallengedBallot::from_bytes(bytes)
                    .map_err(corrupt)?
                    .body()
                    .clone(),
            ),
            _ => None,
        })
    }

    /// The first entry stored under `fp` in `table` for which `matches` holds on its body.
    fn confirmed(
        &self,
        table: &FpTable,
        fp: u64,
        matches: impl Fn(&Body) -> bool,
    ) -> Result<Option<u64>, BoardError> {
        let mut candidates = table.get(fp);
        candidates.sort_unstable();
        for entry in candidates {
            if self.body_of(entry)?.is_some_and(|b| matches(&b)) {
                return Ok(Some(entry));
            }
        }
        Ok(None)
    }

    /// The cast entries of `credential`, in order, confirmed against the file.
    fn casts_of(&self, credential: &PublicKey) -> Result<Vec<u64>, BoardError> {
        let fp = self
            .indices
            .fingerprinter
            .fp(FP_CREDENTIAL, credential.as_bytes());
        let mut out = Vec::new();
        let mut candidates = self.indices.casts.get(fp);
        candidates.sort_unstable();
        for entry in candidates {
            let payload = self.read_entry(entry)?;
            let bytes = payload.get(9..).unwrap_or(&[]);
            if peek_credential(bytes).as_ref() == Some(credential.as_bytes()) {
                out.push(entry);
            }
        }
        Ok(out)
    }

    /// The first entry that holds `body`'s tracker, ballot id or one of its ciphertexts, in
    /// that order. A fingerprint that matches is confirmed against the entry read back from
    /// the file.
    fn conflict(&self, body: &Body) -> Result<Option<Hit>, BoardError> {
        let f = &self.indices.fingerprinter;
        let hit = |held, entry| {
            Some(Hit {
                held,
                entry,
                challenge: self.indices.is_challenge(entry),
            })
        };
        let tracker = body.tracker();
        if let Some(entry) =
            self.confirmed(&self.indices.trackers, f.fp(FP_TRACKER, &tracker), |b| {
                b.tracker() == tracker
            })?
        {
            return Ok(hit(Held::Tracker, entry));
        }
        let id = body.scoped_id();
        if let Some(entry) =
            self.confirmed(&self.indices.ballot_ids, f.fp(FP_BALLOT_ID, &id), |b| {
                b.scoped_id() == id
            })?
        {
            return Ok(hit(Held::BallotId, entry));
        }
        for key in body.alpha_keys() {
            if let Some(entry) =
                self.confirmed(&self.indices.ciphertexts, f.fp(FP_CIPHERTEXT, &key), |b| {
                    b.alpha_keys().contains(&key)
                })?
            {
                return Ok(hit(Held::Ciphertext, entry));
            }
        }
        Ok(None)
    }

    /// Replaces the fingerprints with ones that all collide (tests: every lookup confirms).
    #[cfg(test)]
    pub(crate) fn degenerate_fingerprints(&mut self) {
        self.indices = Indices::new(Fingerprinter::degenerate(), 1, 1);
    }
}

impl Store for FileStore {
    fn tip(&self) -> &Tip {
        &self.tip
    }

    fn conflicts(&mut self, bodies: &[&Body]) -> Result<Vec<Option<Hit>>, BoardError> {
        bodies.iter().map(|b| self.conflict(b)).collect()
    }

    fn casts(&mut self, credentials: &[&PublicKey]) -> Result<Vec<Vec<u64>>, BoardError> {
        credentials.iter().map(|c| self.casts_of(c)).collect()
    }

    fn commit(
        &mut self,
        staged: &[Staged<'_>],
        _sign: &mut dyn FnMut() -> SignedHead,
    ) -> Result<(), BoardError> {
        let mut record = Vec::new();
        let mut starts = Vec::with_capacity(staged.len());
        for s in staged {
            starts.push(self.end + record.len() as u64);
            record.extend_from_slice(&(s.payload.len() as u32).to_le_bytes());
            record.extend_from_slice(&s.payload);
            record.extend_from_slice(&s.hash);
        }
        if record.is_empty() {
            return Ok(());
        }
        // Durable before acknowledged, synced at least every MAX_UNSYNCED_BYTES so that a crash
        // never leaves a longer tail than `open` may cut.
        let written = record
            .chunks(usize::try_from(MAX_UNSYNCED_BYTES).unwrap_or(usize::MAX))
            .try_for_each(|chunk| {
                self.file.write_all(chunk)?;
                self.file.sync_data()
            });
        if let Err(e) = written {
            // Leave no partial entry behind for the next append to build on.
            let _ = self.file.set_len(self.end);
            let _ = self.file.seek(SeekFrom::Start(self.end));
            return Err(e.into());
        }
        self.end += record.len() as u64;
        let mut closed = false;
        for (s, start) in staged.iter().zip(starts) {
            let keys = match (s.kind, s.body) {
                (KIND_CLOSE, _) => {
                    closed = true;
                    close_keys(start)
                }
                (kind, None) => EntryKeys {
                    kind,
                    offset: start,
                    fps: Vec::new(),
                },
                (kind, Some(body)) => self.keys(kind, start, body, s.credential),
            };
            self.record(s.number, &keys);
        }
        self.tip.after(staged);
        self.flush_log(closed);
        Ok(())
    }

    fn path(&self) -> Option<&Path> {
        Some(&self.path)
    }

    fn recovered(&self) -> Option<&Recovered> {
        self.recovered.as_ref()
    }

    fn index_bytes(&self) -> usize {
        self.indices.bytes()
    }

    fn describe(&self) -> String {
        format!("file {}", self.path.display())
    }
}

impl Drop for FileStore {
    fn drop(&mut self) {
        // A mark at the last entry, so the next `open` replays nothing.
        self.flush_log(true);
    }
}

/// Builds the indices a board of `ballots` cast ballots of `ciphertexts` ciphertexts each holds
/// (tables sized up front for `ballots`, filled with pseudo-random fingerprints as the board
/// fills them) and returns their size in bytes. For the national-scale memory measurement in
/// `benches/board.rs` (`during` runs while they are alive); not part of the API.
#[doc(hidden)]
pub fn index_memory_probe(ballots: usize, ciphertexts: usize, during: &mut dyn FnMut()) -> usize {
    let mut indices = Indices::new(Fingerprinter::new(&[0; 32]), ballots, ciphertexts);
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = || {
        // splitmix64: uniform, like a keyed fingerprint.
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        (z ^ (z >> 31)).max(1)
    };
    let mut offset = HEADER_BYTES;
    for n in 1..=ballots as u64 {
        let keys = EntryKeys {
            kind: KIND_BALLOT,
            offset,
            fps: (0..3 + ciphertexts).map(|_| next()).collect(),
        };
        indices.add(n, &keys);
        offset += 1000;
    }
    during();
    indices.bytes()
}

/// The index keys of the close entry (it has none but its offset).
fn close_keys(offset: u64) -> EntryKeys {
    EntryKeys {
        kind: KIND_CLOSE,
        offset,
        fps: Vec::new(),
    }
}

/// Reads exactly `buf.len()` bytes at `offset`, leaving the file's cursor (the append
/// position) where it is.
fn read_at(file: &File, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        std::os::unix::fs::FileExt::read_exact_at(file, buf, offset)
    }
    #[cfg(not(unix))]
    {
        let mut f = file;
        let here = f.stream_position()?;
        f.seek(SeekFrom::Start(offset))?;
        let read = f.read_exact(buf);
        f.seek(SeekFrom::Start(here))?;
        read
    }
}

/// The ballots the tables are sized for at first: one per listed credential, and a tenth more
/// for revotes and challenges (they grow beyond).
fn expected_ballots(context: &ElectionContext) -> usize {
    let voters = context.credentials().len();
    voters.saturating_add(voters / 10)
}

/// Ciphertexts per ballot: one per option.
fn ciphertexts_per_ballot(context: &ElectionContext) -> usize {
    context
        .manifest()
        .contests
        .iter()
        .map(|c| c.options.len())
        .sum::<usize>()
        .max(1)
}
