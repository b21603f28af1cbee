//! The guardian's side of the ceremony: the round states (typestate, secret, zeroized), each
//! round's computation, the key share it ends with, and a local runner for simulations.

use std::collections::BTreeMap;

use curve25519_dalek::constants::RISTRETTO_BASEPOINT_TABLE;
use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::VartimeMultiscalarMul;
use rand_core::{CryptoRng, RngCore};
use zeroize::{Zeroize, ZeroizeOnDrop};

use super::channel::Link;
use super::packages::{CommitmentHashPackage, Complaint, EncryptedShare, RevealPackage};
use super::{CeremonyError, CeremonyParams, GuardianIndex};
use crate::group::GroupElement;
use crate::keys::{KeyPair, PublicKey, SecretKey};
use crate::proofs::{ChaumPedersenProof, SchnorrProof};
use crate::transcript::{labels, NoEntropy};

use super::adjudication::{
    adjudicate, check_enough, coefficient_transcript, complaint_transcript,
    encryption_key_transcript, evaluate_commitments, qualify_reveals, share_slots, Slot,
};
use super::transcript::CeremonyTranscript;
use super::CeremonyOutcome;

/// A guardian's secret polynomial, evaluated in constant time (Horner's rule).
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub(super) struct Polynomial(pub(super) Vec<Scalar>);

impl Polynomial {
    fn evaluate(&self, x: GuardianIndex) -> Scalar {
        let x = x.to_scalar();
        self.0.iter().rev().fold(Scalar::ZERO, |acc, a| acc * x + a)
    }
}

/// Round 1: draws this guardian's polynomial and share-encryption key, proves knowledge of
/// every coefficient and of the key, and commits to all of it.
///
/// Publish the [`CommitmentHashPackage`]; keep the [`Round1Secret`] (it must never be sent).
///
/// # Errors
/// [`CeremonyError::InvalidIndex`] if `index` exceeds the number of guardians.
pub fn part1<R: RngCore + CryptoRng>(
    params: &CeremonyParams,
    index: GuardianIndex,
    rng: &mut R,
) -> Result<(Round1Secret, CommitmentHashPackage), CeremonyError> {
    params.check(index)?;
    let coefficients: Vec<KeyPair> = (0..params.threshold())
        .map(|_| KeyPair::generate(rng))
        .collect();
    let proofs = coefficients
        .iter()
        .enumerate()
        .map(|(k, pair)| {
            SchnorrProof::prove(&mut coefficient_transcript(params, index, k), pair, rng)
        })
        .collect();
    let encryption = KeyPair::generate(rng);
    let encryption_key_proof = SchnorrProof::prove(
        &mut encryption_key_transcript(params, index),
        &encryption,
        rng,
    );
    let reveal = RevealPackage {
        sender: index,
        commitments: coefficients.iter().map(|pair| *pair.public()).collect(),
        proofs,
        encryption_key: *encryption.public(),
        encryption_key_proof,
    };
    let package = CommitmentHashPackage {
        sender: index,
        hash: reveal.commitment_hash(params),
    };
    let polynomial = Polynomial(
        coefficients
            .iter()
            .map(|pair| *pair.secret().expose_scalar())
            .collect(),
    );
    Ok((
        Round1Secret {
            params: params.clone(),
            index,
            polynomial,
            encryption,
            reveal,
        },
        package,
    ))
}

/// Runs every round for all `n` guardians in this one process, all honest, and returns the
/// public transcript with every guardian's key share. For tests, simulations and demos: a real
/// ceremony runs each guardian on its own machine, exchanging the packages over the broadcast
/// channel.
///
/// # Errors
/// Only if a round refuses (it does not for honest guardians).
#[cfg(feature = "simulation")]
pub fn run_locally<R: RngCore + CryptoRng>(
    params: &CeremonyParams,
    rng: &mut R,
) -> Result<(CeremonyTranscript, Vec<GuardianKeyShare>), CeremonyError> {
    let mut secrets = Vec::new();
    let mut hashes = Vec::new();
    for i in params.indices() {
        let (s, h) = part1(params, i, rng)?;
        secrets.push(s);
        hashes.push(h);
    }
    let mut secrets2 = Vec::new();
    let mut reveals = Vec::new();
    for s in secrets {
        let (s, r) = s.part2(&hashes)?;
        secrets2.push(s);
        reveals.push(r);
    }
    let mut secrets3 = Vec::new();
    let mut shares = Vec::new();
    for s in secrets2 {
        let (s, mut sent) = s.part3(&reveals, rng)?;
        secrets3.push(s);
        shares.append(&mut sent);
    }
    let mut secrets4 = Vec::new();
    let mut complaints = Vec::new();
    for s in secrets3 {
        let (s, mut filed) = s.part4(&shares, rng)?;
        secrets4.push(s);
        complaints.append(&mut filed);
    }
    let transcript = CeremonyTranscript {
        params: params.clone(),
        hashes,
        reveals,
        shares,
        complaints,
    };
    // Every guardian adjudicates the same public transcript to the same outcome: in one process
    // that is one adjudication, which each guardian's key share is then checked against.
    let outcome = adjudicate(&transcript, rng)?;
    let keys = secrets4
        .into_iter()
        .map(|s| s.finish_adjudicated(&outcome))
        .collect::<Result<Vec<_>, _>>()?;
    Ok((transcript, keys))
}

/// A guardian's secret state after round 1. **Never sent**: it holds the polynomial.
/// Zeroized on drop.
pub struct Round1Secret {
    pub(super) params: CeremonyParams,
    pub(super) index: GuardianIndex,
    pub(super) polynomial: Polynomial,
    pub(super) encryption: KeyPair,
    pub(super) reveal: RevealPackage,
}

impl core::fmt::Debug for Round1Secret {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Round1Secret({}, <redacted>)", self.index)
    }
}

impl Round1Secret {
    /// A copy, for a step that must leave the state it starts from intact when it fails.
    pub(super) fn duplicate(&self) -> Self {
        Self {
            params: self.params.clone(),
            index: self.index,
            polynomial: self.polynomial.clone(),
            encryption: self.encryption.clone(),
            reveal: self.reveal.clone(),
        }
    }

    /// This guardian's index.
    pub fn index(&self) -> GuardianIndex {
        self.index
    }

    /// Round 2: once every guardian's commitment hash is in, reveal.
    ///
    /// # Errors
    /// [`CeremonyError::UnexpectedPackage`] if this guardian's own hash is not among `hashes`
    /// (the channel lost or altered it).
    pub fn part2(
        self,
        hashes: &[CommitmentHashPackage],
    ) -> Result<(Round2Secret, RevealPackage), CeremonyError> {
        let own = self.reveal.commitment_hash(&self.params);
        if !hashes
            .iter()
            .any(|h| h.sender == self.index && h.hash == own)
        {
            return Err(CeremonyError::UnexpectedPackage {
                reason: "this guardian's own commitment hash is missing",
            });
        }
        let reveal = self.reveal.clone();
        Ok((
            Round2Secret {
                round1: self,
                hashes: hashes.to_vec(),
            },
            reveal,
        ))
    }
}

/// A guardian's secret state after round 2. **Never sent.**
pub struct Round2Secret {
    pub(super) round1: Round1Secret,
    pub(super) hashes: Vec<CommitmentHashPackage>,
}

impl core::fmt::Debug for Round2Secret {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Round2Secret({}, <redacted>)", self.round1.index)
    }
}

impl Round2Secret {
    /// A copy (see [`Round1Secret::duplicate`]).
    pub(super) fn duplicate(&self) -> Self {
        Self {
            round1: self.round1.duplicate(),
            hashes: self.hashes.clone(),
        }
    }

    /// This guardian's index.
    pub fn index(&self) -> GuardianIndex {
        self.round1.index
    }

    /// Round 3: checks every reveal against its hash and proofs, then seals `f(j)` for every
    /// qualified guardian `j`.
    ///
    /// # Errors
    /// [`CeremonyError::Disqualified`] if this guardian's own reveal is refused;
    /// [`CeremonyError::NotEnoughGuardians`] if fewer than `t` reveals are valid.
    pub fn part3<R: RngCore + CryptoRng>(
        self,
        reveals: &[RevealPackage],
        rng: &mut R,
    ) -> Result<(Round3Secret, Vec<EncryptedShare>), CeremonyError> {
        let r1 = &self.round1;
        let (qualified, culprits) = qualify_reveals(&r1.params, &self.hashes, reveals, rng);
        if let Some((_, why)) = culprits.iter().find(|(who, _)| *who == r1.index) {
            return Err(CeremonyError::Disqualified {
                reason: why.clone(),
            });
        }
        check_enough(&r1.params, qualified.len(), &culprits)?;
        let mut shares = Vec::with_capacity(qualified.len());
        for (&j, reveal) in &qualified {
            if j == r1.index {
                continue;
            }
            let mut share = r1.polynomial.evaluate(j);
            let shared = reveal.encryption_key.as_point() * r1.encryption.secret().expose_scalar();
            let link = Link {
                params: &r1.params,
                sender: r1.index,
                recipient: j,
                sender_key: r1.encryption.public(),
                recipient_key: &reveal.encryption_key,
            };
            let sealed = link
                .seal(&shared, &share)
                .ok_or(CeremonyError::UnexpectedPackage {
                    reason: "share encryption failed",
                })?;
            share.zeroize();
            shares.push(EncryptedShare {
                sender: r1.index,
                recipient: j,
                sealed,
            });
        }
        let reveals = qualified.into_iter().map(|(j, r)| (j, r.clone())).collect();
        Ok((
            Round3Secret {
                round2: self,
                reveals,
            },
            shares,
        ))
    }
}

/// A guardian's secret state after round 3. **Never sent.**
pub struct Round3Secret {
    pub(super) round2: Round2Secret,
    pub(super) reveals: BTreeMap<GuardianIndex, RevealPackage>,
}

impl core::fmt::Debug for Round3Secret {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Round3Secret({}, <redacted>)", self.round2.round1.index)
    }
}

impl Round3Secret {
    /// A copy (see [`Round1Secret::duplicate`]).
    pub(super) fn duplicate(&self) -> Self {
        Self {
            round2: self.round2.duplicate(),
            reveals: self.reveals.clone(),
        }
    }

    /// This guardian's index.
    pub fn index(&self) -> GuardianIndex {
        self.round2.round1.index
    }

    /// Round 4: opens the shares sent to this guardian and checks each against its sender's
    /// commitments; publishes a [`Complaint`] against every sender of a bad share.
    ///
    /// A missing share needs no complaint: the broadcast shows it is missing.
    ///
    /// # Errors
    /// Only for an internal proof failure (none is expected).
    pub fn part4<R: RngCore + CryptoRng>(
        self,
        shares: &[EncryptedShare],
        rng: &mut R,
    ) -> Result<(Round4Secret, Vec<Complaint>), CeremonyError> {
        let r1 = &self.round2.round1;
        let me = r1.index;
        let mut received = BTreeMap::new();
        let mut complaints = Vec::new();
        let slots = share_slots(shares);
        // Open every share sent to this guardian; one that does not open is bad already.
        let mut opened: Vec<Opened<'_>> = Vec::new();
        let mut bad: Vec<(GuardianIndex, RistrettoPoint, &RevealPackage)> = Vec::new();
        for (&i, reveal) in &self.reveals {
            if i == me {
                continue;
            }
            // Exact repeats are one share, as in `adjudicate`; a missing or equivocated share
            // needs no complaint: the public transcript shows it and disqualifies its sender.
            let Some(Slot::One(package)) = slots.get(&(i, me)) else {
                continue;
            };
            let shared = reveal.encryption_key.as_point() * r1.encryption.secret().expose_scalar();
            let link = Link {
                params: &r1.params,
                sender: i,
                recipient: me,
                sender_key: &reveal.encryption_key,
                recipient_key: r1.encryption.public(),
            };
            match link.open(&shared, &package.sealed) {
                Some(share) => opened.push(Opened {
                    sender: i,
                    share,
                    image: evaluate_commitments(&reveal.commitments, me),
                    shared,
                    reveal,
                    package,
                }),
                None => bad.push((i, shared, reveal)),
            }
        }
        // Check every opened share against its sender's commitments, f_i(j)·G = Σ_k j^k·C_{i,k},
        // all at once (see `shares_match`). Only when the combined check fails is each share
        // checked on its own, to name the senders to complain about.
        if !shares_match(r1, &opened) {
            let (good, wrong): (Vec<_>, Vec<_>) = opened
                .into_iter()
                .partition(|o| RISTRETTO_BASEPOINT_TABLE * &o.share == o.image);
            bad.extend(wrong.iter().map(|o| (o.sender, o.shared, o.reveal)));
            bad.sort_by_key(|(i, _, _)| *i);
            opened = good;
        }
        for o in &opened {
            received.insert(o.sender, o.share);
        }
        for (i, shared, reveal) in bad {
            let shared = GroupElement::from_point(shared);
            let proof = ChaumPedersenProof::prove(
                &mut complaint_transcript(&r1.params, me, i),
                &r1.encryption,
                reveal.encryption_key.as_element(),
                &shared,
                rng,
            )
            .map_err(|_| CeremonyError::UnexpectedPackage {
                reason: "could not prove a complaint",
            })?;
            complaints.push(Complaint {
                complainer: me,
                accused: i,
                shared,
                proof,
            });
        }
        let own = r1.polynomial.evaluate(me);
        Ok((
            Round4Secret {
                params: r1.params.clone(),
                index: me,
                own,
                received: SecretShares(received),
            },
            complaints,
        ))
    }
}

/// A share sent to this guardian, opened: its sender, the share `f_i(j)`, the image
/// `E_i = Σ_k j^k·C_{i,k}` its sender's commitments say it has, the Diffie–Hellman point of the
/// link (what a complaint reveals), the sender's reveal and the package as broadcast.
struct Opened<'a> {
    sender: GuardianIndex,
    share: Scalar,
    image: RistrettoPoint,
    shared: RistrettoPoint,
    reveal: &'a RevealPackage,
    package: &'a EncryptedShare,
}

impl Drop for Opened<'_> {
    fn drop(&mut self) {
        self.share.zeroize();
    }
}

/// Whether `Σ_i z_i·f_i(j)·G = Σ_i z_i·E_i` over the opened shares (see [`Opened`]), with
/// 128-bit weights `z_i`.
///
/// The weights are drawn from a transcript of the ceremony, this guardian's index and every
/// opened share's sender and sealed package, keyed with this guardian's share-encryption secret:
/// a sender fixes its package before any weight exists and cannot compute them without that
/// secret, so shares that are wrong in a way that cancels out (`f_1(j) + δ` and `f_2(j) − δ`)
/// fail the check except with probability about 2^-128, as one wrong share does. (Keyed rather
/// than drawn from the caller's RNG, so a round's RNG use, and every seeded run, is unchanged.)
/// The shares are secret: their weighted sum is multiplied by `G` in constant time; the images
/// are public (variable time).
fn shares_match(r1: &Round1Secret, opened: &[Opened<'_>]) -> bool {
    let mut transcript = r1
        .params
        .transcript(labels::PURPOSE_SHARE_WEIGHTS, r1.index);
    for o in opened {
        transcript.append_u64(labels::SHARE_SENDER, u64::from(o.sender.get()));
        transcript.append_message(labels::SEALED_SHARE, &o.package.sealed);
    }
    let mut weight_rng = transcript
        .build_rng()
        .rekey_with_witness_bytes(
            labels::WITNESS_SECRET,
            r1.encryption.secret().expose_scalar().as_bytes(),
        )
        .finalize(&mut NoEntropy);
    let weights: Vec<Scalar> = opened
        .iter()
        .map(|_| {
            let mut bytes = [0u8; 16];
            weight_rng.fill_bytes(&mut bytes);
            Scalar::from(u128::from_le_bytes(bytes))
        })
        .collect();
    let mut sum = Scalar::ZERO;
    for (z, o) in weights.iter().zip(opened) {
        sum += z * o.share;
    }
    let left = RISTRETTO_BASEPOINT_TABLE * &sum;
    sum.zeroize();
    left == RistrettoPoint::vartime_multiscalar_mul(&weights, opened.iter().map(|o| o.image))
}

#[derive(Clone, Default)]
pub(super) struct SecretShares(pub(super) BTreeMap<GuardianIndex, Scalar>);

impl Drop for SecretShares {
    fn drop(&mut self) {
        for s in self.0.values_mut() {
            s.zeroize();
        }
    }
}

/// A guardian's secret state after round 4: the valid shares it received. **Never sent.**
pub struct Round4Secret {
    pub(super) params: CeremonyParams,
    pub(super) index: GuardianIndex,
    pub(super) own: Scalar,
    pub(super) received: SecretShares,
}

impl Drop for Round4Secret {
    fn drop(&mut self) {
        self.own.zeroize();
    }
}

impl core::fmt::Debug for Round4Secret {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Round4Secret({}, <redacted>)", self.index)
    }
}

impl Round4Secret {
    /// A copy (see [`Round1Secret::duplicate`]).
    pub(super) fn duplicate(&self) -> Self {
        Self {
            params: self.params.clone(),
            index: self.index,
            own: self.own,
            received: self.received.clone(),
        }
    }

    /// This guardian's index.
    pub fn index(&self) -> GuardianIndex {
        self.index
    }

    /// Ends the ceremony: adjudicates the public transcript (as everyone does) and sums the
    /// shares of the qualified guardians into this guardian's key share `x_j`, checking it
    /// against the public key share `X_j`.
    ///
    /// # Errors
    /// [`CeremonyError::NotEnoughGuardians`] (with the culprits) if fewer than `t` qualify;
    /// [`CeremonyError::Disqualified`] if this guardian was disqualified;
    /// [`CeremonyError::InconsistentKeyShare`] if its share does not match the commitments.
    pub fn finish<R: RngCore + CryptoRng>(
        self,
        transcript: &CeremonyTranscript,
        rng: &mut R,
    ) -> Result<(GuardianKeyShare, CeremonyOutcome), CeremonyError> {
        if transcript.params != self.params {
            return Err(CeremonyError::UnexpectedPackage {
                reason: "the transcript belongs to another ceremony",
            });
        }
        let outcome = adjudicate(transcript, rng)?;
        let key = self.finish_adjudicated(&outcome)?;
        Ok((key, outcome))
    }

    /// [`Self::finish`] from an outcome already adjudicated (several guardians simulated in one
    /// process adjudicate the one transcript once). A [`CeremonyOutcome`] comes only from
    /// [`adjudicate`] (or [`CeremonyOutcome::confirm`]); one of another transcript cannot give
    /// this guardian a wrong key: its shares sum to `x_j` with `x_j·G = X_j` only for the
    /// qualified set it names, which is checked here as in `finish`.
    ///
    /// # Errors
    /// As [`Self::finish`], and [`CeremonyError::UnexpectedPackage`] for an outcome of another
    /// ceremony.
    pub fn finish_adjudicated(
        self,
        outcome: &CeremonyOutcome,
    ) -> Result<GuardianKeyShare, CeremonyError> {
        if outcome.params != self.params {
            return Err(CeremonyError::UnexpectedPackage {
                reason: "the outcome belongs to another ceremony",
            });
        }
        if let Some((_, why)) = outcome.culprits.iter().find(|(who, _)| *who == self.index) {
            return Err(CeremonyError::Disqualified {
                reason: why.clone(),
            });
        }
        let mut x = self.own;
        for i in &outcome.qualified {
            if *i == self.index {
                continue;
            }
            match self.received.0.get(i) {
                Some(share) => x += share,
                None => return Err(CeremonyError::InconsistentKeyShare),
            }
        }
        let public = outcome
            .key_shares
            .get(&self.index)
            .copied()
            .ok_or(CeremonyError::InconsistentKeyShare)?;
        let secret = SecretKey::from_scalar(x).map_err(|_| CeremonyError::InconsistentKeyShare)?;
        x.zeroize();
        let pair = KeyPair::from_secret(secret);
        if pair.public() != &public {
            return Err(CeremonyError::InconsistentKeyShare);
        }
        Ok(GuardianKeyShare {
            index: self.index,
            pair,
            params: self.params.clone(),
            decrypted: None,
        })
    }
}

/// A guardian's share of the election secret key: `x_j` with `X_j = x_j·G`.
///
/// Secret: zeroized on drop (through [`SecretKey`]), redacted `Debug`.
pub struct GuardianKeyShare {
    pub(crate) index: GuardianIndex,
    /// `x_j` with `X_j`, kept together: decryption proves with both, and `X_j` is not
    /// recomputed (a fixed-base multiplication) on every tally.
    pub(crate) pair: KeyPair,
    pub(crate) params: CeremonyParams,
    /// The digest of the one tally this guardian has decrypted, if any: it refuses any other.
    pub(crate) decrypted: Option<[u8; 64]>,
}

impl GuardianKeyShare {
    /// The guardian's index.
    pub fn index(&self) -> GuardianIndex {
        self.index
    }

    /// The public key share `X_j`.
    pub fn public(&self) -> &PublicKey {
        self.pair.public()
    }

    /// The ceremony it belongs to.
    pub fn params(&self) -> &CeremonyParams {
        &self.params
    }

    /// The secret share. Handle with care.
    pub fn expose_secret(&self) -> &SecretKey {
        self.pair.secret()
    }
}

impl core::fmt::Debug for GuardianKeyShare {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("GuardianKeyShare")
            .field("index", &self.index)
            .field("public", self.pair.public())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::super::Misbehaviour;
    use super::*;
    use merlin::Transcript;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    fn idx(i: u32) -> GuardianIndex {
        GuardianIndex::new(i).unwrap()
    }

    /// A full honest run, returning the public transcript and guardian 2's round-1 secret values.
    fn honest(
        params: &CeremonyParams,
        rng: &mut ChaCha20Rng,
    ) -> (CeremonyTranscript, Vec<Round3Secret>) {
        let (s1, hashes): (Vec<_>, Vec<_>) = params
            .indices()
            .map(|i| part1(params, i, rng).unwrap())
            .unzip();
        let (s2, reveals): (Vec<_>, Vec<_>) =
            s1.into_iter().map(|s| s.part2(&hashes).unwrap()).unzip();
        let mut shares = Vec::new();
        let s3 = s2
            .into_iter()
            .map(|s| {
                let (s3, mut sent) = s.part3(&reveals, rng).unwrap();
                shares.append(&mut sent);
                s3
            })
            .collect();
        (
            CeremonyTranscript {
                params: params.clone(),
                hashes,
                reveals,
                shares,
                complaints: vec![],
            },
            s3,
        )
    }

    #[test]
    fn colluding_senders_cannot_cancel_their_errors_in_the_combined_share_check() {
        // Guardians 1 and 2 collude against guardian 3 with everything they know (their own
        // polynomials and keys, every public package): 1 sends f_1(3) + δ and 2 sends
        // f_2(3) − δ, so the unweighted sum of the shares, and of their images, is right.
        // Guardian 3's weights are keyed with its own secret: both are caught.
        let mut rng = ChaCha20Rng::seed_from_u64(17);
        let params = CeremonyParams::new([6; 32], 2, 4).unwrap();
        let (mut transcript, secrets) = honest(&params, &mut rng);
        let recipient_key = transcript.reveals[2].encryption_key;
        let delta = Scalar::from(123_456_789u64);
        for (sender, offset) in [(0usize, delta), (1, -delta)] {
            let dealer = &secrets[sender].round2.round1;
            let link = Link {
                params: &params,
                sender: dealer.index,
                recipient: idx(3),
                sender_key: dealer.encryption.public(),
                recipient_key: &recipient_key,
            };
            let shared = recipient_key.as_point() * dealer.encryption.secret().expose_scalar();
            let wrong = dealer.polynomial.evaluate(idx(3)) + offset;
            let at = transcript
                .shares
                .iter()
                .position(|s| s.sender == dealer.index && s.recipient == idx(3))
                .unwrap();
            transcript.shares[at].sealed = link.seal(&shared, &wrong).unwrap();
        }
        let third = secrets.into_iter().nth(2).unwrap();
        let (_, complaints) = third.part4(&transcript.shares, &mut rng).unwrap();
        let accused: Vec<_> = complaints.iter().map(|c| c.accused).collect();
        assert_eq!(accused, [idx(1), idx(2)]);
        transcript.complaints = complaints;
        let outcome = adjudicate(&transcript, &mut rng).unwrap();
        assert_eq!(
            outcome.culprits(),
            &[
                (idx(1), Misbehaviour::InvalidShare { recipient: idx(3) }),
                (idx(2), Misbehaviour::InvalidShare { recipient: idx(3) })
            ]
        );
    }

    #[test]
    fn an_authentic_share_of_the_wrong_value_is_caught() {
        // Guardian 1 seals, under the right key, a value that is not f_1(3).
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let params = CeremonyParams::new([5; 32], 2, 3).unwrap();
        let (mut transcript, secrets) = honest(&params, &mut rng);
        let dealer = &secrets[0].round2.round1;
        let recipient_key = transcript.reveals[2].encryption_key;
        let link = Link {
            params: &params,
            sender: idx(1),
            recipient: idx(3),
            sender_key: dealer.encryption.public(),
            recipient_key: &recipient_key,
        };
        let shared = recipient_key.as_point() * dealer.encryption.secret().expose_scalar();
        let wrong = dealer.polynomial.evaluate(idx(3)) + Scalar::ONE;
        let sealed = link.seal(&shared, &wrong).unwrap();
        let at = transcript
            .shares
            .iter()
            .position(|s| s.sender == idx(1) && s.recipient == idx(3))
            .unwrap();
        transcript.shares[at].sealed = sealed;
        let mut complaints = Vec::new();
        let mut fourth = Vec::new();
        for s in secrets {
            let (s4, mut c) = s.part4(&transcript.shares, &mut rng).unwrap();
            complaints.append(&mut c);
            fourth.push(s4);
        }
        assert_eq!(complaints.len(), 1);
        assert_eq!(
            (complaints[0].complainer, complaints[0].accused),
            (idx(3), idx(1))
        );
        transcript.complaints = complaints;
        let outcome = adjudicate(&transcript, &mut rng).unwrap();
        assert_eq!(
            outcome.culprits(),
            &[(idx(1), Misbehaviour::InvalidShare { recipient: idx(3) })]
        );
        assert_eq!(outcome.qualified(), &[idx(2), idx(3)]);
        for s4 in fourth.into_iter().skip(1) {
            let (key, _) = s4.finish(&transcript, &mut rng).unwrap();
            assert_eq!(Some(key.public()), outcome.key_share(key.index()));
        }
    }

    #[test]
    fn proofs_of_knowledge_are_bound_to_every_statement_element() {
        let mut rng = ChaCha20Rng::seed_from_u64(2);
        let params = CeremonyParams::new([6; 32], 3, 4).unwrap();
        let (s1, _) = part1(&params, idx(2), &mut rng).unwrap();
        let reveal = &s1.reveal;
        let pok = &reveal.proofs[1];
        let c1 = &reveal.commitments[1];
        assert!(pok
            .verify(&mut coefficient_transcript(&params, idx(2), 1), c1)
            .is_ok());
        // Another coefficient index, guardian, ceremony id, threshold, n, purpose, commitment.
        assert!(pok
            .verify(&mut coefficient_transcript(&params, idx(2), 2), c1)
            .is_err());
        assert!(pok
            .verify(&mut coefficient_transcript(&params, idx(3), 1), c1)
            .is_err());
        for other in [
            CeremonyParams::new([7; 32], 3, 4).unwrap(),
            CeremonyParams::new([6; 32], 2, 4).unwrap(),
            CeremonyParams::new([6; 32], 3, 5).unwrap(),
        ] {
            assert!(pok
                .verify(&mut coefficient_transcript(&other, idx(2), 1), c1)
                .is_err());
        }
        assert!(pok
            .verify(&mut encryption_key_transcript(&params, idx(2)), c1)
            .is_err());
        assert!(pok
            .verify(
                &mut coefficient_transcript(&params, idx(2), 1),
                &reveal.commitments[0]
            )
            .is_err());
        // The encryption key's proof likewise.
        let epok = &reveal.encryption_key_proof;
        assert!(epok
            .verify(
                &mut encryption_key_transcript(&params, idx(2)),
                &reveal.encryption_key
            )
            .is_ok());
        assert!(epok
            .verify(
                &mut encryption_key_transcript(&params, idx(1)),
                &reveal.encryption_key
            )
            .is_err());
        assert!(epok
            .verify(
                &mut coefficient_transcript(&params, idx(2), 0),
                &reveal.encryption_key
            )
            .is_err());
    }

    #[test]
    fn complaint_proofs_are_bound_to_complainer_accused_and_keys() {
        let mut rng = ChaCha20Rng::seed_from_u64(3);
        let params = CeremonyParams::new([8; 32], 2, 3).unwrap();
        let (transcript, secrets) = honest(&params, &mut rng);
        let me = &secrets[2].round2.round1; // guardian 3
        let accused_key = transcript.reveals[0].encryption_key; // guardian 1
        let shared = GroupElement::from_point(
            accused_key.as_point() * me.encryption.secret().expose_scalar(),
        );
        let proof = ChaumPedersenProof::prove(
            &mut complaint_transcript(&params, idx(3), idx(1)),
            &me.encryption,
            accused_key.as_element(),
            &shared,
            &mut rng,
        )
        .unwrap();
        let verify =
            |t: &mut Transcript, public: &PublicKey, base: &PublicKey, image: &GroupElement| {
                proof.verify(t, public, base.as_element(), image).is_ok()
            };
        let mine = me.encryption.public();
        assert!(verify(
            &mut complaint_transcript(&params, idx(3), idx(1)),
            mine,
            &accused_key,
            &shared
        ));
        assert!(!verify(
            &mut complaint_transcript(&params, idx(2), idx(1)),
            mine,
            &accused_key,
            &shared
        ));
        assert!(!verify(
            &mut complaint_transcript(&params, idx(3), idx(2)),
            mine,
            &accused_key,
            &shared
        ));
        let other = transcript.reveals[1].encryption_key;
        assert!(!verify(
            &mut complaint_transcript(&params, idx(3), idx(1)),
            &other,
            &accused_key,
            &shared
        ));
        assert!(!verify(
            &mut complaint_transcript(&params, idx(3), idx(1)),
            mine,
            &other,
            &shared
        ));
        let off = GroupElement::from_point(shared.point + GroupElement::basepoint().point);
        assert!(!verify(
            &mut complaint_transcript(&params, idx(3), idx(1)),
            mine,
            &accused_key,
            &off
        ));
    }
}
