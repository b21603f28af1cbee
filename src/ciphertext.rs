//! Exponential ElGamal ciphertexts over ristretto255.
//!
//! # Construction
//! For a public key `K = x·G`, a value `m` and a uniformly random nonce `r`,
//!
//! ```text
//! Enc_K(m; r) = (alpha, beta) = (r·G, m·G + r·K)
//! ```
//!
//! The scheme is additively homomorphic: `Enc(m1; r1) + Enc(m2; r2) = Enc(m1 + m2; r1 + r2)`
//! component-wise, which is what homomorphic tallying uses. Decryption gives `beta - x·alpha =
//! m·G`; `m` itself is recovered with a bounded discrete logarithm ([`crate::dlog`]), so only
//! small values (votes, tallies) are meaningful plaintexts.
//!
//! # Implementation details
//! Plain encryption computes `r·G` and `r·K + m·G` with fixed-base tables. A prover computes
//! `(r/2)·G` and `(r/2)·K + m·(G/2)` instead and doubles them together with its commitments, so
//! that all of them are encoded in one batch. `m·G` (or `m·(G/2)`) is read from a radix-16
//! table of small multiples, its digits recoded to `−8..8` (8 entries scanned per window, then
//! a conditional negation), with constant-time selection over a number of windows fixed by a
//! *public* bound (16 for any `u64`), so encryption time does not depend on `m`.

use core::fmt;
use core::iter::Sum;
use core::ops::{Add, AddAssign, Sub, SubAssign};
use std::sync::OnceLock;

use curve25519_dalek::constants::{RISTRETTO_BASEPOINT_POINT, RISTRETTO_BASEPOINT_TABLE};
use curve25519_dalek::ristretto::{CompressedRistretto, RistrettoPoint};
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::Identity;
use rand_core::{CryptoRng, RngCore};
use subtle::{Choice, ConditionallyNegatable, ConditionallySelectable, ConstantTimeEq};
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::errors::DecodeError;
use crate::group::{decode_nonidentity_point, decode_point, inv_two, write_hex, GroupElement};
use crate::keys::{EncryptionKey, PublicKey};

/// An exponential ElGamal ciphertext `(alpha, beta) = (r·G, m·G + r·K)`.
///
/// Ciphertexts decoded from bytes, or produced by a prover, remember their canonical encoding,
/// so transcripts can absorb them without compressing again; ciphertexts produced by arithmetic
/// compute it on demand.
///
/// # Layout
/// 64 bytes: `alpha ‖ beta`, each a ristretto255 encoding; `alpha` is never the identity.
#[derive(Clone, Copy)]
pub struct Ciphertext {
    alpha: RistrettoPoint,
    beta: RistrettoPoint,
    encoded: Option<[CompressedRistretto; 2]>,
}

impl Ciphertext {
    /// The encoded length in bytes.
    pub const BYTES: usize = 64;

    /// Encrypts `value` under `key` with a fresh nonce.
    ///
    /// Two fixed-base multiplications; constant time in `value`.
    pub fn encrypt<R: RngCore + CryptoRng>(key: &EncryptionKey, value: u64, rng: &mut R) -> Self {
        Self::encrypt_with_opening(key, value, rng).0
    }

    /// Encrypts `value` and also returns the [`Opening`] (value and nonce) that a prover needs.
    pub fn encrypt_with_opening<R: RngCore + CryptoRng>(
        key: &EncryptionKey,
        value: u64,
        rng: &mut R,
    ) -> (Self, Opening) {
        let opening = Opening::new(value, crate::group::random_scalar(rng));
        (Self::from_opening(key, &opening), opening)
    }

    /// Re-encrypts deterministically from an opening (constant time in the opening).
    pub fn from_opening(key: &EncryptionKey, opening: &Opening) -> Self {
        // No halving here: nothing is encoded in a batch with the ciphertext.
        let alpha = RISTRETTO_BASEPOINT_TABLE * &opening.nonce;
        let beta = key.mul(&opening.nonce) + small_multiple_of_g(opening.value, WINDOWS_U64);
        Self::from_points(alpha, beta)
    }

    /// Checks that this ciphertext encrypts exactly `opening` under `key` (variable time: for
    /// openings that are public, such as the reveal of a challenged ballot).
    pub fn vartime_is_opened_by(&self, key: &PublicKey, opening: &Opening) -> bool {
        let r = opening.nonce;
        let alpha = RistrettoPoint::vartime_double_scalar_mul_basepoint(
            &Scalar::ZERO,
            &RistrettoPoint::identity(),
            &r,
        );
        let beta = RistrettoPoint::vartime_double_scalar_mul_basepoint(
            &r,
            key.as_point(),
            &Scalar::from(opening.value),
        );
        alpha == self.alpha && beta == self.beta
    }

    pub(crate) fn from_points(alpha: RistrettoPoint, beta: RistrettoPoint) -> Self {
        Self {
            alpha,
            beta,
            encoded: None,
        }
    }

    pub(crate) fn from_elements(alpha: &GroupElement, beta: &GroupElement) -> Self {
        Self {
            alpha: alpha.point,
            beta: beta.point,
            encoded: Some([alpha.bytes, beta.bytes]),
        }
    }

    /// The first component, `alpha = r·G`.
    pub fn alpha(&self) -> &RistrettoPoint {
        &self.alpha
    }

    /// The second component, `beta = m·G + r·K`.
    pub fn beta(&self) -> &RistrettoPoint {
        &self.beta
    }

    /// The canonical 64-byte encoding `alpha ‖ beta`.
    pub fn to_bytes(&self) -> [u8; 64] {
        let [a, b] = self.compressed();
        let mut out = [0u8; 64];
        let (left, right) = out.split_at_mut(32);
        left.copy_from_slice(a.as_bytes());
        right.copy_from_slice(b.as_bytes());
        out
    }

    /// The two encodings, from the cache when there is one.
    pub(crate) fn compressed(&self) -> [CompressedRistretto; 2] {
        match self.encoded {
            Some(encoded) => encoded,
            None => [self.alpha.compress(), self.beta.compress()],
        }
    }

    /// Decodes `alpha ‖ beta`, refusing an identity `alpha` (which would mean nonce 0 and a
    /// plaintext in the clear).
    ///
    /// # Errors
    /// [`DecodeError::Length`] unless 64 bytes; [`DecodeError::InvalidPoint`] for a
    /// non-canonical component; [`DecodeError::IdentityPoint`] for an identity `alpha`.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        if bytes.len() != Self::BYTES {
            return Err(DecodeError::Length {
                what: "ciphertext",
                expected: "64",
                actual: bytes.len(),
            });
        }
        let (a, b) = bytes.split_at(32);
        let alpha = decode_nonidentity_point(a, "ciphertext alpha")?;
        let beta = decode_point(b, "ciphertext beta")?;
        Ok(Self::from_elements(&alpha, &beta))
    }

    /// The ciphertext `(0, 0)`, the neutral element of addition (an encryption of 0 with nonce
    /// 0). It is the start of a sum; it is never a valid ballot ciphertext.
    pub fn zero() -> Self {
        Self::from_points(RistrettoPoint::identity(), RistrettoPoint::identity())
    }
}

impl PartialEq for Ciphertext {
    fn eq(&self, other: &Self) -> bool {
        self.alpha == other.alpha && self.beta == other.beta
    }
}

impl Eq for Ciphertext {}

impl fmt::Debug for Ciphertext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Ciphertext(")?;
        write_hex(f, &self.to_bytes())?;
        write!(f, ")")
    }
}

impl Add<&Ciphertext> for &Ciphertext {
    type Output = Ciphertext;
    fn add(self, rhs: &Ciphertext) -> Ciphertext {
        Ciphertext::from_points(self.alpha + rhs.alpha, self.beta + rhs.beta)
    }
}

impl Add for Ciphertext {
    type Output = Ciphertext;
    fn add(self, rhs: Ciphertext) -> Ciphertext {
        Ciphertext::from_points(self.alpha + rhs.alpha, self.beta + rhs.beta)
    }
}

impl AddAssign<&Ciphertext> for Ciphertext {
    fn add_assign(&mut self, rhs: &Ciphertext) {
        *self = &*self + rhs;
    }
}

impl Sub<&Ciphertext> for &Ciphertext {
    type Output = Ciphertext;
    fn sub(self, rhs: &Ciphertext) -> Ciphertext {
        Ciphertext::from_points(self.alpha - rhs.alpha, self.beta - rhs.beta)
    }
}

impl Sub for Ciphertext {
    type Output = Ciphertext;
    fn sub(self, rhs: Ciphertext) -> Ciphertext {
        Ciphertext::from_points(self.alpha - rhs.alpha, self.beta - rhs.beta)
    }
}

impl SubAssign<&Ciphertext> for Ciphertext {
    fn sub_assign(&mut self, rhs: &Ciphertext) {
        *self = &*self - rhs;
    }
}

impl<'a> Sum<&'a Ciphertext> for Ciphertext {
    fn sum<I: Iterator<Item = &'a Ciphertext>>(iter: I) -> Self {
        let (alpha, beta) = iter.fold(
            (RistrettoPoint::identity(), RistrettoPoint::identity()),
            |(a, b), c| (a + c.alpha, b + c.beta),
        );
        Self::from_points(alpha, beta)
    }
}

impl Sum for Ciphertext {
    fn sum<I: Iterator<Item = Ciphertext>>(iter: I) -> Self {
        let (alpha, beta) = iter.fold(
            (RistrettoPoint::identity(), RistrettoPoint::identity()),
            |(a, b), c| (a + c.alpha, b + c.beta),
        );
        Self::from_points(alpha, beta)
    }
}

/// What opens a ciphertext: the value `m` and the nonce `r`.
///
/// Secret: not `Copy`, zeroized on drop, redacted `Debug`. A prover needs it; a voter device
/// reveals it only for a challenged (never cast) ballot.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct Opening {
    value: u64,
    nonce: Scalar,
}

impl Opening {
    /// Assembles an opening.
    pub fn new(value: u64, nonce: Scalar) -> Self {
        Self { value, nonce }
    }

    /// The encrypted value.
    pub fn expose_value(&self) -> u64 {
        self.value
    }

    /// The encryption nonce `r`.
    pub fn expose_nonce(&self) -> &Scalar {
        &self.nonce
    }

    /// The opening of the sum of the ciphertexts these open, or `None` if the values overflow.
    pub fn sum<'a, I: IntoIterator<Item = &'a Opening>>(openings: I) -> Option<Opening> {
        let mut total = Opening::new(0, Scalar::ZERO);
        for o in openings {
            total.value = total.value.checked_add(o.value)?;
            total.nonce += o.nonce;
        }
        Some(total)
    }
}

impl fmt::Debug for Opening {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Opening(<redacted>)")
    }
}

/// Radix-16 windows needed for any `u64`.
pub(crate) const WINDOWS_U64: usize = 16;

/// The number of radix-16 windows that cover `0..=max`.
pub(crate) fn windows_for(max: u64) -> usize {
    let bits = 64 - max.leading_zeros() as usize;
    bits.div_ceil(4).max(1)
}

/// `table[w][j] = (j + 1)·16^w·P` for 16 windows and `j` in `0..16`: the nonzero digits of a
/// radix-16 expansion, up to 16 so that the last window can absorb a carry.
type SmallMultiples = [[RistrettoPoint; 16]; WINDOWS_U64];

fn small_multiples(base: RistrettoPoint) -> Box<SmallMultiples> {
    let mut table = Box::new([[RistrettoPoint::identity(); 16]; WINDOWS_U64]);
    let mut base = base;
    for row in table.iter_mut() {
        let mut acc = RistrettoPoint::identity();
        for entry in row.iter_mut() {
            acc += base;
            *entry = acc;
        }
        // acc = 16·base now.
        base = acc;
    }
    table
}

/// The table of `G`, for plain encryption.
fn g_table() -> &'static SmallMultiples {
    static TABLE: OnceLock<Box<SmallMultiples>> = OnceLock::new();
    TABLE.get_or_init(|| small_multiples(RISTRETTO_BASEPOINT_POINT))
}

/// The table of `G/2`, for provers that compute halves and encode them in one batch.
fn half_g_table() -> &'static SmallMultiples {
    static TABLE: OnceLock<Box<SmallMultiples>> = OnceLock::new();
    TABLE.get_or_init(|| small_multiples(RISTRETTO_BASEPOINT_POINT * inv_two()))
}

/// `value·P` from `table` (the small multiples of `P`) in time that depends only on `windows`
/// (public), not on `value`. The caller guarantees `value < 16^windows`.
///
/// The digits are recoded to `-8..8` in every window but the last (which takes `0..=16`, the
/// carry included), so each of those windows scans 8 entries and conditionally negates instead
/// of scanning 16: `value = Σ d_w·16^w`. The recoding is arithmetic on the digits, no branches.
fn small_multiple(table: &SmallMultiples, value: u64, windows: usize) -> RistrettoPoint {
    let last = windows.clamp(1, WINDOWS_U64) - 1;
    let mut sum = RistrettoPoint::identity();
    let mut carry = 0u8;
    for (w, row) in table.iter().enumerate().take(last + 1) {
        // nibble + carry is in 0..=16.
        let digit = ((value >> (4 * w)) & 0xf) as u8 + carry;
        let (magnitude, negative, entries) = if w < last {
            // digit ≥ 8 becomes digit − 16 with a carry into the next window.
            carry = (digit + 8) >> 4;
            // The signed digit is digit − 16 (in −8..=0) exactly when there is a carry.
            let negative = carry;
            let magnitude = (16 - digit) * negative + digit * (1 - negative);
            (magnitude, negative, 8)
        } else {
            (digit, 0, 16)
        };
        let mut selected = RistrettoPoint::identity();
        for (j, entry) in row.iter().enumerate().take(entries) {
            selected.conditional_assign(entry, (j as u8 + 1).ct_eq(&magnitude));
        }
        selected.conditional_negate(Choice::from(negative));
        // The first window starts the sum: no addition to the identity.
        if w == 0 {
            sum = selected;
        } else {
            sum += selected;
        }
    }
    sum
}

/// `value·(G/2)` in time that depends only on `windows` (public), not on `value`.
pub(crate) fn small_multiple_of_half_g(value: u64, windows: usize) -> RistrettoPoint {
    small_multiple(half_g_table(), value, windows)
}

/// `value·G` in time that depends only on `windows` (public), not on `value`.
pub(crate) fn small_multiple_of_g(value: u64, windows: usize) -> RistrettoPoint {
    small_multiple(g_table(), value, windows)
}

/// `((r/2)·G, (r/2)·K + m·(G/2))`: the halves of `Enc_K(m; r)`, in constant time.
pub(crate) fn encrypt_halves(
    key: &EncryptionKey,
    value: u64,
    nonce: &Scalar,
    windows: usize,
) -> (RistrettoPoint, RistrettoPoint) {
    let mut half_r = nonce * inv_two();
    let alpha_half = RISTRETTO_BASEPOINT_TABLE * &half_r;
    let beta_half = key.mul(&half_r) + small_multiple_of_half_g(value, windows);
    half_r.zeroize();
    (alpha_half, beta_half)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use crate::keys::KeyPair;
    use proptest::prelude::*;
    use rand_chacha::ChaCha20Rng;
    use rand_core::{RngCore, SeedableRng};

    fn setup(seed: u64) -> (KeyPair, EncryptionKey, ChaCha20Rng) {
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let pair = KeyPair::generate(&mut rng);
        let key = EncryptionKey::new(pair.public());
        (pair, key, rng)
    }

    #[test]
    fn window_counts() {
        assert_eq!(windows_for(0), 1);
        assert_eq!(windows_for(1), 1);
        assert_eq!(windows_for(15), 1);
        assert_eq!(windows_for(16), 2);
        assert_eq!(windows_for(255), 2);
        assert_eq!(windows_for(256), 3);
        assert_eq!(windows_for(u64::MAX), 16);
    }

    #[test]
    fn small_multiples_match_scalar_multiplication() {
        for v in [0u64, 1, 2, 15, 16, 17, 1000, 65535, 1 << 40, u64::MAX] {
            let expected = RISTRETTO_BASEPOINT_POINT * (Scalar::from(v) * inv_two());
            assert_eq!(small_multiple_of_half_g(v, 16), expected, "value {v}");
            assert_eq!(small_multiple_of_half_g(v, windows_for(v)), expected);
            let whole = RISTRETTO_BASEPOINT_POINT * Scalar::from(v);
            assert_eq!(small_multiple_of_g(v, 16), whole, "value {v}");
            assert_eq!(small_multiple_of_g(v, windows_for(v)), whole);
        }
        // Every digit and carry pattern of the signed recoding, in every window count that
        // covers the value.
        let mut rng = ChaCha20Rng::seed_from_u64(8);
        let patterns = [
            0x8888_8888_8888_8888u64,
            0x7777_7777_7777_7777,
            0xf8f8_f8f8_f8f8_f8f8,
            0x0f0f_0f0f_0f0f_0f0f,
            0xffff_ffff_ffff_fff8,
            0x1000_0000_0000_0000,
        ];
        let randoms: Vec<u64> = (0..200)
            .map(|_| rng.next_u64() >> (rng.next_u32() % 64))
            .collect();
        for v in patterns.into_iter().chain(randoms) {
            let whole = RISTRETTO_BASEPOINT_POINT * Scalar::from(v);
            for windows in windows_for(v)..=16 {
                assert_eq!(
                    small_multiple_of_g(v, windows),
                    whole,
                    "value {v:#x}, {windows} windows"
                );
            }
        }
    }

    #[test]
    fn encryption_matches_the_definition() {
        let (pair, key, mut rng) = setup(3);
        let (ct, opening) = Ciphertext::encrypt_with_opening(&key, 42, &mut rng);
        let r = *opening.expose_nonce();
        assert_eq!(*ct.alpha(), RISTRETTO_BASEPOINT_POINT * r);
        assert_eq!(
            *ct.beta(),
            RISTRETTO_BASEPOINT_POINT * Scalar::from(42u64) + pair.public().as_point() * r
        );
        assert!(ct.vartime_is_opened_by(pair.public(), &opening));
        assert!(!ct.vartime_is_opened_by(pair.public(), &Opening::new(41, r)));
        assert_eq!(
            pair.secret().decrypt_to_point(&ct),
            RISTRETTO_BASEPOINT_POINT * Scalar::from(42u64)
        );
        assert_eq!(format!("{opening:?}"), "Opening(<redacted>)");
    }

    #[test]
    fn decoding_refuses_bad_input() {
        let (_, key, mut rng) = setup(4);
        let ct = Ciphertext::encrypt(&key, 1, &mut rng);
        let bytes = ct.to_bytes();
        assert_eq!(Ciphertext::from_bytes(&bytes).unwrap(), ct);
        assert!(matches!(
            Ciphertext::from_bytes(&bytes[..63]),
            Err(DecodeError::Length { .. })
        ));
        let mut long = bytes.to_vec();
        long.push(0);
        assert!(matches!(
            Ciphertext::from_bytes(&long),
            Err(DecodeError::Length { .. })
        ));
        let mut identity_alpha = bytes;
        identity_alpha[..32].fill(0);
        assert_eq!(
            Ciphertext::from_bytes(&identity_alpha),
            Err(DecodeError::IdentityPoint {
                what: "ciphertext alpha"
            })
        );
        let mut bad_beta = bytes;
        bad_beta[32..].fill(0xff);
        assert_eq!(
            Ciphertext::from_bytes(&bad_beta),
            Err(DecodeError::InvalidPoint {
                what: "ciphertext beta"
            })
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]

        #[test]
        fn homomorphism(a in 0u64..1_000_000, b in 0u64..1_000_000, seed in any::<u64>()) {
            let (pair, key, mut rng) = setup(seed);
            let (ca, oa) = Ciphertext::encrypt_with_opening(&key, a, &mut rng);
            let (cb, ob) = Ciphertext::encrypt_with_opening(&key, b, &mut rng);
            let sum = ca + cb;
            let opening = Opening::sum([&oa, &ob]).unwrap();
            prop_assert_eq!(sum, Ciphertext::from_opening(&key, &opening));
            prop_assert_eq!(
                pair.secret().decrypt_to_point(&sum),
                RISTRETTO_BASEPOINT_POINT * Scalar::from(a + b)
            );
            prop_assert_eq!(sum - cb, ca);
            prop_assert_eq!([ca, cb].iter().sum::<Ciphertext>(), sum);
            prop_assert_eq!(Ciphertext::zero() + ca, ca);
        }

        #[test]
        fn encode_decode_encode(value in any::<u64>(), seed in any::<u64>()) {
            let (_, key, mut rng) = setup(seed);
            let ct = Ciphertext::encrypt(&key, value, &mut rng);
            let bytes = ct.to_bytes();
            let decoded = Ciphertext::from_bytes(&bytes).unwrap();
            prop_assert_eq!(decoded, ct);
            prop_assert_eq!(decoded.to_bytes(), bytes);
        }
    }
}
