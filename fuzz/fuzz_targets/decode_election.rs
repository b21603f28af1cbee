//! Election-layer readers: ballots, challenged ballots, receipts, credential lists, board files
//! and manifests never panic,
//! and accepted binary input re-encodes byte-identically.
#![no_main]
use evote::election::board::BoardReader;
use evote::election::{Ballot, ChallengedBallot, CredentialList, Manifest, Receipt};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(b) = Ballot::from_bytes(data) {
        assert_eq!(b.to_bytes(), data);
    }
    if let Ok(c) = ChallengedBallot::from_bytes(data) {
        assert_eq!(c.to_bytes(), data);
    }
    if let Ok(r) = Receipt::from_bytes(data) {
        assert_eq!(r.to_bytes(), data);
    }
    if let Ok(l) = CredentialList::from_bytes(data) {
        assert_eq!(l.to_bytes(), data);
    }
    if let Ok(mut reader) = BoardReader::new(data) {
        while let Ok(Some(_)) = reader.next_checked() {}
    }
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(m) = Manifest::from_json(text) {
            assert_eq!(Manifest::from_json(&m.to_json()).unwrap(), m);
        }
    }
});
