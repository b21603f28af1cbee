//! Private share delivery over the public broadcast channel.
//!
//! Guardian `i` sends `f_i(j)` to guardian `j` encrypted under a key only the two of them can
//! derive: `k_ij = HKDF-SHA-512(salt = context hash, ikm = enc(e_i·E_j), info = "evote/ceremony/
//! share-key/v1" ‖ LE32(i) ‖ LE32(j) ‖ enc(E_i) ‖ enc(E_j))`, where `E_i = e_i·G` are the
//! share-encryption keys of round 2. The share is sealed with ChaCha20-Poly1305 (RFC 8439)
//! with associated data `context hash ‖ LE32(i) ‖ LE32(j)`. Each key seals exactly one message,
//! so the nonce is fixed (all zero).
//!
//! Binding the indices and both keys into the key and the associated data means a share for
//! `j` cannot be opened by `k`, nor presented as coming from another sender; the ceremony
//! context means it cannot be replayed into another ceremony.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::scalar::Scalar;
use hkdf::Hkdf;
use sha2::Sha512;
use zeroize::Zeroizing;

use super::{CeremonyParams, GuardianIndex};
use crate::keys::PublicKey;

/// The length of an encrypted share: 32 bytes of scalar and a 16-byte tag.
pub(crate) const SEALED_SHARE_BYTES: usize = 48;

const KEY_INFO: &[u8] = b"evote/ceremony/share-key/v1";

/// Who sends to whom, with the two share-encryption keys.
pub(crate) struct Link<'a> {
    pub(crate) params: &'a CeremonyParams,
    pub(crate) sender: GuardianIndex,
    pub(crate) recipient: GuardianIndex,
    pub(crate) sender_key: &'a PublicKey,
    pub(crate) recipient_key: &'a PublicKey,
}

impl Link<'_> {
    fn key(&self, shared: &RistrettoPoint) -> Zeroizing<[u8; 32]> {
        let context = self.params.context_hash();
        let ikm = Zeroizing::new(shared.compress().to_bytes());
        let hkdf = Hkdf::<Sha512>::new(Some(&context), ikm.as_slice());
        let mut info = Vec::with_capacity(KEY_INFO.len() + 8 + 64);
        info.extend_from_slice(KEY_INFO);
        info.extend_from_slice(&self.sender.get().to_le_bytes());
        info.extend_from_slice(&self.recipient.get().to_le_bytes());
        info.extend_from_slice(self.sender_key.as_bytes());
        info.extend_from_slice(self.recipient_key.as_bytes());
        let mut key = Zeroizing::new([0u8; 32]);
        // 32 bytes is far below HKDF-SHA-512's output limit (255·64), so this cannot fail.
        if hkdf.expand(&info, key.as_mut_slice()).is_err() {
            key.fill(0);
        }
        key
    }

    fn associated_data(&self) -> Vec<u8> {
        let mut ad = Vec::with_capacity(72);
        ad.extend_from_slice(&self.params.context_hash());
        ad.extend_from_slice(&self.sender.get().to_le_bytes());
        ad.extend_from_slice(&self.recipient.get().to_le_bytes());
        ad
    }

    /// Seals `share` under the Diffie–Hellman value `shared`.
    pub(crate) fn seal(
        &self,
        shared: &RistrettoPoint,
        share: &Scalar,
    ) -> Option<[u8; SEALED_SHARE_BYTES]> {
        let key = self.key(shared);
        let cipher = ChaCha20Poly1305::new(Key::from_slice(key.as_slice()));
        let plaintext = Zeroizing::new(share.to_bytes());
        let aad = self.associated_data();
        let sealed = cipher
            .encrypt(
                Nonce::from_slice(&[0u8; 12]),
                Payload {
                    msg: plaintext.as_slice(),
                    aad: &aad,
                },
            )
            .ok()?;
        sealed.try_into().ok()
    }

    /// Opens a sealed share; `None` if it does not authenticate or is not a canonical scalar.
    pub(crate) fn open(
        &self,
        shared: &RistrettoPoint,
        sealed: &[u8; SEALED_SHARE_BYTES],
    ) -> Option<Scalar> {
        let key = self.key(shared);
        let cipher = ChaCha20Poly1305::new(Key::from_slice(key.as_slice()));
        let aad = self.associated_data();
        let plaintext = Zeroizing::new(
            cipher
                .decrypt(
                    Nonce::from_slice(&[0u8; 12]),
                    Payload {
                        msg: sealed.as_slice(),
                        aad: &aad,
                    },
                )
                .ok()?,
        );
        let bytes: [u8; 32] = plaintext.as_slice().try_into().ok()?;
        Option::from(Scalar::from_canonical_bytes(bytes))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::keys::KeyPair;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    #[test]
    fn a_share_opens_only_for_its_recipient_from_its_sender() {
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let params = CeremonyParams::new([1; 32], 2, 3).unwrap();
        let other_params = CeremonyParams::new([2; 32], 2, 3).unwrap();
        let keys: Vec<KeyPair> = (0..3).map(|_| KeyPair::generate(&mut rng)).collect();
        let idx = |i| GuardianIndex::new(i).unwrap();
        let link = |p, s: u32, r: u32| Link {
            params: p,
            sender: idx(s),
            recipient: idx(r),
            sender_key: keys[s as usize - 1].public(),
            recipient_key: keys[r as usize - 1].public(),
        };
        let dh =
            |a: usize, b: usize| keys[b].public().as_point() * keys[a].secret().expose_scalar();
        let share = Scalar::from(12345u64);
        // 1 → 2.
        let sealed = link(&params, 1, 2).seal(&dh(0, 1), &share).unwrap();
        assert_eq!(link(&params, 1, 2).open(&dh(1, 0), &sealed), Some(share));
        // Guardian 3 cannot open it, whether it reads it as sent to itself or uses its own key.
        assert_eq!(link(&params, 1, 3).open(&dh(2, 0), &sealed), None);
        assert_eq!(link(&params, 1, 2).open(&dh(2, 0), &sealed), None);
        // It is not accepted as coming from guardian 3, even by the right recipient.
        assert_eq!(link(&params, 3, 2).open(&dh(1, 2), &sealed), None);
        assert_eq!(link(&params, 3, 2).open(&dh(1, 0), &sealed), None);
        // Nor replayed into another ceremony.
        assert_eq!(link(&other_params, 1, 2).open(&dh(1, 0), &sealed), None);
        // Any bit flip is detected.
        for i in 0..SEALED_SHARE_BYTES {
            let mut tampered = sealed;
            tampered[i] ^= 0x80;
            assert_eq!(
                link(&params, 1, 2).open(&dh(1, 0), &tampered),
                None,
                "byte {i}"
            );
        }
    }
}
