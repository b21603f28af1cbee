//! The election context: everything a ballot's proofs are bound to, hashed into one value.

use merlin::Transcript;
use sha2::{Digest, Sha512};

use super::credentials::CredentialList;
use super::manifest::{Manifest, ManifestError};
use crate::ceremony::CeremonyOutcome;
use crate::keys::{EncryptionKey, PublicKey};
use crate::transcript::{CIPHERSUITE, PROTOCOL_VERSION};

/// Transcript labels of ballots (listed in `docs/election.md`).
pub mod labels {
    /// Application label of every ballot-proof transcript.
    pub const BALLOT: &[u8] = b"evote/ballot/v1";
    /// Application label of the credential's signature that casts a ballot.
    pub const CAST: &[u8] = b"evote/ballot-cast/v2";
    /// Application label of the credential's signature that challenges a ballot (reveals its
    /// seed). A separate transcript, so a challenge never stands for a cast.
    pub const CHALLENGE: &[u8] = b"evote/ballot-challenge/v2";
    /// The election hash.
    pub const ELECTION: &[u8] = b"election-hash";
    /// The ballot id.
    pub const BALLOT_ID: &[u8] = b"ballot-id";
    /// The voter's public credential.
    pub const CREDENTIAL: &[u8] = b"credential";
    /// The contest's index.
    pub const CONTEST: &[u8] = b"contest";
    /// The option's index (range proofs).
    pub const OPTION: &[u8] = b"option";
    /// Marks the contest's selection-limit proof.
    pub const LIMIT: &[u8] = b"selection-limit";
    /// The hash of the signed ballot body.
    pub const BODY: &[u8] = b"ballot-body";
    /// The revealed seed of a challenged ballot.
    pub const SEED: &[u8] = b"seed";
}

/// The election context: protocol version, ciphersuite, manifest, election key, credential
/// list and guardians, with its hash `H_E`, which every ballot proof absorbs first.
///
/// ```text
/// H_E = SHA-512("evote/election-context/v1" ‖ str(PROTOCOL_VERSION) ‖ str(CIPHERSUITE)
///               ‖ manifest hash ‖ enc(K) ‖ credential root ‖ ceremony id ‖ LE32(t) ‖ LE32(n)
///               ‖ LE32(|Q|) ‖ for each qualified guardian j: LE32(j) ‖ enc(X_j))
/// ```
pub struct ElectionContext {
    manifest: Manifest,
    outcome: CeremonyOutcome,
    credentials: CredentialList,
    key: EncryptionKey,
    hash: [u8; 64],
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
        manifest.validate()?;
        let mut h = Sha512::new();
        h.update(b"evote/election-context/v1");
        for s in [PROTOCOL_VERSION, CIPHERSUITE] {
            h.update((s.len() as u32).to_le_bytes());
            h.update(s);
        }
        h.update(manifest.hash());
        h.update(outcome.joint_key().as_bytes());
        h.update(credentials.root());
        let params = outcome.params();
        h.update(params.id());
        h.update(params.threshold().to_le_bytes());
        h.update(params.guardians().to_le_bytes());
        h.update((outcome.qualified().len() as u32).to_le_bytes());
        for j in outcome.qualified() {
            h.update(j.get().to_le_bytes());
            if let Some(x) = outcome.key_share(*j) {
                h.update(x.as_bytes());
            }
        }
        h.update(outcome.transcript_digest());
        let key = EncryptionKey::new(outcome.joint_key());
        Ok(Self {
            manifest,
            outcome,
            credentials,
            key,
            hash: h.finalize().into(),
        })
    }

    /// `H_E`.
    pub fn hash(&self) -> &[u8; 64] {
        &self.hash
    }

    /// The manifest.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// The ceremony outcome (election key, guardians' key shares).
    pub fn outcome(&self) -> &CeremonyOutcome {
        &self.outcome
    }

    /// The credential list.
    pub fn credentials(&self) -> &CredentialList {
        &self.credentials
    }

    /// The election key.
    pub fn public_key(&self) -> &PublicKey {
        self.outcome.joint_key()
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
        t.append_message(labels::ELECTION, &self.hash);
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
        t.append_message(labels::LIMIT, b"");
        t
    }
}

/// The transcript of the cast signature over a ballot's body hash.
pub(crate) fn cast_transcript(election: &[u8; 64], body_hash: &[u8; 64]) -> Transcript {
    let mut t = Transcript::new(labels::CAST);
    t.append_message(labels::ELECTION, election);
    t.append_message(labels::BODY, body_hash);
    t
}

/// The transcript of the challenge signature over a ballot's body hash and revealed seed.
pub(crate) fn challenge_transcript(
    election: &[u8; 64],
    body_hash: &[u8; 64],
    seed: &[u8; 32],
) -> Transcript {
    let mut t = Transcript::new(labels::CHALLENGE);
    t.append_message(labels::ELECTION, election);
    t.append_message(labels::BODY, body_hash);
    t.append_message(labels::SEED, seed);
    t
}

impl core::fmt::Debug for ElectionContext {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ElectionContext")
            .field("election_id", &self.manifest.election_id)
            .field("public_key", self.public_key())
            .field("credentials", &self.credentials.len())
            .finish_non_exhaustive()
    }
}
