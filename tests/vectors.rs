//! Known-answer vectors, pinned in `tests/vectors/`.
//!
//! Every value comes from a seeded RNG, so any change to key generation, encryption, the
//! transcript layout, the nonce derivation or the wire format changes these bytes and fails
//! this test. Regenerate deliberately (and bump `PROTOCOL_VERSION` if proofs changed) with
//! `EVOTE_WRITE_VECTORS=1 cargo test --test vectors`.
//!
//! `positive.txt` holds objects that must decode and verify; `negative.txt` holds inputs that
//! must be refused, each with the exact error message expected.

use std::fmt::Write as _;
use std::path::PathBuf;

use evote::proofs::{ChaumPedersenProof, RangeProof, SchnorrProof, SelectionLimitProof};
use evote::{Ciphertext, EncryptionKey, GroupElement, KeyPair, PublicKey, SecretKey, Transcript};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

/// The context every vector's transcript starts from.
fn context() -> Transcript {
    let mut t = Transcript::new(b"evote-known-answer-vectors");
    t.append_message(b"election-hash", &[0x11; 32]);
    t.append_message(b"ballot-id", b"ballot-0001");
    t
}

struct Vectors {
    pair: KeyPair,
    ct: Ciphertext,
    bit_proof: RangeProof,
    ct9: Ciphertext,
    range_proof: RangeProof,
    contest: Vec<Ciphertext>,
    limit_proof: SelectionLimitProof,
    schnorr: SchnorrProof,
    base: GroupElement,
    image: GroupElement,
    cp: ChaumPedersenProof,
    nonce: [u8; 32],
    challenge: [u8; 64],
}

fn generate() -> Vectors {
    let mut rng = ChaCha20Rng::seed_from_u64(0x65766f7465);
    let pair = KeyPair::generate(&mut rng);
    let key = EncryptionKey::new(pair.public());
    let (ct, opening, bit_proof) =
        RangeProof::encrypt_and_prove(&mut context(), &key, 1, 0..=1, &mut rng).unwrap();
    let (ct9, _, range_proof) =
        RangeProof::encrypt_and_prove(&mut context(), &key, 7, 0..=9, &mut rng).unwrap();
    let (contest, openings): (Vec<_>, Vec<_>) = [0u64, 1, 0]
        .iter()
        .map(|v| Ciphertext::encrypt_with_opening(&key, *v, &mut rng))
        .unzip();
    let limit_proof =
        SelectionLimitProof::prove(&mut context(), &key, &contest, &openings, 1..=1, &mut rng)
            .unwrap();
    let schnorr = SchnorrProof::prove(&mut context(), &pair, &mut rng);
    let base = GroupElement::from_point(*ct.alpha());
    let image = GroupElement::from_point(ct.alpha() * pair.secret().expose_scalar());
    let cp = ChaumPedersenProof::prove(&mut context(), &pair, &base, &image, &mut rng).unwrap();
    let mut challenge = [0u8; 64];
    context().challenge_bytes(b"kat-challenge", &mut challenge);
    Vectors {
        pair,
        ct,
        bit_proof,
        ct9,
        range_proof,
        contest,
        limit_proof,
        schnorr,
        base,
        image,
        cp,
        nonce: opening.expose_nonce().to_bytes(),
        challenge,
    }
}

fn positive(v: &Vectors) -> String {
    let mut out = String::from("# evote known-answer vectors (positive). Regenerate: EVOTE_WRITE_VECTORS=1 cargo test --test vectors\n");
    out += "# context: Transcript::new(\"evote-known-answer-vectors\"), append_message(\"election-hash\", 0x11 * 32), append_message(\"ballot-id\", \"ballot-0001\")\n";
    let mut line =
        |name: &str, bytes: &[u8]| writeln!(out, "{name} = {}", hex::encode(bytes)).unwrap();
    line("secret_key", &*v.pair.secret().to_bytes());
    line("public_key", v.pair.public().as_bytes());
    line("bit_ciphertext (value 1)", &v.ct.to_bytes());
    line("bit_ciphertext_nonce", &v.nonce);
    line("bit_proof (0..=1)", &v.bit_proof.to_bytes());
    line("range_ciphertext (value 7)", &v.ct9.to_bytes());
    line("range_proof (0..=9)", &v.range_proof.to_bytes());
    for (i, ct) in v.contest.iter().enumerate() {
        line(&format!("contest_ciphertext_{i}"), &ct.to_bytes());
    }
    line("selection_limit_proof (1..=1)", &v.limit_proof.to_bytes());
    line("schnorr_proof", &v.schnorr.to_bytes());
    line("chaum_pedersen_base", v.base.as_bytes());
    line("chaum_pedersen_image", v.image.as_bytes());
    line("chaum_pedersen_proof", &v.cp.to_bytes());
    line("context_challenge_64 (label kat-challenge)", &v.challenge);
    out
}

/// Inputs that must be refused, each with its expected error.
fn negative(v: &Vectors) -> Vec<(&'static str, Vec<u8>, String)> {
    let ell_plus = |s: &[u8]| {
        // s + ℓ, still 32 bytes: the same scalar, non-canonically encoded.
        let ell: [u8; 32] = [
            0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9,
            0xde, 0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
        ];
        let mut out = [0u8; 32];
        let mut carry = 0u16;
        for i in 0..32 {
            let x = u16::from(s[i]) + u16::from(ell[i]) + carry;
            out[i] = x as u8;
            carry = x >> 8;
        }
        out
    };
    let schnorr = v.schnorr.to_bytes();
    let mut schnorr_big_s = schnorr;
    schnorr_big_s[32..].copy_from_slice(&ell_plus(&schnorr[32..]));
    let mut schnorr_identity = schnorr;
    schnorr_identity[..32].fill(0);
    let ct = v.ct.to_bytes();
    let mut ct_identity = ct;
    ct_identity[..32].fill(0);
    let mut ct_noncanonical = ct;
    ct_noncanonical[32..].copy_from_slice(&{
        // p + 1 would be the non-canonical encoding of 1; p itself encodes 0 non-canonically.
        let mut p = [0xffu8; 32];
        p[0] = 0xed;
        p[31] = 0x7f;
        p
    });
    let mut ct_negative = ct;
    ct_negative[0] |= 1;
    let bit = v.bit_proof.to_bytes();
    let mut bit_big_c = bit.clone();
    let c0 = bit_big_c[128..160].to_vec();
    bit_big_c[128..160].copy_from_slice(&ell_plus(&c0));
    let cp = v.cp.to_bytes();
    let mut cp_big_s = cp;
    cp_big_s[64..].copy_from_slice(&ell_plus(&cp[64..]));
    let decode =
        |r: Result<(), evote::DecodeError>| r.err().map(|e| e.to_string()).unwrap_or_default();
    let cases: Vec<(&'static str, Vec<u8>)> = vec![
        ("schnorr_s_plus_l", schnorr_big_s.to_vec()),
        ("schnorr_identity_R", schnorr_identity.to_vec()),
        ("schnorr_truncated", schnorr[..63].to_vec()),
        ("schnorr_overlong", [schnorr.as_slice(), &[0]].concat()),
        ("ciphertext_identity_alpha", ct_identity.to_vec()),
        ("ciphertext_noncanonical_beta", ct_noncanonical.to_vec()),
        ("ciphertext_negative_alpha", ct_negative.to_vec()),
        ("bit_proof_c0_plus_l", bit_big_c),
        ("bit_proof_truncated", bit[..bit.len() - 1].to_vec()),
        ("chaum_pedersen_s_plus_l", cp_big_s.to_vec()),
        ("public_key_identity", vec![0u8; 32]),
        ("secret_key_zero", vec![0u8; 32]),
    ];
    cases
        .into_iter()
        .map(|(name, bytes)| {
            let error = match name {
                n if n.starts_with("schnorr") => {
                    decode(SchnorrProof::from_bytes(&bytes).map(|_| ()))
                }
                n if n.starts_with("ciphertext") => {
                    decode(Ciphertext::from_bytes(&bytes).map(|_| ()))
                }
                n if n.starts_with("bit_proof") => {
                    decode(RangeProof::from_bytes(&bytes).map(|_| ()))
                }
                n if n.starts_with("chaum") => {
                    decode(ChaumPedersenProof::from_bytes(&bytes).map(|_| ()))
                }
                n if n.starts_with("public_key") => {
                    decode(PublicKey::from_bytes(&bytes).map(|_| ()))
                }
                _ => decode(SecretKey::from_bytes(&bytes).map(|_| ())),
            };
            (name, bytes, error)
        })
        .collect()
}

fn negative_text(v: &Vectors) -> String {
    let mut out =
        String::from("# evote known-answer vectors (negative): name = hex | expected error\n");
    for (name, bytes, error) in negative(v) {
        assert!(!error.is_empty(), "{name} was accepted");
        writeln!(out, "{name} = {} | {error}", hex::encode(bytes)).unwrap();
    }
    out
}

fn path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/vectors")
        .join(name)
}

fn check(name: &str, text: &str) {
    if std::env::var_os("EVOTE_WRITE_VECTORS").is_some() {
        std::fs::write(path(name), text).unwrap();
    }
    let pinned = std::fs::read_to_string(path(name)).unwrap();
    assert_eq!(pinned, text, "{name} differs from the pinned vectors");
}

#[test]
fn pinned_vectors_are_reproduced() {
    let v = generate();
    check("positive.txt", &positive(&v));
    check("negative.txt", &negative_text(&v));
}

/// Parses `name = hex` lines.
fn parse(text: &str) -> Vec<(String, Vec<u8>)> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let (name, rest) = l.split_once(" = ").unwrap();
            let hex_part = rest.split(" | ").next().unwrap();
            (name.to_string(), hex::decode(hex_part).unwrap())
        })
        .collect()
}

#[test]
fn pinned_vectors_verify_from_the_files_alone() {
    let text = std::fs::read_to_string(path("positive.txt")).unwrap();
    let items = parse(&text);
    let get = |prefix: &str| {
        items
            .iter()
            .find(|(n, _)| n.starts_with(prefix))
            .unwrap()
            .1
            .clone()
    };
    let pk = PublicKey::from_bytes(&get("public_key")).unwrap();
    let sk = SecretKey::from_bytes(&get("secret_key")).unwrap();
    assert_eq!(&sk.public_key(), &pk);
    let ct = Ciphertext::from_bytes(&get("bit_ciphertext ")).unwrap();
    RangeProof::from_bytes(&get("bit_proof"))
        .unwrap()
        .verify(&mut context(), &pk, &ct, 0..=1)
        .unwrap();
    let ct9 = Ciphertext::from_bytes(&get("range_ciphertext")).unwrap();
    RangeProof::from_bytes(&get("range_proof"))
        .unwrap()
        .verify(&mut context(), &pk, &ct9, 0..=9)
        .unwrap();
    let contest: Vec<Ciphertext> = (0..3)
        .map(|i| Ciphertext::from_bytes(&get(&format!("contest_ciphertext_{i}"))).unwrap())
        .collect();
    SelectionLimitProof::from_bytes(&get("selection_limit_proof"))
        .unwrap()
        .verify(&mut context(), &pk, &contest, 1..=1)
        .unwrap();
    SchnorrProof::from_bytes(&get("schnorr_proof"))
        .unwrap()
        .verify(&mut context(), &pk)
        .unwrap();
    let base = GroupElement::from_bytes(&get("chaum_pedersen_base")).unwrap();
    let image = GroupElement::from_bytes(&get("chaum_pedersen_image")).unwrap();
    ChaumPedersenProof::from_bytes(&get("chaum_pedersen_proof"))
        .unwrap()
        .verify(&mut context(), &pk, &base, &image)
        .unwrap();
    // Decryption of the pinned ciphertexts.
    let table = evote::DlogTable::new(10).unwrap();
    assert_eq!(sk.decrypt(&ct, &table), Ok(1));
    assert_eq!(sk.decrypt(&ct9, &table), Ok(7));
    // Negative: the pinned bit proof does not verify in another context or range.
    let mut other = Transcript::new(b"evote-known-answer-vectors");
    other.append_message(b"election-hash", &[0x12; 32]);
    other.append_message(b"ballot-id", b"ballot-0001");
    assert!(RangeProof::from_bytes(&get("bit_proof"))
        .unwrap()
        .verify(&mut other, &pk, &ct, 0..=1)
        .is_err());
    assert!(RangeProof::from_bytes(&get("bit_proof"))
        .unwrap()
        .verify(&mut context(), &pk, &ct, 1..=2)
        .is_err());
}
