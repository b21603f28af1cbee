//! Encrypted ballots: encryption on the voter's device, the Benaloh cast-or-challenge choice,
//! strict decoding, verification into a [`VerifiedBallot`] or a [`VerifiedChallenge`], and
//! trackers.
//!
//! # Construction
//! For contest `c` with options `o` and selections `v_{c,o}`:
//!
//! ```text
//! seed ← 32 random bytes (kept by the device; revealed only if the ballot is challenged)
//! r_{c,o} = SHA-512("evote/ballot-nonce/v1" ‖ H_E ‖ ballot id ‖ LE32(c) ‖ LE32(o) ‖ seed) mod ℓ
//! (α, β)_{c,o} = Enc_K(v_{c,o}; r_{c,o}),  with a range proof for 0..=R_c
//! one selection-limit proof per contest for min_c..=max_c
//! tracker = SHA-512("evote/tracker/v2" ‖ body)       shown to the voter before the choice
//! cast:      σ = Schnorr signature by the credential, transcript "evote/ballot-cast/v2"
//!                 over (H_E, SHA-512("evote/ballot-body/v1" ‖ body))
//! challenge: σ' = Schnorr signature by the credential, transcript "evote/ballot-challenge/v2"
//!                 over (H_E, body hash, seed), published with the seed
//! ```
//!
//! [`PendingBallot::encrypt`] makes the body and its tracker and signs nothing. The voter then
//! chooses once: [`PendingBallot::cast`] signs the cast statement and forgets the seed;
//! [`PendingBallot::challenge`] reveals the seed under the challenge statement. Both consume the
//! pending ballot, so one body is never both. A challenged ballot carries no cast signature, so
//! nobody — a ballot box that saw the seed, an observer of the published challenge — can make it
//! a countable ballot; the two signatures are in separate transcripts, so neither stands for the
//! other.
//!
//! Every proof's transcript starts from `H_E`, the ballot id, the public credential, the contest
//! and the option (see [`crate::transcript::labels`]), so a proof cannot move between elections,
//! ballots, voters, contests or options.
//!
//! # Layout
//! body: `version 2 (1) ‖ kind 64 ‖ ballot id (32) ‖ credential (32) ‖ u32(contests)`, per contest
//! `u32(options)`, per option `ciphertext (64) ‖ u32(len) ‖ range proof`, then
//! `u32(len) ‖ selection-limit proof`.
//! A cast ballot is `body ‖ σ (64)`; a challenged ballot is `body ‖ seed (32) ‖ σ' (64)`. All
//! ballots of one manifest have the same length whatever the choices.

use curve25519_dalek::ristretto::RistrettoPoint;
use merlin::Transcript;
use rand_chacha::ChaCha20Rng;
use rand_core::{CryptoRng, RngCore, SeedableRng};
#[cfg(feature = "parallel")]
use rayon::prelude::*;
use sha2::{Digest, Sha512};
use zeroize::{Zeroize, ZeroizeOnDrop};

use super::context::{ElectionContext, VoterContext};
use super::credentials::VoterCredential;
use crate::ciphertext::{Ciphertext, Opening};
use crate::errors::{DecodeError, ProofError};
use crate::group::{elements_from_halves, Reader};
use crate::keys::PublicKey;
use crate::proofs::range::Committed;
use crate::proofs::{BatchVerifier, RangeProof, SchnorrProof, SelectionLimitProof};

/// The version byte of the ballot encoding.
pub const BALLOT_VERSION: u8 = 2;
const KIND_BALLOT: u8 = 64;
/// Bytes a cast ballot adds to its body: the cast signature.
#[cfg_attr(not(feature = "fs"), allow(dead_code))]
pub(crate) const CAST_TAIL: usize = 64;
/// Bytes a challenged ballot adds to its body: the seed and the challenge signature.
#[cfg_attr(not(feature = "fs"), allow(dead_code))]
pub(crate) const CHALLENGE_TAIL: usize = 32 + 64;

/// One contest of an encrypted ballot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EncryptedContest {
    ciphertexts: Vec<Ciphertext>,
    proofs: Vec<RangeProof>,
    limit: SelectionLimitProof,
}

impl EncryptedContest {
    /// The per-option ciphertexts.
    pub fn ciphertexts(&self) -> &[Ciphertext] {
        &self.ciphertexts
    }
}

/// What cast and challenged ballots share: the id, the credential and the encrypted contests
/// with their proofs. The tracker and the signatures are over its encoding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Body {
    ballot_id: [u8; 32],
    credential: PublicKey,
    contests: Vec<EncryptedContest>,
}

/// A ballot encrypted and proved on the voter's device, before the voter's choice: it shows its
/// tracker, and is then either cast ([`PendingBallot::cast`]) or challenged
/// ([`PendingBallot::challenge`]), never both (each consumes it; it is not `Clone`). It holds
/// the seed of its nonces, zeroized on drop.
pub struct PendingBallot {
    election: [u8; 64],
    body: Body,
    secret: BallotSecret,
}

/// An encrypted ballot, cast: signed by its credential under the cast statement. As a device
/// makes it or a server decodes it, not yet checked: only [`Ballot::verify`] (or the board)
/// turns it into a [`VerifiedBallot`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ballot {
    body: Body,
    signature: SchnorrProof,
}

/// A challenged ballot: the body, the revealed seed and the credential's signature of the
/// challenge. Not yet checked: only [`ChallengedBallot::verify`] (or the board) opens it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChallengedBallot {
    body: Body,
    seed: [u8; 32],
    signature: SchnorrProof,
}

/// A ballot whose structure, credential, signature and every proof were checked against an
/// election context. Only [`Ballot::verify`] and the board make one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedBallot {
    ballot: Ballot,
    tracker: [u8; 64],
}

/// A challenged ballot whose structure, credential, challenge signature and proofs were checked
/// and whose seed opens every ciphertext: the selections the device encrypted, for the voter to
/// compare with what they chose.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedChallenge {
    challenged: ChallengedBallot,
    tracker: [u8; 64],
    selections: Vec<Vec<u64>>,
}

/// The device's secret for one ballot: the seed its nonces derive from. Zeroized on drop.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
struct BallotSecret {
    seed: [u8; 32],
}

impl core::fmt::Debug for PendingBallot {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("PendingBallot")
            .field("tracker", &crate::text::to_hex(&self.tracker()))
            .field("seed", &"<redacted>")
            .finish_non_exhaustive()
    }
}

/// Why a ballot could not be made, decoded or accepted.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum BallotError {
    /// The voter's selections break the manifest's rules.
    InvalidSelection {
        /// The contest's index.
        contest: usize,
        /// What is wrong.
        reason: &'static str,
    },
    /// The ballot's shape does not match the manifest (contests, options, proof sizes).
    Shape {
        /// What is wrong.
        reason: &'static str,
    },
    /// The credential is not on the election's list.
    UnknownCredential,
    /// The credential given to cast or challenge is not the one the ballot was made for.
    WrongCredential,
    /// The signature does not verify.
    InvalidSignature,
    /// A proof does not verify.
    InvalidProof {
        /// The contest's index.
        contest: usize,
        /// The option's index (`None` for the selection-limit proof).
        option: Option<usize>,
        /// The proof error.
        error: ProofError,
    },
    /// A Benaloh reveal does not open the ballot.
    RevealMismatch {
        /// The contest's index.
        contest: usize,
        /// The option's index.
        option: usize,
    },
    /// The ballot's bytes were refused.
    Decode(DecodeError),
}

impl core::fmt::Display for BallotError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::InvalidSelection { contest, reason } => write!(f, "contest {contest}: {reason}"),
            Self::Shape { reason } => write!(f, "ballot shape: {reason}"),
            Self::UnknownCredential => f.write_str("the credential is not on the election's list"),
            Self::WrongCredential => {
                f.write_str("the credential is not the one this ballot was made for")
            }
            Self::InvalidSignature => f.write_str("the ballot signature does not verify"),
            Self::InvalidProof {
                contest,
                option: Some(o),
                error,
            } => {
                write!(f, "contest {contest}, option {o}: {error}")
            }
            Self::InvalidProof {
                contest,
                option: None,
                error,
            } => {
                write!(f, "contest {contest}, selection limits: {error}")
            }
            Self::RevealMismatch { contest, option } => {
                write!(
                    f,
                    "the revealed seed does not open contest {contest}, option {option}"
                )
            }
            Self::Decode(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for BallotError {}

impl From<DecodeError> for BallotError {
    fn from(e: DecodeError) -> Self {
        Self::Decode(e)
    }
}

/// The part of a ballot a batch check names when it fails.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BallotPart {
    /// The credential's signature (of the cast, or of the challenge).
    Signature,
    /// An option's range proof.
    Option {
        /// The contest's index in the manifest.
        contest: usize,
        /// The option's index in its contest.
        option: usize,
    },
    /// A contest's selection-limit proof.
    SelectionLimit {
        /// The contest's index in the manifest.
        contest: usize,
    },
}

impl BallotPart {
    /// The error for this part failing a check of proof kind `kind`.
    fn failure(self, kind: crate::ProofKind) -> BallotError {
        self.error(ProofError::Invalid { kind })
    }

    /// The error naming this part with `error`.
    fn error(self, error: ProofError) -> BallotError {
        match self {
            Self::Signature => BallotError::InvalidSignature,
            Self::Option { contest, option } => BallotError::InvalidProof {
                contest,
                option: Some(option),
                error,
            },
            Self::SelectionLimit { contest } => BallotError::InvalidProof {
                contest,
                option: None,
                error,
            },
        }
    }
}

/// A contest's ciphertexts and proofs while the ballot prover makes them.
#[derive(Default)]
struct ContestParts {
    ciphertexts: Vec<Ciphertext>,
    proofs: Vec<RangeProof>,
    limit: Option<SelectionLimitProof>,
}

/// The error for a proof whose parts the prover lost track of (a bug, not an input).
const INTERNAL: ProofError = ProofError::InvalidStatement {
    kind: crate::ProofKind::SelectionLimit,
    reason: "internal: a proof of the ballot was not completed",
};

/// Encodes the points of every pending proof in one batch and completes the proofs in the
/// order they were begun, filing each result under its contest.
fn finish_pending(
    halves: &mut Vec<RistrettoPoint>,
    pending: &mut Vec<(BallotPart, Transcript, Committed<'_>)>,
    contests: &mut [ContestParts],
) -> Result<(), BallotError> {
    let mut elements = elements_from_halves(halves).into_iter();
    halves.clear();
    for (part, mut transcript, committed) in pending.drain(..) {
        let contest = match part {
            BallotPart::Option { contest, .. } | BallotPart::SelectionLimit { contest } => contest,
            BallotPart::Signature => return Err(part.error(INTERNAL)),
        };
        let Some(parts) = contests.get_mut(contest) else {
            return Err(part.error(INTERNAL));
        };
        if let BallotPart::Option { .. } = part {
            let (ciphertext, proof) = committed
                .finish_range(&mut transcript, &mut elements)
                .map_err(|error| part.error(error))?;
            parts.ciphertexts.push(ciphertext);
            parts.proofs.push(proof);
        } else {
            let limit = committed
                .finish_limit(&mut transcript, &mut elements)
                .map_err(|error| part.error(error))?;
            parts.limit = Some(limit);
        }
    }
    Ok(())
}

/// docs/election.md, *Ballots*: `r_{c,o}`, the 64-byte digest reduced modulo ℓ (wide), with
/// contest and option numbered from 0 as `LE32`.
fn derive_nonce(
    election: &[u8; 64],
    ballot_id: &[u8; 32],
    contest: usize,
    option: usize,
    seed: &[u8; 32],
) -> curve25519_dalek::scalar::Scalar {
    let mut h = Sha512::new();
    h.update(b"evote/ballot-nonce/v1");
    h.update(election);
    h.update(ballot_id);
    h.update((contest as u32).to_le_bytes());
    h.update((option as u32).to_le_bytes());
    h.update(seed);
    let mut wide: [u8; 64] = h.finalize().into();
    let r = curve25519_dalek::scalar::Scalar::from_bytes_mod_order_wide(&wide);
    wide.zeroize();
    r
}

/// Checks a voter's selections against the manifest.
fn check_selections(context: &VoterContext, selections: &[Vec<u64>]) -> Result<(), BallotError> {
    let contests = &context.manifest().contests;
    if selections.len() != contests.len() {
        return Err(BallotError::Shape {
            reason: "one list of selections per contest is needed",
        });
    }
    for (c, (contest, chosen)) in contests.iter().zip(selections).enumerate() {
        let invalid = |reason| Err(BallotError::InvalidSelection { contest: c, reason });
        if chosen.len() != contest.options.len() {
            return invalid("one value per option is needed");
        }
        if chosen.iter().any(|v| *v > contest.option_limit) {
            return invalid("a value exceeds the option limit");
        }
        let total = chosen.iter().try_fold(0u64, |acc, v| acc.checked_add(*v));
        match total {
            Some(t) if t < contest.min_selections => {
                return invalid("fewer selections than the minimum")
            }
            Some(t) if t > contest.max_selections => {
                return invalid("more selections than the maximum")
            }
            Some(_) => {}
            None => return invalid("the selections overflow"),
        }
    }
    Ok(())
}

impl PendingBallot {
    /// Checks a voter's selections (`selections[c][o]`) against the manifest's rules — the
    /// check [`PendingBallot::encrypt`] runs first — so a booth can refuse an invalid choice
    /// before it encrypts anything.
    ///
    /// # Errors
    /// [`BallotError::InvalidSelection`] naming the contest and the rule, or
    /// [`BallotError::Shape`] for selections not of the manifest's shape.
    pub fn check(context: &VoterContext, selections: &[Vec<u64>]) -> Result<(), BallotError> {
        check_selections(context, selections)
    }

    /// Encrypts a voter's selections (`selections[c][o]` for contest `c`, option `o`) for the
    /// credential `credential` and proves every option's range and every contest's limits.
    /// Nothing is signed yet: show the voter [`PendingBallot::tracker`], then cast or challenge.
    ///
    /// The prover runs in time independent of the selections.
    ///
    /// # Errors
    /// [`BallotError::InvalidSelection`] or [`BallotError::Shape`] for selections the manifest
    /// does not allow; nothing is encrypted then.
    pub fn encrypt<R: RngCore + CryptoRng>(
        context: &VoterContext,
        credential: &PublicKey,
        selections: &[Vec<u64>],
        rng: &mut R,
    ) -> Result<Self, BallotError> {
        check_selections(context, selections)?;
        let mut ballot_id = [0u8; 32];
        rng.fill_bytes(&mut ballot_id);
        let secret = BallotSecret {
            seed: {
                let mut seed = [0u8; 32];
                rng.fill_bytes(&mut seed);
                seed
            },
        };
        let election = *context.hash();
        let key = context.encryption_key();
        // The proofs are made contest by contest, each contest's options before its limit, in
        // the order of their RNG draws; their points are encoded in C + 1 batches instead of
        // one per proof: [options of contest 0], [limit of 0, options of 1], …, [limit of
        // C−1]. A limit proof absorbs its contest's ciphertexts before it draws its nonces, so
        // it begins only once they are encoded.
        let mut contests: Vec<ContestParts> = Vec::with_capacity(selections.len());
        let mut halves = Vec::new();
        let mut pending: Vec<(BallotPart, Transcript, Committed<'_>)> = Vec::new();
        for (c, (contest, chosen)) in context
            .manifest()
            .contests
            .iter()
            .zip(selections)
            .enumerate()
        {
            let mut openings = Vec::with_capacity(chosen.len());
            for (o, value) in chosen.iter().enumerate() {
                let opening = Opening::new(
                    *value,
                    derive_nonce(&election, &ballot_id, c, o, &secret.seed),
                );
                let part = BallotPart::Option {
                    contest: c,
                    option: o,
                };
                let mut transcript = context.option_transcript(&ballot_id, credential, c, o);
                let committed = RangeProof::commit_encrypt(
                    &mut transcript,
                    key,
                    &opening,
                    0..=contest.option_limit,
                    rng,
                    &mut halves,
                )
                .map_err(|error| part.error(error))?;
                pending.push((part, transcript, committed));
                openings.push(opening);
            }
            contests.push(ContestParts::default());
            finish_pending(&mut halves, &mut pending, &mut contests)?;
            let part = BallotPart::SelectionLimit { contest: c };
            let ciphertexts = contests.last().map_or(&[][..], |p| &p.ciphertexts[..]);
            let mut transcript = context.limit_transcript(&ballot_id, credential, c);
            let committed = SelectionLimitProof::commit(
                &mut transcript,
                key,
                ciphertexts,
                &openings,
                contest.min_selections..=contest.max_selections,
                rng,
                &mut halves,
            )
            .map_err(|error| part.error(error))?;
            pending.push((part, transcript, committed));
        }
        finish_pending(&mut halves, &mut pending, &mut contests)?;
        let contests = contests
            .into_iter()
            .enumerate()
            .map(|(c, parts)| match parts.limit {
                Some(limit) => Ok(EncryptedContest {
                    ciphertexts: parts.ciphertexts,
                    proofs: parts.proofs,
                    limit,
                }),
                None => Err(BallotPart::SelectionLimit { contest: c }.error(INTERNAL)),
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            election,
            body: Body {
                ballot_id,
                credential: *credential,
                contests,
            },
            secret,
        })
    }

    /// The tracker to show the voter before the choice; the cast or challenged ballot has the
    /// same one.
    pub fn tracker(&self) -> [u8; 64] {
        self.body.tracker()
    }

    /// The ballot id.
    pub fn id(&self) -> &[u8; 32] {
        &self.body.ballot_id
    }

    /// Casts: signs the cast statement with the voter's credential and forgets the seed.
    ///
    /// # Errors
    /// [`BallotError::WrongCredential`] if `credential` is not the one the ballot was made for
    /// (the pending ballot is consumed either way).
    pub fn cast<R: RngCore + CryptoRng>(
        self,
        credential: &VoterCredential,
        rng: &mut R,
    ) -> Result<Ballot, BallotError> {
        if credential.public() != &self.body.credential {
            return Err(BallotError::WrongCredential);
        }
        let signature = SchnorrProof::prove(
            &mut super::context::cast_transcript(&self.election, &self.body.hash()),
            &credential.0,
            rng,
        );
        Ok(Ballot {
            body: self.body,
            signature,
        })
    }

    /// Challenges (Benaloh): reveals the seed, signed by the voter's credential under the
    /// challenge statement. The result is for the board's record of challenges and for the
    /// voter's check of what the device encrypted; it can never be cast.
    ///
    /// # Errors
    /// [`BallotError::WrongCredential`] if `credential` is not the one the ballot was made for.
    pub fn challenge<R: RngCore + CryptoRng>(
        self,
        credential: &VoterCredential,
        rng: &mut R,
    ) -> Result<ChallengedBallot, BallotError> {
        if credential.public() != &self.body.credential {
            return Err(BallotError::WrongCredential);
        }
        let seed = self.secret.seed;
        let signature = SchnorrProof::prove(
            &mut super::context::challenge_transcript(&self.election, &self.body.hash(), &seed),
            &credential.0,
            rng,
        );
        Ok(ChallengedBallot {
            body: self.body,
            seed,
            signature,
        })
    }
}

impl Body {
    fn encode(&self) -> Vec<u8> {
        let mut out = vec![BALLOT_VERSION, KIND_BALLOT];
        out.extend_from_slice(&self.ballot_id);
        out.extend_from_slice(self.credential.as_bytes());
        out.extend_from_slice(&(self.contests.len() as u32).to_le_bytes());
        for contest in &self.contests {
            out.extend_from_slice(&(contest.ciphertexts.len() as u32).to_le_bytes());
            for (ct, proof) in contest.ciphertexts.iter().zip(&contest.proofs) {
                out.extend_from_slice(&ct.to_bytes());
                let p = proof.to_bytes();
                out.extend_from_slice(&(p.len() as u32).to_le_bytes());
                out.extend_from_slice(&p);
            }
            let l = contest.limit.to_bytes();
            out.extend_from_slice(&(l.len() as u32).to_le_bytes());
            out.extend_from_slice(&l);
        }
        out
    }

    /// `SHA-512("evote/ballot-body/v1" ‖ body)`: what both signatures cover.
    fn hash(&self) -> [u8; 64] {
        let mut h = Sha512::new();
        h.update(b"evote/ballot-body/v1");
        h.update(self.encode());
        h.finalize().into()
    }

    pub(crate) fn tracker(&self) -> [u8; 64] {
        tracker_of_body(&self.encode())
    }

    fn read(reader: &mut Reader<'_>) -> Result<Self, BallotError> {
        const WHAT: &str = "ballot";
        let version = reader.u8()?;
        if version != BALLOT_VERSION {
            return Err(DecodeError::UnsupportedVersion {
                what: WHAT,
                version,
            }
            .into());
        }
        if reader.u8()? != KIND_BALLOT {
            return Err(DecodeError::Malformed {
                what: WHAT,
                reason: "wrong kind",
            }
            .into());
        }
        let ballot_id = reader.array::<32>()?;
        let credential = PublicKey::from_bytes(&reader.array::<32>()?)?;
        let count = reader.u32()? as usize;
        if count > super::manifest::MAX_CONTESTS {
            return Err(DecodeError::TooLarge {
                what: WHAT,
                max: super::manifest::MAX_CONTESTS as u64,
                actual: count as u64,
            }
            .into());
        }
        let mut contests = Vec::with_capacity(count);
        for _ in 0..count {
            let options = reader.u32()? as usize;
            if options > super::manifest::MAX_OPTIONS {
                return Err(DecodeError::TooLarge {
                    what: WHAT,
                    max: super::manifest::MAX_OPTIONS as u64,
                    actual: options as u64,
                }
                .into());
            }
            let mut ciphertexts = Vec::with_capacity(options);
            let mut proofs = Vec::with_capacity(options);
            for _ in 0..options {
                ciphertexts.push(Ciphertext::from_bytes(&reader.array::<64>()?)?);
                let len = reader.u32()? as usize;
                proofs.push(RangeProof::from_bytes(reader.bytes(len)?)?);
            }
            let len = reader.u32()? as usize;
            let limit = SelectionLimitProof::from_bytes(reader.bytes(len)?)?;
            contests.push(EncryptedContest {
                ciphertexts,
                proofs,
                limit,
            });
        }
        Ok(Self {
            ballot_id,
            credential,
            contests,
        })
    }

    /// What the board and the verifier keep unique for ballot ids: the id *under its
    /// credential*, `SHA-512("evote/ballot-id-scope/v1" ‖ enc(credential) ‖ id)[..32]`. A ballot
    /// id separates the proof transcripts of one credential's ballots; the same id under
    /// another credential is another ballot. (A global id index let anyone holding a credential
    /// who saw a ballot in transit cast a ballot with the same id first and have the honest one
    /// refused.)
    #[cfg_attr(not(feature = "fs"), allow(dead_code))]
    pub(crate) fn scoped_id(&self) -> [u8; 32] {
        let digest = Sha512::new()
            .chain_update(b"evote/ballot-id-scope/v1")
            .chain_update(self.credential.as_bytes())
            .chain_update(self.ballot_id)
            .finalize();
        let mut out = [0u8; 32];
        out.copy_from_slice(digest.get(..32).unwrap_or(&[0u8; 32]));
        out
    }

    /// Shape against the manifest (every proof's number of branches included) and the
    /// credential on the list: the checks that need no group operation.
    fn check_statement(&self, context: &ElectionContext) -> Result<(), BallotError> {
        let manifest = context.manifest();
        if self.contests.len() != manifest.contests.len() {
            return Err(BallotError::Shape {
                reason: "wrong number of contests",
            });
        }
        for (contest, spec) in self.contests.iter().zip(&manifest.contests) {
            if contest.ciphertexts.len() != spec.options.len()
                || contest.proofs.len() != spec.options.len()
            {
                return Err(BallotError::Shape {
                    reason: "wrong number of options",
                });
            }
            let option_branches = spec.option_limit.saturating_add(1);
            if contest
                .proofs
                .iter()
                .any(|p| p.branches() as u64 != option_branches)
            {
                return Err(BallotError::Shape {
                    reason: "a range proof has the wrong number of branches",
                });
            }
            if contest.limit.branches() as u64 != spec.max_selections - spec.min_selections + 1 {
                return Err(BallotError::Shape {
                    reason: "a selection-limit proof has the wrong number of branches",
                });
            }
        }
        if !context.credentials().contains(&self.credential) {
            return Err(BallotError::UnknownCredential);
        }
        Ok(())
    }

    /// Queues every check of this body into `batch` with `signature` in `transcript`: the
    /// statement is checked first ([`Body::check_statement`]), before anything is queued; then
    /// the signature and every proof are queued. Returns, for each queued item, its queue
    /// position and the [`BallotPart`] it checks.
    fn queue<R: RngCore + CryptoRng>(
        &self,
        context: &ElectionContext,
        signature: (&mut merlin::Transcript, &SchnorrProof),
        batch: &mut BatchVerifier<R>,
    ) -> Result<Vec<(usize, BallotPart)>, BallotError> {
        self.check_statement(context)?;
        let manifest = context.manifest();
        let mut owners = Vec::new();
        let position = batch.queue_schnorr(signature.0, signature.1, &self.credential);
        owners.push((position, BallotPart::Signature));
        let public = context.public_key();
        // With the shapes checked above, queueing cannot fail; should it, the error is reported
        // and `owners` still maps exactly the positions that were queued.
        for (c, (contest, spec)) in self.contests.iter().zip(&manifest.contests).enumerate() {
            for (o, (ct, proof)) in contest.ciphertexts.iter().zip(&contest.proofs).enumerate() {
                let position = batch
                    .queue_range(
                        &mut context.option_transcript(&self.ballot_id, &self.credential, c, o),
                        proof,
                        public,
                        ct,
                        0..=spec.option_limit,
                    )
                    .map_err(|error| BallotError::InvalidProof {
                        contest: c,
                        option: Some(o),
                        error,
                    })?;
                owners.push((
                    position,
                    BallotPart::Option {
                        contest: c,
                        option: o,
                    },
                ));
            }
            let position = batch
                .queue_selection_limit(
                    &mut context.limit_transcript(&self.ballot_id, &self.credential, c),
                    &contest.limit,
                    public,
                    &contest.ciphertexts,
                    spec.min_selections..=spec.max_selections,
                )
                .map_err(|error| BallotError::InvalidProof {
                    contest: c,
                    option: None,
                    error,
                })?;
            owners.push((position, BallotPart::SelectionLimit { contest: c }));
        }
        Ok(owners)
    }

    /// Recomputes every nonce from `seed` and finds each option's value in `0..=R` (variable
    /// time: only for a seed that is public).
    fn vartime_open(
        &self,
        context: &VoterContext,
        seed: &[u8; 32],
    ) -> Result<Vec<Vec<u64>>, BallotError> {
        let manifest = context.manifest();
        if self.contests.len() != manifest.contests.len() {
            return Err(BallotError::Shape {
                reason: "wrong number of contests",
            });
        }
        let mut selections = Vec::with_capacity(self.contests.len());
        for (c, (contest, spec)) in self.contests.iter().zip(&manifest.contests).enumerate() {
            let mut values = Vec::with_capacity(contest.ciphertexts.len());
            for (o, ct) in contest.ciphertexts.iter().enumerate() {
                let r = derive_nonce(context.hash(), &self.ballot_id, c, o, seed);
                let value = (0..=spec.option_limit)
                    .find(|v| ct.vartime_is_opened_by(context.public_key(), &Opening::new(*v, r)))
                    .ok_or(BallotError::RevealMismatch {
                        contest: c,
                        option: o,
                    })?;
                values.push(value);
            }
            selections.push(values);
        }
        Ok(selections)
    }

    /// The first 16 bytes of every ciphertext's `alpha`: the keys of the replay indices.
    #[cfg_attr(not(feature = "fs"), allow(dead_code))]
    pub(crate) fn alpha_keys(&self) -> Vec<[u8; 16]> {
        self.contests
            .iter()
            .flat_map(|c| &c.ciphertexts)
            .map(|ct| {
                let mut key = [0u8; 16];
                key.copy_from_slice(
                    ct.compressed()[0]
                        .as_bytes()
                        .get(..16)
                        .unwrap_or(&[0u8; 16]),
                );
                key
            })
            .collect()
    }
}

/// Runs a queued batch and names the first failing part.
fn run_batch<R: RngCore + CryptoRng>(
    batch: BatchVerifier<R>,
    owners: &[(usize, BallotPart)],
) -> Result<(), BallotError> {
    batch.verify().map_err(|failed| {
        failed
            .failures
            .first()
            .and_then(|f| {
                owners
                    .iter()
                    .find(|(p, _)| *p == f.index)
                    .map(|(_, part)| part.failure(f.kind))
            })
            .unwrap_or(BallotError::InvalidSignature)
    })
}

impl Ballot {
    /// Encrypts, proves and casts at once, for a client that does not offer the voter a
    /// challenge (a load generator, a kiosk that audits otherwise): [`PendingBallot::encrypt`]
    /// then [`PendingBallot::cast`].
    ///
    /// # Errors
    /// As [`PendingBallot::encrypt`].
    pub fn encrypt_and_cast<R: RngCore + CryptoRng>(
        context: &VoterContext,
        credential: &VoterCredential,
        selections: &[Vec<u64>],
        rng: &mut R,
    ) -> Result<Self, BallotError> {
        PendingBallot::encrypt(context, credential.public(), selections, rng)?.cast(credential, rng)
    }

    /// The ballot id.
    pub fn id(&self) -> &[u8; 32] {
        &self.body.ballot_id
    }

    /// The voter's public credential.
    pub fn credential(&self) -> &PublicKey {
        &self.body.credential
    }

    /// The encrypted contests.
    pub fn contests(&self) -> &[EncryptedContest] {
        &self.body.contests
    }

    #[cfg_attr(not(feature = "fs"), allow(dead_code))]
    pub(crate) fn body(&self) -> &Body {
        &self.body
    }

    /// Every option's ciphertext and range proof, contest after contest.
    #[cfg_attr(not(feature = "fs"), allow(dead_code))]
    pub(crate) fn flattened(&self) -> (Vec<Ciphertext>, Vec<RangeProof>) {
        let cts = self
            .body
            .contests
            .iter()
            .flat_map(|c| c.ciphertexts.iter().copied())
            .collect();
        let proofs = self
            .body
            .contests
            .iter()
            .flat_map(|c| c.proofs.iter().cloned())
            .collect();
        (cts, proofs)
    }

    /// The ballot id under its credential, as the board and the verifier keep it unique (see
    /// `docs/election.md`).
    #[cfg_attr(not(feature = "fs"), allow(dead_code))]
    pub(crate) fn scoped_id(&self) -> [u8; 32] {
        self.body.scoped_id()
    }

    /// The canonical encoding: `body ‖ σ` (see the module's Layout).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = self.body.encode();
        out.extend_from_slice(&self.signature.to_bytes());
        out
    }

    /// The tracker shown to the voter: `SHA-512("evote/tracker/v2" ‖ body)`, the same before
    /// and after the cast.
    pub fn tracker(&self) -> [u8; 64] {
        self.body.tracker()
    }

    /// Decodes a ballot strictly (no manifest needed; [`Ballot::verify`] checks the shape).
    ///
    /// # Errors
    /// [`BallotError::Decode`] for anything but a canonical encoding.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, BallotError> {
        let mut reader = Reader::new(bytes, "ballot", "a complete ballot");
        let body = Body::read(&mut reader)?;
        let signature = SchnorrProof::from_bytes(&reader.array::<64>()?)?;
        reader.finish()?;
        Ok(Self { body, signature })
    }

    /// Queues every check of this ballot into `batch` (see [`Body::queue`]).
    pub(crate) fn queue<R: RngCore + CryptoRng>(
        &self,
        context: &ElectionContext,
        batch: &mut BatchVerifier<R>,
    ) -> Result<Vec<(usize, BallotPart)>, BallotError> {
        let mut transcript = super::context::cast_transcript(context.hash(), &self.body.hash());
        self.body
            .queue(context, (&mut transcript, &self.signature), batch)
    }

    /// Checks the ballot against `context`: shape, credential, cast signature and every proof
    /// (in one batch; a failure names the first bad proof).
    ///
    /// # Errors
    /// The first [`BallotError`] found.
    pub fn verify<R: RngCore + CryptoRng>(
        self,
        context: &ElectionContext,
        rng: &mut R,
    ) -> Result<VerifiedBallot, BallotError> {
        let mut batch = BatchVerifier::new(&mut *rng);
        let owners = self.queue(context, &mut batch)?;
        run_batch(batch, &owners)?;
        Ok(VerifiedBallot::new_unchecked(self))
    }

    /// [`Ballot::verify_batch`] on all cores: the ballots are cut into batches of
    /// `chunk` (at least 1), each verified with one multiscalar multiplication under its own
    /// weights (a ChaCha20 stream seeded from `rng`). The verdicts come back in order. (On
    /// one core, batch after batch, without the `parallel` feature.)
    pub fn verify_batch_parallel<R: RngCore + CryptoRng>(
        ballots: Vec<Ballot>,
        context: &ElectionContext,
        chunk: usize,
        rng: &mut R,
    ) -> Vec<Result<VerifiedBallot, BallotError>> {
        let chunk = chunk.max(1);
        let mut chunks: Vec<(Vec<Ballot>, [u8; 32])> = Vec::new();
        let mut rest = ballots.into_iter().peekable();
        while rest.peek().is_some() {
            let mut seed = [0u8; 32];
            rng.fill_bytes(&mut seed);
            chunks.push((rest.by_ref().take(chunk).collect(), seed));
        }
        let run = |(ballots, seed): (Vec<Ballot>, [u8; 32])| {
            Self::verify_batch(ballots, context, &mut ChaCha20Rng::from_seed(seed))
        };
        #[cfg(feature = "parallel")]
        return chunks.into_par_iter().flat_map_iter(run).collect();
        // Without the `parallel` feature (a browser, an embedded client) the same batches run
        // one after another: the verdicts are the same.
        #[cfg(not(feature = "parallel"))]
        return chunks.into_iter().flat_map(run).collect();
    }

    /// Checks many ballots with one multiscalar multiplication for all their proofs and
    /// signatures; a failing batch is bisected, so each ballot gets its own verdict.
    pub fn verify_batch<R: RngCore + CryptoRng>(
        ballots: Vec<Ballot>,
        context: &ElectionContext,
        rng: &mut R,
    ) -> Vec<Result<VerifiedBallot, BallotError>> {
        let mut batch = BatchVerifier::new(&mut *rng);
        // Queue position -> (ballot, what).
        let mut owners: std::collections::HashMap<usize, (usize, BallotPart)> =
            std::collections::HashMap::new();
        let mut verdicts: Vec<Option<BallotError>> = Vec::with_capacity(ballots.len());
        for (b, ballot) in ballots.iter().enumerate() {
            // A ballot with a statement error is judged now; its queued proofs (if any) stay
            // in the batch and are checked with the rest, harmlessly.
            match ballot.queue(context, &mut batch) {
                Ok(queued) => {
                    owners.extend(
                        queued
                            .into_iter()
                            .map(|(position, what)| (position, (b, what))),
                    );
                    verdicts.push(None);
                }
                Err(e) => verdicts.push(Some(e)),
            }
        }
        if let Err(failed) = batch.verify() {
            for f in &failed.failures {
                if let Some((b, part)) = owners.get(&f.index) {
                    if let Some(slot @ None) = verdicts.get_mut(*b) {
                        *slot = Some(part.failure(f.kind));
                    }
                }
            }
        }
        ballots
            .into_iter()
            .zip(verdicts)
            .map(|(ballot, verdict)| match verdict {
                Some(e) => Err(e),
                None => Ok(VerifiedBallot::new_unchecked(ballot)),
            })
            .collect()
    }
}

impl ChallengedBallot {
    /// The ballot id.
    pub fn id(&self) -> &[u8; 32] {
        &self.body.ballot_id
    }

    /// The voter's public credential.
    pub fn credential(&self) -> &PublicKey {
        &self.body.credential
    }

    /// The revealed seed.
    pub fn seed(&self) -> &[u8; 32] {
        &self.seed
    }

    /// The encrypted contests.
    pub fn contests(&self) -> &[EncryptedContest] {
        &self.body.contests
    }

    #[cfg_attr(not(feature = "fs"), allow(dead_code))]
    pub(crate) fn body(&self) -> &Body {
        &self.body
    }

    /// The tracker the voter saw before choosing to challenge.
    pub fn tracker(&self) -> [u8; 64] {
        self.body.tracker()
    }

    /// What the device encrypted, `selections[c][o]`, recomputed from the revealed seed with
    /// the voter's side of the election alone (a browser booth, a second device): every nonce
    /// is derived again and each ciphertext must open to a value in `0..=R`. Variable time (the
    /// seed is public once revealed).
    ///
    /// This opens; it does not check the proofs, the signature or the credential list: that is
    /// [`ChallengedBallot::verify`], which the ballot box and the verifier run.
    ///
    /// # Errors
    /// [`BallotError::Shape`] for a ballot not of this manifest's shape;
    /// [`BallotError::RevealMismatch`] for a ciphertext the seed does not open.
    pub fn vartime_open(&self, context: &VoterContext) -> Result<Vec<Vec<u64>>, BallotError> {
        self.body.vartime_open(context, &self.seed)
    }

    /// The canonical encoding: `body ‖ seed ‖ σ'` (see the module's Layout).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = self.body.encode();
        out.extend_from_slice(&self.seed);
        out.extend_from_slice(&self.signature.to_bytes());
        out
    }

    /// Decodes a challenged ballot strictly.
    ///
    /// # Errors
    /// [`BallotError::Decode`] for anything but a canonical encoding.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, BallotError> {
        let mut reader = Reader::new(bytes, "challenged ballot", "a complete challenged ballot");
        let body = Body::read(&mut reader)?;
        let seed = reader.array::<32>()?;
        let signature = SchnorrProof::from_bytes(&reader.array::<64>()?)?;
        reader.finish()?;
        Ok(Self {
            body,
            seed,
            signature,
        })
    }

    /// Checks the challenge against `context` — shape, credential, the challenge signature and
    /// every proof in one batch — and opens every ciphertext with the seed (variable time: the
    /// seed is public).
    ///
    /// # Errors
    /// The first [`BallotError`] found; [`BallotError::RevealMismatch`] for a seed that does
    /// not open a ciphertext.
    pub fn verify<R: RngCore + CryptoRng>(
        self,
        context: &ElectionContext,
        rng: &mut R,
    ) -> Result<VerifiedChallenge, BallotError> {
        let mut batch = BatchVerifier::new(&mut *rng);
        let mut transcript =
            super::context::challenge_transcript(context.hash(), &self.body.hash(), &self.seed);
        let owners = self
            .body
            .queue(context, (&mut transcript, &self.signature), &mut batch)?;
        run_batch(batch, &owners)?;
        let selections = self.body.vartime_open(context, &self.seed)?;
        let tracker = self.tracker();
        Ok(VerifiedChallenge {
            challenged: self,
            tracker,
            selections,
        })
    }
}

impl VerifiedChallenge {
    /// The challenged ballot.
    pub fn challenged(&self) -> &ChallengedBallot {
        &self.challenged
    }

    /// The tracker.
    pub fn tracker(&self) -> &[u8; 64] {
        &self.tracker
    }

    /// What the device encrypted, `selections[c][o]`.
    pub fn selections(&self) -> &[Vec<u64>] {
        &self.selections
    }
}

/// The credential bytes of an encoded ballot, read without decoding the rest (for a pass over a
/// board that only needs to know who cast what). `None` if the header is not a ballot's.
#[cfg_attr(not(feature = "fs"), allow(dead_code))]
pub(crate) fn peek_credential(bytes: &[u8]) -> Option<[u8; 32]> {
    if bytes.first() != Some(&BALLOT_VERSION) || bytes.get(1) != Some(&KIND_BALLOT) {
        return None;
    }
    bytes.get(34..66).and_then(|c| c.try_into().ok())
}

/// `SHA-512("evote/tracker/v2" ‖ body)`.
fn tracker_of_body(body: &[u8]) -> [u8; 64] {
    let mut h = Sha512::new();
    h.update(b"evote/tracker/v2");
    h.update(body);
    h.finalize().into()
}

/// The tracker of an encoded cast ballot (`tail` = [`CAST_TAIL`]) or challenged ballot (`tail`
/// = [`CHALLENGE_TAIL`]), from its bytes, whether or not they decode: the body is everything
/// but the tail.
#[cfg_attr(not(feature = "fs"), allow(dead_code))]
pub(crate) fn tracker_of(bytes: &[u8], tail: usize) -> [u8; 64] {
    tracker_of_body(bytes.get(..bytes.len().saturating_sub(tail)).unwrap_or(&[]))
}

impl VerifiedBallot {
    /// Wraps a ballot whose checks the caller has just run (the board's batched path).
    pub(crate) fn new_unchecked(ballot: Ballot) -> Self {
        let tracker = ballot.tracker();
        Self { ballot, tracker }
    }

    /// The ballot.
    pub fn ballot(&self) -> &Ballot {
        &self.ballot
    }

    /// The tracker.
    pub fn tracker(&self) -> &[u8; 64] {
        &self.tracker
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use crate::ceremony::{adjudicate, part1, CeremonyParams, CeremonyTranscript};
    use crate::election::credentials::CredentialList;
    use crate::election::manifest::Manifest;
    use crate::proofs::range::lying_proof_bytes;
    use curve25519_dalek::scalar::Scalar;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    fn context(rng: &mut ChaCha20Rng) -> (ElectionContext, Vec<VoterCredential>) {
        let params = CeremonyParams::new([3; 32], 1, 1).unwrap();
        let g = crate::ceremony::GuardianIndex::new(1).unwrap();
        let (s1, h) = part1(&params, g, rng).unwrap();
        let (_, reveal) = s1.part2(core::slice::from_ref(&h)).unwrap();
        let outcome = adjudicate(
            &CeremonyTranscript {
                params,
                hashes: vec![h],
                reveals: vec![reveal],
                shares: vec![],
                complaints: vec![],
            },
            rng,
        )
        .unwrap();
        let (voters, list) = CredentialList::generate(2, rng);
        let mut manifest = Manifest::example();
        manifest.contests.truncate(3); // referendum, 1-of-5, 2-of-8
        (
            ElectionContext::new(manifest, outcome, list).unwrap(),
            voters,
        )
    }

    /// A cheating device: encrypts `values` for contest `c` (whatever the rules), makes every
    /// proof with the lying prover claiming an admissible branch, and signs the result properly.
    fn cheat(
        ctx: &ElectionContext,
        voter: &VoterCredential,
        contest: usize,
        values: &[Scalar],
        rng: &mut ChaCha20Rng,
    ) -> Ballot {
        let honest = vec![vec![1, 0], vec![0; 5], vec![0; 8]];
        let mut ballot = PendingBallot::encrypt(ctx, voter.public(), &honest, rng)
            .unwrap()
            .cast(voter, rng)
            .unwrap();
        let spec = &ctx.manifest().contests[contest];
        let key = ctx.encryption_key();
        let mut cts = Vec::new();
        let mut openings = Vec::new();
        let mut proofs = Vec::new();
        for (o, v) in values.iter().enumerate() {
            let r = crate::group::random_scalar(rng);
            let g = curve25519_dalek::constants::RISTRETTO_BASEPOINT_POINT;
            let ct = Ciphertext::from_points(g * r, g * v + key.public().as_point() * r);
            // The lying prover needs a u64 "value"; it claims branch 1 (or 0 for a zero).
            let opening = Opening::new(1, r);
            let bytes = lying_proof_bytes(
                &mut ctx.option_transcript(&ballot.body.ballot_id, voter.public(), contest, o),
                key,
                &[ct],
                &opening,
                0..=spec.option_limit,
                false,
                1,
                rng,
            );
            proofs.push(RangeProof::from_bytes(&bytes).unwrap());
            cts.push(Ciphertext::from_bytes(&ct.to_bytes()).unwrap());
            openings.push(opening);
        }
        let total = Opening::sum(&openings).unwrap();
        let limit = lying_proof_bytes(
            &mut ctx.limit_transcript(&ballot.body.ballot_id, voter.public(), contest),
            key,
            &cts,
            &total,
            spec.min_selections..=spec.max_selections,
            true,
            spec.max_selections - spec.min_selections,
            rng,
        );
        ballot.body.contests[contest] = EncryptedContest {
            ciphertexts: cts,
            proofs,
            limit: SelectionLimitProof::from_bytes(&limit).unwrap(),
        };
        let body_hash = ballot.body.hash();
        ballot.signature = SchnorrProof::prove(
            &mut crate::election::context::cast_transcript(ctx.hash(), &body_hash),
            &voter.0,
            rng,
        );
        ballot
    }

    #[test]
    fn ballots_from_a_cheating_device_are_refused() {
        let mut rng = ChaCha20Rng::seed_from_u64(9);
        let (ctx, voters) = context(&mut rng);
        let s = |v: u64| Scalar::from(v);
        let minus_one = -Scalar::ONE;
        let cases: Vec<(usize, Vec<Scalar>)> = vec![
            (0, vec![s(2), s(0)]),                   // σ = 2 in a yes/no referendum
            (0, vec![minus_one, s(1)]),              // σ = -1 (ℓ - 1) beside a yes: sums to 0 …
            (1, vec![s(1), s(1), s(0), s(0), s(0)]), // two candidates in a 1-of-5 race
            (2, vec![s(1), s(1), s(1), s(0), s(0), s(0), s(0), s(0)]), // three of "up to two"
        ];
        for (contest, values) in cases {
            let ballot = cheat(&ctx, &voters[0], contest, &values, &mut rng);
            let bytes = ballot.to_bytes();
            let decoded = Ballot::from_bytes(&bytes).unwrap();
            let err = decoded.verify(&ctx, &mut rng).unwrap_err();
            assert!(
                matches!(err, BallotError::InvalidProof { contest: c, .. } if c == contest),
                "{values:?}: {err}"
            );
        }
    }

    #[test]
    fn a_challenge_opens_only_with_its_own_seed_and_never_verifies_as_a_cast() {
        let mut rng = ChaCha20Rng::seed_from_u64(10);
        let (ctx, voters) = context(&mut rng);
        let choice = vec![
            vec![0, 1],
            vec![0, 0, 1, 0, 0],
            vec![1, 0, 0, 0, 0, 0, 0, 1],
        ];
        let pending = PendingBallot::encrypt(&ctx, voters[0].public(), &choice, &mut rng).unwrap();
        assert!(!format!("{pending:?}").contains(&format!("{:?}", pending.secret.seed)));
        let challenged = pending.challenge(&voters[0], &mut rng).unwrap();
        // The voter (who holds the credential) signs a challenge with another seed: the
        // signature is valid, the opening is not.
        let mut wrong = challenged.clone();
        wrong.seed[0] ^= 1;
        wrong.signature = SchnorrProof::prove(
            &mut crate::election::context::challenge_transcript(
                ctx.hash(),
                &wrong.body.hash(),
                &wrong.seed,
            ),
            &voters[0].0,
            &mut rng,
        );
        assert!(matches!(
            wrong.verify(&ctx, &mut rng),
            Err(BallotError::RevealMismatch {
                contest: 0,
                option: 0
            })
        ));
        // The challenge signature does not verify as a cast signature over the same body.
        let as_cast = Ballot {
            body: challenged.body.clone(),
            signature: challenged.signature.clone(),
        };
        assert!(matches!(
            as_cast.verify(&ctx, &mut rng),
            Err(BallotError::InvalidSignature)
        ));
        let opened = challenged.verify(&ctx, &mut rng).unwrap();
        assert_eq!(opened.selections(), choice.as_slice());
    }
}
