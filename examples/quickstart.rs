//! A yes/no referendum end to end with what evote has today: a 3-of-5 key ceremony, voters
//! encrypting 0/1 votes with proofs bound to the election and their ballot, the ballots checked
//! in one batch while being tallied homomorphically, and the tally decrypted by three guardians
//! (two are absent) with proofs, checked and combined.
//!
//! Run: `cargo run --release --example quickstart [VOTERS]` (default 1000 voters).

use std::time::Instant;

use evote::ceremony::{adjudicate, part1, CeremonyParams, CeremonyTranscript};
use evote::decryption::{combine, TallyAccumulator, DEFAULT_MIN_BALLOTS};
use evote::proofs::RangeProof;
use evote::{Ciphertext, EncryptionKey, Transcript};
use rand_core::{OsRng, RngCore};

/// The context every ballot proof is bound to: this election and this ballot.
fn ballot_context(election: &[u8; 32], ballot: usize) -> Transcript {
    let mut t = Transcript::new(b"evote quickstart referendum");
    t.append_message(b"election-id", election);
    t.append_u64(b"ballot-id", ballot as u64);
    t.append_u64(b"option", 0);
    t
}

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

    // 2. Voters encrypt and prove their 0/1 votes under the joint key.
    let start = Instant::now();
    let key = EncryptionKey::new(outcome.joint_key());
    let mut expected_yes = 0u64;
    let mut ballots = Vec::with_capacity(voters);
    for id in 0..voters {
        let vote = u64::from(rng.next_u32() % 2);
        expected_yes += vote;
        let (ct, _opening, proof) = RangeProof::encrypt_and_prove(
            &mut ballot_context(&election, id),
            &key,
            vote,
            0..=1,
            &mut rng,
        )?;
        // What the server receives: bytes, decoded strictly.
        ballots.push((
            vec![Ciphertext::from_bytes(&ct.to_bytes())?],
            vec![RangeProof::from_bytes(&proof.to_bytes())?],
        ));
    }
    let cast = start.elapsed();

    // 3. Every proof checked in one batch while the tally is summed.
    let start = Instant::now();
    let mut tally = TallyAccumulator::new(outcome.joint_key(), &[1]);
    let refs: Vec<_> = ballots
        .iter()
        .map(|(c, p)| (c.as_slice(), p.as_slice()))
        .collect();
    let rejected = tally.add_ballots(&refs, |b, _| ballot_context(&election, b), &mut rng);
    if !rejected.is_empty() {
        return Err(format!("{} ballots refused: {:?}", rejected.len(), rejected.first()).into());
    }
    let tally = tally.finish();
    let verified = start.elapsed();

    // 4. Guardians 2, 4 and 5 decrypt (1 and 3 are absent); anyone checks and combines.
    let start = Instant::now();
    let shares = [1usize, 3, 4]
        .iter()
        .filter_map(|i| guardians.get(*i))
        .map(|g| g.decrypt_tally(&outcome, &tally, DEFAULT_MIN_BALLOTS, &mut rng))
        .collect::<Result<Vec<_>, _>>()?;
    let result = combine(&outcome, &tally, &shares, &mut rng)?;
    let decrypted = start.elapsed();

    let yes = result.counts.first().copied().unwrap_or(0);
    let per = |d: std::time::Duration| d / u32::try_from(voters.max(1)).unwrap_or(u32::MAX);
    println!("evote quickstart: yes/no referendum, {voters} voters, 3-of-5 guardians");
    println!("  key ceremony (5 guardians):  {ceremony:>10.2?}");
    println!(
        "  encrypt + prove:             {cast:>10.2?} total, {:>8.1?} per ballot",
        per(cast)
    );
    println!(
        "  batch verify + tally:        {verified:>10.2?} total, {:>8.1?} per ballot",
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
