//! Batch verification: many proofs, one multiscalar multiplication.
//!
//! Every proof of this crate is checked through linear equations in group elements,
//! `Σ_i e_i·P_i = 0`, one or two per branch (see `docs/proofs.md`). A verifier multiplies each
//! equation by its own random 128-bit weight `z` and adds everything up:
//!
//! ```text
//! Σ_eq z_eq · (Σ_i e_{eq,i}·P_{eq,i})  =  0          (one vartime multiscalar multiplication)
//! ```
//!
//! If any single equation fails, the sum is non-zero except with probability at most 2^-128
//! over the choice of weights. Coefficients of points shared by many proofs (the basepoint `G`,
//! the election key `K`, a guardian's key) are merged, so they cost one point in total.
//!
//! When the combined check fails, the verifier bisects the queue (checking halves with their
//! own multiscalar multiplications) and names every proof that fails on its own; one bad proof
//! among `N` costs about `2·log2(N)` extra sub-checks of shrinking size.

use core::ops::Range;
use std::collections::HashMap;

use curve25519_dalek::constants::RISTRETTO_BASEPOINT_POINT;
use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::{IsIdentity, VartimeMultiscalarMul};
use merlin::{Transcript, TranscriptRng};
use rand_core::{CryptoRng, RngCore};

use crate::errors::{BatchError, BatchFailure, ProofError, ProofKind};
use crate::group::GroupElement;
use crate::transcript::{labels, NoEntropy};

/// One queued proof: where its terms are, and its own coefficient on `G`.
struct Item {
    kind: ProofKind,
    g: Scalar,
    terms: Range<usize>,
    shared: Range<usize>,
}

/// Queues proofs and verifies them together with one multiscalar multiplication.
///
/// The weights come from the RNG given to [`BatchVerifier::new`]; they must be unpredictable to
/// whoever made the proofs. Queue proofs with the `queue` methods of [`crate::proofs`] types
/// ([`BatchVerifier::queue_range`] and friends), then call [`BatchVerifier::verify`].
///
/// # Examples
/// ```
/// use evote::{Ciphertext, EncryptionKey, KeyPair, proofs::{BatchVerifier, RangeProof}};
/// use merlin::Transcript;
/// use rand_core::OsRng;
///
/// let pair = KeyPair::generate(&mut OsRng);
/// let key = EncryptionKey::new(pair.public());
/// let context = Transcript::new(b"example election");
/// let ballots: Vec<_> = (0..10)
///     .map(|i| RangeProof::encrypt_and_prove(&mut context.clone(), &key, i % 2, 0..=1, &mut OsRng).unwrap())
///     .collect();
///
/// let mut batch = BatchVerifier::new(OsRng);
/// for (ciphertext, _opening, proof) in &ballots {
///     batch.queue_range(&mut context.clone(), proof, pair.public(), ciphertext, 0..=1).unwrap();
/// }
/// assert!(batch.verify().is_ok());
/// ```
pub struct BatchVerifier<R> {
    rng: R,
    shared_points: Vec<RistrettoPoint>,
    shared_index: HashMap<[u8; 32], usize>,
    shared_terms: Vec<(usize, Scalar)>,
    scalars: Vec<Scalar>,
    points: Vec<RistrettoPoint>,
    items: Vec<Item>,
}

impl<R: RngCore + CryptoRng> BatchVerifier<R> {
    /// An empty batch whose weights are drawn from `rng`.
    pub fn new(rng: R) -> Self {
        Self {
            rng,
            shared_points: Vec::new(),
            shared_index: HashMap::new(),
            shared_terms: Vec::new(),
            scalars: Vec::new(),
            points: Vec::new(),
            items: Vec::new(),
        }
    }

    /// An empty batch with room for `proofs` proofs of about `points_per_proof` points each.
    pub fn with_capacity(rng: R, proofs: usize, points_per_proof: usize) -> Self {
        let mut batch = Self::new(rng);
        batch.items.reserve(proofs);
        batch.shared_terms.reserve(proofs);
        batch
            .scalars
            .reserve(proofs.saturating_mul(points_per_proof));
        batch
            .points
            .reserve(proofs.saturating_mul(points_per_proof));
        batch
    }

    /// The number of queued proofs.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Adds one proof's equations, built by `emit`, and returns its queue position.
    pub(crate) fn push(
        &mut self,
        kind: ProofKind,
        emit: impl FnOnce(&mut ItemBuilder<'_, R>),
    ) -> usize {
        let terms_start = self.scalars.len();
        let shared_start = self.shared_terms.len();
        let mut builder = ItemBuilder {
            batch: self,
            g: Scalar::ZERO,
        };
        emit(&mut builder);
        let g = builder.g;
        let index = self.items.len();
        self.items.push(Item {
            kind,
            g,
            terms: terms_start..self.scalars.len(),
            shared: shared_start..self.shared_terms.len(),
        });
        index
    }

    /// Verifies every queued proof.
    ///
    /// An empty batch verifies (there is nothing to refuse); callers that require proofs check
    /// that they queued them.
    ///
    /// # Errors
    /// [`BatchError`] naming, in queue order, every proof that does not verify on its own.
    pub fn verify(self) -> Result<(), BatchError> {
        if self.holds(0..self.items.len()) {
            return Ok(());
        }
        let mut failures = Vec::new();
        self.bisect(0..self.items.len(), &mut failures);
        Err(BatchError {
            failures: failures
                .into_iter()
                .filter_map(|index| {
                    self.items.get(index).map(|item| BatchFailure {
                        index,
                        kind: item.kind,
                    })
                })
                .collect(),
        })
    }

    /// Whether the combined equation of the items in `range` holds.
    fn holds(&self, range: Range<usize>) -> bool {
        let Some(items) = self.items.get(range) else {
            return false;
        };
        let (Some(first), Some(last)) = (items.first(), items.last()) else {
            return true;
        };
        let mut g = Scalar::ZERO;
        let mut shared: HashMap<usize, Scalar> = HashMap::new();
        for item in items {
            g += item.g;
            for (index, coefficient) in self.shared_terms.get(item.shared.clone()).unwrap_or(&[]) {
                *shared.entry(*index).or_insert(Scalar::ZERO) += coefficient;
            }
        }
        // Items are stored back to back, so their terms form one contiguous run.
        let terms = first.terms.start..last.terms.end;
        let (Some(scalars), Some(points)) =
            (self.scalars.get(terms.clone()), self.points.get(terms))
        else {
            return false;
        };
        let mut shared_scalars = Vec::with_capacity(shared.len());
        let mut shared_points = Vec::with_capacity(shared.len());
        for (index, coefficient) in shared {
            let Some(point) = self.shared_points.get(index) else {
                return false;
            };
            shared_scalars.push(coefficient);
            shared_points.push(*point);
        }
        // The multiscalar multiplication needs exact length hints: chains of slices give them.
        let result = RistrettoPoint::vartime_multiscalar_mul(
            core::iter::once(&g).chain(&shared_scalars).chain(scalars),
            core::iter::once(&RISTRETTO_BASEPOINT_POINT)
                .chain(&shared_points)
                .chain(points),
        );
        result.is_identity()
    }

    /// Names the failing items of `range`, which is known to fail as a whole.
    fn bisect(&self, range: Range<usize>, failures: &mut Vec<usize>) {
        if range.len() <= 1 {
            failures.push(range.start);
            return;
        }
        let mid = range.start + range.len() / 2;
        let (left, right) = (range.start..mid, mid..range.end);
        if self.holds(left.clone()) {
            // The whole is the sum of its halves: if the left holds, the right fails.
            self.bisect(right, failures);
        } else {
            self.bisect(left, failures);
            if !self.holds(right.clone()) {
                self.bisect(right, failures);
            }
        }
    }
}

/// Collects one proof's weighted equations into a batch.
pub(crate) struct ItemBuilder<'a, R> {
    batch: &'a mut BatchVerifier<R>,
    g: Scalar,
}

impl<R: RngCore + CryptoRng> ItemBuilder<'_, R> {
    /// A fresh random 128-bit weight for one equation.
    pub(crate) fn weight(&mut self) -> Scalar {
        let mut bytes = [0u8; 16];
        self.batch.rng.fill_bytes(&mut bytes);
        // Below 2^128 < ℓ: canonical as it is, with no reduction to pay for.
        Scalar::from(u128::from_le_bytes(bytes))
    }

    /// Adds to the coefficient of the basepoint `G`.
    pub(crate) fn basepoint(&mut self, coefficient: Scalar) {
        self.g += coefficient;
    }

    /// Adds a term on a point that many proofs share (a public key): merged across the batch.
    pub(crate) fn shared(&mut self, element: &GroupElement, coefficient: Scalar) {
        let batch = &mut *self.batch;
        let index = *batch
            .shared_index
            .entry(element.to_bytes())
            .or_insert_with(|| {
                batch.shared_points.push(element.point);
                batch.shared_points.len() - 1
            });
        batch.shared_terms.push((index, coefficient));
    }

    /// Adds a term on a point of this proof alone.
    pub(crate) fn term(&mut self, coefficient: Scalar, point: &RistrettoPoint) {
        self.batch.scalars.push(coefficient);
        self.batch.points.push(*point);
    }
}

/// Verifies one proof on its own with one multiscalar multiplication.
///
/// The equations are combined with weights that are a deterministic function of the transcript
/// *after it has absorbed the whole proof*: the statement and commitments (already in
/// `transcript`, which drew the challenge from them) and then `proof`, the proof's complete
/// canonical encoding (free challenges and responses included). A prover therefore cannot know
/// the weights when it chooses any part of its proof: changing any byte changes every weight,
/// so a proof that violates an equation passes only if a fresh random-oracle output hits one
/// value modulo ℓ among 2^128 weights (probability at most 2^-128 per hash the prover
/// evaluates; docs/proofs.md, "Verifying one proof"). Drawing the weights before the responses
/// were absorbed let a prover solve the one weighted equation instead of the real ones.
pub(crate) fn verify_single<F>(
    transcript: &Transcript,
    kind: ProofKind,
    proof: &[u8],
    emit: F,
) -> Result<(), ProofError>
where
    F: FnOnce(&mut ItemBuilder<'_, TranscriptRng>),
{
    let rng = single_weights_rng(transcript, proof);
    let mut batch = BatchVerifier::new(rng);
    batch.push(kind, emit);
    if batch.holds(0..1) {
        Ok(())
    } else {
        Err(ProofError::Invalid { kind })
    }
}

/// The weight generator of a single verification: the transcript after the challenge, with the
/// whole proof absorbed, finalised with no entropy (the weights are public and reproducible).
pub(crate) fn single_weights_rng(transcript: &Transcript, proof: &[u8]) -> TranscriptRng {
    let mut weights = transcript.clone();
    weights.append_message(labels::VERIFIER_PROOF, proof);
    weights.append_message(labels::VERIFIER_WEIGHTS, b"");
    weights.build_rng().finalize(&mut NoEntropy)
}
