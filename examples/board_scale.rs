//! The ballot board at scale: appends BALLOTS referendum ballots in batches (as the HTTP box's
//! writer does) to a board file or a PostgreSQL board, printing throughput and this process's
//! resident memory as the board grows, then drops the board and times reopening it. Then the
//! ballot box itself, `evote board serve` (the release binary beside this example: `cargo build
//! --release` first), is started on the grown board: the time until it listens (a restart) and
//! its resident memory, before and after revotes posted over HTTP. A measurement, not a test.
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
    let reopened = board.open(&election.context, key.clone())?;
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
    serve_and_measure(&election, &board, &key, &dir, options)?;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// A process's resident set and its peak (Linux), in MiB.
fn rss_of(pid: u32) -> (f64, f64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<f64>().ok())
            .map_or(0.0, |kb| kb / 1024.0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// The ballot box itself on the grown board: the `evote` binary built beside this example
/// (`cargo build --release` first) serves it; prints the time from its start to listening (a
/// restart), and its resident memory then and after `REVOTES` revotes posted over HTTP.
fn serve_and_measure(
    election: &Election,
    board: &BoardLocation,
    key: &BallotBoxKey,
    dir: &std::path::Path,
    options: usize,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    use evote::party::{hex, write_atomically};
    use std::io::BufRead;
    const REVOTES: usize = 4_000;
    let Some(evote) = std::env::current_exe()?
        .parent()
        .and_then(|p| p.parent())
        .map(|p| p.join("evote"))
        .filter(|p| p.exists())
    else {
        println!(
            "no evote binary beside this example (cargo build --release): server not measured"
        );
        return Ok(());
    };
    let folder = dir.join("election");
    election.write_folder(&folder)?;
    let key_file = dir.join("box.key");
    let secret = hex(key.expose_secret_bytes().as_slice());
    write_atomically(&key_file, format!("{secret}\n").as_bytes())?;
    let revotes: Vec<Vec<u8>> = election.voters[..REVOTES.min(election.voters.len())]
        .par_iter()
        .enumerate()
        .map(|(i, v)| {
            let mut r = ChaCha20Rng::seed_from_u64((1 << 40) + i as u64);
            let mut choice = vec![0u64; options];
            if let Some(c) = choice.get_mut((i + 1) % options) {
                *c = 1;
            }
            Ballot::encrypt_and_cast(&election.context, v, &[choice], &mut r)
                .map(|b| b.to_bytes())
                .map_err(|e| e.to_string())
        })
        .collect::<Result<_, _>>()?;
    let started = Instant::now();
    let mut server = std::process::Command::new(evote)
        .args(["board", "serve", "--listen", "127.0.0.1:0", "--election"])
        .arg(&folder)
        .arg("--board")
        .arg(match board {
            BoardLocation::File(path) => path.display().to_string(),
            BoardLocation::Postgres(url) => url.clone(),
        })
        .arg("--key")
        .arg(&key_file)
        .env("EVOTE_ADMIN_TOKEN", "board scale admin token")
        .stdout(std::process::Stdio::piped())
        .spawn()?;
    let pid = server.id();
    let stdout = server.stdout.take().ok_or("no stdout")?;
    let mut lines = std::io::BufReader::new(stdout).lines();
    let addr = loop {
        match lines.next() {
            Some(line) => {
                if let Some(a) = line?.strip_prefix("listening on http://") {
                    break a.to_string();
                }
            }
            None => {
                let _ = server.wait();
                return Err("the ballot box exited before listening".into());
            }
        }
    };
    let ready = started.elapsed();
    let (rss, _) = rss_of(pid);
    println!(
        "evote board serve: listening {:.2} s after its start (reads the election's {} credentials \
         and the board's state); {rss:.0} MiB resident",
        ready.as_secs_f64(),
        election.voters.len()
    );
    let t = Instant::now();
    let accepted = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for chunk in revotes.chunks(revotes.len().div_ceil(16).max(1)) {
            let (addr, accepted) = (&addr, &accepted);
            scope.spawn(move || {
                let Ok(mut conn) = evote::server::client::Connection::open(addr) else {
                    return;
                };
                for bytes in chunk {
                    if matches!(conn.request("POST", "/ballots", &[], bytes), Ok(r) if r.status == 201)
                    {
                        accepted.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    }
                }
            });
        }
    });
    let posting = t.elapsed();
    let (rss, peak) = rss_of(pid);
    println!(
        "after {} of {} revotes accepted over HTTP ({:.0}/s): {rss:.0} MiB resident, peak {peak:.0} MiB",
        accepted.into_inner(),
        revotes.len(),
        revotes.len() as f64 / posting.as_secs_f64()
    );
    let _ = server.kill();
    let _ = server.wait();
    Ok(())
}
