//! Cast as intended: the Benaloh challenge and the voter's check, attacked.
//!
//! The review's attack: a corrupt ballot-box operator, after the voter casts "yes", appends the
//! voter's *challenged* "no" (signed, valid, its content known from the revealed seed) and leaves
//! it out of the record's list of challenges; an observer of a published challenge submits it to
//! an honest ballot box; under refused revoting, a replayed challenge locks the voter out. Each
//! is run here and fails: a challenged ballot carries no cast signature, challenges are entries of
//! the board's chain, and board, tally and verifier refuse any cast ballot that shares a tracker,
//! a ballot id or a ciphertext with a challenge. The voter's check (`check_ballot`, `evote check`)
//! says counted, superseded, challenged or absent after verifying the chain, the ballot and the
//! receipt.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use evote::ceremony::{adjudicate, run_locally, CeremonyParams};
use evote::election::board::tally;
use evote::election::record::files;
use evote::election::record::to_hex;
use evote::election::{
    check_ballot, Ballot, BallotBoard, BallotError, BallotStatus, BoardError, ChallengedBallot,
    CredentialList, ElectionContext, EntryKind, LookupError, Manifest, PendingBallot, Query,
    Receipt, RevotePolicy, VoterCredential,
};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

struct Election {
    context: ElectionContext,
    voters: Vec<VoterCredential>,
    rng: ChaCha20Rng,
    dir: PathBuf,
}

fn election(name: &str, policy: RevotePolicy, seed: u64) -> Election {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let params = CeremonyParams::new([seed as u8; 32], 1, 1).unwrap();
    let (transcript, _) = run_locally(&params, &mut rng).unwrap();
    let outcome = adjudicate(&transcript, &mut rng).unwrap();
    let (voters, list) = CredentialList::generate(3, &mut rng);
    let mut manifest = Manifest::example();
    manifest.contests.truncate(1); // the referendum: yes / no
    manifest.revoting = policy;
    let context = ElectionContext::new(manifest, outcome, list).unwrap();
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("cast-as-intended")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    Election {
        context,
        voters,
        rng,
        dir,
    }
}

const YES: [u64; 2] = [1, 0];
const NO: [u64; 2] = [0, 1];

impl Election {
    fn board(&self, name: &str) -> (BallotBoard, PathBuf) {
        let path = self.dir.join(name);
        let _ = std::fs::remove_file(&path);
        (
            BallotBoard::create(&path, &self.context, common::box_key()).unwrap(),
            path,
        )
    }

    /// Voter `v`'s device encrypts `choice`, and the voter challenges it.
    fn challenge(&mut self, v: usize, choice: [u64; 2]) -> ChallengedBallot {
        let voter = &self.voters[v];
        PendingBallot::encrypt(
            &self.context,
            voter.public(),
            &[choice.to_vec()],
            &mut self.rng,
        )
        .unwrap()
        .challenge(voter, &mut self.rng)
        .unwrap()
    }

    fn cast(&mut self, v: usize, choice: [u64; 2]) -> Ballot {
        Ballot::encrypt_and_cast(
            &self.context,
            &self.voters[v],
            &[choice.to_vec()],
            &mut self.rng,
        )
        .unwrap()
    }

    fn check(
        &mut self,
        board: &Path,
        query: Query,
    ) -> Result<evote::election::BallotCheck, LookupError> {
        check_ballot(&self.context, board, &query, &mut self.rng)
    }
}

/// The forms in which someone who holds a challenged ballot (its body, seed and challenge
/// signature, all published) can try to submit it as a cast ballot.
fn as_cast(challenged: &ChallengedBallot) -> Vec<Vec<u8>> {
    let bytes = challenged.to_bytes();
    let body = &bytes[..bytes.len() - 96];
    let challenge_signature = &bytes[bytes.len() - 64..];
    let mut with_challenge_signature = body.to_vec();
    with_challenge_signature.extend_from_slice(challenge_signature);
    // The seed's 32 bytes and half the signature: the only other 64 bytes at hand.
    let mut with_seed = body.to_vec();
    with_seed.extend_from_slice(&bytes[bytes.len() - 96..bytes.len() - 32]);
    vec![bytes, with_challenge_signature, with_seed]
}

/// The review's main attack: the voter challenges "no", then casts "yes"; the operator wants
/// the "no" counted instead. It cannot sign a cast (no credential); what it can submit is
/// refused on the board where the challenge is recorded, and on a board of its own where the
/// challenge was left out; leaving it out is what the voter's check reports.
#[test]
fn a_ballot_box_cannot_cast_a_voters_challenged_ballot() {
    let mut e = election("operator", RevotePolicy::LastCounts, 1);
    let (mut board, path) = e.board("honest.bin");
    let challenged = e.challenge(0, NO);
    let (receipt, opened) = board
        .challenge(&e.context, &challenged.to_bytes(), &mut e.rng)
        .unwrap();
    assert_eq!(opened.selections(), &[NO.to_vec()]);
    assert_eq!(receipt.kind, EntryKind::Challenge);
    let yes = e.cast(0, YES);
    board
        .append(&e.context, &yes.to_bytes(), &mut e.rng)
        .unwrap();
    for forged in as_cast(&challenged) {
        let refused = board.append(&e.context, &forged, &mut e.rng);
        assert!(
            matches!(
                refused,
                Err(BoardError::Challenged { entry: 1 } | BoardError::Ballot(_))
            ),
            "{refused:?}"
        );
    }
    assert_eq!(board.entries(), 2);

    // The operator's own board, the challenge left out: still no way in.
    let (mut own, own_path) = e.board("operator.bin");
    for forged in as_cast(&challenged) {
        assert!(matches!(
            own.append(&e.context, &forged, &mut e.rng),
            Err(BoardError::Ballot(
                BallotError::InvalidSignature | BallotError::Shape { .. } | BallotError::Decode(_)
            ))
        ));
    }
    own.append(&e.context, &yes.to_bytes(), &mut e.rng).unwrap();
    // The voter's check of the challenge receipt on that board: absent, and the receipt,
    // signed by the ballot box, proves that the board dropped a challenge it accepted.
    let answer = e
        .check(&own_path, Query::Receipt(Box::new(receipt.clone())))
        .unwrap();
    assert_eq!(answer.status, BallotStatus::Absent);
    assert!(answer.contradiction.is_some());
    // On the honest board the same receipt finds the challenge, opened.
    let answer = e.check(&path, Query::Receipt(Box::new(receipt))).unwrap();
    assert_eq!(
        answer.status,
        BallotStatus::Challenged {
            entry: 1,
            selections: vec![NO.to_vec()]
        }
    );
}

/// An observer replays a published challenge to an honest ballot box, before and after the
/// voter casts: refused each time, so the honest record stays valid (the review found one
/// observer could make a whole election fail V11).
#[test]
fn a_published_challenge_submitted_by_anyone_is_refused() {
    let mut e = election("observer", RevotePolicy::LastCounts, 2);
    let (mut board, path) = e.board("board.bin");
    let challenged = e.challenge(1, YES);
    board
        .challenge(&e.context, &challenged.to_bytes(), &mut e.rng)
        .unwrap();
    let try_all = |board: &mut BallotBoard, e: &mut Election| {
        for forged in as_cast(&challenged) {
            assert!(board.append(&e.context, &forged, &mut e.rng).is_err());
        }
        // The challenge itself, again.
        assert!(matches!(
            board.challenge(&e.context, &challenged.to_bytes(), &mut e.rng),
            Err(BoardError::Challenged { entry: 1 })
        ));
    };
    try_all(&mut board, &mut e);
    let ballot = e.cast(1, YES);
    board
        .append(&e.context, &ballot.to_bytes(), &mut e.rng)
        .unwrap();
    try_all(&mut board, &mut e);
    assert_eq!(board.entries(), 2);
    board.close(&mut e.rng).unwrap();
    drop(board);
    let encrypted = tally(&path, &e.context, &mut e.rng).unwrap();
    assert_eq!(encrypted.ballots(), 1);
}

/// Under refused revoting, a challenge replayed before the voter casts does not count as the
/// voter's one ballot: the voter casts afterwards and is counted.
#[test]
fn a_replayed_challenge_cannot_lock_a_voter_out_under_refused_revoting() {
    let mut e = election("lockout", RevotePolicy::Refused, 3);
    let (mut board, _) = e.board("board.bin");
    let challenged = e.challenge(2, NO);
    board
        .challenge(&e.context, &challenged.to_bytes(), &mut e.rng)
        .unwrap();
    for forged in as_cast(&challenged) {
        assert!(board.append(&e.context, &forged, &mut e.rng).is_err());
    }
    let ballot = e.cast(2, YES);
    let receipt = board
        .append(&e.context, &ballot.to_bytes(), &mut e.rng)
        .unwrap();
    assert!(board.is_counted(e.voters[2].public(), receipt.entry));
    // The voter's second cast is what the policy refuses.
    let again = e.cast(2, NO);
    assert!(matches!(
        board.append(&e.context, &again.to_bytes(), &mut e.rng),
        Err(BoardError::RevoteRefused { entry: 2 })
    ));
}

/// A cheating device holds the credential and can sign anything. It casts the body it showed
/// for the challenge (the seed would then open the counted vote), or another ballot built on the
/// challenged ciphertexts, or it challenges a body it already cast: each is refused, so a
/// published seed never opens a counted ballot.
#[test]
fn a_device_cannot_cast_what_was_challenged_or_challenge_what_was_cast() {
    let mut e = election("device", RevotePolicy::LastCounts, 4);
    let (mut board, _) = e.board("board.bin");
    let voter = e.voters[0].clone();
    let challenged = e.challenge(0, NO);
    board
        .challenge(&e.context, &challenged.to_bytes(), &mut e.rng)
        .unwrap();
    let bytes = challenged.to_bytes();
    let body = &bytes[..bytes.len() - 96];
    let signed = common::sign_cast(body, &voter, &e.context);
    assert!(Ballot::from_bytes(&signed)
        .unwrap()
        .verify(&e.context, &mut e.rng)
        .is_ok());
    assert!(matches!(
        board.append(&e.context, &signed, &mut e.rng),
        Err(BoardError::Challenged { entry: 1 })
    ));
    // The challenged ciphertexts under a fresh ballot id (so another tracker and id): refused
    // for the shared ciphertexts, before any proof is checked.
    let mut moved = body.to_vec();
    moved[2] ^= 1;
    let moved = common::sign_cast(&moved, &voter, &e.context);
    assert!(matches!(
        board.append(&e.context, &moved, &mut e.rng),
        Err(BoardError::Challenged { entry: 1 })
    ));

    // Cast first, then a challenge of the same body (the device reveals a counted vote's seed):
    // the board refuses to record it.
    // The device keeps both by encrypting twice from one RNG state.
    let mut twin = e.rng.clone();
    let cast = PendingBallot::encrypt(&e.context, voter.public(), &[YES.to_vec()], &mut e.rng)
        .unwrap()
        .cast(&voter, &mut e.rng)
        .unwrap();
    let revealed = PendingBallot::encrypt(&e.context, voter.public(), &[YES.to_vec()], &mut twin)
        .unwrap()
        .challenge(&voter, &mut twin)
        .unwrap();
    assert_eq!(cast.tracker(), revealed.tracker());
    let receipt = board
        .append(&e.context, &cast.to_bytes(), &mut e.rng)
        .unwrap();
    assert!(matches!(
        board.challenge(&e.context, &revealed.to_bytes(), &mut e.rng),
        Err(BoardError::Challenged { entry }) if entry == receipt.entry
    ));
}

/// The voter's check on a board with every status: counted, superseded (with the entry that
/// replaced it), challenged (with what the device encrypted) and absent; receipts verified.
#[test]
fn the_voters_check_says_counted_superseded_challenged_or_absent() {
    let mut e = election("check", RevotePolicy::LastCounts, 5);
    let (mut board, path) = e.board("board.bin");
    let challenged = e.challenge(0, NO);
    let (challenge_receipt, _) = board
        .challenge(&e.context, &challenged.to_bytes(), &mut e.rng)
        .unwrap();
    let first = e.cast(0, YES);
    let first_receipt = board
        .append(&e.context, &first.to_bytes(), &mut e.rng)
        .unwrap();
    let other = e.cast(1, NO);
    let other_receipt = board
        .append(&e.context, &other.to_bytes(), &mut e.rng)
        .unwrap();
    let second = e.cast(0, NO);
    let second_receipt = board
        .append(&e.context, &second.to_bytes(), &mut e.rng)
        .unwrap();
    let never = e.cast(2, YES);
    board.close(&mut e.rng).unwrap();
    drop(board);

    let hex = |t: [u8; 64]| to_hex(&t);
    let status = |e: &mut Election, q: Query| e.check(&path, q).unwrap().status;
    assert_eq!(
        status(&mut e, Query::Tracker(hex(first.tracker()))),
        BallotStatus::Superseded { entry: 2, by: 4 }
    );
    assert_eq!(
        status(&mut e, Query::Tracker(hex(second.tracker()))),
        BallotStatus::Counted { entry: 4 }
    );
    assert_eq!(
        status(
            &mut e,
            Query::Tracker(hex(other.tracker())[..32].to_uppercase())
        ),
        BallotStatus::Counted { entry: 3 }
    );
    assert_eq!(
        status(&mut e, Query::Tracker(hex(challenged.tracker()))),
        BallotStatus::Challenged {
            entry: 1,
            selections: vec![NO.to_vec()]
        }
    );
    assert_eq!(
        status(&mut e, Query::Tracker(hex(never.tracker()))),
        BallotStatus::Absent
    );
    for (receipt, expected) in [
        (&challenge_receipt, 1),
        (&first_receipt, 2),
        (&other_receipt, 3),
        (&second_receipt, 4),
    ] {
        let answer = e
            .check(&path, Query::Receipt(Box::new(receipt.clone())))
            .unwrap();
        assert!(answer.closed);
        assert_eq!(answer.entries, 5);
        assert_eq!(receipt.entry, expected);
        assert_ne!(answer.status, BallotStatus::Absent);
        assert_eq!(answer.contradiction, None);
    }

    // Prefixes shorter than 128 bits are refused (a colluding voter grinds an 8-digit prefix in
    // seconds); non-hex is refused; a receipt with any byte changed does not verify.
    for short in [&hex(second.tracker())[..8], &hex(second.tracker())[..31]] {
        assert!(matches!(
            e.check(&path, Query::Tracker(short.to_string())),
            Err(LookupError::PrefixLength { .. })
        ));
    }
    assert!(matches!(
        e.check(&path, Query::Tracker("z".repeat(40))),
        Err(LookupError::NotHex)
    ));
    let bytes = second_receipt.to_bytes();
    for at in [5, 11, 40, 100, 150, 202] {
        let mut b = bytes.clone();
        b[at] ^= 1;
        if let Ok(changed) = Receipt::from_bytes(&b) {
            assert!(matches!(
                e.check(&path, Query::Receipt(Box::new(changed))),
                Err(LookupError::InvalidReceipt)
            ));
        }
    }
}

/// The voter's check on a hostile board: a broken chain is an error, never an answer; a
/// tracker found twice is an ambiguity, never the last match; a receipt whose entry was
/// replaced is evidence.
#[test]
fn the_voters_check_refuses_to_answer_from_a_broken_or_ambiguous_board() {
    let (record, context, _) = common::build("voter-check", RevotePolicy::LastCounts);
    let mut rng = ChaCha20Rng::seed_from_u64(6);
    let board = record.join(files::BOARD);
    let ballots = common::board_ballots(&record);
    let tracker = |bytes: &[u8]| to_hex(&Ballot::from_bytes(bytes).unwrap().tracker());
    let first = tracker(&ballots[0]);
    assert!(check_ballot(&context, &board, &Query::Tracker(first.clone()), &mut rng).is_ok());

    let dir = record.parent().unwrap().join("voter-check-broken");
    common::copy_dir(&record, &dir);
    let mut b = std::fs::read(dir.join(files::BOARD)).unwrap();
    let at = b.len() - 200;
    b[at] ^= 1;
    std::fs::write(dir.join(files::BOARD), b).unwrap();
    assert!(matches!(
        check_ballot(
            &context,
            &dir.join(files::BOARD),
            &Query::Tracker(first.clone()),
            &mut rng
        ),
        Err(LookupError::Board(BoardError::Corrupt { .. }))
    ));

    let dir = record.parent().unwrap().join("voter-check-twice");
    common::copy_dir(&record, &dir);
    common::rechain(&dir, &|b| {
        let copy = b[0].clone();
        b.push(copy);
    });
    assert!(matches!(
        check_ballot(&context, &dir.join(files::BOARD), &Query::Tracker(first), &mut rng),
        Err(LookupError::Ambiguous { entries }) if entries.len() == 2
    ));
}

/// Through the record and the command line: a cheating device's cast of its challenged body,
/// written into the record by the operator, fails `evote verify` (V11), and `evote check` on the
/// challenged tracker says challenged; on a dropped ballot it says absent.
#[test]
fn evote_verify_fails_a_record_whose_challenged_ballot_was_cast() {
    let (good, context, voters) = common::build("cli-challenged", RevotePolicy::LastCounts);
    let challenges = common::board_entries(&good, 3);
    let challenge = &challenges[0];
    let body = &challenge[..challenge.len() - 96];
    let signed = common::sign_cast(body, &voters[3], &context);
    let dir = good.parent().unwrap().join("cli-challenged-cast");
    common::copy_dir(&good, &dir);
    common::rechain(&dir, &|b| b.insert(0, signed.clone()));
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_evote"))
            .args(args)
            .output()
            .unwrap()
    };
    let o = run(&["verify", dir.to_str().unwrap()]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(out.contains("V11 FAIL"), "{out}");
    assert!(out.contains("VERIFICATION FAILED"));

    let tracker = to_hex(&ChallengedBallot::from_bytes(challenge).unwrap().tracker());
    let o = run(&["check", good.to_str().unwrap(), "--tracker", &tracker]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(4), "{out}");
    assert!(out.contains("CHALLENGED (entry 1)"), "{out}");
    // The old inspect spelling runs the same check.
    let o = run(&["inspect", good.to_str().unwrap(), "--tracker", &tracker]);
    assert_eq!(o.status.code(), Some(4));
    let dropped = to_hex(
        &Ballot::from_bytes(&common::board_ballots(&good)[0])
            .unwrap()
            .tracker(),
    );
    let gone = good.parent().unwrap().join("cli-dropped");
    common::copy_dir(&good, &gone);
    common::rechain(&gone, &|b| {
        b.remove(0);
    });
    let o = run(&["check", gone.to_str().unwrap(), "--tracker", &dropped]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stdout).contains("ABSENT"));
    let o = run(&["check", good.to_str().unwrap(), "--tracker", &dropped]);
    assert_eq!(
        o.status.code(),
        Some(3),
        "voter 0 revoted: its first ballot is superseded"
    );
    let o = run(&["check", good.to_str().unwrap(), "--tracker", &dropped[..8]]);
    assert_eq!(o.status.code(), Some(2));
}
