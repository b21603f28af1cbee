//! The ballot board: the server's append-only, hash-chained, crash-safe log of accepted ballots.
//!
//! # File format
//! ```text
//! header:  "EVOTE-BOARD" (11) ‖ version 2 (1) ‖ H_E (64) ‖ enc(B) (32), B the ballot box's key
//! entry i: LE32(len) ‖ payload (len bytes) ‖ h_i (64)
//! payload: LE64(i) ‖ kind ‖ content
//!          kind 1: a cast ballot (content: its encoding, body ‖ cast signature)
//!          kind 2: the close (no content)
//!          kind 3: a challenged ballot (content: body ‖ seed ‖ challenge signature)
//! h_0    = SHA-512("evote/board-genesis/v2" ‖ H_E ‖ enc(B))        (the head of an empty board)
//! h_i    = SHA-512("evote/board-entry/v1" ‖ h_{i-1} ‖ payload)     (entries count from 1)
//! ```
//! The head is the last `h_i`. An auditor who kept an old head checks with
//! [`verify_extension`] that a later board only appended to it.
//!
//! # Cast and challenged ballots
//! Challenges are entries of the chain ([`BallotBoard::challenge`]), so the set of challenged
//! ballots is fixed by the board's head, not chosen by whoever writes the record. Cast and
//! challenged ballots share the board's indices of trackers, ballot ids (under their
//! credentials) and ciphertexts: a ballot is refused if it shares any of them with a challenged
//! one ([`BoardError::Challenged`]), and a challenge is refused if it shares one with a ballot
//! already on the board. A challenged body can therefore never be counted, whoever submits it,
//! and a cast ballot never reuses ciphertexts whose published seed would open it.
//!
//! # Durability
//! [`BallotBoard::append`] writes the whole entry and calls `fsync` (`File::sync_data`) before it
//! returns the receipt: an acknowledged ballot survives a crash. [`BallotBoard::append_many`]
//! syncs at least every [`MAX_UNSYNCED_BYTES`]. A writer holds an exclusive lock on the file for
//! its lifetime ([`BoardError::Locked`] for a second one, in this process or another); readers
//! take none. [`BallotBoard::create`] writes the header to a temporary file, syncs it and links
//! it into place, so the board's path never names a partial header.
//!
//! [`BallotBoard::open`] recovers from a crash at any point, under one rule: only a *tail* that
//! cannot hold an acknowledged entry is cut. A tail is what follows the last complete, chaining
//! entry when the next entry is short (the file ends inside it) or declares a length no entry of
//! this election has (a power loss can leave zeros or other garbage). It is cut only if it is
//! shorter than the most a crash can leave unsynced ([`MAX_UNSYNCED_BYTES`] plus one entry) and
//! no entry of a valid length chains at its start (a damaged length prefix of an acknowledged
//! entry is not a tail). The cut bytes are moved to a file beside the board
//! (`<board>.torn-<offset>-<time>`, synced before the cut) and reported by
//! [`BallotBoard::recovered`], never discarded. Anything else — a complete entry that does not
//! chain, a damaged length prefix, a long tail — is [`BoardError::Corrupt`] with its entry and
//! byte offset, and the file is left untouched.

use std::collections::HashMap;

use super::ballot::peek_credential;
use super::board_index::{
    self, log_path, EntryKeys, Fingerprinter, FpTable, Indices, LogWriter, FP_BALLOT_ID,
    FP_CIPHERTEXT, FP_CREDENTIAL, FP_TRACKER,
};
use std::fs::{File, OpenOptions};
use std::io::{BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use rand_core::{CryptoRng, RngCore};
use rayon::prelude::*;
use sha2::{Digest, Sha512};

use super::ballot::{
    Ballot, BallotError, Body, ChallengedBallot, VerifiedBallot, VerifiedChallenge, CAST_TAIL,
    CHALLENGE_TAIL,
};
use super::context::ElectionContext;
use super::manifest::RevotePolicy;
pub use super::receipt::{BallotBoxKey, EntryKind, Receipt};
use crate::keys::PublicKey;

const MAGIC: &[u8; 11] = b"EVOTE-BOARD";
const BOARD_VERSION: u8 = 2;
const HEADER_BYTES: u64 = 11 + 1 + 64 + 32;
pub(crate) const KIND_BALLOT: u8 = 1;
pub(crate) const KIND_CLOSE: u8 = 2;
pub(crate) const KIND_CHALLENGE: u8 = 3;
/// The largest entry a reader accepts (a ballot of the largest manifest is far smaller).
const MAX_ENTRY_BYTES: u32 = 64 << 20;
/// The most bytes a writer leaves written but not yet synced: [`BallotBoard::append_many`]
/// syncs at least this often, so a crash can leave at most this much (plus one entry) torn.
pub const MAX_UNSYNCED_BYTES: u64 = 8 << 20;
/// Slack for file-system garbage past the last write (a block or extent left unwritten).
const TAIL_SLACK_BYTES: u64 = 1 << 20;

/// Why the board refused a ballot or could not be opened.
#[derive(Debug)]
#[non_exhaustive]
pub enum BoardError {
    /// The ballot is invalid (bad encoding, shape, credential, signature or proof).
    Ballot(BallotError),
    /// The exact same ballot is already on the board.
    Duplicate {
        /// The entry that holds it.
        entry: u64,
    },
    /// Another ballot of the same credential with this ballot id is already on the board.
    BallotIdReused {
        /// The entry that holds it.
        entry: u64,
    },
    /// The ballot reuses a ciphertext already on the board (a copy of another ballot's
    /// content, possibly under another credential).
    ReplayedCiphertext {
        /// The entry that holds the original.
        entry: u64,
    },
    /// The ballot shares its tracker, ballot id or a ciphertext with a challenged ballot (or,
    /// for a challenge, with a ballot already on the board): a challenged ballot is never
    /// counted.
    Challenged {
        /// The entry of the challenged (or cast) ballot it conflicts with.
        entry: u64,
    },
    /// The manifest refuses revoting and this credential has already cast.
    RevoteRefused {
        /// The credential's earlier entry.
        entry: u64,
    },
    /// The board is closed.
    Closed,
    /// The file belongs to another election or is not a board.
    WrongBoard {
        /// What is wrong.
        reason: &'static str,
    },
    /// A complete entry does not chain: the file was altered.
    Corrupt {
        /// The entry's number.
        entry: u64,
        /// What is wrong.
        reason: &'static str,
    },
    /// The board cannot be opened for writing: its tail is neither complete entries nor a torn
    /// write (see the module's Durability). The file was left untouched.
    CorruptAt {
        /// The number the entry at `offset` would have.
        entry: u64,
        /// The byte offset where the damage starts.
        offset: u64,
        /// What is wrong.
        reason: &'static str,
    },
    /// Another writer holds the board (a second process or a second handle).
    Locked,
    /// The old head is not on this board: it was not only appended to.
    NotAnExtension,
    /// The board has not been closed: it cannot be tallied yet.
    NotClosed,
    /// Reading or writing the file failed.
    Io(std::io::Error),
}

impl core::fmt::Display for BoardError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Ballot(e) => write!(f, "ballot refused: {e}"),
            Self::Duplicate { entry } => write!(f, "ballot refused: identical to entry {entry}"),
            Self::BallotIdReused { entry } => {
                write!(
                    f,
                    "ballot refused: this credential already used this ballot id in entry {entry}"
                )
            }
            Self::ReplayedCiphertext { entry } => {
                write!(
                    f,
                    "ballot refused: reuses a ciphertext of entry {entry} (replayed content)"
                )
            }
            Self::Challenged { entry } => write!(
                f,
                "ballot refused: shares its tracker, ballot id or a ciphertext with challenged \
                 or cast entry {entry} (a challenged ballot is never cast)"
            ),
            Self::RevoteRefused { entry } => {
                write!(f, "ballot refused: this credential already cast entry {entry} and revoting is refused")
            }
            Self::Closed => f.write_str("ballot refused: the board is closed"),
            Self::WrongBoard { reason } => write!(f, "not this election's board: {reason}"),
            Self::Corrupt { entry, reason } => {
                write!(f, "board entry {entry} is corrupt: {reason}")
            }
            Self::CorruptAt {
                entry,
                offset,
                reason,
            } => {
                write!(
                    f,
                    "board entry {entry} at byte {offset} is corrupt: {reason}; the file was left \
                     untouched"
                )
            }
            Self::Locked => f.write_str(
                "the board is being written by another writer (a second process or handle); \
                 readers need no lock",
            ),
            Self::NotAnExtension => {
                f.write_str("the old head is not on this board: entries were removed or changed")
            }
            Self::NotClosed => f.write_str("the board is not closed: no tally before the close"),
            Self::Io(e) => write!(f, "board file: {e}"),
        }
    }
}

impl std::error::Error for BoardError {}

impl From<std::io::Error> for BoardError {
    fn from(e: std::io::Error) -> Self {
        Self::Io(e)
    }
}

fn genesis(election: &[u8; 64], ballot_box: &PublicKey) -> [u8; 64] {
    let mut h = Sha512::new();
    h.update(b"evote/board-genesis/v2");
    h.update(election);
    h.update(ballot_box.as_bytes());
    h.finalize().into()
}

fn chain(previous: &[u8; 64], payload: &[u8]) -> [u8; 64] {
    let mut h = Sha512::new();
    h.update(b"evote/board-entry/v1");
    h.update(previous);
    h.update(payload);
    h.finalize().into()
}

/// One entry read back from a board file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Entry {
    /// An accepted ballot (its encoding).
    Ballot {
        /// The entry number.
        number: u64,
        /// The ballot's canonical bytes.
        bytes: Vec<u8>,
        /// The head after it.
        head: [u8; 64],
    },
    /// A challenged ballot (its encoding: body, seed, challenge signature).
    Challenge {
        /// The entry number.
        number: u64,
        /// The challenged ballot's canonical bytes.
        bytes: Vec<u8>,
        /// The head after it.
        head: [u8; 64],
    },
    /// The board was closed.
    Close {
        /// The entry number.
        number: u64,
        /// The head after it.
        head: [u8; 64],
    },
}

/// Reads a board file entry by entry, checking the chain (streaming: memory does not grow with
/// the number of entries).
pub struct BoardReader<R> {
    reader: R,
    head: [u8; 64],
    number: u64,
    offset: u64,
    election: [u8; 64],
    ballot_box: PublicKey,
    /// The payload lengths entries of this election can have, when the reader knows them.
    lengths: Option<[u32; 3]>,
}

impl<R: Read + Seek> BoardReader<R> {
    /// Continues reading after entry `number`, which ends at byte `offset` with `head` (what
    /// an index log's mark vouches for).
    fn resume_at(&mut self, offset: u64, number: u64, head: [u8; 64]) -> Result<(), BoardError> {
        self.reader.seek(SeekFrom::Start(offset))?;
        self.offset = offset;
        self.number = number;
        self.head = head;
        Ok(())
    }
}

/// How a read ended.
enum Next {
    Entry(Entry, u64),
    End,
    /// The file ends inside the entry.
    Torn,
    /// The entry declares a length no entry of this election has.
    Impossible,
}

impl<R: Read> BoardReader<R> {
    /// Starts reading: checks the header.
    ///
    /// # Errors
    /// [`BoardError::WrongBoard`] for another file or version; I/O errors.
    pub fn new(mut reader: R) -> Result<Self, BoardError> {
        let mut header = [0u8; HEADER_BYTES as usize];
        reader
            .read_exact(&mut header)
            .map_err(|_| BoardError::WrongBoard {
                reason: "no board header",
            })?;
        let (magic, rest) = header.split_at(11);
        let (version, rest) = rest.split_at(1);
        let (election, key) = rest.split_at(64);
        if magic != MAGIC {
            return Err(BoardError::WrongBoard {
                reason: "not a board file",
            });
        }
        if version != [BOARD_VERSION] {
            return Err(BoardError::WrongBoard {
                reason: "unsupported board version",
            });
        }
        let mut e = [0u8; 64];
        e.copy_from_slice(election);
        let ballot_box = PublicKey::from_bytes(key).map_err(|_| BoardError::WrongBoard {
            reason: "the ballot box key in the header is not a valid public key",
        })?;
        Ok(Self {
            reader,
            head: genesis(&e, &ballot_box),
            number: 0,
            offset: HEADER_BYTES,
            election: e,
            ballot_box,
            lengths: None,
        })
    }

    /// The election hash in the header.
    pub fn election(&self) -> &[u8; 64] {
        &self.election
    }

    /// The ballot box's public key in the header: the key its receipts verify under.
    pub fn ballot_box(&self) -> &PublicKey {
        &self.ballot_box
    }

    /// The head after the entries read so far.
    pub fn head(&self) -> &[u8; 64] {
        &self.head
    }

    fn read_full(&mut self, buf: &mut [u8]) -> Result<bool, BoardError> {
        let mut filled = 0;
        while filled < buf.len() {
            let n = self.reader.read(buf.get_mut(filled..).unwrap_or(&mut []))?;
            if n == 0 {
                return Ok(false);
            }
            filled += n;
        }
        Ok(true)
    }

    fn next_entry(&mut self) -> Result<Next, BoardError> {
        let mut len = [0u8; 4];
        let mut first = [0u8; 1];
        if self.reader.read(&mut first)? == 0 {
            return Ok(Next::End);
        }
        len[0] = first[0];
        if !self.read_full(len.get_mut(1..).unwrap_or(&mut []))? {
            return Ok(Next::Torn);
        }
        let len = u32::from_le_bytes(len);
        let number = self.number + 1;
        if self.lengths.is_some_and(|l| !l.contains(&len)) {
            return Ok(Next::Impossible);
        }
        if !(9..=MAX_ENTRY_BYTES).contains(&len) {
            return Err(BoardError::Corrupt {
                entry: number,
                reason: "impossible entry length",
            });
        }
        let mut payload = vec![0u8; len as usize];
        let mut hash = [0u8; 64];
        if !self.read_full(&mut payload)? || !self.read_full(&mut hash)? {
            return Ok(Next::Torn);
        }
        let expected = chain(&self.head, &payload);
        if hash != expected {
            return Err(BoardError::Corrupt {
                entry: number,
                reason: "the entry hash does not chain",
            });
        }
        let (seq, rest) = payload.split_at(8);
        let mut seq_bytes = [0u8; 8];
        seq_bytes.copy_from_slice(seq);
        if u64::from_le_bytes(seq_bytes) != number {
            return Err(BoardError::Corrupt {
                entry: number,
                reason: "entries out of order",
            });
        }
        let entry = match rest.split_first() {
            Some((&KIND_BALLOT, ballot)) => Entry::Ballot {
                number,
                bytes: ballot.to_vec(),
                head: hash,
            },
            Some((&KIND_CHALLENGE, challenged)) => Entry::Challenge {
                number,
                bytes: challenged.to_vec(),
                head: hash,
            },
            Some((&KIND_CLOSE, [])) => Entry::Close { number, head: hash },
            _ => {
                return Err(BoardError::Corrupt {
                    entry: number,
                    reason: "unknown entry kind",
                })
            }
        };
        self.head = hash;
        self.number = number;
        self.offset += 4 + u64::from(len) + 64;
        Ok(Next::Entry(entry, self.offset))
    }

    /// The next entry, `None` at the end.
    ///
    /// # Errors
    /// [`BoardError::Corrupt`] for a broken chain or a torn entry (a reader of a finished board
    /// never expects one); I/O errors.
    pub fn next_checked(&mut self) -> Result<Option<Entry>, BoardError> {
        match self.next_entry()? {
            Next::Entry(e, _) => Ok(Some(e)),
            Next::End => Ok(None),
            Next::Torn => Err(BoardError::Corrupt {
                entry: self.number + 1,
                reason: "the file ends inside an entry",
            }),
            Next::Impossible => Err(BoardError::Corrupt {
                entry: self.number + 1,
                reason: "impossible entry length",
            }),
        }
    }
}

/// The board: its file, its head, and the indices that refuse duplicates and replays.
pub struct BallotBoard {
    file: File,
    path: PathBuf,
    key: BallotBoxKey,
    election: [u8; 64],
    policy: RevotePolicy,
    head: [u8; 64],
    entries: u64,
    closed: bool,
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

/// A torn tail [`BallotBoard::open`] cut from the board: where it started, how long it was and
/// the file it was moved to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recovered {
    /// The byte offset of the tail (the end of the last complete entry).
    pub offset: u64,
    /// Its length.
    pub bytes: u64,
    /// The file beside the board that now holds it.
    pub moved_to: PathBuf,
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

impl core::fmt::Debug for BallotBoard {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("BallotBoard")
            .field("path", &self.path)
            .field("entries", &self.entries)
            .field("closed", &self.closed)
            .finish_non_exhaustive()
    }
}

impl BallotBoard {
    /// Creates a new, empty board file for `context`, whose receipts `key` signs (refuses to
    /// overwrite a file). The key's public half goes into the header and the genesis hash.
    ///
    /// # Errors
    /// I/O errors (including an existing file).
    pub fn create(
        path: &Path,
        context: &ElectionContext,
        key: BallotBoxKey,
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

    /// The damage or torn write [`BallotBoard::open`] found after the last complete entry and
    /// moved aside, if any.
    pub fn recovered(&self) -> Option<&Recovered> {
        self.recovered.as_ref()
    }

    fn empty(file: File, path: &Path, context: &ElectionContext, key: BallotBoxKey) -> Self {
        Self {
            file,
            path: path.to_path_buf(),
            election: *context.hash(),
            policy: context.manifest().revoting,
            head: genesis(context.hash(), key.public()),
            entries: 0,
            closed: false,
            indices: Indices::new(
                Fingerprinter::new(key_secret(&key).as_slice()),
                expected_ballots(context),
                ciphertexts_per_ballot(context),
            ),
            log: None,
            key,
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
    pub fn open(
        path: &Path,
        context: &ElectionContext,
        key: BallotBoxKey,
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
                board.head = genesis(&board.election, board.key.public());
                board.entries = 0;
                board.closed = false;
                board.log =
                    LogWriter::create(&log, &board.election, &board.indices.fingerprinter).ok();
                reader.resume_at(HEADER_BYTES, 0, board.head)?;
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
                    self.closed |= matches!(entry, Entry::Close { .. });
                    self.head = head;
                    self.entries = number;
                    good_end = *end;
                    continue;
                }
            } else if self.entries < covered {
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
                    self.head = head;
                    self.entries = number;
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
                    self.head = head;
                    self.entries = number;
                    good_end = end;
                }
                Next::Entry(Entry::Close { number, head }, end) => {
                    self.record(number, &close_keys(start));
                    self.closed = true;
                    self.head = head;
                    self.entries = number;
                    good_end = end;
                }
                Next::End => break,
                Next::Torn | Next::Impossible => {
                    self.recover_tail(good_end, lengths, context)?;
                    break;
                }
            }
            if self.entries.is_multiple_of(board_index::MARK_EVERY) {
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
        let number = self.entries + 1;
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
        if holds_an_entry(&tail, &self.head, number, lengths) {
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
            if log.flush(self.entries, &self.head, force).is_err() {
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

    /// The error for a conflict with entry `entry`: [`BoardError::Challenged`] if either side
    /// is a challenge, `otherwise` if both are cast ballots.
    fn conflict(&self, entry: u64, challenge: bool, otherwise: BoardError) -> BoardError {
        if challenge || self.indices.is_challenge(entry) {
            BoardError::Challenged { entry }
        } else {
            otherwise
        }
    }

    /// The index checks every new body passes, cast or challenged: a new tracker, a new ballot
    /// id under its credential, no ciphertext already on the board. A fingerprint that matches
    /// is confirmed against the entry read back from the file.
    fn check_unique(&self, body: &Body, challenge: bool) -> Result<(), BoardError> {
        let f = &self.indices.fingerprinter;
        let tracker = body.tracker();
        if let Some(entry) =
            self.confirmed(&self.indices.trackers, f.fp(FP_TRACKER, &tracker), |b| {
                b.tracker() == tracker
            })?
        {
            return Err(self.conflict(entry, challenge, BoardError::Duplicate { entry }));
        }
        let id = body.scoped_id();
        if let Some(entry) =
            self.confirmed(&self.indices.ballot_ids, f.fp(FP_BALLOT_ID, &id), |b| {
                b.scoped_id() == id
            })?
        {
            return Err(self.conflict(entry, challenge, BoardError::BallotIdReused { entry }));
        }
        for key in body.alpha_keys() {
            if let Some(entry) =
                self.confirmed(&self.indices.ciphertexts, f.fp(FP_CIPHERTEXT, &key), |b| {
                    b.alpha_keys().contains(&key)
                })?
            {
                return Err(self.conflict(
                    entry,
                    challenge,
                    BoardError::ReplayedCiphertext { entry },
                ));
            }
        }
        Ok(())
    }

    /// The memory the board's indices hold, in bytes (the fingerprint tables, the challenge
    /// bits and every entry's offset).
    pub fn index_bytes(&self) -> usize {
        self.indices.bytes()
    }

    fn write_entry(&mut self, payload: &[u8]) -> Result<[u8; 64], BoardError> {
        let hash = chain(&self.head, payload);
        let mut record = Vec::with_capacity(4 + payload.len() + 64);
        record.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        record.extend_from_slice(payload);
        record.extend_from_slice(&hash);
        let written = self.file.write_all(&record).and_then(|()| {
            // Durable before acknowledged.
            self.file.sync_data()
        });
        if let Err(e) = written {
            // Leave no partial entry behind for the next append to build on.
            let _ = self.file.set_len(self.end);
            let _ = self.file.seek(SeekFrom::Start(self.end));
            return Err(e.into());
        }
        self.end += record.len() as u64;
        Ok(hash)
    }

    /// Checks a ballot received as bytes and, if it is acceptable, appends it durably.
    ///
    /// Refused, each with its own error: a closed board, undecodable bytes, an exact duplicate,
    /// a reused ballot id, a reused ciphertext (replayed content), a second ballot when revoting
    /// is refused, and any invalid credential, signature or proof.
    ///
    /// # Errors
    /// [`BoardError`] saying why; nothing is written then.
    pub fn append<R: RngCore + CryptoRng>(
        &mut self,
        context: &ElectionContext,
        bytes: &[u8],
        rng: &mut R,
    ) -> Result<Receipt, BoardError> {
        if context.hash() != &self.election {
            return Err(BoardError::WrongBoard {
                reason: "the board belongs to another election",
            });
        }
        check_len(context, bytes)?;
        let ballot = self.precheck(bytes)?;
        let verified = ballot.verify(context, rng).map_err(BoardError::Ballot)?;
        let number = self.entries + 1;
        let mut payload = Vec::with_capacity(9 + bytes.len());
        payload.extend_from_slice(&number.to_le_bytes());
        payload.push(KIND_BALLOT);
        payload.extend_from_slice(bytes);
        let start = self.end;
        let head = self.write_entry(&payload)?;
        self.head = head;
        self.entries = number;
        let keys = self.keys(
            KIND_BALLOT,
            start,
            verified.ballot().body(),
            Some(verified.ballot().credential()),
        );
        self.record(number, &keys);
        self.flush_log(false);
        Ok(Receipt::sign(
            &self.key,
            &self.election,
            (number, EntryKind::Cast),
            *verified.tracker(),
            head,
            rng,
        ))
    }

    /// The checks of [`BallotBoard::append`] that need no proof: closed board, decoding,
    /// duplicates, reused ids and ciphertexts, refused revotes — against the board so far.
    fn precheck(&self, bytes: &[u8]) -> Result<Ballot, BoardError> {
        self.precheck_decoded(Ballot::from_bytes(bytes))
    }

    /// [`Self::precheck`] of a ballot already decoded from `bytes` (decoding, 4–5 µs per point,
    /// runs on all cores in [`Self::append_many`]; the index checks stay sequential).
    fn precheck_decoded(&self, decoded: Result<Ballot, BallotError>) -> Result<Ballot, BoardError> {
        if self.closed {
            return Err(BoardError::Closed);
        }
        let ballot = decoded.map_err(BoardError::Ballot)?;
        self.check_unique(ballot.body(), false)?;
        if self.policy == RevotePolicy::Refused {
            if let Some(&entry) = self.casts_of(ballot.credential())?.first() {
                return Err(BoardError::RevoteRefused { entry });
            }
        }
        Ok(ballot)
    }

    /// Accepts many ballots at once: the same checks as [`BallotBoard::append`], but every
    /// proof and signature of the batch in one multiscalar multiplication, and one `fsync` for
    /// all accepted entries before any receipt is returned. Ballots are taken in order; one
    /// that conflicts with an earlier accepted ballot of the same batch (same tracker or id, a
    /// shared ciphertext, a refused revote) is refused as it would be one at a time.
    ///
    /// Returns one result per ballot, in order.
    ///
    /// # Errors
    /// An I/O error writing the batch refuses the whole batch (nothing is acknowledged).
    pub fn append_many<R: RngCore + CryptoRng>(
        &mut self,
        context: &ElectionContext,
        ballots: &[Vec<u8>],
        rng: &mut R,
    ) -> Result<Vec<Result<Receipt, BoardError>>, BoardError> {
        if context.hash() != &self.election {
            return Err(BoardError::WrongBoard {
                reason: "the board belongs to another election",
            });
        }
        let mut results: Vec<Option<Result<Receipt, BoardError>>> =
            Vec::with_capacity(ballots.len());
        let mut candidates = Vec::new();
        let mut positions = Vec::new();
        // A ballot of the wrong length is refused before anything of it is decoded.
        let decoded: Vec<Result<Ballot, BallotError>> = ballots
            .par_iter()
            .map(|b| match check_len(context, b) {
                Ok(()) => Ballot::from_bytes(b),
                Err(_) => Err(wrong_len()),
            })
            .collect();
        for (i, decoded) in decoded.into_iter().enumerate() {
            match self.precheck_decoded(decoded) {
                Ok(ballot) => {
                    candidates.push(ballot);
                    positions.push(i);
                    results.push(None);
                }
                Err(e) => results.push(Some(Err(e))),
            }
        }
        // One batch per core-sized chunk; the staging below stays sequential and in order.
        let verdicts = Ballot::verify_batch_parallel(candidates, context, 256, rng);
        // In order: refuse conflicts among this batch's verified ballots, then stage the rest.
        let mut batch_trackers: HashMap<[u8; 64], u64> = HashMap::new();
        let mut batch_ids: HashMap<[u8; 32], u64> = HashMap::new();
        let mut batch_alphas: HashMap<[u8; 16], u64> = HashMap::new();
        let mut batch_casts: HashMap<[u8; 32], u64> = HashMap::new();
        let mut staged: Vec<(usize, VerifiedBallot, u64, [u8; 64], u64)> = Vec::new();
        let mut record = Vec::new();
        let mut head = self.head;
        let mut number = self.entries;
        for (verdict, i) in verdicts.into_iter().zip(positions) {
            let verified = match verdict {
                Ok(v) => v,
                Err(e) => {
                    if let Some(slot) = results.get_mut(i) {
                        *slot = Some(Err(BoardError::Ballot(e)));
                    }
                    continue;
                }
            };
            let ballot = verified.ballot();
            let keys = ballot.body().alpha_keys();
            let conflict = if let Some(&entry) = batch_trackers.get(verified.tracker()) {
                Some(BoardError::Duplicate { entry })
            } else if let Some(&entry) = batch_ids.get(&ballot.scoped_id()) {
                Some(BoardError::BallotIdReused { entry })
            } else if let Some(&entry) = keys.iter().find_map(|k| batch_alphas.get(k)) {
                Some(BoardError::ReplayedCiphertext { entry })
            } else if self.policy == RevotePolicy::Refused {
                batch_casts
                    .get(ballot.credential().as_bytes())
                    .map(|&entry| BoardError::RevoteRefused { entry })
            } else {
                None
            };
            if let Some(e) = conflict {
                if let Some(slot) = results.get_mut(i) {
                    *slot = Some(Err(e));
                }
                continue;
            }
            number += 1;
            batch_trackers.insert(*verified.tracker(), number);
            batch_ids.insert(ballot.scoped_id(), number);
            for k in keys {
                batch_alphas.insert(k, number);
            }
            batch_casts.insert(ballot.credential().to_bytes(), number);
            let bytes = ballots.get(i).map(Vec::as_slice).unwrap_or(&[]);
            let mut payload = Vec::with_capacity(9 + bytes.len());
            payload.extend_from_slice(&number.to_le_bytes());
            payload.push(KIND_BALLOT);
            payload.extend_from_slice(bytes);
            head = chain(&head, &payload);
            let start = self.end + record.len() as u64;
            record.extend_from_slice(&(payload.len() as u32).to_le_bytes());
            record.extend_from_slice(&payload);
            record.extend_from_slice(&head);
            staged.push((i, verified, number, head, start));
        }
        if !staged.is_empty() {
            // Synced at least every MAX_UNSYNCED_BYTES, so a crash never leaves a longer tail.
            let written = record
                .chunks(usize::try_from(MAX_UNSYNCED_BYTES).unwrap_or(usize::MAX))
                .try_for_each(|chunk| {
                    self.file.write_all(chunk)?;
                    self.file.sync_data()
                });
            if let Err(e) = written {
                // Leave no partial entries behind; nothing of this batch is acknowledged.
                let _ = self.file.set_len(self.end);
                let _ = self.file.seek(SeekFrom::Start(self.end));
                return Err(e.into());
            }
            self.end += record.len() as u64;
        }
        // Durable: now index and acknowledge.
        for (i, verified, n, entry_head, start) in staged {
            let keys = self.keys(
                KIND_BALLOT,
                start,
                verified.ballot().body(),
                Some(verified.ballot().credential()),
            );
            self.record(n, &keys);
            if let Some(slot) = results.get_mut(i) {
                *slot = Some(Ok(Receipt::sign(
                    &self.key,
                    &self.election,
                    (n, EntryKind::Cast),
                    *verified.tracker(),
                    entry_head,
                    rng,
                )));
            }
        }
        self.head = head;
        self.entries = number;
        self.flush_log(false);
        Ok(results
            .into_iter()
            .map(|r| r.unwrap_or(Err(BoardError::Closed)))
            .collect())
    }

    /// Records a challenged ballot received as bytes: checks its shape, credential, challenge
    /// signature and every proof, opens it with its seed, refuses it if it shares a tracker,
    /// ballot id or ciphertext with any entry already on the board, and appends it durably as
    /// a challenge entry. From then on no ballot that shares any of these is accepted.
    ///
    /// Returns the receipt (the tracker is the one the voter saw) and the opened challenge.
    ///
    /// # Errors
    /// [`BoardError`] saying why; nothing is written then.
    pub fn challenge<R: RngCore + CryptoRng>(
        &mut self,
        context: &ElectionContext,
        bytes: &[u8],
        rng: &mut R,
    ) -> Result<(Receipt, VerifiedChallenge), BoardError> {
        if context.hash() != &self.election {
            return Err(BoardError::WrongBoard {
                reason: "the board belongs to another election",
            });
        }
        if self.closed {
            return Err(BoardError::Closed);
        }
        let expected = context.manifest().ballot_len() - CAST_TAIL as u64 + CHALLENGE_TAIL as u64;
        if bytes.len() as u64 != expected {
            return Err(BoardError::Ballot(wrong_len()));
        }
        let challenged = ChallengedBallot::from_bytes(bytes).map_err(BoardError::Ballot)?;
        self.check_unique(challenged.body(), true)?;
        let opened = challenged
            .verify(context, rng)
            .map_err(BoardError::Ballot)?;
        let number = self.entries + 1;
        let mut payload = Vec::with_capacity(9 + bytes.len());
        payload.extend_from_slice(&number.to_le_bytes());
        payload.push(KIND_CHALLENGE);
        payload.extend_from_slice(bytes);
        let start = self.end;
        let head = self.write_entry(&payload)?;
        self.head = head;
        self.entries = number;
        let keys = self.keys(KIND_CHALLENGE, start, opened.challenged().body(), None);
        self.record(number, &keys);
        self.flush_log(false);
        Ok((
            Receipt::sign(
                &self.key,
                &self.election,
                (number, EntryKind::Challenge),
                *opened.tracker(),
                head,
                rng,
            ),
            opened,
        ))
    }

    /// Closes the board durably: no ballot is accepted afterwards, even after a restart.
    ///
    /// # Errors
    /// I/O errors; [`BoardError::Closed`] if already closed.
    pub fn close(&mut self) -> Result<[u8; 64], BoardError> {
        if self.closed {
            return Err(BoardError::Closed);
        }
        let number = self.entries + 1;
        let mut payload = number.to_le_bytes().to_vec();
        payload.push(KIND_CLOSE);
        let start = self.end;
        let head = self.write_entry(&payload)?;
        self.head = head;
        self.entries = number;
        self.closed = true;
        self.record(number, &close_keys(start));
        self.flush_log(true);
        Ok(head)
    }

    /// The current head.
    pub fn head(&self) -> &[u8; 64] {
        &self.head
    }

    /// The ballot box's public key (in the header): receipts verify under it.
    pub fn ballot_box(&self) -> &PublicKey {
        self.key.public()
    }

    /// The number of entries (ballots and the close marker).
    pub fn entries(&self) -> u64 {
        self.entries
    }

    /// Whether the board is closed.
    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether entry `number` is counted: under `last-counts` the last ballot of its credential,
    /// under `refused` the only one.
    pub fn is_counted(&self, credential: &PublicKey, number: u64) -> bool {
        self.casts_of(credential)
            .ok()
            .and_then(|c| c.last().copied())
            .is_some_and(|last| last == number)
    }
}

impl Drop for BallotBoard {
    fn drop(&mut self) {
        // A mark at the last entry, so the next `open` replays nothing.
        self.flush_log(true);
    }
}

/// The index log beside a board file: `<board>.index` (a cache of the board's indices that
/// `open` rebuilds when it is missing or stale; remove it with the board).
pub fn index_log_path(board: &Path) -> PathBuf {
    log_path(board)
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

/// The secret bytes of the ballot box key (for the index's fingerprint key).
fn key_secret(key: &BallotBoxKey) -> zeroize::Zeroizing<[u8; 32]> {
    key.expose_secret_bytes()
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

/// Checks that the board file at `path` extends the board whose head was `old_head`: its entries
/// chain from the genesis through `old_head` (or `old_head` is the genesis). Returns the number
/// of entries `old_head` had and the current head.
///
/// # Errors
/// [`BoardError::NotAnExtension`] if `old_head` never occurs; [`BoardError::Corrupt`] for a
/// broken chain; I/O errors.
pub fn verify_extension(old_head: &[u8; 64], path: &Path) -> Result<(u64, [u8; 64]), BoardError> {
    let mut reader = BoardReader::new(BufReader::new(File::open(path)?))?;
    let mut found = (reader.head() == old_head).then_some(0);
    while let Some(entry) = reader.next_checked()? {
        let (number, head) = match entry {
            Entry::Ballot { number, head, .. }
            | Entry::Challenge { number, head, .. }
            | Entry::Close { number, head } => (number, head),
        };
        if found.is_none() && &head == old_head {
            found = Some(number);
        }
    }
    found
        .map(|n| (n, *reader.head()))
        .ok_or(BoardError::NotAnExtension)
}

/// The option bounds of a manifest, flattened contest by contest (the tally's option order).
pub fn option_bounds(context: &ElectionContext) -> Vec<u64> {
    context
        .manifest()
        .contests
        .iter()
        .flat_map(|c| c.options.iter().map(move |_| c.option_limit))
        .collect()
}

fn wrong_len() -> BallotError {
    BallotError::Shape {
        reason: "the ballot's length is not the manifest's ballot length",
    }
}

/// Every ballot of an election has the length its manifest implies: anything else is refused
/// before it is decoded (a hostile ballot costs no decoding).
fn check_len(context: &ElectionContext, bytes: &[u8]) -> Result<(), BoardError> {
    if bytes.len() as u64 == context.manifest().ballot_len() {
        Ok(())
    } else {
        Err(BoardError::Ballot(wrong_len()))
    }
}

pub use crate::tally::tally;

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
    use super::*;
    use crate::ceremony::{adjudicate, run_locally, CeremonyParams};
    use crate::election::{CredentialList, Manifest};
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    /// The adversary who makes every fingerprint collide (as if it could aim its ballots at the
    /// board's slots): every lookup then confirms against the file, so no honest ballot is
    /// refused and every duplicate, reused id, replayed ciphertext and refused revote still is.
    #[test]
    fn colliding_fingerprints_never_change_a_verdict() {
        for policy in [RevotePolicy::LastCounts, RevotePolicy::Refused] {
            let mut rng = ChaCha20Rng::seed_from_u64(5);
            let params = CeremonyParams::new([5; 32], 2, 3).unwrap();
            let (transcript, _) = run_locally(&params, &mut rng).unwrap();
            let outcome = adjudicate(&transcript, &mut rng).unwrap();
            let (voters, list) = CredentialList::generate(6, &mut rng);
            let mut manifest = Manifest::example();
            manifest.contests.truncate(1);
            manifest.revoting = policy;
            let context = ElectionContext::new(manifest, outcome, list).unwrap();
            let dir = std::env::temp_dir()
                .join(format!("evote-collide-{}-{policy:?}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap();
            let key = BallotBoxKey::generate(&mut rng);
            let mut board = BallotBoard::create(&dir.join("b"), &context, key).unwrap();
            board.indices = Indices::new(Fingerprinter::degenerate(), 1, 1);
            let vote = |voter: usize, yes: bool, rng: &mut ChaCha20Rng| {
                let choice = if yes { vec![1, 0] } else { vec![0, 1] };
                Ballot::encrypt_and_cast(&context, &voters[voter], &[choice], rng)
                    .unwrap()
                    .to_bytes()
            };
            let mut cast = Vec::new();
            for voter in 0..6 {
                let b = vote(voter, voter % 2 == 0, &mut rng);
                board.append(&context, &b, &mut rng).unwrap();
                cast.push(b);
            }
            for (i, b) in cast.iter().enumerate() {
                assert!(
                    matches!(
                        board.append(&context, b, &mut rng),
                        Err(BoardError::Duplicate { entry }) if entry == i as u64 + 1
                    ),
                    "{policy:?}: duplicate of entry {}",
                    i + 1
                );
                assert!(board.is_counted(voters[i].public(), i as u64 + 1));
            }
            let revote = vote(2, true, &mut rng);
            match policy {
                RevotePolicy::Refused => assert!(matches!(
                    board.append(&context, &revote, &mut rng),
                    Err(BoardError::RevoteRefused { entry: 3 })
                )),
                RevotePolicy::LastCounts => {
                    let r = board.append(&context, &revote, &mut rng).unwrap();
                    assert!(board.is_counted(voters[2].public(), r.entry));
                    assert!(!board.is_counted(voters[2].public(), 3));
                    // Another credential's entry is never taken for this one's.
                    assert!(!board.is_counted(voters[1].public(), r.entry));
                }
            }
            let _ = std::fs::remove_dir_all(&dir);
        }
    }
}
