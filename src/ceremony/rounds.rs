//! The ceremony's rounds (typestate), the public transcript and its adjudication.

use std::collections::BTreeMap;

use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::{Identity, VartimeMultiscalarMul};
use merlin::Transcript;
use rand_core::{CryptoRng, RngCore};
use zeroize::{Zeroize, ZeroizeOnDrop};

use super::channel::Link;
use super::packages::{CommitmentHashPackage, Complaint, EncryptedShare, RevealPackage};
use super::{labels, CeremonyError, CeremonyParams, GuardianIndex, Misbehaviour};
use crate::group::GroupElement;
use crate::keys::{KeyPair, PublicKey, SecretKey};
use crate::proofs::{BatchVerifier, ChaumPedersenProof, SchnorrProof};

fn coefficient_transcript(
    params: &CeremonyParams,
    guardian: GuardianIndex,
    k: usize,
) -> Transcript {
    let mut t = params.transcript(labels::PURPOSE_COEFFICIENT, guardian);
    t.append_u64(labels::COEFFICIENT_INDEX, k as u64);
    t
}

fn encryption_key_transcript(params: &CeremonyParams, guardian: GuardianIndex) -> Transcript {
    params.transcript(labels::PURPOSE_ENCRYPTION_KEY, guardian)
}

fn complaint_transcript(
    params: &CeremonyParams,
    complainer: GuardianIndex,
    accused: GuardianIndex,
) -> Transcript {
    let mut t = params.transcript(labels::PURPOSE_COMPLAINT, complainer);
    t.append_u64(labels::ACCUSED, u64::from(accused.get()));
    t
}

/// `Σ_k x^k·C_k`: the public image `f(x)·G` of a committed polynomial (variable time; public).
fn evaluate_commitments(commitments: &[PublicKey], x: GuardianIndex) -> RistrettoPoint {
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

/// A guardian's secret polynomial, evaluated in constant time (Horner's rule).
#[derive(Zeroize, ZeroizeOnDrop)]
struct Polynomial(Vec<Scalar>);

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
    let keys = secrets4
        .into_iter()
        .map(|s| s.finish(&transcript, rng).map(|(key, _)| key))
        .collect::<Result<Vec<_>, _>>()?;
    Ok((transcript, keys))
}

/// A guardian's secret state after round 1. **Never sent**: it holds the polynomial.
/// Zeroized on drop.
pub struct Round1Secret {
    params: CeremonyParams,
    index: GuardianIndex,
    polynomial: Polynomial,
    encryption: KeyPair,
    reveal: RevealPackage,
}

impl core::fmt::Debug for Round1Secret {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Round1Secret({}, <redacted>)", self.index)
    }
}

impl Round1Secret {
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
    round1: Round1Secret,
    hashes: Vec<CommitmentHashPackage>,
}

impl core::fmt::Debug for Round2Secret {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Round2Secret({}, <redacted>)", self.round1.index)
    }
}

impl Round2Secret {
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
    round2: Round2Secret,
    reveals: BTreeMap<GuardianIndex, RevealPackage>,
}

impl core::fmt::Debug for Round3Secret {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Round3Secret({}, <redacted>)", self.round2.round1.index)
    }
}

impl Round3Secret {
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
            let valid = link.open(&shared, &package.sealed).filter(|share| {
                curve25519_dalek::constants::RISTRETTO_BASEPOINT_TABLE * share
                    == evaluate_commitments(&reveal.commitments, me)
            });
            match valid {
                Some(share) => {
                    received.insert(i, share);
                }
                None => {
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
            }
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

#[derive(Default)]
struct SecretShares(BTreeMap<GuardianIndex, Scalar>);

impl Drop for SecretShares {
    fn drop(&mut self) {
        for s in self.0.values_mut() {
            s.zeroize();
        }
    }
}

/// A guardian's secret state after round 4: the valid shares it received. **Never sent.**
pub struct Round4Secret {
    params: CeremonyParams,
    index: GuardianIndex,
    own: Scalar,
    received: SecretShares,
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
        if secret.public_key() != public {
            return Err(CeremonyError::InconsistentKeyShare);
        }
        Ok((
            GuardianKeyShare {
                index: self.index,
                secret,
                public,
                params: self.params.clone(),
                decrypted: None,
            },
            outcome,
        ))
    }
}

/// A guardian's share of the election secret key: `x_j` with `X_j = x_j·G`.
///
/// Secret: zeroized on drop (through [`SecretKey`]), redacted `Debug`.
pub struct GuardianKeyShare {
    pub(crate) index: GuardianIndex,
    pub(crate) secret: SecretKey,
    pub(crate) public: PublicKey,
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
        &self.public
    }

    /// The ceremony it belongs to.
    pub fn params(&self) -> &CeremonyParams {
        &self.params
    }

    /// The secret share. Handle with care.
    pub fn expose_secret(&self) -> &SecretKey {
        &self.secret
    }
}

impl core::fmt::Debug for GuardianKeyShare {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("GuardianKeyShare")
            .field("index", &self.index)
            .field("public", &self.public)
            .finish_non_exhaustive()
    }
}

/// Everything the ceremony broadcast: enough for anyone to adjudicate it and derive the
/// election key and every guardian's public key share. It goes into the election record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CeremonyTranscript {
    /// The parameters.
    pub params: CeremonyParams,
    /// Round 1.
    pub hashes: Vec<CommitmentHashPackage>,
    /// Round 2.
    pub reveals: Vec<RevealPackage>,
    /// Round 3.
    pub shares: Vec<EncryptedShare>,
    /// Round 4.
    pub complaints: Vec<Complaint>,
}

const KIND_TRANSCRIPT: u8 = 32;

/// The most packages one section of a decoded transcript may hold: two per slot (one package,
/// plus a second, different one as evidence of equivocation; exact repeats are merged before
/// publication), where a section has `n` slots (hashes, reveals) or `n·(n-1)` (shares,
/// complaints). At most `2·255·254 = 129,540` for the largest ceremony.
fn max_section_packages(params: &CeremonyParams, per_pair: bool) -> u32 {
    let n = params.guardians();
    let slots = if per_pair {
        n.saturating_mul(n.saturating_sub(1))
    } else {
        n
    };
    slots.saturating_mul(2)
}

impl CeremonyTranscript {
    /// The canonical encoding, for the election record.
    ///
    /// # Layout
    /// version, kind 32, ceremony id (32 bytes), t (u32), n (u32), then four sections (hashes,
    /// reveals, shares, complaints), each a count (u32) followed by that many packages, each
    /// prefixed by its length (u32).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = vec![super::CEREMONY_VERSION, KIND_TRANSCRIPT];
        out.extend_from_slice(self.params.id());
        out.extend_from_slice(&self.params.threshold().to_le_bytes());
        out.extend_from_slice(&self.params.guardians().to_le_bytes());
        fn section(out: &mut Vec<u8>, packages: Vec<Vec<u8>>) {
            out.extend_from_slice(&(packages.len() as u32).to_le_bytes());
            for p in packages {
                out.extend_from_slice(&(p.len() as u32).to_le_bytes());
                out.extend_from_slice(&p);
            }
        }
        section(&mut out, self.hashes.iter().map(|p| p.to_bytes()).collect());
        section(
            &mut out,
            self.reveals.iter().map(|p| p.to_bytes()).collect(),
        );
        section(&mut out, self.shares.iter().map(|p| p.to_bytes()).collect());
        section(
            &mut out,
            self.complaints.iter().map(|p| p.to_bytes()).collect(),
        );
        out
    }

    /// Decodes a transcript.
    ///
    /// # Errors
    /// [`DecodeError`](crate::DecodeError) for a wrong version or kind, inadmissible parameters,
    /// a package that does not decode, or trailing bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, crate::DecodeError> {
        use crate::errors::DecodeError;
        use crate::group::Reader;
        const WHAT: &str = "ceremony transcript";
        let mut reader = Reader::new(bytes, WHAT, "a complete transcript");
        let version = reader.u8()?;
        if version != super::CEREMONY_VERSION {
            return Err(DecodeError::UnsupportedVersion {
                what: WHAT,
                version,
            });
        }
        if reader.u8()? != KIND_TRANSCRIPT {
            return Err(DecodeError::Malformed {
                what: WHAT,
                reason: "wrong package kind",
            });
        }
        let id = reader.array::<32>()?;
        let (t, n) = (reader.u32()?, reader.u32()?);
        let params = CeremonyParams::new(id, t, n).map_err(|_| DecodeError::Malformed {
            what: WHAT,
            reason: "inadmissible threshold or number of guardians",
        })?;
        fn section<T>(
            reader: &mut Reader<'_>,
            max: u32,
            decode: fn(&[u8]) -> Result<T, DecodeError>,
        ) -> Result<Vec<T>, DecodeError> {
            let count = reader.u32()?;
            if count > max {
                return Err(DecodeError::TooLarge {
                    what: WHAT,
                    max: u64::from(max),
                    actual: u64::from(count),
                });
            }
            let mut out = Vec::new();
            for _ in 0..count {
                let len = reader.u32()? as usize;
                out.push(decode(reader.bytes(len)?)?);
            }
            Ok(out)
        }
        let (per_guardian, per_pair) = (
            max_section_packages(&params, false),
            max_section_packages(&params, true),
        );
        let hashes = section(&mut reader, per_guardian, CommitmentHashPackage::from_bytes)?;
        let reveals = section(&mut reader, per_guardian, RevealPackage::from_bytes)?;
        let shares = section(&mut reader, per_pair, EncryptedShare::from_bytes)?;
        let complaints = section(&mut reader, per_pair, Complaint::from_bytes)?;
        reader.finish()?;
        Ok(Self {
            params,
            hashes,
            reveals,
            shares,
            complaints,
        })
    }
}

/// The public result of a ceremony.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CeremonyOutcome {
    params: CeremonyParams,
    qualified: Vec<GuardianIndex>,
    culprits: Vec<(GuardianIndex, Misbehaviour)>,
    joint_key: PublicKey,
    key_shares: BTreeMap<GuardianIndex, PublicKey>,
    transcript_digest: [u8; 64],
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
}

/// One broadcast slot (a sender's hash or reveal, a sender's share to one recipient, a
/// complainer's complaint against one accused) after exact repeats are merged.
///
/// A package repeated byte for byte is one package: a rebroadcast or a channel's retry is no
/// fault, and every guardian and every auditor merges it the same way. Two *different* packages
/// in one slot are equivocation by the slot's sender.
enum Slot<'a, T> {
    One(&'a T),
    Equivocated,
}

/// Indexes `items` by slot in one pass, `O(N log N)` for `N` packages (a hostile transcript
/// costs no more than an honest one of its size).
fn slots<'a, K: Ord, T: PartialEq>(
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
fn share_slots(
    shares: &[EncryptedShare],
) -> BTreeMap<(GuardianIndex, GuardianIndex), Slot<'_, EncryptedShare>> {
    slots(shares, |s| (s.sender, s.recipient))
}

fn check_enough(
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
fn qualify_reveals<'a, R: RngCore + CryptoRng>(
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
    for i in params.indices() {
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
        if reveal.commitment_hash(params) != hash {
            culprits.insert(i, Misbehaviour::CommitmentMismatch);
            continue;
        }
        if reveal.commitments.len() != params.threshold() as usize
            || reveal.proofs.len() != reveal.commitments.len()
        {
            culprits.insert(i, Misbehaviour::MalformedReveal);
            continue;
        }
        candidates.insert(i, reveal);
    }
    // Every proof of knowledge, in one batch; a failure names the exact proof.
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
    // Guardians stop at round 3 when too few reveals are valid (see `part3`): judge that first,
    // so that they are not blamed for shares they rightly did not send.
    check_enough(params, reveals.len(), &culprits)?;
    let mut culprits: BTreeMap<GuardianIndex, Misbehaviour> = culprits.into_iter().collect();

    // Round 3: one share (exact repeats merged) from every qualified guardian to every other.
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

    // Round 4: every complaint slot between guardians that revealed, in index order. Exact
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
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
