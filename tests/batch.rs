//! Batch verification finds and names exactly the bad proofs.

use evote::proofs::{
    BatchVerifier, ChaumPedersenProof, RangeProof, SchnorrProof, SelectionLimitProof,
};
use evote::{
    BatchFailure, Ciphertext, EncryptionKey, GroupElement, KeyPair, ProofKind, Transcript,
};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

fn context(ballot: u64) -> Transcript {
    let mut t = Transcript::new(b"evote-test");
    t.append_message(b"election", b"batch");
    t.append_u64(b"ballot", ballot);
    t
}

struct Ballots {
    pair: KeyPair,
    items: Vec<(Ciphertext, RangeProof)>,
}

fn ballots(n: u64, seed: u64) -> Ballots {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let pair = KeyPair::generate(&mut rng);
    let key = EncryptionKey::new(pair.public());
    let items = (0..n)
        .map(|i| {
            let (ct, _, proof) =
                RangeProof::encrypt_and_prove(&mut context(i), &key, i % 2, 0..=1, &mut rng)
                    .unwrap();
            (ct, proof)
        })
        .collect();
    Ballots { pair, items }
}

fn verify_all(
    b: &Ballots,
    items: &[(Ciphertext, RangeProof)],
    seed: u64,
) -> Result<(), evote::BatchError> {
    let mut batch = BatchVerifier::new(ChaCha20Rng::seed_from_u64(seed));
    for (i, (ct, proof)) in items.iter().enumerate() {
        let position = batch
            .queue_range(&mut context(i as u64), proof, b.pair.public(), ct, 0..=1)
            .unwrap();
        assert_eq!(position, i);
    }
    batch.verify()
}

#[test]
fn one_bad_proof_among_a_thousand_is_named() {
    let b = ballots(1000, 1);
    verify_all(&b, &b.items, 7).unwrap();
    // Proof 437 moved onto ballot 438's ciphertext (a proof lifted from another ballot).
    let mut items = b.items.clone();
    items[437].1 = b.items[438].1.clone();
    let err = verify_all(&b, &items, 8).unwrap_err();
    assert_eq!(
        err.failures,
        vec![BatchFailure {
            index: 437,
            kind: ProofKind::Range
        }]
    );
    assert_eq!(err.culprits().collect::<Vec<_>>(), vec![437]);
}

#[test]
fn several_bad_proofs_are_all_named() {
    let b = ballots(300, 2);
    let mut items = b.items.clone();
    for bad in [0usize, 1, 150, 299] {
        // A ciphertext changed under its proof.
        items[bad].0 = items[bad].0 + items[(bad + 7) % 300].0;
    }
    let err = verify_all(&b, &items, 9).unwrap_err();
    assert_eq!(err.culprits().collect::<Vec<_>>(), vec![0, 1, 150, 299]);
    let message = err.to_string();
    assert!(
        message.contains("4 proof(s)") && message.contains("#150"),
        "{message}"
    );
}

#[test]
fn every_ballot_bad() {
    let b = ballots(16, 3);
    let items: Vec<_> = b
        .items
        .iter()
        .map(|(ct, p)| (*ct + *ct, p.clone()))
        .collect();
    let err = verify_all(&b, &items, 10).unwrap_err();
    assert_eq!(
        err.culprits().collect::<Vec<_>>(),
        (0..16).collect::<Vec<_>>()
    );
}

#[test]
fn empty_batch_verifies() {
    let batch = BatchVerifier::new(ChaCha20Rng::seed_from_u64(0));
    assert!(batch.is_empty());
    batch.verify().unwrap();
}

#[test]
fn mixed_kinds_share_one_check_and_failures_name_their_kind() {
    let mut rng = ChaCha20Rng::seed_from_u64(4);
    let pair = KeyPair::generate(&mut rng);
    let key = EncryptionKey::new(pair.public());
    let guardian = KeyPair::generate(&mut rng);

    let schnorr = SchnorrProof::prove(&mut context(0), &guardian, &mut rng);
    let base = GroupElement::from_point(evote::group::random_point(&mut rng));
    let image = GroupElement::from_point(base.as_point() * guardian.secret().expose_scalar());
    let cp =
        ChaumPedersenProof::prove(&mut context(1), &guardian, &base, &image, &mut rng).unwrap();
    let (ct, _, range) =
        RangeProof::encrypt_and_prove(&mut context(2), &key, 3, 0..=5, &mut rng).unwrap();
    let (cts, openings): (Vec<_>, Vec<_>) = [1u64, 0, 1]
        .iter()
        .map(|v| Ciphertext::encrypt_with_opening(&key, *v, &mut rng))
        .unzip();
    let limit = SelectionLimitProof::prove(&mut context(3), &key, &cts, &openings, 0..=2, &mut rng)
        .unwrap();

    let run = |schnorr_key: &KeyPair,
               cp_image: &GroupElement,
               range_ct: &Ciphertext,
               limit_cts: &[Ciphertext]| {
        let mut batch = BatchVerifier::new(ChaCha20Rng::seed_from_u64(5));
        batch.queue_schnorr(&mut context(0), &schnorr, schnorr_key.public());
        batch
            .queue_chaum_pedersen(&mut context(1), &cp, guardian.public(), &base, cp_image)
            .unwrap();
        batch
            .queue_range(&mut context(2), &range, pair.public(), range_ct, 0..=5)
            .unwrap();
        batch
            .queue_selection_limit(&mut context(3), &limit, pair.public(), limit_cts, 0..=2)
            .unwrap();
        assert_eq!(batch.len(), 4);
        assert!(!batch.is_empty());
        batch.verify()
    };
    run(&guardian, &image, &ct, &cts).unwrap();

    let other_image = GroupElement::from_point(image.as_point() + base.as_point());
    let other_ct = Ciphertext::encrypt(&key, 3, &mut rng);
    let mut other_cts = cts.clone();
    other_cts.reverse();
    let err = run(&pair, &other_image, &other_ct, &other_cts).unwrap_err();
    assert_eq!(
        err.failures,
        vec![
            BatchFailure {
                index: 0,
                kind: ProofKind::Schnorr
            },
            BatchFailure {
                index: 1,
                kind: ProofKind::ChaumPedersen
            },
            BatchFailure {
                index: 2,
                kind: ProofKind::Range
            },
            BatchFailure {
                index: 3,
                kind: ProofKind::SelectionLimit
            },
        ]
    );
    let err = run(&guardian, &image, &other_ct, &cts).unwrap_err();
    assert_eq!(err.culprits().collect::<Vec<_>>(), vec![2]);
}

#[test]
fn statement_errors_are_reported_at_queue_time_and_queue_nothing() {
    let b = ballots(2, 6);
    let mut batch = BatchVerifier::new(ChaCha20Rng::seed_from_u64(1));
    let (ct, proof) = &b.items[0];
    assert!(batch
        .queue_range(&mut context(0), proof, b.pair.public(), ct, 0..=2)
        .is_err());
    assert!(batch.is_empty());
    batch.verify().unwrap();
}
