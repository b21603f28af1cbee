//! Schnorr proof of knowledge of a discrete logarithm.
//!
//! # Construction
//! Statement: `K = x·G` (`K` a [`PublicKey`]). Witness: `x`.
//!
//! ```text
//! prover:   k ← nonce;  R = k·G
//!           c = H(transcript ‖ statement ‖ R)
//!           s = k + c·x
//! verifier: s·G = R + c·K
//! ```
//!
//! Used for keys, ceremony coefficient commitments and, with the message absorbed into the
//! caller's transcript first, as a signature (voter credentials).
//!
//! # Layout
//! 64 bytes: `R ‖ s` (`R` a non-identity ristretto255 encoding, `s` a canonical scalar).

use curve25519_dalek::constants::RISTRETTO_BASEPOINT_TABLE;
use curve25519_dalek::scalar::Scalar;
use merlin::Transcript;
use rand_core::{CryptoRng, RngCore};
use zeroize::Zeroize;

use super::batch::{verify_single, BatchVerifier, ItemBuilder};
use crate::errors::{DecodeError, ProofError, ProofKind};
use crate::group::{GroupElement, Reader};
use crate::keys::{KeyPair, PublicKey};
use crate::transcript::{labels, TranscriptProtocol};

/// A Schnorr proof of knowledge of the secret key of a [`PublicKey`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SchnorrProof {
    commitment: GroupElement,
    response: Scalar,
}

impl SchnorrProof {
    /// The encoded length in bytes.
    pub const BYTES: usize = 64;

    /// Proves knowledge of `pair`'s secret key; the caller's transcript carries the context
    /// (and, for a signature, the message).
    pub fn prove<R: RngCore + CryptoRng>(
        transcript: &mut Transcript,
        pair: &KeyPair,
        rng: &mut R,
    ) -> Self {
        absorb_statement(transcript, pair.public());
        let x = pair.secret().expose_scalar();
        let mut nonce_rng = transcript.witness_rng(&[(labels::WITNESS_SECRET, x.as_bytes())], rng);
        let mut k = crate::group::random_scalar(&mut nonce_rng);
        let commitment = GroupElement::from_point(RISTRETTO_BASEPOINT_TABLE * &k);
        transcript.append_element(labels::COMMITMENT_G, &commitment);
        let c = transcript.challenge_scalar(labels::CHALLENGE);
        let response = k + c * x;
        k.zeroize();
        Self {
            commitment,
            response,
        }
    }

    /// Verifies the proof for `public` under the caller's transcript.
    ///
    /// # Errors
    /// [`ProofError::Invalid`] if it does not verify.
    pub fn verify(
        &self,
        transcript: &mut Transcript,
        public: &PublicKey,
    ) -> Result<(), ProofError> {
        let c = self.challenge(transcript, public);
        verify_single(transcript, ProofKind::Schnorr, &self.to_bytes(), |item| {
            self.emit(public, c, item)
        })
    }

    /// Absorbs the statement and proof, returning the challenge.
    fn challenge(&self, transcript: &mut Transcript, public: &PublicKey) -> Scalar {
        absorb_statement(transcript, public);
        transcript.append_element(labels::COMMITMENT_G, &self.commitment);
        transcript.challenge_scalar(labels::CHALLENGE)
    }

    /// `z·(s·G - R - c·K) = 0`.
    fn emit<R: RngCore + CryptoRng>(
        &self,
        public: &PublicKey,
        c: Scalar,
        item: &mut ItemBuilder<'_, R>,
    ) {
        // z·(R + c·K - s·G) = 0: the short weight stays on the proof's own point R.
        let z = item.weight();
        item.basepoint(-(z * self.response));
        item.term(z, &self.commitment.point);
        item.shared(public.as_element(), z * c);
    }

    /// The canonical encoding `R ‖ s`.
    pub fn to_bytes(&self) -> [u8; 64] {
        let mut out = [0u8; 64];
        let (r, s) = out.split_at_mut(32);
        r.copy_from_slice(self.commitment.as_bytes());
        s.copy_from_slice(self.response.as_bytes());
        out
    }

    /// Decodes `R ‖ s`.
    ///
    /// # Errors
    /// [`DecodeError`] for a wrong length, an invalid or identity `R`, or a non-canonical `s`.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut reader = Reader::exact(bytes, "Schnorr proof", Self::BYTES, "64")?;
        let commitment = reader.nonidentity_point("Schnorr proof commitment R")?;
        let response = reader.scalar("Schnorr proof response s")?;
        reader.finish()?;
        Ok(Self {
            commitment,
            response,
        })
    }
}

fn absorb_statement(transcript: &mut Transcript, public: &PublicKey) {
    transcript.proof_domain_sep(labels::KIND_SCHNORR);
    transcript.append_element(labels::GENERATOR, &GroupElement::basepoint());
    transcript.append_element(labels::PUBLIC_KEY, public.as_element());
}

impl<R: RngCore + CryptoRng> BatchVerifier<R> {
    /// Queues a [`SchnorrProof`] for `public`; returns its queue position.
    ///
    /// The transcript work (and so the challenge) happens now; the group equation is checked by
    /// [`BatchVerifier::verify`].
    pub fn queue_schnorr(
        &mut self,
        transcript: &mut Transcript,
        proof: &SchnorrProof,
        public: &PublicKey,
    ) -> usize {
        let c = proof.challenge(transcript, public);
        self.push(ProofKind::Schnorr, |item| proof.emit(public, c, item))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    fn context(label: &'static [u8]) -> Transcript {
        let mut t = Transcript::new(b"evote-test");
        t.append_message(b"context", label);
        t
    }

    #[test]
    fn completeness_and_transcript_agreement() {
        let mut rng = ChaCha20Rng::seed_from_u64(10);
        let pair = KeyPair::generate(&mut rng);
        let mut tp = context(b"a");
        let proof = SchnorrProof::prove(&mut tp, &pair, &mut rng);
        let mut tv = context(b"a");
        proof.verify(&mut tv, pair.public()).unwrap();
        // Prover and verifier leave the caller's transcript in the same state.
        let (mut a, mut b) = ([0u8; 16], [0u8; 16]);
        tp.challenge_bytes(b"next", &mut a);
        tv.challenge_bytes(b"next", &mut b);
        assert_eq!(a, b);
    }

    #[test]
    fn every_statement_element_is_bound() {
        let mut rng = ChaCha20Rng::seed_from_u64(11);
        let pair = KeyPair::generate(&mut rng);
        let other = KeyPair::generate(&mut rng);
        let proof = SchnorrProof::prove(&mut context(b"a"), &pair, &mut rng);
        let invalid = Err(ProofError::Invalid {
            kind: ProofKind::Schnorr,
        });
        // Another key.
        assert_eq!(proof.verify(&mut context(b"a"), other.public()), invalid);
        // Another context.
        assert_eq!(proof.verify(&mut context(b"b"), pair.public()), invalid);
        // Another application label.
        let mut t = Transcript::new(b"evote-test2");
        t.append_message(b"context", b"a");
        assert_eq!(proof.verify(&mut t, pair.public()), invalid);
        // Another proof label (a proof of another kind's transcript): absorbed by the kind.
        let mut t = context(b"a");
        t.proof_domain_sep(labels::KIND_CHAUM_PEDERSEN);
        assert_eq!(proof.verify(&mut t, pair.public()), invalid);
        // Changed commitment or response.
        let mut bytes = proof.to_bytes();
        bytes[32] ^= 1;
        let tweaked = SchnorrProof::from_bytes(&bytes).unwrap();
        assert_eq!(tweaked.verify(&mut context(b"a"), pair.public()), invalid);
        let tweaked = SchnorrProof {
            commitment: GroupElement::from_point(
                proof.commitment.point + GroupElement::basepoint().point,
            ),
            response: proof.response,
        };
        assert_eq!(tweaked.verify(&mut context(b"a"), pair.public()), invalid);
    }

    #[test]
    fn decoding_is_strict_and_canonical() {
        let mut rng = ChaCha20Rng::seed_from_u64(12);
        let pair = KeyPair::generate(&mut rng);
        let proof = SchnorrProof::prove(&mut context(b"a"), &pair, &mut rng);
        let bytes = proof.to_bytes();
        assert_eq!(SchnorrProof::from_bytes(&bytes).unwrap().to_bytes(), bytes);
        assert!(matches!(
            SchnorrProof::from_bytes(&bytes[..63]),
            Err(DecodeError::Length { .. })
        ));
        assert!(matches!(
            SchnorrProof::from_bytes(&[bytes.as_slice(), &[0]].concat()),
            Err(DecodeError::Length { .. })
        ));
        let mut identity = bytes;
        identity[..32].fill(0);
        assert!(matches!(
            SchnorrProof::from_bytes(&identity),
            Err(DecodeError::IdentityPoint { .. })
        ));
        let mut big_s = bytes;
        big_s[32..].fill(0xff);
        assert!(matches!(
            SchnorrProof::from_bytes(&big_s),
            Err(DecodeError::NonCanonicalScalar { .. })
        ));
    }

    #[test]
    fn response_plus_group_order_is_refused() {
        // (R, s + ℓ) is the same proof in another encoding: refused, not accepted.
        let mut rng = ChaCha20Rng::seed_from_u64(13);
        let pair = KeyPair::generate(&mut rng);
        let proof = SchnorrProof::prove(&mut context(b"a"), &pair, &mut rng);
        let mut bytes = proof.to_bytes();
        let s = proof.response.to_bytes();
        let ell: [u8; 32] = [
            0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9,
            0xde, 0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
        ];
        // s + ℓ fits in 256 bits since s < ℓ < 2^253.
        let mut carry = 0u16;
        for i in 0..32 {
            let v = u16::from(s[i]) + u16::from(ell[i]) + carry;
            bytes[32 + i] = v as u8;
            carry = v >> 8;
        }
        assert!(matches!(
            SchnorrProof::from_bytes(&bytes),
            Err(DecodeError::NonCanonicalScalar { .. })
        ));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(32))]

        #[test]
        fn completeness_and_canonical_roundtrip(seed in proptest::prelude::any::<u64>(), ctx in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..64)) {
            let mut rng = ChaCha20Rng::seed_from_u64(seed);
            let pair = KeyPair::generate(&mut rng);
            let mut t = Transcript::new(b"evote-prop");
            t.append_message(b"context", &ctx);
            let proof = SchnorrProof::prove(&mut t.clone(), &pair, &mut rng);
            let bytes = proof.to_bytes();
            let decoded = SchnorrProof::from_bytes(&bytes).unwrap();
            proptest::prop_assert_eq!(decoded.to_bytes(), bytes);
            proptest::prop_assert!(decoded.verify(&mut t, pair.public()).is_ok());
        }
    }
}
