//! Selection-limit verification with mutated proofs, ciphertexts, counts and limits.
#![no_main]
use evote::proofs::SelectionLimitProof;
use evote::Ciphertext;
use evote_fuzz::{context, fixture};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let f = fixture();
    let pk = f.pair.public();
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    match selector % 3 {
        0 => {
            let mut bytes = f.limit.to_bytes();
            let changed = evote_fuzz::mutate(&mut bytes, selector as usize, rest);
            if let Ok(p) = SelectionLimitProof::from_bytes(&bytes) {
                let ok = p.verify(&mut context(), pk, &f.contest, 0..=2).is_ok();
                assert_eq!(ok, !changed);
            }
        }
        1 => {
            let mut cts = f.contest.clone();
            let which = rest.first().copied().unwrap_or(0) as usize % cts.len();
            let mut bytes = cts[which].to_bytes();
            let changed = evote_fuzz::mutate(&mut bytes, 0, rest.get(1..).unwrap_or(&[]));
            if let Ok(c) = Ciphertext::from_bytes(&bytes) {
                cts[which] = c;
                let ok = f.limit.verify(&mut context(), pk, &cts, 0..=2).is_ok();
                assert_eq!(ok, !changed);
            }
        }
        _ => {
            let count = rest.first().copied().unwrap_or(3) as usize % 6;
            let cts: Vec<Ciphertext> = f.contest.iter().cycle().take(count).copied().collect();
            let (lo, hi) = (
                rest.get(1).copied().unwrap_or(0) as u64,
                rest.get(2).copied().unwrap_or(2) as u64,
            );
            let ok = f.limit.verify(&mut context(), pk, &cts, lo..=hi).is_ok();
            assert_eq!(ok, count == 3 && lo == 0 && hi == 2);
        }
    }
});
