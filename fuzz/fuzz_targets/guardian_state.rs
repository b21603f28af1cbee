//! A guardian's state file contents (and the exchange files of rounds 3 and 4), as a hostile
//! disk or a hostile exchange folder would give them: decoding never panics, and whatever
//! decodes re-encodes to exactly the same bytes. Inputs are raw bytes, and valid states of
//! every stage with bytes flipped.
#![no_main]
use std::sync::OnceLock;

use evote::ceremony::{CeremonyParams, CeremonyTranscript, Guardian, GuardianIndex, Message};
use evote::party::{decode_complaints, decode_shares, encode_list};
use libfuzzer_sys::fuzz_target;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

/// One encoded state per stage (guardian 1 of a 2-of-3 ceremony), and the round-3 file it sent.
fn fixtures() -> &'static (Vec<Vec<u8>>, Vec<u8>) {
    static F: OnceLock<(Vec<Vec<u8>>, Vec<u8>)> = OnceLock::new();
    F.get_or_init(|| {
        let mut rng = ChaCha20Rng::seed_from_u64(5);
        let params = CeremonyParams::new([5; 32], 2, 3).unwrap();
        let mut gs: Vec<Guardian> = (1..=3)
            .map(|i| Guardian::start(&params, GuardianIndex::new(i).unwrap(), &mut rng).unwrap())
            .collect();
        let mut states = vec![gs[0].to_bytes().to_vec()];
        let take = |gs: &Vec<Guardian>| gs.iter().filter_map(|g| g.message()).collect::<Vec<_>>();
        let hashes: Vec<_> = take(&gs)
            .into_iter()
            .filter_map(|m| {
                if let Message::Hash(h) = m {
                    Some(h)
                } else {
                    None
                }
            })
            .collect();
        gs.iter_mut().for_each(|g| g.reveal(&hashes).unwrap());
        states.push(gs[0].to_bytes().to_vec());
        let reveals: Vec<_> = take(&gs)
            .into_iter()
            .filter_map(|m| {
                if let Message::Reveal(r) = m {
                    Some(*r)
                } else {
                    None
                }
            })
            .collect();
        gs.iter_mut()
            .for_each(|g| g.share(&reveals, &mut rng).unwrap());
        states.push(gs[0].to_bytes().to_vec());
        let shares: Vec<_> = take(&gs)
            .into_iter()
            .flat_map(|m| {
                if let Message::Shares(s) = m {
                    s
                } else {
                    vec![]
                }
            })
            .collect();
        let round3 = encode_list(
            &shares
                .iter()
                .filter(|s| s.sender().get() == 1)
                .map(|s| s.to_bytes())
                .collect::<Vec<_>>(),
        );
        gs.iter_mut()
            .for_each(|g| g.check(&shares, &mut rng).unwrap());
        states.push(gs[0].to_bytes().to_vec());
        let transcript = CeremonyTranscript {
            params,
            hashes,
            reveals,
            shares,
            complaints: vec![],
        };
        gs[0].finish(&transcript, &mut rng).unwrap();
        states.push(gs[0].to_bytes().to_vec());
        (states, round3)
    })
}

fn check(bytes: &[u8]) {
    if let Ok(g) = Guardian::from_bytes(bytes) {
        assert_eq!(
            g.to_bytes().as_slice(),
            bytes,
            "a state that re-encodes differently"
        );
    }
    for n in [1, 3, 255] {
        if let Ok(list) = decode_shares(bytes, n) {
            let items: Vec<Vec<u8>> = list.iter().map(|s| s.to_bytes()).collect();
            assert_eq!(encode_list(&items), bytes);
        }
        if let Ok(list) = decode_complaints(bytes, n) {
            let items: Vec<Vec<u8>> = list.iter().map(|c| c.to_bytes()).collect();
            assert_eq!(encode_list(&items), bytes);
        }
    }
}

fuzz_target!(|data: &[u8]| {
    check(data);
    let Some((&op, mask)) = data.split_first() else {
        return;
    };
    let (states, round3) = fixtures();
    let mut bytes = if op % 6 == 5 {
        round3.clone()
    } else {
        states[usize::from(op % 6)].clone()
    };
    evote_fuzz::mutate(&mut bytes, usize::from(op), mask);
    check(&bytes);
});
