//! A real ballot with bytes XORed in: decoding never panics, accepted bytes re-encode
//! identically, and a changed ballot never verifies (alone or in a batch with a valid one).
#![no_main]
use std::sync::OnceLock;

use evote::ceremony::{adjudicate, run_locally, CeremonyParams};
use evote::election::{Ballot, CredentialList, ElectionContext, Manifest};
use libfuzzer_sys::fuzz_target;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

struct Fixture {
    context: ElectionContext,
    ballot: Vec<u8>,
    other: Ballot,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let mut rng = ChaCha20Rng::seed_from_u64(5);
        let params = CeremonyParams::new([5; 32], 2, 3).unwrap();
        let (transcript, _) = run_locally(&params, &mut rng).unwrap();
        let outcome = adjudicate(&transcript, &mut rng).unwrap();
        let (voters, list) = CredentialList::generate(2, &mut rng);
        let context = ElectionContext::new(Manifest::example(), outcome, list).unwrap();
        let choices = vec![
            vec![1, 0],
            vec![0, 0, 1, 0, 0],
            vec![0, 1, 0, 0, 0, 0, 1, 0],
            vec![3, 0, 2, 0],
        ];
        let ballot = Ballot::encrypt_and_cast(&context, &voters[0], &choices, &mut rng).unwrap();
        let other = Ballot::encrypt_and_cast(&context, &voters[1], &choices, &mut rng).unwrap();
        Fixture {
            context,
            ballot: ballot.to_bytes(),
            other,
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let f = fixture();
    let [hi, lo, mask @ ..] = data else {
        return;
    };
    let at = usize::from(u16::from_be_bytes([*hi, *lo])) % f.ballot.len();
    let mut bytes = f.ballot.clone();
    for (i, x) in mask.iter().enumerate() {
        if let Some(b) = bytes.get_mut(at + i) {
            *b ^= x;
        }
    }
    let changed = bytes != f.ballot;
    let Ok(ballot) = Ballot::from_bytes(&bytes) else {
        assert!(changed);
        return;
    };
    assert_eq!(ballot.to_bytes(), bytes);
    let mut rng = ChaCha20Rng::seed_from_u64(u64::from(*hi));
    let alone = ballot.clone().verify(&f.context, &mut rng).is_ok();
    assert_eq!(alone, !changed, "a changed ballot verified");
    let batch = Ballot::verify_batch(vec![f.other.clone(), ballot], &f.context, &mut rng);
    assert!(batch[0].is_ok());
    assert_eq!(batch[1].is_ok(), !changed);
});
