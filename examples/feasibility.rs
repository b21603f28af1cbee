//! The measurements behind `docs/feasibility.md`: what one ballot of a national election costs
//! at every stage, on this machine, for a ballot of several contests.
//!
//! The ballot: a referendum (yes/no), a presidential race (1 of 12), a party list (1 of 20) and
//! an approval vote for a council (up to 3 of 10), 44 options in all.
//!
//! Run: `cargo run --release --example feasibility -- [BALLOTS]` (default 2000). Prints each
//! figure; `docs/feasibility.md` scales them to 30 million voters.

use std::time::{Duration, Instant};

use evote::decryption::{combine, DEFAULT_MIN_BALLOTS};
use evote::election::board::tally;
use evote::election::{Ballot, BallotBoard, Manifest};
use evote::simulation::Election;
use evote::DlogTable;
use rand_chacha::ChaCha20Rng;
use rand_core::{RngCore, SeedableRng};
use rayon::prelude::*;

const MANIFEST: &str = r#"{
  "election_id": "national-2026",
  "nonce": "6e6174696f6e616c2d323032362d6665617369626c6974792d73747564792e2e",
  "title": "A national election",
  "revoting": "last-counts",
  "contests": [
    { "id": "referendum", "title": "Referendum", "options": ["yes", "no"],
      "min_selections": 1, "max_selections": 1, "option_limit": 1 },
    { "id": "president", "title": "President",
      "options": ["p1","p2","p3","p4","p5","p6","p7","p8","p9","p10","p11","p12"],
      "min_selections": 0, "max_selections": 1, "option_limit": 1 },
    { "id": "parliament", "title": "Party list",
      "options": ["l1","l2","l3","l4","l5","l6","l7","l8","l9","l10",
                  "l11","l12","l13","l14","l15","l16","l17","l18","l19","l20"],
      "min_selections": 0, "max_selections": 1, "option_limit": 1 },
    { "id": "council", "title": "Council (up to three)",
      "options": ["c1","c2","c3","c4","c5","c6","c7","c8","c9","c10"],
      "min_selections": 0, "max_selections": 3, "option_limit": 1 }
  ]
}"#;

fn choices(rng: &mut ChaCha20Rng) -> Vec<Vec<u64>> {
    let mut one_of = |n: usize, blank_ok: bool| {
        let mut v = vec![0; n];
        let pick = rng.next_u32() as usize % (n + usize::from(blank_ok));
        if let Some(x) = v.get_mut(pick) {
            *x = 1;
        }
        v
    };
    let referendum = one_of(2, false);
    let president = one_of(12, true);
    let parliament = one_of(20, true);
    let mut council = vec![0; 10];
    for k in 0..3 {
        council[(rng.next_u32() as usize + k) % 10] = 1;
    }
    vec![referendum, president, parliament, council]
}

/// The process's resident memory now, in bytes (Linux).
fn resident() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let n: usize = std::env::args()
        .nth(1)
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(2000);
    let mut rng = ChaCha20Rng::seed_from_u64(2026);
    let manifest = Manifest::from_json(MANIFEST)?;
    let options: usize = manifest.contests.iter().map(|c| c.options.len()).sum();
    let Election {
        keys: mut guardians,
        context,
        voters,
        ..
    } = Election::new([26; 32], 3, 5, manifest, n, &mut rng).map_err(|e| e.to_string())?;
    let cores = rayon::current_num_threads();
    println!("national ballot: 4 contests, {options} options; {n} voters; {cores} cores");

    // The voter's device: one ballot at a time, one thread.
    let mut times = Vec::new();
    let mut size = 0;
    for v in voters.iter().take(200) {
        let c = choices(&mut rng);
        let start = Instant::now();
        let ballot = Ballot::encrypt_and_cast(&context, v, &c, &mut rng)?;
        times.push(start.elapsed());
        size = ballot.to_bytes().len();
    }
    times.sort();
    println!(
        "encrypt + prove + sign, one thread: median {:.2} ms, max {:.2} ms (200 ballots)",
        ms(times[times.len() / 2]),
        ms(times[times.len() - 1])
    );
    println!("ballot size: {size} bytes");

    // Every voter's ballot, on all cores (the simulation, not a measured stage).
    let seeds: Vec<u64> = (0..n).map(|_| rng.next_u64()).collect();
    let ballots: Vec<Vec<u8>> = voters
        .par_iter()
        .zip(seeds)
        .map(|(v, s)| {
            let mut r = ChaCha20Rng::seed_from_u64(s);
            let c = choices(&mut r);
            Ballot::encrypt_and_cast(&context, v, &c, &mut r).map(|b| b.to_bytes())
        })
        .collect::<Result<_, _>>()?;

    // Verification from bytes, one thread, one batch of 200.
    let start = Instant::now();
    let decoded: Vec<Ballot> = ballots
        .iter()
        .take(200)
        .map(|b| Ballot::from_bytes(b))
        .collect::<Result<_, _>>()?;
    let verdicts = Ballot::verify_batch(decoded, &context, &mut rng);
    let per = start.elapsed() / 200;
    assert!(verdicts.iter().all(Result::is_ok));
    println!(
        "decode + verify, one thread, batch of 200: {:.3} ms per ballot",
        ms(per)
    );

    // The board: append_many in batches of 1,000 (verify on all cores, one fsync per batch).
    let dir = std::env::temp_dir().join(format!("evote-feasibility-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("board.bin");
    let _ = std::fs::remove_file(&path);
    let before = resident();
    let mut board = BallotBoard::create(
        &path,
        &context,
        evote::election::BallotBoxKey::generate(&mut rng),
    )?;
    let start = Instant::now();
    for chunk in ballots.chunks(1000) {
        for r in board.append_many(&context, chunk, &mut rng)? {
            r?;
        }
    }
    let accept = start.elapsed();
    if let (Some(before), Some(after)) = (before, resident()) {
        println!(
            "board process memory: {:.0} bytes per accepted ballot (resident growth while accepting; the board's duplicate and replay indices)",
            after.saturating_sub(before) as f64 / n as f64
        );
    }
    let published_head = board.close(&mut rng)?;
    drop(board);
    let board_bytes = std::fs::metadata(&path)?.len();
    println!(
        "board: {n} ballots accepted in {:.2} s: {:.0} ballots/s on {cores} cores; {:.0} bytes per entry on disk",
        accept.as_secs_f64(),
        n as f64 / accept.as_secs_f64(),
        board_bytes as f64 / n as f64
    );

    // The tally from the board (streamed; range proofs re-checked), then decryption by 3 of 5.
    let start = Instant::now();
    let encrypted = tally(&path, &context, &mut rng)?;
    let t = start.elapsed();
    println!(
        "tally from the board: {:.2} s, {:.3} ms per ballot on {cores} cores",
        t.as_secs_f64(),
        ms(t / n as u32)
    );
    let start = Instant::now();
    let shares: Vec<_> = guardians[..3]
        .iter_mut()
        .map(|g| {
            g.decrypt_tally(
                context.outcome(),
                &encrypted,
                &published_head,
                DEFAULT_MIN_BALLOTS,
                &mut rng,
            )
        })
        .collect::<Result<_, _>>()?;
    let share_time = start.elapsed() / 3;
    let start = Instant::now();
    let result = combine(context.outcome(), &encrypted, &shares, &mut rng)?;
    println!(
        "decryption: one guardian's {options} shares with proofs {:.1} ms; combine 3 {:.1} ms; {} counts",
        ms(share_time),
        ms(start.elapsed()),
        result.counts.len()
    );

    // Discrete logs at national scale: a count can reach the number of voters.
    let start = Instant::now();
    let table = DlogTable::new(30_000_000)?;
    let build = start.elapsed();
    let mut worst = Duration::ZERO;
    for v in [29_999_999u64, 17_123_457, 30_000_000] {
        let point = curve25519_dalek::scalar::Scalar::from(v)
            * curve25519_dalek::constants::RISTRETTO_BASEPOINT_POINT;
        let start = Instant::now();
        assert_eq!(table.vartime_solve(&point)?, v);
        worst = worst.max(start.elapsed());
    }
    println!(
        "discrete log up to 30,000,000: table {:.0} ms, slowest of 3 lookups {:.1} ms ({options} counts to decode)",
        ms(build),
        ms(worst)
    );
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
