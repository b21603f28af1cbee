//! Schnorr and Chaum–Pedersen verification: random proofs never verify, mutated valid proofs
//! never verify, statements from arbitrary bytes never panic the verifier.
#![no_main]
use evote::proofs::{ChaumPedersenProof, SchnorrProof};
use evote::{GroupElement, PublicKey};
use evote_fuzz::{context, fixture};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let f = fixture();
    let pk = f.pair.public();
    if let Ok(p) = SchnorrProof::from_bytes(data) {
        assert_eq!(p.verify(&mut context(), pk).is_ok(), p == f.schnorr);
    }
    if let Ok(p) = ChaumPedersenProof::from_bytes(data) {
        assert_eq!(
            p.verify(&mut context(), pk, &f.base, &f.image).is_ok(),
            p == f.cp
        );
    }
    // Mutated valid proofs.
    let mut s = f.schnorr.to_bytes();
    let changed = evote_fuzz::mutate(&mut s, data.len(), data);
    if let Ok(p) = SchnorrProof::from_bytes(&s) {
        assert_eq!(p.verify(&mut context(), pk).is_ok(), !changed);
    }
    let mut c = f.cp.to_bytes();
    let changed = evote_fuzz::mutate(&mut c, data.len(), data);
    if let Ok(p) = ChaumPedersenProof::from_bytes(&c) {
        assert_eq!(
            p.verify(&mut context(), pk, &f.base, &f.image).is_ok(),
            !changed
        );
    }
    // Arbitrary statements.
    if data.len() >= 96 {
        if let (Ok(key), Ok(base), Ok(image)) = (
            PublicKey::from_bytes(&data[..32]),
            GroupElement::from_bytes(&data[32..64]),
            GroupElement::from_bytes(&data[64..96]),
        ) {
            let _ = f.schnorr.verify(&mut context(), &key);
            let _ = f.cp.verify(&mut context(), &key, &base, &image);
        }
    }
});
