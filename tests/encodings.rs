//! The encodings that cross a process or a restart: the voter context (`context.bin`), the
//! ceremony outcome and parameters, the canonical manifest, and the encrypted tally read back
//! as a candidate. Each round-trips byte for byte, refuses every truncation and every trailing
//! byte, and is refused when any one field is changed — by decoding, or (for the voter
//! context) because the changed context is another election than the one trusted.

use evote::ceremony::{adjudicate, CeremonyOutcome, CeremonyParams};
use evote::election::{ContextError, Manifest, VoterContext};
use evote::simulation::Election;
use evote::tally::TallyCandidate;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

fn election(seed: u64) -> Election {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let mut manifest = Manifest::example();
    manifest.nonce = Manifest::fresh_nonce(&mut rng);
    Election::new([seed as u8; 32], 2, 3, manifest, 4, &mut rng).unwrap()
}

#[test]
fn the_voter_context_round_trips_and_hashes_to_the_full_context() {
    let e = election(1);
    let bytes = e.context.voter().to_bytes();
    let voter = VoterContext::from_bytes(&bytes, e.context.hash()).unwrap();
    assert_eq!(voter.hash(), e.context.hash());
    assert_eq!(voter.to_bytes(), bytes);
    assert_eq!(voter.public_key(), e.context.public_key());
    assert_eq!(voter.key_shares().len(), 3);
    assert_eq!(voter.credential_root(), &e.context.credentials().root());
    assert!(bytes.len() as u64 <= VoterContext::MAX_BYTES);
    eprintln!(
        "voter context: {} bytes (manifest {} bytes, 3 guardians)",
        bytes.len(),
        e.context.manifest().to_bytes().len()
    );
}

#[test]
fn the_voter_context_refuses_every_truncation_every_extension_and_every_flipped_byte() {
    let e = election(2);
    let trusted = *e.context.hash();
    let bytes = e.context.voter().to_bytes();
    for cut in 0..bytes.len() {
        assert!(
            VoterContext::from_bytes(&bytes[..cut], &trusted).is_err(),
            "cut at {cut}"
        );
    }
    let mut longer = bytes.clone();
    longer.push(0);
    assert!(VoterContext::from_bytes(&longer, &trusted).is_err());
    // Every single bit of every byte: either the bytes no longer decode, or they decode to
    // another election (WrongElection). None is accepted under the trusted hash.
    let mut wrong_election = 0;
    for i in 0..bytes.len() {
        for bit in 0..8 {
            let mut flipped = bytes.clone();
            flipped[i] ^= 1 << bit;
            match VoterContext::from_bytes(&flipped, &trusted) {
                Ok(_) => panic!("byte {i} bit {bit} flipped was accepted"),
                Err(ContextError::WrongElection { found }) => {
                    assert_ne!(found, trusted);
                    wrong_election += 1;
                }
                Err(_) => {}
            }
        }
    }
    assert!(wrong_election > 0);
    // Another election's context is refused under this hash, accepted under its own.
    let other = election(3);
    let other_bytes = other.context.voter().to_bytes();
    assert!(matches!(
        VoterContext::from_bytes(&other_bytes, &trusted),
        Err(ContextError::WrongElection { .. })
    ));
    assert!(VoterContext::from_bytes(&other_bytes, other.context.hash()).is_ok());
}

/// The attacker who controls the ballot box serves a context of its own making: its own key
/// (whose secret it knows), the real manifest, the real digests and key shares. It cannot make
/// that hash to the trusted `H_E`, so the voter encrypts nothing under it.
#[test]
fn a_ballot_box_serving_its_own_key_is_caught_before_anything_is_encrypted() {
    let e = election(4);
    let trusted = *e.context.hash();
    let honest = e.context.voter().to_bytes();
    let mut rng = ChaCha20Rng::seed_from_u64(40);
    let attacker = evote::KeyPair::generate(&mut rng);
    let m = u32::from_le_bytes(honest[2..6].try_into().unwrap()) as usize;
    let key_at = 6 + m;
    let mut forged = honest.clone();
    forged[key_at..key_at + 32].copy_from_slice(attacker.public().as_bytes());
    assert!(matches!(
        VoterContext::from_bytes(&forged, &trusted),
        Err(ContextError::WrongElection { .. })
    ));
    // Reordered, repeated or dropped key shares: refused by decoding or by the hash.
    let shares_at = key_at + 32 + 64 + 32 + 4 + 4;
    let mut dropped = honest[..shares_at].to_vec();
    dropped.extend_from_slice(&2u32.to_le_bytes());
    dropped.extend_from_slice(&honest[shares_at + 4..shares_at + 4 + 72]);
    dropped.extend_from_slice(&honest[honest.len() - 64..]);
    assert!(VoterContext::from_bytes(&dropped, &trusted).is_err());
    let mut swapped = honest.clone();
    let (a, b) = (shares_at + 4, shares_at + 4 + 36);
    let first = honest[a..a + 36].to_vec();
    swapped[a..a + 36].copy_from_slice(&honest[b..b + 36]);
    swapped[b..b + 36].copy_from_slice(&first);
    assert!(VoterContext::from_bytes(&swapped, &trusted).is_err());
}

#[test]
fn the_canonical_manifest_round_trips_and_refuses_what_is_not_canonical() {
    let mut manifest = Manifest::example();
    manifest.nonce = Manifest::fresh_nonce(&mut ChaCha20Rng::seed_from_u64(5));
    let bytes = manifest.to_bytes();
    let back = Manifest::from_bytes(&bytes).unwrap();
    assert_eq!(back, manifest);
    assert_eq!(back.hash(), manifest.hash());
    for cut in 0..bytes.len() {
        assert!(Manifest::from_bytes(&bytes[..cut]).is_err(), "cut at {cut}");
    }
    let mut longer = bytes.clone();
    longer.push(0);
    assert!(Manifest::from_bytes(&longer).is_err());
    // Version byte, revoting byte (offset after the id, nonce and title), a name's length.
    let mut v = bytes.clone();
    v[0] ^= 1;
    assert!(Manifest::from_bytes(&v).is_err());
    let id_len = u32::from_le_bytes(bytes[1..5].try_into().unwrap()) as usize;
    let title_at = 5 + id_len + 32;
    let title_len = u32::from_le_bytes(bytes[title_at..title_at + 4].try_into().unwrap()) as usize;
    let revoting_at = title_at + 4 + title_len;
    for value in [2u8, 255] {
        let mut r = bytes.clone();
        r[revoting_at] = value;
        assert!(Manifest::from_bytes(&r).is_err());
    }
    let mut huge = bytes.clone();
    huge[1..5].copy_from_slice(&u32::MAX.to_le_bytes());
    assert!(Manifest::from_bytes(&huge).is_err());
}

#[test]
fn ceremony_parameters_and_outcome_round_trip_and_an_outcome_is_read_back_only_by_adjudication() {
    let params = CeremonyParams::new([9; 32], 2, 3).unwrap();
    let bytes = params.to_bytes();
    assert_eq!(CeremonyParams::from_bytes(&bytes).unwrap(), params);
    for (t, n) in [(0u32, 3u32), (4, 3), (1, 256)] {
        let mut b = bytes;
        b[32..36].copy_from_slice(&t.to_le_bytes());
        b[36..40].copy_from_slice(&n.to_le_bytes());
        assert!(CeremonyParams::from_bytes(&b).is_err(), "t={t} n={n}");
    }
    assert!(CeremonyParams::from_bytes(&bytes[..39]).is_err());

    let e = election(6);
    let mut rng = ChaCha20Rng::seed_from_u64(60);
    let outcome = e.context.outcome().to_bytes();
    let confirmed = CeremonyOutcome::confirm(&outcome, &e.transcript, &mut rng).unwrap();
    assert_eq!(confirmed.to_bytes(), outcome);
    assert_eq!(
        adjudicate(&e.transcript, &mut rng).unwrap().to_bytes(),
        outcome
    );
    for i in 0..outcome.len() {
        let mut flipped = outcome.clone();
        flipped[i] ^= 1;
        assert!(
            CeremonyOutcome::confirm(&flipped, &e.transcript, &mut rng).is_err(),
            "byte {i}"
        );
    }
    let other = election(7);
    assert!(CeremonyOutcome::confirm(&outcome, &other.transcript, &mut rng).is_err());
}

#[test]
fn an_encrypted_tally_reads_back_only_as_a_candidate_that_matches_it_byte_for_byte() {
    let e = election(8);
    let dir = tempfile::tempdir().unwrap();
    let board = dir.path().join("board.bin");
    let mut rng = ChaCha20Rng::seed_from_u64(80);
    {
        let key = evote::election::BallotBoxKey::generate(&mut rng);
        let mut b = evote::election::BallotBoard::create(&board, &e.context, key).unwrap();
        // Each contest's first `min` options (a blank vote where the contest allows one).
        let selections: Vec<Vec<u64>> = e
            .context
            .manifest()
            .contests
            .iter()
            .map(|c| {
                (0..c.options.len())
                    .map(|i| u64::from((i as u64) < c.min_selections.max(1)))
                    .collect()
            })
            .collect();
        for voter in &e.voters {
            let ballot =
                evote::election::Ballot::encrypt_and_cast(&e.context, voter, &selections, &mut rng)
                    .unwrap();
            b.append(&e.context, &ballot.to_bytes(), &mut rng).unwrap();
        }
        b.close(&mut rng).unwrap();
    }
    let tally = evote::election::board::tally(&board, &e.context, &mut rng).unwrap();
    let bytes = tally.to_bytes();
    let candidate = TallyCandidate::from_bytes(&bytes).unwrap();
    assert!(candidate.matches(&tally));
    assert_eq!(candidate.digest(), tally.digest());
    assert_eq!(candidate.ballots(), 4);
    for cut in 0..bytes.len() {
        assert!(
            TallyCandidate::from_bytes(&bytes[..cut]).is_err(),
            "cut at {cut}"
        );
    }
    let mut longer = bytes.clone();
    longer.push(0);
    assert!(TallyCandidate::from_bytes(&longer).is_err());
    // Any flipped bit: refused, or a candidate that is not this tally (and is bound to
    // another digest, so no share made for the real tally serves it).
    for i in 0..bytes.len() {
        let mut flipped = bytes.clone();
        flipped[i] ^= 0x10;
        if let Ok(c) = TallyCandidate::from_bytes(&flipped) {
            assert!(!c.matches(&tally), "byte {i}");
            assert_ne!(c.digest(), tally.digest(), "byte {i}");
        }
    }
}
