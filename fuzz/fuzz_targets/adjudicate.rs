//! Adjudication of a ceremony transcript with one package mutated, dropped or duplicated:
//! never panics, and whatever it decides is consistent (a changed sender never stays
//! qualified with a changed reveal; an untouched transcript keeps everyone qualified).
#![no_main]
use std::sync::OnceLock;

use evote::ceremony::{
    adjudicate, part1, CeremonyParams, CeremonyTranscript, CommitmentHashPackage, EncryptedShare,
    RevealPackage,
};
use libfuzzer_sys::fuzz_target;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

fn fixture() -> &'static CeremonyTranscript {
    static T: OnceLock<CeremonyTranscript> = OnceLock::new();
    T.get_or_init(|| {
        let params = CeremonyParams::new([4; 32], 2, 3).unwrap();
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let (s1, hashes): (Vec<_>, Vec<_>) = params
            .indices()
            .map(|i| part1(&params, i, &mut rng).unwrap())
            .unzip();
        let (s2, reveals): (Vec<_>, Vec<_>) =
            s1.into_iter().map(|s| s.part2(&hashes).unwrap()).unzip();
        let mut shares = Vec::new();
        for s in s2 {
            let (_, mut sent) = s.part3(&reveals, &mut rng).unwrap();
            shares.append(&mut sent);
        }
        CeremonyTranscript {
            params,
            hashes,
            reveals,
            shares,
            complaints: vec![],
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&op, mask)) = data.split_first() else {
        return;
    };
    let mut t = fixture().clone();
    let which = usize::from(op >> 2);
    match op & 3 {
        0 => {
            let i = which % t.hashes.len();
            let mut b = t.hashes[i].to_bytes();
            evote_fuzz::mutate(&mut b, which, mask);
            match CommitmentHashPackage::from_bytes(&b) {
                Ok(p) => t.hashes[i] = p,
                Err(_) => drop(t.hashes.remove(i)),
            }
        }
        1 => {
            let i = which % t.reveals.len();
            let original = t.reveals[i].clone();
            let mut b = original.to_bytes();
            let changed = evote_fuzz::mutate(&mut b, which, mask);
            match RevealPackage::from_bytes(&b) {
                Ok(p) => t.reveals[i] = p,
                Err(_) => drop(t.reveals.remove(i)),
            }
            if let Ok(outcome) = adjudicate(&t, &mut ChaCha20Rng::seed_from_u64(2)) {
                if changed {
                    // The changed reveal no longer matches its hash: its sender is out.
                    assert!(
                        !outcome.qualified().contains(&original.sender())
                            || t.reveals.contains(&original)
                    );
                }
            }
            return;
        }
        2 => {
            let i = which % t.shares.len();
            let mut b = t.shares[i].to_bytes();
            evote_fuzz::mutate(&mut b, which, mask);
            match EncryptedShare::from_bytes(&b) {
                Ok(p) => t.shares.push(p),
                Err(_) => drop(t.shares.remove(i)),
            }
        }
        _ => {
            if !mask.is_empty() {
                let i = which % t.reveals.len();
                let dup = t.reveals[i].clone();
                t.reveals.push(dup);
            }
        }
    }
    let _ = adjudicate(&t, &mut ChaCha20Rng::seed_from_u64(2));
});
