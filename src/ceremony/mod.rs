//! The threshold key ceremony: a t-of-n distributed key generation (Pedersen's DKG with
//! Feldman commitments, commit-before-reveal, encrypted share delivery and public complaints).
//!
//! No party ever holds the election secret key. Each guardian `i` deals a random polynomial
//! `f_i` of degree `t-1`; guardian `j`'s secret share is `x_j = Σ_{i∈Q} f_i(j)` over the
//! qualified set `Q`, the election key is `K = Σ_{i∈Q} f_i(0)·G`, and any `t` guardians of `Q`
//! can decrypt together ([`crate::decryption`]). `docs/ceremony.md` gives the math, the message
//! flow and what happens on every kind of misbehaviour.
//!
//! # Rounds
//! Every round takes the previous round's secret state by value (so a round cannot be run
//! twice) and returns the next secret state, which never leaves the guardian, and a public
//! package for the broadcast channel:
//!
//! | round | function | publishes |
//! |---|---|---|
//! | 1 | [`part1`] | [`CommitmentHashPackage`]: a hash of what round 2 will reveal |
//! | 2 | [`Round1Secret::part2`] | [`RevealPackage`]: coefficient commitments, proofs of knowledge, share-encryption key |
//! | 3 | [`Round2Secret::part3`] | [`EncryptedShare`]s: `f_i(j)` encrypted to each guardian `j` |
//! | 4 | [`Round3Secret::part4`] | [`Complaint`]s against senders of bad shares |
//! | end | [`Round4Secret::finish`] | nothing: every party runs [`adjudicate`] on the public [`CeremonyTranscript`] |

mod adjudication;
mod channel;
mod guardian;
mod packages;
mod state;
mod transcript;

use core::fmt;
use core::num::NonZeroU32;

use curve25519_dalek::scalar::Scalar;
use merlin::Transcript;
use sha2::{Digest, Sha512};

use crate::errors::DecodeError;
use crate::transcript::labels;

pub use adjudication::{adjudicate, CeremonyOutcome};
#[cfg(feature = "simulation")]
pub use guardian::run_locally;
pub use guardian::{
    part1, GuardianKeyShare, Round1Secret, Round2Secret, Round3Secret, Round4Secret,
};
pub use packages::{CommitmentHashPackage, Complaint, EncryptedShare, RevealPackage};
pub use state::{Guardian, KdfParams, Message, Stage, StateError, GUARDIAN_STATE_VERSION};
pub use transcript::CeremonyTranscript;

/// The largest number of guardians of one ceremony (share traffic grows as n²).
pub const MAX_GUARDIANS: u32 = 255;

/// The version byte that starts every ceremony package.
pub const CEREMONY_VERSION: u8 = 1;

/// A guardian's index: its Shamir x-coordinate, `1..=n`. Zero is not an index.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GuardianIndex(NonZeroU32);

impl GuardianIndex {
    /// Wraps an index, refusing 0.
    ///
    /// # Errors
    /// [`CeremonyError::InvalidIndex`] for 0.
    pub fn new(index: u32) -> Result<Self, CeremonyError> {
        NonZeroU32::new(index)
            .map(Self)
            .ok_or(CeremonyError::InvalidIndex {
                index,
                reason: "guardian indices start at 1",
            })
    }

    /// The index as an integer.
    pub fn get(self) -> u32 {
        self.0.get()
    }

    /// The index as a scalar (the Shamir x-coordinate).
    pub fn to_scalar(self) -> Scalar {
        Scalar::from(self.0.get())
    }
}

impl fmt::Debug for GuardianIndex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "guardian {}", self.0)
    }
}

impl fmt::Display for GuardianIndex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "guardian {}", self.0)
    }
}

/// The public parameters of one ceremony: its identifier, the threshold `t` and the number
/// of guardians `n`. Every proof and every encrypted share is bound to them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CeremonyParams {
    id: [u8; 32],
    threshold: u32,
    guardians: u32,
}

impl CeremonyParams {
    /// Parameters for a `threshold`-of-`guardians` ceremony identified by `id` (for example a
    /// hash of the election's identity and the ceremony's date).
    ///
    /// # Errors
    /// [`CeremonyError::InvalidParameters`] unless `1 ≤ threshold ≤ guardians ≤ MAX_GUARDIANS`.
    pub fn new(id: [u8; 32], threshold: u32, guardians: u32) -> Result<Self, CeremonyError> {
        let invalid = |reason| Err(CeremonyError::InvalidParameters { reason });
        if threshold == 0 {
            return invalid("the threshold must be at least 1");
        }
        if threshold > guardians {
            return invalid("the threshold exceeds the number of guardians");
        }
        if guardians > MAX_GUARDIANS {
            return invalid("more than MAX_GUARDIANS guardians");
        }
        Ok(Self {
            id,
            threshold,
            guardians,
        })
    }

    /// The ceremony identifier.
    pub fn id(&self) -> &[u8; 32] {
        &self.id
    }

    /// `t`: how many guardians are needed to decrypt.
    pub fn threshold(&self) -> u32 {
        self.threshold
    }

    /// `n`: how many guardians take part.
    pub fn guardians(&self) -> u32 {
        self.guardians
    }

    /// Every index `1..=n`.
    pub fn indices(&self) -> impl Iterator<Item = GuardianIndex> {
        (1..=self.guardians).filter_map(|i| GuardianIndex::new(i).ok())
    }

    /// Checks that `index` is one of this ceremony's guardians.
    ///
    /// # Errors
    /// [`CeremonyError::InvalidIndex`] if it exceeds `n`.
    pub fn check(&self, index: GuardianIndex) -> Result<(), CeremonyError> {
        if index.get() > self.guardians {
            return Err(CeremonyError::InvalidIndex {
                index: index.get(),
                reason: "larger than the number of guardians",
            });
        }
        Ok(())
    }

    /// The encoding length: `id (32) ‖ LE32(t) ‖ LE32(n)`.
    pub const BYTES: usize = 40;

    /// The canonical encoding, `id (32) ‖ LE32(t) ‖ LE32(n)`.
    pub fn to_bytes(&self) -> [u8; Self::BYTES] {
        let mut out = [0u8; Self::BYTES];
        let (id, rest) = out.split_at_mut(32);
        id.copy_from_slice(&self.id);
        let (t, n) = rest.split_at_mut(4);
        t.copy_from_slice(&self.threshold.to_le_bytes());
        n.copy_from_slice(&self.guardians.to_le_bytes());
        out
    }

    /// Decodes [`to_bytes`](Self::to_bytes).
    ///
    /// # Errors
    /// [`DecodeError::Length`] unless 40 bytes; [`DecodeError::Malformed`] unless
    /// `1 ≤ t ≤ n ≤ MAX_GUARDIANS`.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        const WHAT: &str = "ceremony parameters";
        let mut r = crate::group::Reader::exact(bytes, WHAT, Self::BYTES, "40")?;
        let id = r.array::<32>()?;
        let t = r.u32()?;
        let n = r.u32()?;
        r.finish()?;
        Self::new(id, t, n).map_err(|_| DecodeError::Malformed {
            what: WHAT,
            reason: "not 1 <= t <= n <= MAX_GUARDIANS",
        })
    }

    /// The context hash every ceremony message is bound to:
    /// `SHA-512("evote/ceremony/v1" ‖ id ‖ LE32(t) ‖ LE32(n))`.
    pub fn context_hash(&self) -> [u8; 64] {
        let mut h = Sha512::new();
        h.update(b"evote/ceremony/v1");
        h.update(self.id);
        h.update(self.threshold.to_le_bytes());
        h.update(self.guardians.to_le_bytes());
        h.finalize().into()
    }

    /// A transcript for one proof of `guardian`, with a `purpose` label.
    pub(crate) fn transcript(&self, purpose: &'static [u8], guardian: GuardianIndex) -> Transcript {
        let mut t = Transcript::new(labels::CEREMONY);
        t.append_message(labels::CEREMONY_CONTEXT, &self.context_hash());
        t.append_message(labels::PURPOSE, purpose);
        t.append_u64(labels::GUARDIAN, u64::from(guardian.get()));
        t
    }
}

/// What a guardian did wrong, as established from public data.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Misbehaviour {
    /// Published no commitment hash in round 1.
    MissingCommitmentHash,
    /// Published two different round-1 (or round-2) packages.
    Equivocation,
    /// Published no reveal in round 2.
    MissingReveal,
    /// Revealed commitments that do not hash to its round-1 commitment.
    CommitmentMismatch,
    /// A reveal of the wrong shape (not `t` commitments).
    MalformedReveal,
    /// A proof of knowledge of a coefficient that does not verify.
    InvalidProofOfKnowledge {
        /// The coefficient index `k`.
        coefficient: u32,
    },
    /// A proof of knowledge of the share-encryption key that does not verify.
    InvalidEncryptionKeyProof,
    /// Sent no encrypted share to a guardian.
    MissingShare {
        /// The guardian that received nothing.
        recipient: GuardianIndex,
    },
    /// Sent a share that does not decrypt or does not match its commitments (an upheld
    /// complaint).
    InvalidShare {
        /// The guardian that complained.
        recipient: GuardianIndex,
    },
    /// Complained about a share that is in fact valid.
    FalseComplaint {
        /// The guardian it accused.
        accused: GuardianIndex,
    },
    /// A complaint whose Diffie–Hellman proof does not verify.
    InvalidComplaint {
        /// The guardian it accused.
        accused: GuardianIndex,
    },
}

impl Misbehaviour {
    /// The encoding in a [`CeremonyOutcome`]: a code byte and the guardian or coefficient it
    /// names (0 when none): 1 no commitment hash, 2 equivocation, 3 no reveal, 4 commitment
    /// mismatch, 5 malformed reveal, 6 invalid proof of knowledge (coefficient `k`), 7 invalid
    /// share-encryption-key proof, 8 missing share (recipient), 9 invalid share (recipient),
    /// 10 false complaint (accused), 11 invalid complaint (accused).
    pub fn code(&self) -> (u8, u32) {
        match self {
            Self::MissingCommitmentHash => (1, 0),
            Self::Equivocation => (2, 0),
            Self::MissingReveal => (3, 0),
            Self::CommitmentMismatch => (4, 0),
            Self::MalformedReveal => (5, 0),
            Self::InvalidProofOfKnowledge { coefficient } => (6, *coefficient),
            Self::InvalidEncryptionKeyProof => (7, 0),
            Self::MissingShare { recipient } => (8, recipient.get()),
            Self::InvalidShare { recipient } => (9, recipient.get()),
            Self::FalseComplaint { accused } => (10, accused.get()),
            Self::InvalidComplaint { accused } => (11, accused.get()),
        }
    }
}

impl fmt::Display for Misbehaviour {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MissingCommitmentHash => f.write_str("no round-1 commitment hash"),
            Self::Equivocation => f.write_str("two different packages for the same round"),
            Self::MissingReveal => f.write_str("no round-2 reveal"),
            Self::CommitmentMismatch => f.write_str("reveal does not match its commitment hash"),
            Self::MalformedReveal => f.write_str("reveal has the wrong number of commitments"),
            Self::InvalidProofOfKnowledge { coefficient } => {
                write!(
                    f,
                    "invalid proof of knowledge for coefficient {coefficient}"
                )
            }
            Self::InvalidEncryptionKeyProof => {
                f.write_str("invalid proof of knowledge of the share-encryption key")
            }
            Self::MissingShare { recipient } => write!(f, "no encrypted share for {recipient}"),
            Self::InvalidShare { recipient } => {
                write!(f, "invalid share for {recipient} (complaint upheld)")
            }
            Self::FalseComplaint { accused } => {
                write!(f, "false complaint against {accused} (the share is valid)")
            }
            Self::InvalidComplaint { accused } => {
                write!(
                    f,
                    "complaint against {accused} with an invalid key-reveal proof"
                )
            }
        }
    }
}

/// Why a ceremony step failed.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CeremonyError {
    /// The parameters are not admissible.
    InvalidParameters {
        /// What is wrong.
        reason: &'static str,
    },
    /// A guardian index that is zero or exceeds `n`.
    InvalidIndex {
        /// The index.
        index: u32,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A package belongs to another ceremony round, recipient or guardian than expected.
    UnexpectedPackage {
        /// What is wrong.
        reason: &'static str,
    },
    /// Fewer than `t` guardians remain qualified: the ceremony cannot produce a key.
    NotEnoughGuardians {
        /// How many remain.
        qualified: u32,
        /// The threshold.
        threshold: u32,
        /// Who was disqualified, and why.
        culprits: Vec<(GuardianIndex, Misbehaviour)>,
    },
    /// This guardian was itself disqualified (for example it complained falsely).
    Disqualified {
        /// Why.
        reason: Misbehaviour,
    },
    /// This guardian's key share does not match the public commitments (it accepted a bad
    /// share without complaining).
    InconsistentKeyShare,
    /// A package's bytes were refused.
    Decode(DecodeError),
    /// An outcome's bytes are not what adjudication of the transcript finds.
    OutcomeMismatch,
}

impl CeremonyError {
    /// The guardians found cheating, when the error is about them.
    pub fn culprits(&self) -> Vec<GuardianIndex> {
        match self {
            Self::NotEnoughGuardians { culprits, .. } => culprits.iter().map(|c| c.0).collect(),
            _ => Vec::new(),
        }
    }
}

impl fmt::Display for CeremonyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidParameters { reason } => {
                write!(f, "invalid ceremony parameters: {reason}")
            }
            Self::InvalidIndex { index, reason } => {
                write!(f, "invalid guardian index {index}: {reason}")
            }
            Self::UnexpectedPackage { reason } => write!(f, "unexpected package: {reason}"),
            Self::NotEnoughGuardians {
                qualified,
                threshold,
                culprits,
            } => {
                write!(
                    f,
                    "only {qualified} guardians qualified, {threshold} needed;"
                )?;
                for (who, why) in culprits {
                    write!(f, " {who}: {why};")?;
                }
                Ok(())
            }
            Self::Disqualified { reason } => write!(f, "this guardian was disqualified: {reason}"),
            Self::InconsistentKeyShare => {
                f.write_str("the key share does not match the public commitments")
            }
            Self::Decode(e) => write!(f, "{e}"),
            Self::OutcomeMismatch => {
                f.write_str("the outcome is not the one adjudication of the transcript finds")
            }
        }
    }
}

impl std::error::Error for CeremonyError {}

impl From<DecodeError> for CeremonyError {
    fn from(e: DecodeError) -> Self {
        Self::Decode(e)
    }
}
