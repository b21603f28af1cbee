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
use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use rand_core::{CryptoRng, RngCore};
use rayon::prelude::*;
use sha2::{Digest, Sha512};

use super::ballot::{
    Ballot, BallotError, Body, ChallengedBallot, VerifiedBallot, VerifiedChallenge, CAST_TAIL,
    CHALLENGE_TAIL,
};
pub use super::board_file::index_memory_probe;
use super::board_file::FileStore;
use super::board_index::log_path;
use super::board_store::{Held, Hit, Staged, Store};
use super::context::ElectionContext;
use super::manifest::RevotePolicy;
use super::receipt::SignedHead;
pub use super::receipt::{BallotBoxKey, EntryKind, Receipt};
use crate::keys::PublicKey;

pub(crate) const MAGIC: &[u8; 11] = b"EVOTE-BOARD";
pub(crate) const BOARD_VERSION: u8 = 2;
pub(crate) const HEADER_BYTES: u64 = 11 + 1 + 64 + 32;
pub(crate) const KIND_BALLOT: u8 = 1;
pub(crate) const KIND_CLOSE: u8 = 2;
pub(crate) const KIND_CHALLENGE: u8 = 3;
/// The largest entry a reader accepts (a ballot of the largest manifest is far smaller).
pub(crate) const MAX_ENTRY_BYTES: u32 = 64 << 20;
/// The most bytes a writer leaves written but not yet synced: [`BallotBoard::append_many`]
/// syncs at least this often, so a crash can leave at most this much (plus one entry) torn.
pub const MAX_UNSYNCED_BYTES: u64 = 8 << 20;
/// Slack for file-system garbage past the last write (a block or extent left unwritten).
pub(crate) const TAIL_SLACK_BYTES: u64 = 1 << 20;

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
    /// Another writer holds the board (a second process or a second handle; for PostgreSQL,
    /// another connection holding the board's advisory lock).
    Locked,
    /// The store's last entry is not this writer's head: another writer appended (possible
    /// only if the writer's lock was lost). Nothing was written; reopen the board.
    Diverged {
        /// The entries the store holds.
        entries: u64,
    },
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
            Self::Diverged { entries } => write!(
                f,
                "the board's store holds {entries} entries, not the chain this writer extends: \
                 another writer appended; nothing was written (reopen the board)"
            ),
            Self::NotAnExtension => {
                f.write_str("the old head is not on this board: entries were removed or changed")
            }
            Self::NotClosed => f.write_str("the board is not closed: no tally before the close"),
            Self::Io(e) => write!(f, "board store: {e}"),
        }
    }
}

impl std::error::Error for BoardError {}

impl From<std::io::Error> for BoardError {
    fn from(e: std::io::Error) -> Self {
        Self::Io(e)
    }
}

pub(crate) fn genesis(election: &[u8; 64], ballot_box: &PublicKey) -> [u8; 64] {
    let mut h = Sha512::new();
    h.update(b"evote/board-genesis/v2");
    h.update(election);
    h.update(ballot_box.as_bytes());
    h.finalize().into()
}

pub(crate) fn chain(previous: &[u8; 64], payload: &[u8]) -> [u8; 64] {
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
    pub(crate) offset: u64,
    election: [u8; 64],
    ballot_box: PublicKey,
    /// The payload lengths entries of this election can have, when the reader knows them.
    pub(crate) lengths: Option<[u32; 3]>,
}

impl<R: Read + Seek> BoardReader<R> {
    /// Continues reading after entry `number`, which ends at byte `offset` with `head` (what
    /// an index log's mark vouches for).
    pub(crate) fn resume_at(
        &mut self,
        offset: u64,
        number: u64,
        head: [u8; 64],
    ) -> Result<(), BoardError> {
        self.reader.seek(SeekFrom::Start(offset))?;
        self.offset = offset;
        self.number = number;
        self.head = head;
        Ok(())
    }
}

/// How a read ended.
pub(crate) enum Next {
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

    pub(crate) fn next_entry(&mut self) -> Result<Next, BoardError> {
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

/// Where a board is kept: a board file, or a PostgreSQL database (given by its connection
/// string, `postgres://…` or `postgresql://…`). Parsed from a command line's `--board`.
#[derive(Clone, PartialEq, Eq)]
pub enum BoardLocation {
    /// A board file.
    File(PathBuf),
    /// A PostgreSQL connection string (feature `postgres`).
    Postgres(String),
}

impl core::str::FromStr for BoardLocation {
    type Err = std::convert::Infallible;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(
            if s.starts_with("postgres://") || s.starts_with("postgresql://") {
                Self::Postgres(s.to_owned())
            } else {
                Self::File(PathBuf::from(s))
            },
        )
    }
}

impl core::fmt::Display for BoardLocation {
    /// The path, or the connection string without its password.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::File(path) => write!(f, "{}", path.display()),
            Self::Postgres(url) => {
                // postgres://user:password@host/... -> postgres://user@host/...
                let (scheme, rest) = url.split_once("://").unwrap_or(("postgres", url));
                match rest.split_once('@') {
                    Some((user, host)) => {
                        let user = user.split(':').next().unwrap_or("");
                        write!(f, "{scheme}://{user}@{host}")
                    }
                    None => write!(f, "{scheme}://{rest}"),
                }
            }
        }
    }
}

impl core::fmt::Debug for BoardLocation {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "BoardLocation({self})")
    }
}

#[cfg(not(feature = "postgres"))]
fn no_postgres() -> BoardError {
    BoardError::Io(std::io::Error::other(
        "this program was built without PostgreSQL (feature `postgres`)",
    ))
}

impl BoardLocation {
    /// Creates an empty board here ([`BallotBoard::create`] or
    /// [`BallotBoard::create_postgres`]).
    ///
    /// # Errors
    /// As those.
    pub fn create(
        &self,
        context: &ElectionContext,
        key: BallotBoxKey,
    ) -> Result<BallotBoard, BoardError> {
        match self {
            Self::File(path) => BallotBoard::create(path, context, key),
            #[cfg(feature = "postgres")]
            Self::Postgres(url) => BallotBoard::create_postgres(url, context, key),
            #[cfg(not(feature = "postgres"))]
            Self::Postgres(_) => Err(no_postgres()),
        }
    }

    /// Opens the board here to write to it ([`BallotBoard::open`] or
    /// [`BallotBoard::open_postgres`]).
    ///
    /// # Errors
    /// As those.
    pub fn open(
        &self,
        context: &ElectionContext,
        key: BallotBoxKey,
    ) -> Result<BallotBoard, BoardError> {
        match self {
            Self::File(path) => BallotBoard::open(path, context, key),
            #[cfg(feature = "postgres")]
            Self::Postgres(url) => BallotBoard::open_postgres(url, context, key),
            #[cfg(not(feature = "postgres"))]
            Self::Postgres(_) => Err(no_postgres()),
        }
    }

    /// The board's bytes, as the board file holds them, for a reader (no lock is taken).
    ///
    /// # Errors
    /// I/O or connection errors.
    pub fn reader(&self) -> Result<Box<dyn Read + Send>, BoardError> {
        match self {
            Self::File(path) => Ok(Box::new(BufReader::new(File::open(path)?))),
            #[cfg(feature = "postgres")]
            Self::Postgres(url) => Ok(Box::new(
                super::board_postgres::PostgresBoardBytes::connect(url, 1)?,
            )),
            #[cfg(not(feature = "postgres"))]
            Self::Postgres(_) => Err(no_postgres()),
        }
    }
}

/// The board: its rules over a store of entries and indices.
///
/// The rules are here, once, whatever the store: decoding, verification, numbering and
/// chaining entries, the revote policy, refusing duplicates, reused ids, replayed ciphertexts
/// and challenged content, and signing receipts. The store (`board_store`) keeps the entries,
/// their chain hashes and the indices: the board file ([`BallotBoard::create`],
/// [`BallotBoard::open`]) or, with the feature `postgres`, a PostgreSQL database
/// ([`BallotBoard::create_postgres`], [`BallotBoard::open_postgres`]). Both write the same
/// entries with the same hashes: a PostgreSQL board exports to the very bytes of the file.
pub struct BallotBoard {
    store: Box<dyn Store>,
    key: BallotBoxKey,
    election: [u8; 64],
    policy: RevotePolicy,
}

impl core::fmt::Debug for BallotBoard {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("BallotBoard")
            .field("store", &self.store.describe())
            .field("entries", &self.store.tip().entries)
            .field("closed", &self.store.tip().closed)
            .finish_non_exhaustive()
    }
}

/// `LE64(number) ‖ kind ‖ content`: an entry's payload.
fn payload(number: u64, kind: u8, content: &[u8]) -> Vec<u8> {
    let mut payload = Vec::with_capacity(9 + content.len());
    payload.extend_from_slice(&number.to_le_bytes());
    payload.push(kind);
    payload.extend_from_slice(content);
    payload
}

/// The refusal for a new body (a challenge if `challenge`) that shares a key with `hit`:
/// [`BoardError::Challenged`] if either side is a challenge, else by the key it shares.
fn refusal(hit: Hit, challenge: bool) -> BoardError {
    let entry = hit.entry;
    if challenge || hit.challenge {
        return BoardError::Challenged { entry };
    }
    match hit.held {
        Held::Tracker => BoardError::Duplicate { entry },
        Held::BallotId => BoardError::BallotIdReused { entry },
        Held::Ciphertext => BoardError::ReplayedCiphertext { entry },
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
        let store = FileStore::create(path, context, &key)?;
        Ok(Self::over(Box::new(store), context, key))
    }

    /// Opens an existing board file to write to it with the ballot box key `key`, replaying its
    /// entries to rebuild the indices and recovering from a crash: a torn last entry is cut off
    /// (it was never acknowledged).
    ///
    /// # Errors
    /// [`BoardError::WrongBoard`] for another election's file or another ballot box's key;
    /// [`BoardError::Corrupt`] for a complete entry that does not chain or decode;
    /// [`BoardError::Locked`] if another writer holds it; I/O errors.
    pub fn open(
        path: &Path,
        context: &ElectionContext,
        key: BallotBoxKey,
    ) -> Result<Self, BoardError> {
        let store = FileStore::open(path, context, &key)?;
        Ok(Self::over(Box::new(store), context, key))
    }

    /// The rules over `store`.
    pub(crate) fn over(
        store: Box<dyn Store>,
        context: &ElectionContext,
        key: BallotBoxKey,
    ) -> Self {
        Self {
            store,
            key,
            election: *context.hash(),
            policy: context.manifest().revoting,
        }
    }

    /// The damage or torn write [`BallotBoard::open`] found after the last complete entry of a
    /// board file and moved aside, if any.
    pub fn recovered(&self) -> Option<&Recovered> {
        self.store.recovered()
    }

    /// The memory the board's in-process indices hold, in bytes (for the board file: the
    /// fingerprint tables, the challenge bits and every entry's offset; PostgreSQL keeps its
    /// indices in the database, and this is 0).
    pub fn index_bytes(&self) -> usize {
        self.store.index_bytes()
    }

    /// Where the entries are kept, for messages: `file <path>` or `postgres <host/db>` (never a
    /// password).
    pub fn location(&self) -> String {
        self.store.describe()
    }

    /// The checks that need no proof — closed board, decoding, duplicates, reused ids and
    /// ciphertexts, challenged content, refused revotes — for every decoded ballot, against
    /// the board so far (one lookup in the store for all of them).
    ///
    /// # Errors
    /// The store's errors (reading the entries or indices).
    fn prechecks(
        &mut self,
        decoded: Vec<Result<Ballot, BallotError>>,
    ) -> Result<Vec<Result<Ballot, BoardError>>, BoardError> {
        if self.store.tip().closed {
            return Ok(decoded.iter().map(|_| Err(BoardError::Closed)).collect());
        }
        let bodies: Vec<&Body> = decoded
            .iter()
            .filter_map(|d| d.as_ref().ok().map(Ballot::body))
            .collect();
        let mut hits = self.store.conflicts(&bodies)?.into_iter();
        let mut casts = if self.policy == RevotePolicy::Refused {
            let credentials: Vec<&PublicKey> = decoded
                .iter()
                .filter_map(|d| d.as_ref().ok().map(Ballot::credential))
                .collect();
            Some(self.store.casts(&credentials)?.into_iter())
        } else {
            None
        };
        Ok(decoded
            .into_iter()
            .map(|d| {
                let ballot = d.map_err(BoardError::Ballot)?;
                let hit = hits.next().flatten();
                let first_cast = casts
                    .as_mut()
                    .and_then(|c| c.next())
                    .and_then(|c| c.first().copied());
                if let Some(hit) = hit {
                    return Err(refusal(hit, false));
                }
                if let Some(entry) = first_cast {
                    return Err(BoardError::RevoteRefused { entry });
                }
                Ok(ballot)
            })
            .collect())
    }

    fn check_election(&self, context: &ElectionContext) -> Result<(), BoardError> {
        if context.hash() == &self.election {
            Ok(())
        } else {
            Err(BoardError::WrongBoard {
                reason: "the board belongs to another election",
            })
        }
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
        self.check_election(context)?;
        check_len(context, bytes)?;
        let ballot = self
            .prechecks(vec![Ballot::from_bytes(bytes)])?
            .pop()
            .unwrap_or(Err(BoardError::Closed))?;
        let verified = ballot.verify(context, rng).map_err(BoardError::Ballot)?;
        let (number, hash) = self.commit_one(
            KIND_BALLOT,
            bytes,
            Some(verified.ballot().body()),
            Some(verified.ballot().credential()),
            rng,
        )?;
        Ok(Receipt::sign(
            &self.key,
            &self.election,
            (number, EntryKind::Cast),
            *verified.tracker(),
            hash,
            rng,
        ))
    }

    /// Accepts many ballots at once: the same checks as [`BallotBoard::append`], but every
    /// proof and signature of the batch in one multiscalar multiplication, one lookup in the
    /// store for all of them, and one durable commit (one `fsync`, or one database commit) for
    /// all accepted entries before any receipt is returned. Ballots are taken in order; one
    /// that conflicts with an earlier accepted ballot of the same batch (same tracker or id, a
    /// shared ciphertext, a refused revote) is refused as it would be one at a time.
    ///
    /// Returns one result per ballot, in order.
    ///
    /// # Errors
    /// A store error (writing or reading) refuses the whole batch (nothing is acknowledged).
    pub fn append_many<R: RngCore + CryptoRng>(
        &mut self,
        context: &ElectionContext,
        ballots: &[Vec<u8>],
        rng: &mut R,
    ) -> Result<Vec<Result<Receipt, BoardError>>, BoardError> {
        self.check_election(context)?;
        let mut results: Vec<Option<Result<Receipt, BoardError>>> =
            Vec::with_capacity(ballots.len());
        let mut candidates = Vec::new();
        let mut positions = Vec::new();
        // A ballot of the wrong length is refused before anything of it is decoded; decoding
        // (4–5 µs per point) runs on all cores.
        let decoded: Vec<Result<Ballot, BallotError>> = ballots
            .par_iter()
            .map(|b| match check_len(context, b) {
                Ok(()) => Ballot::from_bytes(b),
                Err(_) => Err(wrong_len()),
            })
            .collect();
        for (i, checked) in self.prechecks(decoded)?.into_iter().enumerate() {
            match checked {
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
        let mut accepted: Vec<(usize, VerifiedBallot)> = Vec::new();
        let mut entries: Vec<(u64, Vec<u8>, [u8; 64])> = Vec::new();
        let mut head = self.store.tip().head;
        let mut number = self.store.tip().entries;
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
            let payload = payload(number, KIND_BALLOT, bytes);
            head = chain(&head, &payload);
            entries.push((number, payload, head));
            accepted.push((i, verified));
        }
        let staged: Vec<Staged<'_>> = accepted
            .iter()
            .zip(entries)
            .map(|((_, verified), (number, payload, hash))| Staged {
                number,
                kind: KIND_BALLOT,
                payload,
                hash,
                body: Some(verified.ballot().body()),
                credential: Some(verified.ballot().credential()),
            })
            .collect();
        // Durable: then acknowledge.
        self.commit(&staged, rng)?;
        let receipts: Vec<(usize, Receipt)> = accepted
            .iter()
            .zip(&staged)
            .map(|((i, verified), s)| {
                let receipt = Receipt::sign(
                    &self.key,
                    &self.election,
                    (s.number, EntryKind::Cast),
                    *verified.tracker(),
                    s.hash,
                    rng,
                );
                (*i, receipt)
            })
            .collect();
        for (i, receipt) in receipts {
            if let Some(slot) = results.get_mut(i) {
                *slot = Some(Ok(receipt));
            }
        }
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
        self.check_election(context)?;
        if self.store.tip().closed {
            return Err(BoardError::Closed);
        }
        let expected = context.manifest().ballot_len() - CAST_TAIL as u64 + CHALLENGE_TAIL as u64;
        if bytes.len() as u64 != expected {
            return Err(BoardError::Ballot(wrong_len()));
        }
        let challenged = ChallengedBallot::from_bytes(bytes).map_err(BoardError::Ballot)?;
        if let Some(hit) = self
            .store
            .conflicts(&[challenged.body()])?
            .into_iter()
            .next()
            .flatten()
        {
            return Err(refusal(hit, true));
        }
        let opened = challenged
            .verify(context, rng)
            .map_err(BoardError::Ballot)?;
        let (number, hash) = self.commit_one(
            KIND_CHALLENGE,
            bytes,
            Some(opened.challenged().body()),
            None,
            rng,
        )?;
        Ok((
            Receipt::sign(
                &self.key,
                &self.election,
                (number, EntryKind::Challenge),
                *opened.tracker(),
                hash,
                rng,
            ),
            opened,
        ))
    }

    /// Closes the board durably: no ballot is accepted afterwards, even after a restart.
    /// (`rng` hedges the nonce of the ballot box's signature on the closed board's head.)
    ///
    /// # Errors
    /// Store errors; [`BoardError::Closed`] if already closed.
    pub fn close<R: RngCore + CryptoRng>(&mut self, rng: &mut R) -> Result<[u8; 64], BoardError> {
        if self.store.tip().closed {
            return Err(BoardError::Closed);
        }
        let (_, hash) = self.commit_one(KIND_CLOSE, &[], None, None, rng)?;
        Ok(hash)
    }

    /// Signs the state after the last of `staged` with the ballot box key and commits them:
    /// when this returns `Ok`, every one is durable.
    fn commit<R: RngCore + CryptoRng>(
        &mut self,
        staged: &[Staged<'_>],
        rng: &mut R,
    ) -> Result<(), BoardError> {
        let Some(last) = staged.last() else {
            return Ok(());
        };
        // Signed only for a store that keeps the signature: the board file draws nothing from
        // `rng` here, so its bytes for a seeded run do not depend on the store's needs.
        let (key, election) = (&self.key, &self.election);
        self.store.commit(staged, &mut || {
            SignedHead::sign(key, election, last.number, last.hash, rng)
        })
    }

    /// Numbers, chains and commits one entry: its number and hash.
    fn commit_one<R: RngCore + CryptoRng>(
        &mut self,
        kind: u8,
        content: &[u8],
        body: Option<&Body>,
        credential: Option<&PublicKey>,
        rng: &mut R,
    ) -> Result<(u64, [u8; 64]), BoardError> {
        let number = self.store.tip().entries + 1;
        let payload = payload(number, kind, content);
        let hash = chain(&self.store.tip().head, &payload);
        self.commit(
            &[Staged {
                number,
                kind,
                payload,
                hash,
                body,
                credential,
            }],
            rng,
        )?;
        Ok((number, hash))
    }

    /// The current head.
    pub fn head(&self) -> &[u8; 64] {
        &self.store.tip().head
    }

    /// The ballot box's public key (in the header): receipts verify under it.
    pub fn ballot_box(&self) -> &PublicKey {
        self.key.public()
    }

    /// The number of entries (ballots, challenges and the close marker).
    pub fn entries(&self) -> u64 {
        self.store.tip().entries
    }

    /// Whether the board is closed.
    pub fn is_closed(&self) -> bool {
        self.store.tip().closed
    }

    /// The board file's path (`None` for a board kept in PostgreSQL).
    pub fn path(&self) -> Option<&Path> {
        self.store.path()
    }

    /// Whether entry `number` is counted: under `last-counts` the last ballot of its credential,
    /// under `refused` the only one. (Reads the store: `&mut` for a database connection.)
    pub fn is_counted(&mut self, credential: &PublicKey, number: u64) -> bool {
        self.store
            .casts(&[credential])
            .ok()
            .and_then(|c| c.into_iter().next())
            .and_then(|c| c.last().copied())
            .is_some_and(|last| last == number)
    }
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

/// The index log beside a board file: `<board>.index` (a cache of the board's indices that
/// `open` rebuilds when it is missing or stale; remove it with the board).
pub fn index_log_path(board: &Path) -> PathBuf {
    log_path(board)
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
            let mut store = FileStore::create(&dir.join("b"), &context, &key).unwrap();
            store.degenerate_fingerprints();
            let mut board = BallotBoard::over(Box::new(store), &context, key);
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
