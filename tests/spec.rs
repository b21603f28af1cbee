//! The documents are the specification: these tests hold the code to them.
//!
//! `independent_verifier_*` re-implements verification from `docs/proofs.md` and
//! `docs/transcript.md` alone, with merlin and curve25519-dalek but none of evote's proof code,
//! and checks the pinned known-answer proofs with it — equation by equation, without batching.

mod common;

use common::spec::{challenge, disjunctive, domain, point, scalar};
use curve25519_dalek::constants::RISTRETTO_BASEPOINT_POINT as G;
use evote::transcript::{labels, CIPHERSUITE, PROTOCOL_VERSION};
use merlin::Transcript;
use std::collections::BTreeMap;

fn doc(name: &str) -> String {
    std::fs::read_to_string(format!("{}/docs/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

/// Parses the pinned positive vectors.
fn vectors() -> Vec<(String, Vec<u8>)> {
    let text = std::fs::read_to_string(format!(
        "{}/tests/vectors/positive.txt",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let (name, hex) = l.split_once(" = ").unwrap();
            (name.to_string(), hex::decode(hex).unwrap())
        })
        .collect()
}

fn get(v: &[(String, Vec<u8>)], prefix: &str) -> Vec<u8> {
    v.iter()
        .find(|(n, _)| n.starts_with(prefix))
        .unwrap()
        .1
        .clone()
}

/// The context of the vectors (as stated in positive.txt's header).
fn context() -> Transcript {
    let mut t = Transcript::new(b"evote-known-answer-vectors");
    t.append_message(b"election-hash", &[0x11; 32]);
    t.append_message(b"ballot-id", b"ballot-0001");
    t
}

/// docs/transcript.md "Range proof", docs/proofs.md "Range proof": checked equation by equation.
fn independent_range_verify(
    k: &[u8],
    cts: &[Vec<u8>],
    min: u64,
    max: u64,
    proof: &[u8],
    kind: &'static [u8],
) -> bool {
    if proof.len() != 128 * (max - min + 1) as usize - 32 {
        return false;
    }
    let cts: Vec<&[u8]> = cts.iter().map(Vec::as_slice).collect();
    disjunctive(context(), kind, k, &cts, min, max, proof).1
}

#[test]
fn independent_verifier_accepts_the_pinned_range_proofs() {
    let v = vectors();
    let k = get(&v, "public_key");
    assert!(independent_range_verify(
        &k,
        &[get(&v, "bit_ciphertext ")],
        0,
        1,
        &get(&v, "bit_proof"),
        b"range"
    ));
    assert!(independent_range_verify(
        &k,
        &[get(&v, "range_ciphertext")],
        0,
        9,
        &get(&v, "range_proof"),
        b"range"
    ));
    let contest: Vec<Vec<u8>> = (0..3)
        .map(|i| get(&v, &format!("contest_ciphertext_{i}")))
        .collect();
    assert!(independent_range_verify(
        &k,
        &contest,
        1,
        1,
        &get(&v, "selection_limit_proof"),
        b"selection-limit"
    ));
    // And rejects them for other statements.
    assert!(!independent_range_verify(
        &k,
        &[get(&v, "bit_ciphertext ")],
        1,
        2,
        &get(&v, "bit_proof"),
        b"range"
    ));
    assert!(!independent_range_verify(
        &k,
        &contest,
        1,
        1,
        &get(&v, "selection_limit_proof"),
        b"range"
    ));
}

#[test]
fn independent_verifier_accepts_the_pinned_schnorr_and_chaum_pedersen_proofs() {
    let v = vectors();
    let k = get(&v, "public_key");
    let key = point(&k);

    let proof = get(&v, "schnorr_proof");
    let mut t = context();
    domain(&mut t, b"schnorr-pok");
    t.append_message(b"G", G.compress().as_bytes());
    t.append_message(b"K", &k);
    t.append_message(b"commitment-G", &proof[..32]);
    let c = challenge(&mut t);
    assert_eq!(G * scalar(&proof[32..]), point(&proof[..32]) + key * c);

    let (h, y, proof) = (
        get(&v, "chaum_pedersen_base"),
        get(&v, "chaum_pedersen_image"),
        get(&v, "chaum_pedersen_proof"),
    );
    let mut t = context();
    domain(&mut t, b"chaum-pedersen");
    t.append_message(b"G", G.compress().as_bytes());
    t.append_message(b"H", &h);
    t.append_message(b"K", &k);
    t.append_message(b"Y", &y);
    t.append_message(b"commitment-G", &proof[..32]);
    t.append_message(b"commitment-H", &proof[32..64]);
    let c = challenge(&mut t);
    let s = scalar(&proof[64..]);
    assert_eq!(G * s, point(&proof[..32]) + key * c);
    assert_eq!(point(&h) * s, point(&proof[32..64]) + point(&y) * c);
}

#[test]
fn the_ciphertext_matches_the_definition() {
    // docs/proofs.md "Exponential ElGamal": (α, β) = (r·G, m·G + r·K), from the pinned nonce.
    let v = vectors();
    let r = scalar(&get(&v, "bit_ciphertext_nonce"));
    let key = point(&get(&v, "public_key"));
    let ct = get(&v, "bit_ciphertext ");
    assert_eq!(point(&ct[..32]), G * r);
    assert_eq!(point(&ct[32..]), G + key * r);
    assert_eq!(
        G.compress().as_bytes().as_slice(),
        hex::decode("e2f2ae0a6abc4e71a884a961c500515f58e30b6aa582dd8db6a65945e08d2d76").unwrap()
    );
}

/// The label constants of `evote::transcript::labels`, read from the source (name, value).
fn label_constants() -> Vec<(String, String)> {
    let source =
        std::fs::read_to_string(format!("{}/src/transcript.rs", env!("CARGO_MANIFEST_DIR")))
            .unwrap();
    let module = &source[source.find("pub mod labels {").unwrap()..];
    module
        .lines()
        .filter_map(|l| l.trim().strip_prefix("pub const "))
        .map(|l| {
            let (name, rest) = l.split_once(": &[u8] = b\"").unwrap();
            let value = rest.strip_suffix("\";").unwrap();
            (name.to_string(), value.to_string())
        })
        .collect()
}

#[test]
fn every_label_is_in_the_one_table() {
    let spec = doc("transcript.md");
    let constants = label_constants();
    assert!(constants.len() > 50, "{constants:?}");
    // docs/transcript.md, *All labels*: exactly these rows.
    let documented: BTreeMap<String, String> = spec
        .lines()
        .filter_map(|l| l.strip_prefix("| `labels::"))
        .map(|l| {
            let (name, rest) = l.split_once("` | `").unwrap();
            (
                name.to_string(),
                rest.split_once('`').unwrap().0.to_string(),
            )
        })
        .collect();
    let code: BTreeMap<String, String> = constants.iter().cloned().collect();
    assert_eq!(documented, code);
    // The values the code compiles are the values read from its source.
    for (name, value) in [
        ("PROTOCOL", labels::PROTOCOL),
        ("CHALLENGE", labels::CHALLENGE),
        ("BALLOT_CAST", labels::BALLOT_CAST),
        ("ELECTION_HASH", labels::ELECTION_HASH),
        ("CEREMONY_CONTEXT", labels::CEREMONY_CONTEXT),
        ("COUNTED_BALLOTS", labels::COUNTED_BALLOTS),
        ("SHARE_PACKAGE", labels::SHARE_PACKAGE),
    ] {
        assert_eq!(code[name].as_bytes(), value, "{name}");
    }
    for (name, value) in [
        ("PROTOCOL_VERSION", PROTOCOL_VERSION),
        ("CIPHERSUITE", CIPHERSUITE),
    ] {
        let row = format!("| `{name}` | `{}` |", std::str::from_utf8(value).unwrap());
        assert!(
            spec.contains(&row),
            "docs/transcript.md lacks the row {row}"
        );
    }
    // Each string once, but for the documented pair (a proof kind and the ballot label that
    // marks that kind of proof).
    let mut by_value: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (name, value) in &constants {
        by_value.entry(value).or_default().push(name);
    }
    by_value.retain(|_, names| names.len() > 1);
    assert_eq!(
        by_value.into_iter().collect::<Vec<_>>(),
        [(
            "selection-limit",
            vec!["KIND_SELECTION_LIMIT", "SELECTION_LIMIT"]
        )]
    );
    // No other module of the library defines labels of its own.
    let mut modules = 0;
    let mut stack = vec![std::path::PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/src"
    ))];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if std::fs::read_to_string(&path)
                .unwrap()
                .contains("pub mod labels")
            {
                modules += 1;
            }
        }
    }
    assert_eq!(modules, 1);
}
