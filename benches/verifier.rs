//! The auditor's verifier on a generated record: a 1-of-10 election of `EVOTE_BENCH_VOTERS`
//! voters (default 2,000), made once by the demo, then verified end to end (every check) on all
//! cores. Throughput is in ballots on the board.
//!
//! Run: `cargo bench --bench verifier` (and `EVOTE_BENCH_VOTERS=20000 cargo bench --bench
//! verifier` for a larger record). docs/performance.md has runs of 10,000 to 1,000,000 ballots.

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use evote::demo::{run_demo, DemoOptions};
use evote::election::{Contest, Manifest, RevotePolicy};
use evote::verify::verify_record;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

fn quiet(_: &str, _: u64, _: u64) {}

fn one_of_ten() -> Manifest {
    let mut m = Manifest::example();
    m.election_id = "one-of-ten".into();
    m.revoting = RevotePolicy::LastCounts;
    let mut race: Contest = m.contests[1].clone();
    race.id = "race".into();
    race.options = (1..=10).map(|i| format!("c{i}")).collect();
    race.min_selections = 1;
    race.max_selections = 1;
    race.option_limit = 1;
    m.contests = vec![race];
    m
}

fn verifier(c: &mut Criterion) {
    let voters: usize = std::env::var("EVOTE_BENCH_VOTERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    let dir = std::env::temp_dir().join(format!("evote-bench-verifier-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let options = DemoOptions {
        voters,
        guardians: 5,
        threshold: 3,
        absent: 1,
        manifest: one_of_ten(),
        out: dir.join("record"),
        force: false,
    };
    let outcome = run_demo(&options, &mut ChaCha20Rng::seed_from_u64(1)).unwrap();
    let record = dir.join("record");
    let mut g = c.benchmark_group("verifier");
    g.sample_size(10);
    g.throughput(Throughput::Elements(outcome.ballots_cast));
    g.bench_function(format!("1-of-10, {} ballots", outcome.ballots_cast), |b| {
        b.iter(|| {
            let report =
                verify_record(&record, &mut ChaCha20Rng::seed_from_u64(2), &quiet).unwrap();
            assert!(report.passed());
        })
    });
    g.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(20)).warm_up_time(Duration::from_secs(2));
    targets = verifier
}
criterion_main!(benches);
