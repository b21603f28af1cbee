//! The booth's API natively: what the browser runs, checked by the library that verifies.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use evote::election::{Ballot, ChallengedBallot};
use evote::election::{BallotBoard, BallotBoxKey, Manifest, VerifiedBallot};
use evote::simulation::Election;
use evote::text::{from_hex, to_hex};
use evote_web::{call, Booth};
use rand_chacha::ChaCha20Rng;
use rand_core::{OsRng, SeedableRng};

fn election(seed: u64, voters: usize) -> Election {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    Election::new([7; 32], 2, 3, Manifest::example(), voters, &mut rng).unwrap()
}

fn booth(e: &Election) -> Booth {
    Booth::load(&e.context.voter().to_bytes(), e.context.hash()).unwrap()
}

fn secret(e: &Election, voter: usize) -> String {
    to_hex(&*e.voters[voter].expose_secret_bytes())
}

/// A valid choice for `Manifest::example()`, varied by `k`.
fn choice(e: &Election, k: usize) -> Vec<Vec<u64>> {
    e.context
        .manifest()
        .contests
        .iter()
        .enumerate()
        .map(|(c, contest)| {
            let mut v = vec![0u64; contest.options.len()];
            let n = contest.options.len();
            for i in 0..contest.min_selections.max(1).min(contest.max_selections) as usize {
                v[(k + c + i) % n] = 1;
            }
            v
        })
        .collect()
}

#[test]
fn a_context_of_another_election_is_refused() {
    let (a, b) = (election(1, 1), election(2, 1));
    let bytes = a.context.voter().to_bytes();
    assert!(Booth::load(&bytes, b.context.hash()).is_err());
    let mut bad = bytes.clone();
    bad[40] ^= 1;
    assert!(Booth::load(&bad, a.context.hash()).is_err());
    let view = booth(&a).election();
    assert_eq!(view.election_hash, to_hex(a.context.hash()));
    assert_eq!(view.contests.len(), a.context.manifest().contests.len());
    assert_eq!(view.ballot_bytes, a.context.manifest().ballot_len());
}

#[test]
fn a_cast_ballot_verifies_natively_and_is_accepted_by_the_board() {
    let e = election(3, 2);
    let mut b = booth(&e);
    let chosen = choice(&e, 1);
    let encrypted = b.encrypt(&secret(&e, 0), &chosen, [1; 32]).unwrap();
    assert!(b.has_pending());
    let cast = b.cast([2; 32]).unwrap();
    assert!(!b.has_pending());
    assert_eq!(cast.tracker, encrypted.tracker);
    let bytes = from_hex(&cast.ballot).unwrap();
    let ballot = Ballot::from_bytes(&bytes).unwrap();
    let verified: VerifiedBallot = ballot.verify(&e.context, &mut OsRng).unwrap();
    assert_eq!(to_hex(verified.tracker()), cast.tracker);

    // The board accepts it; the booth checks the board's receipt, and refuses it for another
    // tracker or another ballot box's key.
    let dir = tempfile::tempdir().unwrap();
    let key = BallotBoxKey::generate(&mut OsRng);
    let box_key = to_hex(key.public().as_bytes());
    let mut board = BallotBoard::create(&dir.path().join("board.bin"), &e.context, key).unwrap();
    let receipt = board.append(&e.context, &bytes, &mut OsRng).unwrap();
    let checked = b
        .check_receipt(&to_hex(&receipt.to_bytes()), &box_key, &cast.tracker)
        .unwrap();
    assert_eq!((checked.entry, checked.kind), (1, "ballot"));
    assert!(b
        .check_receipt(&to_hex(&receipt.to_bytes()), &box_key, &encrypted_other(&e))
        .is_err());
    let other = to_hex(BallotBoxKey::generate(&mut OsRng).public().as_bytes());
    assert!(b
        .check_receipt(&to_hex(&receipt.to_bytes()), &other, &cast.tracker)
        .is_err());
    let mut forged = receipt.to_bytes();
    forged[3] ^= 1;
    assert!(b
        .check_receipt(&to_hex(&forged), &box_key, &cast.tracker)
        .is_err());
    // Nothing is pending after a cast: a second cast is refused.
    assert!(b.cast([3; 32]).is_err());
}

fn encrypted_other(e: &Election) -> String {
    let mut b = booth(e);
    b.encrypt(&secret(e, 1), &choice(e, 2), [9; 32])
        .unwrap()
        .tracker
}

#[test]
fn a_challenged_ballot_opens_to_the_choice_here_and_on_the_board() {
    let e = election(4, 1);
    let mut b = booth(&e);
    for k in 0..3 {
        let chosen = choice(&e, k);
        let encrypted = b.encrypt(&secret(&e, 0), &chosen, [k as u8; 32]).unwrap();
        let challenged = b.challenge([7; 32]).unwrap();
        assert_eq!(challenged.tracker, encrypted.tracker);
        assert_eq!(challenged.selections, chosen);
        // A second device opens it from its bytes alone.
        assert_eq!(
            booth(&e)
                .open_challenged(&challenged.ballot)
                .unwrap()
                .selections,
            chosen
        );
        // The ballot box's full check (proofs, signature, credential list) agrees.
        let bytes = from_hex(&challenged.ballot).unwrap();
        let verified = ChallengedBallot::from_bytes(&bytes)
            .unwrap()
            .verify(&e.context, &mut OsRng)
            .unwrap();
        assert_eq!(verified.selections(), chosen.as_slice());
        // A challenged ballot can never be cast.
        assert!(Ballot::from_bytes(&bytes).is_err());
    }
}

#[test]
fn invalid_choices_and_credentials_are_refused_before_encryption() {
    let e = election(5, 1);
    let mut b = booth(&e);
    let mut too_many = choice(&e, 0);
    let first = &e.context.manifest().contests[0];
    too_many[0] = vec![1; first.options.len()];
    let refused = b.check(&too_many).unwrap_err();
    assert!(refused.0.starts_with(&first.title), "{refused}");
    assert!(b.encrypt(&secret(&e, 0), &too_many, [0; 32]).is_err());
    assert!(!b.has_pending());
    let mut short = choice(&e, 0);
    short.pop();
    assert!(b.check(&short).is_err());
    for bad in ["", "00", &"g".repeat(64), &"+1".repeat(32)] {
        assert!(b.encrypt(bad, &choice(&e, 0), [0; 32]).is_err(), "{bad:?}");
    }
    b.check(&choice(&e, 0)).unwrap();
}

#[test]
fn the_json_interface_answers_every_request_without_panicking() {
    let e = election(6, 1);
    let mut state = None;
    let ask = |state: &mut Option<Booth>, request: &str| -> serde_json::Value {
        serde_json::from_str(&call(state, request.as_bytes())).unwrap()
    };
    for bad in [
        "",
        "{",
        "[]",
        r#"{"op":"nope"}"#,
        r#"{"op":"election"}"#,
        r#"{"op":"cast","entropy":"00"}"#,
    ] {
        assert!(ask(&mut state, bad)["error"].is_string(), "{bad}");
    }
    let hash = to_hex(e.context.hash());
    let context = to_hex(&e.context.voter().to_bytes());
    let load = format!(r#"{{"op":"load","context":"{context}","election_hash":"{hash}"}}"#);
    let loaded = ask(&mut state, &load);
    assert_eq!(loaded["ok"]["election_hash"], hash.as_str());
    // Unknown fields are refused, not ignored.
    assert!(ask(&mut state, r#"{"op":"election","x":1}"#)["error"].is_string());
    let selections = serde_json::to_string(&choice(&e, 0)).unwrap();
    let entropy = "11".repeat(32);
    let encrypt = format!(
        r#"{{"op":"encrypt","credential":"{}","selections":{selections},"entropy":"{entropy}"}}"#,
        secret(&e, 0)
    );
    let tracker = ask(&mut state, &encrypt)["ok"]["tracker"].clone();
    let cast = ask(
        &mut state,
        &format!(r#"{{"op":"cast","entropy":"{entropy}"}}"#),
    );
    assert_eq!(cast["ok"]["tracker"], tracker);
    // Too large a request is refused before it is parsed.
    let huge = vec![b' '; evote_web::MAX_REQUEST_BYTES + 1];
    assert!(call(&mut state, &huge).contains("error"));
}

/// A 1-of-10 contest, the benchmarks' common shape.
fn one_of_ten() -> Manifest {
    let mut m = Manifest::example();
    m.election_id = "one-of-ten".into();
    m.contests.truncate(1);
    let c = &mut m.contests[0];
    c.id = "choice".into();
    c.title = "One of ten".into();
    c.options = (1..=10).map(|i| format!("Option {i}")).collect();
    m
}

/// One known answer: for a fixed context, credential, choice and entropy, the tracker and
/// the cast ballot's bytes are fixed.
fn vector(manifest: Manifest, seed: u64) -> serde_json::Value {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let e = Election::new([7; 32], 2, 3, manifest, 2, &mut rng).unwrap();
    let chosen = choice(&e, 1);
    let mut b = booth(&e);
    let tracker = b
        .encrypt(&secret(&e, 0), &chosen, [0x5a; 32])
        .unwrap()
        .tracker;
    let cast = b.cast([0xa5; 32]).unwrap();
    serde_json::json!({
        "context": to_hex(&e.context.voter().to_bytes()),
        "election_hash": to_hex(e.context.hash()),
        "credential": secret(&e, 0),
        "selections": chosen,
        "encrypt_entropy": "5a".repeat(32),
        "cast_entropy": "a5".repeat(32),
        "tracker": tracker,
        "ballot": cast.ballot,
    })
}

/// The known answers the WebAssembly module must reproduce (web/tests/module.test.mjs reads
/// the same files, and the booth benchmarks time the same elections): the browser's ballot is
/// byte for byte the native one.
#[test]
fn the_pinned_booth_vectors_hold() {
    for (name, manifest, seed) in [
        ("example.json", Manifest::example(), 14),
        ("one-of-ten.json", one_of_ten(), 15),
    ] {
        let path = format!("{}/tests/vectors/{name}", env!("CARGO_MANIFEST_DIR"));
        let computed = vector(manifest, seed);
        if std::env::var_os("EVOTE_WRITE_VECTORS").is_some() {
            std::fs::write(
                &path,
                serde_json::to_string_pretty(&computed).unwrap() + "\n",
            )
            .unwrap();
        }
        let pinned: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(pinned, computed, "{name}");
    }
}
