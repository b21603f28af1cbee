//! Proof decoders never panic; accepted input re-encodes identically.
#![no_main]
use evote::proofs::{ChaumPedersenProof, RangeProof, SchnorrProof, SelectionLimitProof};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(p) = SchnorrProof::from_bytes(data) {
        assert_eq!(p.to_bytes().as_slice(), data);
    }
    if let Ok(p) = ChaumPedersenProof::from_bytes(data) {
        assert_eq!(p.to_bytes().as_slice(), data);
    }
    if let Ok(p) = RangeProof::from_bytes(data) {
        assert_eq!(p.to_bytes(), data);
        assert_eq!(RangeProof::encoded_len(p.branches()), data.len());
    }
    if let Ok(p) = SelectionLimitProof::from_bytes(data) {
        assert_eq!(p.to_bytes(), data);
    }
});
