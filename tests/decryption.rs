//! Threshold decryption of recomputed tallies: every t-subset decrypts, no (t-1)-subset does,
//! bad and replayed shares are named, and guardians refuse what they must refuse.

use curve25519_dalek::constants::RISTRETTO_BASEPOINT_POINT as G;
use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::scalar::Scalar;
use evote::ceremony::{
    adjudicate, run_locally, CeremonyOutcome, CeremonyParams, GuardianIndex, GuardianKeyShare,
};
use evote::decryption::{
    combine, verify_shares, CandidateShare, DecryptionError, EncryptedTally, ShareFault,
    DEFAULT_MIN_BALLOTS,
};
use evote::{KeyPair, SchnorrProof, Transcript};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

mod common;

fn ceremony(t: u32, n: u32, seed: u64) -> (CeremonyOutcome, Vec<GuardianKeyShare>) {
    let params = CeremonyParams::new([seed as u8; 32], t, n).unwrap();
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let (transcript, keys) = run_locally(&params, &mut rng).unwrap();
    (adjudicate(&transcript, &mut rng).unwrap(), keys)
}

/// A tally of `votes` (one row per ballot, one column per option) under the joint key: a
/// closed board of those ballots, tallied.
fn tally(
    outcome: &CeremonyOutcome,
    bounds: &[u64],
    votes: &[Vec<u64>],
    seed: u64,
) -> EncryptedTally {
    common::board_tally(outcome, bounds, votes, seed)
}

/// Every guardian's share of `tally`, told the tally's own head as the published one.
fn all_shares(
    keys: &mut [GuardianKeyShare],
    outcome: &CeremonyOutcome,
    tally: &EncryptedTally,
    rng: &mut ChaCha20Rng,
) -> Vec<CandidateShare> {
    keys.iter_mut()
        .map(|k| {
            k.decrypt_tally(outcome, tally, tally.board_head(), 2, rng)
                .unwrap()
        })
        .collect()
}

fn subsets(n: usize, size: usize) -> Vec<Vec<usize>> {
    (0u32..1 << n)
        .filter(|m| m.count_ones() as usize == size)
        .map(|m| (0..n).filter(|i| m >> i & 1 == 1).collect())
        .collect()
}

#[test]
fn every_t_subset_decrypts_and_no_smaller_one_does() {
    let votes = vec![vec![1, 0, 2], vec![0, 1, 2], vec![1, 1, 0]];
    let bounds = [1, 1, 2];
    let expected = vec![2, 2, 4];
    for n in 1..=7u32 {
        for t in 1..=n {
            let (outcome, mut keys) = ceremony(t, n, u64::from(n * 10 + t));
            let tally = tally(&outcome, &bounds, &votes, 1);
            let mut rng = ChaCha20Rng::seed_from_u64(2);
            let shares: Vec<CandidateShare> = keys
                .iter_mut()
                .map(|k| {
                    k.decrypt_tally(
                        &outcome,
                        &tally,
                        tally.board_head(),
                        DEFAULT_MIN_BALLOTS,
                        &mut rng,
                    )
                    .unwrap()
                })
                .collect();
            for subset in subsets(n as usize, t as usize) {
                let chosen: Vec<CandidateShare> =
                    subset.iter().map(|i| shares[*i].clone()).collect();
                let result = combine(&outcome, &tally, &chosen, &mut rng).unwrap();
                assert_eq!(result.counts, expected, "t={t} n={n} subset {subset:?}");
                assert!(result.invalid.is_empty());
            }
            if t >= 2 {
                for subset in subsets(n as usize, t as usize - 1) {
                    let chosen: Vec<CandidateShare> =
                        subset.iter().map(|i| shares[*i].clone()).collect();
                    let err = combine(&outcome, &tally, &chosen, &mut rng).unwrap_err();
                    assert!(
                        matches!(err, DecryptionError::NotEnoughShares { needed, .. } if needed == t)
                    );
                    // And forcing Lagrange interpolation over t-1 shares gives the wrong plaintext.
                    let indices: Vec<Scalar> =
                        subset.iter().map(|i| Scalar::from(*i as u64 + 1)).collect();
                    let mut m = RistrettoPoint::default();
                    for (pos, i) in subset.iter().enumerate() {
                        let xj = indices[pos];
                        let lambda = indices
                            .iter()
                            .filter(|x| **x != xj)
                            .fold(Scalar::ONE, |acc, xm| acc * xm * (xm - xj).invert());
                        m += shares[*i].shares()[0].as_point() * lambda;
                    }
                    assert_ne!(
                        tally.sums()[0].beta() - m,
                        G * Scalar::from(expected[0]),
                        "t-1 = {} decrypted",
                        t - 1
                    );
                }
            }
        }
    }
}

#[test]
fn bad_and_replayed_shares_are_named_and_the_rest_completes() {
    let (outcome, mut keys) = ceremony(3, 5, 77);
    let votes = vec![vec![1, 0], vec![1, 1], vec![0, 0], vec![1, 0]];
    let tally1 = tally(&outcome, &[1, 1], &votes, 3);
    let tally2 = tally(&outcome, &[1, 1], &votes[..3], 4);
    let mut rng = ChaCha20Rng::seed_from_u64(5);
    let shares = all_shares(&mut keys, &outcome, &tally1, &mut rng);

    // Guardian 1's share replayed from another tally; guardian 2's share with a flipped proof
    // byte; guardian 3's share presented as guardian 4's. None of the three is signed by the
    // guardian it names for this tally, so each is discarded and nobody is blamed; guardian 4's
    // own share still counts.
    // (A guardian decrypts one tally per election: the replay comes from a twin of the ceremony,
    // same seed, same keys, that decrypted the other tally.)
    let (_, mut twin) = ceremony(3, 5, 77);
    let replayed = twin[0]
        .decrypt_tally(&outcome, &tally2, tally2.board_head(), 2, &mut rng)
        .unwrap();
    let mut flipped = shares[1].to_bytes();
    flipped[74 + 32 + 64] ^= 1; // the first option's response s: still canonical, now wrong
    let flipped = CandidateShare::from_bytes(&flipped);
    let mut as_four = shares[2].to_bytes();
    as_four[2..6].copy_from_slice(&4u32.to_le_bytes());
    let as_four = CandidateShare::from_bytes(&as_four).unwrap();
    let mut submitted = vec![replayed, as_four, shares[4].clone(), shares[3].clone()];
    submitted.push(flipped.unwrap());
    let err = combine(&outcome, &tally1, &submitted, &mut rng).unwrap_err();
    let DecryptionError::NotEnoughShares {
        valid,
        invalid,
        discarded,
        missing,
        ..
    } = err
    else {
        panic!("{err}")
    };
    let g = |i| GuardianIndex::new(i).unwrap();
    assert_eq!(valid, vec![g(4), g(5)]);
    assert!(invalid.is_empty(), "{invalid:?}");
    assert_eq!(
        discarded,
        vec![
            (g(1), ShareFault::OtherTally),
            (g(2), ShareFault::Unauthenticated),
            (g(4), ShareFault::Unauthenticated)
        ]
    );
    assert_eq!(missing, vec![g(3)]);

    // With three honest shares beside a tampered one, the tally decrypts.
    let mut flipped = shares[1].to_bytes();
    flipped[74 + 32 + 64] ^= 1;
    let mut more = vec![shares[2].clone(), shares[4].clone(), shares[3].clone()];
    more.insert(0, CandidateShare::from_bytes(&flipped).unwrap());
    let result = combine(&outcome, &tally1, &more, &mut rng).unwrap();
    assert_eq!(result.combined, vec![g(3), g(4), g(5)]);
    assert!(result.invalid.is_empty());
    assert_eq!(result.discarded, vec![(g(2), ShareFault::Unauthenticated)]);
    assert_eq!(result.counts, vec![3, 1]);
}

/// The signature's message, as docs/ceremony.md gives it.
fn sign_share(key: &GuardianKeyShare, unsigned: &[u8], rng: &mut ChaCha20Rng) -> Vec<u8> {
    let mut t = Transcript::new(b"evote/decryption/v2");
    t.append_message(b"ceremony-context", &key.params().context_hash());
    t.append_message(b"share-package", unsigned);
    let pair = KeyPair::from_secret(key.expose_secret().clone());
    let signature = SchnorrProof::prove(&mut t, &pair, rng);
    let mut out = unsigned.to_vec();
    out.extend_from_slice(&signature.to_bytes());
    out
}

/// The share-suppression attack: anyone who sees valid shares adds a copy of each of two honest
/// guardians' shares with one digest byte flipped. Before shares were signed, `combine` took
/// each pair as a guardian's two different shares, threw out both valid ones, blamed the honest
/// guardians, and with three shares for a threshold of 2 ended in `NotEnoughShares`.
#[test]
fn tampered_copies_of_honest_shares_neither_suppress_nor_blame_them() {
    let (outcome, mut keys) = ceremony(2, 3, 78);
    let tally = tally(&outcome, &[1, 1], &[vec![1, 0], vec![1, 1], vec![0, 1]], 5);
    let mut rng = ChaCha20Rng::seed_from_u64(6);
    let shares = all_shares(&mut keys, &outcome, &tally, &mut rng);
    let mut submitted = shares.clone();
    for honest in &shares[..2] {
        let mut bytes = honest.to_bytes();
        bytes[6] ^= 1; // the first byte of the tally digest
        submitted.insert(0, CandidateShare::from_bytes(&bytes).unwrap());
    }
    let result = combine(&outcome, &tally, &submitted, &mut rng).unwrap();
    assert_eq!(result.counts, vec![2, 2]);
    assert!(result.invalid.is_empty());
    let g = |i| GuardianIndex::new(i).unwrap();
    assert_eq!(result.combined, vec![g(1), g(2)]);
    assert_eq!(
        result.discarded,
        vec![
            (g(1), ShareFault::Unauthenticated),
            (g(2), ShareFault::Unauthenticated)
        ]
    );
}

/// A corrupt guardian signs a share with a wrong proof: that it provably sent, so it is blamed
/// (and its share is not used); the honest ones still decrypt.
#[test]
fn a_guardian_is_blamed_only_for_what_it_signed() {
    let (outcome, mut keys) = ceremony(2, 3, 79);
    let tally = tally(&outcome, &[1], &[vec![1], vec![1]], 7);
    let mut rng = ChaCha20Rng::seed_from_u64(8);
    let shares = all_shares(&mut keys, &outcome, &tally, &mut rng);
    let bytes = shares[0].to_bytes();
    let mut unsigned = bytes[..bytes.len() - 64].to_vec();
    unsigned[74 + 32 + 64] ^= 1; // a wrong response in the proof of option 0
    let bad = CandidateShare::from_bytes(&sign_share(&keys[0], &unsigned, &mut rng)).unwrap();
    let result = combine(
        &outcome,
        &tally,
        &[bad, shares[1].clone(), shares[2].clone()],
        &mut rng,
    )
    .unwrap();
    let g = |i| GuardianIndex::new(i).unwrap();
    assert_eq!(
        result.invalid,
        vec![(g(1), ShareFault::InvalidProof { option: 0 })]
    );
    assert!(result.discarded.is_empty());
    assert_eq!(result.combined, vec![g(2), g(3)]);
    assert_eq!(result.counts, vec![2]);
    // The same content with the honest signature intact verifies: the test's signer is right.
    let resigned =
        CandidateShare::from_bytes(&sign_share(&keys[0], &bytes[..bytes.len() - 64], &mut rng))
            .unwrap();
    let verdict = verify_shares(&outcome, &tally, &[resigned], &mut rng);
    assert_eq!(verdict.verified.len(), 1);
}

#[test]
fn guardians_refuse_subset_tallies_and_foreign_keys() {
    let (outcome, mut keys) = ceremony(2, 3, 9);
    let one = tally(&outcome, &[1], &[vec![1]], 6);
    let mut rng = ChaCha20Rng::seed_from_u64(7);
    assert!(matches!(
        keys[0].decrypt_tally(
            &outcome,
            &one,
            one.board_head(),
            DEFAULT_MIN_BALLOTS,
            &mut rng
        ),
        Err(DecryptionError::TallyRefused { .. })
    ));
    let (other_outcome, _) = ceremony(2, 3, 10);
    let foreign = tally(&other_outcome, &[1], &[vec![1], vec![0]], 8);
    assert!(matches!(
        keys[0].decrypt_tally(
            &outcome,
            &foreign,
            foreign.board_head(),
            DEFAULT_MIN_BALLOTS,
            &mut rng
        ),
        Err(DecryptionError::TallyRefused { .. })
    ));
    assert!(matches!(
        keys[0].decrypt_tally(
            &other_outcome,
            &foreign,
            foreign.board_head(),
            DEFAULT_MIN_BALLOTS,
            &mut rng
        ),
        Err(DecryptionError::TallyRefused { .. })
    ));
}

#[test]
fn decryption_shares_roundtrip_and_garbage_is_refused() {
    let (outcome, mut keys) = ceremony(2, 2, 13);
    let t = tally(&outcome, &[1, 3], &[vec![1, 3], vec![0, 2]], 14);
    let mut rng = ChaCha20Rng::seed_from_u64(15);
    let share = keys[1]
        .decrypt_tally(&outcome, &t, t.board_head(), 2, &mut rng)
        .unwrap();
    let bytes = share.to_bytes();
    assert_eq!(bytes.len(), 138 + 2 * 128);
    assert_eq!(CandidateShare::from_bytes(&bytes).unwrap(), share);
    for len in [0, 5, 73, 137, bytes.len() - 1] {
        assert!(CandidateShare::from_bytes(&bytes[..len]).is_err());
    }
    let mut long = bytes.clone();
    long.push(0);
    assert!(CandidateShare::from_bytes(&long).is_err());
    let mut v2 = bytes.clone();
    v2[0] = 9;
    assert!(CandidateShare::from_bytes(&v2).is_err());
}
