//! Known-answer vectors of the election layer, pinned in `tests/vectors/election/`
//! (format: docs/vectors.md).
//!
//! - `record/`: a small complete record (2-of-3 ceremony, one guardian absent, four voters,
//!   a challenge, a revote), made from a seeded RNG: rebuilding it must give the same bytes,
//!   and `report.txt` is what the verifier must say of it.
//! - `election.txt`: the values inside it, one per line (manifest encoding and hash, H_E and
//!   its inputs, a ballot's body, signature, tracker and every proof's challenge, a challenged
//!   ballot's nonces, the board's genesis and heads, every ceremony package kind, outcomes
//!   with and without a culprit, a decryption share).
//! - `tampered/<case>/`: the files that differ from `record/` and `expected.txt`, the status
//!   every check must have.
//!
//! Each value is checked twice: against evote, and against the second implementation in
//! `tests/common/spec.rs`, written from docs/ alone.
//!
//! Regenerate deliberately with `EVOTE_WRITE_VECTORS=1 cargo test --test election_vectors`.

mod common;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use common::spec;
use evote::ceremony::{adjudicate, CeremonyParams, CeremonyTranscript, EncryptedShare};
use evote::election::record::files;
use evote::election::{
    Ballot, BallotBoard, ChallengedBallot, Manifest, PendingBallot, RecordIndex, RevotePolicy,
};
use evote::simulation::Election;
use evote::verify::{verify_record, Report, Status};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

const MANIFEST: &str = r#"{
  "election_id": "vectors-2026",
  "nonce": "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
  "title": "Known-answer election",
  "revoting": "last-counts",
  "contests": [
    {"id": "referendum", "title": "Do you approve?", "options": ["yes", "no"], "min_selections": 1, "max_selections": 1, "option_limit": 1},
    {"id": "budget", "title": "Budget (two votes, at most two to one)", "options": ["parks", "roads", "schools"], "min_selections": 0, "max_selections": 2, "option_limit": 2}
  ]
}"#;

/// Each voter's choice: (referendum, budget).
fn choice(voter: usize) -> Vec<Vec<u64>> {
    match voter {
        0 => vec![vec![1, 0], vec![2, 0, 0]],
        1 => vec![vec![0, 1], vec![1, 1, 0]],
        2 => vec![vec![1, 0], vec![0, 0, 1]],
        3 => vec![vec![1, 0], vec![0, 0, 0]],
        // voter 1's revote, which counts
        _ => vec![vec![1, 0], vec![0, 1, 1]],
    }
}

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/election")
}

fn scratch(name: &str) -> PathBuf {
    let p = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("election-vectors")
        .join(name);
    let _ = std::fs::remove_dir_all(&p);
    std::fs::create_dir_all(&p).unwrap();
    p
}

fn writing() -> bool {
    std::env::var_os("EVOTE_WRITE_VECTORS").is_some()
}

/// Builds the record into `out` (a folder that does not exist yet); returns the challenged
/// ballot's bytes (its seed is in them).
fn build_record(out: &Path) -> Vec<u8> {
    let mut rng = ChaCha20Rng::seed_from_u64(0x7665_6374_6f72);
    let manifest = Manifest::from_json(MANIFEST).unwrap();
    let mut election = Election::new([0x42; 32], 2, 3, manifest, 4, &mut rng).unwrap();
    let (context, voters) = (&election.context, &election.voters);
    let work = scratch("build");
    let board_path = work.join("board.bin");
    let mut board = BallotBoard::create(&board_path, context, common::box_key()).unwrap();
    // Entry 1: voter 0 challenges its device. Entries 2-5: every voter casts. Entry 6: voter 1
    // casts again. Entry 7: the close.
    let challenged = PendingBallot::encrypt(context, voters[0].public(), &choice(0), &mut rng)
        .unwrap()
        .challenge(&voters[0], &mut rng)
        .unwrap()
        .to_bytes();
    board.challenge(context, &challenged, &mut rng).unwrap();
    for (voter, which) in [(0, 0), (1, 1), (2, 2), (3, 3), (1, 4)] {
        let ballot =
            Ballot::encrypt_and_cast(context, &voters[voter], &choice(which), &mut rng).unwrap();
        board.append(context, &ballot.to_bytes(), &mut rng).unwrap();
    }
    let head = board.close(&mut rng).unwrap();
    drop(board);
    // Guardian 1 is absent: 2 and 3 decrypt.
    let decrypted = election.decrypt(&board_path, &head, 1, &mut rng).unwrap();
    election.write_record(out, &board_path, &decrypted).unwrap();
    challenged
}

/// A 2-of-3 ceremony in which guardian 1 sends guardian 2 a share that does not open:
/// guardian 2 complains, and guardian 1 is disqualified (`InvalidShare`).
fn complaint_ceremony() -> CeremonyTranscript {
    let params = CeremonyParams::new([0x43; 32], 2, 3).unwrap();
    let (_, transcript) = common::ceremony_rounds(&params, 0x636f_6d70, |shares| {
        for share in shares.iter_mut() {
            if share.sender().get() == 1 && share.recipient().get() == 2 {
                let mut bytes = share.to_bytes();
                bytes[20] ^= 1; // inside the sealed share: it no longer authenticates
                *share = EncryptedShare::from_bytes(&bytes).unwrap();
            }
        }
    });
    assert_eq!(transcript.complaints.len(), 1);
    transcript
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `election.txt`: every value, derived from the record (and the complaint ceremony), with
/// evote's own functions wherever evote has one.
fn election_values(record: &Path, challenged: &[u8]) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = Vec::new();
    let mut put = |k: &str, bytes: &[u8]| v.push((k.to_string(), hex(bytes)));
    let read = |name: &str| std::fs::read(record.join(name)).unwrap();
    let manifest = Manifest::from_json(&String::from_utf8(read(files::MANIFEST)).unwrap()).unwrap();
    put("manifest_canonical", &manifest.to_bytes());
    put("manifest_hash", &manifest.hash());

    let transcript = CeremonyTranscript::from_bytes(&read(files::CEREMONY)).unwrap();
    let outcome = adjudicate(&transcript, &mut ChaCha20Rng::seed_from_u64(1)).unwrap();
    let params = &transcript.params;
    put("ceremony_id", params.id());
    put("ceremony_threshold", &params.threshold().to_le_bytes());
    put("ceremony_guardians", &params.guardians().to_le_bytes());
    put("ceremony_context_hash", &params.context_hash());
    put(
        "commitment_hash_package_1",
        &transcript.hashes[0].to_bytes(),
    );
    put("reveal_package_1", &transcript.reveals[0].to_bytes());
    put(
        "reveal_package_1_commitment_hash",
        &transcript.reveals[0].commitment_hash(params),
    );
    put("encrypted_share_1_to_2", &transcript.shares[0].to_bytes());
    put("election_key", outcome.joint_key().as_bytes());
    for j in outcome.qualified() {
        put(
            &format!("key_share_{}", j.get()),
            outcome.key_share(*j).unwrap().as_bytes(),
        );
    }
    put("transcript_digest", outcome.transcript_digest());
    put("ceremony_outcome", &outcome.to_bytes());
    let disputed = complaint_ceremony();
    let disputed_outcome = adjudicate(&disputed, &mut ChaCha20Rng::seed_from_u64(1)).unwrap();
    put("complaint_ceremony", &disputed.to_bytes());
    put(
        "complaint_package_2_against_1",
        &disputed.complaints[0].to_bytes(),
    );
    put("complaint_ceremony_outcome", &disputed_outcome.to_bytes());

    let credentials = read(files::CREDENTIALS);
    put("credential_root", &spec::credential_root(&credentials));
    let index: RecordIndex =
        serde_json::from_str(&String::from_utf8(read(files::INDEX)).unwrap()).unwrap();
    let election: [u8; 64] = ::hex::decode(&index.election_hash)
        .unwrap()
        .try_into()
        .unwrap();
    put("election_hash", &election);

    let board = read(files::BOARD);
    put("board_header", &board[..common::BOARD_HEADER]);
    let parsed = spec::parse_board(&board);
    put("board_genesis", &parsed.genesis);
    for (number, _, _, head) in &parsed.entries {
        put(&format!("board_head_{number}"), head);
    }
    let close = board.len() - (4 + 9 + 64);
    put("board_close_entry", &board[close..]);

    // The first cast ballot (entry 2) and the challenge (entry 1).
    let (_, kind, cast, _) = &parsed.entries[1];
    assert_eq!(*kind, 1);
    let ballot = Ballot::from_bytes(cast).unwrap();
    let body = spec::parse_body(cast);
    put("ballot", cast);
    put("ballot_body", &cast[..body.len]);
    put("ballot_body_hash", &spec::body_hash(&cast[..body.len]));
    put("ballot_cast_signature", &cast[body.len..]);
    put("ballot_tracker", &ballot.tracker());
    let shape: Vec<(u64, u64, u64)> = manifest
        .contests
        .iter()
        .map(|c| (c.option_limit, c.min_selections, c.max_selections))
        .collect();
    let key = outcome.joint_key().as_bytes().to_vec();
    let (c, ok) = spec::schnorr(
        spec::cast_transcript(&election, &spec::body_hash(&cast[..body.len])),
        &body.credential,
        &cast[body.len..],
    );
    assert!(ok);
    put("ballot_challenge_cast_signature", c.as_bytes());
    for (name, c, ok) in spec::ballot_challenges(&election, &key, &body, &shape) {
        assert!(ok, "{name}");
        put(&format!("ballot_challenge_{name}"), c.as_bytes());
    }
    let opened = ChallengedBallot::from_bytes(challenged).unwrap();
    put("challenged_ballot", challenged);
    let cbody = spec::parse_body(challenged);
    put("challenged_seed", opened.seed());
    for (c, (options, _)) in cbody.contests.iter().enumerate() {
        for o in 0..options.len() {
            let r = spec::ballot_nonce(&election, &cbody.id, c as u32, o as u32, opened.seed());
            put(
                &format!("challenged_nonce_contest_{c}_option_{o}"),
                r.as_bytes(),
            );
        }
    }

    let shares = read(files::SHARES);
    let first = u32::from_le_bytes(shares[..4].try_into().unwrap()) as usize;
    put("decryption_share_2", &shares[4..4 + first]);
    put("tally_digest", &shares[4 + 6..4 + 6 + 64]);
    v
}

fn write_values(path: &Path, values: &[(String, String)]) {
    let mut out = String::from(
        "# evote election-layer known-answer values (docs/vectors.md). Regenerate: \
         EVOTE_WRITE_VECTORS=1 cargo test --test election_vectors\n",
    );
    for (k, v) in values {
        writeln!(out, "{k} = {v}").unwrap();
    }
    std::fs::write(path, out).unwrap();
}

fn read_values() -> BTreeMap<String, Vec<u8>> {
    std::fs::read_to_string(dir().join("election.txt"))
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let (k, v) = l.split_once(" = ").unwrap();
            (k.to_string(), ::hex::decode(v).unwrap())
        })
        .collect()
}

/// One line per check: `V1 pass`, or `unusable` for input the verifier refuses (exit 2).
fn statuses(report: &Result<Report, evote::election::RecordError>) -> String {
    lines(report, false)
}

/// [`statuses`], with the number of objects each check examined when `objects`.
fn lines(report: &Result<Report, evote::election::RecordError>, objects: bool) -> String {
    match report {
        Err(_) => "unusable\n".into(),
        Ok(report) => report
            .checks
            .iter()
            .map(|c| {
                let status = match c.status {
                    Status::Pass => "pass",
                    Status::Fail => "fail",
                    Status::NotRun => "not-run",
                };
                if objects {
                    format!("{} {status} {}\n", c.id, c.objects)
                } else {
                    format!("{} {status}\n", c.id)
                }
            })
            .collect(),
    }
}

fn verify(dir: &Path) -> Result<Report, evote::election::RecordError> {
    verify_record(dir, &mut ChaCha20Rng::seed_from_u64(5), &|_, _, _| {})
}

/// The tampered cases: a name, what was done, and the edit (on a copy of the record).
type Edit = Box<dyn Fn(&Path)>;

fn edit_json(path: &Path, f: impl Fn(&mut serde_json::Value)) {
    let mut value: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    f(&mut value);
    std::fs::write(path, serde_json::to_string_pretty(&value).unwrap()).unwrap();
}

fn flip(path: &Path, at: usize) {
    let mut bytes = std::fs::read(path).unwrap();
    bytes[at] ^= 1;
    std::fs::write(path, bytes).unwrap();
}

fn cases() -> Vec<(&'static str, &'static str, Edit)> {
    vec![
        (
            "record-version",
            "record.json says version 1",
            Box::new(|d: &Path| edit_json(&d.join(files::INDEX), |v| v["version"] = 1.into())),
        ),
        (
            "record-unknown-field",
            "record.json has a field the format does not define",
            Box::new(|d: &Path| {
                edit_json(&d.join(files::INDEX), |v| v["signed_by"] = "nobody".into())
            }),
        ),
        (
            "file-hash",
            "record.json lists another SHA-512 for tally.bin",
            Box::new(|d: &Path| {
                edit_json(&d.join(files::INDEX), |v| {
                    v["files"]["tally.bin"] = "00".repeat(64).into()
                })
            }),
        ),
        (
            "manifest-title",
            "the manifest's title changed (file hashes recomputed)",
            Box::new(|d: &Path| {
                edit_json(&d.join(files::MANIFEST), |v| {
                    v["title"] = "Another election".into()
                });
                common::rehash(d);
            }),
        ),
        (
            "manifest-unknown-field",
            "manifest.json has a field the format does not define (file hashes recomputed)",
            Box::new(|d: &Path| {
                edit_json(&d.join(files::MANIFEST), |v| v["extra"] = 1.into());
                common::rehash(d);
            }),
        ),
        (
            "ceremony-reveal",
            "a bit flipped in the last byte of guardian 1's reveal package: it no longer matches its commitment hash, guardian 1 is disqualified and the key is another (file hashes recomputed)",
            Box::new(|d: &Path| {
                let path = d.join(files::CEREMONY);
                let c = spec::parse_ceremony(&std::fs::read(&path).unwrap());
                // header 42, hashes section: count + 3 × (4 + 70), reveals: count, length
                let at = 42 + 4 + 3 * 74 + 4 + 4 + c.sections[1][0].len() - 1;
                flip(&path, at);
                common::rehash(d);
            }),
        ),
        (
            "ceremony-threshold",
            "ceremony.bin's threshold set to 4, above n = 3 (file hashes recomputed)",
            Box::new(|d: &Path| {
                let path = d.join(files::CEREMONY);
                let mut bytes = std::fs::read(&path).unwrap();
                bytes[34..38].copy_from_slice(&4u32.to_le_bytes());
                std::fs::write(&path, bytes).unwrap();
                common::rehash(d);
            }),
        ),
        (
            "credentials-order",
            "two credentials swapped in credentials.bin (file hashes recomputed)",
            Box::new(|d: &Path| {
                let path = d.join(files::CREDENTIALS);
                let mut bytes = std::fs::read(&path).unwrap();
                let (a, b) = bytes[8..72].split_at_mut(32);
                a.swap_with_slice(b);
                std::fs::write(&path, bytes).unwrap();
                common::rehash(d);
            }),
        ),
        (
            "election-hash",
            "record.json's election_hash rewritten",
            Box::new(|d: &Path| {
                edit_json(&d.join(files::INDEX), |v| {
                    v["election_hash"] = "11".repeat(64).into()
                })
            }),
        ),
        (
            "board-head",
            "record.json's board_head rewritten",
            Box::new(|d: &Path| {
                edit_json(&d.join(files::INDEX), |v| v["board_head"] = "22".repeat(64).into())
            }),
        ),
        (
            "ballot-proof",
            "a bit flipped in the last response of entry 2's first range proof; board re-chained, tally rebound, hashes recomputed",
            Box::new(|d: &Path| {
                common::rechain(d, &|ballots| {
                    // body header 2 + 32 + 32 + 4, contest count 4, ciphertext 64, length 4
                    let at = 70 + 4 + 64 + 4 + 224 - 1;
                    ballots[0][at] ^= 1;
                })
            }),
        ),
        (
            "ballot-duplicate",
            "entry 2's ballot appended again; board re-chained, tally rebound, hashes recomputed",
            Box::new(|d: &Path| {
                common::rechain(d, &|ballots| {
                    let first = ballots[0].clone();
                    ballots.push(first);
                })
            }),
        ),
        (
            "challenge-seed",
            "a bit flipped in the challenge's seed; board re-chained, tally rebound, hashes recomputed",
            Box::new(|d: &Path| {
                let mut challenge = common::board_entries(d, 3).remove(0);
                let at = challenge.len() - 64 - 32;
                challenge[at] ^= 1;
                let mut entries = vec![(3u8, challenge)];
                entries.extend(common::board_ballots(d).into_iter().map(|b| (1, b)));
                rechain(d, &entries);
            }),
        ),
        (
            "challenge-twice",
            "the challenge appears twice; board re-chained, tally rebound, hashes recomputed",
            Box::new(|d: &Path| {
                let challenge = common::board_entries(d, 3).remove(0);
                let mut entries = vec![(3u8, challenge.clone()), (3u8, challenge)];
                entries.extend(common::board_ballots(d).into_iter().map(|b| (1, b)));
                rechain(d, &entries);
            }),
        ),
        (
            "tally-sum",
            "a bit flipped in the first option's B in tally.bin (file hashes recomputed)",
            Box::new(|d: &Path| {
                flip(&d.join(files::TALLY), 174 + 8 + 32 + 1);
                common::rehash(d);
            }),
        ),
        (
            "share-proof",
            "a bit flipped in the first response of guardian 2's first Chaum–Pedersen proof (file hashes recomputed)",
            Box::new(|d: &Path| {
                // frame 4, header 2, guardian 4, digest 64, count 4, M 32, A 32, B 32, s
                flip(&d.join(files::SHARES), 4 + 2 + 4 + 64 + 4 + 32 + 64 + 1);
                common::rehash(d);
            }),
        ),
        (
            "results-count",
            "one more 'yes' in results.json (file hashes recomputed)",
            Box::new(|d: &Path| {
                edit_json(&d.join(files::RESULTS), |v| {
                    let count = v["contests"][0]["options"][0]["count"].as_u64().unwrap();
                    v["contests"][0]["options"][0]["count"] = (count + 1).into();
                });
                common::rehash(d);
            }),
        ),
        (
            "results-election-id",
            "results.json names another election (file hashes recomputed)",
            Box::new(|d: &Path| {
                edit_json(&d.join(files::RESULTS), |v| {
                    v["election_id"] = "another-election".into()
                });
                common::rehash(d);
            }),
        ),
    ]
}

/// Re-chains the record's board from `entries` (kind, content) and closes it.
fn rechain(d: &Path, entries: &[(u8, Vec<u8>)]) {
    let header = std::fs::read(d.join(files::BOARD)).unwrap()[..common::BOARD_HEADER].to_vec();
    common::rechain_entries(d, &header, entries);
}

/// The check each case is about: it must fail.
fn target(case: &str) -> &'static str {
    match case {
        "record-version" | "record-unknown-field" => "unusable",
        "file-hash" => "V2",
        "manifest-unknown-field" => "V3",
        "ceremony-threshold" => "V4",
        "credentials-order" => "V5",
        "manifest-title" | "ceremony-reveal" | "election-hash" => "V6",
        "board-head" => "V7",
        "ballot-proof" => "V8",
        "ballot-duplicate" => "V9",
        "challenge-seed" | "challenge-twice" => "V11",
        "tally-sum" => "V12",
        "share-proof" => "V13",
        "results-count" => "V14",
        "results-election-id" => "V15",
        other => panic!("no target for {other}"),
    }
}

fn copy_record(to: &Path) {
    common::copy_dir(&dir().join("record"), to);
}

/// The files of `case_dir` that differ from the pinned record's.
fn changed_files(case_dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for name in files::ALL.iter().chain([&files::INDEX]) {
        let a = std::fs::read(dir().join("record").join(name)).ok();
        let b = std::fs::read(case_dir.join(name)).ok();
        if a != b {
            out.push(name.to_string());
        }
    }
    out
}

#[test]
fn election_layer_vectors() {
    let pinned = dir();
    if writing() {
        let _ = std::fs::remove_dir_all(&pinned);
        std::fs::create_dir_all(&pinned).unwrap();
        let challenged = build_record(&pinned.join("record"));
        std::fs::write(pinned.join("challenged.bin"), &challenged).unwrap();
        write_values(
            &pinned.join("election.txt"),
            &election_values(&pinned.join("record"), &challenged),
        );
        std::fs::write(
            pinned.join("report.txt"),
            lines(&verify(&pinned.join("record")), true),
        )
        .unwrap();
        for (name, what, edit) in cases() {
            let work = scratch(&format!("case-{name}"));
            let record = work.join("record");
            copy_record(&record);
            edit(&record);
            let out = pinned.join("tampered").join(name);
            std::fs::create_dir_all(&out).unwrap();
            for file in changed_files(&record) {
                std::fs::copy(record.join(&file), out.join(&file)).unwrap();
            }
            std::fs::write(
                out.join("expected.txt"),
                format!("# {what}\n{}", statuses(&verify(&record))),
            )
            .unwrap();
        }
    }

    // The record is rebuilt byte for byte from its seed.
    let rebuilt = scratch("rebuilt").join("record");
    let challenged = build_record(&rebuilt);
    for name in files::ALL.iter().chain([&files::INDEX]) {
        assert!(
            std::fs::read(rebuilt.join(name)).unwrap()
                == std::fs::read(pinned.join("record").join(name)).unwrap(),
            "{name} differs from the pinned record"
        );
    }
    assert_eq!(
        challenged,
        std::fs::read(pinned.join("challenged.bin")).unwrap()
    );
    // Every value of election.txt, recomputed.
    let expected = read_values();
    let values = election_values(&pinned.join("record"), &challenged);
    assert_eq!(values.len(), expected.len());
    for (k, v) in values {
        assert_eq!(Some(&v), expected.get(&k).map(|x| hex(x)).as_ref(), "{k}");
    }
    // The verifier's report on the honest record: every check passes.
    let report = lines(&verify(&pinned.join("record")), true);
    assert_eq!(
        report,
        std::fs::read_to_string(pinned.join("report.txt")).unwrap()
    );
    assert!(!report.contains("fail") && !report.contains("not-run"));
    // Every tampered case: its files over a copy of the record give exactly the statuses
    // pinned, and the check it is about fails.
    let cases = cases();
    let mut seen = 0;
    for entry in std::fs::read_dir(pinned.join("tampered")).unwrap() {
        let case = entry.unwrap().path();
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            cases.iter().any(|(n, _, _)| *n == name),
            "unknown case {name}"
        );
        let work = scratch(&format!("check-{name}")).join("record");
        copy_record(&work);
        for file in std::fs::read_dir(&case).unwrap() {
            let file = file.unwrap();
            if file.file_name() != "expected.txt" {
                std::fs::copy(file.path(), work.join(file.file_name())).unwrap();
            }
        }
        let expected = std::fs::read_to_string(case.join("expected.txt")).unwrap();
        let expected: String = expected.lines().skip(1).map(|l| format!("{l}\n")).collect();
        let found = statuses(&verify(&work));
        assert_eq!(found, expected, "{name}");
        let target = target(&name);
        assert!(
            found.contains(&format!("{target} fail"))
                || (target == "unusable" && found == "unusable\n"),
            "{name}: {target} must fail\n{found}"
        );
        seen += 1;
    }
    assert_eq!(seen, cases.len());
}

/// The same record under the `refused` policy is a different election (another manifest
/// hash, so another H_E): a second record is not needed to pin the encoding of that value.
#[test]
fn the_revoting_policy_is_one_byte_of_the_canonical_manifest() {
    let mut manifest = Manifest::from_json(MANIFEST).unwrap();
    let last = manifest.to_bytes();
    manifest.revoting = RevotePolicy::Refused;
    let refused = manifest.to_bytes();
    let differ: Vec<usize> = (0..last.len())
        .filter(|i| last[*i] != refused[*i])
        .collect();
    // version 1, str(election_id) 4 + 12, nonce 32, str(title) 4 + 21: the byte after.
    assert_eq!(differ, [1 + 16 + 32 + 25]);
    assert_eq!((last[differ[0]], refused[differ[0]]), (0, 1));
}

/// The auditor's promise (docs/vectors.md): from docs/ and the pinned files alone — with
/// merlin, curve25519-dalek and SHA-512 but nothing of evote — compute the manifest hash, H_E,
/// one ballot's validity and the final results, and reach the values pinned.
#[test]
fn a_second_implementation_reaches_the_pinned_values_from_the_documents() {
    if writing() {
        eprintln!("writing the vectors: run again without EVOTE_WRITE_VECTORS to check them");
        return;
    }
    let values = read_values();
    let value = |k: &str| values.get(k).unwrap_or_else(|| panic!("{k}")).clone();
    let record = dir().join("record");
    let read = |name: &str| std::fs::read(record.join(name)).unwrap();
    let json = |name: &str| -> serde_json::Value { serde_json::from_slice(&read(name)).unwrap() };

    // The manifest hash, from manifest.json.
    let manifest = json(files::MANIFEST);
    let canonical = spec::manifest_canonical(&manifest);
    assert_eq!(canonical, value("manifest_canonical"));
    let manifest_hash = spec::manifest_hash(&canonical);
    assert_eq!(manifest_hash.to_vec(), value("manifest_hash"));

    // H_E, from the manifest hash, the ceremony (every guardian qualified in this record) and
    // the credential list.
    let ceremony_bin = read(files::CEREMONY);
    let ceremony = spec::parse_ceremony(&ceremony_bin);
    assert!(
        ceremony.sections[3].is_empty(),
        "no complaints in this record"
    );
    for (k, package) in [
        ("commitment_hash_package_1", &ceremony.sections[0][0]),
        ("reveal_package_1", &ceremony.sections[1][0]),
        ("encrypted_share_1_to_2", &ceremony.sections[2][0]),
    ] {
        assert_eq!(*package, value(k), "{k}");
    }
    let context_hash = spec::sha512(&[
        b"evote/ceremony/v1",
        &ceremony.id,
        &ceremony.t.to_le_bytes(),
        &ceremony.n.to_le_bytes(),
    ]);
    assert_eq!(context_hash.to_vec(), value("ceremony_context_hash"));
    // The commitment hash covers the whole reveal package, version and kind bytes included.
    assert_eq!(
        spec::sha512(&[
            b"evote/ceremony/reveal/v1",
            &context_hash,
            &ceremony.sections[1][0]
        ])
        .to_vec(),
        value("reveal_package_1_commitment_hash")
    );
    assert_eq!(
        value("reveal_package_1_commitment_hash"),
        value("commitment_hash_package_1")[6..]
    );
    let (key, shares) = spec::keys_of(&ceremony);
    let key = key.compress().to_bytes();
    assert_eq!(key.to_vec(), value("election_key"));
    let qualified: Vec<(u32, [u8; 32])> = shares
        .iter()
        .map(|(j, x)| (*j, x.compress().to_bytes()))
        .collect();
    for (j, x) in &qualified {
        assert_eq!(x.to_vec(), value(&format!("key_share_{j}")));
    }
    let digest = spec::transcript_digest(&ceremony_bin);
    assert_eq!(digest.to_vec(), value("transcript_digest"));
    let root = spec::credential_root(&read(files::CREDENTIALS));
    let election = spec::election_hash(
        &manifest_hash,
        &key,
        &root,
        &ceremony.id,
        ceremony.t,
        ceremony.n,
        &qualified,
        &digest,
    );
    assert_eq!(election.to_vec(), value("election_hash"));
    assert_eq!(
        json(files::INDEX)["election_hash"].as_str().unwrap(),
        hex(&election)
    );

    // The board: header, genesis, chain, numbering, the close, the recorded head.
    let board_bin = read(files::BOARD);
    let board = spec::parse_board(&board_bin);
    assert_eq!(board.election, election);
    assert_eq!(board.genesis.to_vec(), value("board_genesis"));
    for (number, _, _, head) in &board.entries {
        assert_eq!(head.to_vec(), value(&format!("board_head_{number}")));
    }
    let (last, kind, content, head) = board.entries.last().unwrap();
    assert_eq!(
        (*kind, content.len()),
        (2, 0),
        "the close: kind 2, no content"
    );
    let mut close = 9u32.to_le_bytes().to_vec();
    close.extend_from_slice(&last.to_le_bytes());
    close.push(2);
    close.extend_from_slice(head);
    assert_eq!(close, value("board_close_entry"));
    assert_eq!(
        json(files::INDEX)["board_head"].as_str().unwrap(),
        hex(head)
    );

    // One ballot's validity: the body, its hash, the tracker, the cast signature and every
    // proof, each challenge as pinned.
    let shape: Vec<(u64, u64, u64)> = manifest["contests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["option_limit"].as_u64().unwrap(),
                c["min_selections"].as_u64().unwrap(),
                c["max_selections"].as_u64().unwrap(),
            )
        })
        .collect();
    let (_, kind, cast, _) = &board.entries[1];
    assert_eq!((*kind, cast.clone()), (1, value("ballot")));
    let body = spec::parse_body(cast);
    assert_eq!(cast.len(), body.len + 64);
    let body_hash = spec::body_hash(&cast[..body.len]);
    assert_eq!(body_hash.to_vec(), value("ballot_body_hash"));
    assert_eq!(
        spec::tracker(&cast[..body.len]).to_vec(),
        value("ballot_tracker")
    );
    let credentials = read(files::CREDENTIALS);
    assert!(credentials[8..].chunks(32).any(|c| c == body.credential));
    let (c, ok) = spec::schnorr(
        spec::cast_transcript(&election, &body_hash),
        &body.credential,
        &cast[body.len..],
    );
    assert!(ok, "the cast signature");
    assert_eq!(
        c.as_bytes().to_vec(),
        value("ballot_challenge_cast_signature")
    );
    let challenges = spec::ballot_challenges(&election, &key, &body, &shape);
    assert_eq!(challenges.len(), 2 + 1 + 3 + 1);
    for (name, c, ok) in challenges {
        assert!(ok, "{name}");
        assert_eq!(
            c.as_bytes().to_vec(),
            value(&format!("ballot_challenge_{name}")),
            "{name}"
        );
    }
    // A proof made for one ballot fails for another context (here: another option index).
    let swapped = spec::disjunctive(
        spec::option_transcript(&election, &body, 0, 1),
        b"range",
        &key,
        &[&body.contests[0].0[0].ciphertext],
        0,
        1,
        &body.contests[0].0[0].proof,
    );
    assert!(!swapped.1);

    // The challenged ballot opens with its seed: r_{c,o}·G is α, and β − r·K is 0 or G.
    let (_, kind, challenged, _) = &board.entries[0];
    assert_eq!((*kind, challenged.clone()), (3, value("challenged_ballot")));
    let cbody = spec::parse_body(challenged);
    let seed = &challenged[cbody.len..cbody.len + 32];
    assert_eq!(seed.to_vec(), value("challenged_seed"));
    let (c, ok) = spec::schnorr(
        spec::challenge_transcript(&election, &spec::body_hash(&challenged[..cbody.len]), seed),
        &cbody.credential,
        &challenged[cbody.len + 32..],
    );
    assert!(
        ok && c != curve25519_dalek::scalar::Scalar::ZERO,
        "the challenge signature"
    );
    let g = curve25519_dalek::constants::RISTRETTO_BASEPOINT_POINT;
    let mut opened = Vec::new();
    for (c, (options, _)) in cbody.contests.iter().enumerate() {
        for (o, part) in options.iter().enumerate() {
            let r = spec::ballot_nonce(&election, &cbody.id, c as u32, o as u32, seed);
            assert_eq!(
                r.as_bytes().to_vec(),
                value(&format!("challenged_nonce_contest_{c}_option_{o}"))
            );
            assert_eq!(g * r, spec::point(&part.ciphertext[..32]));
            let m = spec::point(&part.ciphertext[32..]) - spec::point(&key) * r;
            opened.push(
                (0..=2u64)
                    .find(|v| g * curve25519_dalek::scalar::Scalar::from(*v) == m)
                    .unwrap(),
            );
        }
    }
    assert_eq!(opened, choice(0).concat());

    // The final results: the counted set (each credential's last cast), the tally of the
    // counted ballots, the t lowest shares combined.
    let mut last: BTreeMap<[u8; 32], &Vec<u8>> = BTreeMap::new();
    for (_, kind, content, _) in &board.entries {
        if *kind == 1 {
            last.insert(spec::parse_body(content).credential, content);
        }
    }
    let counts = spec::decrypt_counts(
        &read(files::TALLY),
        &read(files::SHARES),
        ceremony.t as usize,
    );
    let results = json(files::RESULTS);
    assert_eq!(
        results["counted_ballots"].as_u64().unwrap(),
        last.len() as u64
    );
    let recorded: Vec<u64> = results["contests"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["options"].as_array().unwrap().clone())
        .map(|o| o["count"].as_u64().unwrap())
        .collect();
    assert_eq!(counts, recorded);
    // Counted: voters 0, 2 and 3, and voter 1's revote.
    let counted: Vec<u64> = [0usize, 2, 3, 4]
        .iter()
        .map(|v| choice(*v).concat())
        .fold(vec![0; 5], |acc, row| {
            acc.iter().zip(row).map(|(a, b)| a + b).collect()
        });
    assert_eq!(counts, counted);
}
