//! The ciphertext decoder never panics; accepted input re-encodes identically, also after
//! arithmetic that returns to the same value.
#![no_main]
use evote::Ciphertext;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(ct) = Ciphertext::from_bytes(data) {
        assert_eq!(ct.to_bytes().as_slice(), data);
        let roundabout = (ct + ct) - ct;
        assert_eq!(roundabout.to_bytes().as_slice(), data);
    }
});
