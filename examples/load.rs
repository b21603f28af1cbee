//! Load on the HTTP ballot box: many concurrent clients on 127.0.0.1 posting pre-made ballots
//! to `evote board serve`'s server (in this process), with throughput and latency percentiles.
//! A measurement, not a test.
//!
//! Run: `cargo run --release --example load -- [referendum|1-of-10] [BALLOTS] [CLIENTS] [BOARD]`
//! (defaults: referendum, 4000, 64, a board file in a temporary folder; BOARD may be an empty
//! PostgreSQL database, `postgres://…`).

use std::time::{Duration, Instant};

use evote::election::{Ballot, BallotBoxKey, BoardLocation, Contest, Manifest, RevotePolicy};
use evote::server::client::Connection;
use evote::server::{serve, ServerConfig};
use evote::simulation::Election;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use rayon::prelude::*;

fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let mut args = std::env::args().skip(1);
    let shape = args.next().unwrap_or_else(|| "referendum".into());
    let ballots: usize = args.next().map(|a| a.parse()).transpose()?.unwrap_or(4000);
    let clients: usize = args.next().map(|a| a.parse()).transpose()?.unwrap_or(64);
    let location: Option<BoardLocation> = args.next().map(|a| a.parse()).transpose()?;
    let options = if shape == "1-of-10" { 10 } else { 2 };
    let mut rng = ChaCha20Rng::seed_from_u64(11);
    let manifest = Manifest {
        election_id: format!("load-{shape}"),
        nonce: Manifest::fresh_nonce(&mut rng),
        title: "load".into(),
        revoting: RevotePolicy::LastCounts,
        contests: vec![Contest {
            id: "c".into(),
            title: "contest".into(),
            options: (1..=options).map(|i| format!("option {i}")).collect(),
            min_selections: 1,
            max_selections: 1,
            option_limit: 1,
        }],
    };
    let election =
        Election::new([7; 32], 1, 1, manifest, ballots, &mut rng).map_err(|e| e.to_string())?;
    let dir = std::env::temp_dir().join(format!("evote-load-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let folder = dir.join("election");
    election.write_folder(&folder)?;
    let board = location.unwrap_or_else(|| BoardLocation::File(dir.join("board.bin")));
    let key = BallotBoxKey::generate(&mut rng);
    drop(board.create(&election.context, key.clone())?);
    eprintln!("board: {board}");
    eprintln!("encrypting {ballots} {shape} ballots...");
    let made: Vec<Vec<u8>> = election
        .voters
        .par_iter()
        .enumerate()
        .map(|(i, v)| {
            let mut r = ChaCha20Rng::seed_from_u64(i as u64);
            let mut choice = vec![0u64; options];
            choice[i % options] = 1;
            Ballot::encrypt_and_cast(&election.context, v, &[choice], &mut r)
                .map(|b| b.to_bytes())
                .map_err(|e| e.to_string())
        })
        .collect::<Result<_, _>>()?;
    let (tx, rx) = std::sync::mpsc::channel();
    let config = ServerConfig {
        election: folder,
        board: board.clone(),
        key,
        listen: "127.0.0.1:0".parse()?,
        admin_token: "load test admin token".into(),
        max_connections: evote::server::MAX_CONNECTIONS,
        header_timeout: evote::server::HEADER_TIMEOUT,
        booth_module: None,
    };
    std::thread::spawn(move || {
        if let Err(e) = serve(config, move |addr| {
            let _ = tx.send(addr);
        }) {
            eprintln!("server: {e}");
        }
    });
    let addr = rx.recv_timeout(Duration::from_secs(30))?.to_string();
    let started = Instant::now();
    let latencies: Vec<Vec<Duration>> = std::thread::scope(|scope| {
        let handles: Vec<_> = made
            .chunks(ballots.div_ceil(clients))
            .map(|chunk| {
                let addr = addr.clone();
                scope.spawn(move || {
                    let mut conn = Connection::open(&addr).expect("connect");
                    chunk
                        .iter()
                        .map(|b| {
                            let t = Instant::now();
                            let r = conn.request("POST", "/ballots", &[], b).expect("request");
                            assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
                            t.elapsed()
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("client"))
            .collect()
    });
    let elapsed = started.elapsed();
    let mut all: Vec<Duration> = latencies.into_iter().flatten().collect();
    all.sort();
    let pct = |p: f64| all[((all.len() as f64 * p) as usize).min(all.len() - 1)];
    println!(
        "{ballots} {shape} ballots from {clients} clients in {:.2} s: {:.0} ballots/s accepted; latency p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        elapsed.as_secs_f64(),
        ballots as f64 / elapsed.as_secs_f64(),
        pct(0.50).as_secs_f64() * 1e3,
        pct(0.99).as_secs_f64() * 1e3,
        all[all.len() - 1].as_secs_f64() * 1e3,
    );
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
