//! Whole elections: ceremony, credentials, ballots (with revotes, blank votes and Benaloh
//! challenges), the board, the streaming tally, threshold decryption with absent guardians, the
//! results and the election record — checked against a plaintext count made independently here.

use std::path::PathBuf;

use evote::ceremony::{
    adjudicate, run_locally, CeremonyParams, CeremonyTranscript, GuardianKeyShare,
};
use evote::decryption::{combine, DEFAULT_MIN_BALLOTS};
use evote::election::board::tally;
use evote::election::record::{file_hash, files, to_hex};
use evote::election::{
    write_record, Ballot, BallotBoard, ChallengedBallot, Contest, CredentialList, ElectionContext,
    ElectionResults, Manifest, PendingBallot, Record, RecordParts, RevotePolicy,
};
use rand_chacha::ChaCha20Rng;
use rand_core::{RngCore, SeedableRng};

fn dir(name: &str) -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("end-to-end")
        .join(name);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn ceremony(t: u32, n: u32, rng: &mut ChaCha20Rng) -> (CeremonyTranscript, Vec<GuardianKeyShare>) {
    let mut id = [0u8; 32];
    rng.fill_bytes(&mut id);
    run_locally(&CeremonyParams::new(id, t, n).unwrap(), rng).unwrap()
}

/// Random selections the manifest allows; every few, a blank vote where the contest allows one.
fn selections(manifest: &Manifest, rng: &mut ChaCha20Rng) -> Vec<Vec<u64>> {
    manifest
        .contests
        .iter()
        .map(|c: &Contest| {
            let n = c.options.len();
            if c.min_selections == 0 && rng.next_u32().is_multiple_of(4) {
                return vec![0; n];
            }
            let mut v: Vec<u64> = (0..n)
                .map(|_| u64::from(rng.next_u32()) % (c.option_limit + 1))
                .collect();
            while v.iter().sum::<u64>() > c.max_selections {
                let i = rng.next_u32() as usize % n;
                v[i] = v[i].saturating_sub(1);
            }
            while v.iter().sum::<u64>() < c.min_selections {
                let i = rng.next_u32() as usize % n;
                if v[i] < c.option_limit {
                    v[i] += 1;
                }
            }
            v
        })
        .collect()
}

fn manifests() -> Vec<Manifest> {
    let example = Manifest::example();
    let mut referendum = example.clone();
    referendum.election_id = "referendum-only".into();
    referendum.revoting = RevotePolicy::Refused;
    referendum.contests.truncate(1);
    let mut cumulative = example.clone();
    cumulative.election_id = "cumulative".into();
    cumulative.contests = vec![Contest {
        id: "council".into(),
        title: "Council, 5 votes, at most 5 to one".into(),
        options: (1..=5).map(|i| format!("Candidate {i}")).collect(),
        min_selections: 0,
        max_selections: 5,
        option_limit: 5,
    }];
    vec![example, referendum, cumulative]
}

fn run(manifest: Manifest, t: u32, n: u32, seed: u64) {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let (transcript, mut keys) = ceremony(t, n, &mut rng);
    let outcome = adjudicate(&transcript, &mut rng).unwrap();
    let voters = 8;
    let (credentials, list) = CredentialList::generate(voters, &mut rng);
    let context = ElectionContext::new(manifest.clone(), outcome, list).unwrap();
    let d = dir(&format!("{}-{t}-of-{n}", manifest.election_id));
    let board_path = d.join("server-board.bin");
    let mut board = BallotBoard::create(&board_path, &context, box_key()).unwrap();

    let mut last_choice: Vec<Option<Vec<Vec<u64>>>> = vec![None; voters];
    let mut challenged = Vec::new();
    for round in 0..2 {
        for (v, credential) in credentials.iter().enumerate() {
            // Some voters skip the second round (no revote); under `refused`, nobody revotes.
            if round == 1 && (v % 3 == 0 || manifest.revoting == RevotePolicy::Refused) {
                continue;
            }
            let choice = selections(&manifest, &mut rng);
            // Voter 1 challenges its device once before casting.
            if v == 1 && round == 0 {
                let probe =
                    PendingBallot::encrypt(&context, credential.public(), &choice, &mut rng)
                        .unwrap();
                let shown = probe.tracker();
                let challenge = probe.challenge(credential, &mut rng).unwrap();
                let (receipt, opened) = board
                    .challenge(&context, &challenge.to_bytes(), &mut rng)
                    .unwrap();
                assert_eq!(opened.selections(), choice.as_slice());
                assert_eq!(receipt.tracker, shown);
                challenged.push(shown);
            }
            let ballot = Ballot::encrypt_and_cast(&context, credential, &choice, &mut rng).unwrap();
            let receipt = board
                .append(&context, &ballot.to_bytes(), &mut rng)
                .unwrap();
            assert_eq!(receipt.tracker, ballot.tracker());
            last_choice[v] = Some(choice);
        }
    }
    let published = board.close(&mut rng).unwrap();
    drop(board);

    // The tally, decrypted by exactly t guardians (the others are absent).
    let encrypted = tally(&board_path, &context, &mut rng).unwrap();
    assert_eq!(encrypted.ballots(), voters as u64);
    let present: Vec<&mut GuardianKeyShare> = keys.iter_mut().rev().take(t as usize).collect();
    let shares: Vec<_> = present
        .into_iter()
        .map(|k| {
            k.decrypt_tally(
                context.outcome(),
                &encrypted,
                &published,
                DEFAULT_MIN_BALLOTS,
                &mut rng,
            )
            .unwrap()
        })
        .collect();
    let result = combine(context.outcome(), &encrypted, &shares, &mut rng).unwrap();

    // The independent plaintext count.
    let mut expected = vec![0u64; manifest.option_count()];
    for choice in last_choice.iter().flatten() {
        for (slot, v) in expected.iter_mut().zip(choice.iter().flatten()) {
            *slot += v;
        }
    }
    assert_eq!(
        result.counts, expected,
        "{} {t}-of-{n}",
        manifest.election_id
    );
    let results =
        ElectionResults::from_counts(&manifest, encrypted.ballots(), &result.counts).unwrap();
    assert!(results.within_bounds(&manifest));

    // The record: written, reopened, every part parses and hashes as indexed.
    let record_dir = d.join("record");
    let mut parts = RecordParts {
        context: &context,
        ceremony: &transcript,
        board: &board_path,
        tally: &encrypted,
        shares: &shares,
        results: &results,
    };
    let index = write_record(&record_dir, &parts).unwrap();
    // A record is never written over another, and a write that fails halfway (here: the board
    // file is missing) leaves neither the record folder nor its temporary folder behind.
    let before = std::fs::read(record_dir.join(files::INDEX)).unwrap();
    assert!(write_record(&record_dir, &parts).is_err());
    assert_eq!(
        std::fs::read(record_dir.join(files::INDEX)).unwrap(),
        before
    );
    let missing = d.join("no-such-board.bin");
    parts.board = &missing;
    assert!(write_record(&d.join("half"), &parts).is_err());
    let left: Vec<String> = std::fs::read_dir(&d)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("half"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
    let record = Record::open(&record_dir).unwrap();
    assert_eq!(record.index(), &index);
    for name in files::ALL {
        assert_eq!(
            index.files[name],
            to_hex(&file_hash(&record.path(name)).unwrap()),
            "{name}"
        );
    }
    assert_eq!(record.manifest().unwrap(), manifest);
    assert_eq!(record.ceremony().unwrap(), transcript);
    assert_eq!(&record.credentials().unwrap(), context.credentials());
    assert_eq!(record.tally_bytes().unwrap(), encrypted.to_bytes());
    assert_eq!(record.shares().unwrap(), shares);
    assert_eq!(record.results().unwrap(), results);
    // The record's challenged ballots are the board's challenge entries.
    let mut reader = record.board().unwrap();
    let mut entries = 0;
    let mut seen = Vec::new();
    while let Some(entry) = reader.next_checked().unwrap() {
        entries += 1;
        if let evote::election::board::Entry::Challenge { bytes, .. } = entry {
            let opened = ChallengedBallot::from_bytes(&bytes)
                .unwrap()
                .verify(&context, &mut rng)
                .unwrap();
            seen.push(*opened.tracker());
        }
    }
    assert_eq!(seen, challenged);
    assert_eq!(to_hex(reader.head()), index.board_head);
    assert!(entries > voters);
}

#[test]
fn elections_end_to_end_for_every_manifest_and_threshold() {
    for (i, manifest) in manifests().into_iter().enumerate() {
        for (t, n) in [(1, 1), (2, 3), (3, 5)] {
            run(manifest.clone(), t, n, 100 + i as u64 * 10 + u64::from(t));
        }
    }
}

/// The ballot box key of the tests' boards (fixed, so a board can be reopened).
fn box_key() -> evote::election::BallotBoxKey {
    evote::election::BallotBoxKey::from_secret_bytes(&[7; 32]).unwrap()
}
