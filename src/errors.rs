//! Error types.
//!
//! Errors are small and layered: [`DecodeError`] says why bytes were refused, [`ProofError`]
//! why a proof was refused or could not be made, [`BatchError`] which queued proofs failed,
//! and [`DlogError`] why a public tally could not be decoded. Every error names the object it
//! concerns, so that a verifier report can say *what* is wrong, not only *that* something is.

use core::fmt;

/// Why an encoding was refused.
///
/// Every decoder in this crate is strict: an input is accepted only if it is the one canonical
/// encoding of a valid value, so that every accepted input re-encodes to the same bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeError {
    /// The input has the wrong length for the object.
    Length {
        /// The object being decoded.
        what: &'static str,
        /// A description of the admissible lengths.
        expected: &'static str,
        /// The length that was given.
        actual: usize,
    },
    /// 32 bytes that are not the canonical ristretto255 encoding of any group element.
    InvalidPoint {
        /// The object (or part of it) that held the point.
        what: &'static str,
    },
    /// The identity element where it cannot legitimately occur (keys, `alpha`, commitments).
    IdentityPoint {
        /// The object (or part of it) that held the point.
        what: &'static str,
    },
    /// 32 bytes that are not a canonical scalar (the integer is not below the group order ℓ).
    NonCanonicalScalar {
        /// The object (or part of it) that held the scalar.
        what: &'static str,
    },
    /// The zero scalar where it cannot legitimately occur (secret keys).
    ZeroScalar {
        /// The object that held the scalar.
        what: &'static str,
    },
    /// A version byte this crate does not read.
    UnsupportedVersion {
        /// The object being decoded.
        what: &'static str,
        /// The version found.
        version: u8,
    },
    /// A structurally invalid field (a wrong kind byte, a zero index, ...).
    Malformed {
        /// The object being decoded.
        what: &'static str,
        /// What is wrong.
        reason: &'static str,
    },
    /// A count or size field outside the limits this crate accepts.
    TooLarge {
        /// The object being decoded.
        what: &'static str,
        /// The largest admissible value.
        max: u64,
        /// The value found.
        actual: u64,
    },
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Length {
                what,
                expected,
                actual,
            } => write!(f, "{what}: expected {expected} bytes, got {actual}"),
            Self::InvalidPoint { what } => {
                write!(f, "{what}: not a canonical ristretto255 point encoding")
            }
            Self::IdentityPoint { what } => write!(f, "{what}: the identity point is not allowed"),
            Self::NonCanonicalScalar { what } => {
                write!(
                    f,
                    "{what}: scalar is not canonical (not below the group order)"
                )
            }
            Self::ZeroScalar { what } => write!(f, "{what}: the zero scalar is not allowed"),
            Self::UnsupportedVersion { what, version } => {
                write!(f, "{what}: unsupported version {version}")
            }
            Self::Malformed { what, reason } => write!(f, "{what}: {reason}"),
            Self::TooLarge { what, max, actual } => {
                write!(f, "{what}: {actual} exceeds the limit of {max}")
            }
        }
    }
}

impl std::error::Error for DecodeError {}

/// The kinds of proof this crate makes and checks; used to name failures.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ProofKind {
    /// Schnorr proof of knowledge of a discrete logarithm.
    Schnorr,
    /// Chaum–Pedersen proof of equality of discrete logarithms.
    ChaumPedersen,
    /// Disjunctive proof that a ciphertext encrypts a value in a range.
    Range,
    /// Proof that the sum of a contest's ciphertexts encrypts a value in `min..=max`.
    SelectionLimit,
}

impl fmt::Display for ProofKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Schnorr => "Schnorr proof of knowledge",
            Self::ChaumPedersen => "Chaum-Pedersen proof",
            Self::Range => "range proof",
            Self::SelectionLimit => "selection-limit proof",
        })
    }
}

/// Why a proof could not be made or was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProofError {
    /// The verification equations do not hold: the proof is not valid for this statement
    /// (wrong key, ciphertext, range, context or label, or a forged proof).
    Invalid {
        /// Which proof failed.
        kind: ProofKind,
    },
    /// The proof's shape does not fit the statement (for example its number of branches is not
    /// the size of the statement's range).
    ShapeMismatch {
        /// Which proof.
        kind: ProofKind,
        /// The number of branches the statement calls for.
        expected: u64,
        /// The number of branches in the proof.
        actual: u64,
    },
    /// The statement itself is not admissible (for example `min > max`, an empty contest, or a
    /// range with more branches than [`crate::proofs::MAX_RANGE_BRANCHES`]).
    InvalidStatement {
        /// Which proof.
        kind: ProofKind,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The prover was asked to prove something false: the value is outside the range.
    ValueOutOfRange {
        /// Which proof.
        kind: ProofKind,
    },
    /// The proof's bytes were refused.
    Decode(DecodeError),
}

impl fmt::Display for ProofError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Invalid { kind } => write!(f, "{kind} does not verify"),
            Self::ShapeMismatch {
                kind,
                expected,
                actual,
            } => write!(
                f,
                "{kind}: statement needs {expected} branches, proof has {actual}"
            ),
            Self::InvalidStatement { kind, reason } => write!(f, "{kind}: {reason}"),
            Self::ValueOutOfRange { kind } => {
                write!(f, "{kind}: the value is outside the admissible range")
            }
            Self::Decode(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for ProofError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Decode(e) => Some(e),
            _ => None,
        }
    }
}

impl From<DecodeError> for ProofError {
    fn from(e: DecodeError) -> Self {
        Self::Decode(e)
    }
}

/// One proof of a batch that does not verify.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BatchFailure {
    /// The position of the proof in the batch, in the order it was queued (from 0).
    pub index: usize,
    /// What kind of proof it is.
    pub kind: ProofKind,
}

/// A batch of proofs did not verify; `failures` names every proof that is invalid on its own.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BatchError {
    /// The invalid proofs, in queue order.
    pub failures: Vec<BatchFailure>,
}

impl BatchError {
    /// The queue positions of the proofs that failed.
    pub fn culprits(&self) -> impl Iterator<Item = usize> + '_ {
        self.failures.iter().map(|f| f.index)
    }
}

impl fmt::Display for BatchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} proof(s) in the batch do not verify:",
            self.failures.len()
        )?;
        for failure in self.failures.iter().take(10) {
            write!(f, " #{} ({})", failure.index, failure.kind)?;
        }
        if self.failures.len() > 10 {
            write!(f, " ...")?;
        }
        Ok(())
    }
}

impl std::error::Error for BatchError {}

/// Why a public tally point could not be decoded to an integer.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DlogError {
    /// The point is not `m·G` for any `m` in `0..=bound`. For a tally this is an integrity
    /// alarm (an out-of-range ballot or a wrong decryption), not a reason to search further.
    NotFound {
        /// The table's bound.
        bound: u64,
    },
    /// The requested bound is larger than [`crate::dlog::MAX_DLOG_BOUND`].
    BoundTooLarge {
        /// The requested bound.
        bound: u64,
    },
}

impl fmt::Display for DlogError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotFound { bound } => write!(f, "no discrete logarithm in 0..={bound}"),
            Self::BoundTooLarge { bound } => write!(
                f,
                "discrete-log bound {bound} exceeds the supported maximum {}",
                crate::dlog::MAX_DLOG_BOUND
            ),
        }
    }
}

impl std::error::Error for DlogError {}
