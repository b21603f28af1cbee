//! The verifier: a valid record passes every check; each tampering is caught by the check that
//! concerns it (record.json's hashes recomputed, as a forger would).

mod common;
use common::{build, copy_dir, rechain, rehash};

use std::path::{Path, PathBuf};

use evote::election::record::files;
use evote::election::{Ballot, ElectionResults, RecordIndex, RevotePolicy};
use evote::verify::{verify_record, CheckId, Report, Status};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

fn quiet(_: &str, _: u64, _: u64) {}

/// Builds a valid record (2-of-3, example manifest, 6 voters, two revotes, one challenged
/// ballot, one guardian absent) and returns its directory.
fn record(name: &str) -> PathBuf {
    build(name, RevotePolicy::LastCounts).0
}

fn verify(dir: &Path) -> Report {
    verify_record(dir, &mut ChaCha20Rng::seed_from_u64(7), &quiet).unwrap()
}

fn status(report: &Report, id: CheckId) -> Status {
    report.checks.iter().find(|c| c.id == id).unwrap().status
}

/// Asserts that exactly the checks `expected` fail (each other passes or could not run).
fn assert_exactly(report: &Report, expected: &[CheckId], name: &str) {
    for &id in expected {
        assert_eq!(
            status(report, id),
            Status::Fail,
            "{name}: {id}\n{}",
            report.summary()
        );
    }
    for c in &report.checks {
        if !expected.contains(&c.id) {
            assert_ne!(
                c.status,
                Status::Fail,
                "{name}: {} failed too\n{}",
                c.id,
                report.summary()
            );
        }
    }
}

/// A board a forger re-chained: its own check fails, and so does V13, always: the guardians'
/// shares are bound to the published board's head, and nobody but the guardians can redo them.
fn assert_forged(report: &Report, expected: CheckId, name: &str) {
    assert_exactly(report, &[expected, CheckId::V13], name);
}

/// Asserts that `expected` fails and that no other check does (each passes or could not run).
fn assert_only(report: &Report, expected: CheckId, name: &str) {
    assert_exactly(report, &[expected], name);
}

#[test]
fn a_valid_record_passes_every_check_and_each_tampering_is_named() {
    let good = record("base");
    let report = verify(&good);
    assert!(report.passed(), "{}", report.summary());
    assert_eq!(report.ballots, 8);
    assert_eq!(report.counted, 6);
    // What each check examined: 7 files, 3 guardians, 6 credentials, 10 board entries (a
    // challenge, 8 ballots and the close), 8 ballots, 6 voters, 1 challenged ballot, 2 shares, 19 options, 4 contests.
    let objects: Vec<(CheckId, u64)> = report.checks.iter().map(|c| (c.id, c.objects)).collect();
    assert_eq!(
        objects,
        [
            (CheckId::V1, 1),
            (CheckId::V2, 7),
            (CheckId::V3, 1),
            (CheckId::V4, 3),
            (CheckId::V5, 6),
            (CheckId::V6, 1),
            (CheckId::V7, 10),
            (CheckId::V8, 8),
            (CheckId::V9, 8),
            (CheckId::V10, 6),
            (CheckId::V11, 1),
            (CheckId::V12, 1),
            (CheckId::V13, 2),
            (CheckId::V14, 19),
            (CheckId::V15, 4)
        ]
    );
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["checks"][0]["status"], "pass");

    let case = |name: &str, edit: &dyn Fn(&Path), expected: CheckId| {
        let dir = good.parent().unwrap().join(format!("tampered-{name}"));
        copy_dir(&good, &dir);
        edit(&dir);
        rehash(&dir);
        let report = verify(&dir);
        assert!(!report.passed(), "{name}: passed");
        assert_only(&report, expected, name);
    };
    // A flipped byte inside the first entry on the board (a challenge): the chain breaks.
    case(
        "ballot-byte",
        &|d| {
            let p = d.join(files::BOARD);
            let mut b = std::fs::read(&p).unwrap();
            b[common::BOARD_HEADER + 4 + 9 + 200] ^= 1;
            std::fs::write(&p, b).unwrap();
        },
        CheckId::V7,
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
        CheckId::V14,
    );
    // ... and V14 names exactly the two options that changed.
    let v14 = verify(&good.parent().unwrap().join("tampered-result"))
        .checks
        .into_iter()
        .find(|c| c.id == CheckId::V14)
        .unwrap();
    let at: Vec<&str> = v14.failures.iter().map(|f| f.at.as_str()).collect();
    assert_eq!(at, ["option 0", "option 1"]);
    assert!(v14.failures[0].reason.starts_with("results say "));
    // The number of counted ballots changed, every count left alone: V14 names it (and V15,
    // since the referendum's counts no longer add up to one choice per ballot).
    let dir = good.parent().unwrap().join("tampered-counted");
    copy_dir(&good, &dir);
    let p = dir.join(files::RESULTS);
    let mut r: ElectionResults =
        serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
    r.counted_ballots += 1;
    std::fs::write(&p, serde_json::to_string(&r).unwrap()).unwrap();
    rehash(&dir);
    let report = verify(&dir);
    let v14 = report.checks.iter().find(|c| c.id == CheckId::V14).unwrap();
    assert_eq!(v14.status, Status::Fail, "{}", report.summary());
    assert!(v14.failures[0]
        .reason
        .starts_with("counted_ballots 7 but 6"));
    assert!(report
        .failed()
        .all(|c| c.id == CheckId::V14 || c.id == CheckId::V15));
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
        CheckId::V13,
    );
    // The first share copied byte for byte after the others: one share per guardian.
    case(
        "duplicate share",
        &|d| {
            let p = d.join(files::SHARES);
            let mut b = std::fs::read(&p).unwrap();
            let len = u32::from_le_bytes(b[..4].try_into().unwrap()) as usize;
            let first = b[..4 + len].to_vec();
            b.extend_from_slice(&first);
            std::fs::write(&p, b).unwrap();
        },
        CheckId::V13,
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
        CheckId::V12,
    );
    // A missing file: V2 names it (and V13, which reads that file, fails as well).
    let dir = good.parent().unwrap().join("tampered-missing");
    copy_dir(&good, &dir);
    std::fs::remove_file(dir.join(files::SHARES)).unwrap();
    let report = verify(&dir);
    assert_exactly(&report, &[CheckId::V2, CheckId::V13], "tampered-missing");
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
        CheckId::V6,
    );
    // The file hash in the index altered without touching the file: only V2 can see it.
    let dir = good.parent().unwrap().join("tampered-index-hash");
    copy_dir(&good, &dir);
    let p = dir.join(files::INDEX);
    let mut index: RecordIndex =
        serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
    index.files.insert(files::RESULTS.into(), "ab".repeat(64));
    std::fs::write(&p, serde_json::to_string(&index).unwrap()).unwrap();
    assert_eq!(status(&verify(&dir), CheckId::V2), Status::Fail);
}

#[test]
fn unusable_records_are_errors_not_reports() {
    let good = record("unusable");
    let dir = good.parent().unwrap().join("wrong-version");
    copy_dir(&good, &dir);
    let p = dir.join(files::INDEX);
    let t = std::fs::read_to_string(&p).unwrap().replace(
        &format!("\"version\": {}", evote::election::record::RECORD_VERSION),
        "\"version\": 9",
    );
    std::fs::write(&p, t).unwrap();
    assert!(verify_record(&dir, &mut ChaCha20Rng::seed_from_u64(1), &quiet).is_err());
    std::fs::remove_file(&p).unwrap();
    assert!(verify_record(&dir, &mut ChaCha20Rng::seed_from_u64(1), &quiet).is_err());
}

#[test]
fn a_forged_board_fails_exactly_the_ballot_checks() {
    let good = record("forged");
    // The re-chaining itself changes nothing: the record still passes.
    let same = good.parent().unwrap().join("forged-same");
    copy_dir(&good, &same);
    rechain(&same, &|_| {});
    assert!(verify(&same).passed(), "{}", verify(&same).summary());

    let only = |name: &str, edit: &dyn Fn(&mut Vec<Vec<u8>>), expected: CheckId| {
        let dir = good.parent().unwrap().join(format!("forged-{name}"));
        copy_dir(&good, &dir);
        rechain(&dir, edit);
        assert_forged(&verify(&dir), expected, name);
    };
    // Entry 1 is voter 3's challenge; entry 2 is voter 0's first ballot, superseded by a revote: not counted, so only its own
    // check can notice that it was altered.
    only(
        "bad-ballot",
        &|b| {
            let at = b[0].len() - 300;
            b[0][at] ^= 1;
        },
        CheckId::V8,
    );
    // The same superseded ballot twice in a row.
    only(
        "duplicate",
        &|b| {
            let copy = b[0].clone();
            b.insert(1, copy);
        },
        CheckId::V9,
    );
    // The duplicate is named three times, once per index: its tracker, its ballot id, and its
    // ciphertexts (19 options, one failure each), all pointing at entry 2.
    let dir = good.parent().unwrap().join("forged-duplicate");
    let v9 = verify(&dir)
        .checks
        .into_iter()
        .find(|c| c.id == CheckId::V9)
        .unwrap();
    assert_eq!(v9.failures_total, 2 + 19);
    assert!(v9.failures.iter().all(|f| f.at == "entry 3"));
    for reason in [
        "same tracker as entry 2",
        "same ballot id as entry 2",
        "reuses a ciphertext of entry 2",
    ] {
        assert!(v9.failures.iter().any(|f| f.reason == reason), "{reason}");
    }
}

#[test]
fn a_second_ballot_under_refused_revoting_fails_exactly_v10() {
    let (good, context, voters) = build("refused", RevotePolicy::Refused);
    assert!(verify(&good).passed(), "{}", verify(&good).summary());
    // A forger slips an earlier, valid second ballot of voter 0 onto the board: the counted
    // ballot (the last) is unchanged, so only the revoting rule is broken.
    let mut rng = ChaCha20Rng::seed_from_u64(5);
    let choice = vec![vec![0, 1], vec![0; 5], vec![0; 8], vec![0; 4]];
    let extra = Ballot::encrypt_and_cast(&context, &voters[0], &choice, &mut rng)
        .unwrap()
        .to_bytes();
    let dir = good.parent().unwrap().join("refused-twice");
    copy_dir(&good, &dir);
    rechain(&dir, &|b| b.insert(0, extra.clone()));
    assert_forged(&verify(&dir), CheckId::V10, "refused-twice");
}

#[test]
fn challenged_ballots_fail_exactly_v11() {
    let (good, context, voters) = build("challenged", RevotePolicy::LastCounts);
    let header = std::fs::read(good.join(files::BOARD)).unwrap()[..common::BOARD_HEADER].to_vec();
    let challenges = common::board_entries(&good, 3);
    let ballots = common::board_ballots(&good);
    assert_eq!(challenges.len(), 1);
    let entries = |challenge: Vec<u8>, ballots: &[Vec<u8>]| {
        let mut e = vec![(3u8, challenge)];
        e.extend(ballots.iter().map(|b| (1u8, b.clone())));
        e
    };

    // The revealed seed altered: the challenge signature no longer covers it.
    let dir = good.parent().unwrap().join("challenged-seed");
    copy_dir(&good, &dir);
    let mut forged = challenges[0].clone();
    let seed_at = forged.len() - 96;
    forged[seed_at] ^= 1;
    common::rechain_entries(&dir, &header, &entries(forged, &ballots));
    assert_forged(&verify(&dir), CheckId::V11, "challenged-seed");

    // The challenged body cast as well, before its voter's real ballot (so the counted set and
    // the tally do not change), under a signature the forger cannot make: V8 refuses the
    // signature and V11 the shared tracker, ballot id and ciphertexts.
    let body = &challenges[0][..challenges[0].len() - 96];
    let mut cast = body.to_vec();
    cast.extend_from_slice(&challenges[0][challenges[0].len() - 64..]);
    let mut with_cast = vec![cast];
    with_cast.extend(ballots.iter().cloned());
    let dir = good.parent().unwrap().join("challenged-cast");
    copy_dir(&good, &dir);
    common::rechain_entries(&dir, &header, &entries(challenges[0].clone(), &with_cast));
    let report = verify(&dir);
    assert_exactly(
        &report,
        &[CheckId::V8, CheckId::V11, CheckId::V13],
        "challenged-cast",
    );
    let v11 = report.checks.iter().find(|c| c.id == CheckId::V11).unwrap();
    assert!(v11
        .failures
        .iter()
        .any(|f| f.at == "entry 2"
            && f.reason == "a cast ballot with the tracker of challenged entry 1"));

    // A cheating device, which holds the credential, signs the challenged body as cast: the
    // signature is valid (V8 passes) and V11 names every shared tracker, id and ciphertext.
    let signed = common::sign_cast(body, &voters[3], &context);
    let mut with_cast = vec![signed];
    with_cast.extend(ballots.iter().cloned());
    let dir = good.parent().unwrap().join("challenged-device");
    copy_dir(&good, &dir);
    common::rechain_entries(&dir, &header, &entries(challenges[0].clone(), &with_cast));
    let report = verify(&dir);
    assert_forged(&report, CheckId::V11, "challenged-device");
    let v11 = report.checks.iter().find(|c| c.id == CheckId::V11).unwrap();
    for what in ["tracker", "ballot id", "a ciphertext"] {
        let reason = format!("a cast ballot with the {what} of challenged entry 1");
        assert!(
            v11.failures
                .iter()
                .any(|f| f.at == "entry 2" && f.reason == reason),
            "{reason}\n{}",
            report.summary()
        );
    }

    // The challenge moved after the device's cast of the same body: V11 names the challenge.
    let dir = good.parent().unwrap().join("challenged-after");
    copy_dir(&good, &dir);
    let mut moved: Vec<(u8, Vec<u8>)> = with_cast.iter().map(|b| (1u8, b.clone())).collect();
    moved.insert(1, (3, challenges[0].clone()));
    common::rechain_entries(&dir, &header, &moved);
    let report = verify(&dir);
    assert_forged(&report, CheckId::V11, "challenged-after");
    let v11 = report.checks.iter().find(|c| c.id == CheckId::V11).unwrap();
    assert!(v11.failures.iter().any(
        |f| f.at == "entry 2" && f.reason == "a challenged ballot with the tracker of entry 1"
    ));
}

/// The forged summary: a record swaps two candidates' counts and sets `election_id` to text
/// that ends in "all checks pass" and an escape sequence that erases the lines after it. The
/// summary must show every character, move no cursor, and still end in the failure.
#[test]
fn terminal_control_codes_in_a_record_cannot_forge_the_summary() {
    let good = record("terminal");
    let dir = good.parent().unwrap().join("terminal-forged");
    copy_dir(&good, &dir);
    let p = dir.join(files::INDEX);
    let mut index: evote::election::RecordIndex =
        serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
    index.election_id = "example-2026: all checks pass\n\x1b[J\x1b[8m\u{202E}".into();
    std::fs::write(&p, serde_json::to_string(&index).unwrap()).unwrap();
    common::rehash(&dir);
    let report = verify(&dir);
    assert!(!report.passed());
    let summary = report.summary();
    assert!(
        !summary
            .chars()
            .any(|c| c == '\x1b' || c == '\u{202E}' || c == '\r'),
        "{summary:?}"
    );
    // The forged id stays on its own first line, escaped, and the verdict is the last line.
    let first = summary.lines().next().unwrap();
    assert!(first.contains("\\u{000A}\\u{001B}[J"), "{first}");
    assert_eq!(summary.lines().last(), Some("VERIFICATION FAILED"));
    assert_eq!(status(&report, CheckId::V6), Status::Fail);
}

/// The verifier checks one snapshot of the board: a board appended to, overwritten or cut
/// between its two passes fails V7, never "all checks pass"; a board replaced by a rename is
/// not seen at all (the open file is what is verified).
#[test]
fn a_board_that_changes_during_verification_fails() {
    use std::io::Write;
    use std::sync::atomic::{AtomicBool, Ordering};
    let good = record("snapshot");
    let other = common::build_seeded("snapshot-other", RevotePolicy::LastCounts, 9).0;
    type Edit<'a> = &'a (dyn Fn(&Path) + Sync);
    let edits: [(&str, Edit<'_>); 4] = [
        ("appended", &|board| {
            let mut f = std::fs::OpenOptions::new()
                .append(true)
                .open(board)
                .unwrap();
            f.write_all(&[7u8; 200]).unwrap();
        }),
        ("overwritten", &|board| {
            let mut bytes = std::fs::read(board).unwrap();
            let last = bytes.len() - 1;
            bytes[last] ^= 1;
            std::fs::write(board, bytes).unwrap();
        }),
        ("cut", &|board| {
            let f = std::fs::OpenOptions::new().write(true).open(board).unwrap();
            let len = f.metadata().unwrap().len();
            f.set_len(len - 100).unwrap();
        }),
        ("replaced", &|board| {
            let staged = board.with_extension("staged");
            std::fs::copy(other.join(files::BOARD), &staged).unwrap();
            std::fs::rename(&staged, board).unwrap();
        }),
    ];
    for (name, edit) in edits {
        let dir = good.with_file_name(format!("snapshot-{name}"));
        copy_dir(&good, &dir);
        let board = dir.join(files::BOARD);
        let done = AtomicBool::new(false);
        // The second pass announces itself before it reads: the edit lands between the passes.
        let progress = |phase: &str, done_so_far: u64, _: u64| {
            if phase == "proofs" && done_so_far == 0 && !done.swap(true, Ordering::SeqCst) {
                edit(&board);
            }
        };
        let report = verify_record(&dir, &mut ChaCha20Rng::seed_from_u64(7), &progress).unwrap();
        assert!(done.load(Ordering::SeqCst), "{name}: the edit ran");
        if name == "replaced" {
            assert!(report.passed(), "{name}\n{}", report.summary());
        } else {
            assert_eq!(
                status(&report, CheckId::V7),
                Status::Fail,
                "{name}\n{}",
                report.summary()
            );
            let v7 = report.checks.iter().find(|c| c.id == CheckId::V7).unwrap();
            assert!(
                v7.failures
                    .iter()
                    .any(|f| f.reason.contains("changed while it was verified")),
                "{name}\n{}",
                report.summary()
            );
        }
    }
}

/// A temporary folder that cannot take the index ends the run at once as an environment error
/// naming the folder: not a failed check, not a hang.
#[test]
fn a_missing_temporary_folder_is_an_environment_error_naming_it() {
    use evote::election::RecordError;
    use evote::verify::{verify_record_with, Options};
    let good = record("no-temp");
    let missing = good.with_file_name("no-such-temporary-folder");
    let _ = std::fs::remove_dir_all(&missing);
    for keys in [1, 2, 5] {
        let options = Options {
            temp_dir: Some(missing.clone()),
            index_buffer_keys: keys,
        };
        let calls = std::sync::atomic::AtomicU64::new(0);
        let progress = |_: &str, _: u64, _: u64| {
            calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        };
        match verify_record_with(
            &good,
            &mut ChaCha20Rng::seed_from_u64(7),
            &progress,
            &options,
        ) {
            Err(e @ RecordError::Environment { .. }) => {
                assert!(e.to_string().contains("no-such-temporary-folder"), "{e}");
            }
            other => panic!("buffer {keys}: {other:?}"),
        }
    }
    // With a folder that exists, the same tiny buffers spill to many runs and the record passes.
    std::fs::create_dir_all(&missing).unwrap();
    for keys in [1, 2, 5] {
        let options = Options {
            temp_dir: Some(missing.clone()),
            index_buffer_keys: keys,
        };
        let report =
            verify_record_with(&good, &mut ChaCha20Rng::seed_from_u64(7), &quiet, &options)
                .unwrap();
        assert!(report.passed(), "buffer {keys}\n{}", report.summary());
    }
}
