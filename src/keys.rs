//! Keys: [`SecretKey`], [`PublicKey`], [`KeyPair`] and the precomputed [`EncryptionKey`].
//!
//! # Construction
//! A secret key is a uniformly random nonzero scalar `x ∈ [1, ℓ)`; its public key is `K = x·G`.
//! Both the zero scalar and the identity point are refused, since with either every ciphertext
//! would carry its plaintext in the clear.

use core::fmt;

use curve25519_dalek::constants::RISTRETTO_BASEPOINT_TABLE;
use curve25519_dalek::ristretto::{RistrettoBasepointTable, RistrettoPoint};
use curve25519_dalek::scalar::Scalar;
use rand_core::{CryptoRng, RngCore};
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::ciphertext::Ciphertext;
use crate::errors::DecodeError;
use crate::group::{decode_nonidentity_point, decode_scalar, write_hex, GroupElement};

/// A secret key `x`: a nonzero scalar.
///
/// Not `Copy`; zeroized on drop; `Debug` prints no key material; equality is constant-time.
/// The scalar is reached only through [`SecretKey::expose_scalar`].
///
/// # Layout
/// 32 bytes: the canonical little-endian encoding of `x` (nonzero, below ℓ).
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct SecretKey(Scalar);

impl SecretKey {
    /// The encoded length in bytes.
    pub const BYTES: usize = 32;

    /// Draws a uniformly random nonzero secret key.
    pub fn generate<R: RngCore + CryptoRng>(rng: &mut R) -> Self {
        loop {
            let x = crate::group::random_scalar(rng);
            // A zero draw has probability 2^-252; redraw rather than fail.
            if x != Scalar::ZERO {
                return Self(x);
            }
        }
    }

    /// Wraps a scalar, refusing zero.
    ///
    /// # Errors
    /// [`DecodeError::ZeroScalar`] for zero.
    pub fn from_scalar(x: Scalar) -> Result<Self, DecodeError> {
        if bool::from(x.ct_eq(&Scalar::ZERO)) {
            return Err(DecodeError::ZeroScalar { what: "secret key" });
        }
        Ok(Self(x))
    }

    /// Decodes a canonical nonzero scalar.
    ///
    /// # Errors
    /// [`DecodeError::Length`], [`DecodeError::NonCanonicalScalar`] or
    /// [`DecodeError::ZeroScalar`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        Self::from_scalar(decode_scalar(bytes, "secret key")?)
    }

    /// The canonical encoding, in a buffer that is zeroized when dropped.
    pub fn to_bytes(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(self.0.to_bytes())
    }

    /// The secret scalar. Handle with care: copies of it are not zeroized for you.
    pub fn expose_scalar(&self) -> &Scalar {
        &self.0
    }

    /// The public key `K = x·G` (one fixed-base multiplication).
    pub fn public_key(&self) -> PublicKey {
        PublicKey::from_point_unchecked(RISTRETTO_BASEPOINT_TABLE * &self.0)
    }

    /// Decrypts to the group element `m·G = beta - x·alpha`, in constant time.
    ///
    /// Exponential ElGamal leaves the plaintext in the exponent; recover a small `m` with a
    /// [`crate::dlog::DlogTable`] ([`SecretKey::decrypt`] does both).
    pub fn decrypt_to_point(&self, ciphertext: &Ciphertext) -> RistrettoPoint {
        ciphertext.beta() - ciphertext.alpha() * self.0
    }

    /// Decrypts and solves the bounded discrete logarithm of the result.
    ///
    /// # Errors
    /// [`crate::DlogError::NotFound`] if the plaintext is not within the table's bound.
    pub fn decrypt(
        &self,
        ciphertext: &Ciphertext,
        table: &crate::dlog::DlogTable,
    ) -> Result<u64, crate::errors::DlogError> {
        table.vartime_solve(&self.decrypt_to_point(ciphertext))
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(<redacted>)")
    }
}

impl ConstantTimeEq for SecretKey {
    fn ct_eq(&self, other: &Self) -> subtle::Choice {
        self.0.ct_eq(&other.0)
    }
}

impl PartialEq for SecretKey {
    fn eq(&self, other: &Self) -> bool {
        self.ct_eq(other).into()
    }
}

impl Eq for SecretKey {}

/// A public key `K = x·G`: never the identity.
///
/// # Layout
/// 32 bytes: the ristretto255 encoding of `K`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct PublicKey(GroupElement);

impl PublicKey {
    /// The encoded length in bytes.
    pub const BYTES: usize = 32;

    /// Decodes a public key.
    ///
    /// # Errors
    /// [`DecodeError::Length`], [`DecodeError::InvalidPoint`], or [`DecodeError::IdentityPoint`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        decode_nonidentity_point(bytes, "public key").map(Self)
    }

    /// Wraps a computed point that is known not to be the identity (it is `x·G` for `x ≠ 0`).
    pub(crate) fn from_point_unchecked(point: RistrettoPoint) -> Self {
        Self(GroupElement::from_point(point))
    }

    /// Wraps a computed point, refusing the identity.
    ///
    /// # Errors
    /// [`DecodeError::IdentityPoint`] for the identity.
    pub fn from_point(point: RistrettoPoint) -> Result<Self, DecodeError> {
        let element = GroupElement::from_point(point);
        if element.is_identity() {
            return Err(DecodeError::IdentityPoint { what: "public key" });
        }
        Ok(Self(element))
    }

    /// The canonical encoding.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.0.to_bytes()
    }

    /// The canonical encoding, borrowed.
    pub fn as_bytes(&self) -> &[u8; 32] {
        self.0.as_bytes()
    }

    /// The key as a group element.
    pub fn as_element(&self) -> &GroupElement {
        &self.0
    }

    /// The key as a point.
    pub fn as_point(&self) -> &RistrettoPoint {
        self.0.as_point()
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey(")?;
        write_hex(f, self.as_bytes())?;
        write!(f, ")")
    }
}

/// A secret key with its public key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyPair {
    secret: SecretKey,
    public: PublicKey,
}

impl KeyPair {
    /// Generates a fresh key pair.
    pub fn generate<R: RngCore + CryptoRng>(rng: &mut R) -> Self {
        Self::from_secret(SecretKey::generate(rng))
    }

    /// Completes a secret key with its public key.
    pub fn from_secret(secret: SecretKey) -> Self {
        let public = secret.public_key();
        Self { secret, public }
    }

    /// The secret half.
    pub fn secret(&self) -> &SecretKey {
        &self.secret
    }

    /// The public half.
    pub fn public(&self) -> &PublicKey {
        &self.public
    }
}

/// A public key with a precomputed fixed-base table, for encrypting and proving many times.
///
/// Building it costs ≈ 1 ms and ≈ 30 KiB; afterwards `r·K` is a fixed-base multiplication
/// (≈ 13 µs) instead of a variable-base one (≈ 35 µs), so that encryption costs two fixed-base
/// multiplications. Build one per election key and share it.
pub struct EncryptionKey {
    public: PublicKey,
    table: Box<RistrettoBasepointTable>,
}

impl EncryptionKey {
    /// Precomputes the table for `public`.
    pub fn new(public: &PublicKey) -> Self {
        Self {
            public: *public,
            table: Box::new(RistrettoBasepointTable::create(public.as_point())),
        }
    }

    /// The public key.
    pub fn public(&self) -> &PublicKey {
        &self.public
    }

    /// `s·K` with the precomputed table (constant time in `s`).
    pub(crate) fn mul(&self, s: &Scalar) -> RistrettoPoint {
        &*self.table * s
    }
}

impl From<&PublicKey> for EncryptionKey {
    fn from(public: &PublicKey) -> Self {
        Self::new(public)
    }
}

impl fmt::Debug for EncryptionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EncryptionKey")
            .field("public", &self.public)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    #[test]
    fn secret_keys_are_redacted_and_roundtrip() {
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let sk = SecretKey::generate(&mut rng);
        assert_eq!(format!("{sk:?}"), "SecretKey(<redacted>)");
        let back = SecretKey::from_bytes(&*sk.to_bytes()).unwrap();
        assert_eq!(back, sk);
        assert_ne!(SecretKey::generate(&mut rng), sk);
        assert_eq!(
            SecretKey::from_bytes(&[0; 32]),
            Err(DecodeError::ZeroScalar { what: "secret key" })
        );
        assert!(matches!(
            SecretKey::from_bytes(&[0xff; 32]),
            Err(DecodeError::NonCanonicalScalar { .. })
        ));
    }

    #[test]
    fn public_keys_refuse_identity_and_roundtrip() {
        let mut rng = ChaCha20Rng::seed_from_u64(2);
        let pair = KeyPair::generate(&mut rng);
        let pk = PublicKey::from_bytes(pair.public().as_bytes()).unwrap();
        assert_eq!(&pk, pair.public());
        assert_eq!(pk.to_bytes(), *pair.public().as_bytes());
        assert!(matches!(
            PublicKey::from_bytes(&[0; 32]),
            Err(DecodeError::IdentityPoint { .. })
        ));
        assert!(PublicKey::from_point(RistrettoPoint::default()).is_err());
        let ek = EncryptionKey::new(&pk);
        let s = Scalar::from(12345u64);
        assert_eq!(ek.mul(&s), pk.as_point() * s);
    }
}
