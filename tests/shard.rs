//! Sharded verification reaches the whole run's report: on the pinned honest record and on
//! every tampered record of tests/vectors/election, split into 1, 2, 3 and 10 shards (more
//! shards than entries: some verify none). Partials that are not exactly the shards of the
//! record — one missing, one twice, one of another record, one damaged — are refused.

mod common;

use std::path::{Path, PathBuf};

use evote::election::RecordError;
use evote::verify::{
    combine_partials, verify_record, verify_shard, Options, Partial, Report, Shard,
};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

fn vectors() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/election")
}

fn scratch(name: &str) -> PathBuf {
    let p = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("shard")
        .join(name);
    let _ = std::fs::remove_dir_all(&p);
    std::fs::create_dir_all(&p).unwrap();
    p
}

/// The pinned record with a tampered case's files over it (`None`: the honest record).
fn record(case: Option<&str>, name: &str) -> PathBuf {
    let dir = scratch(name).join("record");
    common::copy_dir(&vectors().join("record"), &dir);
    if let Some(case) = case {
        for file in std::fs::read_dir(vectors().join("tampered").join(case)).unwrap() {
            let file = file.unwrap();
            if file.file_name() != "expected.txt" {
                std::fs::copy(file.path(), dir.join(file.file_name())).unwrap();
            }
        }
    }
    dir
}

fn nothing(_: &str, _: u64, _: u64) {}

/// Every shard of `n` written to `work`, as paths.
fn shards(dir: &Path, n: u32, work: &Path) -> Result<Vec<PathBuf>, RecordError> {
    (1..=n)
        .map(|i| {
            let out = work.join(format!("partial-{i}-of-{n}"));
            verify_shard(
                dir,
                Shard::new(i, n).unwrap(),
                &out,
                &mut ChaCha20Rng::seed_from_u64(u64::from(i)),
                &nothing,
                &Options::default(),
            )
            .map(|()| out)
        })
        .collect()
}

fn combine(dir: &Path, paths: &[PathBuf]) -> Result<Report, RecordError> {
    let partials = paths
        .iter()
        .map(|p| Partial::open(p))
        .collect::<Result<Vec<_>, _>>()?;
    combine_partials(
        dir,
        partials,
        &mut ChaCha20Rng::seed_from_u64(9),
        &Options::default(),
    )
}

/// What must agree: every check's status, objects and failure count, and the counts.
fn summary(report: &Report) -> Vec<String> {
    let mut out: Vec<String> = report
        .checks
        .iter()
        .map(|c| {
            format!(
                "{} {:?} objects {} failures {}",
                c.id, c.status, c.objects, c.failures_total
            )
        })
        .collect();
    out.push(format!(
        "ballots {} counted {}",
        report.ballots, report.counted
    ));
    out
}

#[test]
fn sharded_verification_agrees_with_the_whole_run_on_honest_and_tampered_records() {
    let mut cases: Vec<Option<String>> = vec![None];
    for entry in std::fs::read_dir(vectors().join("tampered")).unwrap() {
        cases.push(Some(
            entry.unwrap().file_name().to_string_lossy().into_owned(),
        ));
    }
    cases.sort();
    assert!(cases.len() >= 19);
    for case in &cases {
        let name = case.clone().unwrap_or_else(|| "honest".into());
        let dir = record(case.as_deref(), &name);
        let whole = verify_record(&dir, &mut ChaCha20Rng::seed_from_u64(1), &nothing);
        for n in [1u32, 2, 3, 10] {
            let work = scratch(&format!("{name}-{n}"));
            let sharded = shards(&dir, n, &work).and_then(|paths| combine(&dir, &paths));
            match (&whole, &sharded) {
                (Ok(w), Ok(s)) => assert_eq!(summary(w), summary(s), "{name}, {n} shards"),
                (Err(_), Err(_)) => {} // unusable input either way
                _ => panic!(
                    "{name}, {n} shards: whole {:?} but sharded {:?}",
                    whole.as_ref().map(summary),
                    sharded.as_ref().map(summary)
                ),
            }
        }
    }
}

#[test]
fn partials_that_are_not_exactly_the_shards_of_the_record_are_refused() {
    let dir = record(None, "refusals");
    let work = scratch("refusals-partials");
    let paths = shards(&dir, 3, &work).unwrap();
    assert!(combine(&dir, &paths).unwrap().passed());
    // The machine that combines needs the record's small files and shares, not its board.
    let without_board = scratch("refusals-no-board").join("record");
    common::copy_dir(&dir, &without_board);
    std::fs::remove_file(without_board.join("board.bin")).unwrap();
    assert!(combine(&without_board, &paths).unwrap().passed());
    let refused = |paths: &[PathBuf], why: &str| match combine(&dir, paths) {
        Err(RecordError::Partial { reason }) => reason,
        other => panic!("{why}: {:?}", other.map(|r| summary(&r))),
    };
    // A shard missing, a shard twice, none at all.
    refused(&paths[..2], "missing");
    refused(
        &[paths[0].clone(), paths[1].clone(), paths[1].clone()],
        "twice",
    );
    refused(&[], "none");
    // Shards of another split.
    let other = shards(&dir, 2, &scratch("refusals-two")).unwrap();
    refused(
        &[paths[0].clone(), other[1].clone(), paths[2].clone()],
        "mixed splits",
    );
    // Partials of another record: the tampered board.
    let forged = record(Some("ballot-duplicate"), "refusals-forged");
    let forged_paths = shards(&forged, 3, &scratch("refusals-forged-partials")).unwrap();
    refused(
        &[paths[0].clone(), forged_paths[1].clone(), paths[2].clone()],
        "another record",
    );
    // Every byte of a partial matters: a flipped bit anywhere is refused, never merged.
    let bytes = std::fs::read(&paths[1]).unwrap();
    for at in (0..bytes.len()).step_by(37).chain([bytes.len() - 1]) {
        let mut damaged = bytes.clone();
        damaged[at] ^= 0x10;
        let path = work.join("damaged");
        std::fs::write(&path, &damaged).unwrap();
        match Partial::open(&path) {
            Err(RecordError::Partial { .. }) => {}
            other => panic!("byte {at}: {:?}", other.map(|p| p.range())),
        }
    }
    // The adaptive attacker on the combining machine: honest partials, but its own copy of a
    // small file swapped after the shards ran (results.json of the tampered vector case, whose
    // record.json lists another hash). The shards' V2 passed on their copy; the combined report
    // must still name this copy.
    let swapped = scratch("refusals-swapped").join("record");
    common::copy_dir(&dir, &swapped);
    std::fs::copy(
        vectors().join("tampered/results-count/results.json"),
        swapped.join("results.json"),
    )
    .unwrap();
    let report = combine(&swapped, &paths).unwrap();
    let v2 = report
        .checks
        .iter()
        .find(|c| c.id.as_str() == "V2")
        .unwrap();
    assert_eq!(
        v2.status,
        evote::verify::Status::Fail,
        "{}",
        report.summary()
    );
    assert!(v2.failures[0].at.contains("results.json"));
    // Cut short, or extended.
    for len in [0, 10, bytes.len() / 2, bytes.len() - 1] {
        let path = work.join("short");
        std::fs::write(&path, &bytes[..len]).unwrap();
        assert!(Partial::open(&path).is_err(), "{len}");
    }
    let path = work.join("long");
    let mut long = bytes.clone();
    long.push(0);
    std::fs::write(&path, &long).unwrap();
    assert!(Partial::open(&path).is_err());
    // Doubled: the partial written twice into one file.
    std::fs::write(&path, [bytes.as_slice(), bytes.as_slice()].concat()).unwrap();
    assert!(matches!(
        Partial::open(&path),
        Err(RecordError::Partial { .. })
    ));
}

#[test]
fn shards_split_the_entries_contiguously() {
    let dir = record(None, "ranges");
    let work = scratch("ranges-partials");
    let paths = shards(&dir, 3, &work).unwrap();
    let ranges: Vec<(u64, u64)> = paths
        .iter()
        .map(|p| Partial::open(p).unwrap().range())
        .collect();
    // 7 entries: 1-2, 3-4, 5-7.
    assert_eq!(ranges, [(1, 2), (3, 4), (5, 7)]);
    assert!(Shard::parse("0/3").is_none() && Shard::parse("4/3").is_none());
    assert_eq!(Shard::parse("2/3"), Shard::new(2, 3));
}

#[test]
fn the_command_line_shards_and_combines() {
    let dir = record(None, "cli");
    let work = scratch("cli-partials");
    let evote = env!("CARGO_BIN_EXE_evote");
    for i in 1..=2 {
        let status = std::process::Command::new(evote)
            .arg("verify")
            .arg(&dir)
            .args(["--shard", &format!("{i}/2"), "--partial"])
            .arg(work.join(format!("p{i}")))
            .status()
            .unwrap();
        assert_eq!(status.code(), Some(0));
    }
    let combine = |parts: &[&str]| {
        std::process::Command::new(evote)
            .arg("verify")
            .arg(&dir)
            .arg("--combine")
            .args(parts.iter().map(|p| work.join(p)))
            .output()
            .unwrap()
    };
    let whole = combine(&["p1", "p2"]);
    assert_eq!(whole.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&whole.stdout).contains("all checks pass"));
    // A shard missing: unusable input, named.
    let missing = combine(&["p1"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("one partial for each"));
    // A shard that is not I/N.
    let bad = std::process::Command::new(evote)
        .arg("verify")
        .arg(&dir)
        .args(["--shard", "3/2", "--partial"])
        .arg(work.join("p3"))
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
}
