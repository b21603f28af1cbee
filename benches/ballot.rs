//! Ballot costs: encrypt + prove + sign on the device, verification alone and in batches on
//! the server, and board acceptance throughput.
//!
//! Run: `cargo bench --bench ballot`

use std::time::Duration;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use evote::election::{
    Ballot, BallotBoard, Contest, ElectionContext, Manifest, RevotePolicy, VoterCredential,
};
use evote::simulation::Election;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

fn expect<T, E: std::fmt::Display>(r: Result<T, E>) -> T {
    r.unwrap_or_else(|e| panic!("{e}"))
}

fn contest(options: usize, max: u64, limit: u64) -> Contest {
    Contest {
        id: "c".into(),
        title: "contest".into(),
        options: (1..=options).map(|i| format!("option {i}")).collect(),
        min_selections: 0,
        max_selections: max,
        option_limit: limit,
    }
}

fn context(
    c: Contest,
    voters: usize,
    rng: &mut ChaCha20Rng,
) -> (ElectionContext, Vec<VoterCredential>) {
    let manifest = Manifest {
        election_id: "bench".into(),
        nonce: Manifest::fresh_nonce(rng),
        title: "bench".into(),
        revoting: RevotePolicy::LastCounts,
        contests: vec![c],
    };
    let e = expect(Election::new([1; 32], 1, 1, manifest, voters, rng));
    (e.context, e.voters)
}

fn choice(c: &Contest) -> Vec<Vec<u64>> {
    let mut v = vec![0u64; c.options.len()];
    let mut left = c.max_selections;
    for slot in v.iter_mut() {
        let give = left.min(c.option_limit);
        *slot = give;
        left -= give;
    }
    vec![v]
}

fn ballots(c: &mut Criterion) {
    let shapes = [
        ("1-of-5", contest(5, 1, 1)),
        ("1-of-10", contest(10, 1, 1)),
        ("3-of-10", contest(10, 3, 1)),
        ("cumulative R=5 over 5", contest(5, 5, 5)),
    ];
    for (name, shape) in shapes {
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let (ctx, voters) = context(shape.clone(), 1000, &mut rng);
        let selections = choice(&shape);
        let mut g = c.benchmark_group(format!("ballot {name}"));
        g.sample_size(20);
        g.bench_function("encrypt + prove + sign", |b| {
            b.iter(|| Ballot::encrypt_and_cast(&ctx, &voters[0], &selections, &mut rng))
        });
        let ballot = expect(Ballot::encrypt_and_cast(
            &ctx,
            &voters[0],
            &selections,
            &mut rng,
        ));
        let bytes = ballot.to_bytes();
        g.bench_function("decode + verify one", |b| {
            b.iter(|| expect(Ballot::from_bytes(&bytes)).verify(&ctx, &mut rng))
        });
        let many: Vec<Vec<u8>> = (0..200)
            .map(|i| {
                expect(Ballot::encrypt_and_cast(
                    &ctx,
                    &voters[i],
                    &selections,
                    &mut rng,
                ))
                .to_bytes()
            })
            .collect();
        g.throughput(Throughput::Elements(many.len() as u64));
        g.sample_size(10);
        g.bench_function("decode + verify 200 in one batch", |b| {
            b.iter(|| {
                let decoded: Vec<Ballot> =
                    many.iter().map(|m| expect(Ballot::from_bytes(m))).collect();
                Ballot::verify_batch(decoded, &ctx, &mut rng)
            })
        });
        g.finish();
    }
}

fn board(c: &mut Criterion) {
    let shape = contest(10, 1, 1);
    let mut rng = ChaCha20Rng::seed_from_u64(2);
    let (ctx, voters) = context(shape.clone(), 1000, &mut rng);
    let selections = choice(&shape);
    let ballots: Vec<Vec<u8>> = (0..100)
        .map(|i| {
            expect(Ballot::encrypt_and_cast(
                &ctx,
                &voters[i],
                &selections,
                &mut rng,
            ))
            .to_bytes()
        })
        .collect();
    let dir = std::env::temp_dir().join(format!("evote-bench-board-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let mut g = c.benchmark_group("board 1-of-10");
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(8));
    g.throughput(Throughput::Elements(ballots.len() as u64));
    let mut n = 0u64;
    let key = evote::election::BallotBoxKey::generate(&mut rng);
    g.bench_function("accept 100 ballots (verify, fsync each)", |b| {
        b.iter_batched(
            || {
                n += 1;
                let path = dir.join(format!("board-{n}.bin"));
                let _ = std::fs::remove_file(&path);
                expect(BallotBoard::create(&path, &ctx, key.clone()))
            },
            |mut board| {
                for bytes in &ballots {
                    expect(board.append(&ctx, bytes, &mut rng));
                }
                let path = board.path().expect("a board file").to_path_buf();
                drop(board);
                let _ = std::fs::remove_file(path);
            },
            BatchSize::PerIteration,
        )
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(4)).warm_up_time(Duration::from_secs(1));
    targets = ballots, board
}
criterion_main!(benches);
