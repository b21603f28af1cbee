//! A sharded verification's partial file (docs/verifier.md, *Sharded verification*): any bytes,
//! and any bytes given a valid trailer (so that the fuzzer reaches the parser behind the
//! checksum), are read without panic, and every length is bounded before it is allocated.
#![no_main]
use evote::verify::Partial;
use libfuzzer_sys::fuzz_target;
use sha2::{Digest, Sha512};

fuzz_target!(|data: &[u8]| {
    let path = std::env::temp_dir().join(format!("evote-fuzz-partial-{}", std::process::id()));
    let _ = std::fs::write(&path, data);
    let _ = Partial::open(&path);
    let mut sealed = data.to_vec();
    sealed.extend_from_slice(&Sha512::digest(data));
    let _ = std::fs::write(&path, &sealed);
    if let Ok(partial) = Partial::open(&path) {
        let (first, last) = partial.range();
        let _ = (first, last, partial.shard());
    }
    let _ = std::fs::remove_file(&path);
});
