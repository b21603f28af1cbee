//! The ballot board: acceptance rules, persistence, crash recovery, append-only audits, and the
//! tally of a finished board.

use std::path::PathBuf;

use evote::ceremony::{adjudicate, run_locally, CeremonyParams, GuardianKeyShare};
use evote::decryption::{combine, CandidateShare, DecryptionError};
use evote::election::board::{tally, Entry};
use evote::election::{
    verify_extension, Ballot, BallotBoard, BallotError, BoardError, CredentialList,
    ElectionContext, Manifest, RevotePolicy, VoterCredential,
};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

mod common;
use common::pg;

fn temp(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("board-tests");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    let _ = std::fs::remove_file(&path);
    path
}

/// Where a rule test keeps its board: each rule test runs once on every store (the board file
/// and PostgreSQL), with the same ballots and the same expectations.
enum Place {
    File(PathBuf),
    Postgres {
        url: String,
        export: PathBuf,
        _server: pg::Cluster,
    },
}

/// The stores a rule test runs on (PostgreSQL: a server of the test's own).
fn places(name: &str) -> Vec<Place> {
    let mut places = vec![Place::File(temp(&format!("{name}.board")))];
    if let Some(server) = pg::Cluster::primary(name) {
        places.push(Place::Postgres {
            url: server.database("board"),
            export: temp(&format!("{name}.exported.board")),
            _server: server,
        });
    }
    places
}

impl Place {
    fn create(&self, context: &ElectionContext) -> BallotBoard {
        match self {
            Self::File(path) => BallotBoard::create(path, context, box_key()).unwrap(),
            Self::Postgres { url, .. } => {
                BallotBoard::create_postgres(url, context, box_key()).unwrap()
            }
        }
    }

    fn open(&self, context: &ElectionContext) -> Result<BallotBoard, BoardError> {
        match self {
            Self::File(path) => open_writer(path, context),
            Self::Postgres { url, .. } => BallotBoard::open_postgres(url, context, box_key()),
        }
    }

    /// The board as a file: the board file itself, or the database's export of it.
    fn file(&self) -> PathBuf {
        match self {
            Self::File(path) => path.clone(),
            Self::Postgres { url, export, .. } => {
                let _ = std::fs::remove_file(export);
                evote::election::board_postgres::export_postgres(url, export).unwrap();
                export.clone()
            }
        }
    }
}

struct Setup {
    context: ElectionContext,
    voters: Vec<VoterCredential>,
    keys: Vec<GuardianKeyShare>,
    rng: ChaCha20Rng,
}

fn setup(seed: u64, policy: RevotePolicy) -> Setup {
    setup_with(seed, policy, Manifest::example())
}

/// A one-contest referendum: small ballots, for tests that replay a file many times.
fn referendum() -> Manifest {
    let mut m = Manifest::example();
    m.contests.truncate(1);
    m
}

fn setup_with(seed: u64, policy: RevotePolicy, mut manifest: Manifest) -> Setup {
    let params = CeremonyParams::new([seed as u8; 32], 2, 3).unwrap();
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let (transcript, keys) = run_locally(&params, &mut rng).unwrap();
    let outcome = adjudicate(&transcript, &mut rng).unwrap();
    let (voters, list) = CredentialList::generate(6, &mut rng);
    manifest.revoting = policy;
    let context = ElectionContext::new(manifest, outcome, list).unwrap();
    Setup {
        context,
        voters,
        keys,
        rng,
    }
}

fn vote(s: &mut Setup, voter: usize, referendum_yes: bool) -> Vec<u8> {
    let mut selections = vec![
        if referendum_yes {
            vec![1, 0]
        } else {
            vec![0, 1]
        },
        vec![0, 0, 1, 0, 0],
        vec![1, 0, 0, 0, 0, 0, 0, 1],
        vec![2, 1, 0, 2],
    ];
    selections.truncate(s.context.manifest().contests.len());
    Ballot::encrypt_and_cast(&s.context, &s.voters[voter], &selections, &mut s.rng)
        .unwrap()
        .to_bytes()
}

#[test]
fn the_board_accepts_valid_ballots_and_refuses_each_kind_of_bad_one() {
    for place in places("rules") {
        let mut s = setup(1, RevotePolicy::LastCounts);
        let mut board = place.create(&s.context);
        let a = vote(&mut s, 0, true);
        let receipt = board.append(&s.context, &a, &mut s.rng).unwrap();
        assert_eq!(receipt.entry, 1);
        assert_eq!(board.head(), &receipt.head);

        assert!(matches!(
            board.append(&s.context, &a, &mut s.rng),
            Err(BoardError::Duplicate { entry: 1 })
        ));
        // The same content under another credential: refused as a replayed ciphertext, with its
        // ballot id or a fresh one, before any proof is checked (its proofs would fail). (Ballot
        // ids are unique per credential, so the copied id alone is no reason.)
        let mut copy = a.clone();
        copy[34..66].copy_from_slice(s.voters[1].public().as_bytes());
        assert!(matches!(
            board.append(&s.context, &copy, &mut s.rng),
            Err(BoardError::ReplayedCiphertext { entry: 1 })
        ));
        copy[2] ^= 0xff;
        let replayed = board.append(&s.context, &copy, &mut s.rng);
        assert!(
            matches!(replayed, Err(BoardError::ReplayedCiphertext { entry: 1 })),
            "{replayed:?}"
        );
        // A fresh ballot with a flipped proof byte.
        let mut bad = vote(&mut s, 2, false);
        let at = bad.len() - 100;
        bad[at] ^= 1;
        assert!(matches!(
            board.append(&s.context, &bad, &mut s.rng),
            Err(BoardError::Ballot(_))
        ));
        // An unknown credential.
        let stranger = VoterCredential::generate(&mut s.rng);
        let selections = vec![vec![1, 0], vec![0; 5], vec![0; 8], vec![0; 4]];
        let foreign = Ballot::encrypt_and_cast(&s.context, &stranger, &selections, &mut s.rng)
            .unwrap()
            .to_bytes();
        assert!(matches!(
            board.append(&s.context, &foreign, &mut s.rng),
            Err(BoardError::Ballot(BallotError::UnknownCredential))
        ));
        // Garbage: refused by its length before it is decoded; of the right length, by decoding.
        assert!(matches!(
            board.append(&s.context, &[1, 2, 3], &mut s.rng),
            Err(BoardError::Ballot(BallotError::Shape { .. }))
        ));
        let garbage = vec![1u8; s.context.manifest().ballot_len() as usize];
        assert!(matches!(
            board.append(&s.context, &garbage, &mut s.rng),
            Err(BoardError::Ballot(BallotError::Decode(_)))
        ));
        // Revoting is allowed by this manifest.
        let a2 = vote(&mut s, 0, false);
        assert_eq!(board.append(&s.context, &a2, &mut s.rng).unwrap().entry, 2);
        // Closed: refused, and still closed after reopening.
        board.close(&mut s.rng).unwrap();
        let late = vote(&mut s, 3, true);
        assert!(matches!(
            board.append(&s.context, &late, &mut s.rng),
            Err(BoardError::Closed)
        ));
        drop(board);
        let mut board = place.open(&s.context).unwrap();
        assert!(board.is_closed());
        assert!(matches!(
            board.append(&s.context, &late, &mut s.rng),
            Err(BoardError::Closed)
        ));
    }
}

#[test]
fn revoting_refused_when_the_manifest_says_so() {
    for place in places("norevote") {
        let mut s = setup(2, RevotePolicy::Refused);
        let mut board = place.create(&s.context);
        let first = vote(&mut s, 4, true);
        board.append(&s.context, &first, &mut s.rng).unwrap();
        let second = vote(&mut s, 4, false);
        assert!(matches!(
            board.append(&s.context, &second, &mut s.rng),
            Err(BoardError::RevoteRefused { entry: 1 })
        ));
    }
}

#[test]
fn acknowledged_ballots_survive_a_crash_at_any_byte_of_the_next_append() {
    let mut s = setup_with(3, RevotePolicy::LastCounts, referendum());
    let path = temp("crash.board");
    let mut board = BallotBoard::create(&path, &s.context, box_key()).unwrap();
    let mut receipts = Vec::new();
    for voter in 0..3 {
        let b = vote(&mut s, voter, voter % 2 == 0);
        receipts.push(board.append(&s.context, &b, &mut s.rng).unwrap());
    }
    let acknowledged = std::fs::metadata(&path).unwrap().len();
    let last = vote(&mut s, 3, true);
    board.append(&s.context, &last, &mut s.rng).unwrap();
    drop(board);
    let full = std::fs::read(&path).unwrap();
    // Cut the file at every byte offset of the last entry: a crash mid-write.
    for cut in acknowledged..full.len() as u64 {
        let p = temp("crash-cut.board");
        std::fs::write(&p, &full[..cut as usize]).unwrap();
        let mut reopened = open_writer(&p, &s.context).unwrap();
        assert_eq!(reopened.entries(), 3, "cut at {cut}");
        assert_eq!(reopened.head(), &receipts[2].head);
        assert_eq!(std::fs::metadata(&p).unwrap().len(), acknowledged);
        // And the board goes on from there (checked at some cuts: an append verifies a ballot).
        if cut % 97 == 0 {
            let again = reopened.append(&s.context, &last, &mut s.rng).unwrap();
            assert_eq!(again.entry, 4);
        }
    }
    // The complete file reopens with all four.
    let p = temp("crash-full.board");
    std::fs::write(&p, &full).unwrap();
    assert_eq!(open_writer(&p, &s.context).unwrap().entries(), 4);
    // A complete entry altered is corruption, never silently dropped.
    let mut altered = full.clone();
    let at = acknowledged as usize + 100;
    altered[at] ^= 1;
    std::fs::write(&p, &altered).unwrap();
    assert!(matches!(
        open_writer(&p, &s.context),
        Err(BoardError::Corrupt { entry: 4, .. })
    ));
    // Another election's board is refused.
    let other = setup_with(4, RevotePolicy::LastCounts, referendum());
    assert!(matches!(
        open_writer(&path, &other.context),
        Err(BoardError::WrongBoard { .. })
    ));
}

#[test]
fn an_auditor_detects_anything_but_appends() {
    let mut s = setup(5, RevotePolicy::LastCounts);
    let path = temp("audit.board");
    let mut board = BallotBoard::create(&path, &s.context, box_key()).unwrap();
    let genesis = *board.head();
    let mut heads = vec![genesis];
    let mut entries = Vec::new();
    for voter in 0..4 {
        let b = vote(&mut s, voter, true);
        heads.push(board.append(&s.context, &b, &mut s.rng).unwrap().head);
        entries.push(b);
    }
    drop(board);
    for (n, head) in heads.iter().enumerate() {
        assert_eq!(verify_extension(head, &path).unwrap(), (n as u64, heads[4]));
    }
    assert!(matches!(
        verify_extension(&[0u8; 64], &path),
        Err(BoardError::NotAnExtension)
    ));

    // A board with entry 2 removed, or entries 2 and 3 swapped, re-chained by a malicious
    // server: the auditor's old head after entry 2 (or 3) is no longer on it.
    for tamper in ["remove", "swap"] {
        let p = temp(&format!("audit-{tamper}.board"));
        let mut fake = BallotBoard::create(&p, &s.context, box_key()).unwrap();
        let order: Vec<usize> = if tamper == "remove" {
            vec![0, 2, 3]
        } else {
            vec![0, 2, 1, 3]
        };
        for i in order {
            fake.append(&s.context, &entries[i], &mut s.rng).unwrap();
        }
        drop(fake);
        assert!(verify_extension(&heads[1], &p).is_ok());
        assert!(
            matches!(
                verify_extension(&heads[3], &p),
                Err(BoardError::NotAnExtension)
            ),
            "{tamper}"
        );
    }
    // Reading entries back gives the ballots in order.
    let mut reader =
        evote::election::board::BoardReader::new(std::fs::File::open(&path).unwrap()).unwrap();
    let mut n = 0;
    while let Some(Entry::Ballot { bytes, number, .. }) = reader.next_checked().unwrap() {
        assert_eq!(bytes, entries[n]);
        assert_eq!(number, n as u64 + 1);
        n += 1;
    }
    assert_eq!(n, 4);
}

#[test]
fn the_tally_of_a_board_counts_the_last_ballot_of_each_voter() {
    for place in places("tally") {
        let mut s = setup(6, RevotePolicy::LastCounts);
        let mut board = place.create(&s.context);
        // Voters 0..5 vote; voters 1 and 3 change their referendum vote later.
        let plan = [
            (0, true),
            (1, true),
            (2, false),
            (3, true),
            (4, false),
            (5, true),
            (1, false),
            (3, false),
        ];
        for (voter, yes) in plan {
            let b = vote(&mut s, voter, yes);
            board.append(&s.context, &b, &mut s.rng).unwrap();
        }
        let head = board.close(&mut s.rng).unwrap();
        let encrypted = tally(&place.file(), &s.context, &mut s.rng).unwrap();
        assert_eq!(encrypted.ballots(), 6);
        let shares: Vec<CandidateShare> = s
            .keys
            .iter_mut()
            .take(2)
            .map(|k| {
                k.decrypt_tally(s.context.outcome(), &encrypted, &head, 2, &mut s.rng)
                    .unwrap()
            })
            .collect();
        let result = combine(s.context.outcome(), &encrypted, &shares, &mut s.rng).unwrap();
        // Last votes: 0 yes, 1 no, 2 no, 3 no, 4 no, 5 yes -> yes 2, no 4.
        let mut expected = vec![2, 4];
        expected.extend([0, 0, 6, 0, 0]);
        expected.extend([6, 0, 0, 0, 0, 0, 0, 6]);
        expected.extend([12, 6, 0, 12]);
        assert_eq!(result.counts, expected);
    }
}

#[test]
fn batches_of_ballots_are_accepted_with_one_check_and_one_fsync() {
    // The same ballots on every store: the same board, byte for byte.
    let mut boards: Vec<Vec<u8>> = Vec::new();
    for place in places("batch") {
        let mut s = setup(7, RevotePolicy::Refused);
        // The ballot box's own draws (receipt signatures, batch weights, and on PostgreSQL the
        // signed head) come from another RNG than the voters', so that the ballots, and with
        // them the boards, are the same on both stores.
        let mut box_rng = ChaCha20Rng::seed_from_u64(0x626f78);
        let mut board = place.create(&s.context);
        let first = vote(&mut s, 0, true);
        board.append(&s.context, &first, &mut box_rng).unwrap();
        let mut batch: Vec<Vec<u8>> = (1..5).map(|v| vote(&mut s, v, v % 2 == 0)).collect();
        batch.push(batch[1].clone()); // 4: a duplicate within the batch
        let mut bad = vote(&mut s, 5, true);
        let at = bad.len() - 100;
        bad[at] ^= 1;
        batch.push(bad); // 5: invalid
        batch.push(vote(&mut s, 0, false)); // 6: a revote, refused by this manifest
        batch.push(vote(&mut s, 2, false)); // 7: a revote of a voter earlier in this batch
        let results = board.append_many(&s.context, &batch, &mut box_rng).unwrap();
        let entries: Vec<Option<u64>> = results
            .iter()
            .map(|r| r.as_ref().ok().map(|x| x.entry))
            .collect();
        assert_eq!(
            entries,
            vec![Some(2), Some(3), Some(4), Some(5), None, None, None, None]
        );
        assert!(matches!(
            results[4],
            Err(BoardError::Duplicate { entry: 3 })
        ));
        assert!(matches!(results[5], Err(BoardError::Ballot(_))));
        assert!(matches!(
            results[6],
            Err(BoardError::RevoteRefused { entry: 1 })
        ));
        assert!(matches!(
            results[7],
            Err(BoardError::RevoteRefused { entry: 3 })
        ));
        let last_head = results[3].as_ref().unwrap().head;
        assert_eq!(board.head(), &last_head);
        drop(board);
        let reopened = place.open(&s.context).unwrap();
        assert_eq!(reopened.entries(), 5);
        assert_eq!(reopened.head(), &last_head);
        // A challenge and the close, so that every kind of entry is compared.
        let selections = vec![
            vec![1, 0],
            vec![0, 0, 1, 0, 0],
            vec![1, 0, 0, 0, 0, 0, 0, 1],
            vec![2, 1, 0, 2],
        ];
        let challenged = evote::election::PendingBallot::encrypt(
            &s.context,
            s.voters[5].public(),
            &selections,
            &mut s.rng,
        )
        .unwrap()
        .challenge(&s.voters[5], &mut s.rng)
        .unwrap()
        .to_bytes();
        drop(reopened);
        let mut board = place.open(&s.context).unwrap();
        board
            .challenge(&s.context, &challenged, &mut box_rng)
            .unwrap();
        board.close(&mut box_rng).unwrap();
        drop(board);
        let file = place.file();
        for r in results.iter().flatten() {
            assert_eq!(verify_extension(&r.head, &file).unwrap().0, r.entry);
        }
        boards.push(std::fs::read(&file).unwrap());
    }
    assert_eq!(boards.len(), 2, "both stores ran");
    assert_eq!(
        boards[0], boards[1],
        "the PostgreSQL board's export differs from the board file"
    );
}

/// The writer half of `a_killed_writer_loses_no_acknowledged_ballot`: run as a child process of
/// this test binary, it appends ballots forever and prints each acknowledged entry number.
#[test]
#[ignore = "run only as the child process of a_killed_writer_loses_no_acknowledged_ballot"]
fn board_writer_child() {
    use std::io::Write as _;
    let Some(path) = std::env::var_os("EVOTE_BOARD_WRITER") else {
        return;
    };
    let mut s = setup_with(8, RevotePolicy::LastCounts, referendum());
    let path = PathBuf::from(path);
    let mut board = BallotBoard::create(&path, &s.context, box_key()).unwrap();
    let mut out = std::io::stdout();
    for i in 0.. {
        let b = vote(&mut s, i % 6, i % 2 == 0);
        let receipt = board.append(&s.context, &b, &mut s.rng).unwrap();
        writeln!(
            out,
            "ack {} {}",
            receipt.entry,
            evote::election::record::to_hex(&receipt.head)
        )
        .unwrap();
        out.flush().unwrap();
    }
}

/// Opens a board for writing, waiting out a lock held for an instant by a child process that
/// other tests spawn: between its fork and its exec a child holds copies of this process's file
/// descriptors, the board's locked one included.
fn open_writer(
    path: &std::path::Path,
    context: &ElectionContext,
) -> Result<BallotBoard, BoardError> {
    for _ in 0..200 {
        match BallotBoard::open(path, context, box_key()) {
            Err(BoardError::Locked) => std::thread::sleep(std::time::Duration::from_millis(5)),
            other => return other,
        }
    }
    BallotBoard::open(path, context, box_key())
}

/// Parses the child's "ack N HEAD" lines.
fn parse_ack(line: &str) -> Option<(u64, [u8; 64])> {
    let (n, head) = line.strip_prefix("ack ")?.split_once(' ')?;
    let mut bytes = [0u8; 64];
    for (i, b) in bytes.iter_mut().enumerate() {
        *b = u8::from_str_radix(head.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some((n.parse().ok()?, bytes))
}

/// kill -9 at random moments: each trial starts a writer process on a fresh board (or on the
/// board the previous trial left, every third trial, so recovery itself is crashed into), waits
/// for a random number of acknowledgements and a random delay, and kills it. The board then
/// opens, every acknowledged head is on it, and it goes on. `EVOTE_KILL_TRIALS` sets the number
/// of trials (default 200).
#[test]
fn a_writer_killed_at_random_moments_loses_no_acknowledged_ballot() {
    use rand_core::RngCore;
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    let trials: u64 = std::env::var("EVOTE_KILL_TRIALS")
        .ok()
        .and_then(|t| t.parse().ok())
        .unwrap_or(200);
    let s = setup_with(8, RevotePolicy::LastCounts, referendum());
    let mut moments = ChaCha20Rng::seed_from_u64(77);
    let mut path = temp("killed-0.board");
    let mut acknowledged_in_all = 0;
    for trial in 0..trials {
        if trial % 3 == 0 {
            path = temp(&format!("killed-{trial}.board"));
        }
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["--ignored", "--exact", "board_writer_child", "--nocapture"])
            .args(["--test-threads=1"])
            .env("EVOTE_BOARD_WRITER", &path)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut acknowledged = Vec::new();
        let wanted = moments.next_u32() % 6;
        while acknowledged.len() < wanted as usize {
            match lines.next() {
                Some(Ok(line)) => acknowledged.extend(parse_ack(&line)),
                _ => break,
            }
        }
        std::thread::sleep(std::time::Duration::from_micros(u64::from(
            moments.next_u32() % 3000,
        )));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        // Acknowledgements already printed before the kill count too.
        for line in lines.map_while(Result::ok) {
            acknowledged.extend(parse_ack(&line));
        }
        acknowledged_in_all += acknowledged.len();
        if !path.exists() {
            // Killed before `create` linked the board in: no partial file is left at the path.
            assert!(acknowledged.is_empty());
            continue;
        }
        let board = open_writer(&path, &s.context).unwrap_or_else(|e| panic!("trial {trial}: {e}"));
        if let Some((last, _)) = acknowledged.last() {
            assert!(board.entries() >= *last, "trial {trial}");
        }
        drop(board);
        for (n, head) in &acknowledged {
            assert_eq!(
                verify_extension(head, &path).unwrap().0,
                *n,
                "trial {trial}"
            );
        }
    }
    assert!(acknowledged_in_all > 0);
    eprintln!("{trials} kills, {acknowledged_in_all} acknowledged entries, none lost");
}

/// Two writers: a second handle in this process and a second process are refused with
/// `Locked` while a writer runs, and readers still read the board being written.
#[test]
fn a_second_writer_is_refused_and_readers_still_read() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    let mut s = setup_with(12, RevotePolicy::LastCounts, referendum());
    let path = temp("locked.board");
    let mut board = BallotBoard::create(&path, &s.context, box_key()).unwrap();
    assert!(matches!(
        BallotBoard::open(&path, &s.context, box_key()),
        Err(BoardError::Locked)
    ));
    assert!(matches!(
        BallotBoard::create(&path, &s.context, box_key()),
        Err(BoardError::Io(e)) if e.kind() == std::io::ErrorKind::AlreadyExists
    ));
    for voter in 0..3 {
        let b = vote(&mut s, voter, true);
        board.append(&s.context, &b, &mut s.rng).unwrap();
        // A reader (a monitor, the verifier) reads the board while it is written.
        let mut reader = evote::election::board::BoardReader::new(std::io::BufReader::new(
            std::fs::File::open(&path).unwrap(),
        ))
        .unwrap();
        let mut n = 0;
        while reader.next_checked().unwrap().is_some() {
            n += 1;
        }
        assert_eq!(n, voter as u64 + 1);
    }
    drop(board);
    // The lock ends with the writer: the board reopens.
    let reopened = open_writer(&path, &s.context).unwrap();
    assert_eq!(reopened.entries(), 3);
    drop(reopened);

    // Another process writing: refused here.
    let other = temp("locked-by-child.board");
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--ignored", "--exact", "board_writer_child", "--nocapture"])
        .env("EVOTE_BOARD_WRITER", &other)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    while parse_ack(&lines.next().unwrap().unwrap()).is_none() {}
    let refused = BallotBoard::open(&other, &s.context, box_key());
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(matches!(refused, Err(BoardError::Locked)), "{refused:?}");
}

/// A bit flipped in any entry's length prefix, or at sampled offsets of any entry, is reported
/// with its position and leaves the file untouched: nothing acknowledged is cut (the review
/// found one flip in entry 3 of 10 cut the file to 1,874 of 9,066 bytes).
#[test]
fn a_flipped_bit_anywhere_in_an_entry_is_reported_and_the_file_left_untouched() {
    let mut s = setup_with(13, RevotePolicy::LastCounts, referendum());
    let path = temp("flips.board");
    let mut board = BallotBoard::create(&path, &s.context, box_key()).unwrap();
    for voter in 0..9 {
        let b = vote(&mut s, voter % 6, voter % 2 == 0);
        board.append(&s.context, &b, &mut s.rng).unwrap();
    }
    board.close(&mut s.rng).unwrap();
    drop(board);
    let good = std::fs::read(&path).unwrap();
    // Entry boundaries.
    let mut starts = Vec::new();
    let mut at = 108;
    while at < good.len() {
        starts.push(at);
        at += 4 + u32::from_le_bytes(good[at..at + 4].try_into().unwrap()) as usize + 64;
    }
    assert_eq!(starts.len(), 10);
    let p = temp("flips-work.board");
    let mut offsets: Vec<(usize, u8)> = Vec::new();
    for (e, start) in starts.iter().enumerate() {
        let end = starts.get(e + 1).copied().unwrap_or(good.len());
        for bit in 0..32 {
            offsets.push((start + bit / 8, 1 << (bit % 8)));
        }
        offsets.extend((start + 4..end).step_by(41).map(|o| (o, 1)));
        offsets.push((end - 1, 0x80));
    }
    for (offset, mask) in offsets {
        let mut bytes = good.clone();
        bytes[offset] ^= mask;
        std::fs::write(&p, &bytes).unwrap();
        let opened = open_writer(&p, &s.context);
        assert!(
            matches!(
                opened,
                Err(BoardError::Corrupt { .. } | BoardError::CorruptAt { .. })
            ),
            "flip at {offset}: {:?}",
            opened.map(|b| b.entries())
        );
        assert_eq!(
            std::fs::read(&p).unwrap(),
            bytes,
            "flip at {offset}: file changed"
        );
    }
}

/// Garbage after the last entry (a power loss leaves zeros or 0xFF bytes, or a torn write
/// random ones) is a torn tail: the board opens at its last entry, the bytes are moved aside
/// and reported, and the board goes on. A tail longer than a crash can leave is corruption.
#[test]
fn garbage_tails_are_moved_aside_and_long_ones_refused() {
    let mut s = setup_with(14, RevotePolicy::LastCounts, referendum());
    let path = temp("garbage.board");
    let mut board = BallotBoard::create(&path, &s.context, box_key()).unwrap();
    for voter in 0..4 {
        let b = vote(&mut s, voter, true);
        board.append(&s.context, &b, &mut s.rng).unwrap();
    }
    let head = *board.head();
    drop(board);
    let good = std::fs::read(&path).unwrap();
    let random: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    for (name, garbage) in [
        ("zeros", vec![0u8; 4096]),
        ("ones", vec![0xFF; 4096]),
        ("random", random),
        ("short", vec![0u8; 3]),
    ] {
        let p = temp(&format!("garbage-{name}.board"));
        let mut bytes = good.clone();
        bytes.extend_from_slice(&garbage);
        std::fs::write(&p, &bytes).unwrap();
        for stale in std::fs::read_dir(p.parent().unwrap()).unwrap().flatten() {
            if stale
                .file_name()
                .to_string_lossy()
                .starts_with(&format!("garbage-{name}.board.torn"))
            {
                std::fs::remove_file(stale.path()).unwrap();
            }
        }
        let mut board = open_writer(&p, &s.context).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(board.entries(), 4, "{name}");
        assert_eq!(board.head(), &head);
        let recovered = board.recovered().unwrap().clone();
        assert_eq!(recovered.offset, good.len() as u64);
        assert_eq!(recovered.bytes, garbage.len() as u64);
        assert_eq!(
            std::fs::read(&recovered.moved_to).unwrap(),
            garbage,
            "{name}"
        );
        assert_eq!(std::fs::read(&p).unwrap(), good, "{name}");
        let b = vote(&mut s, 5, false);
        assert_eq!(board.append(&s.context, &b, &mut s.rng).unwrap().entry, 5);
    }
    // More garbage than any crash leaves: corruption, file untouched.
    let p = temp("garbage-long.board");
    let mut bytes = good.clone();
    bytes.resize(good.len() + (10 << 20), 0);
    std::fs::write(&p, &bytes).unwrap();
    assert!(matches!(
        open_writer(&p, &s.context),
        Err(BoardError::CorruptAt { entry: 5, offset, .. }) if offset == good.len() as u64
    ));
    assert_eq!(std::fs::metadata(&p).unwrap().len(), bytes.len() as u64);
}

/// `create` never leaves a partial board at its path: the header is written to a temporary file
/// and linked in. A creator killed at random moments leaves each path either absent or a board
/// that opens; an existing file is never overwritten.
#[test]
fn create_is_atomic_under_kills_and_never_overwrites() {
    use std::process::{Command, Stdio};
    let s = setup_with(15, RevotePolicy::LastCounts, referendum());
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("board-create");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for trial in 0..20u64 {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["--ignored", "--exact", "board_creator_child", "--nocapture"])
            .env("EVOTE_BOARD_CREATOR", dir.join(format!("t{trial}")))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20 + trial * 7));
        child.kill().unwrap();
        child.wait().unwrap();
    }
    let mut boards = 0;
    for entry in std::fs::read_dir(&dir).unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') || name.ends_with(".index") {
            continue; // a creator's temporary file, or a board's index log: never a board
        }
        BallotBoard::open(&entry.path(), &s.context, box_key())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        boards += 1;
    }
    assert!(boards > 0);
    // An existing file of any content is left as it was.
    let p = temp("existing.board");
    std::fs::write(&p, b"not a board").unwrap();
    assert!(BallotBoard::create(&p, &s.context, box_key()).is_err());
    assert_eq!(std::fs::read(&p).unwrap(), b"not a board");
}

/// The creator half of `create_is_atomic_under_kills_and_never_overwrites`.
#[test]
#[ignore = "run only as the child process of create_is_atomic_under_kills_and_never_overwrites"]
fn board_creator_child() {
    let Some(prefix) = std::env::var_os("EVOTE_BOARD_CREATOR") else {
        return;
    };
    let s = setup_with(15, RevotePolicy::LastCounts, referendum());
    let prefix = PathBuf::from(prefix);
    for i in 0.. {
        let path = prefix.with_file_name(format!(
            "{}-{i}.board",
            prefix.file_name().unwrap().to_string_lossy()
        ));
        drop(BallotBoard::create(&path, &s.context, box_key()).unwrap());
    }
}

#[test]
fn a_tally_that_omits_a_counted_ballot_differs_from_the_recomputed_one() {
    for place in places("omit") {
        let mut s = setup_with(9, RevotePolicy::LastCounts, referendum());
        let mut board = place.create(&s.context);
        let mut cast = Vec::new();
        for v in 0..5 {
            let b = vote(&mut s, v, true);
            board.append(&s.context, &b, &mut s.rng).unwrap();
            cast.push(b);
        }
        // An open board has no tally: the count starts only after the close.
        assert!(matches!(
            tally(&place.file(), &s.context, &mut s.rng),
            Err(BoardError::NotClosed)
        ));
        let published = board.close(&mut s.rng).unwrap();
        drop(board);
        let recomputed = tally(&place.file(), &s.context, &mut s.rng).unwrap();
        assert_eq!(recomputed.board_head(), &published);
        // A server that leaves ballot 2 out of the board whose tally it hands the guardians.
        let partial = {
            let p = temp("omit-partial.board");
            let mut fake = BallotBoard::create(&p, &s.context, box_key()).unwrap();
            for (i, b) in cast.iter().enumerate() {
                if i != 2 {
                    fake.append(&s.context, b, &mut s.rng).unwrap();
                }
            }
            fake.close(&mut s.rng).unwrap();
            drop(fake);
            tally(&p, &s.context, &mut s.rng).unwrap()
        };
        assert_eq!(recomputed.ballots(), 5);
        assert_eq!(partial.ballots(), 4);
        assert_ne!(partial.to_bytes(), recomputed.to_bytes());
        assert_ne!(partial.digest(), recomputed.digest());
        // Guardians who know the published head refuse the made-up board's tally.
        for k in s.keys.iter_mut().take(2) {
            assert!(matches!(
                k.decrypt_tally(s.context.outcome(), &partial, &published, 2, &mut s.rng),
                Err(DecryptionError::TallyRefused { .. })
            ));
        }
        // Guardians deceived about the head: their shares still do not combine for the real tally.
        let shares: Vec<_> = s
            .keys
            .iter_mut()
            .take(2)
            .map(|k| {
                k.decrypt_tally(
                    s.context.outcome(),
                    &partial,
                    partial.board_head(),
                    2,
                    &mut s.rng,
                )
                .unwrap()
            })
            .collect();
        assert!(combine(s.context.outcome(), &recomputed, &shares, &mut s.rng).is_err());
    }
}

/// A ballot of any length but the manifest's is refused as such before it is decoded, by
/// `append` and `append_many` alike, and nothing is written.
#[test]
fn a_ballot_of_the_wrong_length_is_refused_before_decoding() {
    for place in places("wrong-length") {
        let mut s = setup(21, RevotePolicy::LastCounts);
        let mut board = place.create(&s.context);
        let good = vote(&mut s, 0, true);
        let mut long = good.clone();
        long.push(0);
        let short = good[..good.len() - 1].to_vec();
        // 16 MiB of garbage: refused by its length alone.
        let blob = vec![0xA5u8; 16 << 20];
        for bad in [&long, &short, &blob] {
            assert!(matches!(
                board.append(&s.context, bad, &mut s.rng),
                Err(BoardError::Ballot(BallotError::Shape { .. }))
            ));
        }
        let verdicts = board
            .append_many(&s.context, &[long, good, blob], &mut s.rng)
            .unwrap();
        assert!(matches!(
            verdicts[0],
            Err(BoardError::Ballot(BallotError::Shape { .. }))
        ));
        assert!(verdicts[1].is_ok());
        assert!(matches!(
            verdicts[2],
            Err(BoardError::Ballot(BallotError::Shape { .. }))
        ));
        assert_eq!(board.entries(), 1);
    }
}

/// The ballot box key of the tests' boards (fixed, so a board can be reopened).
fn box_key() -> evote::election::BallotBoxKey {
    evote::election::BallotBoxKey::from_secret_bytes(&[7; 32]).unwrap()
}

/// Unmounts a test file system when dropped.
struct Unmount(PathBuf);

impl Drop for Unmount {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(&self.0).status();
    }
}

/// A full disk (a 160 KiB tmpfs, where the machine lets the test mount one; skipped with a
/// message otherwise): the append that does not fit fails with the disk's error and leaves no
/// partial entry, nothing acknowledged is lost, the board reopens (on the full disk, or after
/// room is made) with every acknowledged head, and appends go on; `create` on a full disk
/// leaves nothing at its path.
#[test]
fn a_full_disk_refuses_the_append_and_loses_no_acknowledged_ballot() {
    use std::process::Command;
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("board-enospc");
    let _ = Command::new("umount")
        .arg(&dir)
        .stderr(std::process::Stdio::null())
        .status();
    std::fs::create_dir_all(&dir).unwrap();
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=160k", "tmpfs"])
        .arg(&dir)
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !mounted {
        eprintln!("skipped: this machine does not let the test mount a small tmpfs (needs root)");
        return;
    }
    let _unmount = Unmount(dir.clone());
    let mut s = setup_with(21, RevotePolicy::LastCounts, referendum());
    let path = dir.join("full.board");
    let mut board = BallotBoard::create(&path, &s.context, box_key()).unwrap();
    let mut acknowledged = Vec::new();
    let mut refused = None;
    for i in 0..100_000 {
        let b = vote(&mut s, i % 6, i % 2 == 0);
        match board.append(&s.context, &b, &mut s.rng) {
            Ok(r) => acknowledged.push((r.entry, r.head)),
            Err(e) => {
                refused = Some(e);
                break;
            }
        }
    }
    let refused = refused.expect("the disk fills up");
    assert!(
        matches!(&refused, BoardError::Io(e) if e.kind() == std::io::ErrorKind::StorageFull),
        "{refused:?}"
    );
    let (last, _) = *acknowledged.last().unwrap();
    assert!(last > 10, "{last} acknowledged before the disk was full");
    // The failed append left nothing: the file ends at the last acknowledged entry.
    assert_eq!(
        verify_extension(&acknowledged.last().unwrap().1, &path)
            .unwrap()
            .0,
        last
    );
    // Still full: a second append fails the same way, and the board is unchanged.
    let b = vote(&mut s, 0, true);
    assert!(board.append(&s.context, &b, &mut s.rng).is_err());
    drop(board);
    // Reopened on the full disk: it opens (nothing to cut) with every acknowledged entry.
    let board = open_writer(&path, &s.context).unwrap();
    assert_eq!(board.entries(), last);
    drop(board);
    for (n, head) in &acknowledged {
        assert_eq!(verify_extension(head, &path).unwrap().0, *n);
    }
    // create on the full disk fails and leaves nothing at its path.
    let other = dir.join("other.board");
    if BallotBoard::create(&other, &s.context, box_key()).is_err() {
        let left: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|name| name.contains("other"))
            .collect();
        assert!(left.is_empty(), "{left:?}");
    }
    // Room again: appends go on from the last acknowledged entry.
    assert!(Command::new("mount")
        .args(["-o", "remount,size=4m"])
        .arg(&dir)
        .status()
        .unwrap()
        .success());
    let mut board = open_writer(&path, &s.context).unwrap();
    let b = vote(&mut s, 1, false);
    let receipt = board.append(&s.context, &b, &mut s.rng).unwrap();
    assert_eq!(receipt.entry, last + 1);
    eprintln!("{last} acknowledged on a full disk, none lost");
}

/// A reader (a monitor, the verifier of a live board) reading while another process appends:
/// every read sees a prefix of the chain — each entry chains, every entry acknowledged before
/// the read began is there with its head — and ends cleanly or at a tail still being written,
/// never at a broken entry.
#[test]
fn a_reader_during_writes_sees_a_prefix_of_the_chain() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    use std::sync::{Arc, Mutex};
    let path = temp("read-while-written.board");
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--ignored", "--exact", "board_writer_child", "--nocapture"])
        .env("EVOTE_BOARD_WRITER", &path)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    type Acks = Arc<Mutex<Vec<(u64, [u8; 64])>>>;
    let acked: Acks = Arc::default();
    let lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let sink = Arc::clone(&acked);
    let listener = std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            if let Some(ack) = parse_ack(&line) {
                sink.lock().unwrap().push(ack);
            }
        }
    });
    let mut reads = 0;
    let mut torn = 0;
    let mut most = 0;
    // Reads until the writer has gone well past where the first read began.
    while reads < 100 || most < 300 {
        let before = acked.lock().unwrap().clone();
        let Some(&(last_acked, _)) = before.last() else {
            std::thread::sleep(std::time::Duration::from_millis(5));
            continue;
        };
        let mut reader = evote::election::board::BoardReader::new(std::io::BufReader::new(
            std::fs::File::open(&path).unwrap(),
        ))
        .unwrap();
        let mut heads = Vec::new();
        loop {
            match reader.next_checked() {
                Ok(Some(Entry::Ballot { number, head, .. })) => heads.push((number, head)),
                Ok(Some(other)) => panic!("the writer appends ballots only: {other:?}"),
                Ok(None) => break,
                Err(BoardError::Corrupt {
                    reason: "the file ends inside an entry",
                    ..
                }) => {
                    torn += 1;
                    break;
                }
                Err(e) => panic!("read {reads}: {e}"),
            }
        }
        assert!(heads.len() as u64 >= last_acked, "read {reads}");
        for (n, head) in &before {
            assert_eq!(
                heads.get(*n as usize - 1),
                Some(&(*n, *head)),
                "read {reads}"
            );
        }
        most = most.max(heads.len());
        reads += 1;
    }
    child.kill().unwrap();
    child.wait().unwrap();
    listener.join().unwrap();
    eprintln!(
        "{reads} reads during writes (up to {most} entries, {torn} ended in a tail being written)"
    );
}

/// The index log beside the board: a reopen that reads it indexes exactly what a full replay
/// does (every refusal the same), and a log that is missing, damaged, another board's, or ahead
/// of a board restored from an older copy is never trusted: the board is replayed instead.
#[test]
fn the_index_log_speeds_reopening_and_is_never_trusted_blindly() {
    use evote::election::board::index_log_path;
    let mut s = setup_with(31, RevotePolicy::LastCounts, referendum());
    let path = temp("logged.board");
    let log = index_log_path(&path);
    let _ = std::fs::remove_file(&log);
    let mut board = BallotBoard::create(&path, &s.context, box_key()).unwrap();
    let mut cast = Vec::new();
    for i in 0..2100usize {
        let b = vote(&mut s, i % 6, i % 3 == 0);
        board.append(&s.context, &b, &mut s.rng).unwrap();
        if i % 500 == 0 {
            cast.push((i as u64 + 1, b));
        }
    }
    let head = *board.head();
    drop(board);
    let older = std::fs::read(&path).unwrap();
    assert!(log.exists());
    // What every reopen must refuse, and the state it must have.
    let check = |board: &mut BallotBoard, s: &mut Setup, case: &str| {
        assert_eq!((board.entries(), board.head()), (2100, &head), "{case}");
        for (entry, b) in &cast {
            assert!(
                matches!(board.append(&s.context, b, &mut s.rng), Err(BoardError::Duplicate { entry: e }) if e == *entry),
                "{case}: entry {entry}"
            );
        }
        // The last ballot of voter 5 (entry 2100) counts; its earlier one (2094) does not.
        assert!(board.is_counted(s.voters[5].public(), 2100), "{case}");
        assert!(!board.is_counted(s.voters[5].public(), 2094), "{case}");
    };
    let mut fast = open_writer(&path, &s.context).unwrap();
    check(&mut fast, &mut s, "with the log");
    drop(fast);
    // Missing: rebuilt, and written again.
    std::fs::remove_file(&log).unwrap();
    let mut full = open_writer(&path, &s.context).unwrap();
    check(&mut full, &mut s, "without the log");
    drop(full);
    assert!(log.exists());
    // Damaged anywhere (a flipped byte at sampled offsets): used only up to the mark before the
    // damage, or not at all; the result is the same.
    let good_log = std::fs::read(&log).unwrap();
    for at in (0..good_log.len()).step_by(good_log.len() / 7) {
        let mut bad = good_log.clone();
        bad[at] ^= 0x40;
        std::fs::write(&log, &bad).unwrap();
        let mut b = open_writer(&path, &s.context).unwrap();
        check(&mut b, &mut s, &format!("log byte {at} flipped"));
    }
    // Another board's log (same election, same key, other ballots): refused at the first entry
    // that is not where it says.
    let other = temp("logged-other.board");
    let mut o = BallotBoard::create(&other, &s.context, box_key()).unwrap();
    for i in 0..1100usize {
        let b = vote(&mut s, i % 6, i % 2 == 0);
        o.append(&s.context, &b, &mut s.rng).unwrap();
    }
    drop(o);
    std::fs::copy(index_log_path(&other), &log).unwrap();
    let mut b = open_writer(&path, &s.context).unwrap();
    check(&mut b, &mut s, "another board's log");
    drop(b);
    // The board restored from an older copy (its first 1100 entries) under a newer log.
    let mut b = open_writer(&path, &s.context).unwrap();
    for i in 0..10usize {
        let v = vote(&mut s, i % 6, true);
        b.append(&s.context, &v, &mut s.rng).unwrap();
    }
    drop(b);
    let mut reader = evote::election::board::BoardReader::new(&older[..]).unwrap();
    let mut cut = None;
    let mut offset = common_header();
    while let Some(entry) = reader.next_checked().unwrap() {
        if let Entry::Ballot { number, bytes, .. } = entry {
            offset += 4 + 9 + bytes.len() + 64;
            if number == 1100 {
                cut = Some(offset);
                break;
            }
        }
    }
    std::fs::write(&path, &older[..cut.unwrap()]).unwrap();
    let restored = open_writer(&path, &s.context).unwrap();
    assert_eq!(restored.entries(), 1100);
    // A flipped bit inside an entry the log covers is still found: every entry is chained.
    drop(restored);
    let mut bytes = std::fs::read(&path).unwrap();
    let at = bytes.len() / 2;
    bytes[at] ^= 1;
    std::fs::write(&path, &bytes).unwrap();
    assert!(matches!(
        BallotBoard::open(&path, &s.context, box_key()),
        Err(BoardError::Corrupt { .. } | BoardError::CorruptAt { .. })
    ));
}

/// The board file's header length.
fn common_header() -> usize {
    11 + 1 + 64 + 32
}

/// What the database can do to the PostgreSQL store, and what the store does about it: a second
/// writer is refused while the first holds the lock; rows written behind the writer's back
/// (the lock is advisory) are found before anything is written on top of them, never forked;
/// a last entry altered in the database is refused at open; an entry altered in the middle is
/// found by the export, which reads every chain link back.
#[test]
fn the_postgres_store_refuses_second_writers_forks_and_altered_rows() {
    let Some(server) = pg::Cluster::primary("pg-hostile") else {
        return;
    };
    let url = server.database("board");
    let mut s = setup(31, RevotePolicy::LastCounts);
    let mut board = BallotBoard::create_postgres(&url, &s.context, box_key()).unwrap();
    assert!(matches!(
        BallotBoard::open_postgres(&url, &s.context, box_key()),
        Err(BoardError::Locked)
    ));
    let mut cast = Vec::new();
    for v in 0..3 {
        let b = vote(&mut s, v, true);
        board.append(&s.context, &b, &mut s.rng).unwrap();
        cast.push(b);
    }
    // Another election's context, or another ballot box key: not this board.
    let other = setup(32, RevotePolicy::LastCounts);
    drop(board);
    assert!(matches!(
        BallotBoard::open_postgres(&url, &other.context, box_key()),
        Err(BoardError::WrongBoard { .. })
    ));
    let other_key = evote::election::BallotBoxKey::from_secret_bytes(&[8; 32]).unwrap();
    assert!(matches!(
        BallotBoard::open_postgres(&url, &s.context, other_key),
        Err(BoardError::WrongBoard { .. })
    ));
    assert!(BallotBoard::create_postgres(&url, &s.context, box_key()).is_err());
    let mut board = BallotBoard::open_postgres(&url, &s.context, box_key()).unwrap();
    assert_eq!(board.entries(), 3);
    // A row appended behind the writer: its next commit sees a head that is not its own.
    let mut sql = server.client("board");
    sql.batch_execute(
        "INSERT INTO evote_entries SELECT 4, 2, '\\x0400000000000000'::bytea || '\\x02'::bytea, \
         hash FROM evote_entries WHERE number = 3",
    )
    .unwrap();
    let b = vote(&mut s, 3, true);
    assert!(matches!(
        board.append(&s.context, &b, &mut s.rng),
        Err(BoardError::Diverged { entries: 4 })
    ));
    let count: i64 = sql
        .query_one("SELECT count(*) FROM evote_entries", &[])
        .unwrap()
        .get(0);
    assert_eq!(count, 4, "nothing written on top of a foreign row");
    drop(board);
    // Reopened, the foreign row does not chain.
    assert!(matches!(
        BallotBoard::open_postgres(&url, &s.context, box_key()),
        Err(BoardError::Corrupt { entry: 4, .. })
    ));
    sql.batch_execute("DELETE FROM evote_entries WHERE number = 4")
        .unwrap();
    // One byte of entry 2's ballot changed in the database: the last entry still chains from
    // its stored predecessor, so open succeeds, but the export reads every link and refuses.
    sql.batch_execute(
        "UPDATE evote_entries SET payload = set_byte(payload, 100, get_byte(payload, 100) # 1) \
         WHERE number = 2",
    )
    .unwrap();
    let out = temp("pg-hostile.exported.board");
    assert!(matches!(
        evote::election::board_postgres::export_postgres(&url, &out),
        Err(BoardError::Corrupt { entry: 2, .. })
    ));
    // The last entry's hash changed: refused at open.
    sql.batch_execute(
        "UPDATE evote_entries SET hash = set_byte(hash, 0, get_byte(hash, 0) # 1) WHERE number = 3",
    )
    .unwrap();
    assert!(matches!(
        BallotBoard::open_postgres(&url, &s.context, box_key()),
        Err(BoardError::Corrupt { entry: 3, .. })
    ));
}

/// The adaptive attacker who can write to the database but does not hold the ballot box key,
/// and knows everything public (the election, the box's key, every entry, hash and the signed
/// head as stored). It appends a correctly chained entry — a replay of a cast ballot, with
/// every index row a real entry would have — behind a running writer and then with none
/// running, and gives it the last signature it saw. The running writer refuses to build on it,
/// also after its connection is cut and it reconnects; a new writer refuses to open; the export
/// refuses an entry past the signed head. An entry removed without the key is refused too.
#[test]
fn a_database_writer_without_the_ballot_box_key_cannot_extend_the_board() {
    use sha2::{Digest, Sha512};
    let Some(server) = pg::Cluster::primary("pg-db-writer") else {
        return;
    };
    let url = server.database("board");
    let mut s = setup(35, RevotePolicy::LastCounts);
    let mut board = BallotBoard::create_postgres(&url, &s.context, box_key()).unwrap();
    let mut cast = Vec::new();
    for v in 0..3 {
        let b = vote(&mut s, v, true);
        board.append(&s.context, &b, &mut s.rng).unwrap();
        cast.push(b);
    }
    let mut sql = server.client("board");
    let h3: Vec<u8> = sql
        .query_one("SELECT hash FROM evote_entries WHERE number = 3", &[])
        .unwrap()
        .get(0);
    // Entry 4, chained exactly as the board chains: a replay of entry 2's signed ballot.
    let mut payload = 4u64.to_le_bytes().to_vec();
    payload.push(1);
    payload.extend_from_slice(&cast[1]);
    let mut h = Sha512::new();
    h.update(b"evote/board-entry/v1");
    h.update(&h3);
    h.update(&payload);
    let h4 = h.finalize().to_vec();
    let forge = |sql: &mut postgres::Client| {
        let mut tx = sql.transaction().unwrap();
        tx.execute(
            "INSERT INTO evote_entries (number, kind, payload, hash) VALUES (4, 1, $1, $2)",
            &[&payload, &h4],
        )
        .unwrap();
        tx.execute(
            "INSERT INTO evote_casts SELECT credential, 4 FROM evote_casts WHERE entry = 2",
            &[],
        )
        .unwrap();
        // The last signature it has seen, on the new state.
        tx.execute("UPDATE evote_head SET entries = 4, hash = $1", &[&h4])
            .unwrap();
        tx.commit().unwrap();
    };
    forge(&mut sql);
    let next = vote(&mut s, 3, true);
    assert!(matches!(
        board.append(&s.context, &next, &mut s.rng),
        Err(BoardError::Diverged { entries: 4 })
    ));
    // The writer's connection is cut: it reconnects and reads the state again, and refuses it.
    sql.batch_execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = current_database() AND pid <> pg_backend_pid()",
    )
    .unwrap();
    let mut refusals = Vec::new();
    for _ in 0..2 {
        refusals.push(board.append(&s.context, &next, &mut s.rng).unwrap_err());
    }
    assert!(
        matches!(refusals[1], BoardError::Corrupt { entry: 4, .. }),
        "{refusals:?}"
    );
    drop(board);
    let count = |sql: &mut postgres::Client| -> i64 {
        sql.query_one("SELECT count(*) FROM evote_entries", &[])
            .unwrap()
            .get(0)
    };
    assert_eq!(count(&mut sql), 4, "nothing written on the forged entry");
    assert!(matches!(
        BallotBoard::open_postgres(&url, &s.context, box_key()),
        Err(BoardError::Corrupt { entry: 4, .. })
    ));
    // The same entry with the head row left as the box signed it: an entry past the signed
    // head, refused at open and by the export.
    sql.batch_execute("UPDATE evote_head SET entries = 3, hash = (SELECT hash FROM evote_entries WHERE number = 3)")
        .unwrap();
    assert!(matches!(
        BallotBoard::open_postgres(&url, &s.context, box_key()),
        Err(BoardError::Corrupt { entry: 4, .. })
    ));
    let out = temp("pg-db-writer.exported.board");
    let _ = std::fs::remove_file(&out);
    assert!(matches!(
        evote::election::board_postgres::export_postgres(&url, &out),
        Err(BoardError::Corrupt { .. })
    ));
    assert!(!out.exists(), "a refused export leaves no file");
    // Without entry 4 the board is the box's again.
    sql.batch_execute(
        "DELETE FROM evote_casts WHERE entry = 4; DELETE FROM evote_entries WHERE number = 4",
    )
    .unwrap();
    let mut board = BallotBoard::open_postgres(&url, &s.context, box_key()).unwrap();
    assert_eq!(board.entries(), 3);
    board.append(&s.context, &next, &mut s.rng).unwrap();
    drop(board);
    assert_eq!(
        evote::election::board_postgres::export_postgres(&url, &out)
            .unwrap()
            .0,
        4
    );
    // The last entry removed (its signature kept): refused, the signed head names entry 4.
    sql.batch_execute(
        "DELETE FROM evote_casts WHERE entry = 4; DELETE FROM evote_ciphertexts WHERE entry = 4; \
         DELETE FROM evote_ballot_ids WHERE entry = 4; DELETE FROM evote_trackers WHERE entry = 4; \
         DELETE FROM evote_entries WHERE number = 4",
    )
    .unwrap();
    assert!(matches!(
        BallotBoard::open_postgres(&url, &s.context, box_key()),
        Err(BoardError::Corrupt { entry: 3, .. })
    ));
}

/// TLS to the database: with `sslmode=require` and the CA in `sslrootcert` the board works over
/// TLS (writes and the export); a server that refuses plain connections refuses a string
/// without it; a certificate the client does not trust is refused; `sslrootcert` without
/// `sslmode=require` is an error rather than a silent plain connection.
#[test]
fn the_postgres_store_speaks_tls_and_checks_the_servers_certificate() {
    let Some((server, ca)) = pg::Cluster::primary_tls("pg-tls") else {
        return;
    };
    let plain = server.database("board");
    let secure = format!("{plain}?sslmode=require&sslrootcert={}", ca.display());
    let mut s = setup(33, RevotePolicy::LastCounts);
    let mut board = BallotBoard::create_postgres(&secure, &s.context, box_key()).unwrap();
    let b = vote(&mut s, 0, true);
    let receipt = board.append(&s.context, &b, &mut s.rng).unwrap();
    drop(board);
    let out = temp("pg-tls.exported.board");
    let _ = std::fs::remove_file(&out);
    evote::election::board_postgres::export_postgres(&secure, &out).unwrap();
    assert_eq!(verify_extension(&receipt.head, &out).unwrap().0, 1);
    let refused = BallotBoard::open_postgres(&plain, &s.context, box_key()).unwrap_err();
    assert!(refused.to_string().contains("pg_hba.conf"), "{refused}");
    let untrusted = BallotBoard::open_postgres(
        &format!(
            "{plain}?sslmode=require&sslrootcert={}",
            server.dir.join("server.pem").display()
        ),
        &s.context,
        box_key(),
    )
    .unwrap_err();
    assert!(untrusted.to_string().contains("certificate"), "{untrusted}");
    let inconsistent = BallotBoard::open_postgres(
        &format!("{plain}?sslrootcert={}", ca.display()),
        &s.context,
        box_key(),
    )
    .unwrap_err();
    assert!(
        inconsistent.to_string().contains("sslmode"),
        "{inconsistent}"
    );
    let mut board = BallotBoard::open_postgres(&secure, &s.context, box_key()).unwrap();
    assert_eq!(board.entries(), 1);
    board.close(&mut s.rng).unwrap();
}

/// A reader of a PostgreSQL board while the writer appends (a connection of its own, no lock):
/// every read is a prefix of the one chain, holds every entry acknowledged before it began,
/// with its head, and ends cleanly.
#[test]
fn a_reader_of_a_postgres_board_during_writes_sees_a_prefix_of_the_chain() {
    use std::sync::{Arc, Mutex};
    let Some(server) = pg::Cluster::primary("pg-read-while-written") else {
        return;
    };
    let url = server.database("board");
    let mut s = setup_with(34, RevotePolicy::LastCounts, referendum());
    let ballots: Vec<Vec<u8>> = (0..150).map(|i| vote(&mut s, i % 6, i % 2 == 0)).collect();
    let mut board = BallotBoard::create_postgres(&url, &s.context, box_key()).unwrap();
    type Acks = Arc<Mutex<Vec<(u64, [u8; 64])>>>;
    let acked: Acks = Arc::default();
    let context = &s.context;
    let (reads, most) = std::thread::scope(|scope| {
        let sink = Arc::clone(&acked);
        let writer = scope.spawn(move || {
            let mut rng = ChaCha20Rng::seed_from_u64(35);
            for b in &ballots {
                let r = board.append(context, b, &mut rng).unwrap();
                sink.lock().unwrap().push((r.entry, r.head));
            }
        });
        let mut reads = 0;
        let mut most = 0;
        loop {
            // The last read begins after the last append.
            let finished = writer.is_finished();
            let before = acked.lock().unwrap().clone();
            let bytes =
                evote::election::board_postgres::PostgresBoardBytes::connect(&url, 1).unwrap();
            let mut reader = evote::election::board::BoardReader::new(bytes).unwrap();
            let mut heads = Vec::new();
            while let Some(entry) = reader.next_checked().unwrap() {
                match entry {
                    Entry::Ballot { number, head, .. } => heads.push((number, head)),
                    other => panic!("the writer appends ballots only: {other:?}"),
                }
            }
            for (n, head) in &before {
                assert_eq!(
                    heads.get(*n as usize - 1),
                    Some(&(*n, *head)),
                    "read {reads}"
                );
            }
            most = most.max(heads.len());
            reads += 1;
            if finished && reads >= 20 {
                break;
            }
        }
        writer.join().unwrap();
        (reads, most)
    });
    assert_eq!(most, 150);
    eprintln!("{reads} reads during writes, up to {most} entries");
}
