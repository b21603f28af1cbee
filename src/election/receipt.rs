//! The ballot box's signed receipts, and its key.
//!
//! The ballot box signs every entry it acknowledges, so a voter can show anyone that a ballot
//! (or a challenge) was accepted as entry `i` of the board with head `h_i`. The box's public key
//! is in the board's header and in its genesis hash, so a board cannot change keys without
//! changing every head.
//!
//! # Construction
//! ```text
//! transcript "evote/receipt/v1":  election-hash H_E, entry LE64(i), entry-kind LE64(k),
//!                                 tracker (64), head h_i (64)
//! σ = Schnorr signature by the ballot box key B over that transcript
//! ```
//!
//! # Layout
//! `version 1 ‖ kind 80 ‖ LE64(i) ‖ entry kind (1: cast, 3: challenge) ‖ tracker (64) ‖
//! head (64) ‖ σ (64)`: 203 bytes.

use merlin::Transcript;
use rand_core::{CryptoRng, RngCore};

use crate::errors::{DecodeError, ProofError};
use crate::group::Reader;
use crate::keys::{KeyPair, PublicKey, SecretKey};
use crate::proofs::SchnorrProof;
use crate::transcript::labels;

const RECEIPT_VERSION: u8 = 1;
const KIND_RECEIPT: u8 = 80;
/// The encoded length of a receipt.
pub const RECEIPT_BYTES: usize = 2 + 8 + 1 + 64 + 64 + 64;

/// The ballot box's signing key: signs receipts. Not `Copy`, zeroized on drop, redacted
/// `Debug`. Its public key is in the header of every board it writes.
#[derive(Clone, PartialEq, Eq)]
pub struct BallotBoxKey(KeyPair);

impl BallotBoxKey {
    /// Draws a fresh key.
    pub fn generate<R: RngCore + CryptoRng>(rng: &mut R) -> Self {
        Self(KeyPair::generate(rng))
    }

    /// The public key voters verify receipts with.
    pub fn public(&self) -> &PublicKey {
        self.0.public()
    }

    /// The secret, for storing the key. Handle with care.
    pub fn expose_secret_bytes(&self) -> zeroize::Zeroizing<[u8; 32]> {
        self.0.secret().to_bytes()
    }

    /// Restores a key from its secret bytes.
    ///
    /// # Errors
    /// As [`SecretKey::from_bytes`].
    pub fn from_secret_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        Ok(Self(KeyPair::from_secret(SecretKey::from_bytes(bytes)?)))
    }
}

impl core::fmt::Debug for BallotBoxKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "BallotBoxKey({:?}, <redacted>)", self.public())
    }
}

/// What a board entry acknowledged by a receipt holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EntryKind {
    /// A cast ballot (board entry kind 1).
    Cast,
    /// A challenged ballot (board entry kind 3).
    Challenge,
}

impl EntryKind {
    fn code(self) -> u8 {
        match self {
            Self::Cast => 1,
            Self::Challenge => 3,
        }
    }
}

/// What the voter gets back for an accepted ballot or challenge: the entry, its tracker, the
/// board's head after it, signed by the ballot box.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Receipt {
    /// The entry number (from 1).
    pub entry: u64,
    /// What the entry holds.
    pub kind: EntryKind,
    /// The ballot's tracker.
    pub tracker: [u8; 64],
    /// The board's head after this entry.
    pub head: [u8; 64],
    signature: SchnorrProof,
}

fn transcript(
    election: &[u8; 64],
    entry: u64,
    kind: EntryKind,
    tracker: &[u8; 64],
    head: &[u8; 64],
) -> Transcript {
    let mut t = Transcript::new(labels::RECEIPT);
    t.append_message(labels::ELECTION_HASH, election);
    t.append_u64(labels::ENTRY, entry);
    t.append_u64(labels::ENTRY_KIND, u64::from(kind.code()));
    t.append_message(labels::TRACKER, tracker);
    t.append_message(labels::HEAD, head);
    t
}

impl Receipt {
    /// Signs a receipt (the board does, after the entry is durable).
    #[cfg_attr(not(feature = "fs"), allow(dead_code))]
    pub(crate) fn sign<R: RngCore + CryptoRng>(
        key: &BallotBoxKey,
        election: &[u8; 64],
        (entry, kind): (u64, EntryKind),
        tracker: [u8; 64],
        head: [u8; 64],
        rng: &mut R,
    ) -> Self {
        let signature = SchnorrProof::prove(
            &mut transcript(election, entry, kind, &tracker, &head),
            &key.0,
            rng,
        );
        Self {
            entry,
            kind,
            tracker,
            head,
            signature,
        }
    }

    /// Checks the ballot box's signature for election `election` under the box's key
    /// `ballot_box`.
    ///
    /// # Errors
    /// [`ProofError`] if the signature does not verify.
    pub fn verify(&self, election: &[u8; 64], ballot_box: &PublicKey) -> Result<(), ProofError> {
        self.signature.verify(
            &mut transcript(election, self.entry, self.kind, &self.tracker, &self.head),
            ballot_box,
        )
    }

    /// The canonical encoding (see the module's Layout).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(RECEIPT_BYTES);
        out.extend_from_slice(&[RECEIPT_VERSION, KIND_RECEIPT]);
        out.extend_from_slice(&self.entry.to_le_bytes());
        out.push(self.kind.code());
        out.extend_from_slice(&self.tracker);
        out.extend_from_slice(&self.head);
        out.extend_from_slice(&self.signature.to_bytes());
        out
    }

    /// Decodes a receipt strictly.
    ///
    /// # Errors
    /// [`DecodeError`] for anything but a canonical encoding.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        const WHAT: &str = "receipt";
        let mut reader = Reader::new(bytes, WHAT, "203 bytes");
        let version = reader.u8()?;
        if version != RECEIPT_VERSION {
            return Err(DecodeError::UnsupportedVersion {
                what: WHAT,
                version,
            });
        }
        if reader.u8()? != KIND_RECEIPT {
            return Err(DecodeError::Malformed {
                what: WHAT,
                reason: "wrong kind",
            });
        }
        let entry = u64::from_le_bytes(reader.array::<8>()?);
        let kind = match reader.u8()? {
            1 => EntryKind::Cast,
            3 => EntryKind::Challenge,
            _ => {
                return Err(DecodeError::Malformed {
                    what: WHAT,
                    reason: "unknown entry kind",
                })
            }
        };
        if entry == 0 {
            return Err(DecodeError::Malformed {
                what: WHAT,
                reason: "entries count from 1",
            });
        }
        let tracker = reader.array::<64>()?;
        let head = reader.array::<64>()?;
        let signature = SchnorrProof::from_bytes(&reader.array::<64>()?)?;
        reader.finish()?;
        Ok(Self {
            entry,
            kind,
            tracker,
            head,
            signature,
        })
    }
}

/// The ballot box's signature on a stored board's state: "this board has `entries` entries and
/// its head is `head`". A store kept outside the ballot box's own process (PostgreSQL) keeps it
/// beside the entries and checks it whenever it reads the board's state, so a correctly chained
/// entry written by anyone without the ballot box key is refused rather than adopted.
///
/// ```text
/// transcript "evote/signed-head/v1":  election-hash H_E, entry LE64(n), head h_n (64)
/// σ = Schnorr signature by the ballot box key B over that transcript
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(not(feature = "fs"), allow(dead_code))]
pub(crate) struct SignedHead {
    /// The number of entries `n` (at least 1).
    pub(crate) entries: u64,
    /// `h_n`.
    pub(crate) head: [u8; 64],
    /// σ, `R ‖ s`.
    pub(crate) signature: [u8; 64],
}

#[cfg_attr(not(feature = "fs"), allow(dead_code))]
fn head_transcript(election: &[u8; 64], entries: u64, head: &[u8; 64]) -> Transcript {
    let mut t = Transcript::new(labels::SIGNED_HEAD);
    t.append_message(labels::ELECTION_HASH, election);
    t.append_u64(labels::ENTRY, entries);
    t.append_message(labels::HEAD, head);
    t
}

impl SignedHead {
    /// Signs `entries` and `head` for `election` with the ballot box key.
    #[cfg_attr(not(feature = "fs"), allow(dead_code))]
    pub(crate) fn sign<R: RngCore + CryptoRng>(
        key: &BallotBoxKey,
        election: &[u8; 64],
        entries: u64,
        head: [u8; 64],
        rng: &mut R,
    ) -> Self {
        let signature =
            SchnorrProof::prove(&mut head_transcript(election, entries, &head), &key.0, rng)
                .to_bytes();
        Self {
            entries,
            head,
            signature,
        }
    }

    /// Whether σ is the ballot box `ballot_box`'s signature on this state of `election`'s
    /// board (a non-canonical σ is not).
    #[cfg_attr(not(feature = "postgres"), allow(dead_code))]
    pub(crate) fn verifies(&self, election: &[u8; 64], ballot_box: &PublicKey) -> bool {
        SchnorrProof::from_bytes(&self.signature).is_ok_and(|s| {
            s.verify(
                &mut head_transcript(election, self.entries, &self.head),
                ballot_box,
            )
            .is_ok()
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    #[test]
    fn receipts_round_trip_and_bind_every_field() {
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let key = BallotBoxKey::generate(&mut rng);
        let election = [7u8; 64];
        let r = Receipt::sign(
            &key,
            &election,
            (5, EntryKind::Cast),
            [1; 64],
            [2; 64],
            &mut rng,
        );
        let bytes = r.to_bytes();
        assert_eq!(bytes.len(), RECEIPT_BYTES);
        assert_eq!(Receipt::from_bytes(&bytes).unwrap(), r);
        r.verify(&election, key.public()).unwrap();
        assert!(r.verify(&[8u8; 64], key.public()).is_err());
        let other = BallotBoxKey::generate(&mut rng);
        assert!(r.verify(&election, other.public()).is_err());
        // Every byte of the statement is signed: entry, kind, tracker, head.
        for at in [2, 10, 11, 11 + 63, 75, 75 + 63] {
            let mut b = bytes.clone();
            b[at] ^= if at == 10 { 2 } else { 1 };
            if let Ok(changed) = Receipt::from_bytes(&b) {
                assert!(
                    changed.verify(&election, key.public()).is_err(),
                    "byte {at}"
                );
            }
        }
        let mut b = bytes.clone();
        b.push(0);
        assert!(Receipt::from_bytes(&b).is_err());
        assert!(Receipt::from_bytes(&bytes[..202]).is_err());
        assert!(format!("{key:?}").contains("redacted"));
        // A receipt's signature is not a signed head (domain separation), and a signed head
        // binds the election, the number of entries, the head and the key.
        let head = SignedHead {
            entries: 5,
            head: [2; 64],
            signature: r.signature.to_bytes(),
        };
        assert!(!head.verifies(&election, key.public()));
        let signed = SignedHead::sign(&key, &election, 5, [2; 64], &mut rng);
        assert!(signed.verifies(&election, key.public()));
        assert!(!signed.verifies(&[8u8; 64], key.public()));
        assert!(!signed.verifies(&election, other.public()));
        let mut changed = signed.clone();
        changed.entries = 6;
        assert!(!changed.verifies(&election, key.public()));
        let mut changed = signed.clone();
        changed.head[63] ^= 1;
        assert!(!changed.verifies(&election, key.public()));
        let mut changed = signed;
        changed.signature[40] ^= 1;
        assert!(!changed.verifies(&election, key.public()));
    }
}
