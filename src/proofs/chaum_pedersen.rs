//! Chaum–Pedersen proof of equality of discrete logarithms.
//!
//! # Construction
//! Statement: `K = x·G` and `Y = x·H` for a public key `K`, a base `H` and an image `Y`.
//! Witness: `x`. For a decryption share, `H = alpha` of the ciphertext and `Y = x_i·alpha` is
//! the guardian's share.
//!
//! ```text
//! prover:   k ← nonce;  A = k·G;  B = k·H
//!           c = H(transcript ‖ statement ‖ A ‖ B)
//!           s = k + c·x
//! verifier: s·G = A + c·K   and   s·H = B + c·Y
//! ```
//!
//! # Layout
//! 96 bytes: `A ‖ B ‖ s` (non-identity ristretto255 encodings, a canonical scalar).

use curve25519_dalek::constants::RISTRETTO_BASEPOINT_TABLE;
use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::scalar::Scalar;
use merlin::Transcript;
use rand_core::{CryptoRng, RngCore};
use zeroize::{Zeroize, Zeroizing};

use super::batch::{verify_single, BatchVerifier, ItemBuilder};
use crate::errors::{DecodeError, ProofError, ProofKind};
use crate::group::{elements_from_halves, inv_two, GroupElement, Reader};
use crate::keys::{KeyPair, PublicKey};
use crate::transcript::{labels, TranscriptProtocol};

const KIND: ProofKind = ProofKind::ChaumPedersen;

/// A proof that `log_G K = log_H Y`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChaumPedersenProof {
    commitment_g: GroupElement,
    commitment_h: GroupElement,
    response: Scalar,
}

impl ChaumPedersenProof {
    /// The encoded length in bytes.
    pub const BYTES: usize = 96;

    /// Proves that `image = x·base` for `pair`'s secret key `x`.
    ///
    /// # Errors
    /// [`ProofError::InvalidStatement`] if `base` or `image` is the identity.
    pub fn prove<R: RngCore + CryptoRng>(
        transcript: &mut Transcript,
        pair: &KeyPair,
        base: &GroupElement,
        image: &GroupElement,
        rng: &mut R,
    ) -> Result<Self, ProofError> {
        absorb_statement(transcript, pair.public(), base, image)?;
        let mut halves = Vec::with_capacity(2);
        let nonce = Self::commit(transcript, pair, base, rng, &mut halves);
        let mut elements = elements_from_halves(&halves).into_iter();
        Self::respond(transcript, pair, nonce, &mut elements)
    }

    /// Computes `Y_k = x·H_k` for every base `H_k` and proves each (a guardian's decryption
    /// shares of a tally), in the transcript `transcript_for(k)`: the same proofs, bytes and
    /// RNG draws as calling [`Self::prove`] on each in turn, with the images encoded in one batch
    /// and the commitments in another instead of four compressions per base.
    ///
    /// # Errors
    /// [`ProofError::InvalidStatement`] if a base is the identity (nothing is proved).
    pub(crate) fn prove_images<R: RngCore + CryptoRng>(
        pair: &KeyPair,
        bases: &[GroupElement],
        mut transcript_for: impl FnMut(usize) -> Transcript,
        rng: &mut R,
    ) -> Result<Vec<(GroupElement, Self)>, ProofError> {
        if bases.iter().any(GroupElement::is_identity) {
            return Err(ProofError::InvalidStatement {
                kind: KIND,
                reason: "the base H is the identity",
            });
        }
        // Constant-time variable-base multiplications by x/2 (secret), doubled by the batch.
        let mut half_x = pair.secret().expose_scalar() * inv_two();
        let image_halves: Vec<RistrettoPoint> = bases.iter().map(|b| b.point * half_x).collect();
        half_x.zeroize();
        let images = elements_from_halves(&image_halves);
        let mut transcripts = Vec::with_capacity(bases.len());
        // Zeroized on every way out, an early error included.
        let mut nonces = Zeroizing::new(Vec::with_capacity(bases.len()));
        let mut halves = Vec::with_capacity(2 * bases.len());
        for (k, (base, image)) in bases.iter().zip(&images).enumerate() {
            let mut transcript = transcript_for(k);
            absorb_statement(&mut transcript, pair.public(), base, image)?;
            nonces.push(Self::commit(&transcript, pair, base, rng, &mut halves));
            transcripts.push(transcript);
        }
        let mut elements = elements_from_halves(&halves).into_iter();
        let mut out = Vec::with_capacity(bases.len());
        for ((image, mut transcript), nonce) in images
            .into_iter()
            .zip(transcripts)
            .zip(nonces.iter().copied())
        {
            let proof = Self::respond(&mut transcript, pair, nonce, &mut elements)?;
            out.push((image, proof));
        }
        Ok(out)
    }

    /// The prover's first move, after the statement is absorbed: the nonce `k` (hedged through
    /// the transcript) and the halved commitments `k/2·G`, `k/2·H` appended to `halves`.
    fn commit<R: RngCore + CryptoRng>(
        transcript: &Transcript,
        pair: &KeyPair,
        base: &GroupElement,
        rng: &mut R,
        halves: &mut Vec<RistrettoPoint>,
    ) -> Scalar {
        let x = pair.secret().expose_scalar();
        let mut nonce_rng = transcript.witness_rng(&[(labels::WITNESS_SECRET, x.as_bytes())], rng);
        let k = crate::group::random_scalar(&mut nonce_rng);
        let mut half_k = k * inv_two();
        halves.push(RISTRETTO_BASEPOINT_TABLE * &half_k);
        // Constant-time variable-base multiplication: `k` is secret.
        halves.push(base.point * half_k);
        half_k.zeroize();
        k
    }

    /// The prover's second move: absorbs the encoded commitments (the next two of `elements`)
    /// and answers the challenge. Zeroizes the nonce.
    fn respond(
        transcript: &mut Transcript,
        pair: &KeyPair,
        mut k: Scalar,
        elements: &mut impl Iterator<Item = GroupElement>,
    ) -> Result<Self, ProofError> {
        let (Some(commitment_g), Some(commitment_h)) = (elements.next(), elements.next()) else {
            k.zeroize();
            return Err(ProofError::InvalidStatement {
                kind: KIND,
                reason: "internal: missing commitment encodings",
            });
        };
        transcript.append_element(labels::COMMITMENT_G, &commitment_g);
        transcript.append_element(labels::COMMITMENT_H, &commitment_h);
        let c = transcript.challenge_scalar(labels::CHALLENGE);
        let response = k + c * pair.secret().expose_scalar();
        k.zeroize();
        Ok(Self {
            commitment_g,
            commitment_h,
            response,
        })
    }

    /// Verifies that `image = x·base` where `public = x·G`.
    ///
    /// # Errors
    /// [`ProofError::InvalidStatement`] for an identity base or image; [`ProofError::Invalid`]
    /// if the proof does not verify.
    pub fn verify(
        &self,
        transcript: &mut Transcript,
        public: &PublicKey,
        base: &GroupElement,
        image: &GroupElement,
    ) -> Result<(), ProofError> {
        let c = self.challenge(transcript, public, base, image)?;
        verify_single(transcript, KIND, &self.to_bytes(), |item| {
            self.emit(public, base, image, c, item)
        })
    }

    fn challenge(
        &self,
        transcript: &mut Transcript,
        public: &PublicKey,
        base: &GroupElement,
        image: &GroupElement,
    ) -> Result<Scalar, ProofError> {
        absorb_statement(transcript, public, base, image)?;
        transcript.append_element(labels::COMMITMENT_G, &self.commitment_g);
        transcript.append_element(labels::COMMITMENT_H, &self.commitment_h);
        Ok(transcript.challenge_scalar(labels::CHALLENGE))
    }

    /// `z1·(s·G - A - c·K) + z2·(s·H - B - c·Y) = 0`.
    fn emit<R: RngCore + CryptoRng>(
        &self,
        public: &PublicKey,
        base: &GroupElement,
        image: &GroupElement,
        c: Scalar,
        item: &mut ItemBuilder<'_, R>,
    ) {
        // z1·(A + c·K - s·G) + z2·(B + c·Y - s·H) = 0: the short weights stay on the proof's
        // own commitments A and B.
        let (z1, z2) = (item.weight(), item.weight());
        item.basepoint(-(z1 * self.response));
        item.term(z1, &self.commitment_g.point);
        item.shared(public.as_element(), z1 * c);
        item.term(-(z2 * self.response), &base.point);
        item.term(z2, &self.commitment_h.point);
        item.term(z2 * c, &image.point);
    }

    /// The canonical encoding `A ‖ B ‖ s`.
    pub fn to_bytes(&self) -> [u8; 96] {
        let mut out = [0u8; 96];
        for (chunk, bytes) in out.chunks_exact_mut(32).zip([
            self.commitment_g.as_bytes(),
            self.commitment_h.as_bytes(),
            self.response.as_bytes(),
        ]) {
            chunk.copy_from_slice(bytes);
        }
        out
    }

    /// Decodes `A ‖ B ‖ s`.
    ///
    /// # Errors
    /// [`DecodeError`] for a wrong length, an invalid or identity commitment, or a
    /// non-canonical response.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut reader = Reader::exact(bytes, "Chaum-Pedersen proof", Self::BYTES, "96")?;
        let commitment_g = reader.nonidentity_point("Chaum-Pedersen commitment A")?;
        let commitment_h = reader.nonidentity_point("Chaum-Pedersen commitment B")?;
        let response = reader.scalar("Chaum-Pedersen response s")?;
        reader.finish()?;
        Ok(Self {
            commitment_g,
            commitment_h,
            response,
        })
    }
}

fn absorb_statement(
    transcript: &mut Transcript,
    public: &PublicKey,
    base: &GroupElement,
    image: &GroupElement,
) -> Result<(), ProofError> {
    if base.is_identity() {
        return Err(ProofError::InvalidStatement {
            kind: KIND,
            reason: "the base H is the identity",
        });
    }
    if image.is_identity() {
        return Err(ProofError::InvalidStatement {
            kind: KIND,
            reason: "the image Y is the identity",
        });
    }
    transcript.proof_domain_sep(labels::KIND_CHAUM_PEDERSEN);
    transcript.append_element(labels::GENERATOR, &GroupElement::basepoint());
    transcript.append_element(labels::BASE, base);
    transcript.append_element(labels::PUBLIC_KEY, public.as_element());
    transcript.append_element(labels::IMAGE, image);
    Ok(())
}

impl<R: RngCore + CryptoRng> BatchVerifier<R> {
    /// Queues a [`ChaumPedersenProof`]; returns its queue position.
    ///
    /// # Errors
    /// [`ProofError::InvalidStatement`] for an identity base or image (nothing is queued).
    pub fn queue_chaum_pedersen(
        &mut self,
        transcript: &mut Transcript,
        proof: &ChaumPedersenProof,
        public: &PublicKey,
        base: &GroupElement,
        image: &GroupElement,
    ) -> Result<usize, ProofError> {
        let c = proof.challenge(transcript, public, base, image)?;
        Ok(self.push(KIND, |item| proof.emit(public, base, image, c, item)))
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

    struct Case {
        pair: KeyPair,
        base: GroupElement,
        image: GroupElement,
        proof: ChaumPedersenProof,
    }

    fn case(seed: u64) -> Case {
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let pair = KeyPair::generate(&mut rng);
        let base = GroupElement::from_point(crate::group::random_point(&mut rng));
        let image = GroupElement::from_point(base.point * pair.secret().expose_scalar());
        let proof =
            ChaumPedersenProof::prove(&mut context(b"a"), &pair, &base, &image, &mut rng).unwrap();
        Case {
            pair,
            base,
            image,
            proof,
        }
    }

    #[test]
    fn completeness() {
        let c = case(20);
        c.proof
            .verify(&mut context(b"a"), c.pair.public(), &c.base, &c.image)
            .unwrap();
        let bytes = c.proof.to_bytes();
        assert_eq!(ChaumPedersenProof::from_bytes(&bytes).unwrap(), c.proof);
    }

    #[test]
    fn every_statement_element_is_bound() {
        let c = case(21);
        let mut rng = ChaCha20Rng::seed_from_u64(99);
        let other_point = GroupElement::from_point(crate::group::random_point(&mut rng));
        let other_key = KeyPair::generate(&mut rng);
        let invalid = Err(ProofError::Invalid { kind: KIND });
        let pk = c.pair.public();
        assert_eq!(
            c.proof.verify(&mut context(b"b"), pk, &c.base, &c.image),
            invalid,
            "context"
        );
        assert_eq!(
            c.proof
                .verify(&mut context(b"a"), other_key.public(), &c.base, &c.image),
            invalid,
            "key"
        );
        assert_eq!(
            c.proof
                .verify(&mut context(b"a"), pk, &other_point, &c.image),
            invalid,
            "base"
        );
        assert_eq!(
            c.proof
                .verify(&mut context(b"a"), pk, &c.base, &other_point),
            invalid,
            "image"
        );
        // Base and image swapped.
        assert_eq!(
            c.proof.verify(&mut context(b"a"), pk, &c.image, &c.base),
            invalid,
            "swap"
        );
        // A wrong image that still satisfies nothing: Y + G.
        let off = GroupElement::from_point(c.image.point + GroupElement::basepoint().point);
        assert_eq!(
            c.proof.verify(&mut context(b"a"), pk, &c.base, &off),
            invalid,
            "off by one"
        );
        let mut t = Transcript::new(b"evote-other");
        t.append_message(b"context", b"a");
        assert_eq!(
            c.proof.verify(&mut t, pk, &c.base, &c.image),
            invalid,
            "label"
        );
        let bytes = c.proof.to_bytes();
        for offset in [0usize, 32, 64] {
            let mut tweaked = bytes;
            tweaked[offset] ^= 2;
            if let Ok(p) = ChaumPedersenProof::from_bytes(&tweaked) {
                assert_eq!(
                    p.verify(&mut context(b"a"), pk, &c.base, &c.image),
                    invalid,
                    "offset {offset}"
                );
            }
        }
        let swapped = ChaumPedersenProof {
            commitment_g: c.proof.commitment_h,
            commitment_h: c.proof.commitment_g,
            response: c.proof.response,
        };
        assert_eq!(
            swapped.verify(&mut context(b"a"), pk, &c.base, &c.image),
            invalid,
            "commitments"
        );
        let bumped = ChaumPedersenProof {
            response: c.proof.response + Scalar::ONE,
            ..c.proof.clone()
        };
        assert_eq!(
            bumped.verify(&mut context(b"a"), pk, &c.base, &c.image),
            invalid,
            "response"
        );
    }

    #[test]
    fn a_false_statement_does_not_prove() {
        // The prover runs on an image that is not x·H: its proof must not verify.
        let mut rng = ChaCha20Rng::seed_from_u64(22);
        let pair = KeyPair::generate(&mut rng);
        let base = GroupElement::from_point(crate::group::random_point(&mut rng));
        let wrong =
            GroupElement::from_point(base.point * (pair.secret().expose_scalar() + Scalar::ONE));
        let proof =
            ChaumPedersenProof::prove(&mut context(b"a"), &pair, &base, &wrong, &mut rng).unwrap();
        assert!(proof
            .verify(&mut context(b"a"), pair.public(), &base, &wrong)
            .is_err());
    }

    #[test]
    fn identity_statements_are_refused() {
        let c = case(23);
        let identity = GroupElement::from_bytes(&[0; 32]).unwrap();
        assert!(matches!(
            c.proof
                .verify(&mut context(b"a"), c.pair.public(), &identity, &c.image),
            Err(ProofError::InvalidStatement { .. })
        ));
        assert!(matches!(
            c.proof
                .verify(&mut context(b"a"), c.pair.public(), &c.base, &identity),
            Err(ProofError::InvalidStatement { .. })
        ));
    }

    #[test]
    fn decoding_is_strict() {
        let c = case(24);
        let bytes = c.proof.to_bytes();
        assert!(matches!(
            ChaumPedersenProof::from_bytes(&bytes[..95]),
            Err(DecodeError::Length { .. })
        ));
        let mut b = bytes;
        b[32..64].fill(0);
        assert!(matches!(
            ChaumPedersenProof::from_bytes(&b),
            Err(DecodeError::IdentityPoint { .. })
        ));
        let mut b = bytes;
        b[64..].fill(0xff);
        assert!(matches!(
            ChaumPedersenProof::from_bytes(&b),
            Err(DecodeError::NonCanonicalScalar { .. })
        ));
        let mut b = bytes;
        b[0] |= 1;
        assert!(matches!(
            ChaumPedersenProof::from_bytes(&b),
            Err(DecodeError::InvalidPoint { .. })
        ));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(32))]

        #[test]
        fn completeness_and_canonical_roundtrip(seed in proptest::prelude::any::<u64>()) {
            let c = case(seed);
            let bytes = c.proof.to_bytes();
            let decoded = ChaumPedersenProof::from_bytes(&bytes).unwrap();
            proptest::prop_assert_eq!(decoded.to_bytes(), bytes);
            proptest::prop_assert!(decoded.verify(&mut context(b"a"), c.pair.public(), &c.base, &c.image).is_ok());
        }
    }
}
