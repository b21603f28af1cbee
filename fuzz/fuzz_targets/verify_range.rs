//! Range-proof verification: arbitrary bytes never verify, and a valid proof with any nonzero
//! change (to the proof or to the ciphertext) never verifies; nothing panics.
#![no_main]
use evote::proofs::RangeProof;
use evote::Ciphertext;
use evote_fuzz::{context, fixture};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let f = fixture();
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let (ct, proof, max) = if selector & 1 == 0 {
        (&f.bit.0, &f.bit.1, 1)
    } else {
        (&f.range9.0, &f.range9.1, 9)
    };
    let pk = f.pair.public();
    match selector >> 1 & 3 {
        0 => {
            // Raw bytes as a proof.
            if let Ok(p) = RangeProof::from_bytes(rest) {
                assert!(p.verify(&mut context(), pk, ct, 0..=max).is_err() || p == *proof);
            }
        }
        1 => {
            // A mutated valid proof.
            let mut bytes = proof.to_bytes();
            let offset = rest.first().copied().unwrap_or(0) as usize * 7;
            let changed = evote_fuzz::mutate(&mut bytes, offset, rest.get(1..).unwrap_or(&[]));
            if let Ok(p) = RangeProof::from_bytes(&bytes) {
                let ok = p.verify(&mut context(), pk, ct, 0..=max).is_ok();
                assert_eq!(ok, !changed);
            }
        }
        2 => {
            // A mutated ciphertext under the valid proof.
            let mut bytes = ct.to_bytes();
            let changed = evote_fuzz::mutate(&mut bytes, 0, rest);
            if let Ok(c) = Ciphertext::from_bytes(&bytes) {
                let ok = proof.verify(&mut context(), pk, &c, 0..=max).is_ok();
                assert_eq!(ok, !changed);
            }
        }
        _ => {
            // Another range.
            let (lo, hi) = (
                rest.first().copied().unwrap_or(0) as u64,
                rest.get(1).copied().unwrap_or(0) as u64,
            );
            let ok = proof.verify(&mut context(), pk, ct, lo..=hi).is_ok();
            assert_eq!(ok, lo == 0 && hi == max);
        }
    }
});
