//! Key ceremony and threshold decryption costs.
//!
//! Run: `cargo bench --bench ceremony`

use std::time::Duration;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use evote::ceremony::{
    adjudicate, part1, run_locally, CeremonyOutcome, CeremonyParams, CeremonyTranscript, Complaint,
    GuardianKeyShare, Round2Secret,
};
use evote::decryption::{combine, CandidateShare, EncryptedTally};
use evote::election::{Ballot, BallotBoard, Contest, CredentialList, ElectionContext, Manifest};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

fn rng(seed: u64) -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(seed)
}

fn expect<T, E: std::fmt::Display>(r: Result<T, E>) -> T {
    r.unwrap_or_else(|e| panic!("{e}"))
}

/// A complete ceremony, returning everything a later step needs.
struct Run {
    transcript: CeremonyTranscript,
    outcome: CeremonyOutcome,
    keys: Vec<GuardianKeyShare>,
}

fn ceremony(params: &CeremonyParams, seed: u64) -> Run {
    let mut rng = rng(seed);
    let (transcript, keys) = expect(run_locally(params, &mut rng));
    let outcome = expect(adjudicate(&transcript, &mut rng));
    Run {
        transcript,
        outcome,
        keys,
    }
}

fn ceremonies(c: &mut Criterion) {
    for (t, n) in [(3u32, 5u32), (7, 10)] {
        let params = expect(CeremonyParams::new([1; 32], t, n));
        let mut g = c.benchmark_group(format!("ceremony {t}-of-{n}"));
        g.sample_size(10);
        g.measurement_time(Duration::from_secs(5));
        let first = expect(evote::ceremony::GuardianIndex::new(1));
        g.bench_function(
            "per guardian: round 1 (polynomial, proofs, commitment hash)",
            |b| {
                let mut r = rng(1);
                b.iter(|| part1(&params, first, &mut r))
            },
        );
        // Round 3 for one guardian: check all reveals (one batch), seal n-1 shares. Guardian 1
        // is the first drawn from rng(2), so a fresh part1 from rng(2) is the same guardian 1.
        let mut r = rng(2);
        let (s1, hashes): (Vec<_>, Vec<_>) = params
            .indices()
            .map(|i| expect(part1(&params, i, &mut r)))
            .unzip();
        let reveals: Vec<_> = s1.into_iter().map(|s| expect(s.part2(&hashes)).1).collect();
        g.bench_function(
            "per guardian: round 3 (verify all reveals in a batch, seal shares)",
            |b| {
                b.iter_batched(
                    || expect(expect(part1(&params, first, &mut rng(2))).0.part2(&hashes)).0,
                    |s: Round2Secret| s.part3(&reveals, &mut rng(3)),
                    BatchSize::SmallInput,
                )
            },
        );
        let run = ceremony(&params, 4);
        g.bench_function(
            "public: adjudicate the transcript (all proofs in one batch)",
            |b| {
                let mut r = rng(5);
                b.iter(|| adjudicate(&run.transcript, &mut r))
            },
        );
        g.bench_function("total: all guardians, all rounds, one thread", |b| {
            b.iter(|| run_locally(&params, &mut rng(6)))
        });
        g.finish();
    }
}

/// The costliest transcript a 32-guardian ceremony's decoder admits for adjudication: every
/// share sent twice (the second copy exact, so merged), and a complaint in every one of the
/// `n·(n-1)` pairs, each with a well-formed but invalid proof, so every one is verified.
fn worst_case_transcript(n: u32) -> CeremonyTranscript {
    let params = expect(CeremonyParams::new([3; 32], 2, n));
    let mut run = ceremony(&params, 10);
    let copies = run.transcript.shares.clone();
    run.transcript.shares.extend(copies);
    let version = run.transcript.hashes[0].to_bytes()[0];
    let g = curve25519_dalek::constants::RISTRETTO_BASEPOINT_COMPRESSED;
    for i in 1..=n {
        for j in (1..=n).filter(|j| *j != i) {
            let mut bytes = vec![version, 4];
            bytes.extend_from_slice(&i.to_le_bytes());
            bytes.extend_from_slice(&j.to_le_bytes());
            for _ in 0..3 {
                bytes.extend_from_slice(g.as_bytes());
            }
            bytes.extend_from_slice(curve25519_dalek::scalar::Scalar::ONE.as_bytes());
            run.transcript
                .complaints
                .push(expect(Complaint::from_bytes(&bytes)));
        }
    }
    // It is admissible: it decodes.
    expect(CeremonyTranscript::from_bytes(&run.transcript.to_bytes()))
}

fn worst_case(c: &mut Criterion) {
    let n = 32;
    let transcript = worst_case_transcript(n);
    let bytes = transcript.to_bytes().len();
    let mut g = c.benchmark_group(format!(
        "ceremony worst case, n={n}: {} shares, {} complaints, {bytes} bytes",
        transcript.shares.len(),
        transcript.complaints.len()
    ));
    g.sample_size(10);
    g.bench_function("decode and adjudicate", |b| {
        let mut r = rng(11);
        let encoded = transcript.to_bytes();
        b.iter(|| {
            let t = expect(CeremonyTranscript::from_bytes(&encoded));
            adjudicate(&t, &mut r)
        })
    });
    g.finish();
}

/// The tally of a closed board of `ballots` ballots for a manifest of `options` yes/no
/// contests (the only way to an `EncryptedTally`).
fn tally_of(outcome: &CeremonyOutcome, options: usize, ballots: u64) -> EncryptedTally {
    let mut r = rng(7);
    let mut manifest = Manifest::example();
    manifest.contests = (0..options)
        .map(|k| Contest {
            id: format!("c{k}"),
            title: format!("Contest {k}"),
            options: vec![format!("option {k}")],
            min_selections: 0,
            max_selections: 1,
            option_limit: 1,
        })
        .collect();
    let (voters, list) = CredentialList::generate(ballots as usize, &mut r);
    let context = expect(ElectionContext::new(manifest, outcome.clone(), list));
    let path = std::env::temp_dir().join(format!("evote-bench-tally-{}.bin", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let mut board = expect(BallotBoard::create(
        &path,
        &context,
        evote::election::BallotBoxKey::generate(&mut r),
    ));
    for (b, voter) in voters.iter().enumerate() {
        let choices: Vec<Vec<u64>> = (0..options).map(|k| vec![((b + k) % 2) as u64]).collect();
        let ballot = expect(Ballot::encrypt_and_cast(&context, voter, &choices, &mut r));
        expect(board.append(&context, &ballot.to_bytes(), &mut r));
    }
    expect(board.close(&mut r));
    drop(board);
    let tally = expect(evote::election::board::tally(&path, &context, &mut r));
    let _ = std::fs::remove_file(&path);
    tally
}

fn decryption(c: &mut Criterion) {
    let params = expect(CeremonyParams::new([2; 32], 3, 5));
    let run = ceremony(&params, 8);
    let tally = tally_of(&run.outcome, 100, 3);
    let mut g = c.benchmark_group("decryption, 3-of-5, tally of 100 options");
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(5));
    let mut r = rng(9);
    let mut run = run;
    let head = *tally.board_head();
    g.bench_function("one guardian's shares with proofs", |b| {
        // Retrying the same tally is allowed, so the guardian can be measured repeatedly.
        b.iter(|| run.keys[0].decrypt_tally(&run.outcome, &tally, &head, 2, &mut r))
    });
    let shares: Vec<CandidateShare> = run
        .keys
        .iter_mut()
        .take(3)
        .map(|k| expect(k.decrypt_tally(&run.outcome, &tally, &head, 2, &mut r)))
        .collect();
    g.bench_function(
        "combine 3 shares (verify 300 proofs in a batch, interpolate, discrete logs)",
        |b| b.iter(|| combine(&run.outcome, &tally, &shares, &mut r)),
    );
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_secs(1));
    targets = ceremonies, worst_case, decryption
}
criterion_main!(benches);
