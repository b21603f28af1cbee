//! `evote`: run a demonstration election, verify an election record, check that a board only
//! grew, check what became of one ballot, and inspect a record. Thin: it parses arguments, calls
//! the library and reports.
//!
//! Exit codes: 0 success (all checks pass), 1 a check failed, 2 unusable input. `evote check`:
//! 0 counted, 1 absent, 2 unusable (a broken board, an ambiguous prefix, a receipt that does not
//! verify), 3 superseded by a later ballot of the same credential, 4 challenged.

mod party;

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use clap::{Parser, Subcommand};
use evote::demo::{check_options, default_out, demo_manifest, run_demo, DemoOptions};
use evote::election::board::Entry;
use evote::election::receipt::RECEIPT_BYTES;
use evote::election::record::{files, to_hex, Record};
use evote::election::{
    check_ballot, verify_extension, BallotStatus, Manifest, Query, Receipt, RevotePolicy,
};
use evote::text::terminal_safe;
use evote::verify::{verify_record, verify_record_with};
use rand_core::OsRng;

#[derive(Parser)]
#[command(
    name = "evote",
    version,
    about = "End-to-end verifiable online voting: demo elections and the auditor's verifier"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a complete election on built-in defaults, write its record, verify it and print the results
    Demo {
        /// Number of voters
        #[arg(long, default_value_t = 2_000)]
        voters: usize,
        /// Number of guardians (n)
        #[arg(long, default_value_t = 5)]
        guardians: u32,
        /// Guardians needed to decrypt (t)
        #[arg(long, default_value_t = 3)]
        threshold: u32,
        /// Guardians absent at decryption
        #[arg(long, default_value_t = 1)]
        absent: u32,
        /// A manifest file (JSON); default: a referendum, a 1-of-5 and a 2-of-8 contest
        #[arg(long)]
        manifest: Option<PathBuf>,
        /// Override the manifest's revoting policy: `last-counts` (about 5 % of voters cast
        /// again and their last ballot counts) or `refused` (their second ballot is offered and
        /// refused by the board)
        #[arg(long, value_parser = parse_revoting)]
        revoting: Option<RevotePolicy>,
        /// Output directory for the record
        #[arg(long, default_value_os_t = default_out())]
        out: PathBuf,
        /// Replace an existing record in the output directory (once the new one is complete)
        #[arg(long)]
        force: bool,
    },
    /// Verify an election record: run every check and report
    Verify {
        /// The record directory
        record: PathBuf,
        /// Print the machine-readable report (JSON) instead of the summary
        #[arg(long)]
        json: bool,
        /// Where the verifier's sorted index runs go (default: the system's temporary folder);
        /// about 41 bytes per ballot and challenge, and per ciphertext
        #[arg(long)]
        temp_dir: Option<PathBuf>,
        /// Verify only shard I of N (`I/N`): the global checks and the proofs of the I-th of N
        /// contiguous ranges of board entries, written as a partial to `--partial`
        #[arg(long, requires = "partial", conflicts_with_all = ["combine", "json"])]
        shard: Option<String>,
        /// Where a shard's partial is written
        #[arg(long, requires = "shard")]
        partial: Option<PathBuf>,
        /// Merge the partials of every shard of RECORD into the whole report (the board need
        /// not be present)
        #[arg(long, num_args = 1.., value_name = "PARTIAL")]
        combine: Vec<PathBuf>,
    },
    /// Check that a record's board only appended since an earlier head (hex)
    VerifyExtension {
        /// The head an auditor kept earlier (128 hex digits)
        old_head: String,
        /// The record directory
        record: PathBuf,
    },
    /// The voter's check: counted, superseded, challenged or absent, for a tracker or a receipt
    Check {
        /// The record directory
        record: PathBuf,
        /// A ballot tracker (128 hex digits, or a prefix of at least 32)
        #[arg(long, conflicts_with = "receipt", required_unless_present = "receipt")]
        tracker: Option<String>,
        /// A receipt file (its 203 bytes, or those bytes in hex)
        #[arg(long)]
        receipt: Option<PathBuf>,
    },
    /// Summarise a record: manifest, guardians, counts, results (and `--tracker`, as `check`)
    Inspect {
        /// The record directory
        record: PathBuf,
        /// Check a ballot tracker, as `evote check --tracker`
        #[arg(long)]
        tracker: Option<String>,
    },
    /// The election authority: create an election folder and the voters' credentials
    Election {
        #[command(subcommand)]
        command: party::ElectionCommand,
    },
    /// A guardian: its side of the key ceremony from its own state file, and its decryption
    Guardian {
        #[command(subcommand)]
        command: party::GuardianCommand,
    },
    /// A voter's client: encrypt, prove and sign a ballot (or a challenged ballot) into a file
    Vote {
        /// The election folder (after the ceremony; with --election-hash, a folder for the
        /// election's context.bin)
        #[arg(long)]
        election: PathBuf,
        /// The voter's credential file
        #[arg(long)]
        credential: PathBuf,
        /// The choices: a JSON list with one list of counts per contest, or a file holding it
        #[arg(long)]
        choices: String,
        /// Make a challenged ballot (to audit the device; it is never counted)
        #[arg(long)]
        challenge: bool,
        /// The ballot file to write
        #[arg(long)]
        out: PathBuf,
        /// Post it to the ballot box at this address (host:port) and keep its verified receipt
        #[arg(long)]
        post: Option<String>,
        /// The election hash the voter trusts (128 hex digits, as published by the election
        /// authority): then only the folder's `context.bin` is read, and only if it is that
        /// election; with --post and no `context.bin` yet, it is downloaded from the ballot box
        /// (and kept only if it is that election). Without it, the context is rebuilt from the
        /// folder's transcript and credential list
        #[arg(long)]
        election_hash: Option<String>,
    },
    /// The ballot box: create a board, accept ballots with receipts, close it
    Board {
        #[command(subcommand)]
        command: party::BoardCommand,
    },
    /// Tally the closed board (every counted ballot verified again) and write the encrypted
    /// tally the guardians decrypt
    Tally {
        /// The election folder
        #[arg(long)]
        election: PathBuf,
        /// The closed board
        #[arg(long)]
        board: PathBuf,
        /// Where the encrypted tally goes
        #[arg(long)]
        out: PathBuf,
    },
    /// Tally the closed board, combine the guardians' shares and write the election record
    Record {
        /// The election folder
        #[arg(long)]
        election: PathBuf,
        /// The closed board
        #[arg(long)]
        board: PathBuf,
        /// The record folder to write
        #[arg(long)]
        out: PathBuf,
        /// The guardians' share files
        shares: Vec<PathBuf>,
    },
}

fn unusable(message: impl std::fmt::Display) -> ExitCode {
    // Messages may quote a record's file names or contents.
    eprintln!("evote: {}", terminal_safe(&message.to_string()));
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Demo {
            voters,
            guardians,
            threshold,
            absent,
            manifest,
            revoting,
            out,
            force,
        } => demo(
            voters, guardians, threshold, absent, manifest, revoting, out, force,
        ),
        Command::Verify {
            record,
            json,
            temp_dir,
            shard,
            partial,
            combine,
        } => match (shard, partial) {
            (Some(shard), Some(partial)) => verify_shard_cmd(&record, &shard, &partial, temp_dir),
            _ if !combine.is_empty() => verify_combine(&record, &combine, json, temp_dir),
            _ => verify(&record, json, temp_dir),
        },
        Command::VerifyExtension { old_head, record } => extension(&old_head, &record),
        Command::Check {
            record,
            tracker,
            receipt,
        } => check(&record, tracker, receipt.as_deref()),
        Command::Inspect { record, tracker } => inspect(&record, tracker),
        Command::Election { command } => party::election(command),
        Command::Guardian { command } => party::guardian(command),
        Command::Vote {
            election,
            credential,
            choices,
            challenge,
            out,
            post,
            election_hash,
        } => party::vote(
            &election,
            &credential,
            &choices,
            challenge,
            &out,
            post.as_deref(),
            election_hash.as_deref(),
        ),
        Command::Tally {
            election,
            board,
            out,
        } => party::tally_command(&election, &board, &out),
        Command::Board { command } => party::board(command),
        Command::Record {
            election,
            board,
            out,
            shares,
        } => party::record(&election, &board, &shares, &out),
    }
}

fn parse_revoting(s: &str) -> Result<RevotePolicy, String> {
    match s {
        "last-counts" => Ok(RevotePolicy::LastCounts),
        "refused" => Ok(RevotePolicy::Refused),
        _ => Err("expected last-counts or refused".into()),
    }
}

#[allow(clippy::too_many_arguments)]
fn demo(
    voters: usize,
    guardians: u32,
    threshold: u32,
    absent: u32,
    manifest: Option<PathBuf>,
    revoting: Option<RevotePolicy>,
    out: PathBuf,
    force: bool,
) -> ExitCode {
    let mut manifest = match manifest {
        None => demo_manifest(),
        Some(path) => match std::fs::read_to_string(&path)
            .map_err(|e| e.to_string())
            .and_then(|t| Manifest::from_json(&t).map_err(|e| e.to_string()))
        {
            Ok(m) => m,
            Err(e) => return unusable(format!("{}: {e}", path.display())),
        },
    };
    if let Some(policy) = revoting {
        manifest.revoting = policy;
    }
    let options = DemoOptions {
        voters,
        guardians,
        threshold,
        absent,
        manifest,
        out: out.clone(),
        force,
    };
    // Every argument is checked before anything runs.
    if let Err(e) = check_options(&options) {
        return unusable(e);
    }
    println!("evote demo: {voters} voters, {threshold}-of-{guardians} guardians ({absent} absent at decryption)");
    let start = Instant::now();
    let outcome = match run_demo(&options, &mut OsRng) {
        Ok(o) => o,
        Err(e) => return unusable(e),
    };
    for (phase, time) in &outcome.timings {
        println!("  {phase:<52} {time:>10.2?}");
    }
    let verify_start = Instant::now();
    let report = match verify_record(&out, &mut OsRng, &|_, _, _| {}) {
        Ok(r) => r,
        Err(e) => return unusable(e),
    };
    println!(
        "  {:<52} {:>10.2?}",
        "verify the record (every check)",
        verify_start.elapsed()
    );
    println!("  {:<52} {:>10.2?}", "total", start.elapsed());
    println!(
        "{} ballots cast ({} counted, {} revotes refused), {} challenged; decrypted by guardians {:?}; record in {}",
        outcome.ballots_cast,
        outcome.results.counted_ballots,
        outcome.revotes_refused,
        outcome.challenged,
        outcome.decrypted_by,
        out.display()
    );
    print!("{}", outcome.results.table());
    if outcome.results.counts() != outcome.expected_counts {
        eprintln!("evote: the decrypted results differ from the votes cast");
        return ExitCode::from(1);
    }
    if report.passed() {
        println!("verification: all {} checks pass", report.checks.len());
        ExitCode::SUCCESS
    } else {
        print!("{}", report.summary());
        ExitCode::from(1)
    }
}

fn verify_shard_cmd(record: &Path, shard: &str, out: &Path, temp_dir: Option<PathBuf>) -> ExitCode {
    let Some(shard) = evote::verify::Shard::parse(shard) else {
        return unusable(format!("--shard {shard}: expected I/N with 1 <= I <= N"));
    };
    let options = evote::verify::Options {
        temp_dir,
        ..evote::verify::Options::default()
    };
    match evote::verify::verify_shard(record, shard, out, &mut OsRng, &|_, _, _| {}, &options) {
        Ok(()) => {
            println!(
                "shard {}/{} of {} verified; partial written to {} (merge with --combine)",
                shard.index(),
                shard.count(),
                record.display(),
                out.display()
            );
            ExitCode::SUCCESS
        }
        Err(e) => unusable(format!("{}: {e}", record.display())),
    }
}

fn verify_combine(
    record: &Path,
    partials: &[PathBuf],
    json: bool,
    temp_dir: Option<PathBuf>,
) -> ExitCode {
    let options = evote::verify::Options {
        temp_dir,
        ..evote::verify::Options::default()
    };
    let opened = match partials
        .iter()
        .map(|p| evote::verify::Partial::open(p))
        .collect::<Result<Vec<_>, _>>()
    {
        Ok(p) => p,
        Err(e) => return unusable(e),
    };
    let report = match evote::verify::combine_partials(record, opened, &mut OsRng, &options) {
        Ok(r) => r,
        Err(e) => return unusable(format!("{}: {e}", record.display())),
    };
    report_and_exit(&report, json)
}

fn report_and_exit(report: &evote::verify::Report, json: bool) -> ExitCode {
    if json {
        match serde_json::to_string_pretty(report) {
            Ok(text) => println!("{text}"),
            Err(e) => return unusable(e),
        }
    } else {
        print!("{}", report.summary());
    }
    if report.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn verify(record: &Path, json: bool, temp_dir: Option<PathBuf>) -> ExitCode {
    // A progress bar on a terminal; nothing when the output goes to a file or a pipe.
    let bar = if std::io::stderr().is_terminal() && !json {
        let bar = indicatif::ProgressBar::new(0);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "  {msg:8} [{bar:40}] {pos}/{len} ballots ({per_sec}, {eta} left)",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        bar
    } else {
        indicatif::ProgressBar::hidden()
    };
    let progress = |phase: &str, done: u64, total: u64| {
        if bar.length() != Some(total) {
            bar.set_length(total);
        }
        bar.set_message(phase.to_string());
        bar.set_position(done);
    };
    let options = evote::verify::Options {
        temp_dir,
        ..evote::verify::Options::default()
    };
    let report = verify_record_with(record, &mut OsRng, &progress, &options);
    bar.finish_and_clear();
    let report = match report {
        Ok(r) => r,
        Err(e) => return unusable(format!("{}: {e}", record.display())),
    };
    report_and_exit(&report, json)
}

fn parse_hex64(text: &str) -> Option<[u8; 64]> {
    if text.len() != 128
        || !text
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return None;
    }
    let mut out = [0u8; 64];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

fn extension(old_head: &str, record: &Path) -> ExitCode {
    let Some(head) = parse_hex64(old_head) else {
        return unusable("OLD_HEAD must be 128 lowercase hex digits");
    };
    let board = record.join(files::BOARD);
    if !board.exists() {
        return unusable(format!("{}: missing", board.display()));
    }
    match verify_extension(&head, &board) {
        Ok((entries, now)) => {
            println!(
                "the board only appended: the old head is entry {entries}; the head is now {}",
                to_hex(&now)
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            println!("NOT an extension: {}", terminal_safe(&e.to_string()));
            ExitCode::from(1)
        }
    }
}

fn read_receipt(path: &Path) -> Result<Receipt, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let raw = match std::str::from_utf8(&bytes) {
        Ok(text) if text.trim().len() == 2 * RECEIPT_BYTES => {
            let text = text.trim();
            (0..RECEIPT_BYTES)
                .map(|i| {
                    text.get(2 * i..2 * i + 2)
                        .and_then(|pair| u8::from_str_radix(pair, 16).ok())
                })
                .collect::<Option<Vec<u8>>>()
                .ok_or_else(|| format!("{}: not a receipt in hex", path.display()))?
        }
        _ => bytes,
    };
    Receipt::from_bytes(&raw).map_err(|e| format!("{}: {e}", path.display()))
}

fn check(record: &Path, tracker: Option<String>, receipt: Option<&Path>) -> ExitCode {
    let query = match (tracker, receipt) {
        (Some(t), _) => Query::Tracker(t),
        (None, Some(path)) => match read_receipt(path) {
            Ok(r) => Query::Receipt(Box::new(r)),
            Err(e) => return unusable(e),
        },
        (None, None) => return unusable("give --tracker or --receipt"),
    };
    let rec = match Record::open(record) {
        Ok(r) => r,
        Err(e) => return unusable(format!("{}: {e}", record.display())),
    };
    let context = match rec.context(&mut OsRng) {
        Ok(c) => c,
        Err(e) => return unusable(format!("{}: {e}", record.display())),
    };
    let answer = match check_ballot(&context, &rec.path(files::BOARD), &query, &mut OsRng) {
        Ok(a) => a,
        Err(e) => return unusable(e),
    };
    let tracker = answer
        .tracker
        .map_or_else(|| "this prefix".to_string(), |t| to_hex(&t));
    println!(
        "board: {} entries chained from the genesis to head {}{}",
        answer.entries,
        to_hex(&answer.head),
        if answer.closed {
            " (closed)"
        } else {
            " (open)"
        }
    );
    if let Query::Receipt(_) = query {
        println!(
            "receipt: signed by the ballot box key {}",
            to_hex(answer.ballot_box.as_bytes())
        );
    }
    match answer.status {
        BallotStatus::Counted { entry } => {
            println!("tracker {tracker}: COUNTED (entry {entry}; signature and proofs verify)");
            ExitCode::SUCCESS
        }
        BallotStatus::Superseded { entry, by } => {
            println!(
                "tracker {tracker}: SUPERSEDED (entry {entry}): a later ballot of the same \
                 credential, entry {by}, counts instead"
            );
            ExitCode::from(3)
        }
        BallotStatus::Challenged { entry, selections } => {
            println!(
                "tracker {tracker}: CHALLENGED (entry {entry}), never cast; the device \
                 encrypted:"
            );
            for (contest, values) in context.manifest().contests.iter().zip(&selections) {
                let chosen: Vec<String> = contest
                    .options
                    .iter()
                    .zip(values)
                    .filter(|(_, v)| **v > 0)
                    .map(|(name, v)| format!("{} ×{v}", terminal_safe(name)))
                    .collect();
                println!(
                    "  {}: {}",
                    terminal_safe(&contest.title),
                    if chosen.is_empty() {
                        "(nothing)".to_string()
                    } else {
                        chosen.join(", ")
                    }
                );
            }
            ExitCode::from(4)
        }
        BallotStatus::Absent => {
            println!("tracker {tracker}: ABSENT from this board");
            if let Some(why) = answer.contradiction {
                println!("  the receipt is valid, so {why}");
            }
            ExitCode::from(1)
        }
    }
}

fn inspect(record: &Path, tracker: Option<String>) -> ExitCode {
    let rec = match Record::open(record) {
        Ok(r) => r,
        Err(e) => return unusable(format!("{}: {e}", record.display())),
    };
    let index = rec.index();
    println!("record {} (format {})", record.display(), index.version);
    println!(
        "  election {}  hash {}…",
        terminal_safe(&index.election_id),
        terminal_safe(index.election_hash.get(..16).unwrap_or(""))
    );
    // A part that cannot be read is named, and makes the run unusable input (exit 2).
    let mut unreadable = false;
    let mut part = |name: &str, line: Result<String, String>| match line {
        Ok(line) => println!("  {line}"),
        Err(e) => {
            unreadable = true;
            eprintln!("error: {name}: {}", terminal_safe(&e));
            println!("  {name}: UNREADABLE");
        }
    };
    part(
        files::MANIFEST,
        rec.manifest().map_err(|e| e.to_string()).map(|m| {
            format!(
                "{} — {} contests, {} options, revoting {:?}",
                terminal_safe(&m.title),
                m.contests.len(),
                m.option_count(),
                m.revoting
            )
        }),
    );
    part(
        files::CEREMONY,
        rec.ceremony().map_err(|e| e.to_string()).map(|c| {
            format!(
                "ceremony: {}-of-{} guardians, {} complaints",
                c.params.threshold(),
                c.params.guardians(),
                c.complaints.len()
            )
        }),
    );
    part(
        files::CREDENTIALS,
        rec.credentials()
            .map_err(|e| e.to_string())
            .map(|c| format!("credentials: {}", c.len())),
    );
    let mut entries = 0u64;
    let mut challenges = 0u64;
    let mut broken = false;
    match rec.board() {
        Ok(mut reader) => {
            let end = loop {
                match reader.next_checked() {
                    Ok(Some(entry)) => {
                        entries += 1;
                        if let Entry::Challenge { .. } = entry {
                            challenges += 1;
                        }
                    }
                    Ok(None) => break String::new(),
                    Err(e) => {
                        broken = true;
                        break format!(
                            " — then BROKEN: {}: {}",
                            files::BOARD,
                            terminal_safe(&e.to_string())
                        );
                    }
                }
            };
            println!(
                "  board: {entries} entries ({challenges} challenges), head {}…{end}",
                to_hex(reader.head()).get(..16).unwrap_or("")
            );
        }
        Err(e) => part(files::BOARD, Err(e.to_string())),
    }
    match rec.results() {
        Ok(results) => print!("{}", results.table()),
        Err(e) => part(files::RESULTS, Err(e.to_string())),
    }
    match tracker {
        Some(t) => check(record, Some(t), None),
        None if unreadable => ExitCode::from(2),
        // A summary of a board that does not chain is no summary: say so in the exit code.
        None if broken => ExitCode::from(1),
        None => ExitCode::SUCCESS,
    }
}
