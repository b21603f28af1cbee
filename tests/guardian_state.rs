//! A guardian that survives restarts (`ceremony::Guardian`): a whole ceremony in which every
//! guardian is sealed, dropped and reopened between rounds; rounds that fail leave the state
//! intact and rounds repeated send the same message; the encoding refuses anything but a
//! consistent state; the sealed file refuses a wrong passphrase, any changed byte and hostile
//! key-derivation parameters; the one-decryption rule survives a restart.

mod common;
use common::board_tally;

use evote::ceremony::{
    CeremonyParams, CeremonyTranscript, Guardian, GuardianIndex, KdfParams, Message, Stage,
    StateError,
};
use evote::decryption::{combine, DEFAULT_MIN_BALLOTS};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

/// Cheap KDF parameters for tests that seal many times (the default is 64 MiB, 3 passes).
const LIGHT: KdfParams = KdfParams {
    memory_kib: 8 << 10,
    iterations: 1,
    parallelism: 1,
};

fn restart(g: Guardian, passphrase: &[u8], rng: &mut ChaCha20Rng) -> Guardian {
    let sealed = g.seal_with(passphrase, LIGHT, rng).unwrap();
    let bytes = g.to_bytes().to_vec();
    drop(g);
    let g = Guardian::unseal(&sealed, passphrase).unwrap();
    // Canonical: the reopened state encodes to the same bytes.
    assert_eq!(g.to_bytes().as_slice(), bytes.as_slice());
    g
}

/// Runs a t-of-n ceremony through `Guardian`, restarting every guardian between rounds.
fn ceremony(t: u32, n: u32, rng: &mut ChaCha20Rng) -> (Vec<Guardian>, CeremonyTranscript) {
    let params = CeremonyParams::new([9; 32], t, n).unwrap();
    let mut guardians: Vec<Guardian> = (1..=n)
        .map(|i| Guardian::start(&params, GuardianIndex::new(i).unwrap(), rng).unwrap())
        .collect();
    let pass = |i: usize| format!("passphrase of guardian {i}").into_bytes();
    let round = |guardians: Vec<Guardian>, rng: &mut ChaCha20Rng| -> Vec<Guardian> {
        guardians
            .into_iter()
            .enumerate()
            .map(|(i, g)| restart(g, &pass(i), rng))
            .collect()
    };
    guardians = round(guardians, rng);
    let hashes: Vec<_> = guardians
        .iter()
        .map(|g| match g.message() {
            Some(Message::Hash(h)) => h,
            other => panic!("{other:?}"),
        })
        .collect();
    for g in &mut guardians {
        g.reveal(&hashes).unwrap();
    }
    guardians = round(guardians, rng);
    let reveals: Vec<_> = guardians
        .iter()
        .map(|g| match g.message() {
            Some(Message::Reveal(r)) => *r,
            other => panic!("{other:?}"),
        })
        .collect();
    for g in &mut guardians {
        g.share(&reveals, rng).unwrap();
    }
    guardians = round(guardians, rng);
    let shares: Vec<_> = guardians
        .iter()
        .flat_map(|g| match g.message() {
            Some(Message::Shares(s)) => s,
            other => panic!("{other:?}"),
        })
        .collect();
    for g in &mut guardians {
        g.check(&shares, rng).unwrap();
    }
    guardians = round(guardians, rng);
    let complaints: Vec<_> = guardians
        .iter()
        .flat_map(|g| match g.message() {
            Some(Message::Complaints(c)) => c,
            other => panic!("{other:?}"),
        })
        .collect();
    let transcript = CeremonyTranscript {
        params,
        hashes,
        reveals,
        shares,
        complaints,
    };
    (guardians, transcript)
}

#[test]
fn a_ceremony_restarted_between_every_round_decrypts_and_the_one_decryption_rule_survives() {
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let (mut guardians, transcript) = ceremony(3, 5, &mut rng);
    let mut outcome = None;
    for g in &mut guardians {
        let o = g.finish(&transcript, &mut rng).unwrap();
        assert_eq!(g.stage(), Stage::Finished);
        // Finishing again (a retry) keeps the key and gives the same election key.
        let again = g.finish(&transcript, &mut rng).unwrap();
        assert_eq!(again.joint_key(), o.joint_key());
        outcome = Some(o);
    }
    let outcome = outcome.unwrap();
    let mut guardians: Vec<Guardian> = guardians
        .into_iter()
        .map(|g| restart(g, b"pass", &mut rng))
        .collect();
    let tally = board_tally(&outcome, &[1, 1], &[vec![1, 0], vec![1, 1], vec![0, 1]], 5);
    let shares: Vec<_> = guardians
        .iter_mut()
        .take(3)
        .map(|g| {
            g.key_share_mut()
                .unwrap()
                .decrypt_tally(&outcome, &tally, tally.board_head(), 1, &mut rng)
                .unwrap()
        })
        .collect();
    let result = combine(&outcome, &tally, &shares, &mut rng).unwrap();
    assert_eq!(result.counts, vec![2, 2]);
    // After a restart, a guardian that decrypted one tally still refuses another.
    let other = board_tally(&outcome, &[1, 1], &[vec![0, 0], vec![1, 1]], 6);
    let mut first = restart(guardians.remove(0), b"pass", &mut rng);
    assert!(first
        .key_share_mut()
        .unwrap()
        .decrypt_tally(
            &outcome,
            &other,
            other.board_head(),
            DEFAULT_MIN_BALLOTS.min(1),
            &mut rng
        )
        .is_err());
    // The same tally again is allowed (an idempotent retry).
    assert!(first
        .key_share_mut()
        .unwrap()
        .decrypt_tally(&outcome, &tally, tally.board_head(), 1, &mut rng)
        .is_ok());
}

#[test]
fn a_failed_round_changes_nothing_and_a_repeated_round_sends_the_same_message() {
    let mut rng = ChaCha20Rng::seed_from_u64(2);
    let params = CeremonyParams::new([3; 32], 2, 3).unwrap();
    let mut gs: Vec<Guardian> = (1..=3)
        .map(|i| Guardian::start(&params, GuardianIndex::new(i).unwrap(), &mut rng).unwrap())
        .collect();
    let hashes: Vec<_> = gs
        .iter()
        .map(|g| match g.message() {
            Some(Message::Hash(h)) => h,
            _ => unreachable!(),
        })
        .collect();
    // Guardian 1's own hash lost on the channel: refused, nothing consumed.
    let before = gs[0].to_bytes().to_vec();
    assert!(gs[0].reveal(&hashes[1..]).is_err());
    assert_eq!(gs[0].stage(), Stage::Committed);
    assert_eq!(gs[0].to_bytes().as_slice(), before.as_slice());
    // Steps out of order are refused and change nothing.
    assert!(gs[0].share(&[], &mut rng).is_err());
    assert!(gs[0].check(&[], &mut rng).is_err());
    assert_eq!(gs[0].to_bytes().as_slice(), before.as_slice());
    for g in &mut gs {
        g.reveal(&hashes).unwrap();
        let m = g.message();
        // Again (another channel delivery): nothing changes.
        g.reveal(&hashes).unwrap();
        assert_eq!(g.message(), m);
    }
    let reveals: Vec<_> = gs
        .iter()
        .map(|g| match g.message() {
            Some(Message::Reveal(r)) => *r,
            _ => unreachable!(),
        })
        .collect();
    // Too few reveals: refused, still at round 2.
    assert!(gs[0].share(&reveals[..1], &mut rng).is_err());
    assert_eq!(gs[0].stage(), Stage::Revealed);
    gs[0].share(&reveals, &mut rng).unwrap();
    let sent = gs[0].message();
    // Round 3 draws randomness; asked again with another generator, it sends what it sent.
    gs[0]
        .share(&reveals, &mut ChaCha20Rng::seed_from_u64(99))
        .unwrap();
    assert_eq!(gs[0].message(), sent);
    let restarted = Guardian::from_bytes(&gs[0].to_bytes()).unwrap();
    assert_eq!(restarted.message(), sent);
}

#[test]
fn the_state_encoding_refuses_every_cut_extension_and_splice() {
    let mut rng = ChaCha20Rng::seed_from_u64(3);
    let (guardians, transcript) = ceremony(2, 3, &mut rng);
    let mut states: Vec<Vec<u8>> = Vec::new();
    // One state per stage: restart a fresh ceremony's guardian 1 at each.
    let params = transcript.params.clone();
    let mut g = Guardian::start(&params, GuardianIndex::new(1).unwrap(), &mut rng).unwrap();
    states.push(g.to_bytes().to_vec());
    g.reveal(&transcript.hashes).unwrap_or(());
    drop(g);
    for g in &guardians {
        states.push(g.to_bytes().to_vec());
    }
    for (s, bytes) in states.iter().enumerate() {
        for cut in 0..bytes.len() {
            assert!(
                Guardian::from_bytes(&bytes[..cut]).is_err(),
                "state {s} cut at {cut}"
            );
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(Guardian::from_bytes(&longer).is_err(), "state {s} extended");
        let mut version = bytes.clone();
        version[0] ^= 1;
        assert!(Guardian::from_bytes(&version).is_err());
        // The index changed: the reveal inside is another guardian's.
        let mut index = bytes.clone();
        index[42] = if index[42] == 1 { 2 } else { 1 };
        assert!(
            Guardian::from_bytes(&index).is_err(),
            "state {s} re-indexed"
        );
    }
    // A polynomial coefficient or the share-encryption key changed (state of round 1, whose
    // secrets start at byte 46): the published commitments no longer match.
    for at in [46, 50, 46 + 32, 46 + 64 + 5] {
        let mut changed = states[0].clone();
        changed[at] ^= 1;
        assert!(Guardian::from_bytes(&changed).is_err(), "byte {at}");
    }
    // A received share of round 4 changed decodes (nothing public vouches for it inside the
    // state; the sealed file's AEAD does), but the key it makes is refused at the end.
    let mut tampered = guardians[0].to_bytes().to_vec();
    let at = tampered.len() - 10 - 4; // inside the last received share, before the empty complaint list
    tampered[at] ^= 1;
    if let Ok(mut g) = Guardian::from_bytes(&tampered) {
        assert!(g.finish(&transcript, &mut rng).is_err());
    }
}

#[test]
fn a_sealed_state_refuses_wrong_passphrases_changed_bytes_and_hostile_parameters() {
    let mut rng = ChaCha20Rng::seed_from_u64(4);
    let params = CeremonyParams::new([4; 32], 2, 3).unwrap();
    let g = Guardian::start(&params, GuardianIndex::new(2).unwrap(), &mut rng).unwrap();
    let sealed = g.seal_with(b"correct horse", LIGHT, &mut rng).unwrap();
    assert!(Guardian::unseal(&sealed, b"correct horse").is_ok());
    assert!(matches!(
        Guardian::unseal(&sealed, b"correct hors"),
        Err(StateError::WrongPassphrase)
    ));
    // Every byte changed, one at a time: refused (the header is the AEAD's associated data).
    for at in 0..sealed.len() {
        let mut bad = sealed.clone();
        bad[at] ^= 0x01;
        match Guardian::unseal(&bad, b"correct horse") {
            Err(StateError::WrongPassphrase | StateError::Format(_)) => {}
            other => panic!("byte {at}: {other:?}"),
        }
    }
    for cut in [0, 10, 56, 57, sealed.len() - 1] {
        assert!(Guardian::unseal(&sealed[..cut], b"correct horse").is_err());
    }
    // A file that asks for 4 GiB of memory or 2^32 passes is refused before any work.
    for (offset, value) in [(17, u32::MAX), (17, 1), (21, u32::MAX), (21, 0), (25, 64)] {
        let mut hostile = sealed.clone();
        hostile[offset..offset + 4].copy_from_slice(&value.to_le_bytes());
        assert!(matches!(
            Guardian::unseal(&hostile, b"correct horse"),
            Err(StateError::Format(_))
        ));
    }
    // Two seals of one state differ (fresh salt and nonce) and both open.
    let again = g.seal_with(b"correct horse", LIGHT, &mut rng).unwrap();
    assert_ne!(again, sealed);
    assert!(Guardian::unseal(&again, b"correct horse").is_ok());
    // The default parameters (64 MiB, 3 passes) seal and open too.
    let strong = g.seal(b"correct horse", &mut rng).unwrap();
    assert!(Guardian::unseal(&strong, b"correct horse").is_ok());
    // The state's Debug names no secret.
    let shown = format!("{g:?}");
    assert!(shown.contains("redacted") && shown.len() < 80, "{shown}");
}

/// Found by the `guardian_state` fuzz target: a round-4 state listing its received shares out
/// of order decoded, and re-encoded differently (sorted). Every list is in increasing sender
/// order, or refused.
#[test]
fn lists_in_a_state_must_be_in_sender_order() {
    let mut rng = ChaCha20Rng::seed_from_u64(6);
    let (guardians, _) = ceremony(2, 3, &mut rng);
    let bytes = guardians[0].to_bytes().to_vec();
    // Stage 4 of guardian 1: own share (32) after the 46-byte header, then 2 received shares of
    // 36 bytes each (index, scalar): swap them.
    let (a, b) = (46 + 32 + 4, 46 + 32 + 4 + 36);
    let mut swapped = bytes.clone();
    swapped[a..a + 36].copy_from_slice(&bytes[b..b + 36]);
    swapped[b..b + 36].copy_from_slice(&bytes[a..a + 36]);
    assert!(Guardian::from_bytes(&bytes).is_ok());
    assert!(Guardian::from_bytes(&swapped).is_err());
}
