//! Ballots: encryption for every contest kind, verification, trackers, Benaloh challenges, and
//! the attacks a malicious server or device would try.

mod common;

use evote::ceremony::{adjudicate, run_locally, CeremonyOutcome, CeremonyParams};
use evote::election::{
    Ballot, BallotError, ChallengedBallot, CredentialList, ElectionContext, Manifest,
    PendingBallot, VoterCredential,
};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

fn outcome(t: u32, n: u32, seed: u64) -> CeremonyOutcome {
    let params = CeremonyParams::new([seed as u8; 32], t, n).unwrap();
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let (transcript, _) = run_locally(&params, &mut rng).unwrap();
    adjudicate(&transcript, &mut rng).unwrap()
}

struct Election {
    context: ElectionContext,
    voters: Vec<VoterCredential>,
    rng: ChaCha20Rng,
}

fn election(seed: u64) -> Election {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let (voters, list) = CredentialList::generate(5, &mut rng);
    let context = ElectionContext::new(Manifest::example(), outcome(2, 3, seed), list).unwrap();
    Election {
        context,
        voters,
        rng,
    }
}

fn choices() -> Vec<Vec<u64>> {
    common::example_choices()
}

#[test]
fn ballots_of_every_contest_kind_verify_and_open() {
    let mut e = election(1);
    let voter = &e.voters[0];
    let pending =
        PendingBallot::encrypt(&e.context, voter.public(), &choices(), &mut e.rng).unwrap();
    let shown = pending.tracker();
    let ballot = pending.cast(voter, &mut e.rng).unwrap();
    // The tracker the voter saw before choosing is the cast ballot's.
    assert_eq!(ballot.tracker(), shown);
    let bytes = ballot.to_bytes();
    let decoded = Ballot::from_bytes(&bytes).unwrap();
    assert_eq!(decoded, ballot);
    assert_eq!(decoded.to_bytes(), bytes);
    let verified = decoded.verify(&e.context, &mut e.rng).unwrap();
    assert_eq!(verified.tracker(), &shown);

    // Benaloh: a challenged ballot opens to exactly the choices, under the tracker shown.
    let pending =
        PendingBallot::encrypt(&e.context, voter.public(), &choices(), &mut e.rng).unwrap();
    let shown = pending.tracker();
    let challenged = pending.challenge(voter, &mut e.rng).unwrap();
    let bytes = challenged.to_bytes();
    assert_eq!(ChallengedBallot::from_bytes(&bytes).unwrap(), challenged);
    let opened = challenged.clone().verify(&e.context, &mut e.rng).unwrap();
    assert_eq!(opened.selections(), choices().as_slice());
    assert_eq!(opened.tracker(), &shown);

    // A wrong seed does not open it (the challenge signature covers the seed, so re-sign as
    // the voter would have to).
    let mut forged = bytes.clone();
    let seed_at = forged.len() - 96;
    forged[seed_at] ^= 1;
    assert!(matches!(
        ChallengedBallot::from_bytes(&forged)
            .unwrap()
            .verify(&e.context, &mut e.rng),
        Err(BallotError::InvalidSignature)
    ));
    // Neither credential swap works: a pending ballot casts and challenges only under its own.
    let pending =
        PendingBallot::encrypt(&e.context, voter.public(), &choices(), &mut e.rng).unwrap();
    assert!(matches!(
        pending.cast(&e.voters[1], &mut e.rng),
        Err(BallotError::WrongCredential)
    ));
}

#[test]
fn all_ballots_of_a_manifest_have_the_same_size_and_distinct_trackers() {
    let mut e = election(2);
    let selections = [
        choices(),
        vec![vec![0, 1], vec![0, 0, 0, 0, 1], vec![0; 8], vec![0; 4]],
        vec![
            vec![1, 0],
            vec![1, 0, 0, 0, 0],
            vec![1, 1, 0, 0, 0, 0, 0, 0],
            vec![1, 1, 1, 1],
        ],
    ];
    let mut sizes = Vec::new();
    let mut trackers = Vec::new();
    for s in &selections {
        // The same choices twice never give the same ciphertexts or tracker (A7: clash attacks).
        for _ in 0..2 {
            let b = Ballot::encrypt_and_cast(&e.context, &e.voters[1], s, &mut e.rng).unwrap();
            sizes.push(b.to_bytes().len());
            trackers.push(b.tracker());
        }
    }
    assert!(sizes.windows(2).all(|w| w[0] == w[1]), "{sizes:?}");
    // And the manifest states that size exactly (the board refuses any other before decoding).
    assert_eq!(e.context.manifest().ballot_len(), sizes[0] as u64);
    let mut unique = trackers.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), trackers.len());
}

#[test]
fn invalid_selections_are_refused_at_encryption() {
    let mut e = election(3);
    let cases: Vec<(Vec<Vec<u64>>, usize)> = vec![
        (vec![vec![1, 1], vec![0; 5], vec![0; 8], vec![0; 4]], 0), // referendum: both
        (vec![vec![0, 0], vec![0; 5], vec![0; 8], vec![0; 4]], 0), // referendum: blank not allowed
        (
            vec![vec![1, 0], vec![0, 2, 0, 0, 0], vec![0; 8], vec![0; 4]],
            1,
        ), // over the option limit
        (
            vec![
                vec![1, 0],
                vec![0; 5],
                vec![1, 1, 1, 0, 0, 0, 0, 0],
                vec![0; 4],
            ],
            2,
        ), // three of "up to two"
        (
            vec![vec![1, 0], vec![0; 5], vec![0; 8], vec![3, 3, 0, 0]],
            3,
        ), // six of five votes
        (
            vec![vec![1, 0], vec![0; 5], vec![0; 8], vec![4, 0, 0, 0]],
            3,
        ), // four to one (R = 3)
        (vec![vec![1, 0], vec![0; 4], vec![0; 8], vec![0; 4]], 1), // an option missing
    ];
    for (selections, contest) in cases {
        let err = Ballot::encrypt_and_cast(&e.context, &e.voters[0], &selections, &mut e.rng)
            .unwrap_err();
        assert!(
            matches!(err, BallotError::InvalidSelection { contest: c, .. } if c == contest),
            "{selections:?}: {err}"
        );
    }
    assert!(matches!(
        Ballot::encrypt_and_cast(&e.context, &e.voters[0], &choices()[..3], &mut e.rng),
        Err(BallotError::Shape { .. })
    ));
}

#[test]
fn ballots_are_bound_to_their_election_voter_and_position() {
    let mut e = election(4);
    let ballot =
        Ballot::encrypt_and_cast(&e.context, &e.voters[0], &choices(), &mut e.rng).unwrap();
    let bytes = ballot.to_bytes();

    // Another election (same manifest and voters, another ceremony): nothing verifies.
    let other = ElectionContext::new(
        Manifest::example(),
        outcome(2, 3, 99),
        e.context.credentials().clone(),
    )
    .unwrap();
    assert!(Ballot::from_bytes(&bytes)
        .unwrap()
        .verify(&other, &mut e.rng)
        .is_err());

    // An unknown credential.
    let mut rng = ChaCha20Rng::seed_from_u64(5);
    let (_, strangers) = CredentialList::generate(3, &mut rng);
    let foreign =
        ElectionContext::new(Manifest::example(), e.context.outcome().clone(), strangers).unwrap();
    assert_eq!(
        Ballot::from_bytes(&bytes)
            .unwrap()
            .verify(&foreign, &mut e.rng),
        Err(BallotError::UnknownCredential)
    );

    // Copied under another voter's credential (A6): the credential bytes replaced.
    let mut copied = bytes.clone();
    copied[34..66].copy_from_slice(e.voters[1].public().as_bytes());
    assert!(Ballot::from_bytes(&copied)
        .unwrap()
        .verify(&e.context, &mut e.rng)
        .is_err());

    // Another ballot id (a replay under a fresh id).
    let mut replayed = bytes.clone();
    replayed[2] ^= 1;
    assert!(Ballot::from_bytes(&replayed)
        .unwrap()
        .verify(&e.context, &mut e.rng)
        .is_err());

    // A ciphertext and its proof moved from one option (or contest) to another.
    let b2 = Ballot::encrypt_and_cast(&e.context, &e.voters[0], &choices(), &mut e.rng).unwrap();
    let option_len = 64 + 4 + 224;
    let first_option = 2 + 32 + 32 + 4 + 4;
    let mut moved = bytes.clone();
    let (a, b) = (
        moved[first_option..first_option + option_len].to_vec(),
        moved[first_option + option_len..first_option + 2 * option_len].to_vec(),
    );
    moved[first_option..first_option + option_len].copy_from_slice(&b);
    moved[first_option + option_len..first_option + 2 * option_len].copy_from_slice(&a);
    assert!(matches!(
        Ballot::from_bytes(&moved)
            .unwrap()
            .verify(&e.context, &mut e.rng),
        Err(BallotError::InvalidProof { .. } | BallotError::InvalidSignature)
    ));
    // An option (ciphertext and proof) lifted from another ballot of the same voter.
    let other_bytes = b2.to_bytes();
    let mut lifted = bytes.clone();
    lifted[first_option..first_option + option_len]
        .copy_from_slice(&other_bytes[first_option..first_option + option_len]);
    assert!(Ballot::from_bytes(&lifted)
        .unwrap()
        .verify(&e.context, &mut e.rng)
        .is_err());

    // Every single byte flipped: either refused at decoding or at verification.
    for i in (0..bytes.len()).step_by(97) {
        let mut flipped = bytes.clone();
        flipped[i] ^= 0x10;
        if let Ok(b) = Ballot::from_bytes(&flipped) {
            assert!(b.verify(&e.context, &mut e.rng).is_err(), "byte {i}");
        }
    }
}

#[test]
fn garbage_and_truncated_ballots_are_refused() {
    let mut e = election(6);
    let ballot =
        Ballot::encrypt_and_cast(&e.context, &e.voters[2], &choices(), &mut e.rng).unwrap();
    let bytes = ballot.to_bytes();
    for len in [0, 1, 2, 34, 66, 70, bytes.len() / 2, bytes.len() - 1] {
        assert!(
            matches!(
                Ballot::from_bytes(&bytes[..len]),
                Err(BallotError::Decode(_))
            ),
            "len {len}"
        );
    }
    let mut long = bytes.clone();
    long.push(0);
    assert!(Ballot::from_bytes(&long).is_err());
    let mut version = bytes.clone();
    version[0] = 1; // the version before casts were signed apart from challenges
    assert!(Ballot::from_bytes(&version).is_err());
    assert!(Ballot::from_bytes(&[0xff; 300]).is_err());
}

#[test]
fn many_ballots_verify_in_one_batch_and_each_gets_its_verdict() {
    let mut e = election(7);
    let mut ballots: Vec<Ballot> = (0..12)
        .map(|i| {
            Ballot::encrypt_and_cast(&e.context, &e.voters[i % 5], &choices(), &mut e.rng).unwrap()
        })
        .collect();
    // Ballot 4: a proof byte flipped; ballot 9: the signature of ballot 8.
    let mut bytes = ballots[4].to_bytes();
    let at = bytes.len() - 200;
    bytes[at] ^= 1;
    ballots[4] = Ballot::from_bytes(&bytes).unwrap_or_else(|_| ballots[4].clone());
    let mut nine = ballots[9].to_bytes();
    let eight = ballots[8].to_bytes();
    let n = nine.len();
    nine[n - 64..].copy_from_slice(&eight[n - 64..]);
    ballots[9] = Ballot::from_bytes(&nine).unwrap();
    let verdicts = Ballot::verify_batch(ballots, &e.context, &mut e.rng);
    for (i, v) in verdicts.iter().enumerate() {
        match i {
            // The signature covers the body, so it fails first (it is queued first).
            4 => assert!(
                matches!(
                    v,
                    Err(BallotError::InvalidSignature | BallotError::InvalidProof { .. })
                ),
                "{v:?}"
            ),
            9 => assert_eq!(v.as_ref().err(), Some(&BallotError::InvalidSignature)),
            _ => assert!(v.is_ok(), "ballot {i}: {v:?}"),
        }
    }
}

/// The manifest's ballot length formula against real ballots of other shapes (ranges, limits
/// with a minimum), and manifests whose ballots the board could never hold are refused.
#[test]
fn the_manifest_states_its_ballot_length_and_refuses_oversize_ballots() {
    let bounds = [1u64, 3, 9];
    let manifest = common::manifest_of_bounds(&bounds);
    let mut rng = ChaCha20Rng::seed_from_u64(30);
    let (voters, list) = CredentialList::generate(1, &mut rng);
    let context = ElectionContext::new(manifest.clone(), outcome(1, 1, 30), list).unwrap();
    let b = Ballot::encrypt_and_cast(&context, &voters[0], &[vec![1], vec![3], vec![0]], &mut rng)
        .unwrap();
    assert_eq!(manifest.ballot_len(), b.to_bytes().len() as u64);

    // 200 contests of 200 options admitting 0..=1000 each: about 5 GB per ballot.
    let mut huge = Manifest::example();
    let contest = evote::election::Contest {
        id: "c".into(),
        title: "t".into(),
        options: (0..200).map(|i| format!("o{i}")).collect(),
        min_selections: 0,
        max_selections: 1000,
        option_limit: 1000,
    };
    huge.contests = (0..200)
        .map(|i| evote::election::Contest {
            id: format!("c{i}"),
            title: format!("contest {i}"),
            ..contest.clone()
        })
        .collect();
    assert!(matches!(
        huge.validate(),
        Err(evote::election::ManifestError::BallotTooLarge { bytes }) if bytes > 1 << 32
    ));
    // One contest of that kind fits.
    huge.contests.truncate(1);
    assert!(huge.validate().is_ok());
}

/// Names that look identical (the review of the election layer): "Café" composed and
/// decomposed, a Cyrillic "Аlice" beside a Latin "Alice", a right-to-left override, an
/// invisible zero-width space. Each is refused by `validate` (and so by `from_json`, V3 and
/// `ElectionContext::new`), naming the field; Ukrainian and English names stay usable in a whole
/// election.
#[test]
fn names_that_look_alike_or_hide_characters_are_refused() {
    let candidates = |options: &[&str]| {
        let mut m = Manifest::example();
        m.contests[1].options = options.iter().map(|o| o.to_string()).collect();
        m
    };
    let refused = [
        candidates(&["Caf\u{e9}", "Cafe\u{301}", "Bob"]),
        candidates(&["Alice", "\u{410}lice", "Bob"]),
        candidates(&["Alice", "\u{202E}ecilA", "Bob"]),
        candidates(&["Alice", "Al\u{200B}ice", "Bob"]),
        candidates(&["Candidate 1", "Candidate l", "Bob"]),
        {
            let mut m = Manifest::example();
            m.contests[2].title = m.contests[1].title.replace('o', "\u{43e}");
            m
        },
        {
            let mut m = Manifest::example();
            m.title = "Election\u{1b}[2J".into();
            m
        },
    ];
    let mut rng = ChaCha20Rng::seed_from_u64(40);
    for m in refused {
        let err = m.validate().unwrap_err();
        assert!(
            matches!(
                err,
                evote::election::ManifestError::BadText { .. }
                    | evote::election::ManifestError::Confusable { .. }
            ),
            "{err}"
        );
        assert!(Manifest::from_json(&m.to_json()).is_err());
        let (_, list) = CredentialList::generate(1, &mut rng);
        assert!(ElectionContext::new(m, outcome(1, 1, 40), list).is_err());
    }

    // A Ukrainian and English election: it validates, and a ballot is cast and verified.
    let mut m = Manifest::example();
    m.title = "Місцеві вибори / Local election".into();
    m.contests.truncate(2);
    m.contests[0].title = "Чи схвалюєте ви проєкт? / Do you approve the project?".into();
    m.contests[0].options = vec!["Так / Yes".into(), "Ні / No".into()];
    m.contests[1].title = "Голова громади / Head of the community".into();
    m.contests[1].options = [
        "Олена Петренко",
        "Мар\u{2019}яна Коваль",
        "Ґанна Їжакевич",
        "Mary O'Neil",
        "John Smith",
    ]
    .iter()
    .map(|o| o.to_string())
    .collect();
    m.validate().unwrap();
    assert_eq!(Manifest::from_json(&m.to_json()).unwrap(), m);
    let (voters, list) = CredentialList::generate(1, &mut rng);
    let context = ElectionContext::new(m, outcome(1, 1, 41), list).unwrap();
    let ballot = Ballot::encrypt_and_cast(
        &context,
        &voters[0],
        &[vec![1, 0], vec![0, 1, 0, 0, 0]],
        &mut rng,
    )
    .unwrap();
    assert!(ballot.verify(&context, &mut rng).is_ok());
}

/// Two elections that reuse the ceremony, the credential list and every field of the manifest
/// but the nonce have different election hashes: a ballot of one is refused by the other.
/// A manifest without a well-formed nonce is refused.
#[test]
fn elections_that_differ_only_by_their_nonce_do_not_share_ballots() {
    let mut rng = ChaCha20Rng::seed_from_u64(42);
    let shared_outcome = outcome(1, 1, 42);
    let (voters, list) = CredentialList::generate(2, &mut rng);
    let first = Manifest::example();
    let mut second = first.clone();
    second.nonce = Manifest::fresh_nonce(&mut rng);
    let a = ElectionContext::new(first.clone(), shared_outcome.clone(), list.clone()).unwrap();
    let b = ElectionContext::new(second, shared_outcome, list).unwrap();
    assert_ne!(a.hash(), b.hash());
    let ballot = Ballot::encrypt_and_cast(&a, &voters[0], &choices(), &mut rng).unwrap();
    assert!(ballot.clone().verify(&a, &mut rng).is_ok());
    assert!(ballot.verify(&b, &mut rng).is_err());
    for nonce in ["", "00", &"0".repeat(63), &"A".repeat(64), &"g".repeat(64)] {
        let mut m = first.clone();
        m.nonce = nonce.to_string();
        assert!(matches!(
            m.validate(),
            Err(evote::election::ManifestError::BadNonce)
        ));
    }
    let json = first.to_json().replace("\"nonce\"", "\"unknown\"");
    assert!(Manifest::from_json(&json).is_err());
}
