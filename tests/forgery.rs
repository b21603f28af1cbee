//! The weighted-equation forgery, run as the attacker would run it.
//!
//! A verifier that checks a proof's `2n` equations as one random linear combination is sound
//! only if the prover cannot know the weights when it picks its proof. evote's single-proof
//! verifier once drew them from the transcript right after the challenge, before the free
//! challenges and the responses were absorbed: an attacker could compute the weights, then
//! solve the *one* weighted equation for its responses. These tests run exactly that attack
//! (`forge_disjunctive`, `forge_chaum_pedersen`): each forged proof is first shown to satisfy
//! the old weighted check and to violate the real equations, then refused by every verify path
//! (single verify, the batch verifier, a ballot).
//!
//! The attacker is rebuilt here from docs/transcript.md alone (no evote proof code), so it
//! knows everything public: the statement, the transcript layout and the weight derivation.
//! The property tests then build proofs that violate exactly one equation (a random one, by a
//! random offset) and check that every path refuses them.

mod common;

use common::spec::{challenge, domain};
use curve25519_dalek::constants::RISTRETTO_BASEPOINT_POINT as G;
use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::Identity;
use evote::{
    BatchVerifier, ChaumPedersenProof, Ciphertext, GroupElement, KeyPair, ProofError, PublicKey,
    RangeProof, SchnorrProof, SelectionLimitProof, Transcript,
};
use merlin::TranscriptRng;
use proptest::prelude::*;
use rand_chacha::ChaCha20Rng;
use rand_core::{CryptoRng, RngCore, SeedableRng};

// ---------------------------------------------------------------------------------------------
// The public transcript layout (docs/transcript.md).

fn context() -> Transcript {
    let mut t = Transcript::new(b"evote forgery tests");
    t.append_message(b"election-hash", &[0x42; 32]);
    t.append_message(b"ballot-id", b"ballot-0007");
    t
}

/// An RNG that gives only zeros: how the old verifier finalised its weight generator.
struct Zeros;
impl RngCore for Zeros {
    fn next_u32(&mut self) -> u32 {
        0
    }
    fn next_u64(&mut self) -> u64 {
        0
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        dest.fill(0)
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
        dest.fill(0);
        Ok(())
    }
}
impl CryptoRng for Zeros {}

/// The weights the old single-proof verifier used: drawn from the transcript right after the
/// challenge, 128 bits each, in the order the equations are emitted.
fn old_weights(after_challenge: &Transcript) -> TranscriptRng {
    let mut t = after_challenge.clone();
    t.append_message(b"verifier-weights", b"");
    t.build_rng().finalize(&mut Zeros)
}

fn weight(rng: &mut TranscriptRng) -> Scalar {
    let mut bytes = [0u8; 32];
    rng.fill_bytes(&mut bytes[..16]);
    Scalar::from_bytes_mod_order(bytes)
}

fn random(rng: &mut ChaCha20Rng) -> Scalar {
    evote::group::random_scalar(rng)
}

/// `m` as a scalar, negative values included.
fn value(m: i64) -> Scalar {
    if m < 0 {
        -Scalar::from(m.unsigned_abs())
    } else {
        Scalar::from(m as u64)
    }
}

/// A ciphertext of `m` under `key` with nonce `r`, built by hand so that `m` may be anything.
fn ciphertext(key: &RistrettoPoint, m: i64, r: Scalar) -> Ciphertext {
    let mut bytes = [0u8; 64];
    bytes[..32].copy_from_slice((G * r).compress().as_bytes());
    bytes[32..].copy_from_slice((G * value(m) + key * r).compress().as_bytes());
    Ciphertext::from_bytes(&bytes).unwrap()
}

// ---------------------------------------------------------------------------------------------
// The attack on disjunctive (range and selection-limit) proofs.

/// What a disjunctive statement is, as the attacker sees it.
struct Disjunction<'a> {
    kind: &'static [u8],
    key: &'a PublicKey,
    ciphertexts: &'a [Ciphertext],
    min: u64,
    max: u64,
}

impl Disjunction<'_> {
    fn branches(&self) -> usize {
        (self.max - self.min + 1) as usize
    }

    /// The transcript up to (not including) the commitments.
    fn absorb(&self, t: &mut Transcript) {
        domain(t, self.kind);
        t.append_u64(b"ciphertext-count", self.ciphertexts.len() as u64);
        t.append_u64(b"branch-count", self.branches() as u64);
        t.append_message(b"G", G.compress().as_bytes());
        t.append_message(b"K", self.key.as_bytes());
        t.append_u64(b"min", self.min);
        t.append_u64(b"max", self.max);
        for ct in self.ciphertexts {
            t.append_message(b"ciphertext", &ct.to_bytes());
        }
    }

    fn sum(&self) -> (RistrettoPoint, RistrettoPoint) {
        let alpha = self.ciphertexts.iter().map(|c| c.alpha()).sum();
        let beta = self.ciphertexts.iter().map(|c| c.beta()).sum();
        (alpha, beta)
    }
}

/// Encodes `a_0 ‖ b_0 ‖ … ‖ c_0 … c_{n-2} ‖ s_0 … s_{n-1}`.
fn encode(commitments: &[(RistrettoPoint, RistrettoPoint)], c: &[Scalar], s: &[Scalar]) -> Vec<u8> {
    let mut out = Vec::new();
    for (a, b) in commitments {
        out.extend_from_slice(a.compress().as_bytes());
        out.extend_from_slice(b.compress().as_bytes());
    }
    for x in c.iter().take(c.len() - 1).chain(s) {
        out.extend_from_slice(x.as_bytes());
    }
    out
}

/// The forgery: for ciphertexts whose sum the attacker made (`m`, `r` known, `m` anywhere,
/// in range or not), commitments `a_j = w_j·G`, `b_j = v_j·K`, the challenge, then the old
/// weights `z_j, z'_j`; writing `u_j = s_j - c_j·r` and `d_j = m - min - j`, the weighted sum is
/// `[Σ z_j(u_j - w_j) - Σ z'_j c_j d_j]·G + [Σ z'_j(u_j - v_j)]·K`: two linear equations in the
/// `u_j`, solved for `u_0, u_1` with the rest random.
fn forge_disjunctive(
    statement: &Disjunction<'_>,
    m: i64,
    r: Scalar,
    rng: &mut ChaCha20Rng,
) -> Vec<u8> {
    let n = statement.branches();
    assert!(n >= 2);
    let key = statement.key.as_point();
    let mut t = context();
    statement.absorb(&mut t);
    let w: Vec<Scalar> = (0..n).map(|_| random(rng)).collect();
    let v: Vec<Scalar> = (0..n).map(|_| random(rng)).collect();
    let commitments: Vec<_> = (0..n).map(|j| (G * w[j], key * v[j])).collect();
    for (a, b) in &commitments {
        t.append_message(b"commitment-G", a.compress().as_bytes());
        t.append_message(b"commitment-H", b.compress().as_bytes());
    }
    let c = challenge(&mut t);
    let mut weights = old_weights(&t);
    let (z, z_prime): (Vec<Scalar>, Vec<Scalar>) = (0..n)
        .map(|_| (weight(&mut weights), weight(&mut weights)))
        .unzip();
    let mut cs: Vec<Scalar> = (0..n - 1).map(|_| random(rng)).collect();
    cs.push(c - cs.iter().sum::<Scalar>());
    let d: Vec<Scalar> = (0..n)
        .map(|j| value(m) - Scalar::from(statement.min + j as u64))
        .collect();
    let mut u: Vec<Scalar> = (0..n).map(|_| random(rng)).collect();
    // z_0 u_0 + z_1 u_1 = A and z'_0 u_0 + z'_1 u_1 = B.
    let mut a_rhs: Scalar = (0..n)
        .map(|j| z[j] * w[j] + z_prime[j] * cs[j] * d[j])
        .sum();
    let mut b_rhs: Scalar = (0..n).map(|j| z_prime[j] * v[j]).sum();
    for j in 2..n {
        a_rhs -= z[j] * u[j];
        b_rhs -= z_prime[j] * u[j];
    }
    let det = z[0] * z_prime[1] - z[1] * z_prime[0];
    let inv = det.invert();
    u[0] = (a_rhs * z_prime[1] - z[1] * b_rhs) * inv;
    u[1] = (z[0] * b_rhs - z_prime[0] * a_rhs) * inv;
    let s: Vec<Scalar> = (0..n).map(|j| u[j] + cs[j] * r).collect();

    // The forgery is what it claims: the old weighted check holds, a real equation does not.
    let (alpha, beta) = statement.sum();
    let mut weighted = RistrettoPoint::identity();
    let mut all_hold = true;
    for j in 0..n {
        let (a, b) = commitments[j];
        let shifted = beta - G * Scalar::from(statement.min + j as u64);
        let e_g = G * s[j] - a - alpha * cs[j];
        let e_k = key * s[j] - b - shifted * cs[j];
        all_hold &= e_g == RistrettoPoint::identity() && e_k == RistrettoPoint::identity();
        weighted += e_g * z[j] + e_k * z_prime[j];
    }
    assert_eq!(weighted, RistrettoPoint::identity(), "old weighted check");
    assert!(!all_hold, "a forgery must violate a real equation");
    encode(&commitments, &cs, &s)
}

fn setup(seed: u64) -> (KeyPair, ChaCha20Rng) {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    (KeyPair::generate(&mut rng), rng)
}

fn refused<T>(result: Result<T, ProofError>) -> bool {
    matches!(result, Err(ProofError::Invalid { .. }))
}

/// A range proof forged for `m` is refused by single verification and by a batch (beside an
/// honest proof, which the batch must still accept).
fn range_forgery_is_refused(m: i64, min: u64, max: u64, seed: u64) {
    let (pair, mut rng) = setup(seed);
    let r = random(&mut rng);
    let ct = ciphertext(pair.public().as_point(), m, r);
    let statement = Disjunction {
        kind: b"range",
        key: pair.public(),
        ciphertexts: core::slice::from_ref(&ct),
        min,
        max,
    };
    let bytes = forge_disjunctive(&statement, m, r, &mut rng);
    let proof = RangeProof::from_bytes(&bytes).unwrap();
    assert!(refused(proof.verify(
        &mut context(),
        pair.public(),
        &ct,
        min..=max
    )));

    let key = evote::EncryptionKey::new(pair.public());
    let (honest_ct, _, honest) =
        RangeProof::encrypt_and_prove(&mut context(), &key, min, min..=max, &mut rng).unwrap();
    let mut batch = BatchVerifier::new(ChaCha20Rng::seed_from_u64(seed ^ 0xbadc0de));
    batch
        .queue_range(
            &mut context(),
            &honest,
            pair.public(),
            &honest_ct,
            min..=max,
        )
        .unwrap();
    let forged = batch
        .queue_range(&mut context(), &proof, pair.public(), &ct, min..=max)
        .unwrap();
    let failures = batch.verify().unwrap_err().failures;
    assert_eq!(failures.len(), 1);
    assert_eq!(failures[0].index, forged);
}

#[test]
fn weighted_equation_forgery_of_a_bit_proof_for_100_is_refused() {
    range_forgery_is_refused(100, 0, 1, 1);
}

#[test]
fn weighted_equation_forgery_of_a_bit_proof_for_minus_one_is_refused() {
    range_forgery_is_refused(-1, 0, 1, 2);
}

#[test]
fn weighted_equation_forgery_of_a_0_to_9_proof_for_a_million_is_refused() {
    range_forgery_is_refused(1_000_000, 0, 9, 3);
}

#[test]
fn weighted_equation_forgery_of_a_selection_limit_for_a_sum_of_3_is_refused() {
    let (pair, mut rng) = setup(4);
    let key = pair.public().as_point();
    // Three ciphertexts of 1: their sum, 3, is over the limits 0..=1.
    let nonces: Vec<Scalar> = (0..3).map(|_| random(&mut rng)).collect();
    let cts: Vec<Ciphertext> = nonces.iter().map(|r| ciphertext(key, 1, *r)).collect();
    let statement = Disjunction {
        kind: b"selection-limit",
        key: pair.public(),
        ciphertexts: &cts,
        min: 0,
        max: 1,
    };
    let bytes = forge_disjunctive(&statement, 3, nonces.iter().sum(), &mut rng);
    let proof = SelectionLimitProof::from_bytes(&bytes).unwrap();
    assert!(refused(proof.verify(
        &mut context(),
        pair.public(),
        &cts,
        0..=1
    )));
    let mut batch = BatchVerifier::new(ChaCha20Rng::seed_from_u64(40));
    batch
        .queue_selection_limit(&mut context(), &proof, pair.public(), &cts, 0..=1)
        .unwrap();
    assert_eq!(batch.verify().unwrap_err().failures.len(), 1);
}

// ---------------------------------------------------------------------------------------------
// The attack on Chaum–Pedersen proofs (a false decryption share).

/// A prover who knows `x = log_G K` and `h = log_G H` (a guardian decrypting a ciphertext it
/// made) claims `Y = (x·h + δ)·G`, which is not `x·H`. With `A = a·G`, `B = b·G` and the old
/// weights `z1, z2`: `z1(s - a - c·x) + z2(s·h - b - c·y) = 0`, so
/// `s = (z1(a + c·x) + z2(b + c·y)) / (z1 + z2·h)`.
fn forge_chaum_pedersen(
    x: Scalar,
    h: Scalar,
    delta: Scalar,
    rng: &mut ChaCha20Rng,
) -> (GroupElement, GroupElement, Vec<u8>) {
    let key = G * x;
    let base = G * h;
    let y = x * h + delta;
    let image = G * y;
    let mut t = context();
    domain(&mut t, b"chaum-pedersen");
    t.append_message(b"G", G.compress().as_bytes());
    t.append_message(b"H", base.compress().as_bytes());
    t.append_message(b"K", key.compress().as_bytes());
    t.append_message(b"Y", image.compress().as_bytes());
    let (a, b) = (random(rng), random(rng));
    t.append_message(b"commitment-G", (G * a).compress().as_bytes());
    t.append_message(b"commitment-H", (G * b).compress().as_bytes());
    let c = challenge(&mut t);
    let mut weights = old_weights(&t);
    let (z1, z2) = (weight(&mut weights), weight(&mut weights));
    let s = (z1 * (a + c * x) + z2 * (b + c * y)) * (z1 + z2 * h).invert();
    // The old weighted check holds; the first real equation does not.
    let e1 = G * s - G * a - key * c;
    let e2 = base * s - G * b - image * c;
    assert_eq!(e1 * z1 + e2 * z2, RistrettoPoint::identity());
    assert_ne!(e1, RistrettoPoint::identity());
    let mut bytes = Vec::new();
    bytes.extend_from_slice((G * a).compress().as_bytes());
    bytes.extend_from_slice((G * b).compress().as_bytes());
    bytes.extend_from_slice(s.as_bytes());
    (
        GroupElement::from_point(base),
        GroupElement::from_point(image),
        bytes,
    )
}

#[test]
fn weighted_equation_forgery_of_a_false_decryption_share_is_refused() {
    let (pair, mut rng) = setup(5);
    let x = *pair.secret().expose_scalar();
    let h = random(&mut rng);
    let (base, image, bytes) = forge_chaum_pedersen(x, h, Scalar::ONE, &mut rng);
    let proof = ChaumPedersenProof::from_bytes(&bytes).unwrap();
    assert!(refused(proof.verify(
        &mut context(),
        pair.public(),
        &base,
        &image
    )));
    let mut batch = BatchVerifier::new(ChaCha20Rng::seed_from_u64(50));
    batch
        .queue_chaum_pedersen(&mut context(), &proof, pair.public(), &base, &image)
        .unwrap();
    assert!(batch.verify().is_err());
}

// ---------------------------------------------------------------------------------------------
// Proofs that violate exactly one equation, by a random offset.

/// An honest disjunctive prover (docs/proofs.md) that adds `delta·G` to one commitment before
/// the challenge: `fault = (branch, on_key)`. Every equation then holds but that one, which is
/// off by `±delta·G`.
fn one_fault_disjunctive(
    statement: &Disjunction<'_>,
    m: u64,
    r: Scalar,
    fault: (usize, bool),
    delta: Scalar,
    rng: &mut ChaCha20Rng,
) -> Vec<u8> {
    let n = statement.branches();
    let real = (m - statement.min) as usize;
    let key = statement.key.as_point();
    let (alpha, beta) = statement.sum();
    let mut cs: Vec<Scalar> = (0..n).map(|_| random(rng)).collect();
    let mut s: Vec<Scalar> = (0..n).map(|_| random(rng)).collect();
    let w = random(rng);
    let mut commitments: Vec<(RistrettoPoint, RistrettoPoint)> = (0..n)
        .map(|j| {
            if j == real {
                (G * w, key * w)
            } else {
                let shifted = beta - G * Scalar::from(statement.min + j as u64);
                (G * s[j] - alpha * cs[j], key * s[j] - shifted * cs[j])
            }
        })
        .collect();
    let (branch, on_key) = fault;
    if on_key {
        commitments[branch].1 += G * delta;
    } else {
        commitments[branch].0 += G * delta;
    }
    let mut t = context();
    statement.absorb(&mut t);
    for (a, b) in &commitments {
        t.append_message(b"commitment-G", a.compress().as_bytes());
        t.append_message(b"commitment-H", b.compress().as_bytes());
    }
    let c = challenge(&mut t);
    cs[real] = c - (0..n).filter(|j| *j != real).map(|j| cs[j]).sum::<Scalar>();
    s[real] = w + cs[real] * r;
    // Exactly one equation fails.
    let failing = (0..n)
        .map(|j| {
            let (a, b) = commitments[j];
            let shifted = beta - G * Scalar::from(statement.min + j as u64);
            usize::from(G * s[j] != a + alpha * cs[j])
                + usize::from(key * s[j] != b + shifted * cs[j])
        })
        .sum::<usize>();
    assert_eq!(failing, usize::from(delta != Scalar::ZERO));
    encode(&commitments, &cs, &s)
}

fn nonzero(bytes: [u8; 32]) -> Scalar {
    let s = Scalar::from_bytes_mod_order(bytes);
    if s == Scalar::ZERO {
        Scalar::ONE
    } else {
        s
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn a_range_proof_violating_one_equation_is_refused_by_every_path(
        seed in any::<u64>(),
        max in 1u64..6,
        branch in any::<usize>(),
        on_key in any::<bool>(),
        value in any::<u64>(),
        delta in any::<[u8; 32]>(),
    ) {
        let (pair, mut rng) = setup(seed);
        let m = value % (max + 1);
        let r = random(&mut rng);
        let ct = ciphertext(pair.public().as_point(), m as i64, r);
        let statement = Disjunction {
            kind: b"range", key: pair.public(), ciphertexts: core::slice::from_ref(&ct), min: 0, max,
        };
        let fault = (branch % statement.branches(), on_key);
        let bytes = one_fault_disjunctive(&statement, m, r, fault, nonzero(delta), &mut rng);
        let proof = RangeProof::from_bytes(&bytes).unwrap();
        prop_assert!(refused(proof.verify(&mut context(), pair.public(), &ct, 0..=max)));
        let mut batch = BatchVerifier::new(ChaCha20Rng::seed_from_u64(seed.wrapping_add(1)));
        batch.queue_range(&mut context(), &proof, pair.public(), &ct, 0..=max).unwrap();
        prop_assert_eq!(batch.verify().unwrap_err().failures.len(), 1);
        // Without the fault the same prover is honest: the test can tell the two apart.
        let honest = one_fault_disjunctive(&statement, m, r, fault, Scalar::ZERO, &mut rng);
        let honest = RangeProof::from_bytes(&honest);
        prop_assert!(honest.is_err() || honest.unwrap().verify(&mut context(), pair.public(), &ct, 0..=max).is_ok());
    }

    #[test]
    fn a_selection_limit_proof_violating_one_equation_is_refused_by_every_path(
        seed in any::<u64>(),
        count in 1usize..4,
        branch in any::<usize>(),
        on_key in any::<bool>(),
        delta in any::<[u8; 32]>(),
    ) {
        let (pair, mut rng) = setup(seed);
        let key = pair.public().as_point();
        let nonces: Vec<Scalar> = (0..count).map(|_| random(&mut rng)).collect();
        // The first ciphertext is 1, the rest 0: a sum of 1 under limits 0..=count.
        let cts: Vec<Ciphertext> = nonces
            .iter()
            .enumerate()
            .map(|(i, r)| ciphertext(key, i64::from(i == 0), *r))
            .collect();
        let statement = Disjunction {
            kind: b"selection-limit", key: pair.public(), ciphertexts: &cts, min: 0, max: count as u64,
        };
        let fault = (branch % statement.branches(), on_key);
        let bytes = one_fault_disjunctive(&statement, 1, nonces.iter().sum(), fault, nonzero(delta), &mut rng);
        let proof = SelectionLimitProof::from_bytes(&bytes).unwrap();
        prop_assert!(refused(proof.verify(&mut context(), pair.public(), &cts, 0..=count as u64)));
        let mut batch = BatchVerifier::new(ChaCha20Rng::seed_from_u64(seed.wrapping_add(2)));
        batch.queue_selection_limit(&mut context(), &proof, pair.public(), &cts, 0..=count as u64).unwrap();
        prop_assert!(batch.verify().is_err());
    }

    #[test]
    fn a_chaum_pedersen_proof_violating_one_equation_is_refused_by_every_path(
        seed in any::<u64>(),
        on_h in any::<bool>(),
        delta in any::<[u8; 32]>(),
    ) {
        let (pair, mut rng) = setup(seed);
        let x = *pair.secret().expose_scalar();
        let base = G * random(&mut rng);
        let image = base * x;
        let k = random(&mut rng);
        let delta = G * nonzero(delta);
        let (a, b) = if on_h { (G * k, base * k + delta) } else { (G * k + delta, base * k) };
        let mut t = context();
        domain(&mut t, b"chaum-pedersen");
        for (label, p) in [(&b"G"[..], G), (b"H", base), (b"K", G * x), (b"Y", image), (b"commitment-G", a), (b"commitment-H", b)] {
            t.append_message(label, p.compress().as_bytes());
        }
        let s = k + challenge(&mut t) * x;
        let mut bytes = Vec::new();
        bytes.extend_from_slice(a.compress().as_bytes());
        bytes.extend_from_slice(b.compress().as_bytes());
        bytes.extend_from_slice(s.as_bytes());
        let proof = ChaumPedersenProof::from_bytes(&bytes).unwrap();
        let (base, image) = (GroupElement::from_point(base), GroupElement::from_point(image));
        prop_assert!(refused(proof.verify(&mut context(), pair.public(), &base, &image)));
        let mut batch = BatchVerifier::new(ChaCha20Rng::seed_from_u64(seed.wrapping_add(3)));
        batch.queue_chaum_pedersen(&mut context(), &proof, pair.public(), &base, &image).unwrap();
        prop_assert!(batch.verify().is_err());
    }

    #[test]
    fn a_schnorr_proof_violating_its_equation_is_refused_by_every_path(
        seed in any::<u64>(),
        delta in any::<[u8; 32]>(),
    ) {
        let (pair, mut rng) = setup(seed);
        let x = *pair.secret().expose_scalar();
        let k = random(&mut rng);
        let commitment = G * k + G * nonzero(delta);
        let mut t = context();
        domain(&mut t, b"schnorr-pok");
        t.append_message(b"G", G.compress().as_bytes());
        t.append_message(b"K", pair.public().as_bytes());
        t.append_message(b"commitment-G", commitment.compress().as_bytes());
        let s = k + challenge(&mut t) * x;
        let mut bytes = Vec::new();
        bytes.extend_from_slice(commitment.compress().as_bytes());
        bytes.extend_from_slice(s.as_bytes());
        let proof = SchnorrProof::from_bytes(&bytes).unwrap();
        prop_assert!(refused(proof.verify(&mut context(), pair.public())));
        let mut batch = BatchVerifier::new(ChaCha20Rng::seed_from_u64(seed.wrapping_add(4)));
        batch.queue_schnorr(&mut context(), &proof, pair.public());
        prop_assert!(batch.verify().is_err());
    }
}
