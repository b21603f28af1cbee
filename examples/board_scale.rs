//! The ballot board at scale: appends BALLOTS referendum ballots in batches (as the HTTP box's
//! writer does) to a board file or a PostgreSQL board, printing throughput and this process's
//! resident memory as the board grows, then drops the board and times reopening it.
//! A measurement, not a test.
//!
//! Run: `cargo run --release --example board_scale -- [BALLOTS] [BOARD] [referendum|1-of-10]`
//! (defaults: 1,000,000, a board file in a temporary folder, referendum; BOARD may be an empty
//! PostgreSQL database, `postgres://…`).

use std::time::Instant;

use evote::election::{Ballot, BallotBoxKey, BoardLocation, Contest, Manifest, RevotePolicy};
use evote::simulation::Election;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use rayon::prelude::*;

/// Ballots per `append_many` (the HTTP box's batches are at most this size under load).
const BATCH: usize = 2_000;

/// This process's resident set (Linux), in MiB.
fn rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let mut args = std::env::args().skip(1);
    let ballots: usize = args
        .next()
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(1_000_000);
    let dir = std::env::temp_dir().join(format!("evote-board-scale-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let board: BoardLocation = match args.next() {
        Some(a) => a.parse()?,
        None => BoardLocation::File(dir.join("board.bin")),
    };
    let shape = args.next().unwrap_or_else(|| "referendum".into());
    let options: usize = if shape == "1-of-10" { 10 } else { 2 };
    let mut rng = ChaCha20Rng::seed_from_u64(5);
    let manifest = Manifest {
        election_id: "board-scale".into(),
        nonce: Manifest::fresh_nonce(&mut rng),
        title: "board at scale".into(),
        revoting: RevotePolicy::LastCounts,
        contests: vec![Contest {
            id: "r".into(),
            title: "referendum".into(),
            options: (1..=options).map(|i| format!("option {i}")).collect(),
            min_selections: 1,
            max_selections: 1,
            option_limit: 1,
        }],
    };
    eprintln!("{ballots} voters: credentials and the election...");
    let election =
        Election::new([9; 32], 1, 1, manifest, ballots, &mut rng).map_err(|e| e.to_string())?;
    let key = BallotBoxKey::generate(&mut rng);
    let mut b = board.create(&election.context, key.clone())?;
    let start_rss = rss_mib();
    println!("board {board}, {shape}: {start_rss:.0} MiB resident before the first ballot");
    let started = Instant::now();
    let mut appending = std::time::Duration::ZERO;
    let mut done = 0usize;
    let mut next_report = ballots / 10;
    for (c, chunk) in election.voters.chunks(BATCH).enumerate() {
        let made: Vec<Vec<u8>> = chunk
            .par_iter()
            .enumerate()
            .map(|(i, v)| {
                let n = c * BATCH + i;
                let mut r = ChaCha20Rng::seed_from_u64(n as u64);
                let mut choice = vec![0u64; options];
                if let Some(c) = choice.get_mut(n % options) {
                    *c = 1;
                }
                Ballot::encrypt_and_cast(&election.context, v, &[choice], &mut r)
                    .map(|b| b.to_bytes())
                    .map_err(|e| e.to_string())
            })
            .collect::<Result<_, _>>()?;
        let t = Instant::now();
        let results = b.append_many(&election.context, &made, &mut rng)?;
        appending += t.elapsed();
        if let Some(e) = results.iter().find_map(|r| r.as_ref().err()) {
            return Err(e.to_string().into());
        }
        done += made.len();
        if done >= next_report || done == ballots {
            println!(
                "{done:>9} entries: {:.0} MiB resident (+{:.0} MiB), indices in process {:.1} MiB, \
                 appending {:.0} ballots/s (verification and store), {:.0} s in all",
                rss_mib(),
                rss_mib() - start_rss,
                b.index_bytes() as f64 / (1 << 20) as f64,
                done as f64 / appending.as_secs_f64(),
                started.elapsed().as_secs_f64()
            );
            next_report += ballots / 10;
        }
    }
    let head = *b.head();
    drop(b);
    let t = Instant::now();
    let reopened = board.open(&election.context, key)?;
    let reopen = t.elapsed();
    assert_eq!(reopened.head(), &head);
    println!(
        "reopened with {} entries in {:.3} s ({:.1} µs per entry); {:.0} MiB resident",
        reopened.entries(),
        reopen.as_secs_f64(),
        reopen.as_secs_f64() * 1e6 / reopened.entries().max(1) as f64,
        rss_mib()
    );
    drop(reopened);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
