//! A yes/no referendum end to end: a 3-of-5 key ceremony, voters with credentials encrypting
//! and signing 0/1 ballots with proofs bound to the election, the ballot board checking them in
//! batches, the closed board tallied homomorphically, and the tally decrypted by three guardians
//! (two are absent) with signed, proved shares, checked and combined.
//!
//! Run: `cargo run --release --example quickstart [VOTERS]` (default 1000 voters).

use std::time::Instant;

use evote::ceremony::{adjudicate, part1, CeremonyParams, CeremonyTranscript};
use evote::decryption::{combine, DEFAULT_MIN_BALLOTS};
use evote::election::board::tally;
use evote::election::{
    Ballot, BallotBoard, Contest, CredentialList, ElectionContext, Manifest, RevotePolicy,
};
use rand_core::{OsRng, RngCore};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let voters: usize = match std::env::args().nth(1) {
        Some(arg) => arg
            .parse()
            .map_err(|_| format!("VOTERS must be a number, got {arg:?}"))?,
        None => 1000,
    };
    let mut rng = OsRng;
    let mut election = [0u8; 32];
    rng.fill_bytes(&mut election);

    // 1. Key ceremony: 5 guardians, any 3 can decrypt, nobody ever holds the key.
    let start = Instant::now();
    let params = CeremonyParams::new(election, 3, 5)?;
    let mut secrets1 = Vec::new();
    let mut hashes = Vec::new();
    for i in params.indices() {
        let (secret, hash) = part1(&params, i, &mut rng)?;
        secrets1.push(secret);
        hashes.push(hash);
    }
    let mut secrets2 = Vec::new();
    let mut reveals = Vec::new();
    for s in secrets1 {
        let (secret, reveal) = s.part2(&hashes)?;
        secrets2.push(secret);
        reveals.push(reveal);
    }
    let mut secrets3 = Vec::new();
    let mut shares = Vec::new();
    for s in secrets2 {
        let (secret, mut sent) = s.part3(&reveals, &mut rng)?;
        secrets3.push(secret);
        shares.append(&mut sent);
    }
    let mut secrets4 = Vec::new();
    let mut complaints = Vec::new();
    for s in secrets3 {
        let (secret, mut filed) = s.part4(&shares, &mut rng)?;
        secrets4.push(secret);
        complaints.append(&mut filed);
    }
    let transcript = CeremonyTranscript {
        params,
        hashes,
        reveals,
        shares,
        complaints,
    };
    let outcome = adjudicate(&transcript, &mut rng)?;
    let guardians = secrets4
        .into_iter()
        .map(|s| s.finish(&transcript, &mut rng).map(|(key, _)| key))
        .collect::<Result<Vec<_>, _>>()?;
    let ceremony = start.elapsed();

    // 2. The election: one yes/no question, a credential per voter.
    let manifest = Manifest {
        election_id: "quickstart".into(),
        nonce: Manifest::fresh_nonce(&mut rng),
        title: "Quickstart referendum".into(),
        revoting: RevotePolicy::LastCounts,
        contests: vec![Contest {
            id: "approve".into(),
            title: "Do you approve the proposal? (mark for yes)".into(),
            options: vec!["yes".into()],
            min_selections: 0,
            max_selections: 1,
            option_limit: 1,
        }],
    };
    let (credentials, list) = CredentialList::generate(voters, &mut rng);
    let context = ElectionContext::new(manifest, outcome.clone(), list)?;

    // 3. Voters encrypt, prove and sign their ballots; what the server receives is bytes.
    let start = Instant::now();
    let mut expected_yes = 0u64;
    let mut ballots = Vec::with_capacity(voters);
    for credential in &credentials {
        let vote = u64::from(rng.next_u32() % 2);
        expected_yes += vote;
        let ballot = Ballot::encrypt_and_cast(&context, credential, &[vec![vote]], &mut rng)?;
        ballots.push(ballot.to_bytes());
    }
    let cast = start.elapsed();

    // 4. The ballot board checks every ballot (in batches) before it acknowledges it, then
    //    closes; the closed board is tallied, every counted proof checked again.
    let start = Instant::now();
    let dir = std::env::temp_dir().join(format!("evote-quickstart-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let board_path = dir.join("board.bin");
    let mut board = BallotBoard::create(
        &board_path,
        &context,
        evote::election::BallotBoxKey::generate(&mut rng),
    )?;
    for chunk in ballots.chunks(500) {
        for receipt in board.append_many(&context, chunk, &mut rng)? {
            receipt?;
        }
    }
    let published_head = board.close(&mut rng)?;
    drop(board);
    let tally = tally(&board_path, &context, &mut rng)?;
    std::fs::remove_dir_all(&dir)?;
    let verified = start.elapsed();

    // 5. Guardians 2, 4 and 5 decrypt (1 and 3 are absent) the tally of the board whose head
    //    was published; anyone checks and combines.
    let start = Instant::now();
    let mut guardians = guardians;
    let shares = guardians
        .iter_mut()
        .enumerate()
        .filter(|(i, _)| [1usize, 3, 4].contains(i))
        .map(|(_, g)| {
            g.decrypt_tally(
                &outcome,
                &tally,
                &published_head,
                DEFAULT_MIN_BALLOTS,
                &mut rng,
            )
        })
        .collect::<Result<Vec<_>, _>>()?;
    let result = combine(&outcome, &tally, &shares, &mut rng)?;
    let decrypted = start.elapsed();

    let yes = result.counts.first().copied().unwrap_or(0);
    let per = |d: std::time::Duration| d / u32::try_from(voters.max(1)).unwrap_or(u32::MAX);
    println!("evote quickstart: yes/no referendum, {voters} voters, 3-of-5 guardians");
    println!("  key ceremony (5 guardians):  {ceremony:>10.2?}");
    println!(
        "  encrypt + prove + sign:      {cast:>10.2?} total, {:>8.1?} per ballot",
        per(cast)
    );
    println!(
        "  board accepts, closes, tally: {verified:>9.2?} total, {:>8.1?} per ballot",
        per(verified)
    );
    println!(
        "  decrypt (guardians {:?}):  {decrypted:>10.2?}",
        result.combined.iter().map(|g| g.get()).collect::<Vec<_>>()
    );
    println!("  result: yes {yes}, no {}", voters as u64 - yes);
    if yes != expected_yes {
        return Err(format!("tally {yes} differs from the {expected_yes} yes votes cast").into());
    }
    println!("  the decrypted tally matches the votes cast");
    Ok(())
}
