//! Proves `COUNT` range proofs for one chosen value, for measuring (for example with
//! `valgrind --tool=callgrind`) that proving work does not depend on the value.
//!
//! Run: `cargo run --release --example prove_value -- VALUE MAX [COUNT]`

use evote::proofs::RangeProof;
use evote::{EncryptionKey, KeyPair, Transcript};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .map(|a| a.parse())
        .collect::<Result<_, _>>()?;
    let (value, max, count) = match args.as_slice() {
        [v, m] => (*v, *m, 100),
        [v, m, c] => (*v, *m, *c),
        _ => return Err("usage: prove_value VALUE MAX [COUNT]".into()),
    };
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let pair = KeyPair::generate(&mut rng);
    let key = EncryptionKey::new(pair.public());
    for i in 0..count {
        let mut t = Transcript::new(b"prove_value");
        t.append_u64(b"i", i);
        RangeProof::encrypt_and_prove(&mut t, &key, value, 0..=max, &mut rng)?;
    }
    println!("proved {count} proofs of value {value} in 0..={max}");
    Ok(())
}
