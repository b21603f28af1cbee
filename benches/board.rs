//! The ballot board at scale: restart time (reopening a board with and without its index log)
//! and the memory of its indices.
//!
//! Run: `cargo bench --bench board`
//! National scale (the indices of a 31.5 M-ballot 1-of-10 board, built in memory: ≈ 7 GB and a
//! few minutes): `EVOTE_BENCH_NATIONAL=1 cargo bench --bench board`

use std::time::{Duration, Instant};

use criterion::{criterion_group, BatchSize, Criterion};
use evote::election::board::{index_log_path, index_memory_probe};
use evote::election::{
    Ballot, BallotBoard, BallotBoxKey, Contest, ElectionContext, Manifest, RevotePolicy,
};
use evote::simulation::Election;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

/// Entries on the board that is reopened.
const ENTRIES: usize = 20_000;

fn expect<T, E: std::fmt::Display>(r: Result<T, E>) -> T {
    r.unwrap_or_else(|e| panic!("{e}"))
}

/// A 1-of-10 election of `voters` voters (one guardian: the ceremony is not what is measured).
fn election(
    voters: usize,
    rng: &mut ChaCha20Rng,
) -> (ElectionContext, Vec<evote::election::VoterCredential>) {
    let manifest = Manifest {
        election_id: "bench".into(),
        nonce: Manifest::fresh_nonce(rng),
        title: "bench".into(),
        revoting: RevotePolicy::LastCounts,
        contests: vec![Contest {
            id: "c".into(),
            title: "contest".into(),
            options: (1..=10).map(|i| format!("option {i}")).collect(),
            min_selections: 0,
            max_selections: 1,
            option_limit: 1,
        }],
    };
    let e = expect(Election::new([1; 32], 1, 1, manifest, voters, rng));
    (e.context, e.voters)
}

/// The resident set size of this process, in bytes (Linux), for the memory figures.
fn rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

fn reopen(c: &mut Criterion) {
    let mut rng = ChaCha20Rng::seed_from_u64(3);
    let (ctx, voters) = election(ENTRIES, &mut rng);
    let dir = std::env::temp_dir().join(format!("evote-bench-reopen-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::create_dir_all(&dir);
    let path = dir.join("board.bin");
    let key = BallotBoxKey::generate(&mut rng);
    let started = Instant::now();
    let mut board = expect(BallotBoard::create(&path, &ctx, key.clone()));
    for chunk in voters.chunks(1000) {
        let ballots: Vec<Vec<u8>> = chunk
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let mut choice = vec![0u64; 10];
                choice[i % 10] = 1;
                expect(Ballot::encrypt_and_cast(&ctx, v, &[choice], &mut rng)).to_bytes()
            })
            .collect();
        for r in expect(board.append_many(&ctx, &ballots, &mut rng)) {
            expect(r);
        }
    }
    eprintln!(
        "board of {} entries built in {:.0} s; its indices hold {} bytes ({} per entry)",
        board.entries(),
        started.elapsed().as_secs_f64(),
        board.index_bytes(),
        board.index_bytes() / ENTRIES
    );
    drop(board);
    let mut g = c.benchmark_group(format!("board reopen, {ENTRIES} 1-of-10 entries"));
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(20));
    g.bench_function("with its index log", |b| {
        b.iter(|| drop(expect(BallotBoard::open(&path, &ctx, key.clone()))))
    });
    g.bench_function("without (full replay)", |b| {
        b.iter_batched(
            || {
                let _ = std::fs::remove_file(index_log_path(&path));
            },
            |()| drop(expect(BallotBoard::open(&path, &ctx, key.clone()))),
            BatchSize::PerIteration,
        )
    });
    g.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

/// The indices of a national board (31.5 M 1-of-10 ballots: docs/feasibility.md), built in
/// memory as the board builds them, with the process's resident memory before and after.
fn national() {
    const BALLOTS: usize = 31_500_000;
    let before = rss().unwrap_or(0);
    let started = Instant::now();
    let mut after = 0;
    let bytes = index_memory_probe(BALLOTS, 10, &mut || after = rss().unwrap_or(0));
    eprintln!(
        "national index: {BALLOTS} ballots of 10 ciphertexts: tables {bytes} bytes ({:.2} GiB, {} per ballot); \
         resident memory grew by {:.2} GiB; built in {:.0} s",
        bytes as f64 / f64::from(1u32 << 30),
        bytes / BALLOTS,
        after.saturating_sub(before) as f64 / f64::from(1u32 << 30),
        started.elapsed().as_secs_f64()
    );
}

criterion_group!(benches, reopen);

fn main() {
    if std::env::var_os("EVOTE_BENCH_NATIONAL").is_some() {
        national();
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
