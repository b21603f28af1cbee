//! Disjunctive Chaum–Pedersen proofs that a ciphertext encrypts a value in `min..=max`.
//!
//! # Construction
//! Statement: a public key `K`, a ciphertext `(alpha, beta)` and bounds `min ≤ max`, with
//! `n = max - min + 1` branches. Branch `j` claims `(alpha, beta - (min+j)·G)` encrypts 0,
//! i.e. `log_G alpha = log_K (beta - (min+j)·G)`. Witness: the value `m = min + μ` and nonce `r`.
//! This is the Cramer–Damgård–Schoenmakers OR-composition of Chaum–Pedersen proofs:
//!
//! ```text
//! prover, for every j (the same work on every branch):
//!     w_j, e_j ← nonce RNG
//!     a_j = w_j·G
//!     b_j = w_j·K - e_j·(m - min - j)·G          (= w_j·K on the real branch j = μ)
//! c   = H(transcript ‖ statement ‖ a_0 ‖ b_0 ‖ … ‖ a_{n-1} ‖ b_{n-1})
//! c_j = e_j for j ≠ μ,   c_μ = c - Σ_{j≠μ} e_j
//! s_j = w_j + c_j·r
//! verifier, for every j:   s_j·G = a_j + c_j·alpha
//!                          s_j·K = b_j + c_j·(beta - (min+j)·G)
//!                          with c_{n-1} = c - Σ_{j<n-1} c_j
//! ```
//!
//! On a simulated branch `j ≠ μ`, `beta - (min+j)·G = (m-min-j)·G + r·K`, so
//! `s_j·K - c_j·(beta - (min+j)·G) = w_j·K - c_j·(m-min-j)·G = b_j`: the prover knows `r`, so
//! every commitment is made of fixed-base multiplications and no branch does different work.
//! The real branch is chosen only through constant-time selection ([`subtle`]). The terms
//! `e_j·(m-min-j)·G` are computed for the `n - 1` branches where they are not zero and placed by
//! selection, so a proof costs `3n - 1` fixed-base multiplications (plus 2 for a ciphertext it
//! encrypts), whichever branch is real.
//!
//! A [`SelectionLimitProof`] is the same proof over the sum of a contest's ciphertexts (whose
//! nonce and value are the sums), with every ciphertext of the contest absorbed.
//!
//! # Layout
//! `128·n - 32` bytes: the commitments `a_0 ‖ b_0 ‖ … ‖ a_{n-1} ‖ b_{n-1}` (non-identity
//! ristretto255 encodings), then the challenges `c_0 ‖ … ‖ c_{n-2}`, then the responses
//! `s_0 ‖ … ‖ s_{n-1}` (canonical scalars). The last challenge is implied, so it is not sent.

use core::ops::RangeInclusive;

use curve25519_dalek::constants::RISTRETTO_BASEPOINT_TABLE;
use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::Identity;
use merlin::Transcript;
use rand_core::{CryptoRng, RngCore};
use subtle::{ConditionallySelectable, ConstantTimeEq, ConstantTimeGreater, ConstantTimeLess};
use zeroize::Zeroize;

use super::batch::{verify_single, BatchVerifier, ItemBuilder};
use crate::ciphertext::{encrypt_halves, windows_for, Ciphertext, Opening};
use crate::errors::{DecodeError, ProofError, ProofKind};
use crate::group::{elements_from_halves, inv_two, GroupElement, Reader};
use crate::keys::{EncryptionKey, PublicKey};
use crate::transcript::{labels, TranscriptProtocol};

/// The largest number of branches (admissible values) of a disjunctive proof. Proofs grow and
/// cost linearly in it; the bound keeps a hostile statement or proof from costing more.
pub const MAX_RANGE_BRANCHES: u64 = 1024;

/// The largest number of ciphertexts in one selection-limit statement.
pub const MAX_LIMIT_CIPHERTEXTS: u64 = 1 << 16;

/// A proof that a ciphertext encrypts a value in `min..=max` (a 0/1 proof for `0..=1`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RangeProof(Disjunctive);

/// A proof that the sum of a contest's ciphertexts encrypts a value in `min..=max`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SelectionLimitProof(Disjunctive);

#[derive(Clone, Debug, PartialEq, Eq)]
struct Disjunctive {
    /// `(a_j, b_j)` for every branch.
    commitments: Vec<(GroupElement, GroupElement)>,
    /// `c_0 … c_{n-2}`.
    challenges: Vec<Scalar>,
    /// `s_0 … s_{n-1}`.
    responses: Vec<Scalar>,
}

/// What both sides know.
#[derive(Clone, Copy)]
struct Statement<'a> {
    kind: ProofKind,
    public: &'a PublicKey,
    min: u64,
    max: u64,
}

impl Statement<'_> {
    fn label(&self) -> &'static [u8] {
        match self.kind {
            ProofKind::SelectionLimit => labels::KIND_SELECTION_LIMIT,
            _ => labels::KIND_RANGE,
        }
    }

    /// The number of branches, after checking the bounds.
    fn branches(&self) -> Result<usize, ProofError> {
        let invalid = |reason| ProofError::InvalidStatement {
            kind: self.kind,
            reason,
        };
        if self.min > self.max {
            return Err(invalid("the range is empty (min > max)"));
        }
        let n = (self.max - self.min).saturating_add(1);
        if n > MAX_RANGE_BRANCHES {
            return Err(invalid("the range has more than MAX_RANGE_BRANCHES values"));
        }
        usize::try_from(n).map_err(|_| invalid("the range does not fit in memory"))
    }

    fn check_count(&self, count: usize) -> Result<(), ProofError> {
        let invalid = |reason| ProofError::InvalidStatement {
            kind: self.kind,
            reason,
        };
        if count == 0 {
            return Err(invalid("no ciphertexts"));
        }
        if count as u64 > MAX_LIMIT_CIPHERTEXTS {
            return Err(invalid("more than MAX_LIMIT_CIPHERTEXTS ciphertexts"));
        }
        Ok(())
    }

    /// Protocol, kind, sizes, generators, key and bounds: everything before the ciphertexts.
    fn absorb_header(&self, transcript: &mut Transcript, count: usize, branches: usize) {
        transcript.proof_domain_sep(self.label());
        transcript.append_size(labels::CIPHERTEXT_COUNT, count as u64);
        transcript.append_size(labels::BRANCH_COUNT, branches as u64);
        transcript.append_element(labels::GENERATOR, &GroupElement::basepoint());
        transcript.append_element(labels::PUBLIC_KEY, self.public.as_element());
        transcript.append_size(labels::RANGE_MIN, self.min);
        transcript.append_size(labels::RANGE_MAX, self.max);
    }
}

fn absorb_ciphertext(transcript: &mut Transcript, ciphertext: &Ciphertext) {
    transcript.append_encoding(labels::CIPHERTEXT, &ciphertext.to_bytes());
}

/// Where the prover's ciphertexts come from.
enum Source<'a> {
    /// Encrypt the opening now, encoding the ciphertext in the same batch as the commitments.
    Encrypt,
    /// Ciphertexts the caller already has.
    Given(&'a [Ciphertext]),
}

/// A proof between its two moves: the statement absorbed, the nonces drawn and the points
/// computed, waiting for their encodings (see [`Disjunctive::commit`]).
///
/// Secret: the nonces, the simulated challenges (which differ from the published ones exactly
/// at the real branch) and the witness nonce; all zeroized on drop.
pub(crate) struct Committed<'a> {
    statement: Statement<'a>,
    encrypts: bool,
    nonce: Scalar,
    real: u64,
    w: Vec<Scalar>,
    simulated: Vec<Scalar>,
}

impl Drop for Committed<'_> {
    fn drop(&mut self) {
        self.nonce.zeroize();
        self.real.zeroize();
        self.w.zeroize();
        self.simulated.zeroize();
    }
}

impl Committed<'_> {
    /// Completes a proof begun by [`RangeProof::commit_encrypt`]: its ciphertext and proof.
    pub(crate) fn finish_range(
        self,
        transcript: &mut Transcript,
        elements: &mut impl Iterator<Item = GroupElement>,
    ) -> Result<(Ciphertext, RangeProof), ProofError> {
        match self.respond(transcript, elements)? {
            (Some(ciphertext), proof) => Ok((ciphertext, RangeProof(proof))),
            (None, _) => Err(ProofError::InvalidStatement {
                kind: ProofKind::Range,
                reason: "internal: no ciphertext produced",
            }),
        }
    }

    /// Completes a proof begun by [`SelectionLimitProof::commit`].
    pub(crate) fn finish_limit(
        self,
        transcript: &mut Transcript,
        elements: &mut impl Iterator<Item = GroupElement>,
    ) -> Result<SelectionLimitProof, ProofError> {
        self.respond(transcript, elements)
            .map(|(_, proof)| SelectionLimitProof(proof))
    }

    /// The prover's second move: takes this proof's encoded points from `elements` (in the
    /// order [`Disjunctive::commit`] appended them), absorbs them, and answers the challenge.
    fn respond(
        self,
        transcript: &mut Transcript,
        elements: &mut impl Iterator<Item = GroupElement>,
    ) -> Result<(Option<Ciphertext>, Disjunctive), ProofError> {
        let missing = ProofError::InvalidStatement {
            kind: self.statement.kind,
            reason: "internal: missing point encodings",
        };
        let encrypted = if self.encrypts {
            let (Some(alpha), Some(beta)) = (elements.next(), elements.next()) else {
                return Err(missing);
            };
            let ciphertext = Ciphertext::from_elements(&alpha, &beta);
            absorb_ciphertext(transcript, &ciphertext);
            Some(ciphertext)
        } else {
            None
        };
        let mut commitments = Vec::with_capacity(self.w.len());
        for _ in 0..self.w.len() {
            let (Some(a), Some(b)) = (elements.next(), elements.next()) else {
                return Err(missing);
            };
            transcript.append_element(labels::COMMITMENT_G, &a);
            transcript.append_element(labels::COMMITMENT_H, &b);
            commitments.push((a, b));
        }
        let c = transcript.challenge_scalar(labels::CHALLENGE);

        // c_μ = c - Σ_{j≠μ} e_j, then c_j = e_j except at μ; all by constant-time selection.
        let mut others = Scalar::ZERO;
        for (j, e_j) in self.simulated.iter().enumerate() {
            let is_real = (j as u64).ct_eq(&self.real);
            others += Scalar::conditional_select(e_j, &Scalar::ZERO, is_real);
        }
        let mut real_challenge = c - others;
        let mut challenges: Vec<Scalar> = self
            .simulated
            .iter()
            .enumerate()
            .map(|(j, e_j)| {
                Scalar::conditional_select(e_j, &real_challenge, (j as u64).ct_eq(&self.real))
            })
            .collect();
        let responses = self
            .w
            .iter()
            .zip(&challenges)
            .map(|(w_j, c_j)| w_j + c_j * self.nonce)
            .collect();
        others.zeroize();
        real_challenge.zeroize();
        challenges.pop();
        Ok((
            encrypted,
            Disjunctive {
                commitments,
                challenges,
                responses,
            },
        ))
    }
}

impl Disjunctive {
    /// The prover (see the module documentation for the steps).
    fn prove<R: RngCore + CryptoRng>(
        transcript: &mut Transcript,
        statement: &Statement<'_>,
        key: &EncryptionKey,
        source: Source<'_>,
        opening: &Opening,
        rng: &mut R,
    ) -> Result<(Option<Ciphertext>, Self), ProofError> {
        let mut halves = Vec::new();
        let committed = Self::begin(
            transcript,
            statement,
            key,
            source,
            opening,
            rng,
            &mut halves,
        )?;
        committed.respond(transcript, &mut elements_from_halves(&halves).into_iter())
    }

    /// The prover's checks and first move ([`Disjunctive::commit`]) for an honest witness.
    fn begin<'a, R: RngCore + CryptoRng>(
        transcript: &mut Transcript,
        statement: &Statement<'a>,
        key: &EncryptionKey,
        source: Source<'_>,
        opening: &Opening,
        rng: &mut R,
        halves: &mut Vec<RistrettoPoint>,
    ) -> Result<Committed<'a>, ProofError> {
        let n = statement.branches()?;
        let count = match source {
            Source::Encrypt => 1,
            Source::Given(cts) => cts.len(),
        };
        statement.check_count(count)?;
        let value = opening.expose_value();
        if value < statement.min || value > statement.max {
            return Err(ProofError::ValueOutOfRange {
                kind: statement.kind,
            });
        }
        // Index of the real branch; secret, used only through constant-time comparisons.
        let real = value - statement.min;
        Ok(Self::commit(
            transcript, statement, key, source, count, n, opening, real, rng, halves,
        ))
    }

    /// The prover proper, claiming branch `real`. Honest callers pass `value - min`; tests pass
    /// anything, to show that a lying prover's proof does not verify.
    #[cfg(test)]
    #[allow(clippy::too_many_arguments)]
    fn prove_branch<R: RngCore + CryptoRng>(
        transcript: &mut Transcript,
        statement: &Statement<'_>,
        key: &EncryptionKey,
        source: Source<'_>,
        count: usize,
        n: usize,
        opening: &Opening,
        real: u64,
        rng: &mut R,
    ) -> Result<(Option<Ciphertext>, Self), ProofError> {
        let mut halves = Vec::with_capacity(2 * n + 2);
        let committed = Self::commit(
            transcript,
            statement,
            key,
            source,
            count,
            n,
            opening,
            real,
            rng,
            &mut halves,
        );
        committed.respond(transcript, &mut elements_from_halves(&halves).into_iter())
    }

    /// The prover's first move: absorbs the statement, draws the nonces and appends the halved
    /// points to encode (the ciphertext's two if it encrypts, then `a_j, b_j` for every branch)
    /// to `halves`, so that a caller proving many statements encodes all of them in one batch.
    #[allow(clippy::too_many_arguments)]
    fn commit<'a, R: RngCore + CryptoRng>(
        transcript: &mut Transcript,
        statement: &Statement<'a>,
        key: &EncryptionKey,
        source: Source<'_>,
        count: usize,
        n: usize,
        opening: &Opening,
        real: u64,
        rng: &mut R,
        halves: &mut Vec<RistrettoPoint>,
    ) -> Committed<'a> {
        let value = opening.expose_value();
        let nonce = opening.expose_nonce();
        statement.absorb_header(transcript, count, n);
        // Given ciphertexts are absorbed before the nonce RNG is keyed, so the nonces depend on
        // the whole statement: a selection-limit witness (the sum's opening) is shared by every
        // set of ciphertexts with that sum, and proofs for two such sets must not share nonces
        // even under a broken RNG. A ciphertext this prover encrypts is a function of the key
        // and the witness, both already bound.
        if let Source::Given(cts) = source {
            cts.iter().for_each(|ct| absorb_ciphertext(transcript, ct));
        }
        let mut nonce_rng = transcript.witness_rng(
            &[
                (labels::WITNESS_VALUE, &value.to_le_bytes()),
                (labels::WITNESS_SECRET, nonce.as_bytes()),
            ],
            rng,
        );
        let w: Vec<Scalar> = (0..n)
            .map(|_| crate::group::random_scalar(&mut nonce_rng))
            .collect();
        let simulated: Vec<Scalar> = (0..n)
            .map(|_| crate::group::random_scalar(&mut nonce_rng))
            .collect();

        // All points are computed halved, to be encoded in one batch.
        let half = inv_two();
        halves.reserve(2 * n + 2);
        let encrypts = matches!(source, Source::Encrypt);
        if encrypts {
            let (alpha_half, beta_half) =
                encrypt_halves(key, value, nonce, windows_for(statement.max));
            halves.push(alpha_half);
            halves.push(beta_half);
        }
        // v_j = -e_j·d_j with d_j = m - (min + j): zero exactly on the real branch (b_j = w_j·K
        // there), so only the n - 1 simulated branches need v_j·G. Slot k holds the k-th of
        // them (v_k below the real branch, v_{k+1} from it on) and branch j takes slot j below
        // the real branch, slot j - 1 above it and the identity on it: n - 1 fixed-base
        // multiplications instead of n, every choice a constant-time selection on `real`.
        let mut value_scalar = Scalar::from(value);
        let mut v_half: Vec<Scalar> = simulated
            .iter()
            .enumerate()
            .map(|(j, e_j)| {
                let mut d = value_scalar - Scalar::from(statement.min + j as u64);
                let v = -(e_j * d) * half;
                d.zeroize();
                v
            })
            .collect();
        value_scalar.zeroize();
        let slots: Vec<RistrettoPoint> = v_half
            .iter()
            .zip(v_half.iter().skip(1))
            .enumerate()
            .map(|(k, (v_k, v_next))| {
                let mut chosen = Scalar::conditional_select(v_next, v_k, (k as u64).ct_lt(&real));
                let point = RISTRETTO_BASEPOINT_TABLE * &chosen;
                chosen.zeroize();
                point
            })
            .collect();
        v_half.zeroize();
        for (j, w_j) in w.iter().enumerate() {
            let mut w_half = w_j * half;
            let index = j as u64;
            let mut v_point = RistrettoPoint::identity();
            if let Some(slot) = slots.get(j) {
                v_point.conditional_assign(slot, index.ct_lt(&real));
            }
            if let Some(slot) = j.checked_sub(1).and_then(|k| slots.get(k)) {
                v_point.conditional_assign(slot, index.ct_gt(&real));
            }
            halves.push(RISTRETTO_BASEPOINT_TABLE * &w_half);
            halves.push(key.mul(&w_half) + v_point);
            w_half.zeroize();
            // The identity here would mark the real branch.
            v_point.zeroize();
        }
        Committed {
            statement: *statement,
            encrypts,
            nonce: *nonce,
            real,
            w,
            simulated,
        }
    }

    /// Absorbs the statement and proof; returns the implied last challenge `c_{n-1}`.
    fn last_challenge(
        &self,
        transcript: &mut Transcript,
        statement: &Statement<'_>,
        ciphertexts: &[Ciphertext],
    ) -> Result<Scalar, ProofError> {
        let n = statement.branches()?;
        statement.check_count(ciphertexts.len())?;
        if self.responses.len() != n {
            return Err(ProofError::ShapeMismatch {
                kind: statement.kind,
                expected: n as u64,
                actual: self.responses.len() as u64,
            });
        }
        statement.absorb_header(transcript, ciphertexts.len(), n);
        ciphertexts
            .iter()
            .for_each(|ct| absorb_ciphertext(transcript, ct));
        for (a, b) in &self.commitments {
            transcript.append_element(labels::COMMITMENT_G, a);
            transcript.append_element(labels::COMMITMENT_H, b);
        }
        let c = transcript.challenge_scalar(labels::CHALLENGE);
        Ok(c - self.challenges.iter().sum::<Scalar>())
    }

    /// For every branch `j`, with weights `z, z'`:
    /// `z·(a_j + c_j·alpha - s_j·G) + z'·(b_j + c_j·beta - c_j·(min+j)·G - s_j·K) = 0`.
    ///
    /// Each equation is written with `+` on its commitment, so the proof's own points `a_j`,
    /// `b_j` carry the 128-bit weights themselves (`-z mod ℓ` would be a full 253-bit scalar
    /// and cost the multiscalar multiplication as much as any other term); the full-size
    /// coefficients go on `G`, `K`, `alpha` and `beta`, which are merged per proof or per
    /// batch. Negating an equation changes nothing: it holds exactly when its negation does.
    fn emit<R: RngCore + CryptoRng>(
        &self,
        statement: &Statement<'_>,
        alpha: &RistrettoPoint,
        beta: &RistrettoPoint,
        last: Scalar,
        item: &mut ItemBuilder<'_, R>,
    ) {
        let mut on_g = Scalar::ZERO;
        let mut on_key = Scalar::ZERO;
        let mut on_alpha = Scalar::ZERO;
        // Σ_j z'_j·c_j, and Σ_{j≥1} Σ_{k<j} z'_k·c_k: together they give the G coefficient
        // Σ_j (min+j)·z'_j·c_j = max·Σ_j z'_j·c_j − Σ_{j≥1} Σ_{k<j} z'_k·c_k (since
        // Σ_j j·x_j = (n−1)·Σ_j x_j − Σ_{j≥1} Σ_{k<j} x_k) with additions instead of one
        // multiplication per branch.
        let mut on_beta = Scalar::ZERO;
        let mut prefix_sums = Scalar::ZERO;
        let challenges = self
            .challenges
            .iter()
            .copied()
            .chain(core::iter::once(last));
        for (j, ((c_j, s_j), (a_j, b_j))) in challenges
            .zip(&self.responses)
            .zip(&self.commitments)
            .enumerate()
        {
            let (z, z_prime) = (item.weight(), item.weight());
            if j > 0 {
                prefix_sums += on_beta;
            }
            on_g -= z * s_j;
            on_key -= z_prime * s_j;
            on_alpha += z * c_j;
            on_beta += z_prime * c_j;
            item.term(z, &a_j.point);
            item.term(z_prime, &b_j.point);
        }
        on_g -= Scalar::from(statement.max) * on_beta - prefix_sums;
        item.basepoint(on_g);
        item.shared(statement.public.as_element(), on_key);
        item.term(on_alpha, alpha);
        item.term(on_beta, beta);
    }

    fn encoded_len(branches: usize) -> usize {
        branches.saturating_mul(128).saturating_sub(32)
    }

    fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(Self::encoded_len(self.responses.len()));
        for (a, b) in &self.commitments {
            out.extend_from_slice(a.as_bytes());
            out.extend_from_slice(b.as_bytes());
        }
        for c in &self.challenges {
            out.extend_from_slice(c.as_bytes());
        }
        for s in &self.responses {
            out.extend_from_slice(s.as_bytes());
        }
        out
    }

    fn from_bytes(bytes: &[u8], what: &'static str) -> Result<Self, DecodeError> {
        const EXPECTED: &str = "128·n - 32 (n ≥ 1 branches)";
        let len = bytes.len();
        if len < 96 || !(len + 32).is_multiple_of(128) {
            return Err(DecodeError::Length {
                what,
                expected: EXPECTED,
                actual: len,
            });
        }
        let n = (len + 32) / 128;
        if n as u64 > MAX_RANGE_BRANCHES {
            return Err(DecodeError::TooLarge {
                what,
                max: MAX_RANGE_BRANCHES,
                actual: n as u64,
            });
        }
        let mut reader = Reader::new(bytes, what, EXPECTED);
        let mut commitments = Vec::with_capacity(n);
        for _ in 0..n {
            let a = reader.nonidentity_point("disjunctive proof commitment a_j")?;
            let b = reader.nonidentity_point("disjunctive proof commitment b_j")?;
            commitments.push((a, b));
        }
        let challenges = (1..n)
            .map(|_| reader.scalar("disjunctive proof challenge c_j"))
            .collect::<Result<_, _>>()?;
        let responses = (0..n)
            .map(|_| reader.scalar("disjunctive proof response s_j"))
            .collect::<Result<_, _>>()?;
        reader.finish()?;
        Ok(Self {
            commitments,
            challenges,
            responses,
        })
    }
}

fn bounds(range: &RangeInclusive<u64>) -> (u64, u64) {
    (*range.start(), *range.end())
}

impl RangeProof {
    /// Encrypts `value` and proves it lies in `range`, encoding the ciphertext and the
    /// commitments in one batch. Returns the ciphertext, its opening (secret) and the proof.
    ///
    /// Time depends on the size of the range, never on `value`.
    ///
    /// # Errors
    /// [`ProofError::InvalidStatement`] for an empty or too large range;
    /// [`ProofError::ValueOutOfRange`] if `value` is not in `range`.
    ///
    /// # Examples
    /// ```
    /// use evote::{EncryptionKey, KeyPair, proofs::RangeProof};
    /// use merlin::Transcript;
    /// use rand_core::OsRng;
    ///
    /// let pair = KeyPair::generate(&mut OsRng);
    /// let key = EncryptionKey::new(pair.public());
    /// let mut context = Transcript::new(b"election 2026-11 / ballot 17");
    /// let (ciphertext, _opening, proof) =
    ///     RangeProof::encrypt_and_prove(&mut context.clone(), &key, 1, 0..=1, &mut OsRng)?;
    /// proof.verify(&mut context, pair.public(), &ciphertext, 0..=1)?;
    /// # Ok::<(), evote::ProofError>(())
    /// ```
    pub fn encrypt_and_prove<R: RngCore + CryptoRng>(
        transcript: &mut Transcript,
        key: &EncryptionKey,
        value: u64,
        range: RangeInclusive<u64>,
        rng: &mut R,
    ) -> Result<(Ciphertext, Opening, Self), ProofError> {
        let opening = Opening::new(value, crate::group::random_scalar(rng));
        let mut halves = Vec::new();
        let committed = Self::commit_encrypt(transcript, key, &opening, range, rng, &mut halves)?;
        let (ciphertext, proof) =
            committed.finish_range(transcript, &mut elements_from_halves(&halves).into_iter())?;
        Ok((ciphertext, opening, proof))
    }

    /// The first move of [`RangeProof::encrypt_and_prove`] for a given opening, for a prover of
    /// many statements (a ballot) that encodes the points of all of them in one batch: appends
    /// this proof's halved points to `halves`; [`Committed::finish_range`] completes it.
    /// Crate-private: no public API takes a caller's nonce (the ballot layer derives its nonces
    /// for the Benaloh challenge).
    pub(crate) fn commit_encrypt<'a, R: RngCore + CryptoRng>(
        transcript: &mut Transcript,
        key: &'a EncryptionKey,
        opening: &Opening,
        range: RangeInclusive<u64>,
        rng: &mut R,
        halves: &mut Vec<RistrettoPoint>,
    ) -> Result<Committed<'a>, ProofError> {
        let (min, max) = bounds(&range);
        let statement = Statement {
            kind: ProofKind::Range,
            public: key.public(),
            min,
            max,
        };
        Disjunctive::begin(
            transcript,
            &statement,
            key,
            Source::Encrypt,
            opening,
            rng,
            halves,
        )
    }

    /// Proves that `ciphertext`, opened by `opening`, encrypts a value in `range`.
    ///
    /// # Errors
    /// As [`RangeProof::encrypt_and_prove`]. An opening that does not open the ciphertext gives
    /// a proof that does not verify.
    pub fn prove<R: RngCore + CryptoRng>(
        transcript: &mut Transcript,
        key: &EncryptionKey,
        ciphertext: &Ciphertext,
        opening: &Opening,
        range: RangeInclusive<u64>,
        rng: &mut R,
    ) -> Result<Self, ProofError> {
        let (min, max) = bounds(&range);
        let statement = Statement {
            kind: ProofKind::Range,
            public: key.public(),
            min,
            max,
        };
        let cts = core::slice::from_ref(ciphertext);
        Disjunctive::prove(
            transcript,
            &statement,
            key,
            Source::Given(cts),
            opening,
            rng,
        )
        .map(|(_, proof)| Self(proof))
    }

    /// Verifies that `ciphertext` encrypts a value in `range` under `public`.
    ///
    /// # Errors
    /// [`ProofError::InvalidStatement`] for an empty or too large range;
    /// [`ProofError::ShapeMismatch`] if the proof has another number of branches;
    /// [`ProofError::Invalid`] if it does not verify.
    pub fn verify(
        &self,
        transcript: &mut Transcript,
        public: &PublicKey,
        ciphertext: &Ciphertext,
        range: RangeInclusive<u64>,
    ) -> Result<(), ProofError> {
        let (min, max) = bounds(&range);
        let statement = Statement {
            kind: ProofKind::Range,
            public,
            min,
            max,
        };
        let last =
            self.0
                .last_challenge(transcript, &statement, core::slice::from_ref(ciphertext))?;
        verify_single(transcript, ProofKind::Range, &self.0.to_bytes(), |item| {
            self.0.emit(
                &statement,
                ciphertext.alpha(),
                ciphertext.beta(),
                last,
                item,
            )
        })
    }

    /// The number of branches (admissible values).
    pub fn branches(&self) -> usize {
        self.0.responses.len()
    }

    /// The encoded length of a proof with `branches` branches: `128·branches - 32`.
    pub fn encoded_len(branches: usize) -> usize {
        Disjunctive::encoded_len(branches)
    }

    /// The canonical encoding (see the module's Layout).
    pub fn to_bytes(&self) -> Vec<u8> {
        self.0.to_bytes()
    }

    /// Decodes a proof; the number of branches follows from the length.
    ///
    /// # Errors
    /// [`DecodeError`] for a length not of the form `128·n - 32`, more than
    /// [`MAX_RANGE_BRANCHES`] branches, an invalid or identity commitment, or a non-canonical
    /// scalar.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        Disjunctive::from_bytes(bytes, "range proof").map(Self)
    }
}

/// Test-only: a *lying* prover that runs the honest steps but claims branch `claimed` whatever
/// the opening's value, so that tests elsewhere in the crate (ballots from a cheating device)
/// can show that its proofs never verify.
#[cfg(test)]
#[allow(clippy::too_many_arguments)]
pub(crate) fn lying_proof_bytes<R: RngCore + CryptoRng>(
    transcript: &mut Transcript,
    key: &EncryptionKey,
    ciphertexts: &[Ciphertext],
    opening: &Opening,
    range: RangeInclusive<u64>,
    limit: bool,
    claimed: u64,
    rng: &mut R,
) -> Vec<u8> {
    let (min, max) = bounds(&range);
    let kind = if limit {
        ProofKind::SelectionLimit
    } else {
        ProofKind::Range
    };
    let statement = Statement {
        kind,
        public: key.public(),
        min,
        max,
    };
    let n = (max - min + 1) as usize;
    match Disjunctive::prove_branch(
        transcript,
        &statement,
        key,
        Source::Given(ciphertexts),
        ciphertexts.len(),
        n,
        opening,
        claimed,
        rng,
    ) {
        Ok((_, proof)) => proof.to_bytes(),
        Err(_) => Vec::new(),
    }
}

impl SelectionLimitProof {
    /// Proves that the sum of `ciphertexts` (opened by `openings`, in the same order) encrypts a
    /// value in `limits`.
    ///
    /// # Errors
    /// [`ProofError::InvalidStatement`] for empty or mismatched inputs, or empty or too large
    /// limits; [`ProofError::ValueOutOfRange`] if the sum is outside `limits`.
    pub fn prove<R: RngCore + CryptoRng>(
        transcript: &mut Transcript,
        key: &EncryptionKey,
        ciphertexts: &[Ciphertext],
        openings: &[Opening],
        limits: RangeInclusive<u64>,
        rng: &mut R,
    ) -> Result<Self, ProofError> {
        let mut halves = Vec::new();
        let committed = Self::commit(
            transcript,
            key,
            ciphertexts,
            openings,
            limits,
            rng,
            &mut halves,
        )?;
        committed.finish_limit(transcript, &mut elements_from_halves(&halves).into_iter())
    }

    /// The first move of [`SelectionLimitProof::prove`], for a prover of many statements (a
    /// ballot) that encodes the points of all of them in one batch: appends this proof's halved
    /// points to `halves`; [`Committed::finish_limit`] completes it.
    pub(crate) fn commit<'a, R: RngCore + CryptoRng>(
        transcript: &mut Transcript,
        key: &'a EncryptionKey,
        ciphertexts: &[Ciphertext],
        openings: &[Opening],
        limits: RangeInclusive<u64>,
        rng: &mut R,
        halves: &mut Vec<RistrettoPoint>,
    ) -> Result<Committed<'a>, ProofError> {
        let kind = ProofKind::SelectionLimit;
        if ciphertexts.len() != openings.len() {
            return Err(ProofError::InvalidStatement {
                kind,
                reason: "one opening per ciphertext is needed",
            });
        }
        let total = Opening::sum(openings).ok_or(ProofError::ValueOutOfRange { kind })?;
        let (min, max) = bounds(&limits);
        let statement = Statement {
            kind,
            public: key.public(),
            min,
            max,
        };
        Disjunctive::begin(
            transcript,
            &statement,
            key,
            Source::Given(ciphertexts),
            &total,
            rng,
            halves,
        )
    }

    /// Verifies that the sum of `ciphertexts` encrypts a value in `limits` under `public`.
    ///
    /// # Errors
    /// As [`RangeProof::verify`], and [`ProofError::InvalidStatement`] for no ciphertexts.
    pub fn verify(
        &self,
        transcript: &mut Transcript,
        public: &PublicKey,
        ciphertexts: &[Ciphertext],
        limits: RangeInclusive<u64>,
    ) -> Result<(), ProofError> {
        let (min, max) = bounds(&limits);
        let statement = Statement {
            kind: ProofKind::SelectionLimit,
            public,
            min,
            max,
        };
        let last = self.0.last_challenge(transcript, &statement, ciphertexts)?;
        let sum: Ciphertext = ciphertexts.iter().sum();
        verify_single(
            transcript,
            ProofKind::SelectionLimit,
            &self.0.to_bytes(),
            |item| self.0.emit(&statement, sum.alpha(), sum.beta(), last, item),
        )
    }

    /// The number of branches (admissible sums).
    pub fn branches(&self) -> usize {
        self.0.responses.len()
    }

    /// The canonical encoding (the same layout as a [`RangeProof`]).
    pub fn to_bytes(&self) -> Vec<u8> {
        self.0.to_bytes()
    }

    /// Decodes a proof.
    ///
    /// # Errors
    /// As [`RangeProof::from_bytes`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        Disjunctive::from_bytes(bytes, "selection-limit proof").map(Self)
    }
}

impl<R: RngCore + CryptoRng> BatchVerifier<R> {
    /// Queues a [`RangeProof`]; returns its queue position.
    ///
    /// # Errors
    /// As [`RangeProof::verify`] for statement and shape errors (nothing is queued then).
    pub fn queue_range(
        &mut self,
        transcript: &mut Transcript,
        proof: &RangeProof,
        public: &PublicKey,
        ciphertext: &Ciphertext,
        range: RangeInclusive<u64>,
    ) -> Result<usize, ProofError> {
        let (min, max) = bounds(&range);
        let statement = Statement {
            kind: ProofKind::Range,
            public,
            min,
            max,
        };
        let last =
            proof
                .0
                .last_challenge(transcript, &statement, core::slice::from_ref(ciphertext))?;
        Ok(self.push(ProofKind::Range, |item| {
            proof.0.emit(
                &statement,
                ciphertext.alpha(),
                ciphertext.beta(),
                last,
                item,
            )
        }))
    }

    /// Queues a [`SelectionLimitProof`]; returns its queue position.
    ///
    /// # Errors
    /// As [`SelectionLimitProof::verify`] for statement and shape errors.
    pub fn queue_selection_limit(
        &mut self,
        transcript: &mut Transcript,
        proof: &SelectionLimitProof,
        public: &PublicKey,
        ciphertexts: &[Ciphertext],
        limits: RangeInclusive<u64>,
    ) -> Result<usize, ProofError> {
        let (min, max) = bounds(&limits);
        let statement = Statement {
            kind: ProofKind::SelectionLimit,
            public,
            min,
            max,
        };
        let last = proof
            .0
            .last_challenge(transcript, &statement, ciphertexts)?;
        let sum: Ciphertext = ciphertexts.iter().sum();
        Ok(self.push(ProofKind::SelectionLimit, |item| {
            proof
                .0
                .emit(&statement, sum.alpha(), sum.beta(), last, item)
        }))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use crate::keys::KeyPair;
    use proptest::prelude::*;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    fn context(label: &'static [u8]) -> Transcript {
        let mut t = Transcript::new(b"evote-test");
        t.append_message(b"election", label);
        t
    }

    fn setup(seed: u64) -> (KeyPair, EncryptionKey, ChaCha20Rng) {
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let pair = KeyPair::generate(&mut rng);
        let key = EncryptionKey::new(pair.public());
        (pair, key, rng)
    }

    #[test]
    fn complete_for_every_value_of_small_ranges() {
        let (pair, key, mut rng) = setup(30);
        for (min, max) in [(0u64, 0u64), (0, 1), (0, 2), (0, 9), (3, 7), (5, 5)] {
            for value in min..=max {
                let (ct, opening, proof) = RangeProof::encrypt_and_prove(
                    &mut context(b"e"),
                    &key,
                    value,
                    min..=max,
                    &mut rng,
                )
                .unwrap();
                assert_eq!(proof.branches() as u64, max - min + 1);
                assert!(ct.vartime_is_opened_by(pair.public(), &opening));
                proof
                    .verify(&mut context(b"e"), pair.public(), &ct, min..=max)
                    .unwrap();
                // The same statement proved from a given ciphertext.
                let again =
                    RangeProof::prove(&mut context(b"e"), &key, &ct, &opening, min..=max, &mut rng)
                        .unwrap();
                again
                    .verify(&mut context(b"e"), pair.public(), &ct, min..=max)
                    .unwrap();
                // Through the wire.
                let bytes = proof.to_bytes();
                assert_eq!(bytes.len(), RangeProof::encoded_len(proof.branches()));
                let decoded = RangeProof::from_bytes(&bytes).unwrap();
                assert_eq!(decoded.to_bytes(), bytes);
                let ct2 = Ciphertext::from_bytes(&ct.to_bytes()).unwrap();
                decoded
                    .verify(&mut context(b"e"), pair.public(), &ct2, min..=max)
                    .unwrap();
            }
        }
    }

    #[test]
    fn prover_and_verifier_leave_the_same_transcript() {
        let (pair, key, mut rng) = setup(31);
        let mut tp = context(b"e");
        let (ct, _, proof) =
            RangeProof::encrypt_and_prove(&mut tp, &key, 1, 0..=1, &mut rng).unwrap();
        let mut tv = context(b"e");
        proof.verify(&mut tv, pair.public(), &ct, 0..=1).unwrap();
        let (mut a, mut b) = ([0u8; 32], [0u8; 32]);
        tp.challenge_bytes(b"next", &mut a);
        tv.challenge_bytes(b"next", &mut b);
        assert_eq!(a, b);
    }

    #[test]
    fn every_statement_element_is_bound() {
        let (pair, key, mut rng) = setup(32);
        let other = KeyPair::generate(&mut rng);
        let (ct, opening, proof) =
            RangeProof::encrypt_and_prove(&mut context(b"e"), &key, 1, 0..=1, &mut rng).unwrap();
        let pk = pair.public();
        let invalid = Err(ProofError::Invalid {
            kind: ProofKind::Range,
        });
        proof.verify(&mut context(b"e"), pk, &ct, 0..=1).unwrap();
        assert_eq!(
            proof.verify(&mut context(b"f"), pk, &ct, 0..=1),
            invalid,
            "context"
        );
        let mut relabelled = Transcript::new(b"evote-test2");
        relabelled.append_message(b"election", b"e");
        assert_eq!(
            proof.verify(&mut relabelled, pk, &ct, 0..=1),
            invalid,
            "application label"
        );
        assert_eq!(
            proof.verify(&mut context(b"e"), other.public(), &ct, 0..=1),
            invalid,
            "key"
        );
        // Another ciphertext of the same value; the ciphertext re-randomised; alpha or beta alone changed.
        let other_ct = Ciphertext::encrypt(&key, 1, &mut rng);
        assert_eq!(
            proof.verify(&mut context(b"e"), pk, &other_ct, 0..=1),
            invalid,
            "ciphertext"
        );
        let rerandomised = ct + Ciphertext::encrypt(&key, 0, &mut rng);
        assert_eq!(
            proof.verify(&mut context(b"e"), pk, &rerandomised, 0..=1),
            invalid,
            "rerandomised"
        );
        let g = GroupElement::basepoint().point;
        let alpha_moved = Ciphertext::from_points(ct.alpha() + g, *ct.beta());
        assert_eq!(
            proof.verify(&mut context(b"e"), pk, &alpha_moved, 0..=1),
            invalid,
            "alpha"
        );
        let beta_moved = Ciphertext::from_points(*ct.alpha(), ct.beta() + g);
        assert_eq!(
            proof.verify(&mut context(b"e"), pk, &beta_moved, 0..=1),
            invalid,
            "beta"
        );
        // The range, shifted with the same number of branches (1..=2 admits the value 1 too).
        assert_eq!(
            proof.verify(&mut context(b"e"), pk, &ct, 1..=2),
            invalid,
            "range shifted"
        );
        assert_eq!(
            proof.verify(&mut context(b"e"), pk, &ct, 0..=2),
            Err(ProofError::ShapeMismatch {
                kind: ProofKind::Range,
                expected: 3,
                actual: 2
            }),
            "range widened"
        );
        // A selection-limit proof is another statement even over the same single ciphertext.
        let limit = SelectionLimitProof(proof.0.clone());
        assert_eq!(
            limit.verify(&mut context(b"e"), pk, &[ct], 0..=1),
            Err(ProofError::Invalid {
                kind: ProofKind::SelectionLimit
            }),
            "kind"
        );
        // A proof made for another opening of a different ciphertext does not transfer.
        let proof0 = RangeProof::prove(
            &mut context(b"e"),
            &key,
            &ct,
            &Opening::new(0, *opening.expose_nonce()),
            0..=1,
            &mut rng,
        )
        .unwrap();
        assert_eq!(
            proof0.verify(&mut context(b"e"), pk, &ct, 0..=1),
            invalid,
            "wrong opening"
        );
    }

    #[test]
    fn every_proof_element_is_checked() {
        let (pair, key, mut rng) = setup(33);
        let (ct, _, proof) =
            RangeProof::encrypt_and_prove(&mut context(b"e"), &key, 4, 0..=9, &mut rng).unwrap();
        let pk = pair.public();
        let invalid = Err(ProofError::Invalid {
            kind: ProofKind::Range,
        });
        let n = proof.branches();
        let g = GroupElement::basepoint();
        for j in 0..n {
            let mut p = proof.clone();
            p.0.commitments[j].0 = GroupElement::from_point(p.0.commitments[j].0.point + g.point);
            assert_eq!(
                p.verify(&mut context(b"e"), pk, &ct, 0..=9),
                invalid,
                "a_{j}"
            );
            let mut p = proof.clone();
            p.0.commitments[j].1 = GroupElement::from_point(p.0.commitments[j].1.point + g.point);
            assert_eq!(
                p.verify(&mut context(b"e"), pk, &ct, 0..=9),
                invalid,
                "b_{j}"
            );
            let mut p = proof.clone();
            p.0.responses[j] += Scalar::ONE;
            assert_eq!(
                p.verify(&mut context(b"e"), pk, &ct, 0..=9),
                invalid,
                "s_{j}"
            );
            if j + 1 < n {
                let mut p = proof.clone();
                p.0.challenges[j] += Scalar::ONE;
                assert_eq!(
                    p.verify(&mut context(b"e"), pk, &ct, 0..=9),
                    invalid,
                    "c_{j}"
                );
            }
            // Swapping two branches' commitments.
            if j + 1 < n {
                let mut p = proof.clone();
                p.0.commitments.swap(j, j + 1);
                assert_eq!(
                    p.verify(&mut context(b"e"), pk, &ct, 0..=9),
                    invalid,
                    "swap {j}"
                );
            }
        }
    }

    #[test]
    fn a_lying_prover_cannot_prove_a_value_outside_the_range() {
        let (pair, key, mut rng) = setup(34);
        let statement = Statement {
            kind: ProofKind::Range,
            public: key.public(),
            min: 0,
            max: 1,
        };
        for value in [2u64, 3, u64::MAX] {
            // Claim each branch in turn, and no branch at all.
            for real in [0u64, 1, 2] {
                let opening = Opening::new(value, crate::group::random_scalar(&mut rng));
                let ct = Ciphertext::from_opening(&key, &opening);
                let (_, lie) = Disjunctive::prove_branch(
                    &mut context(b"e"),
                    &statement,
                    &key,
                    Source::Given(core::slice::from_ref(&ct)),
                    1,
                    2,
                    &opening,
                    real,
                    &mut rng,
                )
                .unwrap();
                let lie = RangeProof(lie);
                assert!(
                    lie.verify(&mut context(b"e"), pair.public(), &ct, 0..=1)
                        .is_err(),
                    "value {value} branch {real}"
                );
            }
        }
        // -1 (that is, ℓ - 1) encrypted directly.
        let r = crate::group::random_scalar(&mut rng);
        let minus_one = Ciphertext::from_points(
            GroupElement::basepoint().point * r,
            pair.public().as_point() * r - GroupElement::basepoint().point,
        );
        for real in [0u64, 1] {
            let opening = Opening::new(0, r);
            let (_, lie) = Disjunctive::prove_branch(
                &mut context(b"e"),
                &statement,
                &key,
                Source::Given(core::slice::from_ref(&minus_one)),
                1,
                2,
                &opening,
                real,
                &mut rng,
            )
            .unwrap();
            assert!(RangeProof(lie)
                .verify(&mut context(b"e"), pair.public(), &minus_one, 0..=1)
                .is_err());
        }
        // The honest API refuses to try.
        assert_eq!(
            RangeProof::encrypt_and_prove(&mut context(b"e"), &key, 2, 0..=1, &mut rng).err(),
            Some(ProofError::ValueOutOfRange {
                kind: ProofKind::Range
            })
        );
    }

    #[test]
    fn statements_are_validated() {
        let (pair, key, mut rng) = setup(35);
        #[allow(clippy::reversed_empty_ranges)]
        let empty = 2..=1;
        assert!(matches!(
            RangeProof::encrypt_and_prove(&mut context(b"e"), &key, 1, empty, &mut rng),
            Err(ProofError::InvalidStatement { .. })
        ));
        assert!(matches!(
            RangeProof::encrypt_and_prove(
                &mut context(b"e"),
                &key,
                1,
                0..=MAX_RANGE_BRANCHES,
                &mut rng
            ),
            Err(ProofError::InvalidStatement { .. })
        ));
        assert!(matches!(
            RangeProof::encrypt_and_prove(&mut context(b"e"), &key, 1, 0..=u64::MAX, &mut rng),
            Err(ProofError::InvalidStatement { .. })
        ));
        let (ct, _, proof) =
            RangeProof::encrypt_and_prove(&mut context(b"e"), &key, 1, 0..=1, &mut rng).unwrap();
        assert!(matches!(
            proof.verify(&mut context(b"e"), pair.public(), &ct, 0..=u64::MAX),
            Err(ProofError::InvalidStatement { .. })
        ));
        let limit = SelectionLimitProof(proof.0);
        assert!(matches!(
            limit.verify(&mut context(b"e"), pair.public(), &[], 0..=1),
            Err(ProofError::InvalidStatement { .. })
        ));
    }

    #[test]
    fn the_size_bounds_are_inclusive() {
        // MAX_RANGE_BRANCHES branches are admissible and one more is not; likewise
        // MAX_LIMIT_CIPHERTEXTS ciphertexts in one selection-limit statement.
        let (pair, key, mut rng) = setup(39);
        let pk = pair.public();
        let top = MAX_RANGE_BRANCHES - 1;
        let (ct, _, small) =
            RangeProof::encrypt_and_prove(&mut context(b"e"), &key, 1, 0..=1, &mut rng).unwrap();
        // A statement at the bound is valid, so the proof is refused for its shape instead.
        assert_eq!(
            small.verify(&mut context(b"e"), pk, &ct, 0..=top),
            Err(ProofError::ShapeMismatch {
                kind: ProofKind::Range,
                expected: MAX_RANGE_BRANCHES,
                actual: 2
            })
        );
        assert!(matches!(
            small.verify(&mut context(b"e"), pk, &ct, 0..=MAX_RANGE_BRANCHES),
            Err(ProofError::InvalidStatement { .. })
        ));
        let (ct, _, big) =
            RangeProof::encrypt_and_prove(&mut context(b"e"), &key, top, 0..=top, &mut rng)
                .unwrap();
        assert_eq!(big.branches() as u64, MAX_RANGE_BRANCHES);
        big.verify(&mut context(b"e"), pk, &ct, 0..=top).unwrap();
        let decoded = RangeProof::from_bytes(&big.to_bytes()).unwrap();
        decoded
            .verify(&mut context(b"e"), pk, &ct, 0..=top)
            .unwrap();

        // MAX_LIMIT_CIPHERTEXTS copies of one encryption of 0 (a statement, not a ballot).
        let opening = Opening::new(0, crate::group::random_scalar(&mut rng));
        let zero = Ciphertext::from_opening(&key, &opening);
        let count = MAX_LIMIT_CIPHERTEXTS as usize;
        let cts = vec![zero; count];
        let openings = vec![opening; count];
        let limit =
            SelectionLimitProof::prove(&mut context(b"e"), &key, &cts, &openings, 0..=1, &mut rng)
                .unwrap();
        limit.verify(&mut context(b"e"), pk, &cts, 0..=1).unwrap();
        let mut over = cts.clone();
        over.push(zero);
        let mut over_openings = openings.clone();
        over_openings.push(openings[0].clone());
        assert!(matches!(
            SelectionLimitProof::prove(
                &mut context(b"e"),
                &key,
                &over,
                &over_openings,
                0..=1,
                &mut rng
            ),
            Err(ProofError::InvalidStatement { .. })
        ));
        assert!(matches!(
            limit.verify(&mut context(b"e"), pk, &over, 0..=1),
            Err(ProofError::InvalidStatement { .. })
        ));
    }

    #[test]
    fn decoding_is_strict() {
        let (_, key, mut rng) = setup(36);
        let (_, _, proof) =
            RangeProof::encrypt_and_prove(&mut context(b"e"), &key, 1, 0..=1, &mut rng).unwrap();
        let bytes = proof.to_bytes();
        assert_eq!(bytes.len(), 224);
        for len in [0usize, 1, 95, 97, 223, 225, 353] {
            let mut b = bytes.clone();
            b.resize(len, 0);
            assert!(
                matches!(RangeProof::from_bytes(&b), Err(DecodeError::Length { .. })),
                "len {len}"
            );
        }
        // Lengths that are multiples of 4 but not of the form 128·n - 32 are refused for their
        // length before anything is decoded or sized: all zeros (identity points) and a length
        // whose quotient would exceed MAX_RANGE_BRANCHES.
        for len in [100usize, 228, 128 * (MAX_RANGE_BRANCHES as usize + 1)] {
            assert!(
                matches!(
                    RangeProof::from_bytes(&vec![0u8; len]),
                    Err(DecodeError::Length { actual, .. }) if actual == len
                ),
                "zeros of len {len}"
            );
        }
        let too_many = vec![0u8; RangeProof::encoded_len(MAX_RANGE_BRANCHES as usize + 1)];
        assert!(matches!(
            RangeProof::from_bytes(&too_many),
            Err(DecodeError::TooLarge { .. })
        ));
        let mut b = bytes.clone();
        b[32..64].fill(0);
        assert!(matches!(
            RangeProof::from_bytes(&b),
            Err(DecodeError::IdentityPoint { .. })
        ));
        let mut b = bytes.clone();
        b[64] |= 1;
        assert!(matches!(
            RangeProof::from_bytes(&b),
            Err(DecodeError::InvalidPoint { .. })
        ));
        for scalar_at in [128usize, 160, 192] {
            let mut b = bytes.clone();
            b[scalar_at..scalar_at + 32].fill(0xff);
            assert!(
                matches!(
                    RangeProof::from_bytes(&b),
                    Err(DecodeError::NonCanonicalScalar { .. })
                ),
                "at {scalar_at}"
            );
        }
    }

    /// Two contests with the same sum opening (value 1, nonce r1 + r2) but different
    /// ciphertexts, proved under one context with an RNG that gives no entropy at all: the
    /// nonces still differ, because the nonce RNG is keyed after the ciphertexts are absorbed
    /// (otherwise equal nonces under two challenges would give away the sum's nonce).
    #[test]
    fn selection_limit_nonces_depend_on_the_ciphertexts() {
        use crate::transcript::NoEntropy;
        let (_, key, mut rng) = setup(38);
        let (r1, r2) = (
            crate::group::random_scalar(&mut rng),
            crate::group::random_scalar(&mut rng),
        );
        let a = [Opening::new(1, r1), Opening::new(0, r2)];
        let b = [Opening::new(0, r1), Opening::new(1, r2)];
        let cts = |o: &[Opening]| -> Vec<Ciphertext> {
            o.iter()
                .map(|o| Ciphertext::from_opening(&key, o))
                .collect()
        };
        let (cts_a, cts_b) = (cts(&a), cts(&b));
        assert_ne!(cts_a, cts_b);
        let prove = |c: &[Ciphertext], o: &[Opening]| {
            SelectionLimitProof::prove(&mut context(b"e"), &key, c, o, 0..=2, &mut NoEntropy)
                .unwrap()
                .to_bytes()
        };
        let (pa, pb) = (prove(&cts_a, &a), prove(&cts_b, &b));
        // a_0 = w_0·G is the first 32 bytes: different nonces, different commitments.
        assert_ne!(pa[..32], pb[..32]);
    }

    #[test]
    fn selection_limits() {
        let (pair, key, mut rng) = setup(37);
        let pk = pair.public();
        // A 2-of-5 contest: choices [1,0,1,0,0], limits 0..=2.
        let votes = [1u64, 0, 1, 0, 0];
        let (cts, openings): (Vec<_>, Vec<_>) = votes
            .iter()
            .map(|v| Ciphertext::encrypt_with_opening(&key, *v, &mut rng))
            .unzip();
        let proof =
            SelectionLimitProof::prove(&mut context(b"e"), &key, &cts, &openings, 0..=2, &mut rng)
                .unwrap();
        proof.verify(&mut context(b"e"), pk, &cts, 0..=2).unwrap();
        let decoded = SelectionLimitProof::from_bytes(&proof.to_bytes()).unwrap();
        decoded.verify(&mut context(b"e"), pk, &cts, 0..=2).unwrap();
        let invalid = Err(ProofError::Invalid {
            kind: ProofKind::SelectionLimit,
        });
        // Each ciphertext is bound, and so are their order and number.
        for i in 0..cts.len() {
            let mut changed = cts.clone();
            changed[i] = Ciphertext::encrypt(&key, votes[i], &mut rng);
            assert_eq!(
                proof.verify(&mut context(b"e"), pk, &changed, 0..=2),
                invalid,
                "ciphertext {i}"
            );
        }
        let mut reordered = cts.clone();
        reordered.swap(0, 1);
        assert_eq!(
            proof.verify(&mut context(b"e"), pk, &reordered, 0..=2),
            invalid,
            "order"
        );
        let mut fewer = cts.clone();
        fewer.pop();
        assert_eq!(
            proof.verify(&mut context(b"e"), pk, &fewer, 0..=2),
            invalid,
            "count"
        );
        // Two ciphertexts merged into their sum: same total, other statement.
        let merged = vec![cts[0] + cts[1], cts[2], cts[3], cts[4]];
        assert_eq!(
            proof.verify(&mut context(b"e"), pk, &merged, 0..=2),
            invalid,
            "regrouped"
        );
        assert_eq!(
            proof.verify(&mut context(b"f"), pk, &cts, 0..=2),
            invalid,
            "context"
        );
        assert_eq!(
            proof.verify(&mut context(b"e"), pk, &cts, 1..=3),
            invalid,
            "limits"
        );
        // Over the limit: the honest prover refuses; a lying one fails.
        let over = [1u64, 1, 1, 0, 0];
        let (cts3, openings3): (Vec<_>, Vec<_>) = over
            .iter()
            .map(|v| Ciphertext::encrypt_with_opening(&key, *v, &mut rng))
            .unzip();
        assert_eq!(
            SelectionLimitProof::prove(
                &mut context(b"e"),
                &key,
                &cts3,
                &openings3,
                0..=2,
                &mut rng
            )
            .err(),
            Some(ProofError::ValueOutOfRange {
                kind: ProofKind::SelectionLimit
            })
        );
        let statement = Statement {
            kind: ProofKind::SelectionLimit,
            public: pk,
            min: 0,
            max: 2,
        };
        let total = Opening::sum(&openings3).unwrap();
        for real in 0..3 {
            let (_, lie) = Disjunctive::prove_branch(
                &mut context(b"e"),
                &statement,
                &key,
                Source::Given(&cts3),
                5,
                3,
                &total,
                real,
                &mut rng,
            )
            .unwrap();
            assert!(SelectionLimitProof(lie)
                .verify(&mut context(b"e"), pk, &cts3, 0..=2)
                .is_err());
        }
        assert!(matches!(
            SelectionLimitProof::prove(
                &mut context(b"e"),
                &key,
                &cts,
                &openings[..4],
                0..=2,
                &mut rng
            ),
            Err(ProofError::InvalidStatement { .. })
        ));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]

        #[test]
        fn completeness_for_any_admissible_value(
            min in 0u64..1_000_000, width in 0u64..12, pick in any::<u64>(), seed in any::<u64>()
        ) {
            let (pair, key, mut rng) = setup(seed);
            let max = min + width;
            let value = min + pick % (width + 1);
            let (ct, _, proof) = RangeProof::encrypt_and_prove(&mut context(b"p"), &key, value, min..=max, &mut rng).unwrap();
            prop_assert!(proof.verify(&mut context(b"p"), pair.public(), &ct, min..=max).is_ok());
            let bytes = proof.to_bytes();
            prop_assert_eq!(RangeProof::from_bytes(&bytes).unwrap().to_bytes(), bytes);
        }

        #[test]
        fn selection_limit_completeness(
            votes in proptest::collection::vec(0u64..3, 1..6), seed in any::<u64>()
        ) {
            let (pair, key, mut rng) = setup(seed);
            let (cts, openings): (Vec<_>, Vec<_>) =
                votes.iter().map(|v| Ciphertext::encrypt_with_opening(&key, *v, &mut rng)).unzip();
            let total: u64 = votes.iter().sum();
            let limits = total.saturating_sub(1)..=total + 1;
            let proof = SelectionLimitProof::prove(&mut context(b"p"), &key, &cts, &openings, limits.clone(), &mut rng).unwrap();
            prop_assert!(proof.verify(&mut context(b"p"), pair.public(), &cts, limits).is_ok());
        }
    }
}
