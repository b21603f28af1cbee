//! The discrete-log solver terminates on any point, and what it returns is right.
#![no_main]
use curve25519_dalek::constants::RISTRETTO_BASEPOINT_POINT;
use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::scalar::Scalar;
use evote::DlogTable;
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fuzz_target!(|data: &[u8]| {
    static TABLE: OnceLock<DlogTable> = OnceLock::new();
    let table = TABLE.get_or_init(|| DlogTable::new(100_000).unwrap());
    let point = if data.len() >= 64 {
        RistrettoPoint::from_uniform_bytes(&data[..64].try_into().unwrap())
    } else {
        let mut v = [0u8; 8];
        v[..data.len().min(8)].copy_from_slice(&data[..data.len().min(8)]);
        RISTRETTO_BASEPOINT_POINT * Scalar::from(u64::from_le_bytes(v) % 200_000)
    };
    if let Ok(m) = table.vartime_solve(&point) {
        assert!(m <= 100_000);
        assert_eq!(RISTRETTO_BASEPOINT_POINT * Scalar::from(m), point);
    }
});
