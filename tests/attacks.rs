//! Attack replays: the documented failures of deployed voting systems, replayed against evote.
//!
//! Each test names the attack and its public source. Lessons whose replay needs crate-private
//! hooks or a whole ceremony live next to the code they attack; `docs/threat-model.md` maps every
//! lesson to its tests, here and elsewhere:
//!
//! | lesson | here | elsewhere |
//! |---|---|---|
//! | weak Fiat–Shamir (BPW 2012, Helios) | `weak_fiat_shamir_forgery_…`, `every_statement_element_…` | unit tests of `proofs::range`, `tests/spec.rs` |
//! | trapdoored or record-supplied generators (Swiss Post 2019; Cortier–Gaudry–Yang 2020) | `a_record_cannot_supply_a_group_or_generator` | — |
//! | proofs of a manipulated outcome (sVote 2019) | `decryption_proofs_are_bound_to_guardian_tally_and_election` | `tests/decryption.rs` |
//! | invalid votes deferred to decryption (sVote 2019) | — | lying-prover unit tests in `proofs::range`, `tests/election.rs` |
//! | hash-input injectivity (Swiss Post changelog) | `regrouped_ciphertexts_do_not_share_a_proof` | `tests/spec.rs` label checks |
//! | ballot copying and replay (Cortier–Smyth 2011) | `a_ballot_copied_under_another_credential_is_refused` | `tests/board.rs`, `tests/verify.rs` (V9) |
//! | clash attacks (Küsters–Truderung–Vogt 2012) | — | `tests/election.rs` (distinct trackers), `tests/verify.rs` (V9) |
//! | group-membership and identity (Helios PR #133, Belenios 3.3) | `identity_and_non_canonical_encodings_are_refused_everywhere` | fuzz targets |
//! | non-canonical encodings (Belenios 1.13, EG #250) | same | fuzz targets, `tests/vectors.rs` |
//! | biased challenges (Helios, Belenios 1.5) | `challenges_and_nonces_are_reduced_from_512_bits` | — |
//! | rogue keys, key biasing (GJKR 1999) | `ceremony_proofs_are_bound_to_their_ceremony` | `tests/ceremony.rs` |
//! | decryption oracles, subset tallies (Helios #170) | — | `tests/decryption.rs` |
//! | tallies that never finish (BPW 2012) | `a_discrete_log_beyond_its_bound_is_an_error_not_a_hang` | `dlog` unit tests, fuzz `dlog` |
//! | verifiers that skip a check (EG-python #514) | — | `tests/verify.rs`, `tests/tamper.rs`, mutation testing |

mod common;

use curve25519_dalek::constants::RISTRETTO_BASEPOINT_POINT as G;
use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::scalar::Scalar;
use evote::ceremony::{
    adjudicate, run_locally, CeremonyOutcome, CeremonyParams, CeremonyTranscript,
};
use evote::election::{
    Ballot, BallotBoard, BallotError, CredentialList, ElectionContext, Manifest, VoterCredential,
};
use evote::{
    Ciphertext, DlogTable, EncryptionKey, KeyPair, ProofError, PublicKey, RangeProof,
    SelectionLimitProof, Transcript,
};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

fn outcome(t: u32, n: u32, seed: u64) -> CeremonyOutcome {
    let params = CeremonyParams::new([seed as u8; 32], t, n).unwrap();
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let (transcript, _) = run_locally(&params, &mut rng).unwrap();
    adjudicate(&transcript, &mut rng).unwrap()
}

fn election(seed: u64) -> (ElectionContext, Vec<VoterCredential>, ChaCha20Rng) {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let (voters, list) = CredentialList::generate(3, &mut rng);
    let context = ElectionContext::new(Manifest::example(), outcome(2, 3, seed), list).unwrap();
    (context, voters, rng)
}

fn choices() -> Vec<Vec<u64>> {
    common::example_choices()
}

fn wide_challenge(t: &mut Transcript) -> Scalar {
    let mut bytes = [0u8; 64];
    t.challenge_bytes(b"challenge", &mut bytes);
    Scalar::from_bytes_mod_order_wide(&bytes)
}

/// **Weak Fiat–Shamir** — Bernhard, Pereira, Warinschi, "How not to Prove Yourself" (ASIACRYPT
/// 2012), against Helios: when the challenge hashes only the commitments, a prover can fix the
/// commitments first and pick the statement afterwards.
///
/// Here the forger commits to a 0/1 proof with a₀ = w₀·G, b₀ = w₀·K (an honest branch-0
/// commitment) and a₁ = w₁·G, b₁ = w₁·K − t·G, takes c = H(a₀, b₀, a₁, b₁), sets c₀ = 0, c₁ = c,
/// and only then chooses the ciphertext: m = 1 + t/c, (α, β) = (r·G, m·G + r·K). Both branches
/// check out, so a weak verifier accepts a "0 or 1" proof for a ciphertext of a huge m, the
/// ballot that makes a tally's discrete log unreachable. evote's verifier absorbs the statement
/// before the challenge and refuses the same bytes.
#[test]
fn weak_fiat_shamir_forgery_passes_a_weak_verifier_and_fails_evote() {
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let election = KeyPair::generate(&mut rng);
    let k = *election.public().as_point();
    let (w0, w1, t, r) = (
        evote::group::random_scalar(&mut rng),
        evote::group::random_scalar(&mut rng),
        evote::group::random_scalar(&mut rng),
        evote::group::random_scalar(&mut rng),
    );
    let (a0, b0) = (w0 * G, w0 * k);
    let (a1, b1) = (w1 * G, w1 * k - t * G);
    // The weak transcript: commitments only.
    let weak =
        |a0: &RistrettoPoint, b0: &RistrettoPoint, a1: &RistrettoPoint, b1: &RistrettoPoint| {
            let mut tr = Transcript::new(b"weak-helios-style");
            for p in [a0, b0, a1, b1] {
                tr.append_message(b"commitment", p.compress().as_bytes());
            }
            wide_challenge(&mut tr)
        };
    let c = weak(&a0, &b0, &a1, &b1);
    let (c0, c1) = (Scalar::ZERO, c);
    let m = Scalar::ONE + t * c.invert();
    let (alpha, beta) = (r * G, m * G + r * k);
    let (s0, s1) = (w0 + c0 * r, w1 + c1 * r);

    // The weak verifier accepts: both branch equations hold and c₀ + c₁ = H(commitments).
    assert_eq!(c0 + c1, weak(&a0, &b0, &a1, &b1));
    assert_eq!(s0 * G, a0 + c0 * alpha);
    assert_eq!(s0 * k, b0 + c0 * beta);
    assert_eq!(s1 * G, a1 + c1 * alpha);
    assert_eq!(s1 * k, b1 + c1 * (beta - G));
    // Yet the ciphertext encrypts neither 0 nor 1.
    let plaintext = beta - election.secret().expose_scalar() * alpha;
    assert_ne!(plaintext, RistrettoPoint::default());
    assert_ne!(plaintext, G);
    assert!(DlogTable::new(1 << 20)
        .unwrap()
        .vartime_solve(&plaintext)
        .is_err());

    // The same bytes, in evote's wire format, are refused by evote's verifier.
    let mut proof = Vec::new();
    for p in [a0, b0, a1, b1] {
        proof.extend_from_slice(p.compress().as_bytes());
    }
    for s in [c0, s0, s1] {
        proof.extend_from_slice(s.as_bytes());
    }
    let proof = RangeProof::from_bytes(&proof).unwrap();
    let mut ct = [0u8; 64];
    ct[..32].copy_from_slice(alpha.compress().as_bytes());
    ct[32..].copy_from_slice(beta.compress().as_bytes());
    let ciphertext = Ciphertext::from_bytes(&ct).unwrap();
    for label in [&b"weak-helios-style"[..], b"evote-test"] {
        assert!(matches!(
            proof.verify(
                &mut Transcript::new(label),
                election.public(),
                &ciphertext,
                0..=1
            ),
            Err(ProofError::Invalid { .. })
        ));
    }
}

/// **Weak Fiat–Shamir**, the binding half (BPW 2012; Trail of Bits "Frozen Heart", 2022): a
/// range proof made for one statement fails for any other — another key, ciphertext, range or
/// context — and a selection-limit proof fails for any other set of ciphertexts.
#[test]
fn every_statement_element_of_a_range_proof_is_bound() {
    let mut rng = ChaCha20Rng::seed_from_u64(2);
    let key = EncryptionKey::new(KeyPair::generate(&mut rng).public());
    let other_key = KeyPair::generate(&mut rng);
    let context = b"election A / ballot 1 / contest 0 / option 2";
    let (ct, _, proof) =
        RangeProof::encrypt_and_prove(&mut Transcript::new(context), &key, 3, 0..=5, &mut rng)
            .unwrap();
    let ok = |t: &'static [u8], k: &PublicKey, c: &Ciphertext, lo: u64, hi: u64| {
        proof.verify(&mut Transcript::new(t), k, c, lo..=hi).is_ok()
    };
    assert!(ok(context, key.public(), &ct, 0, 5));
    let other_ct = Ciphertext::encrypt(&key, 3, &mut rng);
    assert!(!ok(
        b"election B / ballot 1 / contest 0 / option 2",
        key.public(),
        &ct,
        0,
        5
    ));
    assert!(!ok(context, other_key.public(), &ct, 0, 5));
    assert!(!ok(context, key.public(), &other_ct, 0, 5));
    // Same number of branches, shifted range: still refused (the range is absorbed).
    assert!(!ok(context, key.public(), &ct, 1, 6));
    // Another number of branches: refused by shape before any algebra.
    assert!(!ok(context, key.public(), &ct, 0, 4));
}

/// **Hash-input injectivity** — Swiss Post crypto-primitives changelog (RecursiveHash made
/// collision-resistant across domains, GitLab #9; YWH-PGM2323-69): a selection-limit proof over
/// the ciphertexts [a, b] does not verify for the same ciphertexts regrouped or reordered, nor
/// for their sum (a + b) presented as one ciphertext.
#[test]
fn regrouped_ciphertexts_do_not_share_a_proof() {
    let mut rng = ChaCha20Rng::seed_from_u64(3);
    let key = EncryptionKey::new(KeyPair::generate(&mut rng).public());
    let (a, oa) = Ciphertext::encrypt_with_opening(&key, 1, &mut rng);
    let (b, ob) = Ciphertext::encrypt_with_opening(&key, 0, &mut rng);
    let proof = SelectionLimitProof::prove(
        &mut Transcript::new(b"t"),
        &key,
        &[a, b],
        &[oa, ob],
        1..=1,
        &mut rng,
    )
    .unwrap();
    let check = |cts: &[Ciphertext]| {
        proof
            .verify(&mut Transcript::new(b"t"), key.public(), cts, 1..=1)
            .is_ok()
    };
    assert!(check(&[a, b]));
    assert!(!check(&[b, a]));
    assert!(!check(&[a + b]));
    assert!(!check(&[a, b, Ciphertext::zero()]));
    assert!(!check(&[a]));
}

/// The ballot body (everything but the signature) and its signing transcript, rebuilt from
/// `docs/election.md` as a copier would.
fn resign(ballot: &[u8], as_voter: &VoterCredential, context: &ElectionContext) -> Vec<u8> {
    let mut body = ballot[..ballot.len() - 64].to_vec();
    body[34..66].copy_from_slice(as_voter.public().as_bytes());
    common::sign_cast(&body, as_voter, context)
}

/// **Ballot copying** — Cortier & Smyth, "Attacking and fixing Helios: An analysis of ballot
/// secrecy" (CSF 2011); helios-server issue #35: voter B recasts A's ciphertexts to learn or
/// double A's vote. B can sign them properly with B's own credential, but every proof inside is
/// bound to A's credential, so the ballot is refused; a copy left under A's credential but
/// re-signed by B fails its signature; a ballot moved to another election fails too.
#[test]
fn a_ballot_copied_under_another_credential_is_refused() {
    let (context, voters, mut rng) = election(4);
    let ballot = Ballot::encrypt_and_cast(&context, &voters[0], &choices(), &mut rng).unwrap();
    let bytes = ballot.to_bytes();
    assert!(Ballot::from_bytes(&bytes)
        .unwrap()
        .verify(&context, &mut rng)
        .is_ok());

    // The resigning helper is faithful: re-signing A's ballot as A gives a valid ballot.
    let same = resign(&bytes, &voters[0], &context);
    assert!(Ballot::from_bytes(&same)
        .unwrap()
        .verify(&context, &mut rng)
        .is_ok());

    // B signs A's ciphertexts: the signature is valid, the proofs are not.
    let copied = resign(&bytes, &voters[1], &context);
    assert!(matches!(
        Ballot::from_bytes(&copied)
            .unwrap()
            .verify(&context, &mut rng),
        Err(BallotError::InvalidProof { .. })
    ));
    // A's credential left in place with B's signature.
    let mut forged = bytes.clone();
    let n = forged.len();
    forged[n - 64..].copy_from_slice(&copied[n - 64..]);
    assert!(matches!(
        Ballot::from_bytes(&forged)
            .unwrap()
            .verify(&context, &mut rng),
        Err(BallotError::InvalidSignature)
    ));
    // The same voter's ballot in another election (same manifest and credentials, another key).
    let other = ElectionContext::new(
        Manifest::example(),
        outcome(2, 3, 40),
        context.credentials().clone(),
    )
    .unwrap();
    assert!(Ballot::from_bytes(&bytes)
        .unwrap()
        .verify(&other, &mut rng)
        .is_err());
}

/// **Record-supplied group or generators** — Lewis, Pereira, Teague, "Trapdoor commitments in
/// the SwissPost e-voting shuffle proof" (2019); Cortier, Gaudry, Yang, "How to fake
/// zero-knowledge proofs, again" (E-Vote-ID 2020). evote has one group and one generator,
/// compiled in; a manifest that tries to name a group, a generator or a ciphersuite is refused
/// (unknown fields are errors), so no record can carry one.
#[test]
fn a_record_cannot_supply_a_group_or_generator() {
    let json = Manifest::example().to_json();
    assert!(Manifest::from_json(&json).is_ok());
    for field in ["generator", "group", "ciphersuite", "h"] {
        let injected = json.replacen('{', &format!("{{\n  \"{field}\": \"e2f2ae0a6abc4e71a884a961c500515f58e30b6aa582dd8db6a65945e08d2d76\","), 1);
        assert!(Manifest::from_json(&injected).is_err(), "{field} accepted");
    }
}

/// ℓ, the group order, little-endian.
const ELL: [u8; 32] = [
    0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
];

fn plus_ell(s: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    let mut carry = 0u16;
    for i in 0..32 {
        let v = u16::from(s[i]) + u16::from(ELL[i]) + carry;
        out[i] = v as u8;
        carry = v >> 8;
    }
    out
}

/// Offsets of the points and scalars of an encoded ballot, walked from `docs/election.md` and
/// `docs/wire-format.md`: `(points, scalars, betas)`; β is the one point that may be the
/// identity.
fn ballot_fields(b: &[u8]) -> (Vec<usize>, Vec<usize>, Vec<usize>) {
    let u32_at = |p: usize| u32::from_le_bytes(b[p..p + 4].try_into().unwrap()) as usize;
    let (mut points, mut scalars, mut betas) = (vec![34], vec![], vec![]);
    let proof = |p: usize, len: usize, points: &mut Vec<usize>, scalars: &mut Vec<usize>| {
        let n = (len + 32) / 128;
        points.extend((0..2 * n).map(|i| p + 32 * i));
        scalars.extend((0..2 * n - 1).map(|i| p + 64 * n + 32 * i));
    };
    let mut pos = 66;
    let contests = u32_at(pos);
    pos += 4;
    for _ in 0..contests {
        let options = u32_at(pos);
        pos += 4;
        for _ in 0..options {
            points.push(pos);
            betas.push(pos + 32);
            pos += 64;
            let len = u32_at(pos);
            proof(pos + 4, len, &mut points, &mut scalars);
            pos += 4 + len;
        }
        let len = u32_at(pos);
        proof(pos + 4, len, &mut points, &mut scalars);
        pos += 4 + len;
    }
    points.push(pos);
    scalars.push(pos + 32);
    assert_eq!(pos + 64, b.len(), "the walk covers the whole ballot");
    (points, scalars, betas)
}

/// **Group membership, identity and non-canonical encodings** — helios-server PR #133 and #495;
/// Belenios 1.10, 1.13 ("accept only ballots in canonical form"), 1.20 and 3.3.0; El Laz,
/// Grégoire, Rezk, "Security Analysis of ElGamal Implementations"; electionguard #250. Every point
/// and every scalar of a real ballot is replaced in turn by the identity, a non-canonical field
/// element, a "negative" encoding, and (scalars) `s + ℓ` and a value ≥ 2²⁵⁵. Each is refused at
/// decoding (β, the one point that can legitimately be the identity, fails verification
/// instead); every accepted mutation re-encodes to the same bytes; the board refuses them all.
#[test]
fn identity_and_non_canonical_encodings_are_refused_everywhere() {
    let (context, voters, mut rng) = election(5);
    let ballot = Ballot::encrypt_and_cast(&context, &voters[0], &choices(), &mut rng).unwrap();
    let bytes = ballot.to_bytes();
    let (points, scalars, betas) = ballot_fields(&bytes);
    assert!(
        points.len() > 50 && scalars.len() > 50,
        "{} {}",
        points.len(),
        scalars.len()
    );
    let mut p_bytes = [0xffu8; 32]; // p = 2^255 − 19: a non-canonical encoding of 0
    p_bytes[0] = 0xed;
    p_bytes[31] = 0x7f;
    let mut cases = 0;
    let refused = |mutated: &[u8]| Ballot::from_bytes(mutated).is_err();
    for &at in &points {
        let mut negative = bytes.clone();
        negative[at] |= 1; // an odd s is "negative": never a valid encoding
        let mut identity = bytes.clone();
        identity[at..at + 32].fill(0);
        let mut non_canonical = bytes.clone();
        non_canonical[at..at + 32].copy_from_slice(&p_bytes);
        assert!(refused(&negative), "negative point at {at}");
        assert!(refused(&non_canonical), "non-canonical point at {at}");
        assert!(refused(&identity), "identity at {at}");
        cases += 3;
    }
    for &at in &betas {
        let mut identity = bytes.clone();
        identity[at..at + 32].fill(0);
        if let Ok(b) = Ballot::from_bytes(&identity) {
            assert_eq!(b.to_bytes(), identity);
            assert!(b.verify(&context, &mut rng).is_err());
        }
        cases += 1;
    }
    for &at in &scalars {
        let mut wrapped = bytes.clone();
        wrapped[at..at + 32].copy_from_slice(&plus_ell(&bytes[at..at + 32]));
        let mut high = bytes.clone();
        high[at + 31] |= 0x80;
        assert!(refused(&wrapped), "s + ℓ at {at}");
        assert!(refused(&high), "s ≥ 2^255 at {at}");
        cases += 2;
    }
    // The same inputs at the board: refused, nothing appended.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("board.bin");
    let mut board = BallotBoard::create(&path, &context, common::box_key()).unwrap();
    for at in [34, points[1], scalars[0], betas[0]] {
        let mut bad = bytes.clone();
        bad[at..at + 32].fill(0);
        assert!(
            board.append(&context, &bad, &mut rng).is_err(),
            "field at {at}"
        );
    }
    board.append(&context, &bytes, &mut rng).unwrap();
    assert!(cases > 200, "{cases}");
    eprintln!("{cases} encodings refused");
}

/// **Biased challenges and nonces** — helios-server (160-bit challenges against a 256-bit
/// group), Belenios `CHANGES.md` 1.5 and 4.0: evote derives every challenge and nonce from 64
/// bytes with a wide reduction. No library source reduces 32 bytes mod ℓ.
#[test]
fn challenges_and_nonces_are_reduced_from_512_bits() {
    fn walk(dir: &std::path::Path, found: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, found);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                // Library code only: stop at the unit tests.
                let library = text.split("#[cfg(test)]").next().unwrap_or("");
                let lines: Vec<&str> = library.lines().collect();
                for (i, line) in lines.iter().enumerate() {
                    // Allowed only where the input is a constant or provably below ℓ, and a
                    // comment just above says why ("already ...").
                    let justified = lines[i.saturating_sub(6)..i]
                        .iter()
                        .any(|l| l.trim_start().starts_with("//") && l.contains("already"));
                    if (line.contains("from_bytes_mod_order(") || line.contains("from_bits("))
                        && !justified
                    {
                        found.push(format!("{}:{}", path.display(), i + 1));
                    }
                }
            }
        }
    }
    let mut found = Vec::new();
    walk(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut found,
    );
    assert!(found.is_empty(), "narrow reductions: {found:?}");
}

/// **Rogue keys and replayed proofs of knowledge** — Gennaro, Jarecki, Krawczyk, Rabin (1999);
/// ElectionGuard issues electionguard-python#278 and electionguard-core2#419 (E1: the base hash
/// missing from the guardian challenge). A ceremony transcript moved to another ceremony id, or
/// re-labelled with another threshold, no longer adjudicates.
#[test]
fn ceremony_proofs_are_bound_to_their_ceremony() {
    let params = CeremonyParams::new([7u8; 32], 3, 5).unwrap();
    let mut rng = ChaCha20Rng::seed_from_u64(6);
    let (transcript, _) = run_locally(&params, &mut rng).unwrap();
    let bytes = transcript.to_bytes();
    assert!(adjudicate(&CeremonyTranscript::from_bytes(&bytes).unwrap(), &mut rng).is_ok());
    // Layout: version, kind, id (32), t (u32), n (u32), ...
    let mut moved = bytes.clone();
    moved[2] ^= 1;
    let moved = CeremonyTranscript::from_bytes(&moved).unwrap();
    let verdict = adjudicate(&moved, &mut rng);
    assert!(
        verdict.is_err() || verdict.is_ok_and(|o| o.qualified().is_empty()),
        "a transcript moved to another ceremony still qualifies guardians"
    );
    let mut relabelled = bytes.clone();
    relabelled[34..38].copy_from_slice(&2u32.to_le_bytes());
    let relabelled = CeremonyTranscript::from_bytes(&relabelled);
    assert!(relabelled.is_err() || adjudicate(&relabelled.unwrap(), &mut rng).is_err());
}

/// **Tallies that never finish** — BPW 2012 (A1's forged ballot makes the aggregate's discrete
/// log unreachable); Belenios caps the total weight (1.16). A bounded table answers "beyond the
/// bound" with a typed error, quickly, for a value one past the bound and for a random point.
#[test]
fn a_discrete_log_beyond_its_bound_is_an_error_not_a_hang() {
    let table = DlogTable::new(10_000).unwrap();
    assert_eq!(
        table.vartime_solve(&(Scalar::from(10_000u64) * G)).unwrap(),
        10_000
    );
    let start = std::time::Instant::now();
    assert!(table.vartime_solve(&(Scalar::from(10_001u64) * G)).is_err());
    let mut rng = ChaCha20Rng::seed_from_u64(7);
    assert!(table
        .vartime_solve(&evote::group::random_point(&mut rng))
        .is_err());
    // Generous: the search is ~100 giant steps; a hang would never return.
    assert!(start.elapsed() < std::time::Duration::from_secs(10));
}

/// **Decryption proofs of a manipulated outcome** — Haines, Lewis, Pereira, Teague, "How not to
/// prove your election outcome" (IEEE S&P 2020); the Helios reading of A9 (decryption proofs not
/// bound to the trustee): a decryption share is checked against the guardian's own key share,
/// this tally and this election; moved to another guardian or another tally, it is refused.
#[test]
fn decryption_proofs_are_bound_to_guardian_tally_and_election() {
    use evote::ceremony::GuardianIndex;
    use evote::decryption::{combine, CandidateShare, DecryptionError, ShareFault};
    let params = CeremonyParams::new([8u8; 32], 2, 3).unwrap();
    // Two runs from one seed: the same guardians twice (a guardian decrypts one tally of an
    // election, so the replayed share of the other tally comes from the twin).
    let ceremony = || {
        let mut rng = ChaCha20Rng::seed_from_u64(8);
        let (transcript, guardians) = run_locally(&params, &mut rng).unwrap();
        (adjudicate(&transcript, &mut rng).unwrap(), guardians)
    };
    let (outcome, mut guardians) = ceremony();
    let (_, mut twins) = ceremony();
    let mut rng = ChaCha20Rng::seed_from_u64(9);
    let tally = common::board_tally(&outcome, &[1], &[vec![1], vec![0], vec![1], vec![1]], 1);
    let other = common::board_tally(&outcome, &[1], &[vec![0], vec![0], vec![0], vec![1]], 2);
    let mut share = |g: usize, t: &evote::decryption::EncryptedTally, rng: &mut ChaCha20Rng| {
        let k = if t == &tally {
            &mut guardians[g]
        } else {
            &mut twins[g]
        };
        let share: CandidateShare = k
            .decrypt_tally(&outcome, t, t.board_head(), 2, rng)
            .unwrap();
        share
    };
    let (s0, s1) = (share(0, &tally, &mut rng), share(1, &tally, &mut rng));
    assert_eq!(
        combine(&outcome, &tally, &[s0.clone(), s1.clone()], &mut rng)
            .unwrap()
            .counts,
        vec![3]
    );
    // A share for another tally: discarded as a replay, and the rest is below the threshold.
    let stale = share(1, &other, &mut rng);
    let result = combine(&outcome, &tally, &[s0.clone(), stale], &mut rng);
    assert!(matches!(
        result,
        Err(DecryptionError::NotEnoughShares { ref discarded, .. })
            if discarded == &[(GuardianIndex::new(2).unwrap(), ShareFault::OtherTally)]
    ));
    // Guardian 1's share presented as guardian 3's (layout: version, kind, u32 guardian, ...):
    // its signature is checked against guardian 3's key share and fails, so it is discarded
    // without blaming guardian 3.
    let mut bytes = s0.to_bytes();
    assert_eq!(bytes[2..6], 1u32.to_le_bytes());
    bytes[2..6].copy_from_slice(&3u32.to_le_bytes());
    let moved = CandidateShare::from_bytes(&bytes).unwrap();
    let result = combine(&outcome, &tally, &[moved, s1], &mut rng);
    assert!(matches!(
        result,
        Err(DecryptionError::NotEnoughShares { ref discarded, ref invalid, .. })
            if invalid.is_empty()
                && discarded == &[(GuardianIndex::new(3).unwrap(), ShareFault::Unauthenticated)]
    ));
}

/// **Subset tallies** (Helios issue 170; lesson A17, one decryption per election): a corrupt
/// ballot-box operator wants voter A's vote. It makes up a closed board of the same election
/// holding only A's ballot and one ballot of B whose content it knows (the review's exploit used
/// B's challenged ballot, whose seed is public; a challenged ballot can no longer be cast, see
/// `tests/cast_as_intended.rs`, so here B's superseded ballot stands in for it), tallies it
/// honestly and asks the guardians to decrypt: the difference would be A's vote.
/// Guardians who know the published head refuse it; a guardian deceived about the head but who
/// has decrypted the real tally refuses it as a second tally; and a share obtained anyway does
/// not combine for the real tally. (The other variant, A's ciphertexts beside a self-made
/// encryption of 0, has no API left: the accumulator of ciphertexts is crate-private, see the
/// `compile_fail` example of `evote::decryption`.)
#[test]
fn a_subset_tally_of_one_voter_and_a_challenged_ballot_is_not_decrypted() {
    use evote::decryption::{combine, DecryptionError};
    use evote::election::board::tally;
    let params = CeremonyParams::new([12u8; 32], 2, 3).unwrap();
    let mut rng = ChaCha20Rng::seed_from_u64(12);
    let (transcript, mut guardians) = run_locally(&params, &mut rng).unwrap();
    let outcome = adjudicate(&transcript, &mut rng).unwrap();
    let (voters, list) = CredentialList::generate(3, &mut rng);
    let context = ElectionContext::new(Manifest::example(), outcome, list).unwrap();
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("subset-tally");
    std::fs::create_dir_all(&dir).unwrap();

    // The real election: A, B and C cast; B cast a second ballot (superseded, not counted).
    let real_path = dir.join("real.bin");
    let _ = std::fs::remove_file(&real_path);
    let mut real = BallotBoard::create(&real_path, &context, common::box_key()).unwrap();
    let cast: Vec<Ballot> = voters
        .iter()
        .map(|v| Ballot::encrypt_and_cast(&context, v, &choices(), &mut rng).unwrap())
        .collect();
    for b in &cast {
        real.append(&context, &b.to_bytes(), &mut rng).unwrap();
    }
    let superseded = Ballot::encrypt_and_cast(&context, &voters[1], &choices(), &mut rng).unwrap();
    let published = real.close(&mut rng).unwrap();
    drop(real);

    // The operator's board: A's ballot and B's other one, closed: a subset tally of two.
    let fake_path = dir.join("fake.bin");
    let _ = std::fs::remove_file(&fake_path);
    let mut fake = BallotBoard::create(&fake_path, &context, common::box_key()).unwrap();
    fake.append(&context, &cast[0].to_bytes(), &mut rng)
        .unwrap();
    fake.append(&context, &superseded.to_bytes(), &mut rng)
        .unwrap();
    let fake_head = fake.close(&mut rng).unwrap();
    drop(fake);
    let subset = tally(&fake_path, &context, &mut rng).unwrap();
    assert_eq!(subset.ballots(), 2);

    let refused =
        |r: Result<_, DecryptionError>| matches!(r, Err(DecryptionError::TallyRefused { .. }));
    for g in guardians.iter_mut() {
        assert!(refused(g.decrypt_tally(
            context.outcome(),
            &subset,
            &published,
            2,
            &mut rng
        )));
    }
    // Guardian 1 decrypts the real tally, then is told the fake head: a second tally, refused.
    let real_tally = tally(&real_path, &context, &mut rng).unwrap();
    let share1 = guardians[0]
        .decrypt_tally(context.outcome(), &real_tally, &published, 2, &mut rng)
        .unwrap();
    assert!(refused(guardians[0].decrypt_tally(
        context.outcome(),
        &subset,
        &fake_head,
        2,
        &mut rng
    )));
    // Guardian 2, deceived and fresh, decrypts the fake: its share is useless for the real tally.
    let fooled = guardians[1]
        .decrypt_tally(context.outcome(), &subset, &fake_head, 2, &mut rng)
        .unwrap();
    assert!(matches!(
        combine(context.outcome(), &real_tally, &[share1, fooled], &mut rng),
        Err(DecryptionError::NotEnoughShares { .. })
    ));
}

/// An RNG that hands out chosen bytes first, then a real stream: how an attacker makes
/// `Ballot::encrypt` use a ballot id of its choice (the id is the first 32 bytes drawn).
struct Scripted {
    first: Vec<u8>,
    rest: ChaCha20Rng,
}

impl rand_core::RngCore for Scripted {
    fn next_u32(&mut self) -> u32 {
        self.rest.next_u32()
    }
    fn next_u64(&mut self) -> u64 {
        self.rest.next_u64()
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        if self.first.len() >= dest.len() {
            let tail = self.first.split_off(dest.len());
            dest.copy_from_slice(&self.first);
            self.first = tail;
        } else {
            self.rest.fill_bytes(dest);
        }
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}
impl rand_core::CryptoRng for Scripted {}

/// **Ballot-id front-running**: a network attacker holding some credential sees voter A's
/// ballot in transit, casts its own valid ballot with A's ballot id first, and hopes the board
/// refuses A's. Ballot ids are unique per credential, so both ballots are accepted and both
/// count; only a second ballot of the *same* credential with the same id is refused.
#[test]
fn a_ballot_id_copied_under_another_credential_does_not_block_the_honest_ballot() {
    let (context, voters, mut rng) = election(13);
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("front-running");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("board.bin");
    let _ = std::fs::remove_file(&path);
    let mut board = BallotBoard::create(&path, &context, common::box_key()).unwrap();
    let honest = Ballot::encrypt_and_cast(&context, &voters[0], &choices(), &mut rng).unwrap();
    let mut scripted = Scripted {
        first: honest.id().to_vec(),
        rest: ChaCha20Rng::seed_from_u64(99),
    };
    let copy = Ballot::encrypt_and_cast(&context, &voters[1], &choices(), &mut scripted).unwrap();
    assert_eq!(copy.id(), honest.id());
    board.append(&context, &copy.to_bytes(), &mut rng).unwrap();
    board
        .append(&context, &honest.to_bytes(), &mut rng)
        .unwrap();
    // The same credential reusing its own id is refused.
    let mut again = Scripted {
        first: honest.id().to_vec(),
        rest: ChaCha20Rng::seed_from_u64(100),
    };
    let reuse = Ballot::encrypt_and_cast(&context, &voters[0], &choices(), &mut again).unwrap();
    assert!(matches!(
        board.append(&context, &reuse.to_bytes(), &mut rng),
        Err(evote::election::BoardError::BallotIdReused { entry: 2 })
    ));
    assert_eq!(board.entries(), 2);
}
