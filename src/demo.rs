//! A complete simulated election, for demonstrations, tests and measurements: key ceremony,
//! credentials, voters casting (with revotes and Benaloh challenges), the board, the tally,
//! threshold decryption with absent guardians, and the election record.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rand_chacha::ChaCha20Rng;
use rand_core::{CryptoRng, RngCore, SeedableRng};
use rayon::prelude::*;

use crate::ceremony::CeremonyParams;
use crate::election::{BallotBoard, BallotBoxKey, ElectionResults, Manifest, PendingBallot};
use crate::simulation::Election;

/// What to simulate.
#[derive(Clone, Debug)]
pub struct DemoOptions {
    /// Voters (each casts once; about 5 % cast again).
    pub voters: usize,
    /// Guardians `n`.
    pub guardians: u32,
    /// Threshold `t`.
    pub threshold: u32,
    /// Guardians absent at decryption (at most `n - t`).
    pub absent: u32,
    /// The manifest.
    pub manifest: Manifest,
    /// Where the record goes.
    pub out: PathBuf,
    /// Replace an existing record at `out` (once the new one is complete).
    pub force: bool,
}

/// The demo manifest: a referendum, a 1-of-5 race with blank votes and a 2-of-8 approval
/// contest.
pub fn demo_manifest() -> Manifest {
    let mut m = Manifest::example();
    m.election_id = "evote-demo".into();
    m.title = "evote demonstration election".into();
    m.contests.truncate(3);
    m
}

/// What happened, with timings.
#[derive(Debug)]
pub struct DemoOutcome {
    /// The results.
    pub results: ElectionResults,
    /// The plaintext count of what the simulated voters cast last (for comparison).
    pub expected_counts: Vec<u64>,
    /// Ballots on the board (revotes included).
    pub ballots_cast: u64,
    /// Challenged ballots (never cast).
    pub challenged: usize,
    /// Second ballots the board refused because the manifest refuses revoting (each was
    /// offered, refused with `RevoteRefused`, and the voter's first ballot counts).
    pub revotes_refused: u64,
    /// The guardians that decrypted.
    pub decrypted_by: Vec<u32>,
    /// Named phases and their wall time.
    pub timings: Vec<(&'static str, Duration)>,
}

/// Why the demo stopped.
pub type DemoError = Box<dyn std::error::Error + Send + Sync>;

/// Random selections the manifest allows (a blank vote now and then where allowed).
pub fn random_selections<R: RngCore>(manifest: &Manifest, rng: &mut R) -> Vec<Vec<u64>> {
    manifest
        .contests
        .iter()
        .map(|c| {
            let n = c.options.len();
            if c.min_selections == 0 && rng.next_u32().is_multiple_of(10) {
                return vec![0; n];
            }
            let mut v: Vec<u64> = (0..n)
                .map(|_| u64::from(rng.next_u32()) % (c.option_limit + 1))
                .collect();
            let mut guard = 0;
            while v.iter().sum::<u64>() > c.max_selections && guard < 10_000 {
                if let Some(x) = v.get_mut(rng.next_u32() as usize % n) {
                    *x = x.saturating_sub(1);
                }
                guard += 1;
            }
            while v.iter().sum::<u64>() < c.min_selections && guard < 20_000 {
                if let Some(x) = v.get_mut(rng.next_u32() as usize % n) {
                    if *x < c.option_limit {
                        *x += 1;
                    }
                }
                guard += 1;
            }
            v
        })
        .collect()
}

/// The most voters a demo simulates (its credentials, about 100 bytes a voter, stay in memory).
pub const MAX_DEMO_VOTERS: usize = 10_000_000;

/// Refuses options the demo cannot run, before anything runs.
///
/// # Errors
/// What is wrong, naming the option.
pub fn check_options(options: &DemoOptions) -> Result<(), DemoError> {
    if options.voters == 0 || options.voters > MAX_DEMO_VOTERS {
        return Err(format!("--voters must be between 1 and {MAX_DEMO_VOTERS}").into());
    }
    CeremonyParams::new([0; 32], options.threshold, options.guardians)?;
    if options.absent > options.guardians.saturating_sub(options.threshold) {
        return Err("more absent guardians than the threshold allows".into());
    }
    options.manifest.validate()?;
    if !options.force
        && std::fs::read_dir(&options.out).is_ok_and(|mut entries| entries.next().is_some())
    {
        return Err(format!(
            "{} exists and is not empty; choose another --out, or --force to replace it",
            options.out.display()
        )
        .into());
    }
    Ok(())
}

/// A path beside `out` for the demo's scratch files: `.<out name>.<what>-<pid>`.
fn scratch_path(out: &Path, what: &str) -> PathBuf {
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "record".into());
    out.with_file_name(format!(".{name}.{what}-{}", std::process::id()))
}

/// Removes a scratch board (and its index log) when the demo ends, whether it succeeds or
/// fails.
struct RemoveOnDrop(PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
        let _ = std::fs::remove_file(crate::election::board::index_log_path(&self.0));
    }
}

/// Runs the whole election and writes its record to `options.out`. With `options.force`, an
/// existing record there is replaced only once the new one is complete (moved aside, then
/// removed); without it, a non-empty `out` is refused before anything runs.
///
/// # Errors
/// Any step's error (invalid options, I/O, ...).
pub fn run_demo<R: RngCore + CryptoRng>(
    options: &DemoOptions,
    rng: &mut R,
) -> Result<DemoOutcome, DemoError> {
    check_options(options)?;
    let mut timings = Vec::new();
    let mut clock = Instant::now();
    let mut lap = |name: &'static str, timings: &mut Vec<(&'static str, Duration)>| {
        timings.push((name, clock.elapsed()));
        clock = Instant::now();
    };

    let mut id = [0u8; 32];
    rng.fill_bytes(&mut id);
    let mut election = Election::new(
        id,
        options.threshold,
        options.guardians,
        options.manifest.clone(),
        options.voters,
        rng,
    )?;
    lap("key ceremony, credentials and context", &mut timings);
    let context = &election.context;
    let credentials = &election.voters;

    // Voters: everyone once, about 5 % again (under `last-counts` the last ballot counts; under
    // `refused` the board refuses the second and the first counts), about 1 % challenge
    // their device first. Streamed: a slice of voters is encrypted in parallel (each worker
    // with its own seeded RNG), accepted by the board and dropped before the next, so memory
    // holds one slice of ballots whatever the number of voters.
    let revoters: Vec<usize> = (0..options.voters)
        .filter(|_| rng.next_u32().is_multiple_of(20))
        .collect();
    let order: Vec<usize> = (0..options.voters)
        .chain(revoters.iter().copied())
        .collect();
    // The board the ballot box writes lives beside the record, never inside it.
    if let Some(parent) = options.out.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }
    let board_path = scratch_path(&options.out, "board.bin");
    let mut board = BallotBoard::create(&board_path, context, BallotBoxKey::generate(rng))?;
    let _cleanup = RemoveOnDrop(board_path.clone());
    // What the tally must say, counted as ballots are accepted: a ballot counts if it is its
    // voter's last (the revote pass, or a first ballot of a voter who does not revote).
    let mut expected_counts = vec![0u64; context.manifest().option_count()];
    let mut position = 0usize;
    let mut challenged = 0;
    let mut revotes_refused = 0u64;
    let refused = context.manifest().revoting == crate::election::RevotePolicy::Refused;
    let (mut encrypting, mut accepting) = (Duration::ZERO, Duration::ZERO);
    // (voter, selections, cast ballot, challenged ballot made first if any)
    type Cast = (usize, Vec<Vec<u64>>, Vec<u8>, Option<Vec<u8>>);
    for slice in order.chunks(4096) {
        let started = Instant::now();
        let seeds: Vec<[u8; 32]> = slice
            .chunks(256)
            .map(|_| {
                let mut s = [0u8; 32];
                rng.fill_bytes(&mut s);
                s
            })
            .collect();
        let cast: Vec<Result<Vec<Cast>, DemoError>> = slice
            .par_chunks(256)
            .zip(seeds.par_iter())
            .map(|(chunk, seed)| {
                let mut r = ChaCha20Rng::from_seed(*seed);
                chunk
                    .iter()
                    .map(|&v| {
                        let credential = credentials.get(v).ok_or("voter index")?;
                        let choice = random_selections(context.manifest(), &mut r);
                        let public = credential.public();
                        let challenged = if r.next_u32().is_multiple_of(100) {
                            let probe = PendingBallot::encrypt(context, public, &choice, &mut r)?;
                            Some(probe.challenge(credential, &mut r)?.to_bytes())
                        } else {
                            None
                        };
                        let ballot = PendingBallot::encrypt(context, public, &choice, &mut r)?
                            .cast(credential, &mut r)?;
                        Ok((v, choice, ballot.to_bytes(), challenged))
                    })
                    .collect()
            })
            .collect();
        let mut ballots = Vec::with_capacity(slice.len());
        for chunk in cast {
            ballots.extend(chunk?);
        }
        encrypting += started.elapsed();
        let started = Instant::now();
        for chunk in ballots.chunks(1000) {
            // A voter's challenge reaches the board before the ballot the voter then casts;
            // the voter compares what the device encrypted with what they chose.
            for (_, choice, _, probe) in chunk {
                if let Some(bytes) = probe {
                    let (_, opened) = board.challenge(context, bytes, rng)?;
                    if opened.selections() != choice.as_slice() {
                        return Err(
                            "a challenged ballot does not open to the voter's choice".into()
                        );
                    }
                    challenged += 1;
                }
            }
            let bytes: Vec<Vec<u8>> = chunk.iter().map(|(_, _, b, _)| b.clone()).collect();
            for (result, (v, choice, _, _)) in board
                .append_many(context, &bytes, rng)?
                .into_iter()
                .zip(chunk)
            {
                // A revote under `refused` must be refused, and nothing else may be.
                let revote = position >= options.voters;
                match result {
                    Err(crate::election::BoardError::RevoteRefused { .. }) if refused && revote => {
                        revotes_refused += 1;
                        position += 1;
                        continue;
                    }
                    Err(e) => return Err(e.into()),
                    Ok(_) if refused && revote => {
                        return Err("the board accepted a revote the manifest refuses".into())
                    }
                    Ok(_) => {}
                }
                let counts = if refused {
                    !revote
                } else {
                    revote || revoters.binary_search(v).is_err()
                };
                if counts {
                    for (slot, x) in expected_counts.iter_mut().zip(choice.iter().flatten()) {
                        *slot += x;
                    }
                }
                position += 1;
            }
        }
        accepting += started.elapsed();
    }
    timings.push(("encrypt + prove + sign (all voters, all cores)", encrypting));
    timings.push(("board: verify and accept every ballot", accepting));
    // The head of the closed board is what is published at the close; guardians decrypt only
    // the tally of the board with this head.
    let published_head = board.close(rng)?;
    drop(board);
    lap("board: close", &mut timings);

    let decrypted = election.decrypt(&board_path, &published_head, options.absent as usize, rng)?;
    lap(
        "tally (streamed from the board, counted ballots verified again) and threshold decryption",
        &mut timings,
    );
    let occupied = std::fs::read_dir(&options.out).is_ok_and(|mut e| e.next().is_some());
    if occupied && options.force {
        // The new record is complete before the old one goes: written beside it, then swapped.
        let fresh = scratch_path(&options.out, "new");
        let old = scratch_path(&options.out, "old");
        let _ = std::fs::remove_dir_all(&fresh);
        let _ = std::fs::remove_dir_all(&old);
        election.write_record(&fresh, &board_path, &decrypted)?;
        std::fs::rename(&options.out, &old)?;
        std::fs::rename(&fresh, &options.out)?;
        std::fs::remove_dir_all(&old)?;
    } else {
        election.write_record(&options.out, &board_path, &decrypted)?;
    }
    lap("write the record", &mut timings);

    Ok(DemoOutcome {
        results: decrypted.results,
        expected_counts,
        ballots_cast: order.len() as u64,
        challenged,
        revotes_refused,
        decrypted_by: decrypted.combined,
        timings,
    })
}

/// The default output directory of the demo.
pub fn default_out() -> PathBuf {
    Path::new("evote-demo-record").to_path_buf()
}
