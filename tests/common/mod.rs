//! Helpers shared by the record tests: copying a record and re-signing its index the way a
//! forger who edits files would.
#![allow(dead_code)] // each test file uses its own subset

use std::path::{Path, PathBuf};

use evote::ceremony::CeremonyOutcome;
use evote::decryption::EncryptedTally;
use evote::election::board::tally;
use evote::election::{
    Ballot, BallotBoard, CredentialList, ElectionContext, Manifest, PendingBallot, RevotePolicy,
    VoterCredential,
};
use evote::simulation::Election;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

use evote::election::record::{file_hash, files, to_hex};
use evote::election::RecordIndex;

/// The board file's header: magic, version, H_E, the ballot box key (docs/election.md).
pub const BOARD_HEADER: usize = 11 + 1 + 64 + 32;

/// Recomputes record.json's file hashes after files were edited.
pub fn rehash(dir: &Path) {
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

/// Copies a record directory (flat).
pub fn copy_dir(from: &Path, to: &Path) {
    let _ = std::fs::remove_dir_all(to);
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

/// A valid record under `policy` (no revotes when revoting is refused), with its context and
/// the voters' credentials.
pub fn build(name: &str, policy: RevotePolicy) -> (PathBuf, ElectionContext, Vec<VoterCredential>) {
    build_seeded(name, policy, 42)
}

/// [`build`] from another seed: another election (other keys, credentials and ballots).
pub fn build_seeded(
    name: &str,
    policy: RevotePolicy,
    seed: u64,
) -> (PathBuf, ElectionContext, Vec<VoterCredential>) {
    let base = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("records")
        .join(name);
    let _ = std::fs::remove_dir_all(&base);
    std::fs::create_dir_all(&base).unwrap();
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let mut manifest = Manifest::example();
    manifest.revoting = policy;
    // The simulation every test, benchmark and the demo share: a 2-of-3 ceremony, 6 voters.
    let mut election = Election::new([4; 32], 2, 3, manifest, 6, &mut rng).unwrap();
    let (context, voters) = (&election.context, &election.voters);
    let board_path = base.join("server-board.bin");
    let mut board = BallotBoard::create(&board_path, context, box_key()).unwrap();
    let choice = |i: usize| {
        vec![
            if i.is_multiple_of(2) {
                vec![1, 0]
            } else {
                vec![0, 1]
            },
            vec![0, 0, 0, 0, (i % 2) as u64],
            vec![1, 0, 0, 0, 0, 0, 0, (i % 2) as u64],
            vec![3, 0, 1, 0],
        ]
    };
    let revotes = if policy == RevotePolicy::LastCounts {
        2
    } else {
        0
    };
    // Voter 3 challenges its device first: the challenge is the board's first entry.
    let probe = PendingBallot::encrypt(context, voters[3].public(), &choice(0), &mut rng)
        .unwrap()
        .challenge(&voters[3], &mut rng)
        .unwrap();
    board
        .challenge(context, &probe.to_bytes(), &mut rng)
        .unwrap();
    for (i, v) in voters
        .iter()
        .enumerate()
        .chain(voters.iter().enumerate().take(revotes))
    {
        let b = Ballot::encrypt_and_cast(context, v, &choice(i + 1), &mut rng).unwrap();
        board.append(context, &b.to_bytes(), &mut rng).unwrap();
    }
    let head = board.close(&mut rng).unwrap();
    drop(board);
    // Guardian 1 is absent: guardians 2 and 3 decrypt.
    let decrypted = election.decrypt(&board_path, &head, 1, &mut rng).unwrap();
    let dir = base.join("record");
    election
        .write_record(&dir, &board_path, &decrypted)
        .unwrap();
    let Election {
        context, voters, ..
    } = election;
    (dir, context, voters)
}

/// Rewrites the record's board from its ballot payloads (as the documented board format
/// says), letting `edit` change the list of cast-ballot encodings, then re-chains it (the
/// challenge entries first, as [`build`] has them, then the ballots), closes it and updates
/// `board_head` and the file hashes: a forger with full control of the server.
pub fn rechain(dir: &Path, edit: &dyn Fn(&mut Vec<Vec<u8>>)) {
    let path = dir.join(files::BOARD);
    let header = std::fs::read(&path).unwrap()[..BOARD_HEADER].to_vec();
    let mut ballots = board_ballots(dir);
    edit(&mut ballots);
    let mut entries: Vec<(u8, Vec<u8>)> =
        board_entries(dir, 3).into_iter().map(|c| (3, c)).collect();
    entries.extend(ballots.into_iter().map(|b| (1, b)));
    rechain_entries(dir, &header, &entries);
}

/// Writes `entries` (kind, content) as the record's board, re-chained and closed, and updates
/// the tally's head, `board_head` and the file hashes.
pub fn rechain_entries(dir: &Path, header: &[u8], entries: &[(u8, Vec<u8>)]) {
    use sha2::{Digest, Sha512};
    let path = dir.join(files::BOARD);
    let mut head: [u8; 64] = Sha512::new()
        .chain_update(b"evote/board-genesis/v2")
        .chain_update(&header[12..BOARD_HEADER])
        .finalize()
        .into();
    let mut out = header.to_vec();
    let push = |payload: Vec<u8>, out: &mut Vec<u8>, head: &mut [u8; 64]| {
        *head = Sha512::new()
            .chain_update(b"evote/board-entry/v1")
            .chain_update(*head)
            .chain_update(&payload)
            .finalize()
            .into();
        out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        out.extend_from_slice(&payload);
        out.extend_from_slice(head);
    };
    for (i, (kind, content)) in entries.iter().enumerate() {
        let mut payload = (i as u64 + 1).to_le_bytes().to_vec();
        payload.push(*kind);
        payload.extend_from_slice(content);
        push(payload, &mut out, &mut head);
    }
    let mut close = (entries.len() as u64 + 1).to_le_bytes().to_vec();
    close.push(2);
    push(close, &mut out, &mut head);
    std::fs::write(&path, out).unwrap();
    // The forger also rebinds the recorded tally to the new head (layout: version, kind, K,
    // H_E, head, ...): what it cannot redo are the guardians' shares, which stay bound to the
    // old board (V13).
    let tally_path = dir.join(files::TALLY);
    let mut tally = std::fs::read(&tally_path).unwrap();
    tally[98..162].copy_from_slice(&head);
    std::fs::write(&tally_path, tally).unwrap();
    let p = dir.join(files::INDEX);
    let mut index: RecordIndex =
        serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
    index.board_head = head.iter().map(|b| format!("{b:02x}")).collect();
    std::fs::write(&p, serde_json::to_string(&index).unwrap()).unwrap();
    rehash(dir);
}

/// The cast-ballot encodings of a record's board, in order (layout: docs/election.md, the
/// board).
pub fn board_ballots(dir: &Path) -> Vec<Vec<u8>> {
    board_entries(dir, 1)
}

/// The contents of a record's board entries of `kind` (1 cast ballot, 3 challenge), in order.
pub fn board_entries(dir: &Path, kind: u8) -> Vec<Vec<u8>> {
    let bytes = std::fs::read(dir.join(files::BOARD)).unwrap();
    let mut out = Vec::new();
    let mut at = BOARD_HEADER;
    while at < bytes.len() {
        let len = u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
        let payload = &bytes[at + 4..at + 4 + len];
        if payload[8] == kind {
            out.push(payload[9..].to_vec());
        }
        at += 4 + len + 64;
    }
    out
}

/// The example manifest's choices used across the tests: referendum yes; mayor blank; council
/// two; budget 3 + 2.
pub fn example_choices() -> Vec<Vec<u64>> {
    vec![
        vec![1, 0],
        vec![0; 5],
        vec![0, 1, 0, 0, 0, 0, 1, 0],
        vec![3, 0, 2, 0],
    ]
}

/// A manifest of one contest per option, option `k` admitting `0..=bounds[k]`.
pub fn manifest_of_bounds(bounds: &[u64]) -> Manifest {
    let mut manifest = Manifest::example();
    manifest.election_id = "bounds-test".into();
    manifest.contests = bounds
        .iter()
        .enumerate()
        .map(|(k, bound)| evote::election::Contest {
            id: format!("c{k}"),
            title: format!("Contest {k}"),
            options: vec![format!("option {k}")],
            min_selections: 0,
            max_selections: *bound,
            option_limit: *bound,
        })
        .collect();
    manifest
}

/// The tally of a closed board of `votes` (one row per voter, one value per option, option `k`
/// admitting `0..=bounds[k]`) under `outcome`'s key: the only way to an `EncryptedTally`.
/// Its board head is what a guardian is told was published.
pub fn board_tally(
    outcome: &CeremonyOutcome,
    bounds: &[u64],
    votes: &[Vec<u64>],
    seed: u64,
) -> EncryptedTally {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let (voters, list) = CredentialList::generate(votes.len(), &mut rng);
    let context = ElectionContext::new(manifest_of_bounds(bounds), outcome.clone(), list).unwrap();
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("boards");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!(
        "{}-{seed}-{}.bin",
        std::process::id(),
        to_hex(&context.hash()[..8])
    ));
    let _ = std::fs::remove_file(&path);
    let mut board = BallotBoard::create(&path, &context, box_key()).unwrap();
    for (voter, row) in voters.iter().zip(votes) {
        let choices: Vec<Vec<u64>> = row.iter().map(|v| vec![*v]).collect();
        let ballot = Ballot::encrypt_and_cast(&context, voter, &choices, &mut rng).unwrap();
        board
            .append(&context, &ballot.to_bytes(), &mut rng)
            .unwrap();
    }
    board.close(&mut rng).unwrap();
    drop(board);
    let encrypted = tally(&path, &context, &mut rng).unwrap();
    let _ = std::fs::remove_file(&path);
    encrypted
}

/// Signs a ballot body (`docs/election.md`) as cast by `voter`: what a device holding the
/// credential can always do, and nobody else can.
pub fn sign_cast(body: &[u8], voter: &VoterCredential, context: &ElectionContext) -> Vec<u8> {
    use evote::transcript::labels;
    use evote::{KeyPair, SchnorrProof, SecretKey, Transcript};
    use sha2::{Digest, Sha512};
    let body_hash: [u8; 64] = Sha512::new()
        .chain_update(b"evote/ballot-body/v1")
        .chain_update(body)
        .finalize()
        .into();
    let mut t = Transcript::new(labels::BALLOT_CAST);
    t.append_message(labels::ELECTION_HASH, context.hash());
    t.append_message(labels::BALLOT_BODY, &body_hash);
    let pair = KeyPair::from_secret(SecretKey::from_bytes(&*voter.expose_secret_bytes()).unwrap());
    let mut rng = ChaCha20Rng::seed_from_u64(99);
    let signature = SchnorrProof::prove(&mut t, &pair, &mut rng);
    let mut out = body.to_vec();
    out.extend_from_slice(&signature.to_bytes());
    out
}

/// The ballot box key of the tests' boards (fixed, so a board can be reopened).
pub fn box_key() -> evote::election::BallotBoxKey {
    evote::election::BallotBoxKey::from_secret_bytes(&[7; 32]).unwrap()
}

/// Rounds 1-4 of a ceremony from `seed`, with `edit` applied to the round-3 shares before they
/// are delivered (a cheating dealer or a faulty channel): every guardian's round-4 secret, and
/// the public transcript with the complaints filed.
pub fn ceremony_rounds(
    params: &evote::ceremony::CeremonyParams,
    seed: u64,
    edit: impl Fn(&mut Vec<evote::ceremony::EncryptedShare>),
) -> (
    Vec<evote::ceremony::Round4Secret>,
    evote::ceremony::CeremonyTranscript,
) {
    use evote::ceremony::{part1, CommitmentHashPackage, Round1Secret};
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let (secrets, hashes): (Vec<Round1Secret>, Vec<CommitmentHashPackage>) = params
        .indices()
        .map(|i| part1(params, i, &mut rng).unwrap())
        .unzip();
    let (secrets, reveals): (Vec<_>, Vec<_>) = secrets
        .into_iter()
        .map(|s| s.part2(&hashes).unwrap())
        .unzip();
    let mut shares = Vec::new();
    let mut third = Vec::new();
    for s in secrets {
        let (s3, mut sent) = s.part3(&reveals, &mut rng).unwrap();
        third.push(s3);
        shares.append(&mut sent);
    }
    edit(&mut shares);
    let mut fourth = Vec::new();
    let mut complaints = Vec::new();
    for s in third {
        let (s4, mut filed) = s.part4(&shares, &mut rng).unwrap();
        fourth.push(s4);
        complaints.append(&mut filed);
    }
    let transcript = evote::ceremony::CeremonyTranscript {
        params: params.clone(),
        hashes,
        reveals,
        shares,
        complaints,
    };
    (fourth, transcript)
}

pub mod pg;
pub mod spec;
