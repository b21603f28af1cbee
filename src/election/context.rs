//! The election context: everything a ballot's proofs are bound to, hashed into one value.

use merlin::Transcript;
use sha2::{Digest, Sha512};

use super::credentials::CredentialList;
use super::manifest::{Manifest, ManifestError, MAX_MANIFEST_BYTES};
use crate::ceremony::{
    CeremonyOutcome, CeremonyParams, GuardianIndex, CEREMONY_VERSION, MAX_GUARDIANS,
};
use crate::errors::DecodeError;
use crate::group::Reader;
use crate::keys::{EncryptionKey, PublicKey};
use crate::transcript::{labels, CIPHERSUITE, PROTOCOL_VERSION};

/// What a voter's client needs of an election, and nothing more: the manifest, the election
/// key, the guardians' public key shares, and the digests of the credential list and of the
/// ceremony transcript (not the list and the transcript themselves: 6.4 MB for 200,000 voters,
/// about 1 GB at 30 M). It hashes to the same `H_E` as the full [`ElectionContext`]:
///
/// ```text
/// H_E = SHA-512("evote/election-context/v1" ‖ str(PROTOCOL_VERSION) ‖ str(CIPHERSUITE)
///               ‖ manifest hash ‖ enc(K) ‖ credential root ‖ ceremony id ‖ LE32(t) ‖ LE32(n)
///               ‖ LE32(|Q|) ‖ for each qualified guardian j: LE32(j) ‖ enc(X_j)
///               ‖ ceremony transcript digest)
/// ```
///
/// A client reads it with [`VoterContext::from_bytes`], which takes the election hash the
/// voter trusts (published by the election authority, printed in the voter's letter) and
/// refuses any encoding that does not hash to it: a ballot box that serves another key or
/// another manifest is caught before anything is encrypted.
pub struct VoterContext {
    manifest: Manifest,
    params: CeremonyParams,
    joint_key: PublicKey,
    key_shares: Vec<(GuardianIndex, PublicKey)>,
    credential_root: [u8; 64],
    transcript_digest: [u8; 64],
    key: EncryptionKey,
    hash: [u8; 64],
}

/// Kind byte of the voter context's encoding.
const KIND_VOTER_CONTEXT: u8 = 50;

/// Why a voter context was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ContextError {
    /// The bytes are not a voter context.
    Decode(DecodeError),
    /// The manifest inside is not a valid canonical manifest.
    Manifest(ManifestError),
    /// It decodes, but hashes to another election than the one trusted.
    WrongElection {
        /// The election hash these bytes describe (hex in the message).
        found: [u8; 64],
    },
}

impl core::fmt::Display for ContextError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Decode(e) => write!(f, "election context: {e}"),
            Self::Manifest(e) => write!(f, "election context: {e}"),
            Self::WrongElection { found } => write!(
                f,
                "election context: it describes election {}…, not the election hash trusted",
                crate::text::to_hex(found.get(..8).unwrap_or(&[]))
            ),
        }
    }
}

impl std::error::Error for ContextError {}

impl From<DecodeError> for ContextError {
    fn from(e: DecodeError) -> Self {
        Self::Decode(e)
    }
}

impl VoterContext {
    fn new(
        manifest: Manifest,
        outcome: &CeremonyOutcome,
        credential_root: [u8; 64],
    ) -> Result<Self, ManifestError> {
        manifest.validate()?;
        let key_shares = outcome
            .qualified()
            .iter()
            .filter_map(|j| outcome.key_share(*j).map(|x| (*j, *x)))
            .collect();
        Ok(Self::assemble(
            manifest,
            outcome.params().clone(),
            *outcome.joint_key(),
            key_shares,
            credential_root,
            *outcome.transcript_digest(),
        ))
    }

    fn assemble(
        manifest: Manifest,
        params: CeremonyParams,
        joint_key: PublicKey,
        key_shares: Vec<(GuardianIndex, PublicKey)>,
        credential_root: [u8; 64],
        transcript_digest: [u8; 64],
    ) -> Self {
        let mut h = Sha512::new();
        h.update(b"evote/election-context/v1");
        for s in [PROTOCOL_VERSION, CIPHERSUITE] {
            h.update((s.len() as u32).to_le_bytes());
            h.update(s);
        }
        h.update(manifest.hash());
        h.update(joint_key.as_bytes());
        h.update(credential_root);
        h.update(params.id());
        h.update(params.threshold().to_le_bytes());
        h.update(params.guardians().to_le_bytes());
        h.update((key_shares.len() as u32).to_le_bytes());
        for (j, x) in &key_shares {
            h.update(j.get().to_le_bytes());
            h.update(x.as_bytes());
        }
        h.update(transcript_digest);
        let key = EncryptionKey::new(&joint_key);
        Self {
            manifest,
            params,
            joint_key,
            key_shares,
            credential_root,
            transcript_digest,
            key,
            hash: h.finalize().into(),
        }
    }

    /// The canonical encoding (`context.bin`, docs/wire-format.md): `version (1) ‖ kind 50 ‖
    /// LE32(m) ‖ manifest encoding (m bytes) ‖ enc(K) ‖ credential root (64) ‖ ceremony id (32)
    /// ‖ LE32(t) ‖ LE32(n) ‖ LE32(|Q|) ‖ per qualified guardian, in increasing order, LE32(j) ‖
    /// enc(X_j) ‖ transcript digest (64)`.
    pub fn to_bytes(&self) -> Vec<u8> {
        let manifest = self.manifest.to_bytes();
        let mut out = Vec::with_capacity(
            2 + 4 + manifest.len() + 32 + 64 + 32 + 12 + 36 * self.key_shares.len() + 64,
        );
        out.extend_from_slice(&[CEREMONY_VERSION, KIND_VOTER_CONTEXT]);
        out.extend_from_slice(&(manifest.len() as u32).to_le_bytes());
        out.extend_from_slice(&manifest);
        out.extend_from_slice(self.joint_key.as_bytes());
        out.extend_from_slice(&self.credential_root);
        out.extend_from_slice(self.params.id());
        out.extend_from_slice(&self.params.threshold().to_le_bytes());
        out.extend_from_slice(&self.params.guardians().to_le_bytes());
        out.extend_from_slice(&(self.key_shares.len() as u32).to_le_bytes());
        for (j, x) in &self.key_shares {
            out.extend_from_slice(&j.get().to_le_bytes());
            out.extend_from_slice(x.as_bytes());
        }
        out.extend_from_slice(&self.transcript_digest);
        out
    }

    /// The longest encoding: the largest manifest and [`MAX_GUARDIANS`] key shares.
    pub const MAX_BYTES: u64 =
        2 + 4 + MAX_MANIFEST_BYTES + 32 + 64 + 32 + 12 + 36 * MAX_GUARDIANS as u64 + 64;

    /// Decodes a voter context and accepts it only if it is the election `trusted` names.
    ///
    /// # Errors
    /// [`ContextError::Decode`] for bytes that are not a canonical encoding (a wrong version
    /// or kind, a length that does not add up, a non-canonical or identity key, guardians out
    /// of order, repeated, zero or above `n`, fewer qualified guardians than `t`, invalid
    /// parameters); [`ContextError::Manifest`] for a manifest that does not decode or
    /// validate; [`ContextError::WrongElection`] if it hashes to another election.
    pub fn from_bytes(bytes: &[u8], trusted: &[u8; 64]) -> Result<Self, ContextError> {
        const WHAT: &str = "voter context";
        if bytes.len() as u64 > Self::MAX_BYTES {
            return Err(DecodeError::TooLarge {
                what: WHAT,
                max: Self::MAX_BYTES,
                actual: bytes.len() as u64,
            }
            .into());
        }
        let malformed = |reason| DecodeError::Malformed { what: WHAT, reason };
        let mut r = Reader::new(bytes, WHAT, "the length its counts give");
        let version = r.u8()?;
        if version != CEREMONY_VERSION {
            return Err(DecodeError::UnsupportedVersion {
                what: WHAT,
                version,
            }
            .into());
        }
        if r.u8()? != KIND_VOTER_CONTEXT {
            return Err(malformed("not a voter context (kind byte)").into());
        }
        let m = r.u32()? as usize;
        if m as u64 > MAX_MANIFEST_BYTES {
            return Err(malformed("a manifest longer than the largest manifest").into());
        }
        let manifest = Manifest::from_bytes(r.bytes(m)?).map_err(ContextError::Manifest)?;
        let joint_key = PublicKey::from_bytes(r.bytes(32)?)?;
        let credential_root = r.array::<64>()?;
        let id = r.array::<32>()?;
        let t = r.u32()?;
        let n = r.u32()?;
        let params =
            CeremonyParams::new(id, t, n).map_err(|_| malformed("invalid ceremony parameters"))?;
        let q = r.u32()?;
        if q > n || q < t {
            return Err(malformed("a qualified set larger than n or smaller than t").into());
        }
        let mut key_shares: Vec<(GuardianIndex, PublicKey)> = Vec::with_capacity(q as usize);
        for _ in 0..q {
            let j = GuardianIndex::new(r.u32()?).map_err(|_| malformed("a guardian index of 0"))?;
            if j.get() > n {
                return Err(malformed("a guardian index above n").into());
            }
            if key_shares.last().is_some_and(|(last, _)| *last >= j) {
                return Err(malformed("guardians not in increasing order").into());
            }
            key_shares.push((j, PublicKey::from_bytes(r.bytes(32)?)?));
        }
        let transcript_digest = r.array::<64>()?;
        r.finish()?;
        let context = Self::assemble(
            manifest,
            params,
            joint_key,
            key_shares,
            credential_root,
            transcript_digest,
        );
        // Public data on both sides: a plain comparison.
        if &context.hash != trusted {
            return Err(ContextError::WrongElection {
                found: context.hash,
            });
        }
        Ok(context)
    }

    /// `H_E`.
    pub fn hash(&self) -> &[u8; 64] {
        &self.hash
    }

    /// The manifest.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// The election key.
    pub fn public_key(&self) -> &PublicKey {
        &self.joint_key
    }

    /// The ceremony's parameters.
    pub fn params(&self) -> &CeremonyParams {
        &self.params
    }

    /// The qualified guardians' public key shares `X_j`, in index order.
    pub fn key_shares(&self) -> &[(GuardianIndex, PublicKey)] {
        &self.key_shares
    }

    /// The root of the credential list (its digest; the list itself is not needed to vote).
    pub fn credential_root(&self) -> &[u8; 64] {
        &self.credential_root
    }

    /// The digest of the ceremony transcript.
    pub fn transcript_digest(&self) -> &[u8; 64] {
        &self.transcript_digest
    }

    /// The election key with its precomputed table.
    pub(crate) fn encryption_key(&self) -> &EncryptionKey {
        &self.key
    }

    /// The transcript a ballot's proofs start from: `H_E`, ballot id, credential, contest.
    pub(crate) fn contest_transcript(
        &self,
        ballot_id: &[u8; 32],
        credential: &PublicKey,
        contest: usize,
    ) -> Transcript {
        let mut t = Transcript::new(labels::BALLOT);
        t.append_message(labels::ELECTION_HASH, &self.hash);
        t.append_message(labels::BALLOT_ID, ballot_id);
        t.append_message(labels::CREDENTIAL, credential.as_bytes());
        t.append_u64(labels::CONTEST, contest as u64);
        t
    }

    /// The transcript of option `option`'s range proof.
    pub(crate) fn option_transcript(
        &self,
        ballot_id: &[u8; 32],
        credential: &PublicKey,
        contest: usize,
        option: usize,
    ) -> Transcript {
        let mut t = self.contest_transcript(ballot_id, credential, contest);
        t.append_u64(labels::OPTION, option as u64);
        t
    }

    /// The transcript of a contest's selection-limit proof.
    pub(crate) fn limit_transcript(
        &self,
        ballot_id: &[u8; 32],
        credential: &PublicKey,
        contest: usize,
    ) -> Transcript {
        let mut t = self.contest_transcript(ballot_id, credential, contest);
        t.append_message(labels::SELECTION_LIMIT, b"");
        t
    }
}

/// The election context: the [`VoterContext`] (protocol version, ciphersuite, manifest,
/// election key, guardians, digests, `H_E`) with what the digests stand for — the credential
/// list and the adjudicated ceremony outcome — which the ballot box, the tally and the
/// verifier need. It dereferences to its voter context, so everything a voter's client does
/// with a `VoterContext` it does with an `ElectionContext` too.
pub struct ElectionContext {
    voter: VoterContext,
    outcome: CeremonyOutcome,
    credentials: CredentialList,
}

impl ElectionContext {
    /// Assembles and hashes the context.
    ///
    /// # Errors
    /// [`ManifestError`] if the manifest is not valid.
    pub fn new(
        manifest: Manifest,
        outcome: CeremonyOutcome,
        credentials: CredentialList,
    ) -> Result<Self, ManifestError> {
        let voter = VoterContext::new(manifest, &outcome, credentials.root())?;
        Ok(Self {
            voter,
            outcome,
            credentials,
        })
    }

    /// The voter context (what a voter's client needs; [`VoterContext::to_bytes`] publishes
    /// it).
    pub fn voter(&self) -> &VoterContext {
        &self.voter
    }

    /// The ceremony outcome (election key, guardians' key shares).
    pub fn outcome(&self) -> &CeremonyOutcome {
        &self.outcome
    }

    /// The credential list.
    pub fn credentials(&self) -> &CredentialList {
        &self.credentials
    }
}

impl core::ops::Deref for ElectionContext {
    type Target = VoterContext;

    fn deref(&self) -> &VoterContext {
        &self.voter
    }
}

/// The transcript of the cast signature over a ballot's body hash.
pub(crate) fn cast_transcript(election: &[u8; 64], body_hash: &[u8; 64]) -> Transcript {
    let mut t = Transcript::new(labels::BALLOT_CAST);
    t.append_message(labels::ELECTION_HASH, election);
    t.append_message(labels::BALLOT_BODY, body_hash);
    t
}

/// The transcript of the challenge signature over a ballot's body hash and revealed seed.
pub(crate) fn challenge_transcript(
    election: &[u8; 64],
    body_hash: &[u8; 64],
    seed: &[u8; 32],
) -> Transcript {
    let mut t = Transcript::new(labels::BALLOT_CHALLENGE);
    t.append_message(labels::ELECTION_HASH, election);
    t.append_message(labels::BALLOT_BODY, body_hash);
    t.append_message(labels::SEED, seed);
    t
}

impl core::fmt::Debug for ElectionContext {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ElectionContext")
            .field("election_id", &self.manifest().election_id)
            .field("public_key", self.public_key())
            .field("credentials", &self.credentials.len())
            .finish_non_exhaustive()
    }
}

impl core::fmt::Debug for VoterContext {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("VoterContext")
            .field("election_id", &self.manifest.election_id)
            .field("public_key", &self.joint_key)
            .finish_non_exhaustive()
    }
}
