//! Voter credentials (Belenios-style ballot authentication).
//!
//! A credential authority draws one signing key pair per voter, hands each voter its secret
//! [`VoterCredential`] (issuance to people is the integrator's job) and publishes the sorted
//! [`CredentialList`] of public credentials. Every ballot is signed with its voter's credential,
//! and the public credential is absorbed into every proof of the ballot, so a ballot (or a proof)
//! copied under another credential does not verify.

use rand_core::{CryptoRng, RngCore};
#[cfg(feature = "parallel")]
use rayon::prelude::*;
use sha2::{Digest, Sha512};

use crate::errors::DecodeError;
use crate::group::Reader;
use crate::keys::{KeyPair, PublicKey};

/// A voter's secret credential: the key pair that signs its ballots. Zeroized on drop (through
/// [`crate::SecretKey`]), redacted `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct VoterCredential(pub(crate) KeyPair);

impl VoterCredential {
    /// Draws a fresh credential.
    pub fn generate<R: RngCore + CryptoRng>(rng: &mut R) -> Self {
        Self(KeyPair::generate(rng))
    }

    /// The public credential, as published on the list.
    pub fn public(&self) -> &PublicKey {
        self.0.public()
    }

    /// The secret, for handing to the voter. Handle with care.
    pub fn expose_secret_bytes(&self) -> zeroize::Zeroizing<[u8; 32]> {
        self.0.secret().to_bytes()
    }

    /// Restores a credential from its secret bytes.
    ///
    /// # Errors
    /// As [`crate::SecretKey::from_bytes`].
    pub fn from_secret_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        Ok(Self(KeyPair::from_secret(crate::SecretKey::from_bytes(
            bytes,
        )?)))
    }
}

impl core::fmt::Debug for VoterCredential {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "VoterCredential({:?}, <redacted>)", self.public())
    }
}

/// The published, sorted list of public credentials: no duplicates, no identity.
///
/// Every credential was decoded and validated on the way in; the list keeps only the 32 canonical
/// bytes of each (not the decompressed point), so a national list of millions of voters costs
/// 32 bytes per voter in memory. A ballot's credential is decoded from the ballot itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CredentialList {
    sorted: Vec<[u8; 32]>,
}

/// Why a credential list was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CredentialError {
    /// The same public credential appears twice (two voters would share a vote, or one voter
    /// would have two).
    Duplicate {
        /// Its position in the given order.
        position: usize,
    },
    /// The list's bytes were refused.
    Decode(DecodeError),
}

impl core::fmt::Display for CredentialError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Duplicate { position } => write!(f, "credential {position} appears twice"),
            Self::Decode(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for CredentialError {}

impl CredentialList {
    /// Generates `voters` credentials and their public list.
    pub fn generate<R: RngCore + CryptoRng>(
        voters: usize,
        rng: &mut R,
    ) -> (Vec<VoterCredential>, Self) {
        loop {
            let credentials: Vec<VoterCredential> = (0..voters)
                .map(|_| VoterCredential::generate(rng))
                .collect();
            // A repeat among random keys has probability ~voters²/2^253; draw again if it happens.
            if let Ok(list) = Self::new(credentials.iter().map(|c| *c.public()).collect()) {
                return (credentials, list);
            }
        }
    }

    /// Builds the list from public credentials in any order (the identity cannot occur: a
    /// [`PublicKey`] refuses it).
    ///
    /// # Errors
    /// [`CredentialError::Duplicate`].
    pub fn new(credentials: Vec<PublicKey>) -> Result<Self, CredentialError> {
        let mut indexed: Vec<(usize, PublicKey)> = credentials.into_iter().enumerate().collect();
        indexed.sort_by(|a, b| a.1.as_bytes().cmp(b.1.as_bytes()));
        for pair in indexed.windows(2) {
            if let [(_, a), (position, b)] = pair {
                if a == b {
                    return Err(CredentialError::Duplicate {
                        position: *position,
                    });
                }
            }
        }
        Ok(Self {
            sorted: indexed.into_iter().map(|(_, k)| *k.as_bytes()).collect(),
        })
    }

    /// Whether `credential` is on the list (binary search).
    pub fn contains(&self, credential: &PublicKey) -> bool {
        self.sorted.binary_search(credential.as_bytes()).is_ok()
    }

    /// The number of credentials.
    pub fn len(&self) -> usize {
        self.sorted.len()
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.sorted.is_empty()
    }

    /// The credentials in canonical (byte) order. Each is decoded again (variable time, public
    /// data); every one decodes, since the list was validated when it was built.
    pub fn iter(&self) -> impl Iterator<Item = PublicKey> + '_ {
        self.sorted
            .iter()
            .filter_map(|bytes| PublicKey::from_bytes(bytes).ok())
    }

    /// The list's root: `SHA-512("evote/credentials/v1" ‖ LE64(count) ‖ credentials in order)`.
    pub fn root(&self) -> [u8; 64] {
        let mut h = Sha512::new();
        h.update(b"evote/credentials/v1");
        h.update((self.sorted.len() as u64).to_le_bytes());
        for k in &self.sorted {
            h.update(k);
        }
        h.finalize().into()
    }

    /// The canonical encoding: `LE64(count) ‖ credentials in order (32 bytes each)`.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(8 + 32 * self.sorted.len());
        out.extend_from_slice(&(self.sorted.len() as u64).to_le_bytes());
        for k in &self.sorted {
            out.extend_from_slice(k);
        }
        out
    }

    /// Decodes a list, refusing unsorted, duplicate or invalid credentials.
    ///
    /// # Errors
    /// [`CredentialError`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, CredentialError> {
        const WHAT: &str = "credential list";
        let mut reader = Reader::new(bytes, WHAT, "8 + 32·count");
        let count = u64::from_le_bytes(reader.array::<8>().map_err(CredentialError::Decode)?);
        if reader.remaining() as u64 != count.saturating_mul(32) {
            return Err(CredentialError::Decode(DecodeError::Length {
                what: WHAT,
                expected: "8 + 32·count",
                actual: bytes.len(),
            }));
        }
        let mut sorted: Vec<[u8; 32]> = Vec::with_capacity(reader.remaining() / 32);
        while reader.remaining() > 0 {
            sorted.push(reader.array::<32>().map_err(CredentialError::Decode)?);
        }
        // Canonical order is strictly increasing bytes: that also rules out duplicates.
        for (position, pair) in sorted.windows(2).enumerate() {
            if let [a, b] = pair {
                match a.cmp(b) {
                    core::cmp::Ordering::Less => {}
                    core::cmp::Ordering::Equal => {
                        return Err(CredentialError::Duplicate {
                            position: position + 1,
                        })
                    }
                    core::cmp::Ordering::Greater => {
                        return Err(CredentialError::Decode(DecodeError::Malformed {
                            what: WHAT,
                            reason: "credentials not in canonical order",
                        }))
                    }
                }
            }
        }
        // Every credential must decode to a valid, non-identity point: decompression is the
        // cost here (≈ 4.4 µs each), so it runs on all cores.
        #[cfg(feature = "parallel")]
        let invalid = sorted
            .par_iter()
            .map(|bytes| PublicKey::from_bytes(bytes).err())
            .find_map_first(|e| e);
        #[cfg(not(feature = "parallel"))]
        let invalid = sorted
            .iter()
            .find_map(|bytes| PublicKey::from_bytes(bytes).err());
        if let Some(e) = invalid {
            return Err(CredentialError::Decode(e));
        }
        Ok(Self { sorted })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    #[test]
    fn lists_are_sorted_unique_and_canonical() {
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let (creds, list) = CredentialList::generate(20, &mut rng);
        assert_eq!(list.len(), 20);
        assert!(creds.iter().all(|c| list.contains(c.public())));
        assert!(!list.contains(VoterCredential::generate(&mut rng).public()));
        let bytes = list.to_bytes();
        assert_eq!(CredentialList::from_bytes(&bytes).unwrap(), list);
        // Unsorted bytes, duplicates and the identity are refused.
        let mut swapped = bytes.clone();
        let (a, b) = (bytes[8..40].to_vec(), bytes[40..72].to_vec());
        swapped[8..40].copy_from_slice(&b);
        swapped[40..72].copy_from_slice(&a);
        assert!(matches!(
            CredentialList::from_bytes(&swapped),
            Err(CredentialError::Decode(DecodeError::Malformed { .. }))
        ));
        let mut repeated = bytes.clone();
        repeated.copy_within(8..40, 40);
        assert_eq!(
            CredentialList::from_bytes(&repeated),
            Err(CredentialError::Duplicate { position: 1 })
        );
        let mut keys: Vec<PublicKey> = list.iter().collect();
        keys.push(keys[3]);
        assert!(matches!(
            CredentialList::new(keys),
            Err(CredentialError::Duplicate { .. })
        ));
        let mut identity = bytes.clone();
        identity[8..40].fill(0);
        assert!(CredentialList::from_bytes(&identity).is_err());
        assert!(CredentialList::from_bytes(&bytes[..bytes.len() - 1]).is_err());
        // The root depends on every credential.
        let fewer = CredentialList::new(list.iter().skip(1).collect()).unwrap();
        assert_ne!(fewer.root(), list.root());
        assert!(format!("{:?}", creds[0]).contains("redacted"));
    }
}
