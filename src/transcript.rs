//! Fiat–Shamir transcripts: the one place where proof data enters a hash.
//!
//! The application owns the [`merlin::Transcript`]: it creates it and absorbs the context
//! (election hash, ballot id, voter credential) before handing it to a prover or verifier.
//! Each proof then absorbs, through the crate-private `TranscriptProtocol` trait and in the
//! order given in `docs/transcript.md`:
//!
//! 1. the protocol label [`PROTOCOL_VERSION`], the ciphersuite [`CIPHERSUITE`] and the proof
//!    kind;
//! 2. its sizes (number of ciphertexts, number of branches);
//! 3. the generators and the public key;
//! 4. the admissible range;
//! 5. every ciphertext of the statement;
//! 6. the prover's commitments;
//!
//! and only then draws its challenge: 64 bytes, reduced modulo ℓ. Every label is a constant in
//! [`labels`], so the full list can be audited and reproduced by a second implementation.
//! Points are absorbed only as [`GroupElement`]s, which exist only after strict decoding (or
//! computation), so nothing unvalidated can enter a transcript.

use curve25519_dalek::scalar::Scalar;
use merlin::{Transcript, TranscriptRng};
use rand_core::{CryptoRng, RngCore};

use crate::group::GroupElement;

/// The versioned protocol label absorbed first by every proof. It changes whenever the proof
/// statements, the transcript layout or the wire format change, independently of the crate
/// version; a proof made under one protocol label never verifies under another.
pub const PROTOCOL_VERSION: &[u8] = b"evote-proofs/1";

/// The ciphersuite: the group, its encoding and the hash (merlin's STROBE-128 over Keccak-f).
pub const CIPHERSUITE: &[u8] = b"ristretto255/rfc9496;merlin-3;strobe-128";

/// Every transcript label, as constants. `docs/transcript.md` lists them in absorption order.
pub mod labels {
    /// Label of [`super::PROTOCOL_VERSION`].
    pub const PROTOCOL: &[u8] = b"evote/protocol";
    /// Label of [`super::CIPHERSUITE`].
    pub const CIPHERSUITE: &[u8] = b"evote/ciphersuite";
    /// Label of the proof kind.
    pub const PROOF_KIND: &[u8] = b"evote/proof-kind";

    /// Proof kind: Schnorr proof of knowledge of a discrete logarithm.
    pub const KIND_SCHNORR: &[u8] = b"schnorr-pok";
    /// Proof kind: Chaum–Pedersen proof of equality of discrete logarithms.
    pub const KIND_CHAUM_PEDERSEN: &[u8] = b"chaum-pedersen";
    /// Proof kind: disjunctive range proof for one ciphertext.
    pub const KIND_RANGE: &[u8] = b"range";
    /// Proof kind: selection-limit proof over the sum of a contest's ciphertexts.
    pub const KIND_SELECTION_LIMIT: &[u8] = b"selection-limit";

    /// Size: the number of ciphertexts in the statement.
    pub const CIPHERTEXT_COUNT: &[u8] = b"ciphertext-count";
    /// Size: the number of branches (admissible values) of a disjunctive proof.
    pub const BRANCH_COUNT: &[u8] = b"branch-count";
    /// The generator `G` (the ristretto255 basepoint).
    pub const GENERATOR: &[u8] = b"G";
    /// A second base `H` (Chaum–Pedersen).
    pub const BASE: &[u8] = b"H";
    /// The public key `K` (or `X` for a proof of knowledge).
    pub const PUBLIC_KEY: &[u8] = b"K";
    /// The image `Y = x·H` (Chaum–Pedersen).
    pub const IMAGE: &[u8] = b"Y";
    /// The smallest admissible value.
    pub const RANGE_MIN: &[u8] = b"min";
    /// The largest admissible value.
    pub const RANGE_MAX: &[u8] = b"max";
    /// One ciphertext, `alpha ‖ beta`.
    pub const CIPHERTEXT: &[u8] = b"ciphertext";
    /// A prover commitment on `G` (`R`, `A`, or `a_j`).
    pub const COMMITMENT_G: &[u8] = b"commitment-G";
    /// A prover commitment on the second base (`B` on `H`, or `b_j` on `K`).
    pub const COMMITMENT_H: &[u8] = b"commitment-H";
    /// The challenge.
    pub const CHALLENGE: &[u8] = b"challenge";

    /// Witness label for prover nonces: the secret scalar.
    pub const WITNESS_SECRET: &[u8] = b"witness-secret";
    /// Witness label for prover nonces: the encrypted value.
    pub const WITNESS_VALUE: &[u8] = b"witness-value";
    /// Label of the whole proof encoding, absorbed by a single (not batched) verification after
    /// the challenge and before its combination weights are drawn.
    pub const VERIFIER_PROOF: &[u8] = b"verifier-proof";
    /// Label of the verifier-side combination weights of a single (not batched) verification.
    pub const VERIFIER_WEIGHTS: &[u8] = b"verifier-weights";

    // The applications' labels: every transcript evote makes, after the crypto core's above.
    // Each string is one constant, whichever transcripts absorb it (docs/transcript.md, *All
    // labels*).

    /// Ballot proofs: application label of every ballot-proof transcript.
    pub const BALLOT: &[u8] = b"evote/ballot/v1";
    /// Ballots: application label of the credential's signature that casts a ballot.
    pub const BALLOT_CAST: &[u8] = b"evote/ballot-cast/v2";
    /// Ballots: application label of the credential's signature that challenges a ballot
    /// (reveals its seed). A separate transcript, so a challenge never stands for a cast.
    pub const BALLOT_CHALLENGE: &[u8] = b"evote/ballot-challenge/v2";
    /// Ballots and receipts: the election hash H_E.
    pub const ELECTION_HASH: &[u8] = b"election-hash";
    /// Ballots: the ballot id.
    pub const BALLOT_ID: &[u8] = b"ballot-id";
    /// Ballots: the voter's public credential.
    pub const CREDENTIAL: &[u8] = b"credential";
    /// Ballots: the contest's index (from 0).
    pub const CONTEST: &[u8] = b"contest";
    /// Ballots: the option's index within its contest (from 0); decryption shares: the tally
    /// option's index (from 0, contests flattened in order).
    pub const OPTION: &[u8] = b"option";
    /// Ballots: marks the contest's selection-limit proof (absorbed with an empty message).
    pub const SELECTION_LIMIT: &[u8] = b"selection-limit";
    /// Ballots: the hash of the signed ballot body.
    pub const BALLOT_BODY: &[u8] = b"ballot-body";
    /// Ballots: the revealed seed of a challenged ballot.
    pub const SEED: &[u8] = b"seed";

    /// Receipts: application label of a receipt signature.
    pub const RECEIPT: &[u8] = b"evote/receipt/v1";
    /// Receipts: the entry number.
    pub const ENTRY: &[u8] = b"entry";
    /// Receipts: the entry's kind (1 cast ballot, 3 challenge).
    pub const ENTRY_KIND: &[u8] = b"entry-kind";
    /// Receipts: the ballot's tracker.
    pub const TRACKER: &[u8] = b"tracker";
    /// Receipts: the board's head after the entry.
    pub const HEAD: &[u8] = b"head";
    /// Signed heads: application label of the ballot box's signature on a stored board's
    /// head (`entry` is then the number of entries, `head` the last entry's hash).
    pub const SIGNED_HEAD: &[u8] = b"evote/signed-head/v1";

    /// Ceremony: application label of every ceremony transcript.
    pub const CEREMONY: &[u8] = b"evote/ceremony/v1";
    /// Ceremony and decryption shares: the ceremony context hash.
    pub const CEREMONY_CONTEXT: &[u8] = b"ceremony-context";
    /// Ceremony: what the proof is for.
    pub const PURPOSE: &[u8] = b"purpose";
    /// Ceremony and decryption shares: the guardian's index (from 1).
    pub const GUARDIAN: &[u8] = b"guardian";
    /// Ceremony purpose: proof of knowledge of a polynomial coefficient.
    pub const PURPOSE_COEFFICIENT: &[u8] = b"coefficient";
    /// Ceremony: the coefficient's index `k` (`0..t`).
    pub const COEFFICIENT_INDEX: &[u8] = b"coefficient-index";
    /// Ceremony purpose: proof of knowledge of the share-encryption key.
    pub const PURPOSE_ENCRYPTION_KEY: &[u8] = b"share-encryption-key";
    /// Ceremony purpose: a complaint's proof that the revealed Diffie–Hellman key is right.
    pub const PURPOSE_COMPLAINT: &[u8] = b"complaint";
    /// Ceremony: the accused guardian's index.
    pub const ACCUSED: &[u8] = b"accused";
    /// Ceremony: the value of `purpose` for the weights of a guardian's combined check of the
    /// shares it received in round 4 (keyed with its share-encryption secret).
    pub const PURPOSE_SHARE_WEIGHTS: &[u8] = b"share-check-weights";
    /// Ceremony share-check weights: a sender's index (`append_u64`), before its sealed share.
    pub const SHARE_SENDER: &[u8] = b"share-sender";
    /// Ceremony share-check weights: the sealed share as broadcast.
    pub const SEALED_SHARE: &[u8] = b"sealed-share";

    /// Decryption shares: application label of every decryption-share transcript.
    pub const DECRYPTION: &[u8] = b"evote/decryption/v2";
    /// Decryption shares: the election hash H_E of the tallied board.
    pub const ELECTION: &[u8] = b"election";
    /// Decryption shares: the head of the closed board whose counted ballots are tallied.
    pub const BOARD_HEAD: &[u8] = b"board-head";
    /// Decryption shares: the number of counted ballots.
    pub const COUNTED_BALLOTS: &[u8] = b"counted-ballots";
    /// Decryption shares: the tally digest.
    pub const TALLY_DIGEST: &[u8] = b"tally-digest";
    /// Decryption shares: a share package's bytes before its signature (the signature's
    /// message).
    pub const SHARE_PACKAGE: &[u8] = b"share-package";
}

/// The crate's extension of [`merlin::Transcript`]; every proof absorbs through it.
pub(crate) trait TranscriptProtocol {
    /// Absorbs the protocol label, the ciphersuite and the proof kind.
    fn proof_domain_sep(&mut self, kind: &'static [u8]);
    /// Absorbs a size or bound as 8 bytes little-endian.
    fn append_size(&mut self, label: &'static [u8], value: u64);
    /// Absorbs a validated group element as its 32-byte encoding.
    fn append_element(&mut self, label: &'static [u8], element: &GroupElement);
    /// Absorbs 32 raw encoding bytes of an already-validated element.
    fn append_encoding(&mut self, label: &'static [u8], bytes: &[u8]);
    /// Draws a challenge scalar: 64 bytes reduced modulo ℓ (uniform up to 2^-259).
    fn challenge_scalar(&mut self, label: &'static [u8]) -> Scalar;
    /// Builds the prover's nonce RNG: the transcript so far, rekeyed with the witness, finalised
    /// with the caller's RNG (merlin's hedged construction: nonces stay unpredictable if either
    /// the RNG or the witness is, and never repeat across statements).
    fn witness_rng<R: RngCore + CryptoRng>(
        &self,
        witness: &[(&'static [u8], &[u8])],
        rng: &mut R,
    ) -> TranscriptRng;
}

impl TranscriptProtocol for Transcript {
    fn proof_domain_sep(&mut self, kind: &'static [u8]) {
        self.append_message(labels::PROTOCOL, PROTOCOL_VERSION);
        self.append_message(labels::CIPHERSUITE, CIPHERSUITE);
        self.append_message(labels::PROOF_KIND, kind);
    }

    fn append_size(&mut self, label: &'static [u8], value: u64) {
        self.append_u64(label, value);
    }

    fn append_element(&mut self, label: &'static [u8], element: &GroupElement) {
        self.append_message(label, element.as_bytes());
    }

    fn append_encoding(&mut self, label: &'static [u8], bytes: &[u8]) {
        self.append_message(label, bytes);
    }

    fn challenge_scalar(&mut self, label: &'static [u8]) -> Scalar {
        let mut wide = [0u8; 64];
        self.challenge_bytes(label, &mut wide);
        Scalar::from_bytes_mod_order_wide(&wide)
    }

    fn witness_rng<R: RngCore + CryptoRng>(
        &self,
        witness: &[(&'static [u8], &[u8])],
        rng: &mut R,
    ) -> TranscriptRng {
        let mut builder = self.build_rng();
        for (label, bytes) in witness {
            builder = builder.rekey_with_witness_bytes(label, bytes);
        }
        builder.finalize(rng)
    }
}

/// A source of no entropy at all, used only to finalise a [`TranscriptRng`] whose output must be
/// a deterministic function of public data: the combination weights of a single verification.
/// (Those weights need only be unpredictable to whoever made the proof; the transcript has
/// absorbed the whole proof before they are drawn, so they are, as Fiat–Shamir challenges are.)
pub(crate) struct NoEntropy;

impl RngCore for NoEntropy {
    fn next_u32(&mut self) -> u32 {
        0
    }
    fn next_u64(&mut self) -> u64 {
        0
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        dest.fill(0);
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
        dest.fill(0);
        Ok(())
    }
}

// Marker only: see the type's documentation for why this is sound where it is used.
impl CryptoRng for NoEntropy {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenges_depend_on_every_absorbed_item() {
        let mut a = Transcript::new(b"test");
        a.proof_domain_sep(labels::KIND_RANGE);
        let mut b = Transcript::new(b"test");
        b.proof_domain_sep(labels::KIND_SELECTION_LIMIT);
        assert_ne!(
            a.clone().challenge_scalar(labels::CHALLENGE),
            b.challenge_scalar(labels::CHALLENGE)
        );
        let mut c = a.clone();
        a.append_size(labels::RANGE_MIN, 0);
        c.append_size(labels::RANGE_MIN, 1);
        assert_ne!(
            a.challenge_scalar(labels::CHALLENGE),
            c.challenge_scalar(labels::CHALLENGE)
        );
    }

    #[test]
    fn regrouped_vectors_give_different_challenges() {
        // [x, y], [z] versus [x], [y, z]: sizes are absorbed, so the groupings differ.
        let item = |t: &mut Transcript, v: u8| t.append_encoding(labels::CIPHERTEXT, &[v; 64]);
        let mut a = Transcript::new(b"test");
        a.append_size(labels::CIPHERTEXT_COUNT, 2);
        item(&mut a, 1);
        item(&mut a, 2);
        a.append_size(labels::CIPHERTEXT_COUNT, 1);
        item(&mut a, 3);
        let mut b = Transcript::new(b"test");
        b.append_size(labels::CIPHERTEXT_COUNT, 1);
        item(&mut b, 1);
        b.append_size(labels::CIPHERTEXT_COUNT, 2);
        item(&mut b, 2);
        item(&mut b, 3);
        assert_ne!(
            a.challenge_scalar(labels::CHALLENGE),
            b.challenge_scalar(labels::CHALLENGE)
        );
    }
}
