//! The booth's ballot timed natively, on the same elections and with the same calls the
//! browser and Node time (web/tests/vectors): `cargo run --release -p evote-web --example timing`.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use evote::text::from_hex;
use evote_web::Booth;

fn main() {
    let runs = 30;
    for name in ["example.json", "one-of-ten.json"] {
        let path = format!("{}/tests/vectors/{name}", env!("CARGO_MANIFEST_DIR"));
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let hash: [u8; 64] = from_hex(v["election_hash"].as_str().unwrap())
            .unwrap()
            .try_into()
            .unwrap();
        let mut booth =
            Booth::load(&from_hex(v["context"].as_str().unwrap()).unwrap(), &hash).unwrap();
        let selections: Vec<Vec<u64>> = serde_json::from_value(v["selections"].clone()).unwrap();
        let credential = v["credential"].as_str().unwrap();
        let mut times = Vec::new();
        for i in 0..runs {
            let start = std::time::Instant::now();
            booth
                .encrypt(credential, &selections, [i as u8; 32])
                .unwrap();
            booth.cast([!(i as u8); 32]).unwrap();
            times.push(start.elapsed().as_secs_f64() * 1e3);
        }
        times.sort_by(f64::total_cmp);
        println!(
            "native {name}: encrypt + prove + sign median {:.2} ms (min {:.2}, {runs} runs)",
            times[runs / 2],
            times[0]
        );
    }
}
