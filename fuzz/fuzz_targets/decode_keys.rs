//! Key and group-element decoders never panic, and what they accept re-encodes identically.
#![no_main]
use evote::{GroupElement, PublicKey, SecretKey};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(pk) = PublicKey::from_bytes(data) {
        assert_eq!(pk.as_bytes().as_slice(), data);
    }
    if let Ok(sk) = SecretKey::from_bytes(data) {
        assert_eq!(sk.to_bytes().as_slice(), data);
    }
    if let Ok(e) = GroupElement::from_bytes(data) {
        assert_eq!(e.as_bytes().as_slice(), data);
        assert_eq!(GroupElement::from_point(*e.as_point()), e);
    }
    if let Ok(e) = GroupElement::from_bytes_nonidentity(data) {
        assert!(!e.is_identity());
    }
});
