//! Homomorphic tallies and their threshold decryption.
//!
//! # Construction
//! [`crate::election::board::tally`] adds up, option by option, the ciphertexts of the ballots
//! a closed board counts, re-verifying their range proofs, and yields an [`EncryptedTally`]:
//! `(A_k, B_k) = Σ (α, β)` over the counted ballots, with the number of ballots and each
//! option's bound `R_k` (so each count lies in `0..=ballots·R_k`), bound to the election and to
//! the board's head. An `EncryptedTally` has no other constructor: a guardian is never asked
//! to decrypt a ciphertext it did not see recomputed from the published board (the
//! decryption-oracle lesson of Helios and Swiss Post).
//!
//! Guardian `j` (key share `x_j`, public `X_j`) publishes, per option, `M_{j,k} = x_j·A_k` with a
//! Chaum–Pedersen proof that `log_G X_j = log_{A_k} M_{j,k}`, bound to the ceremony, the tally's
//! digest, its index and the option. Any `t` valid shares `S` combine with Lagrange
//! coefficients at 0,
//!
//! ```text
//! λ_j = Π_{m∈S, m≠j} m / (m - j),      M_k = Σ_{j∈S} λ_j·M_{j,k} = x·A_k,      m_k·G = B_k - M_k
//! ```
//!
//! and `m_k` is found by a bounded discrete logarithm. Missing guardians need no protocol: the
//! combiner uses whichever `t` valid shares it has, and names the invalid ones.
//!
//! There is no way to a tally of chosen ciphertexts: the only constructor of an
//! [`EncryptedTally`] is [`crate::election::board::tally`] of a closed board.
//!
//! ```compile_fail
//! // The accumulator that sums ciphertexts is not public (a "tally" of one voter's ballot and
//! // an encryption of 0 would decrypt that voter's vote).
//! let _ = evote::decryption::TallyAccumulator::new;
//! ```

use std::collections::BTreeMap;

use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::VartimeMultiscalarMul;
use merlin::Transcript;
use rand_core::{CryptoRng, RngCore};

use crate::ceremony::{
    CeremonyOutcome, GuardianIndex, GuardianKeyShare, CEREMONY_VERSION, MAX_GUARDIANS,
};
use crate::dlog::DlogTable;
use crate::errors::{DecodeError, DlogError, ProofError};
use crate::group::{GroupElement, Reader};
use crate::proofs::{BatchVerifier, ChaumPedersenProof, SchnorrProof};
pub use crate::tally::EncryptedTally;
#[cfg(test)]
use crate::tally::{BoardBinding, TallyAccumulator};
use crate::transcript::labels;

/// Why a tally could not be built or decrypted.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecryptionError {
    /// A ballot's shape does not fit the tally (number of options or proofs).
    BallotShape {
        /// What is wrong.
        reason: &'static str,
    },
    /// A ballot's range proof for an option does not verify; the ballot was not counted.
    InvalidBallotProof {
        /// The option whose proof failed.
        option: usize,
        /// The proof error.
        error: ProofError,
    },
    /// The guardian refuses this tally.
    TallyRefused {
        /// Why.
        reason: &'static str,
    },
    /// Fewer than `t` valid shares: the tally cannot be decrypted (yet).
    NotEnoughShares {
        /// Guardians with valid shares.
        valid: Vec<GuardianIndex>,
        /// The threshold.
        needed: u32,
        /// Guardians blamed for shares they signed, and why.
        invalid: Vec<(GuardianIndex, ShareFault)>,
        /// Packages set aside without blame: the guardian each names, and why.
        discarded: Vec<(GuardianIndex, ShareFault)>,
        /// Qualified guardians that sent nothing.
        missing: Vec<GuardianIndex>,
    },
    /// A decrypted count is outside its bound: an integrity alarm, not a reason to search on.
    Dlog {
        /// The option.
        option: usize,
        /// The error.
        error: DlogError,
    },
}

impl core::fmt::Display for DecryptionError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::BallotShape { reason } => write!(f, "ballot does not fit the tally: {reason}"),
            Self::InvalidBallotProof { option, error } => {
                write!(f, "ballot not counted: option {option}: {error}")
            }
            Self::TallyRefused { reason } => write!(f, "tally refused: {reason}"),
            Self::NotEnoughShares {
                valid,
                needed,
                invalid,
                discarded,
                missing,
            } => {
                write!(
                    f,
                    "{} valid decryption shares, {needed} needed",
                    valid.len()
                )?;
                for (who, why) in invalid.iter().chain(discarded) {
                    write!(f, "; {who}: {why}")?;
                }
                if !missing.is_empty() {
                    write!(f, "; missing: {missing:?}")?;
                }
                Ok(())
            }
            Self::Dlog { option, error } => write!(f, "option {option}: {error}"),
        }
    }
}

impl std::error::Error for DecryptionError {}

fn share_transcript(
    context: &[u8; 64],
    tally: &EncryptedTally,
    guardian: GuardianIndex,
    option: usize,
) -> Transcript {
    let mut t = Transcript::new(labels::DECRYPTION);
    t.append_message(labels::CEREMONY_CONTEXT, context);
    t.append_message(labels::ELECTION, &tally.election);
    t.append_message(labels::BOARD_HEAD, &tally.board_head);
    t.append_u64(labels::COUNTED_BALLOTS, tally.ballots);
    t.append_message(labels::TALLY_DIGEST, &tally.digest);
    t.append_u64(labels::GUARDIAN, u64::from(guardian.get()));
    t.append_u64(labels::OPTION, option as u64);
    t
}

/// The transcript of a share package's signature: the package (everything before the
/// signature) under the guardian's key share `X_j`, bound to the ceremony.
fn signature_transcript(context: &[u8; 64], package: &[u8]) -> Transcript {
    let mut t = Transcript::new(labels::DECRYPTION);
    t.append_message(labels::CEREMONY_CONTEXT, context);
    t.append_message(labels::SHARE_PACKAGE, package);
    t
}

/// A guardian's decryption shares of a tally, one per option, each with its proof, the whole
/// package signed under the guardian's public key share `X_j` (a Schnorr signature: a proof of
/// knowledge of `x_j` bound to the package bytes).
///
/// It is a *candidate*: whatever arrives over a network or sits in a record. Only
/// [`verify_shares`] turns candidates into [`VerifiedShare`]s, and only those are combined.
///
/// # Layout
/// version, kind 17, guardian (u32), tally digest (64 bytes), option count (u32), then per
/// option the share `M` (32 bytes) and its Chaum–Pedersen proof (96 bytes), then the signature
/// `R ‖ s` (64 bytes) over all the bytes before it: `138 + 128·options` bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CandidateShare {
    guardian: GuardianIndex,
    digest: [u8; 64],
    shares: Vec<GroupElement>,
    proofs: Vec<ChaumPedersenProof>,
    signature: SchnorrProof,
}

/// A decryption share whose signature, tally and every proof have been checked against one
/// tally and one ceremony. Made only by [`verify_shares`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedShare {
    guardian: GuardianIndex,
    digest: [u8; 64],
    shares: Vec<GroupElement>,
}

impl VerifiedShare {
    /// Which guardian made it.
    pub fn guardian(&self) -> GuardianIndex {
        self.guardian
    }

    /// The per-option shares `M_{j,k}`.
    pub fn shares(&self) -> &[GroupElement] {
        &self.shares
    }
}

/// The package kind of a signed decryption share (kind 16, the unsigned package of protocol
/// `evote-proofs/1` records before shares were signed, is refused).
const KIND_DECRYPTION_SHARE: u8 = 17;

/// The smallest tally a guardian decrypts by default: decrypting one ballot would reveal a vote.
pub const DEFAULT_MIN_BALLOTS: u64 = 2;

impl GuardianKeyShare {
    /// Decrypts its share of `tally`, proving each option's share, and signs the package.
    ///
    /// `tally` must be what this guardian recomputed itself with
    /// [`crate::election::board::tally`] from the board it was given (the only way to an
    /// [`EncryptedTally`]), and `published_head` the head of the closed board as published on a
    /// channel the ballot box does not control (docs/ceremony.md, "Only the closed board"). The
    /// guardian refuses:
    /// - a tally whose board head is not `published_head` (a board the operator made up, with
    ///   one voter's ballot and a ballot whose content it knows);
    /// - a second, different tally once it has decrypted one (retrying the same is fine);
    /// - a tally under another key than `outcome`'s, or of another ceremony;
    /// - a tally of fewer than `min_ballots` ballots.
    ///
    /// # Errors
    /// [`DecryptionError::TallyRefused`].
    pub fn decrypt_tally<R: RngCore + CryptoRng>(
        &mut self,
        outcome: &CeremonyOutcome,
        tally: &EncryptedTally,
        published_head: &[u8; 64],
        min_ballots: u64,
        rng: &mut R,
    ) -> Result<CandidateShare, DecryptionError> {
        if outcome.params() != &self.params
            || outcome.key_share(self.index) != Some(self.pair.public())
        {
            return Err(DecryptionError::TallyRefused {
                reason: "the outcome is not this guardian's ceremony",
            });
        }
        if tally.public != *outcome.joint_key() {
            return Err(DecryptionError::TallyRefused {
                reason: "the tally is not under this ceremony's election key",
            });
        }
        if tally.board_head != *published_head {
            return Err(DecryptionError::TallyRefused {
                reason: "the tally is not of the closed board whose head was published",
            });
        }
        if self.decrypted.is_some_and(|done| done != tally.digest) {
            return Err(DecryptionError::TallyRefused {
                reason: "this guardian has already decrypted another tally of this election",
            });
        }
        if tally.ballots < min_ballots.max(1) {
            return Err(DecryptionError::TallyRefused {
                reason: "too few ballots: decrypting would reveal individual votes",
            });
        }
        let pair = &self.pair;
        let context = self.params.context_hash();
        let bases: Vec<GroupElement> = tally
            .sums
            .iter()
            .map(|sum| GroupElement::from_point(*sum.alpha()))
            .collect();
        if bases.iter().any(GroupElement::is_identity) {
            return Err(DecryptionError::TallyRefused {
                reason: "a tally ciphertext has an identity alpha",
            });
        }
        let (shares, proofs): (Vec<GroupElement>, Vec<ChaumPedersenProof>) =
            ChaumPedersenProof::prove_images(
                pair,
                &bases,
                |k| share_transcript(&context, tally, self.index, k),
                rng,
            )
            .map_err(|_| DecryptionError::TallyRefused {
                reason: "a decryption share is the identity",
            })?
            .into_iter()
            .unzip();
        self.decrypted = Some(tally.digest);
        let package = unsigned_package(self.index, &tally.digest, &shares, &proofs);
        let signature =
            SchnorrProof::prove(&mut signature_transcript(&context, &package), pair, rng);
        Ok(CandidateShare {
            guardian: self.index,
            digest: tally.digest,
            shares,
            proofs,
            signature,
        })
    }
}

/// Everything of a share package before its signature.
fn unsigned_package(
    guardian: GuardianIndex,
    digest: &[u8; 64],
    shares: &[GroupElement],
    proofs: &[ChaumPedersenProof],
) -> Vec<u8> {
    let mut out = Vec::with_capacity(CandidateShare::FIXED_BYTES + 128 * shares.len());
    out.push(CEREMONY_VERSION);
    out.push(KIND_DECRYPTION_SHARE);
    out.extend_from_slice(&guardian.get().to_le_bytes());
    out.extend_from_slice(digest);
    out.extend_from_slice(&(shares.len() as u32).to_le_bytes());
    for (share, proof) in shares.iter().zip(proofs) {
        out.extend_from_slice(share.as_bytes());
        out.extend_from_slice(&proof.to_bytes());
    }
    out
}

impl CandidateShare {
    /// The length of a package without options: header, digest, count and signature.
    pub const FIXED_BYTES: usize = 138;

    /// Which guardian it claims to come from (not yet checked).
    pub fn guardian(&self) -> GuardianIndex {
        self.guardian
    }

    /// The tally digest it claims to decrypt.
    pub fn tally_digest(&self) -> &[u8; 64] {
        &self.digest
    }

    /// The per-option shares `M_{j,k}` (not yet checked).
    pub fn shares(&self) -> &[GroupElement] {
        &self.shares
    }

    /// The canonical encoding.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = unsigned_package(self.guardian, &self.digest, &self.shares, &self.proofs);
        out.extend_from_slice(&self.signature.to_bytes());
        out
    }

    /// The length of a share package for `options` options: `138 + 128·options`.
    pub const fn encoded_len(options: u64) -> u64 {
        138 + 128 * options
    }

    /// Decodes a share package.
    ///
    /// # Errors
    /// [`DecodeError`] for anything but a canonical encoding.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        const WHAT: &str = "decryption share";
        const EXPECTED: &str = "138 + 128·options";
        let mut reader = Reader::new(bytes, WHAT, EXPECTED);
        let version = reader.u8()?;
        if version != CEREMONY_VERSION {
            return Err(DecodeError::UnsupportedVersion {
                what: WHAT,
                version,
            });
        }
        if reader.u8()? != KIND_DECRYPTION_SHARE {
            return Err(DecodeError::Malformed {
                what: WHAT,
                reason: "wrong package kind",
            });
        }
        let index = reader.u32()?;
        if index > MAX_GUARDIANS {
            return Err(DecodeError::TooLarge {
                what: WHAT,
                max: u64::from(MAX_GUARDIANS),
                actual: u64::from(index),
            });
        }
        let guardian = GuardianIndex::new(index).map_err(|_| DecodeError::Malformed {
            what: WHAT,
            reason: "guardian index 0",
        })?;
        let digest = reader.array::<64>()?;
        let count = reader.u32()? as usize;
        if reader.remaining() != count.saturating_mul(128).saturating_add(64) {
            return Err(DecodeError::Length {
                what: WHAT,
                expected: EXPECTED,
                actual: bytes.len(),
            });
        }
        let mut shares = Vec::with_capacity(count);
        let mut proofs = Vec::with_capacity(count);
        for _ in 0..count {
            shares.push(reader.nonidentity_point("decryption share M")?);
            proofs.push(ChaumPedersenProof::from_bytes(&reader.array::<96>()?)?);
        }
        let signature = SchnorrProof::from_bytes(&reader.array::<64>()?)?;
        reader.finish()?;
        Ok(Self {
            guardian,
            digest,
            shares,
            proofs,
            signature,
        })
    }
}

/// Why a candidate share is not used.
///
/// The first three are not the claimed guardian's doing and are only *discarded*: anyone can
/// put a package in front of the combiner that names a guardian, alter a copy of a real one, or
/// replay a guardian's share of another tally. The rest are content the guardian provably sent
/// (its signature under `X_j` covers every byte) and are *blamed* on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum ShareFault {
    /// Discarded: the named guardian is not a qualified guardian of the ceremony.
    NotQualified,
    /// Discarded: the signature does not verify under the named guardian's key share, so
    /// nothing in the package is attributable to the guardian.
    Unauthenticated,
    /// Discarded: an authentic share of another tally (a replay).
    OtherTally,
    /// Blamed: a signed share with another number of options than the tally.
    WrongOptionCount,
    /// Blamed: a signed share whose proof for this option does not verify.
    InvalidProof {
        /// The option.
        option: u32,
    },
}

impl ShareFault {
    /// Whether the fault is attributable to the guardian the package names.
    pub fn is_blamed(&self) -> bool {
        matches!(self, Self::WrongOptionCount | Self::InvalidProof { .. })
    }
}

impl core::fmt::Display for ShareFault {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::NotQualified => write!(f, "not a qualified guardian of the ceremony (discarded)"),
            Self::Unauthenticated => write!(
                f,
                "the signature does not verify under the guardian's key share (discarded, not blamed)"
            ),
            Self::OtherTally => write!(f, "a share of another tally (discarded)"),
            Self::WrongOptionCount => write!(f, "signed share with the wrong number of options"),
            Self::InvalidProof { option } => {
                write!(f, "signed share whose decryption proof for option {option} does not verify")
            }
        }
    }
}

/// What [`verify_shares`] found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SharesVerdict {
    /// One verified share per guardian, in guardian order.
    pub verified: Vec<VerifiedShare>,
    /// Guardians blamed for content they signed, and why (a blamed guardian contributes no
    /// share).
    pub blamed: Vec<(GuardianIndex, ShareFault)>,
    /// Packages set aside without blame: the guardian each names, and why.
    pub discarded: Vec<(GuardianIndex, ShareFault)>,
}

/// Checks candidate shares against `tally`: the named guardian is qualified, the signature
/// holds under its key share (all signatures in one batch), the share is of this tally, it has
/// one share per option and every Chaum–Pedersen proof holds (all in a second batch).
///
/// Exact or re-signed copies from one guardian are harmless (every valid share of a guardian
/// has the same `M_{j,k}`, by the soundness of its proofs): the first valid one is kept.
pub fn verify_shares<R: RngCore + CryptoRng>(
    outcome: &CeremonyOutcome,
    tally: &EncryptedTally,
    candidates: &[CandidateShare],
    rng: &mut R,
) -> SharesVerdict {
    let context = outcome.params().context_hash();
    let mut discarded = Vec::new();
    let mut blamed: BTreeMap<GuardianIndex, ShareFault> = BTreeMap::new();

    // Signatures first, in one batch: an unauthenticated package names nobody.
    let mut signatures = BatchVerifier::new(&mut *rng);
    let mut signed: Vec<&CandidateShare> = Vec::new();
    for share in candidates {
        match outcome.key_share(share.guardian) {
            None => discarded.push((share.guardian, ShareFault::NotQualified)),
            Some(public) => {
                let package =
                    unsigned_package(share.guardian, &share.digest, &share.shares, &share.proofs);
                signatures.queue_schnorr(
                    &mut signature_transcript(&context, &package),
                    &share.signature,
                    public,
                );
                signed.push(share);
            }
        }
    }
    let forged: Vec<usize> = match signatures.verify() {
        Ok(()) => Vec::new(),
        Err(failed) => failed.culprits().collect(),
    };
    let mut authentic: Vec<&CandidateShare> = Vec::new();
    for (position, share) in signed.into_iter().enumerate() {
        if forged.contains(&position) {
            discarded.push((share.guardian, ShareFault::Unauthenticated));
        } else if share.digest != tally.digest {
            discarded.push((share.guardian, ShareFault::OtherTally));
        } else if share.shares.len() != tally.sums.len() || share.proofs.len() != tally.sums.len() {
            blamed
                .entry(share.guardian)
                .or_insert(ShareFault::WrongOptionCount);
        } else {
            authentic.push(share);
        }
    }

    // Every proof of every authentic share, in one batch.
    let bases: Vec<GroupElement> = tally
        .sums
        .iter()
        .map(|s| GroupElement::from_point(*s.alpha()))
        .collect();
    let mut batch = BatchVerifier::new(&mut *rng);
    let mut owners: Vec<(usize, u32)> = Vec::new();
    for (c, share) in authentic.iter().enumerate() {
        let Some(public) = outcome.key_share(share.guardian) else {
            continue;
        };
        for (k, ((m, proof), base)) in share
            .shares
            .iter()
            .zip(&share.proofs)
            .zip(&bases)
            .enumerate()
        {
            let queued = batch.queue_chaum_pedersen(
                &mut share_transcript(&context, tally, share.guardian, k),
                proof,
                public,
                base,
                m,
            );
            // Queue positions must line up with `owners`: record only what was queued. A tally
            // with an identity alpha is refused by the guardian, so such a proof is invalid.
            match queued {
                Ok(_) => owners.push((c, k as u32)),
                Err(_) => {
                    blamed
                        .entry(share.guardian)
                        .or_insert(ShareFault::InvalidProof { option: k as u32 });
                }
            }
        }
    }
    if let Err(failed) = batch.verify() {
        for position in failed.culprits() {
            if let Some((c, k)) = owners.get(position) {
                if let Some(share) = authentic.get(*c) {
                    blamed
                        .entry(share.guardian)
                        .or_insert(ShareFault::InvalidProof { option: *k });
                }
            }
        }
    }
    let mut verified: BTreeMap<GuardianIndex, VerifiedShare> = BTreeMap::new();
    for share in authentic {
        if blamed.contains_key(&share.guardian) {
            continue;
        }
        verified
            .entry(share.guardian)
            .or_insert_with(|| VerifiedShare {
                guardian: share.guardian,
                digest: share.digest,
                shares: share.shares.clone(),
            });
    }
    discarded.sort();
    discarded.dedup();
    SharesVerdict {
        verified: verified.into_values().collect(),
        blamed: blamed.into_iter().collect(),
        discarded,
    }
}

/// The decrypted tally.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TallyResult {
    /// The count of each option.
    pub counts: Vec<u64>,
    /// The guardians whose shares were combined.
    pub combined: Vec<GuardianIndex>,
    /// Guardians blamed for shares they signed, and why.
    pub invalid: Vec<(GuardianIndex, ShareFault)>,
    /// Packages set aside without blame (unauthenticated, replayed, unknown guardian).
    pub discarded: Vec<(GuardianIndex, ShareFault)>,
}

/// Lagrange coefficients at 0 for each `j` of `set`: `λ_j = Π_{m≠j} m / (m - j)`, with one
/// (Montgomery) batch inversion for all denominators instead of one inversion each.
fn lagrange_at_zero(set: &[GuardianIndex]) -> Vec<Scalar> {
    let (nums, mut dens): (Vec<Scalar>, Vec<Scalar>) = set
        .iter()
        .map(|j| {
            let xj = j.to_scalar();
            set.iter()
                .filter(|m| *m != j)
                .fold((Scalar::ONE, Scalar::ONE), |(n, d), m| {
                    let xm = m.to_scalar();
                    (n * xm, d * (xm - xj))
                })
        })
        .unzip();
    // Indices are distinct and nonzero, so no denominator is 0.
    Scalar::invert_batch_alloc(&mut dens);
    nums.iter().zip(&dens).map(|(n, d)| n * d).collect()
}

/// Verifies candidate shares ([`verify_shares`]) and combines any `t` of the verified ones
/// ([`combine_verified`]), naming the blamed and the discarded.
///
/// # Errors
/// [`DecryptionError::NotEnoughShares`] with fewer than `t` verified shares (naming the blamed,
/// the discarded and the missing guardians); [`DecryptionError::Dlog`] if a count is out of
/// bounds.
pub fn combine<R: RngCore + CryptoRng>(
    outcome: &CeremonyOutcome,
    tally: &EncryptedTally,
    shares: &[CandidateShare],
    rng: &mut R,
) -> Result<TallyResult, DecryptionError> {
    let verdict = verify_shares(outcome, tally, shares, rng);
    let needed = outcome.params().threshold();
    if (verdict.verified.len() as u64) < u64::from(needed) {
        let missing = outcome
            .qualified()
            .iter()
            .filter(|g| !shares.iter().any(|s| s.guardian == **g))
            .copied()
            .collect();
        return Err(DecryptionError::NotEnoughShares {
            valid: verdict.verified.iter().map(|s| s.guardian).collect(),
            needed,
            invalid: verdict.blamed,
            discarded: verdict.discarded,
            missing,
        });
    }
    let mut result = combine_verified(outcome, tally, &verdict.verified)?;
    result.invalid = verdict.blamed;
    result.discarded = verdict.discarded;
    Ok(result)
}

/// Combines verified shares of `tally`: the first `t` by guardian index, with Lagrange
/// coefficients at 0, and decodes every option's count within its bound.
///
/// # Errors
/// [`DecryptionError::TallyRefused`] for shares of another tally or two from one guardian;
/// [`DecryptionError::NotEnoughShares`] with fewer than `t`; [`DecryptionError::Dlog`] if a
/// count is out of bounds.
pub fn combine_verified(
    outcome: &CeremonyOutcome,
    tally: &EncryptedTally,
    shares: &[VerifiedShare],
) -> Result<TallyResult, DecryptionError> {
    let mut by_guardian: BTreeMap<GuardianIndex, &VerifiedShare> = BTreeMap::new();
    for share in shares {
        if share.digest != tally.digest || share.shares.len() != tally.sums.len() {
            return Err(DecryptionError::TallyRefused {
                reason: "a verified share of another tally",
            });
        }
        if by_guardian.insert(share.guardian, share).is_some() {
            return Err(DecryptionError::TallyRefused {
                reason: "two shares from one guardian",
            });
        }
    }
    let needed = outcome.params().threshold();
    if (by_guardian.len() as u64) < u64::from(needed) {
        return Err(DecryptionError::NotEnoughShares {
            valid: by_guardian.keys().copied().collect(),
            needed,
            invalid: Vec::new(),
            discarded: Vec::new(),
            missing: outcome
                .qualified()
                .iter()
                .filter(|g| !by_guardian.contains_key(g))
                .copied()
                .collect(),
        });
    }
    let chosen: Vec<GuardianIndex> = by_guardian.keys().copied().take(needed as usize).collect();
    let lambdas = lagrange_at_zero(&chosen);
    let max_bound = tally.count_bounds().max().unwrap_or(0);
    let table =
        DlogTable::new(max_bound).map_err(|error| DecryptionError::Dlog { option: 0, error })?;
    let mut counts = Vec::with_capacity(tally.sums.len());
    for (k, (sum, bound)) in tally.sums.iter().zip(tally.count_bounds()).enumerate() {
        let points: Vec<RistrettoPoint> = chosen
            .iter()
            .filter_map(|j| {
                by_guardian
                    .get(j)
                    .and_then(|s| s.shares.get(k))
                    .map(|m| m.point)
            })
            .collect();
        if points.len() != chosen.len() {
            return Err(DecryptionError::TallyRefused {
                reason: "internal: a chosen share is missing an option",
            });
        }
        // Public data: variable time is fine.
        let combined = RistrettoPoint::vartime_multiscalar_mul(&lambdas, &points);
        let point = sum.beta() - combined;
        let count = table
            .vartime_solve(&point)
            .map_err(|error| DecryptionError::Dlog { option: k, error })?;
        if count > bound {
            return Err(DecryptionError::Dlog {
                option: k,
                error: DlogError::NotFound { bound },
            });
        }
        counts.push(count);
    }
    Ok(TallyResult {
        counts,
        combined: chosen,
        invalid: Vec::new(),
        discarded: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use crate::ceremony::CeremonyParams;
    use crate::ciphertext::Ciphertext;
    use crate::keys::EncryptionKey;
    use crate::keys::{KeyPair, PublicKey};
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    /// A tally over `sums` (as if of 2 ballots) of the board `(election, head)`.
    fn tally_of(public: &PublicKey, sums: &[Ciphertext], election: u8, head: u8) -> EncryptedTally {
        let mut acc = TallyAccumulator::new(public, &vec![1; sums.len()]);
        acc.sums = sums.to_vec();
        acc.ballots = 2;
        acc.finish(BoardBinding {
            election: [election; 64],
            board_head: [head; 64],
        })
    }

    /// Every element of a decryption share's statement is bound: ceremony context, election,
    /// board head, tally, guardian index, option index, base (the tally's alpha), key share and
    /// the share itself.
    #[test]
    fn share_proofs_are_bound_to_every_statement_element() {
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let params = CeremonyParams::new([1; 32], 1, 2).unwrap();
        let pair = KeyPair::generate(&mut rng);
        let key = EncryptionKey::new(pair.public());
        let sums = [
            Ciphertext::encrypt(&key, 3, &mut rng),
            Ciphertext::encrypt(&key, 4, &mut rng),
        ];
        let g1 = GuardianIndex::new(1).unwrap();
        let g2 = GuardianIndex::new(2).unwrap();
        let context = params.context_hash();
        let tally = tally_of(pair.public(), &sums, 1, 2);
        let base = GroupElement::from_point(*sums[0].alpha());
        let share = GroupElement::from_point(sums[0].alpha() * pair.secret().expose_scalar());
        let proof = ChaumPedersenProof::prove(
            &mut share_transcript(&context, &tally, g1, 0),
            &pair,
            &base,
            &share,
            &mut rng,
        )
        .unwrap();
        let ok = |context: &[u8; 64],
                  tally: &EncryptedTally,
                  g,
                  k,
                  public: &PublicKey,
                  base: &GroupElement,
                  share: &GroupElement| {
            proof
                .verify(
                    &mut share_transcript(context, tally, g, k),
                    public,
                    base,
                    share,
                )
                .is_ok()
        };
        let pk = pair.public();
        assert!(ok(&context, &tally, g1, 0, pk, &base, &share));
        let other_context = CeremonyParams::new([2; 32], 1, 2).unwrap().context_hash();
        assert!(
            !ok(&other_context, &tally, g1, 0, pk, &base, &share),
            "ceremony"
        );
        let other_election = tally_of(pk, &sums, 9, 2);
        assert!(
            !ok(&context, &other_election, g1, 0, pk, &base, &share),
            "election"
        );
        let other_board = tally_of(pk, &sums, 1, 9);
        assert!(
            !ok(&context, &other_board, g1, 0, pk, &base, &share),
            "board head"
        );
        let mut more = tally.clone();
        more.ballots = 3;
        assert!(
            !ok(&context, &more, g1, 0, pk, &base, &share),
            "counted ballots"
        );
        let mut other_digest = tally.clone();
        other_digest.digest[0] ^= 1;
        assert!(
            !ok(&context, &other_digest, g1, 0, pk, &base, &share),
            "tally digest"
        );
        assert!(!ok(&context, &tally, g2, 0, pk, &base, &share), "guardian");
        assert!(!ok(&context, &tally, g1, 1, pk, &base, &share), "option");
        let other_base = GroupElement::from_point(*sums[1].alpha());
        assert!(
            !ok(&context, &tally, g1, 0, pk, &other_base, &share),
            "ciphertext"
        );
        let other_key = KeyPair::generate(&mut rng);
        assert!(
            !ok(&context, &tally, g1, 0, other_key.public(), &base, &share),
            "key share"
        );
        let off = GroupElement::from_point(share.point + GroupElement::basepoint().point);
        assert!(!ok(&context, &tally, g1, 0, pk, &base, &off), "share");
    }

    #[test]
    fn lagrange_coefficients_interpolate_at_zero() {
        // f(x) = 5 + 7x + 11x^2 through x = 2, 4, 7 gives f(0) = 5.
        let f = |x: u64| Scalar::from(5u64 + 7 * x + 11 * x * x);
        let set: Vec<GuardianIndex> = [2, 4, 7]
            .iter()
            .map(|i| GuardianIndex::new(*i).unwrap())
            .collect();
        let at_zero: Scalar = set
            .iter()
            .zip(lagrange_at_zero(&set))
            .map(|(j, l)| l * f(u64::from(j.get())))
            .sum();
        assert_eq!(at_zero, Scalar::from(5u64));
        // Each coefficient against its definition with its own inversion.
        for (j, l) in set.iter().zip(lagrange_at_zero(&set)) {
            let xj = j.to_scalar();
            let (n, d) = set
                .iter()
                .filter(|m| *m != j)
                .fold((Scalar::ONE, Scalar::ONE), |(n, d), m| {
                    (n * m.to_scalar(), d * (m.to_scalar() - xj))
                });
            assert_eq!(l, n * d.invert());
        }
    }
}
