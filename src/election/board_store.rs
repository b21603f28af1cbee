//! The board-store interface: what the board's rules ([`super::board::BallotBoard`]) need from
//! wherever the entries are kept.
//!
//! The rules stay above this interface, in one place: decoding, verification, numbering and
//! chaining entries, the revote policy, refusing duplicates and replays, signing receipts. A
//! store keeps what the rules decided: the entries with their chain hashes, and the indices
//! that answer "which entry already holds this tracker, ballot id or ciphertext" and "which
//! entries has this credential cast". Two stores implement it: the board file
//! (`board_file`, embedded, the default) and PostgreSQL (`board_postgres`, feature
//! `postgres`).
//!
//! A store's one promise: when [`Store::commit`] returns `Ok`, every staged entry is durable
//! (as durable as the store can make it: `fsync` for the file, the commit for PostgreSQL with
//! its `synchronous_commit` setting) and the store's head is the last staged hash; when it
//! returns `Err`, none of them is acknowledged and the head is what it was.

use std::path::Path;

use super::ballot::Body;
use super::board::{BoardError, Recovered, KIND_CLOSE};
use super::receipt::SignedHead;
use crate::keys::PublicKey;

/// Which unique key of an entry already stored a new body shares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Held {
    /// The tracker (the hash of the whole body): the same ballot again.
    Tracker,
    /// The ballot id under the same credential.
    BallotId,
    /// The first 16 bytes of one ciphertext's `alpha`.
    Ciphertext,
}

/// An entry already stored that holds one of a new body's unique keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Hit {
    /// Which key it shares.
    pub(crate) held: Held,
    /// The entry's number.
    pub(crate) entry: u64,
    /// Whether that entry is a challenged ballot.
    pub(crate) challenge: bool,
}

/// One entry to append, numbered and chained by the rules.
pub(crate) struct Staged<'a> {
    /// Its number (the store's entries + 1 for the first, then consecutive).
    pub(crate) number: u64,
    /// `KIND_BALLOT`, `KIND_CLOSE` or `KIND_CHALLENGE`.
    pub(crate) kind: u8,
    /// `LE64(number) ‖ kind ‖ content`.
    pub(crate) payload: Vec<u8>,
    /// `h_number`, chained from the previous entry's.
    pub(crate) hash: [u8; 64],
    /// A cast or challenged ballot's body (its unique keys go into the indices).
    pub(crate) body: Option<&'a Body>,
    /// A cast ballot's credential.
    pub(crate) credential: Option<&'a PublicKey>,
}

/// Where a store's chain ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Tip {
    /// The hash of the last entry (the genesis hash for an empty board).
    pub(crate) head: [u8; 64],
    /// The number of entries.
    pub(crate) entries: u64,
    /// Whether the last entry is the close.
    pub(crate) closed: bool,
}

impl Tip {
    /// An empty board's.
    pub(crate) fn empty(genesis: [u8; 64]) -> Self {
        Self {
            head: genesis,
            entries: 0,
            closed: false,
        }
    }

    /// After the committed `staged`.
    pub(crate) fn after(&mut self, staged: &[Staged<'_>]) {
        for s in staged {
            self.head = s.hash;
            self.entries = s.number;
            self.closed |= s.kind == KIND_CLOSE;
        }
    }
}

/// Where a board's entries and indices live.
pub(crate) trait Store: Send {
    /// Where the chain ends.
    fn tip(&self) -> &Tip;
    /// For each body, the first stored entry that holds its tracker, else its ballot id under
    /// its credential, else one of its ciphertexts (in the body's order): the refusal the
    /// rules give names that entry.
    fn conflicts(&mut self, bodies: &[&Body]) -> Result<Vec<Option<Hit>>, BoardError>;
    /// For each credential, the cast entries it holds, in order.
    fn casts(&mut self, credentials: &[&PublicKey]) -> Result<Vec<Vec<u64>>, BoardError>;
    /// Appends `staged` durably, all or nothing (see the module's promise). `sign` gives the
    /// ballot box's signature on the state after the last staged entry: a store that others
    /// can write to (PostgreSQL) calls it once, keeps the signature and refuses, when it reads
    /// the state, a head without it; the board file, written only through the ballot box's own
    /// lock, does not need it and does not call it.
    fn commit(
        &mut self,
        staged: &[Staged<'_>],
        sign: &mut dyn FnMut() -> SignedHead,
    ) -> Result<(), BoardError>;
    /// The board file's path, for a file store.
    fn path(&self) -> Option<&Path> {
        None
    }
    /// What opening a file store moved aside.
    fn recovered(&self) -> Option<&Recovered> {
        None
    }
    /// The memory the store's in-process indices hold.
    fn index_bytes(&self) -> usize {
        0
    }
    /// Names the store for `Debug` (no secrets: a connection string without its password).
    fn describe(&self) -> String;
}
