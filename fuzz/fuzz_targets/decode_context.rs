//! The public election files a client or a guardian reads from others: the voter context
//! (`context.bin`), the canonical manifest inside it, the ceremony parameters, and an encrypted
//! tally read back as a candidate. Decoding never panics; whatever decodes re-encodes to
//! exactly the same bytes; a context is accepted only under the election hash it describes.
//! Inputs are raw bytes, and valid encodings with bytes flipped.
#![no_main]
use std::sync::OnceLock;

use evote::ceremony::CeremonyParams;
use evote::election::{ContextError, Manifest, VoterContext};
use evote::simulation::Election;
use evote::tally::TallyCandidate;
use libfuzzer_sys::fuzz_target;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

/// A 2-of-3 election's context bytes and hash, its manifest's bytes, and an all-zero-ballot
/// tally's encoding rebuilt by hand from the published layout.
fn fixtures() -> &'static (Vec<u8>, [u8; 64], Vec<u8>, Vec<u8>) {
    static F: OnceLock<(Vec<u8>, [u8; 64], Vec<u8>, Vec<u8>)> = OnceLock::new();
    F.get_or_init(|| {
        let mut rng = ChaCha20Rng::seed_from_u64(11);
        let mut manifest = Manifest::example();
        manifest.nonce = Manifest::fresh_nonce(&mut rng);
        let e = Election::new([11; 32], 2, 3, manifest, 2, &mut rng).unwrap();
        let context = e.context.voter().to_bytes();
        let manifest = e.context.manifest().to_bytes();
        // version 1, kind 49, K, H_E, head, LE64(0 ballots), LE32(options), per option
        // LE64(R) and the identity sum.
        let options = e.context.manifest().option_count() as u32;
        let mut tally = vec![1u8, 49];
        tally.extend_from_slice(e.context.public_key().as_bytes());
        tally.extend_from_slice(e.context.hash());
        tally.extend_from_slice(&[7u8; 64]);
        tally.extend_from_slice(&0u64.to_le_bytes());
        tally.extend_from_slice(&options.to_le_bytes());
        for _ in 0..options {
            tally.extend_from_slice(&1u64.to_le_bytes());
            tally.extend_from_slice(&[0u8; 64]);
        }
        (context, *e.context.hash(), manifest, tally)
    })
}

fn check(bytes: &[u8], trusted: &[u8; 64]) {
    match VoterContext::from_bytes(bytes, trusted) {
        Ok(c) => {
            assert_eq!(c.to_bytes(), bytes, "a context that re-encodes differently");
            assert_eq!(c.hash(), trusted);
        }
        Err(ContextError::WrongElection { found }) => {
            assert_ne!(&found, trusted);
            // It decodes: under its own hash it is accepted, and re-encodes exactly.
            let c = VoterContext::from_bytes(bytes, &found).expect("accepted under its own hash");
            assert_eq!(c.to_bytes(), bytes);
        }
        Err(_) => {}
    }
    if let Ok(m) = Manifest::from_bytes(bytes) {
        assert_eq!(m.to_bytes(), bytes, "a manifest that re-encodes differently");
    }
    if let Ok(p) = CeremonyParams::from_bytes(bytes) {
        assert_eq!(p.to_bytes().as_slice(), bytes);
    }
    if let Ok(t) = TallyCandidate::from_bytes(bytes) {
        let _ = t.count_bounds().count();
        assert_eq!(t.ballots().to_le_bytes().as_slice(), &bytes[162..170]);
    }
}

fuzz_target!(|data: &[u8]| {
    let (context, trusted, manifest, tally) = fixtures();
    check(data, trusted);
    let Some((&op, mask)) = data.split_first() else {
        return;
    };
    let mut bytes = match op % 3 {
        0 => context.clone(),
        1 => manifest.clone(),
        _ => tally.clone(),
    };
    evote_fuzz::mutate(&mut bytes, usize::from(op), mask);
    check(&bytes, trusted);
});
