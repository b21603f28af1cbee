//! Primitive costs: keys, encryption, decryption, encodings, homomorphic sums, discrete logs,
//! and the curve25519-dalek operations the cost model is written in.
//!
//! Run: `cargo bench --bench primitives`

use criterion::{black_box, criterion_group, criterion_main, BatchSize, Criterion};
use curve25519_dalek::constants::{RISTRETTO_BASEPOINT_POINT, RISTRETTO_BASEPOINT_TABLE};
use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::VartimeMultiscalarMul;
use evote::{Ciphertext, DlogTable, EncryptionKey, KeyPair};
use rand_chacha::ChaCha20Rng;
use rand_core::{RngCore, SeedableRng};
use std::time::Duration;

fn rng() -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(2026)
}

fn curve(c: &mut Criterion) {
    let mut rng = rng();
    let mut g = c.benchmark_group("dalek");
    let s = evote::group::random_scalar(&mut rng);
    let p = evote::group::random_point(&mut rng);
    let enc = p.compress();
    g.bench_function("fixed-base mult (basepoint table)", |b| {
        b.iter(|| RISTRETTO_BASEPOINT_TABLE * black_box(&s))
    });
    g.bench_function("variable-base mult", |b| {
        b.iter(|| black_box(p) * black_box(s))
    });
    g.bench_function("compress", |b| b.iter(|| black_box(p).compress()));
    g.bench_function("decompress", |b| b.iter(|| black_box(enc).decompress()));
    let points: Vec<RistrettoPoint> = (0..64)
        .map(|_| evote::group::random_point(&mut rng))
        .collect();
    g.bench_function("double_and_compress_batch, 64 points", |b| {
        b.iter(|| RistrettoPoint::double_and_compress_batch(black_box(&points)))
    });
    let n = 4096;
    let scalars: Vec<Scalar> = (0..n)
        .map(|_| evote::group::random_scalar(&mut rng))
        .collect();
    let points: Vec<RistrettoPoint> = (0..n)
        .map(|_| evote::group::random_point(&mut rng))
        .collect();
    g.bench_function("vartime multiscalar, 4096 points", |b| {
        b.iter(|| RistrettoPoint::vartime_multiscalar_mul(black_box(&scalars), black_box(&points)))
    });
    // The shape of a batch of 0/1 proofs: per proof 4 commitment terms and 2 ciphertext terms.
    // With the 128-bit weights on the commitments, 2/3 of the scalars are short; with their
    // negations (`-z mod ℓ`) every scalar is full size.
    let short: Vec<Scalar> = (0..n)
        .map(|i| {
            if i % 3 == 2 {
                evote::group::random_scalar(&mut rng)
            } else {
                let mut bytes = [0u8; 32];
                rng.fill_bytes(&mut bytes[..16]);
                Scalar::from_bytes_mod_order(bytes)
            }
        })
        .collect();
    g.bench_function(
        "vartime multiscalar, 4096 points, 2/3 of the scalars 128-bit",
        |b| {
            b.iter(|| {
                RistrettoPoint::vartime_multiscalar_mul(black_box(&short), black_box(&points))
            })
        },
    );
    g.finish();
}

fn elgamal(c: &mut Criterion) {
    let mut rng = rng();
    let pair = KeyPair::generate(&mut rng);
    let key = EncryptionKey::new(pair.public());
    let mut g = c.benchmark_group("elgamal");
    g.bench_function("key pair generation", |b| {
        b.iter(|| KeyPair::generate(&mut rng))
    });
    g.bench_function("EncryptionKey::new (table build)", |b| {
        b.iter(|| EncryptionKey::new(black_box(pair.public())))
    });
    g.bench_function("encrypt u64", |b| {
        b.iter(|| Ciphertext::encrypt(&key, black_box(rng.next_u64()), &mut rng))
    });
    let ct = Ciphertext::encrypt(&key, 7, &mut rng);
    g.bench_function("decrypt to point", |b| {
        b.iter(|| pair.secret().decrypt_to_point(black_box(&ct)))
    });
    g.bench_function("ciphertext to_bytes (computed)", |b| {
        b.iter_batched(
            || ct + Ciphertext::zero(),
            |c| c.to_bytes(),
            BatchSize::SmallInput,
        )
    });
    let bytes = ct.to_bytes();
    g.bench_function("ciphertext from_bytes", |b| {
        b.iter(|| Ciphertext::from_bytes(black_box(&bytes)))
    });
    let many: Vec<Ciphertext> = (0..10_000)
        .map(|i| Ciphertext::encrypt(&key, i % 2, &mut rng))
        .collect();
    g.sample_size(20);
    g.bench_function("homomorphic sum of 10,000", |b| {
        b.iter(|| black_box(&many).iter().sum::<Ciphertext>())
    });
    g.finish();
}

fn dlog(c: &mut Criterion) {
    let mut g = c.benchmark_group("dlog");
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(20));
    g.bench_function("table build, bound 10^9", |b| {
        b.iter(|| DlogTable::new(1_000_000_000))
    });
    g.bench_function("table build, bound 10^6", |b| {
        b.iter(|| DlogTable::new(1_000_000))
    });
    g.finish();

    let mut g = c.benchmark_group("dlog");
    g.sample_size(20);
    let table = DlogTable::new(1_000_000_000).unwrap_or_else(|e| panic!("{e}"));
    for value in [1_000u64, 500_000_000, 1_000_000_000] {
        let point = RISTRETTO_BASEPOINT_POINT * Scalar::from(value);
        g.bench_function(format!("solve {value}, bound 10^9"), |b| {
            b.iter(|| table.vartime_solve(black_box(&point)))
        });
    }
    let small = DlogTable::new(1_000_000).unwrap_or_else(|e| panic!("{e}"));
    let point = RISTRETTO_BASEPOINT_POINT * Scalar::from(999_999u64);
    g.bench_function("solve 999999, bound 10^6", |b| {
        b.iter(|| small.vartime_solve(black_box(&point)))
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_secs(1));
    targets = curve, elgamal, dlog
}
criterion_main!(benches);
