//! The documents are the specification: these tests hold the code to them.
//!
//! `independent_verifier_*` re-implements verification from `docs/proofs.md` and
//! `docs/transcript.md` alone, with merlin and curve25519-dalek but none of evote's proof code,
//! and checks the pinned known-answer proofs with it — equation by equation, without batching.

use curve25519_dalek::constants::RISTRETTO_BASEPOINT_POINT as G;
use curve25519_dalek::ristretto::{CompressedRistretto, RistrettoPoint};
use curve25519_dalek::scalar::Scalar;
use evote::transcript::{labels, CIPHERSUITE, PROTOCOL_VERSION};
use merlin::Transcript;

fn doc(name: &str) -> String {
    std::fs::read_to_string(format!("{}/docs/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

#[test]
fn transcript_labels_are_documented() {
    let spec = doc("transcript.md");
    let constants: &[(&str, &[u8])] = &[
        ("PROTOCOL_VERSION", PROTOCOL_VERSION),
        ("CIPHERSUITE", CIPHERSUITE),
        ("labels::PROTOCOL", labels::PROTOCOL),
        ("labels::CIPHERSUITE", labels::CIPHERSUITE),
        ("labels::PROOF_KIND", labels::PROOF_KIND),
        ("labels::KIND_SCHNORR", labels::KIND_SCHNORR),
        ("labels::KIND_CHAUM_PEDERSEN", labels::KIND_CHAUM_PEDERSEN),
        ("labels::KIND_RANGE", labels::KIND_RANGE),
        ("labels::KIND_SELECTION_LIMIT", labels::KIND_SELECTION_LIMIT),
        ("labels::CIPHERTEXT_COUNT", labels::CIPHERTEXT_COUNT),
        ("labels::BRANCH_COUNT", labels::BRANCH_COUNT),
        ("labels::GENERATOR", labels::GENERATOR),
        ("labels::BASE", labels::BASE),
        ("labels::PUBLIC_KEY", labels::PUBLIC_KEY),
        ("labels::IMAGE", labels::IMAGE),
        ("labels::RANGE_MIN", labels::RANGE_MIN),
        ("labels::RANGE_MAX", labels::RANGE_MAX),
        ("labels::CIPHERTEXT", labels::CIPHERTEXT),
        ("labels::COMMITMENT_G", labels::COMMITMENT_G),
        ("labels::COMMITMENT_H", labels::COMMITMENT_H),
        ("labels::CHALLENGE", labels::CHALLENGE),
        ("labels::WITNESS_SECRET", labels::WITNESS_SECRET),
        ("labels::WITNESS_VALUE", labels::WITNESS_VALUE),
        ("labels::VERIFIER_PROOF", labels::VERIFIER_PROOF),
        ("labels::VERIFIER_WEIGHTS", labels::VERIFIER_WEIGHTS),
    ];
    for (name, value) in constants {
        let row = format!("| `{name}` | `{}`", std::str::from_utf8(value).unwrap());
        assert!(
            spec.contains(&row),
            "docs/transcript.md lacks the row {row}"
        );
    }
    // Labels are pairwise distinct where they label different items.
    let mut values: Vec<&[u8]> = constants.iter().skip(2).map(|(_, v)| *v).collect();
    values.sort();
    values.dedup();
    assert_eq!(values.len(), constants.len() - 2);
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

fn point(bytes: &[u8]) -> RistrettoPoint {
    CompressedRistretto::from_slice(bytes)
        .unwrap()
        .decompress()
        .unwrap()
}

fn scalar(bytes: &[u8]) -> Scalar {
    Option::from(Scalar::from_canonical_bytes(bytes.try_into().unwrap())).unwrap()
}

/// The context of the vectors (as stated in positive.txt's header).
fn context() -> Transcript {
    let mut t = Transcript::new(b"evote-known-answer-vectors");
    t.append_message(b"election-hash", &[0x11; 32]);
    t.append_message(b"ballot-id", b"ballot-0001");
    t
}

fn challenge(t: &mut Transcript) -> Scalar {
    let mut wide = [0u8; 64];
    t.challenge_bytes(b"challenge", &mut wide);
    Scalar::from_bytes_mod_order_wide(&wide)
}

fn domain(t: &mut Transcript, kind: &'static [u8]) {
    t.append_message(b"evote/protocol", b"evote-proofs/1");
    t.append_message(
        b"evote/ciphersuite",
        b"ristretto255/rfc9496;merlin-3;strobe-128",
    );
    t.append_message(b"evote/proof-kind", kind);
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
    let n = (max - min + 1) as usize;
    if proof.len() != 128 * n - 32 {
        return false;
    }
    let mut t = context();
    domain(&mut t, kind);
    t.append_u64(b"ciphertext-count", cts.len() as u64);
    t.append_u64(b"branch-count", n as u64);
    t.append_message(b"G", G.compress().as_bytes());
    t.append_message(b"K", k);
    t.append_u64(b"min", min);
    t.append_u64(b"max", max);
    for ct in cts {
        t.append_message(b"ciphertext", ct);
    }
    let commitments = &proof[..64 * n];
    for pair in commitments.chunks(64) {
        t.append_message(b"commitment-G", &pair[..32]);
        t.append_message(b"commitment-H", &pair[32..]);
    }
    let c = challenge(&mut t);
    let mut challenges: Vec<Scalar> = proof[64 * n..64 * n + 32 * (n - 1)]
        .chunks(32)
        .map(scalar)
        .collect();
    let sum: Scalar = challenges.iter().sum();
    challenges.push(c - sum);
    let responses: Vec<Scalar> = proof[64 * n + 32 * (n - 1)..]
        .chunks(32)
        .map(scalar)
        .collect();
    let key = point(k);
    let alpha: RistrettoPoint = cts.iter().map(|ct| point(&ct[..32])).sum();
    let beta: RistrettoPoint = cts.iter().map(|ct| point(&ct[32..])).sum();
    (0..n).all(|j| {
        let a = point(&commitments[64 * j..64 * j + 32]);
        let b = point(&commitments[64 * j + 32..64 * j + 64]);
        let (c_j, s_j) = (challenges[j], responses[j]);
        G * s_j == a + alpha * c_j
            && key * s_j == b + (beta - G * Scalar::from(min + j as u64)) * c_j
    })
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

#[test]
fn ceremony_and_decryption_labels_are_documented() {
    use evote::{ceremony, decryption};
    let spec = doc("ceremony.md");
    let constants: &[(&str, &[u8])] = &[
        ("ceremony::labels::CEREMONY", ceremony::labels::CEREMONY),
        ("ceremony::labels::CONTEXT", ceremony::labels::CONTEXT),
        ("ceremony::labels::PURPOSE", ceremony::labels::PURPOSE),
        ("ceremony::labels::GUARDIAN", ceremony::labels::GUARDIAN),
        (
            "ceremony::labels::PURPOSE_COEFFICIENT",
            ceremony::labels::PURPOSE_COEFFICIENT,
        ),
        (
            "ceremony::labels::COEFFICIENT_INDEX",
            ceremony::labels::COEFFICIENT_INDEX,
        ),
        (
            "ceremony::labels::PURPOSE_ENCRYPTION_KEY",
            ceremony::labels::PURPOSE_ENCRYPTION_KEY,
        ),
        (
            "ceremony::labels::PURPOSE_COMPLAINT",
            ceremony::labels::PURPOSE_COMPLAINT,
        ),
        ("ceremony::labels::ACCUSED", ceremony::labels::ACCUSED),
        (
            "decryption::labels::DECRYPTION",
            decryption::labels::DECRYPTION,
        ),
        (
            "decryption::labels::CEREMONY_CONTEXT",
            decryption::labels::CEREMONY_CONTEXT,
        ),
        ("decryption::labels::ELECTION", decryption::labels::ELECTION),
        (
            "decryption::labels::BOARD_HEAD",
            decryption::labels::BOARD_HEAD,
        ),
        ("decryption::labels::COUNTED", decryption::labels::COUNTED),
        ("decryption::labels::TALLY", decryption::labels::TALLY),
        ("decryption::labels::GUARDIAN", decryption::labels::GUARDIAN),
        ("decryption::labels::OPTION", decryption::labels::OPTION),
        (
            "decryption::labels::SHARE_PACKAGE",
            decryption::labels::SHARE_PACKAGE,
        ),
    ];
    for (name, value) in constants {
        let row = format!("| `{name}` | `{}` |", std::str::from_utf8(value).unwrap());
        assert!(spec.contains(&row), "docs/ceremony.md lacks the row {row}");
    }
}

#[test]
fn ballot_labels_are_documented() {
    use evote::election::context::labels;
    use evote::election::receipt::labels as receipt;
    let spec = doc("election.md");
    let constants: &[(&str, &[u8])] = &[
        ("election::context::labels::BALLOT", labels::BALLOT),
        ("election::context::labels::CAST", labels::CAST),
        ("election::context::labels::CHALLENGE", labels::CHALLENGE),
        ("election::context::labels::ELECTION", labels::ELECTION),
        ("election::context::labels::BALLOT_ID", labels::BALLOT_ID),
        ("election::context::labels::CREDENTIAL", labels::CREDENTIAL),
        ("election::context::labels::CONTEST", labels::CONTEST),
        ("election::context::labels::OPTION", labels::OPTION),
        ("election::context::labels::LIMIT", labels::LIMIT),
        ("election::context::labels::BODY", labels::BODY),
        ("election::context::labels::SEED", labels::SEED),
        ("election::receipt::labels::RECEIPT", receipt::RECEIPT),
        ("election::receipt::labels::ELECTION", receipt::ELECTION),
        ("election::receipt::labels::ENTRY", receipt::ENTRY),
        ("election::receipt::labels::ENTRY_KIND", receipt::ENTRY_KIND),
        ("election::receipt::labels::TRACKER", receipt::TRACKER),
        ("election::receipt::labels::HEAD", receipt::HEAD),
    ];
    for (name, value) in constants {
        let row = format!("| `{name}` | `{}` |", std::str::from_utf8(value).unwrap());
        assert!(spec.contains(&row), "docs/election.md lacks the row {row}");
    }
}
