//! The public packages of the ceremony and their canonical encodings.
//!
//! Every package starts with the version byte [`CEREMONY_VERSION`] and a kind byte, then its
//! fields; integers are little-endian `u32`. Decoders are strict: wrong version, kind or
//! length, zero indices, non-canonical points or scalars are refused with a [`DecodeError`].

use sha2::{Digest, Sha512};

use super::channel::SEALED_SHARE_BYTES;
use super::{CeremonyParams, GuardianIndex, CEREMONY_VERSION, MAX_GUARDIANS};
use crate::errors::DecodeError;
use crate::group::{GroupElement, Reader};
use crate::keys::PublicKey;
use crate::proofs::{ChaumPedersenProof, SchnorrProof};

const KIND_COMMITMENT_HASH: u8 = 1;
const KIND_REVEAL: u8 = 2;
const KIND_ENCRYPTED_SHARE: u8 = 3;
const KIND_COMPLAINT: u8 = 4;

fn header(out: &mut Vec<u8>, kind: u8) {
    out.push(CEREMONY_VERSION);
    out.push(kind);
}

fn read_header(reader: &mut Reader<'_>, what: &'static str, kind: u8) -> Result<(), DecodeError> {
    let version = reader.u8()?;
    if version != CEREMONY_VERSION {
        return Err(DecodeError::UnsupportedVersion { what, version });
    }
    if reader.u8()? != kind {
        return Err(DecodeError::Malformed {
            what,
            reason: "wrong package kind",
        });
    }
    Ok(())
}

fn read_index(reader: &mut Reader<'_>, what: &'static str) -> Result<GuardianIndex, DecodeError> {
    let index = reader.u32()?;
    if index > MAX_GUARDIANS {
        return Err(DecodeError::TooLarge {
            what,
            max: u64::from(MAX_GUARDIANS),
            actual: u64::from(index),
        });
    }
    GuardianIndex::new(index).map_err(|_| DecodeError::Malformed {
        what,
        reason: "guardian index 0",
    })
}

/// Round 1: a guardian's commitment to what it will reveal in round 2.
///
/// # Layout
/// 70 bytes: version, kind 1, sender (u32), SHA-512 hash (64 bytes) of the reveal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommitmentHashPackage {
    pub(crate) sender: GuardianIndex,
    pub(crate) hash: [u8; 64],
}

impl CommitmentHashPackage {
    /// The encoded length.
    pub const BYTES: usize = 70;

    /// Who sent it.
    pub fn sender(&self) -> GuardianIndex {
        self.sender
    }

    /// The canonical encoding.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(Self::BYTES);
        header(&mut out, KIND_COMMITMENT_HASH);
        out.extend_from_slice(&self.sender.get().to_le_bytes());
        out.extend_from_slice(&self.hash);
        out
    }

    /// Decodes a package.
    ///
    /// # Errors
    /// [`DecodeError`] for anything but a canonical encoding.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        const WHAT: &str = "commitment-hash package";
        let mut reader = Reader::exact(bytes, WHAT, Self::BYTES, "70")?;
        read_header(&mut reader, WHAT, KIND_COMMITMENT_HASH)?;
        let sender = read_index(&mut reader, WHAT)?;
        let hash = reader.array::<64>()?;
        reader.finish()?;
        Ok(Self { sender, hash })
    }
}

/// Round 2: a guardian's coefficient commitments `C_k = a_k·G` with proofs of knowledge, and
/// its share-encryption key `E = e·G` with a proof of knowledge.
///
/// # Layout
/// `106 + 96·t` bytes: version, kind 2, sender (u32), t (u32), `t` commitments (32 bytes
/// each), `t` Schnorr proofs (64 bytes each), `E` (32 bytes), its Schnorr proof (64 bytes).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RevealPackage {
    pub(crate) sender: GuardianIndex,
    pub(crate) commitments: Vec<PublicKey>,
    pub(crate) proofs: Vec<SchnorrProof>,
    pub(crate) encryption_key: PublicKey,
    pub(crate) encryption_key_proof: SchnorrProof,
}

impl RevealPackage {
    /// Who sent it.
    pub fn sender(&self) -> GuardianIndex {
        self.sender
    }

    /// The coefficient commitments `C_0 … C_{t-1}`.
    pub fn commitments(&self) -> &[PublicKey] {
        &self.commitments
    }

    /// The share-encryption key `E`.
    pub fn encryption_key(&self) -> &PublicKey {
        &self.encryption_key
    }

    /// The hash a round-1 package commits to:
    /// `SHA-512("evote/ceremony/reveal/v1" ‖ context hash ‖ encoding)`.
    pub fn commitment_hash(&self, params: &CeremonyParams) -> [u8; 64] {
        let mut h = Sha512::new();
        h.update(b"evote/ceremony/reveal/v1");
        h.update(params.context_hash());
        h.update(self.to_bytes());
        h.finalize().into()
    }

    /// The canonical encoding.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(106 + 96 * self.commitments.len());
        header(&mut out, KIND_REVEAL);
        out.extend_from_slice(&self.sender.get().to_le_bytes());
        out.extend_from_slice(&(self.commitments.len() as u32).to_le_bytes());
        for c in &self.commitments {
            out.extend_from_slice(c.as_bytes());
        }
        for p in &self.proofs {
            out.extend_from_slice(&p.to_bytes());
        }
        out.extend_from_slice(self.encryption_key.as_bytes());
        out.extend_from_slice(&self.encryption_key_proof.to_bytes());
        out
    }

    /// Decodes a package.
    ///
    /// # Errors
    /// [`DecodeError`] for anything but a canonical encoding (identity commitments included).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        const WHAT: &str = "reveal package";
        const EXPECTED: &str = "106 + 96·t";
        let mut reader = Reader::new(bytes, WHAT, EXPECTED);
        read_header(&mut reader, WHAT, KIND_REVEAL)?;
        let sender = read_index(&mut reader, WHAT)?;
        let t = reader.u32()?;
        if t == 0 || t > MAX_GUARDIANS {
            return Err(DecodeError::Malformed {
                what: WHAT,
                reason: "threshold outside 1..=MAX_GUARDIANS",
            });
        }
        let t = t as usize;
        if reader.remaining() != 96 * t + 96 {
            return Err(DecodeError::Length {
                what: WHAT,
                expected: EXPECTED,
                actual: bytes.len(),
            });
        }
        let commitments = (0..t)
            .map(|_| {
                let e = reader.nonidentity_point("reveal package commitment")?;
                PublicKey::from_bytes(e.as_bytes())
            })
            .collect::<Result<Vec<_>, _>>()?;
        let proofs = (0..t)
            .map(|_| SchnorrProof::from_bytes(&reader.array::<64>()?))
            .collect::<Result<Vec<_>, _>>()?;
        let encryption_key = PublicKey::from_bytes(&reader.array::<32>()?)?;
        let encryption_key_proof = SchnorrProof::from_bytes(&reader.array::<64>()?)?;
        reader.finish()?;
        Ok(Self {
            sender,
            commitments,
            proofs,
            encryption_key,
            encryption_key_proof,
        })
    }
}

/// Round 3: `f_i(j)` sealed for guardian `j` (see the channel construction in
/// `docs/ceremony.md`). Broadcast, so that a complaint can be judged by anyone.
///
/// # Layout
/// 58 bytes: version, kind 3, sender (u32), recipient (u32), sealed share (48 bytes).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EncryptedShare {
    pub(crate) sender: GuardianIndex,
    pub(crate) recipient: GuardianIndex,
    pub(crate) sealed: [u8; SEALED_SHARE_BYTES],
}

impl EncryptedShare {
    /// The encoded length.
    pub const BYTES: usize = 58;

    /// Who sent it.
    pub fn sender(&self) -> GuardianIndex {
        self.sender
    }

    /// For whom.
    pub fn recipient(&self) -> GuardianIndex {
        self.recipient
    }

    /// The canonical encoding.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(Self::BYTES);
        header(&mut out, KIND_ENCRYPTED_SHARE);
        out.extend_from_slice(&self.sender.get().to_le_bytes());
        out.extend_from_slice(&self.recipient.get().to_le_bytes());
        out.extend_from_slice(&self.sealed);
        out
    }

    /// Decodes a package.
    ///
    /// # Errors
    /// [`DecodeError`] for anything but a canonical encoding.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        const WHAT: &str = "encrypted-share package";
        let mut reader = Reader::exact(bytes, WHAT, Self::BYTES, "58")?;
        read_header(&mut reader, WHAT, KIND_ENCRYPTED_SHARE)?;
        let sender = read_index(&mut reader, WHAT)?;
        let recipient = read_index(&mut reader, WHAT)?;
        let sealed = reader.array::<SEALED_SHARE_BYTES>()?;
        reader.finish()?;
        if sender == recipient {
            return Err(DecodeError::Malformed {
                what: WHAT,
                reason: "a guardian does not send a share to itself",
            });
        }
        Ok(Self {
            sender,
            recipient,
            sealed,
        })
    }
}

/// Round 4: guardian `j` accuses guardian `i` of a bad share and reveals their
/// Diffie–Hellman value `D = e_j·E_i` with a Chaum–Pedersen proof that `log_G E_j = log_{E_i} D`,
/// so that anyone can open the share and judge.
///
/// # Layout
/// 138 bytes: version, kind 4, complainer (u32), accused (u32), `D` (32 bytes), proof (96 bytes).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Complaint {
    pub(crate) complainer: GuardianIndex,
    pub(crate) accused: GuardianIndex,
    pub(crate) shared: GroupElement,
    pub(crate) proof: ChaumPedersenProof,
}

impl Complaint {
    /// The encoded length.
    pub const BYTES: usize = 138;

    /// Who complains.
    pub fn complainer(&self) -> GuardianIndex {
        self.complainer
    }

    /// Whom it accuses.
    pub fn accused(&self) -> GuardianIndex {
        self.accused
    }

    /// The canonical encoding.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(Self::BYTES);
        header(&mut out, KIND_COMPLAINT);
        out.extend_from_slice(&self.complainer.get().to_le_bytes());
        out.extend_from_slice(&self.accused.get().to_le_bytes());
        out.extend_from_slice(self.shared.as_bytes());
        out.extend_from_slice(&self.proof.to_bytes());
        out
    }

    /// Decodes a package.
    ///
    /// # Errors
    /// [`DecodeError`] for anything but a canonical encoding.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        const WHAT: &str = "complaint package";
        let mut reader = Reader::exact(bytes, WHAT, Self::BYTES, "138")?;
        read_header(&mut reader, WHAT, KIND_COMPLAINT)?;
        let complainer = read_index(&mut reader, WHAT)?;
        let accused = read_index(&mut reader, WHAT)?;
        let shared = reader.nonidentity_point("complaint Diffie-Hellman value")?;
        let proof = ChaumPedersenProof::from_bytes(&reader.array::<96>()?)?;
        reader.finish()?;
        if complainer == accused {
            return Err(DecodeError::Malformed {
                what: WHAT,
                reason: "a guardian does not accuse itself",
            });
        }
        Ok(Self {
            complainer,
            accused,
            shared,
            proof,
        })
    }
}
