//! A small yes/no referendum end to end with the crypto core: every voter encrypts a 0/1 vote
//! with a proof bound to the election and ballot, the board checks all proofs in one batch, the
//! votes are summed homomorphically, and the sum is decrypted and decoded.
//!
//! Run: `cargo run --release --example quickstart [VOTERS]` (default 1000 voters).

use std::time::Instant;

use evote::proofs::{BatchVerifier, RangeProof};
use evote::{Ciphertext, DlogTable, EncryptionKey, KeyPair, Transcript};
use rand_core::{OsRng, RngCore};

/// The context every ballot proof is bound to: this election and this ballot.
fn ballot_context(election: &[u8; 32], ballot: u64) -> Transcript {
    let mut t = Transcript::new(b"evote quickstart referendum");
    t.append_message(b"election-hash", election);
    t.append_u64(b"ballot-id", ballot);
    t
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let voters: u64 = match std::env::args().nth(1) {
        Some(arg) => arg
            .parse()
            .map_err(|_| format!("VOTERS must be a number, got {arg:?}"))?,
        None => 1000,
    };
    let mut rng = OsRng;
    let mut election = [0u8; 32];
    rng.fill_bytes(&mut election);

    // 1. Election key (a single key here; the threshold ceremony replaces this step).
    let authority = KeyPair::generate(&mut rng);
    let key = EncryptionKey::new(authority.public());

    // 2. Voters encrypt and prove their 0/1 votes.
    let start = Instant::now();
    let mut expected_yes = 0;
    let ballots: Vec<(Ciphertext, RangeProof)> = (0..voters)
        .map(|id| {
            let vote = rng.next_u32() % 2;
            expected_yes += u64::from(vote);
            let (ct, _opening, proof) = RangeProof::encrypt_and_prove(
                &mut ballot_context(&election, id),
                &key,
                vote.into(),
                0..=1,
                &mut rng,
            )?;
            Ok((ct, proof))
        })
        .collect::<Result<_, evote::ProofError>>()?;
    let cast = start.elapsed();

    // 3. The board verifies every proof in one batch (over the wire encodings).
    let start = Instant::now();
    let mut batch = BatchVerifier::with_capacity(&mut rng, ballots.len(), 8);
    let mut received = Vec::with_capacity(ballots.len());
    for (id, (ct, proof)) in ballots.iter().enumerate() {
        let ct = Ciphertext::from_bytes(&ct.to_bytes())?;
        let proof = RangeProof::from_bytes(&proof.to_bytes())?;
        batch.queue_range(
            &mut ballot_context(&election, id as u64),
            &proof,
            authority.public(),
            &ct,
            0..=1,
        )?;
        received.push(ct);
    }
    batch.verify()?;
    let verified = start.elapsed();

    // 4. Homomorphic tally and decryption.
    let start = Instant::now();
    let tally: Ciphertext = received.iter().sum();
    let table = DlogTable::new(voters)?;
    let yes = authority.secret().decrypt(&tally, &table)?;
    let decrypted = start.elapsed();

    println!("evote quickstart: yes/no referendum, {voters} voters");
    println!(
        "  encrypt + prove:   {cast:>10.2?} total, {:>8.1?} per ballot",
        cast / voters.max(1) as u32
    );
    println!(
        "  batch verify:      {verified:>10.2?} total, {:>8.1?} per ballot",
        verified / voters.max(1) as u32
    );
    println!("  tally + decrypt:   {decrypted:>10.2?}");
    println!("  result: yes {yes}, no {}", voters - yes);
    if yes != expected_yes {
        return Err(format!("tally {yes} differs from the {expected_yes} yes votes cast").into());
    }
    println!("  the decrypted tally matches the votes cast");
    Ok(())
}
