//! `evote`: run a demonstration election, verify an election record, check that a board only
//! grew, and inspect a record. Thin: it parses arguments, calls the library and reports.
//!
//! Exit codes: 0 success (all checks pass), 1 a check failed, 2 unusable input.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use clap::{Parser, Subcommand};
use evote::demo::{default_out, demo_manifest, run_demo, DemoOptions};
use evote::election::board::Entry;
use evote::election::record::{files, to_hex, Record};
use evote::election::{verify_extension, Ballot, Manifest};
use evote::text::terminal_safe;
use evote::verify::verify_record;
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
        /// Output directory for the record
        #[arg(long, default_value_os_t = default_out())]
        out: PathBuf,
    },
    /// Verify an election record: run every check and report
    Verify {
        /// The record directory
        record: PathBuf,
        /// Print the machine-readable report (JSON) instead of the summary
        #[arg(long)]
        json: bool,
    },
    /// Check that a record's board only appended since an earlier head (hex)
    VerifyExtension {
        /// The head an auditor kept earlier (128 hex digits)
        old_head: String,
        /// The record directory
        record: PathBuf,
    },
    /// Summarise a record: manifest, guardians, counts, results, tracker lookups
    Inspect {
        /// The record directory
        record: PathBuf,
        /// Look up a ballot tracker (hex, or a prefix of at least 8 hex digits)
        #[arg(long)]
        tracker: Option<String>,
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
            out,
        } => demo(voters, guardians, threshold, absent, manifest, out),
        Command::Verify { record, json } => verify(&record, json),
        Command::VerifyExtension { old_head, record } => extension(&old_head, &record),
        Command::Inspect { record, tracker } => inspect(&record, tracker.as_deref()),
    }
}

fn demo(
    voters: usize,
    guardians: u32,
    threshold: u32,
    absent: u32,
    manifest: Option<PathBuf>,
    out: PathBuf,
) -> ExitCode {
    let manifest = match manifest {
        None => demo_manifest(),
        Some(path) => match std::fs::read_to_string(&path)
            .map_err(|e| e.to_string())
            .and_then(|t| Manifest::from_json(&t).map_err(|e| e.to_string()))
        {
            Ok(m) => m,
            Err(e) => return unusable(format!("{}: {e}", path.display())),
        },
    };
    let options = DemoOptions {
        voters,
        guardians,
        threshold,
        absent,
        manifest,
        out: out.clone(),
    };
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
        "{} ballots cast ({} counted), {} challenged; decrypted by guardians {:?}; record in {}",
        outcome.ballots_cast,
        outcome.results.counted_ballots,
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

fn verify(record: &Path, json: bool) -> ExitCode {
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
    let report = verify_record(record, &mut OsRng, &progress);
    bar.finish_and_clear();
    let report = match report {
        Ok(r) => r,
        Err(e) => return unusable(format!("{}: {e}", record.display())),
    };
    if json {
        match serde_json::to_string_pretty(&report) {
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

fn inspect(record: &Path, tracker: Option<&str>) -> ExitCode {
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
    if let Ok(m) = rec.manifest() {
        println!(
            "  {} — {} contests, {} options, revoting {:?}",
            terminal_safe(&m.title),
            m.contests.len(),
            m.option_count(),
            m.revoting
        );
    }
    if let Ok(c) = rec.ceremony() {
        println!(
            "  ceremony: {}-of-{} guardians, {} complaints",
            c.params.threshold(),
            c.params.guardians(),
            c.complaints.len()
        );
    }
    if let Ok(c) = rec.credentials() {
        println!("  credentials: {}", c.len());
    }
    let wanted = tracker.map(str::to_ascii_lowercase);
    if let Some(t) = &wanted {
        if t.len() < 8 || !t.bytes().all(|b| b.is_ascii_hexdigit()) {
            return unusable("--tracker needs at least 8 hex digits");
        }
    }
    let mut found = None;
    let mut entries = 0u64;
    match rec.board() {
        Ok(mut reader) => {
            while let Ok(Some(entry)) = reader.next_checked() {
                entries += 1;
                if let (Some(t), Entry::Ballot { number, bytes, .. }) = (&wanted, &entry) {
                    if let Ok(ballot) = Ballot::from_bytes(bytes) {
                        if to_hex(&ballot.tracker()).starts_with(t.as_str()) {
                            found = Some(*number);
                        }
                    }
                }
            }
            println!(
                "  board: {entries} entries, head {}…",
                to_hex(reader.head()).get(..16).unwrap_or("")
            );
        }
        Err(e) => println!("  board: {}", terminal_safe(&e.to_string())),
    }
    if let Ok(results) = rec.results() {
        print!("{}", results.table());
    }
    match (wanted, found) {
        (Some(t), Some(n)) => {
            println!("tracker {t}…: on the board as entry {n}");
            ExitCode::SUCCESS
        }
        (Some(t), None) => {
            println!("tracker {t}…: NOT on the board");
            ExitCode::from(1)
        }
        (None, _) => ExitCode::SUCCESS,
    }
}
