//! A large tally, timed: N referendum ballots are encrypted, accepted by the board in batches of
//! 1,000 (one multiscalar check and one fsync per batch), tallied from the board file (streamed,
//! counted ballots verified again in batches) and decrypted by 2 of 3 guardians.
//!
//! Run: `cargo run --release --example tally_run -- [BALLOTS] [DIR]` (default 100000, a
//! temporary directory). Prints each phase's time and the peak resident memory.

use std::time::Instant;

use evote::decryption::{combine, DEFAULT_MIN_BALLOTS};
use evote::election::board::tally;
use evote::election::{Ballot, BallotBoard, Manifest};
use evote::simulation::Election;
use rand_chacha::ChaCha20Rng;
use rand_core::{RngCore, SeedableRng};

fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let n: usize = args
        .next()
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(100_000);
    let dir = args
        .next()
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::env::temp_dir().join(format!("evote-tally-run-{}", std::process::id()))
        });
    std::fs::create_dir_all(&dir)?;
    let mut rng = ChaCha20Rng::seed_from_u64(7);

    let mut manifest = Manifest::example();
    manifest.contests.truncate(1);
    let Election {
        mut keys,
        context,
        voters,
        ..
    } = Election::new([7; 32], 2, 3, manifest, n, &mut rng).map_err(|e| e.to_string())?;

    let path = dir.join("board.bin");
    let _ = std::fs::remove_file(&path);
    let mut board = BallotBoard::create(
        &path,
        &context,
        evote::election::BallotBoxKey::generate(&mut rng),
    )?;
    let (mut encrypt, mut accept) = (std::time::Duration::ZERO, std::time::Duration::ZERO);
    let mut yes = 0u64;
    for chunk in voters.chunks(1000) {
        let start = Instant::now();
        let ballots: Vec<Vec<u8>> = chunk
            .iter()
            .map(|v| {
                let choice = u64::from(rng.next_u32() % 2);
                yes += choice;
                Ballot::encrypt_and_cast(&context, v, &[vec![choice, 1 - choice]], &mut rng)
                    .map(|b| b.to_bytes())
            })
            .collect::<Result<_, _>>()?;
        encrypt += start.elapsed();
        let start = Instant::now();
        for r in board.append_many(&context, &ballots, &mut rng)? {
            r?;
        }
        accept += start.elapsed();
    }
    let published_head = board.close(&mut rng)?;
    drop(board);
    let size = std::fs::metadata(&path)?.len();

    let start = Instant::now();
    let encrypted = tally(&path, &context, &mut rng)?;
    let tallied = start.elapsed();
    let start = Instant::now();
    let shares = keys
        .iter_mut()
        .take(2)
        .map(|k| {
            k.decrypt_tally(
                context.outcome(),
                &encrypted,
                &published_head,
                DEFAULT_MIN_BALLOTS,
                &mut rng,
            )
        })
        .collect::<Result<Vec<_>, _>>()?;
    let result = combine(context.outcome(), &encrypted, &shares, &mut rng)?;
    let decrypted = start.elapsed();

    println!(
        "{n} referendum ballots, board file {:.1} MiB",
        size as f64 / 1048576.0
    );
    println!("  encrypt + prove + sign: {encrypt:>10.2?}");
    println!(
        "  board accept (batches of 1000, fsync each batch): {accept:>10.2?}  ({:.0} ballots/s)",
        n as f64 / accept.as_secs_f64()
    );
    println!("  tally from the board file (streamed, counted ballots verified again): {tallied:>10.2?}  ({:.0} ballots/s)", n as f64 / tallied.as_secs_f64());
    println!("  threshold decryption (2 of 3): {decrypted:>10.2?}");
    println!(
        "  result: yes {}, no {}",
        result.counts.first().copied().unwrap_or(0),
        result.counts.get(1).copied().unwrap_or(0)
    );
    if let Some(mib) = peak_rss_mib() {
        println!("  peak resident memory: {mib:.0} MiB");
    }
    if result.counts.first() != Some(&yes) {
        return Err("the tally does not match the votes cast".into());
    }
    let _ = std::fs::remove_file(&path);
    Ok(())
}
