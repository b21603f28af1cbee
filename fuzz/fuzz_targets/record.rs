//! The record readers and the whole verifier on a real record with one file replaced or
//! altered (record.json's file hashes recomputed, as a forger would): never panics, and a change
//! to the meaning of any file never passes verification (challenges are entries of the board's
//! chain, so none can be withheld without breaking it).
#![no_main]
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use evote::demo::{demo_manifest, run_demo, DemoOptions};
use evote::election::record::{file_hash, files, to_hex};
use evote::election::RecordIndex;
use evote::verify::verify_record;
use libfuzzer_sys::fuzz_target;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

fn quiet(_: &str, _: u64, _: u64) {}

/// A valid 12-voter demo record, written once per process.
fn fixture() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("evote-fuzz-record-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let options = DemoOptions {
            voters: 12,
            guardians: 3,
            threshold: 2,
            absent: 1,
            manifest: demo_manifest(),
            out: dir.join("good"),
            force: false,
        };
        run_demo(&options, &mut ChaCha20Rng::seed_from_u64(3)).unwrap();
        dir
    })
}

fn rehash(dir: &Path) {
    let path = dir.join(files::INDEX);
    let mut index: RecordIndex =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    for name in files::ALL {
        if let Ok(h) = file_hash(&dir.join(name)) {
            index.files.insert(name.to_string(), to_hex(&h));
        }
    }
    std::fs::write(&path, serde_json::to_string_pretty(&index).unwrap()).unwrap();
}

/// Whether two versions of a file mean the same (JSON compared as values).
fn same_meaning(name: &str, a: &[u8], b: &[u8]) -> bool {
    if a == b {
        return true;
    }
    if name.ends_with(".json") {
        let parse = |x: &[u8]| serde_json::from_slice::<serde_json::Value>(x).ok();
        return matches!((parse(a), parse(b)), (Some(x), Some(y)) if x == y);
    }
    false
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let base = fixture();
    let good = base.join("good");
    let work = base.join("work");
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).unwrap();
    for name in files::ALL.iter().chain([&files::INDEX]) {
        std::fs::copy(good.join(name), work.join(name)).unwrap();
    }
    let names: Vec<&str> = files::ALL.iter().copied().chain([files::INDEX]).collect();
    let name = names[usize::from(selector) % names.len()];
    let original = std::fs::read(good.join(name)).unwrap();
    let mutated = if selector & 0x80 == 0 {
        rest.to_vec()
    } else {
        // XOR `rest` (after a 2-byte offset) into the original.
        let mut m = original.clone();
        if let [hi, lo, mask @ ..] = rest {
            let at = usize::from(u16::from_be_bytes([*hi, *lo]));
            for (i, x) in mask.iter().enumerate() {
                if let Some(b) = m.get_mut(at + i) {
                    *b ^= x;
                }
            }
        }
        m
    };
    std::fs::write(work.join(name), &mutated).unwrap();
    if name != files::INDEX {
        rehash(&work);
    }
    if let Ok(report) = verify_record(&work, &mut ChaCha20Rng::seed_from_u64(1), &quiet) {
        if !same_meaning(name, &original, &mutated) {
            assert!(!report.passed(), "{name} changed and verification passed");
        }
        // The summary and JSON report never panic either.
        let _ = report.summary();
        let _ = serde_json::to_string(&report).unwrap();
    }
});
