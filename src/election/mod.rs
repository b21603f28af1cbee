//! The election layer: manifest, election context, voter credentials and ballots.
//!
//! `docs/election.md` describes the protocol from voter to result.

pub mod ballot;
#[cfg(feature = "fs")]
pub mod board;
#[cfg(feature = "fs")]
mod board_file;
#[cfg(feature = "fs")]
mod board_index;
#[cfg(feature = "postgres")]
pub mod board_postgres;
#[cfg(feature = "fs")]
mod board_store;
pub mod context;
pub mod credentials;
#[cfg(feature = "fs")]
pub mod lookup;
pub mod manifest;
pub mod receipt;
#[cfg(feature = "fs")]
pub mod record;
pub mod results;

pub use ballot::{
    Ballot, BallotError, BallotPart, ChallengedBallot, EncryptedContest, PendingBallot,
    VerifiedBallot, VerifiedChallenge,
};
#[cfg(feature = "fs")]
pub use board::{verify_extension, BallotBoard, BoardError, BoardLocation};
pub use context::{ContextError, ElectionContext, VoterContext};
pub use credentials::{CredentialError, CredentialList, VoterCredential};
#[cfg(feature = "fs")]
pub use lookup::{check_ballot, check_ballot_in, BallotCheck, BallotStatus, LookupError, Query};
pub use manifest::{Contest, Manifest, ManifestError, RevotePolicy};
pub use receipt::{BallotBoxKey, EntryKind, Receipt};
#[cfg(feature = "fs")]
pub use record::{write_record, Record, RecordError, RecordIndex, RecordParts};
pub use results::{ContestResult, ElectionResults, OptionResult};
