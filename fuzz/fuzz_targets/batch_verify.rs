//! A batch of valid proofs of every kind, with one of them mutated by the input: the batch
//! fails exactly when something changed, and then names exactly that proof.
#![no_main]
use evote::proofs::{
    BatchVerifier, ChaumPedersenProof, RangeProof, SchnorrProof, SelectionLimitProof,
};
use evote_fuzz::{context, fixture};
use libfuzzer_sys::fuzz_target;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

fuzz_target!(|data: &[u8]| {
    let f = fixture();
    let pk = f.pair.public();
    let Some((&selector, mask)) = data.split_first() else {
        return;
    };
    let target = selector as usize % 5;
    let mut bytes: Vec<Vec<u8>> = vec![
        f.bit.1.to_bytes(),
        f.range9.1.to_bytes(),
        f.limit.to_bytes(),
        f.schnorr.to_bytes().to_vec(),
        f.cp.to_bytes().to_vec(),
    ];
    let original = bytes[target].clone();
    evote_fuzz::mutate(&mut bytes[target], selector as usize, mask);
    let changed = bytes[target] != original;
    let (Ok(bit), Ok(r9), Ok(limit), Ok(schnorr), Ok(cp)) = (
        RangeProof::from_bytes(&bytes[0]),
        RangeProof::from_bytes(&bytes[1]),
        SelectionLimitProof::from_bytes(&bytes[2]),
        SchnorrProof::from_bytes(&bytes[3]),
        ChaumPedersenProof::from_bytes(&bytes[4]),
    ) else {
        return;
    };
    let mut batch = BatchVerifier::new(ChaCha20Rng::seed_from_u64(u64::from(selector)));
    let queued = [
        batch
            .queue_range(&mut context(), &bit, pk, &f.bit.0, 0..=1)
            .is_ok(),
        batch
            .queue_range(&mut context(), &r9, pk, &f.range9.0, 0..=9)
            .is_ok(),
        batch
            .queue_selection_limit(&mut context(), &limit, pk, &f.contest, 0..=2)
            .is_ok(),
        {
            batch.queue_schnorr(&mut context(), &schnorr, pk);
            true
        },
        batch
            .queue_chaum_pedersen(&mut context(), &cp, pk, &f.base, &f.image)
            .is_ok(),
    ];
    if queued.iter().any(|q| !q) {
        // Only a changed proof can have a shape error, and then nothing else was affected.
        assert!(changed);
        return;
    }
    match batch.verify() {
        Ok(()) => assert!(!changed),
        Err(e) => {
            assert!(changed);
            assert_eq!(e.culprits().collect::<Vec<_>>(), vec![target]);
        }
    }
});
