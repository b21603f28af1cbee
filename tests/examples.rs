//! Every example manifest of docs/examples runs as a whole demonstration election, and the
//! `refused` revoting policy runs on an honest record: revotes offered, refused by the board,
//! the first ballot counted, and the record verified (V10's `refused` branch).

use std::path::PathBuf;

use evote::demo::{run_demo, DemoOptions};
use evote::election::{Manifest, RevotePolicy};
use evote::verify::{verify_record, CheckId, Status};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

fn examples() -> Vec<(String, Manifest)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/examples");
    let mut out: Vec<(String, Manifest)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            let name = p.file_stem().unwrap().to_string_lossy().into_owned();
            let manifest = Manifest::from_json(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
            (name, manifest)
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

fn run(name: &str, manifest: Manifest, voters: usize, seed: u8) -> evote::demo::DemoOutcome {
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("example-{name}"));
    let _ = std::fs::remove_dir_all(&out);
    let options = DemoOptions {
        voters,
        guardians: 3,
        threshold: 2,
        absent: 1,
        manifest,
        out: out.clone(),
        force: false,
    };
    let mut rng = ChaCha20Rng::from_seed([seed; 32]);
    let outcome = run_demo(&options, &mut rng).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(outcome.results.counts(), outcome.expected_counts, "{name}");
    let report = verify_record(&out, &mut rng, &|_, _, _| {}).unwrap();
    assert!(report.passed(), "{name}\n{}", report.summary());
    outcome
}

#[test]
fn every_example_manifest_runs_a_whole_election_that_verifies() {
    let examples = examples();
    let names: Vec<&str> = examples.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["every-kind", "referendum-refused", "ukrainian"]);
    let mut policies = Vec::new();
    for (i, (name, manifest)) in examples.into_iter().enumerate() {
        policies.push(manifest.revoting);
        run(&name, manifest, 40, i as u8 + 1);
    }
    // Between them, the examples have both policies, a blank vote, an exact k-of-n, approval
    // and cumulative contests, and names in two scripts.
    assert!(policies.contains(&RevotePolicy::Refused));
    assert!(policies.contains(&RevotePolicy::LastCounts));
}

#[test]
fn refused_revoting_on_an_honest_record_counts_each_first_ballot() {
    let (_, manifest) = examples()
        .into_iter()
        .find(|(n, _)| n == "referendum-refused")
        .unwrap();
    let outcome = run("refused-revotes", manifest, 120, 9);
    // About 5 % of voters try again; with this seed some do, and each try was refused.
    assert!(outcome.revotes_refused > 0, "{outcome:?}");
    assert_eq!(outcome.results.counted_ballots, 120);
    assert_eq!(outcome.ballots_cast, 120 + outcome.revotes_refused);
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("example-refused-revotes");
    let report = verify_record(&out, &mut ChaCha20Rng::from_seed([3; 32]), &|_, _, _| {}).unwrap();
    let v10 = report.checks.iter().find(|c| c.id == CheckId::V10).unwrap();
    assert_eq!(v10.status, Status::Pass);
    assert_eq!(report.counted, 120);
}
