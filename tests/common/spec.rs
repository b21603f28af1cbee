//! A second implementation of what an auditor computes, written from docs/ alone: with
//! merlin, curve25519-dalek and SHA-512, but none of evote's encoders, transcripts or proof
//! code. `tests/election_vectors.rs` uses it to write the transcript challenges of the pinned
//! vectors and to check the pinned record without evote; where it disagrees with evote, the
//! documents are wrong or incomplete.
#![allow(dead_code)]

use curve25519_dalek::constants::RISTRETTO_BASEPOINT_POINT as G;
use curve25519_dalek::ristretto::{CompressedRistretto, RistrettoPoint};
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::Identity;
use merlin::Transcript;
use sha2::{Digest, Sha512};

/// SHA-512 of the concatenation of `parts`.
pub fn sha512(parts: &[&[u8]]) -> [u8; 64] {
    let mut h = Sha512::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}

/// `str(s) = LE32(len) ‖ s` (docs/election.md).
pub fn str_bytes(s: &[u8]) -> Vec<u8> {
    let mut out = (s.len() as u32).to_le_bytes().to_vec();
    out.extend_from_slice(s);
    out
}

/// A point from its 32 bytes (RFC 9496 decoding).
pub fn point(bytes: &[u8]) -> RistrettoPoint {
    CompressedRistretto::from_slice(bytes)
        .unwrap()
        .decompress()
        .expect("a ristretto255 encoding")
}

/// A canonical scalar from its 32 bytes.
pub fn scalar(bytes: &[u8]) -> Scalar {
    Option::from(Scalar::from_canonical_bytes(bytes.try_into().unwrap()))
        .expect("a canonical scalar")
}

/// A little-endian reader over a byte string.
pub struct Reader<'a> {
    pub bytes: &'a [u8],
    pub at: usize,
}

impl<'a> Reader<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        Self { bytes, at: 0 }
    }
    pub fn take(&mut self, n: usize) -> &'a [u8] {
        let out = &self.bytes[self.at..self.at + n];
        self.at += n;
        out
    }
    pub fn u8(&mut self) -> u8 {
        self.take(1)[0]
    }
    pub fn u32(&mut self) -> u32 {
        u32::from_le_bytes(self.take(4).try_into().unwrap())
    }
    pub fn u64(&mut self) -> u64 {
        u64::from_le_bytes(self.take(8).try_into().unwrap())
    }
    pub fn done(&self) -> bool {
        self.at == self.bytes.len()
    }
}

/// The canonical manifest encoding from `manifest.json` (docs/election.md, *Manifest*, the
/// encoding).
pub fn manifest_canonical(json: &serde_json::Value) -> Vec<u8> {
    let text = |v: &serde_json::Value| str_bytes(v.as_str().unwrap().as_bytes());
    let mut out = vec![2u8];
    out.extend(text(&json["election_id"]));
    out.extend(hex::decode(json["nonce"].as_str().unwrap()).unwrap());
    out.extend(text(&json["title"]));
    out.push(match json["revoting"].as_str().unwrap() {
        "last-counts" => 0,
        "refused" => 1,
        other => panic!("revoting {other}"),
    });
    let contests = json["contests"].as_array().unwrap();
    out.extend((contests.len() as u32).to_le_bytes());
    for c in contests {
        out.extend(text(&c["id"]));
        out.extend(text(&c["title"]));
        let options = c["options"].as_array().unwrap();
        out.extend((options.len() as u32).to_le_bytes());
        for o in options {
            out.extend(text(o));
        }
        for field in ["min_selections", "max_selections", "option_limit"] {
            out.extend(c[field].as_u64().unwrap().to_le_bytes());
        }
    }
    out
}

/// `SHA-512("evote/manifest/v1" ‖ canonical encoding)`.
pub fn manifest_hash(canonical: &[u8]) -> [u8; 64] {
    sha512(&[b"evote/manifest/v1", canonical])
}

/// The ceremony transcript's packages by section (docs/ceremony.md, *Package formats*).
pub struct Ceremony {
    pub id: [u8; 32],
    pub t: u32,
    pub n: u32,
    /// hashes, reveals, shares, complaints: each package's bytes.
    pub sections: [Vec<Vec<u8>>; 4],
}

pub fn parse_ceremony(bytes: &[u8]) -> Ceremony {
    let mut r = Reader::new(bytes);
    assert_eq!((r.u8(), r.u8()), (1, 32), "version 1, kind 32");
    let id: [u8; 32] = r.take(32).try_into().unwrap();
    let (t, n) = (r.u32(), r.u32());
    let mut section = || {
        let count = r.u32();
        (0..count)
            .map(|_| {
                let len = r.u32() as usize;
                r.take(len).to_vec()
            })
            .collect::<Vec<_>>()
    };
    let sections = [section(), section(), section(), section()];
    assert!(r.done());
    Ceremony { id, t, n, sections }
}

/// A reveal package: sender and commitments C_{i,0..t−1}.
pub fn reveal_commitments(package: &[u8]) -> (u32, Vec<RistrettoPoint>) {
    let mut r = Reader::new(package);
    assert_eq!((r.u8(), r.u8()), (1, 2));
    let sender = r.u32();
    let t = r.u32() as usize;
    (sender, (0..t).map(|_| point(r.take(32))).collect())
}

/// K and every X_j of a ceremony in which every guardian that revealed qualified
/// (docs/ceremony.md, *Notation*: K = Σ C_{i,0}, X_j = Σ_i Σ_k j^k·C_{i,k}).
pub fn keys_of(ceremony: &Ceremony) -> (RistrettoPoint, Vec<(u32, RistrettoPoint)>) {
    let reveals: Vec<(u32, Vec<RistrettoPoint>)> = ceremony.sections[1]
        .iter()
        .map(|p| reveal_commitments(p))
        .collect();
    let key = reveals.iter().map(|(_, c)| c[0]).sum();
    let shares = reveals
        .iter()
        .map(|(j, _)| {
            let x = Scalar::from(u64::from(*j));
            let mut share = RistrettoPoint::identity();
            for (_, commitments) in &reveals {
                let mut power = Scalar::ONE;
                for c in commitments {
                    share += c * power;
                    power *= x;
                }
            }
            (*j, share)
        })
        .collect();
    (key, shares)
}

/// H_E from its inputs (docs/election.md, *Election context*).
#[allow(clippy::too_many_arguments)]
pub fn election_hash(
    manifest_hash: &[u8; 64],
    key: &[u8; 32],
    credential_root: &[u8; 64],
    ceremony_id: &[u8; 32],
    t: u32,
    n: u32,
    qualified: &[(u32, [u8; 32])],
    transcript_digest: &[u8; 64],
) -> [u8; 64] {
    let mut h = Sha512::new();
    h.update(b"evote/election-context/v1");
    h.update(str_bytes(b"evote-proofs/1"));
    h.update(str_bytes(b"ristretto255/rfc9496;merlin-3;strobe-128"));
    h.update(manifest_hash);
    h.update(key);
    h.update(credential_root);
    h.update(ceremony_id);
    h.update(t.to_le_bytes());
    h.update(n.to_le_bytes());
    h.update((qualified.len() as u32).to_le_bytes());
    for (j, x) in qualified {
        h.update(j.to_le_bytes());
        h.update(x);
    }
    h.update(transcript_digest);
    h.finalize().into()
}

/// The credential root: `SHA-512("evote/credentials/v1" ‖ LE64(count) ‖ keys in order)`, where
/// `credentials.bin` is `LE64(count) ‖ keys`.
pub fn credential_root(credentials_bin: &[u8]) -> [u8; 64] {
    sha512(&[b"evote/credentials/v1", credentials_bin])
}

/// `D_T = SHA-512("evote/ceremony-transcript/v1" ‖ ceremony.bin)`.
pub fn transcript_digest(ceremony_bin: &[u8]) -> [u8; 64] {
    sha512(&[b"evote/ceremony-transcript/v1", ceremony_bin])
}

/// The board file: header fields and every stored entry (docs/election.md, *The ballot board*).
pub struct Board {
    pub election: [u8; 64],
    pub ballot_box: [u8; 32],
    pub genesis: [u8; 64],
    /// (number, kind, content, head), in file order.
    pub entries: Vec<(u64, u8, Vec<u8>, [u8; 64])>,
}

/// Parses a board and checks its chain and numbering.
pub fn parse_board(bytes: &[u8]) -> Board {
    let mut r = Reader::new(bytes);
    assert_eq!(r.take(11), b"EVOTE-BOARD");
    assert_eq!(r.u8(), 2);
    let election: [u8; 64] = r.take(64).try_into().unwrap();
    let ballot_box: [u8; 32] = r.take(32).try_into().unwrap();
    let genesis = sha512(&[b"evote/board-genesis/v2", &election, &ballot_box]);
    let mut head = genesis;
    let mut entries = Vec::new();
    while !r.done() {
        let len = r.u32() as usize;
        let payload = r.take(len);
        let stored: [u8; 64] = r.take(64).try_into().unwrap();
        head = sha512(&[b"evote/board-entry/v1", &head, payload]);
        assert_eq!(stored, head, "entry {} chains", entries.len() + 1);
        let number = u64::from_le_bytes(payload[..8].try_into().unwrap());
        assert_eq!(number, entries.len() as u64 + 1, "entries numbered from 1");
        entries.push((number, payload[8], payload[9..].to_vec(), head));
    }
    Board {
        election,
        ballot_box,
        genesis,
        entries,
    }
}

/// One option of a ballot body: its ciphertext and range proof.
pub struct OptionPart {
    pub ciphertext: Vec<u8>,
    pub proof: Vec<u8>,
}

/// A ballot body (docs/election.md, *Ballots*, the layouts).
pub struct Body {
    pub id: [u8; 32],
    pub credential: [u8; 32],
    /// Per contest: its options, then the selection-limit proof.
    pub contests: Vec<(Vec<OptionPart>, Vec<u8>)>,
    /// The body's length: what precedes the signature (and, in a challenged ballot, the seed).
    pub len: usize,
}

pub fn parse_body(bytes: &[u8]) -> Body {
    let mut r = Reader::new(bytes);
    assert_eq!((r.u8(), r.u8()), (2, 64), "version 2, kind 64");
    let id = r.take(32).try_into().unwrap();
    let credential = r.take(32).try_into().unwrap();
    let contests = (0..r.u32())
        .map(|_| {
            let options = (0..r.u32())
                .map(|_| {
                    let ciphertext = r.take(64).to_vec();
                    let len = r.u32() as usize;
                    OptionPart {
                        ciphertext,
                        proof: r.take(len).to_vec(),
                    }
                })
                .collect();
            let len = r.u32() as usize;
            (options, r.take(len).to_vec())
        })
        .collect();
    Body {
        id,
        credential,
        contests,
        len: r.at,
    }
}

/// `SHA-512("evote/ballot-body/v1" ‖ body)`: what the credential signs.
pub fn body_hash(body: &[u8]) -> [u8; 64] {
    sha512(&[b"evote/ballot-body/v1", body])
}

/// `SHA-512("evote/tracker/v2" ‖ body)`.
pub fn tracker(body: &[u8]) -> [u8; 64] {
    sha512(&[b"evote/tracker/v2", body])
}

/// `r_{c,o}`: `SHA-512("evote/ballot-nonce/v1" ‖ H_E ‖ id ‖ LE32(c) ‖ LE32(o) ‖ seed)`, reduced
/// modulo ℓ as a 512-bit little-endian integer.
pub fn ballot_nonce(election: &[u8; 64], id: &[u8; 32], c: u32, o: u32, seed: &[u8]) -> Scalar {
    Scalar::from_bytes_mod_order_wide(&sha512(&[
        b"evote/ballot-nonce/v1",
        election,
        id,
        &c.to_le_bytes(),
        &o.to_le_bytes(),
        seed,
    ]))
}

/// The context transcript of one contest of a ballot (docs/election.md, the transcripts).
pub fn contest_transcript(election: &[u8; 64], body: &Body, contest: u64) -> Transcript {
    let mut t = Transcript::new(b"evote/ballot/v1");
    t.append_message(b"election-hash", election);
    t.append_message(b"ballot-id", &body.id);
    t.append_message(b"credential", &body.credential);
    t.append_u64(b"contest", contest);
    t
}

/// The transcript of an option's range proof.
pub fn option_transcript(
    election: &[u8; 64],
    body: &Body,
    contest: u64,
    option: u64,
) -> Transcript {
    let mut t = contest_transcript(election, body, contest);
    t.append_u64(b"option", option);
    t
}

/// The transcript of a contest's selection-limit proof.
pub fn limit_transcript(election: &[u8; 64], body: &Body, contest: u64) -> Transcript {
    let mut t = contest_transcript(election, body, contest);
    t.append_message(b"selection-limit", b"");
    t
}

/// The cast signature's context.
pub fn cast_transcript(election: &[u8; 64], body_hash: &[u8; 64]) -> Transcript {
    let mut t = Transcript::new(b"evote/ballot-cast/v2");
    t.append_message(b"election-hash", election);
    t.append_message(b"ballot-body", body_hash);
    t
}

/// The challenge signature's context.
pub fn challenge_transcript(election: &[u8; 64], body_hash: &[u8; 64], seed: &[u8]) -> Transcript {
    let mut t = Transcript::new(b"evote/ballot-challenge/v2");
    t.append_message(b"election-hash", election);
    t.append_message(b"ballot-body", body_hash);
    t.append_message(b"seed", seed);
    t
}

/// Domain separation, first in every proof (docs/transcript.md).
pub fn domain(t: &mut Transcript, kind: &[u8]) {
    t.append_message(b"evote/protocol", b"evote-proofs/1");
    t.append_message(
        b"evote/ciphersuite",
        b"ristretto255/rfc9496;merlin-3;strobe-128",
    );
    t.append_message(b"evote/proof-kind", kind);
}

/// The challenge: 64 bytes of `challenge_bytes("challenge")`, reduced modulo ℓ (wide).
pub fn challenge(t: &mut Transcript) -> Scalar {
    let mut wide = [0u8; 64];
    t.challenge_bytes(b"challenge", &mut wide);
    Scalar::from_bytes_mod_order_wide(&wide)
}

/// A Schnorr proof of knowledge of log_G K (docs/transcript.md): its challenge, and whether
/// s·G = R + c·K.
pub fn schnorr(mut t: Transcript, key: &[u8], proof: &[u8]) -> (Scalar, bool) {
    domain(&mut t, b"schnorr-pok");
    t.append_message(b"G", G.compress().as_bytes());
    t.append_message(b"K", key);
    t.append_message(b"commitment-G", &proof[..32]);
    let c = challenge(&mut t);
    let ok = G * scalar(&proof[32..64]) == point(&proof[..32]) + point(key) * c;
    (c, ok)
}

/// A range (`kind` = `range`) or selection-limit (`selection-limit`) proof over `cts` for
/// `min..=max` (docs/transcript.md, docs/proofs.md): its challenge c, and whether every branch
/// equation holds with c_{n−1} = c − Σ c_j.
pub fn disjunctive(
    mut t: Transcript,
    kind: &[u8],
    key: &[u8],
    cts: &[&[u8]],
    min: u64,
    max: u64,
    proof: &[u8],
) -> (Scalar, bool) {
    let n = (max - min + 1) as usize;
    assert_eq!(proof.len(), 128 * n - 32, "proof length");
    domain(&mut t, kind);
    t.append_u64(b"ciphertext-count", cts.len() as u64);
    t.append_u64(b"branch-count", n as u64);
    t.append_message(b"G", G.compress().as_bytes());
    t.append_message(b"K", key);
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
    let mut cs: Vec<Scalar> = proof[64 * n..64 * n + 32 * (n - 1)]
        .chunks(32)
        .map(scalar)
        .collect();
    let sum: Scalar = cs.iter().sum();
    cs.push(c - sum);
    let ss: Vec<Scalar> = proof[64 * n + 32 * (n - 1)..]
        .chunks(32)
        .map(scalar)
        .collect();
    let k = point(key);
    let alpha: RistrettoPoint = cts.iter().map(|ct| point(&ct[..32])).sum();
    let beta: RistrettoPoint = cts.iter().map(|ct| point(&ct[32..])).sum();
    let ok = (0..n).all(|j| {
        let a = point(&commitments[64 * j..64 * j + 32]);
        let b = point(&commitments[64 * j + 32..64 * j + 64]);
        G * ss[j] == a + alpha * cs[j]
            && k * ss[j] == b + (beta - G * Scalar::from(min + j as u64)) * cs[j]
    });
    (c, ok)
}

/// Every transcript challenge of a ballot body, in order (per contest: each option's range
/// proof, then the selection limit), with whether its proof's equations hold; `shape` gives
/// per contest `(R, min, max)`.
pub fn ballot_challenges(
    election: &[u8; 64],
    key: &[u8],
    body: &Body,
    shape: &[(u64, u64, u64)],
) -> Vec<(String, Scalar, bool)> {
    let mut out = Vec::new();
    for (c, ((options, limit), (r, min, max))) in body.contests.iter().zip(shape).enumerate() {
        for (o, part) in options.iter().enumerate() {
            let (ch, ok) = disjunctive(
                option_transcript(election, body, c as u64, o as u64),
                b"range",
                key,
                &[&part.ciphertext],
                0,
                *r,
                &part.proof,
            );
            out.push((format!("contest_{c}_option_{o}"), ch, ok));
        }
        let cts: Vec<&[u8]> = options.iter().map(|p| p.ciphertext.as_slice()).collect();
        let (ch, ok) = disjunctive(
            limit_transcript(election, body, c as u64),
            b"selection-limit",
            key,
            &cts,
            *min,
            *max,
            limit,
        );
        out.push((format!("contest_{c}_selection_limit"), ch, ok));
    }
    out
}

/// The counts decrypted from `tally.bin` and the frames of `shares.bin` with the `t` lowest
/// guardian indices (docs/ceremony.md, *Combination*), each found by search in 0..=ballots·R_k.
pub fn decrypt_counts(tally_bin: &[u8], shares_bin: &[u8], t: usize) -> Vec<u64> {
    let mut r = Reader::new(tally_bin);
    assert_eq!((r.u8(), r.u8()), (1, 49));
    r.take(32 + 64 + 64);
    let ballots = r.u64();
    let options: Vec<(u64, RistrettoPoint, RistrettoPoint)> = (0..r.u32())
        .map(|_| (r.u64(), point(r.take(32)), point(r.take(32))))
        .collect();
    let mut shares: Vec<(u64, Vec<RistrettoPoint>)> = Vec::new();
    let mut frames = Reader::new(shares_bin);
    while !frames.done() {
        let len = frames.u32() as usize;
        let mut s = Reader::new(frames.take(len));
        assert_eq!((s.u8(), s.u8()), (1, 17));
        let guardian = u64::from(s.u32());
        s.take(64);
        let m = (0..s.u32())
            .map(|_| {
                let m = point(s.take(32));
                s.take(96);
                m
            })
            .collect();
        shares.push((guardian, m));
    }
    shares.sort_by_key(|(j, _)| *j);
    shares.truncate(t);
    let lambda = |j: u64| -> Scalar {
        shares
            .iter()
            .filter(|(m, _)| *m != j)
            .map(|(m, _)| Scalar::from(*m) * (Scalar::from(*m) - Scalar::from(j)).invert())
            .product()
    };
    options
        .iter()
        .enumerate()
        .map(|(k, (bound, _a, b))| {
            let m: RistrettoPoint = shares.iter().map(|(j, ms)| ms[k] * lambda(*j)).sum();
            let target = b - m;
            let mut acc = RistrettoPoint::identity();
            (0..=ballots * bound)
                .find(|_| {
                    let hit = acc == target;
                    acc += G;
                    hit
                })
                .expect("a count within ballots·R")
        })
        .collect()
}
