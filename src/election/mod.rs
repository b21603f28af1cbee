//! The election layer: manifest, election context, voter credentials and ballots.
//!
//! `docs/election.md` describes the protocol from voter to result.

pub mod ballot;
pub mod board;
pub mod context;
pub mod credentials;
pub mod manifest;
pub mod record;
pub mod results;

pub use ballot::{Ballot, BallotError, BallotPart, BallotSecret, EncryptedContest, VerifiedBallot};
pub use board::{verify_extension, BallotBoard, BoardError, Receipt};
pub use context::ElectionContext;
pub use credentials::{CredentialError, CredentialList, VoterCredential};
pub use manifest::{Contest, Manifest, ManifestError, RevotePolicy};
pub use record::{write_record, Record, RecordError, RecordIndex, RecordParts};
pub use results::{ContestResult, ElectionResults, OptionResult};
