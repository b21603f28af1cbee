//! The verifier: a valid record passes every check; each tampering is caught by the check that
//! concerns it (record.json's hashes recomputed, as a forger would).

use std::path::{Path, PathBuf};

use evote::ceremony::{adjudicate, part1, CeremonyParams, CeremonyTranscript};
use evote::decryption::{combine, DEFAULT_MIN_BALLOTS};
use evote::election::board::tally;
use evote::election::record::{file_hash, files, to_hex};
use evote::election::{
    write_record, Ballot, BallotBoard, CredentialList, ElectionContext, ElectionResults, Manifest,
    RecordIndex, RecordParts,
};
use evote::verify::{verify_record, Report, Status};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

fn quiet(_: &str, _: u64, _: u64) {}

/// Builds a valid record (2-of-3, example manifest, 6 voters, two revotes, one challenged
/// ballot, one guardian absent) and returns its directory.
fn record(name: &str) -> PathBuf {
    let base = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("verify")
        .join(name);
    let _ = std::fs::remove_dir_all(&base);
    std::fs::create_dir_all(&base).unwrap();
    let mut rng = ChaCha20Rng::seed_from_u64(42);
    let params = CeremonyParams::new([4; 32], 2, 3).unwrap();
    let (s1, hashes): (Vec<_>, Vec<_>) = params
        .indices()
        .map(|i| part1(&params, i, &mut rng).unwrap())
        .unzip();
    let (s2, reveals): (Vec<_>, Vec<_>) = s1.into_iter().map(|s| s.part2(&hashes).unwrap()).unzip();
    let mut sent = Vec::new();
    let s3: Vec<_> = s2
        .into_iter()
        .map(|s| {
            let (s3, mut x) = s.part3(&reveals, &mut rng).unwrap();
            sent.append(&mut x);
            s3
        })
        .collect();
    let s4: Vec<_> = s3
        .into_iter()
        .map(|s| s.part4(&sent, &mut rng).unwrap().0)
        .collect();
    let ceremony = CeremonyTranscript {
        params,
        hashes,
        reveals,
        shares: sent,
        complaints: vec![],
    };
    let outcome = adjudicate(&ceremony, &mut rng).unwrap();
    let keys: Vec<_> = s4
        .into_iter()
        .map(|s| s.finish(&ceremony, &mut rng).unwrap().0)
        .collect();
    let (voters, list) = CredentialList::generate(6, &mut rng);
    let context = ElectionContext::new(Manifest::example(), outcome, list).unwrap();
    let board_path = base.join("server-board.bin");
    let mut board = BallotBoard::create(&board_path, &context).unwrap();
    let choice = |i: usize| {
        vec![
            if i % 2 == 0 { vec![1, 0] } else { vec![0, 1] },
            vec![0, 0, 0, 0, (i % 2) as u64],
            vec![1, 0, 0, 0, 0, 0, 0, (i % 2) as u64],
            vec![3, 0, 1, 0],
        ]
    };
    for (i, v) in voters
        .iter()
        .enumerate()
        .chain(voters.iter().enumerate().take(2))
    {
        let (b, _) = Ballot::encrypt(&context, v, &choice(i + 1), &mut rng).unwrap();
        board.append(&context, &b.to_bytes(), &mut rng).unwrap();
    }
    let (probe, secret) = Ballot::encrypt(&context, &voters[3], &choice(0), &mut rng).unwrap();
    board.close().unwrap();
    drop(board);
    let encrypted = tally(&board_path, &context, &mut rng).unwrap();
    let shares: Vec<_> = keys[1..]
        .iter()
        .map(|k| {
            k.decrypt_tally(context.outcome(), &encrypted, DEFAULT_MIN_BALLOTS, &mut rng)
                .unwrap()
        })
        .collect();
    let result = combine(context.outcome(), &encrypted, &shares, &mut rng).unwrap();
    let results =
        ElectionResults::from_counts(context.manifest(), encrypted.ballots(), &result.counts)
            .unwrap();
    let dir = base.join("record");
    write_record(
        &dir,
        &RecordParts {
            context: &context,
            ceremony: &ceremony,
            board: &board_path,
            challenged: &[(probe, secret.expose_seed())],
            tally: &encrypted,
            shares: &shares,
            results: &results,
        },
    )
    .unwrap();
    dir
}

fn verify(dir: &Path) -> Report {
    verify_record(dir, &mut ChaCha20Rng::seed_from_u64(7), &quiet).unwrap()
}

/// Recomputes record.json's file hashes (what a forger who edits files would do).
fn rehash(dir: &Path) {
    let path = dir.join(files::INDEX);
    let mut index: RecordIndex =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    for name in files::ALL {
        if let Ok(h) = file_hash(&dir.join(name)) {
            index.files.insert(name.to_string(), to_hex(&h));
        }
    }
    std::fs::write(&path, serde_json::to_string_pretty(&index).unwrap()).unwrap();
}

fn status(report: &Report, id: &str) -> Status {
    report.checks.iter().find(|c| c.id == id).unwrap().status
}

fn copy_dir(from: &Path, to: &Path) {
    let _ = std::fs::remove_dir_all(to);
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

#[test]
fn a_valid_record_passes_every_check_and_each_tampering_is_named() {
    let good = record("base");
    let report = verify(&good);
    assert!(report.passed(), "{}", report.summary());
    assert_eq!(report.ballots, 8);
    assert_eq!(report.counted, 6);
    assert!(
        report.checks.iter().all(|c| c.objects > 0 || c.id == "V10"),
        "{}",
        report.summary()
    );
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["checks"][0]["status"], "pass");

    let case = |name: &str, edit: &dyn Fn(&Path), expected: &str| {
        let dir = good.parent().unwrap().join(format!("tampered-{name}"));
        copy_dir(&good, &dir);
        edit(&dir);
        rehash(&dir);
        let report = verify(&dir);
        assert!(!report.passed(), "{name}: passed");
        assert_eq!(
            status(&report, expected),
            Status::Fail,
            "{name}: {}",
            report.summary()
        );
    };
    // A flipped byte inside a ballot on the board: the chain breaks.
    case(
        "ballot-byte",
        &|d| {
            let p = d.join(files::BOARD);
            let mut b = std::fs::read(&p).unwrap();
            b[76 + 4 + 9 + 200] ^= 1;
            std::fs::write(&p, b).unwrap();
        },
        "V7",
    );
    // A changed result.
    case(
        "result",
        &|d| {
            let p = d.join(files::RESULTS);
            let mut r: ElectionResults =
                serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
            r.contests[0].options[0].count += 1;
            r.contests[0].options[1].count -= 1;
            std::fs::write(&p, serde_json::to_string(&r).unwrap()).unwrap();
        },
        "V14",
    );
    // The decryption shares swapped for garbage of the right framing: a share's proof fails.
    case(
        "share",
        &|d| {
            let p = d.join(files::SHARES);
            let mut b = std::fs::read(&p).unwrap();
            let at = 4 + 74 + 32 + 64; // the first share's first response scalar
            b[at] ^= 1;
            std::fs::write(&p, b).unwrap();
        },
        "V13",
    );
    // The tally replaced by one that omits a ballot (another record's tally bytes would do).
    case(
        "tally",
        &|d| {
            let p = d.join(files::TALLY);
            let mut b = std::fs::read(&p).unwrap();
            b[34] ^= 1; // the ballot count
            std::fs::write(&p, b).unwrap();
        },
        "V12",
    );
    // A missing file.
    case(
        "missing",
        &|d| std::fs::remove_file(d.join(files::CHALLENGED)).unwrap(),
        "V2",
    );
    // Another election's id in the index.
    case(
        "election-hash",
        &|d| {
            let p = d.join(files::INDEX);
            let t = std::fs::read_to_string(&p).unwrap();
            let mut index: RecordIndex = serde_json::from_str(&t).unwrap();
            index.election_hash = "00".repeat(64);
            std::fs::write(&p, serde_json::to_string(&index).unwrap()).unwrap();
        },
        "V6",
    );
    // The file hash in the index altered without touching the file: only V2 can see it.
    let dir = good.parent().unwrap().join("tampered-index-hash");
    copy_dir(&good, &dir);
    let p = dir.join(files::INDEX);
    let mut index: RecordIndex =
        serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
    index.files.insert(files::RESULTS.into(), "ab".repeat(64));
    std::fs::write(&p, serde_json::to_string(&index).unwrap()).unwrap();
    assert_eq!(status(&verify(&dir), "V2"), Status::Fail);
}

#[test]
fn unusable_records_are_errors_not_reports() {
    let good = record("unusable");
    let dir = good.parent().unwrap().join("wrong-version");
    copy_dir(&good, &dir);
    let p = dir.join(files::INDEX);
    let t = std::fs::read_to_string(&p)
        .unwrap()
        .replace("\"version\": 1", "\"version\": 9");
    std::fs::write(&p, t).unwrap();
    assert!(verify_record(&dir, &mut ChaCha20Rng::seed_from_u64(1), &quiet).is_err());
    std::fs::remove_file(&p).unwrap();
    assert!(verify_record(&dir, &mut ChaCha20Rng::seed_from_u64(1), &quiet).is_err());
}
