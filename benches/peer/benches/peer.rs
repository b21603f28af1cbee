//! evote beside elastic-elgamal 0.4.0-beta.1 (ristretto255), operation by operation, in one run.
//!
//! Each group has an `evote` and an `elastic-elgamal` entry doing the same job on in-memory
//! objects (keys, ciphertexts and proofs already decoded), as the peer's own benchmarks do, and
//! a `limit` entry: the curve25519-dalek operations the protocol cannot do without, run directly
//! on random inputs in the same rotation (no hashing, no transcript, no allocation of results),
//! so that `evote / limit` says how far evote is from what its cost model allows.

use std::time::Duration;

use criterion::measurement::WallTime;
use criterion::{black_box, criterion_group, criterion_main, BenchmarkGroup, Criterion};
use curve25519_dalek::constants::RISTRETTO_BASEPOINT_TABLE;
use curve25519_dalek::ristretto::{CompressedRistretto, RistrettoBasepointTable, RistrettoPoint};
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::VartimeMultiscalarMul;
use elastic_elgamal::group::Ristretto;
use elastic_elgamal::{
    CandidateDecryption, DiscreteLogTable, Keypair, RangeDecomposition, VerifiableDecryption,
};
use evote::proofs::{BatchVerifier, ChaumPedersenProof, RangeProof};
use evote::{Ciphertext, EncryptionKey, GroupElement, KeyPair, PublicKey, Transcript};
use rand_chacha_010::rand_core::SeedableRng as _;
use rand_core_06::{RngCore as _, SeedableRng as _};

type PeerRng = rand_chacha_010::ChaCha20Rng;
type OurRng = rand_chacha_06::ChaCha20Rng;

fn ours() -> (KeyPair, EncryptionKey, OurRng) {
    let mut rng = OurRng::seed_from_u64(5);
    let pair = KeyPair::generate(&mut rng);
    let key = EncryptionKey::new(pair.public());
    (pair, key, rng)
}

fn peer() -> (Keypair<Ristretto>, PeerRng) {
    let mut rng = PeerRng::seed_from_u64(5);
    let pair = Keypair::<Ristretto>::generate(&mut rng);
    (pair, rng)
}

fn context() -> Transcript {
    let mut t = Transcript::new(b"evote-peer-bench");
    t.append_message(b"election", &[9u8; 32]);
    t
}

fn encryption(c: &mut Criterion) {
    let (_, key, mut rng) = ours();
    let (pair, mut prng) = peer();
    let mut g = c.benchmark_group("encrypt one value");
    g.bench_function("evote", |b| {
        b.iter(|| Ciphertext::encrypt(&key, black_box(5), &mut rng))
    });
    g.bench_function("elastic-elgamal", |b| {
        b.iter(|| pair.public().encrypt(black_box(5u64), &mut prng))
    });
    // r·G and r·K, both from precomputed tables.
    let key_table = RistrettoBasepointTable::create(&our_key_point());
    g.bench_function("limit (2 fixed-base)", |b| {
        b.iter(|| {
            let r = evote::group::random_scalar(&mut rng);
            (RISTRETTO_BASEPOINT_TABLE * &r, &key_table * &r)
        })
    });
    g.finish();
}

/// `n` random points (public inputs of a verification limit).
fn random_points(rng: &mut OurRng, n: usize) -> Vec<RistrettoPoint> {
    (0..n)
        .map(|_| RISTRETTO_BASEPOINT_TABLE * &evote::group::random_scalar(rng))
        .collect()
}

/// A 128-bit scalar: the weight a batch verifier puts on a proof's own commitments.
fn short_scalar(rng: &mut OurRng) -> Scalar {
    let mut bytes = [0u8; 32];
    rng.fill_bytes(&mut bytes[..16]);
    Scalar::from_bytes_mod_order(bytes)
}

/// The scalars of a batched multiscalar multiplication: per proof, `short` 128-bit weights (on
/// the proof's commitments) and `full` full-size coefficients (on its ciphertext or image), then
/// two full-size ones for `G` and the key, shared by the batch.
fn batch_scalars(rng: &mut OurRng, proofs: usize, short: usize, full: usize) -> Vec<Scalar> {
    let mut out = Vec::with_capacity(proofs * (short + full) + 2);
    for _ in 0..proofs {
        out.extend((0..short).map(|_| short_scalar(rng)));
        out.extend((0..full).map(|_| evote::group::random_scalar(rng)));
    }
    out.extend((0..2).map(|_| evote::group::random_scalar(rng)));
    out
}

/// A `limit` entry: one variable-time multiscalar multiplication over `n` random points, with
/// scalars drawn afresh by `scalars` on every run.
fn multiscalar_limit(
    g: &mut BenchmarkGroup<'_, WallTime>,
    name: &str,
    rng: &mut OurRng,
    n: usize,
    scalars: impl Fn(&mut OurRng) -> Vec<Scalar>,
) {
    let points = random_points(rng, n);
    g.bench_function(name, |b| {
        b.iter(|| RistrettoPoint::vartime_multiscalar_mul(&scalars(rng), &points))
    });
}

/// `n` full-size random scalars (a single proof's weighted coefficients).
fn full_scalars(n: usize) -> impl Fn(&mut OurRng) -> Vec<Scalar> {
    move |rng| (0..n).map(|_| evote::group::random_scalar(rng)).collect()
}

/// `n` fixed-base multiplications alternating between `G` and the key's table, and one batched
/// encoding of `encode` points: what a prover that knows every witness must do.
fn fixed_base_work(
    rng: &mut OurRng,
    key_table: &RistrettoBasepointTable,
    n: usize,
    encode: usize,
) -> Vec<CompressedRistretto> {
    let mut points = Vec::with_capacity(n);
    for i in 0..n {
        let k = evote::group::random_scalar(rng);
        points.push(if i % 3 == 1 {
            key_table * &k
        } else {
            RISTRETTO_BASEPOINT_TABLE * &k
        });
    }
    points.truncate(encode.max(1));
    RistrettoPoint::double_and_compress_batch(&points)
}

/// 1,000 ciphertexts of the values `i mod (max + 1)`, each with its range proof for `0..=max`.
fn proved(key: &EncryptionKey, rng: &mut OurRng, max: u64) -> Vec<(Ciphertext, RangeProof)> {
    (0..1000)
        .map(|i| {
            let (ct, _, p) =
                RangeProof::encrypt_and_prove(&mut context(), key, i % (max + 1), 0..=max, rng)
                    .unwrap();
            (ct, p)
        })
        .collect()
}

/// Verifies [`proved`]'s proofs in one batch.
fn verify_proved(
    items: &[(Ciphertext, RangeProof)],
    public: &PublicKey,
    rng: &mut OurRng,
    max: u64,
) -> bool {
    let mut batch = BatchVerifier::with_capacity(rng, items.len(), 2 * max as usize + 6);
    for (ct, p) in items {
        batch
            .queue_range(&mut context(), p, public, ct, 0..=max)
            .unwrap();
    }
    batch.verify().is_ok()
}

/// The election key of [`ours`], as a point.
fn our_key_point() -> RistrettoPoint {
    *ours().0.public().as_point()
}

fn bits(c: &mut Criterion) {
    let (our_pair, key, mut rng) = ours();
    let (pair, mut prng) = peer();
    let mut g = c.benchmark_group("0/1 encrypt + prove");
    g.bench_function("evote", |b| {
        b.iter(|| {
            RangeProof::encrypt_and_prove(&mut context(), &key, black_box(1), 0..=1, &mut rng)
        })
    });
    g.bench_function("elastic-elgamal", |b| {
        b.iter(|| pair.public().encrypt_bool(black_box(true), &mut prng))
    });
    // 7 fixed-base multiplications (2 for the ciphertext, w_j·G and w_j·K on both branches, and
    // the simulated branch's e·d·G, placed in constant time) and one batched encoding of the 6
    // points the transcript absorbs.
    let key_table = RistrettoBasepointTable::create(&our_key_point());
    g.bench_function("limit (7 fixed-base + encode 6)", |b| {
        b.iter(|| fixed_base_work(&mut rng, &key_table, 7, 6))
    });
    g.finish();

    let (ct, _, proof) =
        RangeProof::encrypt_and_prove(&mut context(), &key, 1, 0..=1, &mut rng).unwrap();
    let (pct, pproof) = pair.public().encrypt_bool(true, &mut prng);
    let mut g = c.benchmark_group("0/1 verify one");
    g.bench_function("evote", |b| {
        b.iter(|| proof.verify(&mut context(), our_pair.public(), &ct, 0..=1))
    });
    g.bench_function("elastic-elgamal", |b| {
        b.iter(|| pair.public().verify_bool(pct, &pproof))
    });
    // Both branches' equations weighted into one multiscalar multiplication over a_0, b_0,
    // a_1, b_1, alpha, beta, G and K.
    multiscalar_limit(
        &mut g,
        "limit (vartime multiscalar of 8)",
        &mut rng,
        8,
        full_scalars(8),
    );
    g.finish();

    let items = proved(&key, &mut rng, 1);
    let peer_items: Vec<_> = (0..1000)
        .map(|i| pair.public().encrypt_bool(i % 2 == 0, &mut prng))
        .collect();
    let mut g = c.benchmark_group("0/1 verify 1000");
    g.sample_size(10);
    g.bench_function("evote (batch)", |b| {
        b.iter(|| verify_proved(&items, our_pair.public(), &mut rng, 1))
    });
    g.bench_function("elastic-elgamal (one by one)", |b| {
        b.iter(|| {
            peer_items
                .iter()
                .all(|(ct, p)| pair.public().verify_bool(*ct, p).is_ok())
        })
    });
    // One multiscalar multiplication over every proof's 4 commitments (128-bit weights) and
    // its alpha and beta (full-size coefficients), plus G and K.
    multiscalar_limit(
        &mut g,
        "limit (vartime multiscalar of 6,002)",
        &mut rng,
        6 * 1000 + 2,
        |rng| batch_scalars(rng, 1000, 4, 2),
    );
    g.finish();
}

fn ranges(c: &mut Criterion) {
    let (our_pair, key, mut rng) = ours();
    let (pair, mut prng) = peer();
    let range = RangeDecomposition::optimal(10).into();
    let mut g = c.benchmark_group("range [0, 10) encrypt + prove");
    g.bench_function("evote", |b| {
        b.iter(|| {
            RangeProof::encrypt_and_prove(&mut context(), &key, black_box(7), 0..=9, &mut rng)
        })
    });
    g.bench_function("elastic-elgamal", |b| {
        b.iter(|| pair.public().encrypt_range(&range, black_box(7), &mut prng))
    });
    // 2 fixed-base multiplications for the ciphertext, 2 per branch (10 branches) and one per
    // simulated branch (9), all in constant time, and one batched encoding of the 22 points the
    // transcript absorbs.
    let key_table = RistrettoBasepointTable::create(&our_key_point());
    g.bench_function("limit (31 fixed-base + encode 22)", |b| {
        b.iter(|| fixed_base_work(&mut rng, &key_table, 31, 22))
    });
    g.finish();

    let (ct, _, proof) =
        RangeProof::encrypt_and_prove(&mut context(), &key, 7, 0..=9, &mut rng).unwrap();
    let (pct, pproof) = pair.public().encrypt_range(&range, 7, &mut prng);
    let mut g = c.benchmark_group("range [0, 10) verify one");
    g.bench_function("evote", |b| {
        b.iter(|| proof.verify(&mut context(), our_pair.public(), &ct, 0..=9))
    });
    g.bench_function("elastic-elgamal", |b| {
        b.iter(|| pair.public().verify_range(&range, pct, &pproof))
    });
    // Every branch's two equations in one multiscalar multiplication over a_j, b_j (20),
    // alpha, beta, G and K.
    multiscalar_limit(
        &mut g,
        "limit (vartime multiscalar of 24)",
        &mut rng,
        24,
        full_scalars(24),
    );
    g.finish();

    let items = proved(&key, &mut rng, 9);
    let mut g = c.benchmark_group("range [0, 10) verify 1000");
    g.sample_size(10);
    g.bench_function("evote (batch)", |b| {
        b.iter(|| verify_proved(&items, our_pair.public(), &mut rng, 9))
    });
    // Every proof's 20 commitments (128-bit weights), its alpha and beta, then G and K.
    multiscalar_limit(
        &mut g,
        "limit (vartime multiscalar of 22,002)",
        &mut rng,
        22 * 1000 + 2,
        |rng| batch_scalars(rng, 1000, 20, 2),
    );
    g.finish();
}

fn decryption_shares(c: &mut Criterion) {
    let (our_pair, key, mut rng) = ours();
    let (pair, mut prng) = peer();
    let ct = Ciphertext::encrypt(&key, 3, &mut rng);
    let base = GroupElement::from_point(*ct.alpha());
    let pct = pair.public().encrypt(3u64, &mut prng);
    let mut g = c.benchmark_group("decryption share + proof");
    g.bench_function("evote", |b| {
        b.iter(|| {
            let image =
                GroupElement::from_point(base.as_point() * our_pair.secret().expose_scalar());
            ChaumPedersenProof::prove(&mut context(), &our_pair, &base, &image, &mut rng)
        })
    });
    g.bench_function("elastic-elgamal", |b| {
        b.iter(|| {
            VerifiableDecryption::new(
                pct,
                &pair,
                &mut merlin::Transcript::new(b"bench"),
                &mut prng,
            )
        })
    });
    // The share x·A and the commitments k·G, k·A: two variable-base multiplications and one
    // fixed-base, and one batched encoding of the three points.
    let x = *our_pair.secret().expose_scalar();
    g.bench_function("limit (2 variable-base + 1 fixed-base + encode 3)", |b| {
        b.iter(|| {
            let k = evote::group::random_scalar(&mut rng);
            let a = base.as_point();
            let points = [a * x, RISTRETTO_BASEPOINT_TABLE * &k, a * k];
            RistrettoPoint::double_and_compress_batch(&points)
        })
    });
    g.finish();

    let image = GroupElement::from_point(base.as_point() * our_pair.secret().expose_scalar());
    let proof =
        ChaumPedersenProof::prove(&mut context(), &our_pair, &base, &image, &mut rng).unwrap();
    let (dec, pproof) = VerifiableDecryption::new(
        pct,
        &pair,
        &mut merlin::Transcript::new(b"bench"),
        &mut prng,
    );
    let dec_bytes = dec.to_bytes();
    let mut g = c.benchmark_group("decryption share verify");
    g.bench_function("evote", |b| {
        b.iter(|| proof.verify(&mut context(), our_pair.public(), &base, &image))
    });
    g.bench_function("elastic-elgamal", |b| {
        b.iter(|| {
            CandidateDecryption::<Ristretto>::from_bytes(&dec_bytes)
                .unwrap()
                .verify(
                    pct,
                    pair.public(),
                    &pproof,
                    &mut merlin::Transcript::new(b"bench"),
                )
        })
    });
    // Both equations s·G = R₁ + c·K and s·A = R₂ + c·S, weighted into one variable-time
    // multiscalar multiplication over G, K, R₁, A, S, R₂.
    multiscalar_limit(
        &mut g,
        "limit (multiscalar of 6)",
        &mut rng,
        6,
        full_scalars(6),
    );
    g.finish();

    // A guardian's 1,000 shares of different ciphertexts, checked in one batch.
    let statements: Vec<(GroupElement, GroupElement, ChaumPedersenProof)> = (0..1000)
        .map(|i| {
            let ct = Ciphertext::encrypt(&key, i, &mut rng);
            let base = GroupElement::from_point(*ct.alpha());
            let image =
                GroupElement::from_point(base.as_point() * our_pair.secret().expose_scalar());
            let proof =
                ChaumPedersenProof::prove(&mut context(), &our_pair, &base, &image, &mut rng)
                    .unwrap();
            (base, image, proof)
        })
        .collect();
    let mut g = c.benchmark_group("decryption share verify 1000");
    g.sample_size(10);
    g.bench_function("evote (batch)", |b| {
        b.iter(|| {
            let mut batch = BatchVerifier::with_capacity(&mut rng, 1000, 4);
            for (base, image, proof) in &statements {
                batch
                    .queue_chaum_pedersen(&mut context(), proof, our_pair.public(), base, image)
                    .unwrap();
            }
            batch.verify()
        })
    });
    // Every proof's two commitments (128-bit weights), its base and image, then G and K.
    multiscalar_limit(
        &mut g,
        "limit (vartime multiscalar of 4,002)",
        &mut rng,
        4 * 1000 + 2,
        |rng| batch_scalars(rng, 1000, 2, 2),
    );
    g.finish();
}

fn dlog(c: &mut Criterion) {
    let mut g = c.benchmark_group("discrete-log table 0..=100000 build");
    g.sample_size(10);
    g.bench_function("evote", |b| b.iter(|| evote::DlogTable::new(100_000)));
    g.bench_function("elastic-elgamal", |b| {
        b.iter(|| DiscreteLogTable::<Ristretto>::new(0..=100_000))
    });
    g.finish();
}

/// The curve25519-dalek operations evote is built on, in 5.0.0 (what evote uses) and 4.1.3 (what
/// it used before), in one run: what the move to 5.0 changed on this machine.
fn dalek_versions(c: &mut Criterion) {
    use curve25519_dalek_4 as d4;
    let mut r4 = OurRng::seed_from_u64(11);
    let mut r5 = OurRng::seed_from_u64(11);
    let s4 = d4::Scalar::random(&mut r4);
    let s5 = evote::group::random_scalar(&mut r5);
    let p4 = d4::constants::RISTRETTO_BASEPOINT_TABLE * &s4;
    let p5 = RISTRETTO_BASEPOINT_TABLE * &s5;
    let (c4, c5) = (p4.compress(), p5.compress());
    let mut g = c.benchmark_group("curve25519-dalek 4.1.3 and 5.0.0");
    g.bench_function("4.1.3 fixed-base", |b| {
        b.iter(|| d4::constants::RISTRETTO_BASEPOINT_TABLE * &black_box(s4))
    });
    g.bench_function("5.0.0 fixed-base", |b| {
        b.iter(|| RISTRETTO_BASEPOINT_TABLE * &black_box(s5))
    });
    g.bench_function("4.1.3 variable-base", |b| {
        b.iter(|| black_box(p4) * black_box(s4))
    });
    g.bench_function("5.0.0 variable-base", |b| {
        b.iter(|| black_box(p5) * black_box(s5))
    });
    g.bench_function("4.1.3 decompress", |b| {
        b.iter(|| black_box(c4).decompress())
    });
    g.bench_function("5.0.0 decompress", |b| {
        b.iter(|| black_box(c5).decompress())
    });
    g.bench_function("4.1.3 compress", |b| b.iter(|| black_box(p4).compress()));
    g.bench_function("5.0.0 compress", |b| b.iter(|| black_box(p5).compress()));
    let n = 4096;
    let points4: Vec<d4::RistrettoPoint> = (0..n)
        .map(|_| d4::constants::RISTRETTO_BASEPOINT_TABLE * &d4::Scalar::random(&mut r4))
        .collect();
    let scalars4: Vec<d4::Scalar> = (0..n).map(|_| d4::Scalar::random(&mut r4)).collect();
    let points5 = random_points(&mut r5, n);
    let scalars5: Vec<Scalar> = (0..n)
        .map(|_| evote::group::random_scalar(&mut r5))
        .collect();
    g.sample_size(20);
    g.bench_function("4.1.3 vartime multiscalar of 4,096", |b| {
        b.iter(|| {
            use d4::traits::VartimeMultiscalarMul as _;
            d4::RistrettoPoint::vartime_multiscalar_mul(&scalars4, &points4)
        })
    });
    g.bench_function("5.0.0 vartime multiscalar of 4,096", |b| {
        b.iter(|| RistrettoPoint::vartime_multiscalar_mul(&scalars5, &points5))
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(4)).warm_up_time(Duration::from_secs(1));
    targets = encryption, bits, ranges, decryption_shares, dlog, dalek_versions
}
criterion_main!(benches);
