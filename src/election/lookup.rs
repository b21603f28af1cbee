//! The voter's check: what became of a ballot, found by its tracker or its receipt.
//!
//! [`check_ballot`] reads a board (a live one, or a record's `board.bin`) as a stream, checks
//! its chain from the genesis up to the head it reports, finds the ballot, verifies it (a cast
//! ballot's signature and proofs; a challenge's signature, proofs and opening), verifies a
//! receipt's signature under the ballot box key in the board's header, and says exactly one of:
//!
//! - [`BallotStatus::Counted`]: cast, and the last cast ballot of its credential — the one the
//!   tally counts (on a board still open: so far);
//! - [`BallotStatus::Superseded`]: cast, but a later ballot of the same credential replaced it;
//! - [`BallotStatus::Challenged`]: a challenge entry, never cast, with what the device encrypted;
//! - [`BallotStatus::Absent`]: not on this board.
//!
//! A tracker is looked up in full (128 hex digits) or by a prefix of at least
//! [`MIN_PREFIX_DIGITS`] hex digits (128 bits): finding a second ballot whose tracker shares a
//! given 128-bit prefix takes about 2^128 hashes, where an 8-digit prefix took a colluding voter
//! 2^32 (a few seconds) to shadow a dropped victim's ballot. Two entries matching one prefix are
//! reported as [`LookupError::Ambiguous`], never resolved by picking one.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use rand_core::{CryptoRng, RngCore};

use super::ballot::{
    peek_credential, tracker_of, Ballot, BallotError, ChallengedBallot, CAST_TAIL, CHALLENGE_TAIL,
};
use super::board::{BoardError, BoardReader, Entry};
use super::context::ElectionContext;
use super::receipt::{EntryKind, Receipt};
use crate::keys::PublicKey;

/// The shortest tracker prefix a lookup accepts, in hex digits (128 bits).
pub const MIN_PREFIX_DIGITS: usize = 32;

/// What to look for.
#[derive(Clone, Debug)]
pub enum Query {
    /// A tracker, or a prefix of one, in hex (at least [`MIN_PREFIX_DIGITS`] digits).
    Tracker(String),
    /// A receipt the ballot box signed.
    Receipt(Box<Receipt>),
}

/// What became of the ballot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BallotStatus {
    /// Cast, and the last cast ballot of its credential: the one the tally counts.
    Counted {
        /// Its entry.
        entry: u64,
    },
    /// Cast, then replaced by a later ballot of the same credential (a revote).
    Superseded {
        /// Its entry.
        entry: u64,
        /// The entry of the credential's last ballot, the one counted.
        by: u64,
    },
    /// Challenged: on the board as a challenge, never cast.
    Challenged {
        /// Its entry.
        entry: u64,
        /// What the device encrypted, `selections[c][o]`.
        selections: Vec<Vec<u64>>,
    },
    /// Not on this board.
    Absent,
}

/// The answer of [`check_ballot`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BallotCheck {
    /// What became of the ballot.
    pub status: BallotStatus,
    /// The full tracker found (the query's, for a receipt or an absent full tracker; `None`
    /// for an absent prefix).
    pub tracker: Option<[u8; 64]>,
    /// The number of entries read, all chained from the genesis.
    pub entries: u64,
    /// The head after the last entry: what this answer is relative to.
    pub head: [u8; 64],
    /// Whether the board is closed (a counted ballot of an open board may still be replaced).
    pub closed: bool,
    /// The ballot box key in the board's header (receipts verify under it).
    pub ballot_box: PublicKey,
    /// For a receipt whose ballot is absent: what the board holds instead at the receipt's
    /// entry. A valid receipt for an entry that is not on the board is evidence that the board
    /// was altered after it was issued.
    pub contradiction: Option<String>,
}

/// Why the check could not answer.
#[derive(Debug)]
#[non_exhaustive]
pub enum LookupError {
    /// The board could not be read, or its chain is broken (the answer would be unfounded).
    Board(BoardError),
    /// The tracker is not hex.
    NotHex,
    /// The tracker prefix is shorter than [`MIN_PREFIX_DIGITS`] or longer than a tracker.
    PrefixLength {
        /// The digits given.
        digits: usize,
    },
    /// More than one entry matches the prefix.
    Ambiguous {
        /// The matching entries.
        entries: Vec<u64>,
    },
    /// The receipt's signature does not verify under the board's ballot box key.
    InvalidReceipt,
    /// The ballot found does not verify: the board holds an invalid entry.
    InvalidBallot {
        /// The entry.
        entry: u64,
        /// Why.
        error: BallotError,
    },
}

impl core::fmt::Display for LookupError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Board(e) => write!(f, "{e}"),
            Self::NotHex => f.write_str("the tracker is not hexadecimal"),
            Self::PrefixLength { digits } => write!(
                f,
                "a tracker has 128 hex digits; a prefix needs at least {MIN_PREFIX_DIGITS} \
                 ({digits} given)"
            ),
            Self::Ambiguous { entries } => {
                write!(
                    f,
                    "the prefix matches several entries: {entries:?}; give more digits"
                )
            }
            Self::InvalidReceipt => f.write_str(
                "the receipt's signature does not verify under this board's ballot box key",
            ),
            Self::InvalidBallot { entry, error } => {
                write!(f, "entry {entry} does not verify: {error}")
            }
        }
    }
}

impl std::error::Error for LookupError {}

impl From<BoardError> for LookupError {
    fn from(e: BoardError) -> Self {
        Self::Board(e)
    }
}

fn parse_prefix(hex: &str) -> Result<Vec<u8>, LookupError> {
    let hex = hex.trim();
    let digits = hex.len();
    if !(MIN_PREFIX_DIGITS..=128).contains(&digits) {
        return Err(LookupError::PrefixLength { digits });
    }
    // Nibbles: a prefix may have an odd number of digits.
    hex.chars()
        .map(|c| c.to_digit(16).map(|d| d as u8).ok_or(LookupError::NotHex))
        .collect()
}

fn matches(tracker: &[u8; 64], nibbles: &[u8]) -> bool {
    nibbles.iter().enumerate().all(|(i, n)| {
        tracker
            .get(i / 2)
            .is_some_and(|b| if i % 2 == 0 { b >> 4 } else { b & 15 } == *n)
    })
}

/// One entry whose tracker matched.
struct Found {
    entry: u64,
    kind: EntryKind,
    bytes: Vec<u8>,
    tracker: [u8; 64],
    /// The credential's latest cast entry seen so far (cast ballots only).
    latest: u64,
}

/// Finds and checks a ballot on the board at `board` (see the module docs). Reads the whole
/// board, streaming: memory holds the matching entries only.
///
/// # Errors
/// [`LookupError`]: a broken chain or unreadable board, a bad query, an ambiguous prefix, an
/// invalid receipt, or an invalid ballot found.
pub fn check_ballot<R: RngCore + CryptoRng>(
    context: &ElectionContext,
    board: &Path,
    query: &Query,
    rng: &mut R,
) -> Result<BallotCheck, LookupError> {
    let file = File::open(board).map_err(BoardError::Io)?;
    check_ballot_in(context, BufReader::new(file), query, rng)
}

/// [`check_ballot`] on a board's bytes from any reader (a file, or a board kept in PostgreSQL
/// streamed as the file's bytes).
///
/// # Errors
/// As [`check_ballot`].
pub fn check_ballot_in<R: RngCore + CryptoRng>(
    context: &ElectionContext,
    board: impl Read,
    query: &Query,
    rng: &mut R,
) -> Result<BallotCheck, LookupError> {
    let mut reader = BoardReader::new(board)?;
    if reader.election() != context.hash() {
        return Err(BoardError::WrongBoard {
            reason: "the board belongs to another election",
        }
        .into());
    }
    let ballot_box = *reader.ballot_box();
    let nibbles: Vec<u8> = match query {
        Query::Tracker(hex) => parse_prefix(hex)?,
        Query::Receipt(receipt) => {
            receipt
                .verify(context.hash(), &ballot_box)
                .map_err(|_| LookupError::InvalidReceipt)?;
            receipt
                .tracker
                .iter()
                .flat_map(|b| [b >> 4, b & 15])
                .collect()
        }
    };
    let mut found: Vec<Found> = Vec::new();
    let mut matched: Vec<u64> = Vec::new();
    // For a receipt: the head and tracker at its entry, as this board has them.
    let mut at_receipt: Option<(EntryKind, [u8; 64], [u8; 64])> = None;
    let mut closed = false;
    let mut entries = 0;
    while let Some(entry) = reader.next_checked()? {
        entries += 1;
        let (number, kind, bytes, head) = match entry {
            Entry::Ballot {
                number,
                bytes,
                head,
            } => (number, EntryKind::Cast, bytes, head),
            Entry::Challenge {
                number,
                bytes,
                head,
            } => (number, EntryKind::Challenge, bytes, head),
            Entry::Close { .. } => {
                closed = true;
                continue;
            }
        };
        let tail = match kind {
            EntryKind::Cast => CAST_TAIL,
            EntryKind::Challenge => CHALLENGE_TAIL,
        };
        let tracker = tracker_of(&bytes, tail);
        if let Query::Receipt(r) = query {
            if r.entry == number {
                at_receipt = Some((kind, tracker, head));
            }
        }
        if kind == EntryKind::Cast {
            let credential = peek_credential(&bytes);
            for f in found.iter_mut().filter(|f| f.kind == EntryKind::Cast) {
                if credential.is_some() && peek_credential(&f.bytes) == credential {
                    f.latest = number;
                }
            }
        }
        if matches(&tracker, &nibbles) {
            // A hostile board could hold many copies: a handful is enough to report, and only
            // the first is kept (more than one is an ambiguity, answered with an error).
            if matched.len() < 16 {
                matched.push(number);
            }
            if found.is_empty() {
                found.push(Found {
                    entry: number,
                    kind,
                    bytes,
                    tracker,
                    latest: number,
                });
            }
        }
    }
    let head = *reader.head();
    let mut answer = BallotCheck {
        status: BallotStatus::Absent,
        tracker: match query {
            Query::Receipt(r) => Some(r.tracker),
            Query::Tracker(_) if nibbles.len() == 128 => {
                let mut t = [0u8; 64];
                for (b, pair) in t.iter_mut().zip(nibbles.chunks(2)) {
                    *b =
                        pair.first().copied().unwrap_or(0) << 4 | pair.get(1).copied().unwrap_or(0);
                }
                Some(t)
            }
            Query::Tracker(_) => None,
        },
        entries,
        head,
        closed,
        ballot_box,
        contradiction: None,
    };
    if matched.len() > 1 {
        return Err(LookupError::Ambiguous { entries: matched });
    }
    if let Query::Receipt(r) = query {
        // The receipt names one entry: the ballot is there, as receipted, or it is absent.
        let holds = at_receipt.is_some_and(|(kind, tracker, head)| {
            kind == r.kind && tracker == r.tracker && head == r.head
        });
        if !holds {
            answer.contradiction = Some(match at_receipt {
                None => format!(
                    "the board has {entries} entries, none numbered {}: the receipted entry \
                     was removed",
                    r.entry
                ),
                Some(_) => format!(
                    "entry {} is not the receipted one: the board was altered after the \
                     receipt was issued",
                    r.entry
                ),
            });
            return Ok(answer);
        }
    }
    let Some(f) = found.pop() else {
        return Ok(answer);
    };
    answer.tracker = Some(f.tracker);
    answer.status = match f.kind {
        EntryKind::Cast => {
            Ballot::from_bytes(&f.bytes)
                .and_then(|b| b.verify(context, rng))
                .map_err(|error| LookupError::InvalidBallot {
                    entry: f.entry,
                    error,
                })?;
            if f.latest == f.entry {
                BallotStatus::Counted { entry: f.entry }
            } else {
                BallotStatus::Superseded {
                    entry: f.entry,
                    by: f.latest,
                }
            }
        }
        EntryKind::Challenge => {
            let opened = ChallengedBallot::from_bytes(&f.bytes)
                .and_then(|c| c.verify(context, rng))
                .map_err(|error| LookupError::InvalidBallot {
                    entry: f.entry,
                    error,
                })?;
            BallotStatus::Challenged {
                entry: f.entry,
                selections: opened.selections().to_vec(),
            }
        }
    };
    Ok(answer)
}
