//! Ceremony packages and decryption shares: decoders never panic, and what they accept
//! re-encodes byte-identically.
#![no_main]
use evote::ceremony::{
    CeremonyTranscript, CommitmentHashPackage, Complaint, EncryptedShare, RevealPackage,
};
use evote::decryption::CandidateShare;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(p) = CommitmentHashPackage::from_bytes(data) {
        assert_eq!(p.to_bytes(), data);
    }
    if let Ok(p) = RevealPackage::from_bytes(data) {
        assert_eq!(p.to_bytes(), data);
    }
    if let Ok(p) = EncryptedShare::from_bytes(data) {
        assert_eq!(p.to_bytes(), data);
    }
    if let Ok(p) = Complaint::from_bytes(data) {
        assert_eq!(p.to_bytes(), data);
    }
    if let Ok(p) = CeremonyTranscript::from_bytes(data) {
        assert_eq!(p.to_bytes(), data);
    }
    if let Ok(p) = CandidateShare::from_bytes(data) {
        assert_eq!(p.to_bytes(), data);
    }
});
