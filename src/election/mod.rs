//! The election layer: manifest, election context, voter credentials and ballots.
//!
//! `docs/election.md` describes the protocol from voter to result.

pub mod ballot;
pub mod board;
mod board_index;
pub mod context;
pub mod credentials;
pub mod lookup;
pub mod manifest;
pub mod receipt;
pub mod record;
pub mod results;

pub use ballot::{
    Ballot, BallotError, BallotPart, ChallengedBallot, EncryptedContest, PendingBallot,
    VerifiedBallot, VerifiedChallenge,
};
pub use board::{verify_extension, BallotBoard, BoardError};
pub use context::ElectionContext;
pub use credentials::{CredentialError, CredentialList, VoterCredential};
pub use lookup::{check_ballot, BallotCheck, BallotStatus, LookupError, Query};
pub use manifest::{Contest, Manifest, ManifestError, RevotePolicy};
pub use receipt::{BallotBoxKey, EntryKind, Receipt};
pub use record::{write_record, Record, RecordError, RecordIndex, RecordParts};
pub use results::{ContestResult, ElectionResults, OptionResult};
