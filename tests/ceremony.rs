//! The threshold key ceremony: completeness for every (t, n) up to 7, every kind of cheating
//! detected and named, packages canonical.

mod common;

use evote::ceremony::{
    adjudicate, part1, CeremonyError, CeremonyOutcome, CeremonyParams, CeremonyTranscript,
    CommitmentHashPackage, Complaint, EncryptedShare, GuardianIndex, GuardianKeyShare,
    Misbehaviour, RevealPackage, Round1Secret,
};
use evote::DecodeError;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

fn idx(i: u32) -> GuardianIndex {
    GuardianIndex::new(i).unwrap()
}

/// A test's edit of one round's broadcast.
type Hook<T> = Option<Box<dyn Fn(&mut Vec<T>)>>;

/// Hooks that let a test play a cheating guardian (or a faulty channel) between rounds.
#[derive(Default)]
struct Tamper {
    hashes: Hook<CommitmentHashPackage>,
    reveals: Hook<RevealPackage>,
    shares: Hook<EncryptedShare>,
    complaints: Hook<Complaint>,
}

/// A hook that flips `mask` into byte `at` of the sealed share from `from` to `to` (a share
/// that no longer authenticates, as a cheating dealer or a faulty channel would deliver).
fn corrupt_share(from: u32, to: u32, at: usize, mask: u8) -> Hook<EncryptedShare> {
    Some(Box::new(move |shares: &mut Vec<EncryptedShare>| {
        let s = shares
            .iter_mut()
            .find(|s| s.sender().get() == from && s.recipient().get() == to)
            .unwrap();
        let mut bytes = s.to_bytes();
        bytes[at] ^= mask;
        *s = EncryptedShare::from_bytes(&bytes).unwrap();
    }))
}

struct Run {
    transcript: CeremonyTranscript,
    outcome: Result<CeremonyOutcome, CeremonyError>,
    keys: Vec<(GuardianIndex, Result<GuardianKeyShare, CeremonyError>)>,
}

fn run(params: &CeremonyParams, seed: u64, tamper: Tamper) -> Run {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let (secrets1, mut hashes): (Vec<Round1Secret>, Vec<CommitmentHashPackage>) = params
        .indices()
        .map(|i| part1(params, i, &mut rng).unwrap())
        .unzip();
    if let Some(f) = &tamper.hashes {
        f(&mut hashes);
    }
    let mut secrets2 = Vec::new();
    let mut reveals = Vec::new();
    for s in secrets1 {
        // A guardian whose own hash was dropped cannot go on; it simply stops.
        if let Ok((s2, reveal)) = s.part2(&hashes) {
            secrets2.push(s2);
            reveals.push(reveal);
        }
    }
    if let Some(f) = &tamper.reveals {
        f(&mut reveals);
    }
    let mut secrets3 = Vec::new();
    let mut shares = Vec::new();
    for s in secrets2 {
        if let Ok((s3, mut sent)) = s.part3(&reveals, &mut rng) {
            secrets3.push(s3);
            shares.append(&mut sent);
        }
    }
    if let Some(f) = &tamper.shares {
        f(&mut shares);
    }
    let mut secrets4 = Vec::new();
    let mut complaints = Vec::new();
    for s in secrets3 {
        let (s4, mut c) = s.part4(&shares, &mut rng).unwrap();
        secrets4.push(s4);
        complaints.append(&mut c);
    }
    if let Some(f) = &tamper.complaints {
        f(&mut complaints);
    }
    let transcript = CeremonyTranscript {
        params: params.clone(),
        hashes,
        reveals,
        shares,
        complaints,
    };
    let outcome = adjudicate(&transcript, &mut rng);
    let keys = secrets4
        .into_iter()
        .map(|s| {
            let index = s.index();
            (index, s.finish(&transcript, &mut rng).map(|(k, _)| k))
        })
        .collect();
    Run {
        transcript,
        outcome,
        keys,
    }
}

fn params(t: u32, n: u32) -> CeremonyParams {
    CeremonyParams::new([7u8; 32], t, n).unwrap()
}

#[test]
fn every_threshold_up_to_seven_completes_consistently() {
    for n in 1..=7 {
        for t in 1..=n {
            let p = params(t, n);
            let r = run(&p, u64::from(10 * n + t), Tamper::default());
            let outcome = r.outcome.unwrap();
            assert_eq!(outcome.qualified().len(), n as usize, "t={t} n={n}");
            assert!(outcome.culprits().is_empty());
            for (i, key) in &r.keys {
                let key = key.as_ref().unwrap();
                assert_eq!(key.index(), *i);
                assert_eq!(Some(key.public()), outcome.key_share(*i));
            }
            // The secret shares interpolate to a key whose public key is the joint key:
            // checked through threshold decryption in tests/decryption.rs; here the public side.
            assert_eq!(
                adjudicate(&r.transcript, &mut ChaCha20Rng::seed_from_u64(1)).unwrap(),
                outcome
            );
        }
    }
}

#[test]
fn parameters_and_indices_are_validated() {
    assert!(matches!(
        CeremonyParams::new([0; 32], 0, 3),
        Err(CeremonyError::InvalidParameters { .. })
    ));
    assert!(matches!(
        CeremonyParams::new([0; 32], 4, 3),
        Err(CeremonyError::InvalidParameters { .. })
    ));
    assert!(matches!(
        CeremonyParams::new([0; 32], 1, 256),
        Err(CeremonyError::InvalidParameters { .. })
    ));
    assert!(matches!(
        GuardianIndex::new(0),
        Err(CeremonyError::InvalidIndex { .. })
    ));
    let p = params(2, 3);
    let mut rng = ChaCha20Rng::seed_from_u64(0);
    assert!(matches!(
        part1(&p, idx(4), &mut rng),
        Err(CeremonyError::InvalidIndex { .. })
    ));
}

fn culprits(r: &Run) -> Vec<(GuardianIndex, Misbehaviour)> {
    match &r.outcome {
        Ok(o) => o.culprits().to_vec(),
        Err(CeremonyError::NotEnoughGuardians { culprits, .. }) => culprits.clone(),
        Err(e) => panic!("unexpected {e}"),
    }
}

fn assert_honest_finish(r: &Run, excluded: &[u32]) {
    let outcome = r.outcome.as_ref().unwrap();
    for (i, key) in &r.keys {
        if excluded.contains(&i.get()) {
            continue;
        }
        let key = key.as_ref().unwrap_or_else(|e| panic!("{i}: {e}"));
        assert_eq!(Some(key.public()), outcome.key_share(*i));
    }
    for e in excluded {
        assert!(!outcome.qualified().contains(&idx(*e)));
    }
}

#[test]
fn a_bad_share_is_complained_about_and_its_sender_named() {
    let p = params(2, 4);
    let r = run(
        &p,
        1,
        Tamper {
            shares: corrupt_share(2, 3, 20, 1),
            ..Tamper::default()
        },
    );
    assert_eq!(r.transcript.complaints.len(), 1);
    assert_eq!(r.transcript.complaints[0].complainer(), idx(3));
    assert_eq!(r.transcript.complaints[0].accused(), idx(2));
    assert_eq!(
        culprits(&r),
        vec![(idx(2), Misbehaviour::InvalidShare { recipient: idx(3) })]
    );
    assert_honest_finish(&r, &[2]);
    let (_, key2) = r.keys.iter().find(|(i, _)| i.get() == 2).unwrap();
    assert!(matches!(key2, Err(CeremonyError::Disqualified { .. })));
}

/// Every complaint slot is judged, not only the first complaint of a pair: a complainer that
/// files two different complaints against one guardian is an equivocator, whichever comes
/// first, and an exact repeat of a complaint is one complaint.
#[test]
fn two_different_complaints_against_one_guardian_are_equivocation() {
    let p = params(2, 4);
    let tamper = |second: fn(&Complaint) -> Complaint| Tamper {
        shares: corrupt_share(2, 3, 20, 1),
        complaints: Some(Box::new(move |complaints: &mut Vec<Complaint>| {
            let extra = second(&complaints[0]);
            complaints.insert(0, extra);
        })),
        ..Tamper::default()
    };
    // A copy with its proof's response changed, placed first.
    let r = run(
        &p,
        1,
        tamper(|c| {
            let mut bytes = c.to_bytes();
            bytes[137] ^= 1; // the last byte of the proof's response: still canonical
            Complaint::from_bytes(&bytes).unwrap()
        }),
    );
    assert_eq!(culprits(&r), vec![(idx(3), Misbehaviour::Equivocation)]);
    // An exact repeat: judged once, as the single complaint it is.
    let r = run(&p, 1, tamper(|c| c.clone()));
    assert_eq!(
        culprits(&r),
        vec![(idx(2), Misbehaviour::InvalidShare { recipient: idx(3) })]
    );
    assert_honest_finish(&r, &[2]);
}

#[test]
fn shares_redirected_to_another_recipient_do_not_open() {
    // Guardian 1's sealed shares for 3 and for 4 exchanged: a share sealed for one guardian
    // cannot be opened by another, so both complain and guardian 1 is disqualified.
    let p = params(3, 4);
    let r = run(
        &p,
        2,
        Tamper {
            shares: Some(Box::new(|shares: &mut Vec<EncryptedShare>| {
                let a = shares
                    .iter()
                    .position(|s| s.sender().get() == 1 && s.recipient().get() == 3)
                    .unwrap();
                let b = shares
                    .iter()
                    .position(|s| s.sender().get() == 1 && s.recipient().get() == 4)
                    .unwrap();
                let (sa, sb) = (shares[a].to_bytes(), shares[b].to_bytes());
                let mut na = sa.clone();
                na[10..].copy_from_slice(&sb[10..]);
                let mut nb = sb.clone();
                nb[10..].copy_from_slice(&sa[10..]);
                shares[a] = EncryptedShare::from_bytes(&na).unwrap();
                shares[b] = EncryptedShare::from_bytes(&nb).unwrap();
            })),
            ..Tamper::default()
        },
    );
    // Shares for 3 cannot be opened by 4 and vice versa: both complain, guardian 1 is out.
    assert_eq!(r.transcript.complaints.len(), 2);
    assert_eq!(
        culprits(&r),
        vec![(idx(1), Misbehaviour::InvalidShare { recipient: idx(3) })]
    );
    assert_honest_finish(&r, &[1]);
}

#[test]
fn a_false_complaint_disqualifies_the_complainer() {
    let p = params(2, 3);
    // Guardian 3 publishes a (correctly proven) complaint against 1 although 1's share is valid.
    let r = run(
        &p,
        3,
        Tamper {
            // Guardian 3 receives a bad share from 1, so it files a genuine complaint ...
            shares: corrupt_share(1, 3, 30, 4),
            ..Tamper::default()
        },
    );
    // ... then judge that complaint against the original, valid share.
    let honest = run(&p, 3, Tamper::default());
    let mut transcript = honest.transcript.clone();
    transcript.complaints = r.transcript.complaints.clone();
    let outcome = adjudicate(&transcript, &mut ChaCha20Rng::seed_from_u64(0)).unwrap();
    assert_eq!(
        outcome.culprits(),
        &[(idx(3), Misbehaviour::FalseComplaint { accused: idx(1) })]
    );
    assert_eq!(outcome.qualified(), &[idx(1), idx(2)]);
}

#[test]
fn a_complaint_with_a_forged_key_reveal_is_refused() {
    let p = params(2, 3);
    let base = run(
        &p,
        4,
        Tamper {
            shares: corrupt_share(2, 1, 40, 1),
            ..Tamper::default()
        },
    );
    assert_eq!(base.transcript.complaints.len(), 1);
    // The same complaint presented as coming from guardian 3 (its proof is bound to 1).
    let mut bytes = base.transcript.complaints[0].to_bytes();
    bytes[2..6].copy_from_slice(&3u32.to_le_bytes());
    let forged = Complaint::from_bytes(&bytes).unwrap();
    let mut t = base.transcript.clone();
    t.complaints = vec![forged];
    let outcome = adjudicate(&t, &mut ChaCha20Rng::seed_from_u64(0)).unwrap();
    assert!(outcome
        .culprits()
        .contains(&(idx(3), Misbehaviour::InvalidComplaint { accused: idx(2) })));
}

#[test]
fn a_reveal_that_does_not_match_its_hash_is_refused() {
    // Guardian 2 changes its mind after seeing the others' hashes (the rushing, key-biasing
    // attack of Gennaro-Jarecki-Krawczyk-Rabin): it reveals guardian-2 commitments made fresh.
    let p = params(2, 3);
    let r = run(
        &p,
        5,
        Tamper {
            reveals: Some(Box::new(|reveals: &mut Vec<RevealPackage>| {
                let mut rng = ChaCha20Rng::seed_from_u64(99);
                let (fresh, _) = part1(&params(2, 3), idx(2), &mut rng).unwrap();
                let (_, fresh_hash) =
                    part1(&params(2, 3), idx(2), &mut ChaCha20Rng::seed_from_u64(99)).unwrap();
                let (_, reveal) = fresh.part2(&[fresh_hash]).unwrap();
                let at = reveals.iter().position(|r| r.sender().get() == 2).unwrap();
                reveals[at] = reveal;
            })),
            ..Tamper::default()
        },
    );
    assert_eq!(
        culprits(&r),
        vec![(idx(2), Misbehaviour::CommitmentMismatch)]
    );
    assert_honest_finish(&r, &[2]);
}

#[test]
fn a_copied_reveal_fails_its_proofs_of_knowledge() {
    // Guardian 3 commits to and reveals guardian 1's commitments and proofs under its own
    // index (the rogue-key copy of A9): the proofs are bound to index 1 and fail.
    let p = params(2, 3);
    let copy = |r: &RevealPackage| {
        let mut bytes = r.to_bytes();
        bytes[2..6].copy_from_slice(&3u32.to_le_bytes());
        RevealPackage::from_bytes(&bytes).unwrap()
    };
    let r = run(
        &p,
        6,
        Tamper {
            reveals: Some(Box::new(move |reveals: &mut Vec<RevealPackage>| {
                let first = reveals
                    .iter()
                    .find(|r| r.sender().get() == 1)
                    .unwrap()
                    .clone();
                let at = reveals.iter().position(|r| r.sender().get() == 3).unwrap();
                reveals[at] = copy(&first);
            })),
            ..Tamper::default()
        },
    );
    // Without the matching hash the copy is caught as a mismatch first ...
    assert_eq!(
        culprits(&r),
        vec![(idx(3), Misbehaviour::CommitmentMismatch)]
    );
    // ... and with a matching hash, by its proofs.
    let mut t = r.transcript.clone();
    let copied = t
        .reveals
        .iter()
        .find(|r| r.sender().get() == 3)
        .unwrap()
        .clone();
    let mut hash_bytes = vec![1u8, 1];
    hash_bytes.extend_from_slice(&3u32.to_le_bytes());
    hash_bytes.extend_from_slice(&copied.commitment_hash(&p));
    let h = CommitmentHashPackage::from_bytes(&hash_bytes).unwrap();
    t.hashes.retain(|h| h.sender().get() != 3);
    t.hashes.push(h);
    let outcome = adjudicate(&t, &mut ChaCha20Rng::seed_from_u64(0)).unwrap();
    assert_eq!(
        outcome.culprits().first(),
        Some(&(
            idx(3),
            Misbehaviour::InvalidProofOfKnowledge { coefficient: 0 }
        ))
    );
}

#[test]
fn missing_and_equivocating_guardians_are_named_and_the_rest_completes() {
    let p = params(2, 4);
    let r = run(
        &p,
        7,
        Tamper {
            hashes: Some(Box::new(|hashes: &mut Vec<CommitmentHashPackage>| {
                hashes.retain(|h| h.sender().get() != 4); // guardian 4 never shows up
            })),
            shares: Some(Box::new(|shares: &mut Vec<EncryptedShare>| {
                shares.retain(|s| !(s.sender().get() == 1 && s.recipient().get() == 2));
                // 1 skips 2
            })),
            ..Tamper::default()
        },
    );
    assert_eq!(
        culprits(&r),
        vec![
            (idx(1), Misbehaviour::MissingShare { recipient: idx(2) }),
            (idx(4), Misbehaviour::MissingCommitmentHash)
        ]
    );
    assert_honest_finish(&r, &[1, 4]);
    assert_eq!(r.outcome.as_ref().unwrap().qualified(), &[idx(2), idx(3)]);
}

#[test]
fn too_few_honest_guardians_fail_with_the_culprits_named() {
    let p = params(3, 4);
    let r = run(
        &p,
        8,
        Tamper {
            hashes: Some(Box::new(|hashes: &mut Vec<CommitmentHashPackage>| {
                hashes.retain(|h| h.sender().get() != 4 && h.sender().get() != 1);
            })),
            ..Tamper::default()
        },
    );
    let err = r.outcome.unwrap_err();
    assert_eq!(err.culprits(), vec![idx(1), idx(4)]);
    assert!(matches!(
        err,
        CeremonyError::NotEnoughGuardians {
            qualified: 2,
            threshold: 3,
            ..
        }
    ));
}

#[test]
fn packages_roundtrip_canonically_and_garbage_is_refused() {
    let p = params(3, 4);
    let r = run(
        &p,
        9,
        Tamper {
            shares: corrupt_share(2, 1, 57, 1),
            ..Tamper::default()
        },
    );
    assert!(!r.transcript.complaints.is_empty());
    for h in &r.transcript.hashes {
        assert_eq!(
            CommitmentHashPackage::from_bytes(&h.to_bytes()).unwrap(),
            *h
        );
    }
    for x in &r.transcript.reveals {
        assert_eq!(RevealPackage::from_bytes(&x.to_bytes()).unwrap(), *x);
        assert_eq!(x.to_bytes().len(), 106 + 96 * 3);
    }
    for s in &r.transcript.shares {
        assert_eq!(EncryptedShare::from_bytes(&s.to_bytes()).unwrap(), *s);
    }
    for c in &r.transcript.complaints {
        assert_eq!(Complaint::from_bytes(&c.to_bytes()).unwrap(), *c);
    }
    let whole = r.transcript.to_bytes();
    assert_eq!(
        CeremonyTranscript::from_bytes(&whole).unwrap(),
        r.transcript
    );
    for len in [0, 1, 41, whole.len() / 2, whole.len() - 1] {
        assert!(
            CeremonyTranscript::from_bytes(&whole[..len]).is_err(),
            "len {len}"
        );
    }
    let mut long = whole.clone();
    long.push(0);
    assert!(CeremonyTranscript::from_bytes(&long).is_err());
    let reveal = r.transcript.reveals[0].to_bytes();
    for len in [0, 1, 9, reveal.len() - 1] {
        assert!(
            RevealPackage::from_bytes(&reveal[..len]).is_err(),
            "len {len}"
        );
    }
    let mut wrong_version = reveal.clone();
    wrong_version[0] = 2;
    assert_eq!(
        RevealPackage::from_bytes(&wrong_version),
        Err(DecodeError::UnsupportedVersion {
            what: "reveal package",
            version: 2
        })
    );
    let mut wrong_kind = reveal.clone();
    wrong_kind[1] = 3;
    assert!(matches!(
        RevealPackage::from_bytes(&wrong_kind),
        Err(DecodeError::Malformed { .. })
    ));
    let mut zero_index = r.transcript.shares[0].to_bytes();
    zero_index[2..6].fill(0);
    assert!(matches!(
        EncryptedShare::from_bytes(&zero_index),
        Err(DecodeError::Malformed { .. })
    ));
    let mut identity_commitment = reveal.clone();
    identity_commitment[10..42].fill(0);
    assert!(matches!(
        RevealPackage::from_bytes(&identity_commitment),
        Err(DecodeError::IdentityPoint { .. })
    ));
    assert!(CommitmentHashPackage::from_bytes(&[1u8; 69]).is_err());
    assert!(Complaint::from_bytes(&[1u8; 138]).is_err());
}

/// What one corrupt guardian does to the broadcast in the randomised ceremony test.
#[derive(Clone, Copy, Debug)]
enum Fault {
    /// Sends nothing to one recipient.
    DropShare { to: u32 },
    /// Sends every one of its shares twice, byte for byte.
    DuplicateShares,
    /// Sends one recipient a share that does not open.
    CorruptShare { to: u32 },
    /// Never reveals.
    WithholdReveal,
    /// Sends one recipient two different shares.
    EquivocateShare { to: u32 },
    /// Addresses the share meant for one guardian to another.
    WrongRecipient { to: u32, instead: u32 },
    /// Broadcasts its hash and reveal twice, byte for byte.
    DuplicateHashAndReveal,
}

fn rewrite_share(share: &EncryptedShare, edit: impl Fn(&mut Vec<u8>)) -> EncryptedShare {
    let mut bytes = share.to_bytes();
    edit(&mut bytes);
    EncryptedShare::from_bytes(&bytes).unwrap()
}

/// Applies every corrupt guardian's faults to the round-3 broadcast.
fn apply_share_faults(shares: &mut Vec<EncryptedShare>, faults: &[(u32, Fault)]) {
    for &(who, fault) in faults {
        let from =
            |s: &EncryptedShare, to: u32| s.sender().get() == who && s.recipient().get() == to;
        match fault {
            Fault::DropShare { to } => shares.retain(|s| !from(s, to)),
            Fault::DuplicateShares => {
                let copies: Vec<_> = shares
                    .iter()
                    .filter(|s| s.sender().get() == who)
                    .cloned()
                    .collect();
                shares.extend(copies);
            }
            Fault::CorruptShare { to } => {
                for s in shares.iter_mut().filter(|s| from(s, to)) {
                    *s = rewrite_share(s, |b| b[20] ^= 0x40);
                }
            }
            Fault::EquivocateShare { to } => {
                let other: Vec<_> = shares
                    .iter()
                    .filter(|s| from(s, to))
                    .map(|s| rewrite_share(s, |b| b[30] ^= 1))
                    .collect();
                shares.extend(other);
            }
            Fault::WrongRecipient { to, instead } => {
                for s in shares.iter_mut().filter(|s| from(s, to)) {
                    *s = rewrite_share(s, |b| b[6..10].copy_from_slice(&instead.to_le_bytes()));
                }
            }
            Fault::WithholdReveal | Fault::DuplicateHashAndReveal => {}
        }
    }
}

/// The invariant of the public adjudication: with at most `n - t` corrupt guardians doing any
/// mix of dropping, duplicating, corrupting, withholding, equivocating and misaddressing, the
/// ceremony completes, every honest guardian finishes with the published key share, and only
/// corrupt guardians are named. (A guardian that duplicated its shares once made every honest
/// guardian's `finish` fail while the adjudication published a key: an election that could
/// never be decrypted.)
#[test]
fn corrupt_guardians_never_stop_the_honest_ones_from_finishing() {
    use rand_core::RngCore;
    for seed in 0..60u64 {
        let mut rng = ChaCha20Rng::seed_from_u64(1000 + seed);
        let n = 3 + (rng.next_u32() % 4); // 3..=6
        let t = 1 + (rng.next_u32() % n);
        let corrupt_count = rng.next_u32() % (n - t + 1);
        let mut corrupt: Vec<u32> = Vec::new();
        while (corrupt.len() as u32) < corrupt_count {
            let g = 1 + rng.next_u32() % n;
            if !corrupt.contains(&g) {
                corrupt.push(g);
            }
        }
        let other = |rng: &mut ChaCha20Rng, me: u32| loop {
            let g = 1 + rng.next_u32() % n;
            if g != me {
                break g;
            }
        };
        let mut faults: Vec<(u32, Fault)> = Vec::new();
        for &who in &corrupt {
            for _ in 0..1 + rng.next_u32() % 2 {
                let to = other(&mut rng, who);
                let fault = match rng.next_u32() % 7 {
                    0 => Fault::DropShare { to },
                    1 => Fault::DuplicateShares,
                    2 => Fault::CorruptShare { to },
                    3 => Fault::WithholdReveal,
                    4 => Fault::EquivocateShare { to },
                    5 => {
                        let instead = loop {
                            let g = other(&mut rng, who);
                            if g != to || n == 2 {
                                break g;
                            }
                        };
                        Fault::WrongRecipient { to, instead }
                    }
                    _ => Fault::DuplicateHashAndReveal,
                };
                faults.push((who, fault));
            }
        }
        let p = params(t, n);
        let (f1, f2, f3) = (faults.clone(), faults.clone(), faults.clone());
        let r = run(
            &p,
            seed,
            Tamper {
                hashes: Some(Box::new(move |hashes: &mut Vec<CommitmentHashPackage>| {
                    for &(who, fault) in &f1 {
                        if matches!(fault, Fault::DuplicateHashAndReveal) {
                            let copy: Vec<_> = hashes
                                .iter()
                                .filter(|h| h.sender().get() == who)
                                .cloned()
                                .collect();
                            hashes.extend(copy);
                        }
                    }
                })),
                reveals: Some(Box::new(move |reveals: &mut Vec<RevealPackage>| {
                    for &(who, fault) in &f2 {
                        match fault {
                            Fault::WithholdReveal => reveals.retain(|r| r.sender().get() != who),
                            Fault::DuplicateHashAndReveal => {
                                let copy: Vec<_> = reveals
                                    .iter()
                                    .filter(|r| r.sender().get() == who)
                                    .cloned()
                                    .collect();
                                reveals.extend(copy);
                            }
                            _ => {}
                        }
                    }
                })),
                shares: Some(Box::new(move |shares: &mut Vec<EncryptedShare>| {
                    apply_share_faults(shares, &f3)
                })),
                ..Tamper::default()
            },
        );
        let context = format!("seed {seed}, t={t}, n={n}, faults {faults:?}");
        let outcome = r
            .outcome
            .as_ref()
            .unwrap_or_else(|e| panic!("{context}: {e}"));
        for (who, _) in outcome.culprits() {
            assert!(
                corrupt.contains(&who.get()),
                "{context}: honest {who} named"
            );
        }
        for (i, key) in &r.keys {
            if corrupt.contains(&i.get()) {
                continue;
            }
            let key = key
                .as_ref()
                .unwrap_or_else(|e| panic!("{context}: honest {i}: {e}"));
            assert_eq!(Some(key.public()), outcome.key_share(*i), "{context}");
        }
        // Every honest guardian is qualified; the outcome is the same for everyone.
        for g in 1..=n {
            if !corrupt.contains(&g) {
                assert!(outcome.qualified().contains(&idx(g)), "{context}");
            }
        }
        assert_eq!(
            &adjudicate(&r.transcript, &mut ChaCha20Rng::seed_from_u64(2)).unwrap(),
            outcome
        );
    }
}

#[test]
fn a_guardian_that_duplicates_its_shares_does_not_stop_the_election() {
    let p = params(2, 3);
    let r = run(
        &p,
        11,
        Tamper {
            shares: Some(Box::new(|shares: &mut Vec<EncryptedShare>| {
                apply_share_faults(shares, &[(1, Fault::DuplicateShares)])
            })),
            ..Tamper::default()
        },
    );
    // Exact repeats are merged on both sides: nobody is at fault, everyone finishes.
    assert!(culprits(&r).is_empty());
    assert_honest_finish(&r, &[]);
    assert_eq!(r.outcome.as_ref().unwrap().qualified().len(), 3);
}

#[test]
fn transcript_sections_are_bounded_by_the_number_of_guardians() {
    let p = params(2, 3);
    let mut r = run(&p, 12, Tamper::default());
    // Two packages per slot decode (one, and a different one as evidence of equivocation).
    let shares = r.transcript.shares.clone();
    r.transcript.shares.extend(shares.iter().cloned());
    assert_eq!(r.transcript.shares.len(), 12);
    assert!(CeremonyTranscript::from_bytes(&r.transcript.to_bytes()).is_ok());
    // One more is refused before anything else of the section is read.
    r.transcript.shares.push(shares[0].clone());
    assert!(matches!(
        CeremonyTranscript::from_bytes(&r.transcript.to_bytes()),
        Err(DecodeError::TooLarge {
            max: 12,
            actual: 13,
            ..
        })
    ));
    let mut r = run(&p, 13, Tamper::default());
    let hashes = r.transcript.hashes.clone();
    r.transcript.hashes.extend(hashes.iter().cloned());
    r.transcript.hashes.push(hashes[0].clone());
    assert!(matches!(
        CeremonyTranscript::from_bytes(&r.transcript.to_bytes()),
        Err(DecodeError::TooLarge {
            max: 6,
            actual: 7,
            ..
        })
    ));
}

/// The one bias Pedersen's DKG leaves (docs/ceremony.md, "What a corrupt guardian can bias"):
/// guardian 1, after seeing every reveal, withholds its shares whenever dropping out gives the
/// key it prefers (bit 1 of enc(K) equal to 0). It gets that bit in about 3/4 of the
/// ceremonies instead of 1/2, and the key is always one of its two candidates: it selects, it
/// never chooses.
#[test]
fn a_withholding_guardian_biases_one_key_bit_and_no_more() {
    use curve25519_dalek::ristretto::RistrettoPoint;
    use std::cell::RefCell;
    use std::rc::Rc;
    let p = params(2, 3);
    let runs = 200u64;
    let mut preferred = 0;
    let mut withheld = 0;
    for seed in 0..runs {
        let seen: Rc<RefCell<Vec<RevealPackage>>> = Rc::default();
        let (record, decide) = (seen.clone(), seen.clone());
        let candidates = |reveals: &[RevealPackage]| {
            let all: RistrettoPoint = reveals.iter().map(|r| r.commitments()[0].as_point()).sum();
            let mine = reveals
                .iter()
                .find(|r| r.sender().get() == 1)
                .unwrap()
                .commitments()[0]
                .as_point();
            (all, all - mine)
        };
        // Bit 0 of a ristretto255 encoding is always 0 (the encoding is non-negative): use bit 1.
        let wants = |k: &RistrettoPoint| k.compress().as_bytes()[0] & 2 == 0;
        let r = run(
            &p,
            5000 + seed,
            Tamper {
                reveals: Some(Box::new(move |reveals: &mut Vec<RevealPackage>| {
                    *record.borrow_mut() = reveals.clone();
                })),
                shares: Some(Box::new(move |shares: &mut Vec<EncryptedShare>| {
                    let (with, without) = candidates(&decide.borrow());
                    if !wants(&with) && wants(&without) {
                        shares.retain(|s| s.sender().get() != 1);
                    }
                })),
                ..Tamper::default()
            },
        );
        let (with, without) = candidates(&seen.borrow());
        let outcome = r.outcome.unwrap();
        let key = *outcome.joint_key().as_point();
        assert!(key == with || key == without, "seed {seed}: a third key");
        if key == without {
            withheld += 1;
            assert_eq!(
                outcome.culprits(),
                &[(idx(1), Misbehaviour::MissingShare { recipient: idx(2) })]
            );
        }
        if wants(&key) {
            preferred += 1;
        }
    }
    // Expected 150 of 200 (3/4), standard deviation ≈ 6.1: the bounds are four deviations out.
    assert!((125..=175).contains(&preferred), "{preferred} of {runs}");
    assert!(withheld > 0 && withheld < runs);
}

/// Rounds 1-4 of an honest ceremony: the guardians' round-4 secrets and the transcript.
fn rounds(
    params: &CeremonyParams,
    seed: u64,
) -> (Vec<evote::ceremony::Round4Secret>, CeremonyTranscript) {
    common::ceremony_rounds(params, seed, |_| {})
}

#[test]
fn a_guardian_finishes_from_a_shared_outcome_only_if_it_is_its_ceremonys() {
    let p = params(2, 3);
    let (secrets, transcript) = rounds(&p, 71);
    let outcome = adjudicate(&transcript, &mut ChaCha20Rng::seed_from_u64(1)).unwrap();
    // The same key shares as each guardian's own adjudication.
    let (again, _) = rounds(&p, 71);
    for (s, t) in secrets.into_iter().zip(again) {
        let shared = s.finish_adjudicated(&outcome).unwrap();
        let (own, _) = t
            .finish(&transcript, &mut ChaCha20Rng::seed_from_u64(2))
            .unwrap();
        assert_eq!(shared.public(), own.public());
    }
    // An outcome of another ceremony with the same parameters (other polynomials): the shares
    // this guardian holds do not sum to the X_j it names.
    let (secrets, _) = rounds(&p, 72);
    let (_, other) = rounds(&p, 73);
    let foreign = adjudicate(&other, &mut ChaCha20Rng::seed_from_u64(1)).unwrap();
    for s in secrets {
        assert!(matches!(
            s.finish_adjudicated(&foreign),
            Err(CeremonyError::InconsistentKeyShare)
        ));
    }
    // An outcome of other parameters is refused outright.
    let (secrets, _) = rounds(&p, 74);
    let (_, wider) = rounds(&params(2, 4), 75);
    let wider = adjudicate(&wider, &mut ChaCha20Rng::seed_from_u64(1)).unwrap();
    assert!(matches!(
        secrets
            .into_iter()
            .next()
            .unwrap()
            .finish_adjudicated(&wider),
        Err(CeremonyError::UnexpectedPackage { .. })
    ));
}
