//! Public adjudication: anyone (every guardian, every auditor) judges the transcript and gets
//! the same outcome, the culprits named; the statements every proof of the ceremony is bound to.

use std::collections::BTreeMap;

use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::{Identity, VartimeMultiscalarMul};
use merlin::Transcript;
use rand_core::{CryptoRng, RngCore};

use super::channel::Link;
use super::packages::{CommitmentHashPackage, EncryptedShare, RevealPackage};
use super::{CeremonyError, CeremonyParams, GuardianIndex, Misbehaviour};
use crate::keys::PublicKey;
use crate::proofs::BatchVerifier;
use crate::transcript::labels;

use super::transcript::CeremonyTranscript;

pub(super) fn coefficient_transcript(
    params: &CeremonyParams,
    guardian: GuardianIndex,
    k: usize,
) -> Transcript {
    let mut t = params.transcript(labels::PURPOSE_COEFFICIENT, guardian);
    t.append_u64(labels::COEFFICIENT_INDEX, k as u64);
    t
}

pub(super) fn encryption_key_transcript(
    params: &CeremonyParams,
    guardian: GuardianIndex,
) -> Transcript {
    params.transcript(labels::PURPOSE_ENCRYPTION_KEY, guardian)
}

pub(super) fn complaint_transcript(
    params: &CeremonyParams,
    complainer: GuardianIndex,
    accused: GuardianIndex,
) -> Transcript {
    let mut t = params.transcript(labels::PURPOSE_COMPLAINT, complainer);
    t.append_u64(labels::ACCUSED, u64::from(accused.get()));
    t
}

/// `Σ_k x^k·C_k`: the public image `f(x)·G` of a committed polynomial (variable time; public).
pub(super) fn evaluate_commitments(commitments: &[PublicKey], x: GuardianIndex) -> RistrettoPoint {
    let x = x.to_scalar();
    let mut power = Scalar::ONE;
    let powers: Vec<Scalar> = commitments
        .iter()
        .map(|_| {
            let p = power;
            power *= x;
            p
        })
        .collect();
    RistrettoPoint::vartime_multiscalar_mul(&powers, commitments.iter().map(|c| c.as_point()))
}

/// The public result of a ceremony.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CeremonyOutcome {
    pub(super) params: CeremonyParams,
    pub(super) qualified: Vec<GuardianIndex>,
    pub(super) culprits: Vec<(GuardianIndex, Misbehaviour)>,
    pub(super) joint_key: PublicKey,
    pub(super) key_shares: BTreeMap<GuardianIndex, PublicKey>,
    pub(super) transcript_digest: [u8; 64],
}

impl CeremonyOutcome {
    /// `SHA-512("evote/ceremony-transcript/v1" ‖ transcript encoding)` of the transcript this
    /// outcome was adjudicated from. The election context absorbs it, so every byte of the
    /// published transcript — the sealed shares too, which no outsider can open — is bound to
    /// the election.
    pub fn transcript_digest(&self) -> &[u8; 64] {
        &self.transcript_digest
    }

    /// The election public key `K = Σ_{i∈Q} C_{i,0}`.
    pub fn joint_key(&self) -> &PublicKey {
        &self.joint_key
    }

    /// The qualified guardians `Q`, in index order.
    pub fn qualified(&self) -> &[GuardianIndex] {
        &self.qualified
    }

    /// The disqualified guardians and why, in index order.
    pub fn culprits(&self) -> &[(GuardianIndex, Misbehaviour)] {
        &self.culprits
    }

    /// Guardian `j`'s public key share `X_j = Σ_{i∈Q} Σ_k j^k·C_{i,k}`, if `j` is qualified.
    pub fn key_share(&self, j: GuardianIndex) -> Option<&PublicKey> {
        self.key_shares.get(&j)
    }

    /// The parameters.
    pub fn params(&self) -> &CeremonyParams {
        &self.params
    }

    /// The canonical encoding (docs/wire-format.md): `version (1) ‖ kind 51 ‖ parameters (40)
    /// ‖ enc(K) ‖ LE32(|Q|) ‖ per qualified guardian, in index order, LE32(j) ‖ enc(X_j) ‖
    /// LE32(culprits) ‖ per culprit, in index order, LE32(i) ‖ code (1) ‖ LE32(argument) ‖
    /// transcript digest (64)`, with the codes of [`Misbehaviour::code`].
    ///
    /// There is deliberately no plain decoder: an outcome is what adjudication of a transcript
    /// finds, so it is read back with [`confirm`](Self::confirm), which adjudicates the
    /// transcript again and compares. (A voter's client, which has no transcript, reads the
    /// election's public part, checked against `H_E`, as a
    /// [`VoterContext`](crate::election::VoterContext).)
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(
            2 + 40 + 32 + 4 + 36 * self.qualified.len() + 4 + 9 * self.culprits.len() + 64,
        );
        out.extend_from_slice(&[super::CEREMONY_VERSION, 51]);
        out.extend_from_slice(&self.params.to_bytes());
        out.extend_from_slice(self.joint_key.as_bytes());
        out.extend_from_slice(&(self.qualified.len() as u32).to_le_bytes());
        for j in &self.qualified {
            out.extend_from_slice(&j.get().to_le_bytes());
            if let Some(x) = self.key_shares.get(j) {
                out.extend_from_slice(x.as_bytes());
            }
        }
        out.extend_from_slice(&(self.culprits.len() as u32).to_le_bytes());
        for (i, why) in &self.culprits {
            let (code, argument) = why.code();
            out.extend_from_slice(&i.get().to_le_bytes());
            out.push(code);
            out.extend_from_slice(&argument.to_le_bytes());
        }
        out.extend_from_slice(&self.transcript_digest);
        out
    }

    /// Reads an outcome back: adjudicates `transcript` and returns its outcome if that encodes
    /// to exactly `bytes`.
    ///
    /// # Errors
    /// [`CeremonyError`] from adjudication; [`CeremonyError::OutcomeMismatch`] if the
    /// transcript's outcome is another.
    pub fn confirm<R: RngCore + CryptoRng>(
        bytes: &[u8],
        transcript: &CeremonyTranscript,
        rng: &mut R,
    ) -> Result<Self, CeremonyError> {
        let outcome = adjudicate(transcript, rng)?;
        if outcome.to_bytes() != bytes {
            return Err(CeremonyError::OutcomeMismatch);
        }
        Ok(outcome)
    }
}

/// One broadcast slot (a sender's hash or reveal, a sender's share to one recipient, a
/// complainer's complaint against one accused) after exact repeats are merged.
///
/// A package repeated byte for byte is one package: a rebroadcast or a channel's retry is no
/// fault, and every guardian and every auditor merges it the same way. Two *different* packages
/// in one slot are equivocation by the slot's sender.
pub(super) enum Slot<'a, T> {
    One(&'a T),
    Equivocated,
}

/// Indexes `items` by slot in one pass, `O(N log N)` for `N` packages (a hostile transcript
/// costs no more than an honest one of its size).
pub(super) fn slots<'a, K: Ord, T: PartialEq>(
    items: &'a [T],
    key: impl Fn(&T) -> K,
) -> BTreeMap<K, Slot<'a, T>> {
    let mut out: BTreeMap<K, Slot<'a, T>> = BTreeMap::new();
    for item in items {
        match out.entry(key(item)) {
            std::collections::btree_map::Entry::Vacant(v) => {
                v.insert(Slot::One(item));
            }
            std::collections::btree_map::Entry::Occupied(mut o) => {
                if let Slot::One(first) = o.get() {
                    if *first != item {
                        o.insert(Slot::Equivocated);
                    }
                }
            }
        }
    }
    out
}

/// The shares of a round-3 broadcast by `(sender, recipient)`: what `part4` opens and what
/// `adjudicate` judges come from this one function, so they cannot disagree.
pub(super) fn share_slots(
    shares: &[EncryptedShare],
) -> BTreeMap<(GuardianIndex, GuardianIndex), Slot<'_, EncryptedShare>> {
    slots(shares, |s| (s.sender, s.recipient))
}

pub(super) fn check_enough(
    params: &CeremonyParams,
    qualified: usize,
    culprits: &[(GuardianIndex, Misbehaviour)],
) -> Result<(), CeremonyError> {
    if (qualified as u64) < u64::from(params.threshold()) {
        return Err(CeremonyError::NotEnoughGuardians {
            qualified: qualified as u32,
            threshold: params.threshold(),
            culprits: culprits.to_vec(),
        });
    }
    Ok(())
}

/// Rounds 1–2 of the adjudication: which reveals are unique, match their hash, have `t`
/// commitments and valid proofs (checked in one batch).
pub(super) fn qualify_reveals<'a, R: RngCore + CryptoRng>(
    params: &CeremonyParams,
    hashes: &[CommitmentHashPackage],
    reveals: &'a [RevealPackage],
    rng: &mut R,
) -> (
    BTreeMap<GuardianIndex, &'a RevealPackage>,
    Vec<(GuardianIndex, Misbehaviour)>,
) {
    let mut culprits: BTreeMap<GuardianIndex, Misbehaviour> = BTreeMap::new();
    let mut candidates: BTreeMap<GuardianIndex, &RevealPackage> = BTreeMap::new();
    let hash_slots = slots(hashes, |h| h.sender);
    let reveal_slots = slots(reveals, |r| r.sender);
    // docs/ceremony.md, *Complaints and adjudication*, step 1: for i = 1..=n (a package
    // naming a sender above n is never looked at).
    for i in params.indices() {
        // Step 1.1.
        let hash = match hash_slots.get(&i) {
            None => {
                culprits.insert(i, Misbehaviour::MissingCommitmentHash);
                continue;
            }
            Some(Slot::One(package)) => package.hash,
            Some(Slot::Equivocated) => {
                culprits.insert(i, Misbehaviour::Equivocation);
                continue;
            }
        };
        // Step 1.2.
        let reveal = match reveal_slots.get(&i) {
            None => {
                culprits.insert(i, Misbehaviour::MissingReveal);
                continue;
            }
            Some(Slot::One(reveal)) => *reveal,
            Some(Slot::Equivocated) => {
                culprits.insert(i, Misbehaviour::Equivocation);
                continue;
            }
        };
        // Step 1.3: the hash covers the whole reveal package encoding.
        if reveal.commitment_hash(params) != hash {
            culprits.insert(i, Misbehaviour::CommitmentMismatch);
            continue;
        }
        // Step 1.4.
        if reveal.commitments.len() != params.threshold() as usize
            || reveal.proofs.len() != reveal.commitments.len()
        {
            culprits.insert(i, Misbehaviour::MalformedReveal);
            continue;
        }
        candidates.insert(i, reveal);
    }
    // Step 2. Every proof of knowledge, in one batch; a failure names the exact proof, and a
    // guardian's first failing proof (coefficients in order, then the encryption key) is the
    // one recorded.
    let mut batch = BatchVerifier::new(&mut *rng);
    let mut owners = Vec::new();
    for (&i, reveal) in &candidates {
        for (k, (commitment, proof)) in reveal.commitments.iter().zip(&reveal.proofs).enumerate() {
            batch.queue_schnorr(&mut coefficient_transcript(params, i, k), proof, commitment);
            owners.push((
                i,
                Misbehaviour::InvalidProofOfKnowledge {
                    coefficient: k as u32,
                },
            ));
        }
        batch.queue_schnorr(
            &mut encryption_key_transcript(params, i),
            &reveal.encryption_key_proof,
            &reveal.encryption_key,
        );
        owners.push((i, Misbehaviour::InvalidEncryptionKeyProof));
    }
    if let Err(failed) = batch.verify() {
        for position in failed.culprits() {
            if let Some((i, why)) = owners.get(position) {
                culprits.entry(*i).or_insert_with(|| why.clone());
                candidates.remove(i);
            }
        }
    }
    (candidates, culprits.into_iter().collect())
}

/// Adjudicates a ceremony from its public transcript alone: who qualified, who cheated and how,
/// the election key and every qualified guardian's public key share. Every guardian and every
/// auditor runs this and gets the same answer (`rng` only draws batch-verification weights).
///
/// # Errors
/// [`CeremonyError::NotEnoughGuardians`] naming the culprits if fewer than `t` qualify.
pub fn adjudicate<R: RngCore + CryptoRng>(
    transcript: &CeremonyTranscript,
    rng: &mut R,
) -> Result<CeremonyOutcome, CeremonyError> {
    let params = &transcript.params;
    let (reveals, culprits) = qualify_reveals(params, &transcript.hashes, &transcript.reveals, rng);
    // Step 3. Guardians stop at round 3 when too few reveals are valid (see `part3`): judge
    // that first, so that they are not blamed for shares they rightly did not send.
    check_enough(params, reveals.len(), &culprits)?;
    let mut culprits: BTreeMap<GuardianIndex, Misbehaviour> = culprits.into_iter().collect();

    // Step 4, round 3: one share (exact repeats merged) from every qualified guardian to every
    // other; only the first misbehaviour of a guardian is recorded (`or_insert`).
    let share_slots = share_slots(&transcript.shares);
    let mut packages: BTreeMap<(GuardianIndex, GuardianIndex), &EncryptedShare> = BTreeMap::new();
    for i in reveals.keys() {
        for j in reveals.keys().filter(|j| *j != i) {
            match share_slots.get(&(*i, *j)) {
                None => {
                    culprits
                        .entry(*i)
                        .or_insert(Misbehaviour::MissingShare { recipient: *j });
                }
                Some(Slot::One(one)) => {
                    packages.insert((*i, *j), *one);
                }
                Some(Slot::Equivocated) => {
                    culprits.entry(*i).or_insert(Misbehaviour::Equivocation);
                }
            }
        }
    }

    // Step 5, round 4: every complaint slot between guardians that revealed, in index order. Exact
    // repeats are one complaint; two different complaints by one guardian against another are
    // equivocation by the complainer (an honest guardian files one per accused).
    for (&(j, i), slot) in &slots(&transcript.complaints, |c| (c.complainer, c.accused)) {
        let (Some(accuser), Some(accused)) = (reveals.get(&j), reveals.get(&i)) else {
            continue;
        };
        let complaint = match slot {
            Slot::One(complaint) => *complaint,
            Slot::Equivocated => {
                culprits.entry(j).or_insert(Misbehaviour::Equivocation);
                continue;
            }
        };
        let Some(package) = packages.get(&(i, j)) else {
            continue; // already judged as missing
        };
        let proof_ok = complaint
            .proof
            .verify(
                &mut complaint_transcript(params, j, i),
                &accuser.encryption_key,
                accused.encryption_key.as_element(),
                &complaint.shared,
            )
            .is_ok();
        if !proof_ok {
            culprits
                .entry(j)
                .or_insert(Misbehaviour::InvalidComplaint { accused: i });
            continue;
        }
        let link = Link {
            params,
            sender: i,
            recipient: j,
            sender_key: &accused.encryption_key,
            recipient_key: &accuser.encryption_key,
        };
        let share_ok = link
            .open(&complaint.shared.point, &package.sealed)
            .is_some_and(|share| {
                curve25519_dalek::constants::RISTRETTO_BASEPOINT_TABLE * &share
                    == evaluate_commitments(&accused.commitments, j)
            });
        if share_ok {
            culprits
                .entry(j)
                .or_insert(Misbehaviour::FalseComplaint { accused: i });
        } else {
            culprits
                .entry(i)
                .or_insert(Misbehaviour::InvalidShare { recipient: j });
        }
    }

    // Step 6.
    let qualified: Vec<GuardianIndex> = reveals
        .keys()
        .filter(|i| !culprits.contains_key(i))
        .copied()
        .collect();
    let culprits: Vec<(GuardianIndex, Misbehaviour)> = culprits.into_iter().collect();
    check_enough(params, qualified.len(), &culprits)?;

    // A_k = Σ_{i∈Q} C_{i,k}; K = A_0; X_j = Σ_k j^k·A_k.
    let t = params.threshold() as usize;
    let mut aggregate = vec![RistrettoPoint::identity(); t];
    for i in &qualified {
        if let Some(reveal) = reveals.get(i) {
            for (a, c) in aggregate.iter_mut().zip(&reveal.commitments) {
                *a += c.as_point();
            }
        }
    }
    let aggregate: Vec<PublicKey> = aggregate
        .into_iter()
        .map(PublicKey::from_point)
        .collect::<Result<_, _>>()
        .map_err(|_| CeremonyError::UnexpectedPackage {
            reason: "the aggregated commitments include the identity",
        })?;
    let joint_key = *aggregate.first().ok_or(CeremonyError::InvalidParameters {
        reason: "the threshold must be at least 1",
    })?;
    let mut key_shares = BTreeMap::new();
    for j in &qualified {
        let share = PublicKey::from_point(evaluate_commitments(&aggregate, *j)).map_err(|_| {
            CeremonyError::UnexpectedPackage {
                reason: "a public key share is the identity",
            }
        })?;
        key_shares.insert(*j, share);
    }
    let transcript_digest = {
        use sha2::{Digest, Sha512};
        let mut h = Sha512::new();
        h.update(b"evote/ceremony-transcript/v1");
        h.update(transcript.to_bytes());
        h.finalize().into()
    };
    Ok(CeremonyOutcome {
        params: params.clone(),
        qualified,
        culprits,
        joint_key,
        key_shares,
        transcript_digest,
    })
}
