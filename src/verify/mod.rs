//! The auditor's verifier: every claim of an election record, checked from the record alone.
//!
//! [`verify_record`] runs the numbered checks of `docs/verifier.md` and returns a [`Report`]
//! with every check's status, how many objects it examined and each failure with its position
//! and reason. It goes on after a failure whenever later checks can still run, and marks a check
//! it could not run as `not-run`, never as passed.
//!
//! The board is read twice as a stream (first the chain and who cast what, then the ballots).
//! Memory holds a few batches of ballots, never the board: the indices that find repeated
//! credentials, trackers, ids and ciphertexts are sorted externally (`spill`), in a bounded
//! buffer plus temporary files, and the counted set is one bit per board entry. Ballots
//! are decoded and verified in batches of [`BATCH`], one multiscalar multiplication per batch,
//! with batches spread over all cores (rayon); a failing batch is bisected down to the ballots.

use std::path::{Path, PathBuf};

use rand_core::{CryptoRng, RngCore};
use serde::Serialize;

use crate::election::record::{to_hex, Record, RecordError};

mod ballots;
mod board;
mod context;
mod decryption;
mod shard;
mod spill;
pub use shard::{combine_partials, verify_shard, Partial, Shard};
use spill::{Key, SpillSorter};

/// Index kinds, in the order the external sort groups them.
const CREDENTIAL: u8 = 0;
const TRACKER: u8 = 1;
const BALLOT_ID: u8 = 2;
const CIPHERTEXT: u8 = 3;

/// Ballots decoded and verified together.
pub const BATCH: usize = 512;

/// A check's outcome.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// Every object examined passed (and at least one was examined where one is required).
    Pass,
    /// At least one object failed.
    Fail,
    /// The check could not run (an earlier failure left it nothing to check).
    NotRun,
}

/// One failing object.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Failure {
    /// Where: a file, a board entry, a guardian, a contest.
    pub at: String,
    /// What is wrong.
    pub reason: String,
}

/// One check's result.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Check {
    /// Its id.
    pub id: CheckId,
    /// What it checks.
    pub title: &'static str,
    /// The outcome.
    pub status: Status,
    /// How many objects it examined.
    pub objects: u64,
    /// The failures (at most [`MAX_LISTED_FAILURES`] listed; `failures_total` counts all).
    pub failures: Vec<Failure>,
    /// The number of failures, listed or not.
    pub failures_total: u64,
}

/// The most failures listed per check (all are counted).
pub const MAX_LISTED_FAILURES: usize = 100;

/// The verifier's report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Report {
    /// The election's id, if the record said.
    pub election_id: String,
    /// Every check, in order.
    pub checks: Vec<Check>,
    /// Ballots on the board.
    pub ballots: u64,
    /// Ballots counted.
    pub counted: u64,
}

impl Report {
    /// Whether every check passed.
    pub fn passed(&self) -> bool {
        self.checks.iter().all(|c| c.status == Status::Pass)
    }

    /// The checks that did not pass.
    pub fn failed(&self) -> impl Iterator<Item = &Check> {
        self.checks.iter().filter(|c| c.status != Status::Pass)
    }

    /// A human summary, one line per check.
    pub fn summary(&self) -> String {
        // Every string here may come from the record: escaped for the terminal.
        let safe = crate::text::terminal_safe;
        let mut out = format!(
            "election {}: {} ballots on the board, {} counted\n",
            safe(&self.election_id),
            self.ballots,
            self.counted
        );
        for c in &self.checks {
            let status = match c.status {
                Status::Pass => "pass",
                Status::Fail => "FAIL",
                Status::NotRun => "not run",
            };
            out.push_str(&format!(
                "{:>4} {:<8} {:>9} objects  {}\n",
                c.id.as_str(),
                status,
                c.objects,
                c.title
            ));
            for f in c.failures.iter().take(5) {
                out.push_str(&format!(
                    "               {}: {}\n",
                    safe(&f.at),
                    safe(&f.reason)
                ));
            }
            if c.failures_total > 5 {
                out.push_str(&format!(
                    "               ... {} failures in all\n",
                    c.failures_total
                ));
            }
        }
        out.push_str(if self.passed() {
            "all checks pass\n"
        } else {
            "VERIFICATION FAILED\n"
        });
        out
    }
}

/// A check of `docs/verifier.md`, by number. The report, the tests and the command line name
/// checks by this enum (serialized as `CheckId::V1` … `CheckId::V15`), so a misspelt check cannot exist.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CheckId {
    /// The record format version.
    V1,
    /// Files and hashes.
    V2,
    /// The manifest.
    V3,
    /// The key ceremony.
    V4,
    /// The credential list.
    V5,
    /// The election context.
    V6,
    /// The board's chain.
    V7,
    /// Each ballot.
    V8,
    /// Uniqueness among cast ballots.
    V9,
    /// The revoting policy.
    V10,
    /// Challenged ballots.
    V11,
    /// The encrypted tally.
    V12,
    /// Decryption shares.
    V13,
    /// The decryption.
    V14,
    /// The results.
    V15,
}

impl CheckId {
    /// Every check, in order.
    pub const ALL: [CheckId; 15] = [
        Self::V1,
        Self::V2,
        Self::V3,
        Self::V4,
        Self::V5,
        Self::V6,
        Self::V7,
        Self::V8,
        Self::V9,
        Self::V10,
        Self::V11,
        Self::V12,
        Self::V13,
        Self::V14,
        Self::V15,
    ];

    /// `CheckId::V1` … `CheckId::V15`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::V1 => "V1",
            Self::V2 => "V2",
            Self::V3 => "V3",
            Self::V4 => "V4",
            Self::V5 => "V5",
            Self::V6 => "V6",
            Self::V7 => "V7",
            Self::V8 => "V8",
            Self::V9 => "V9",
            Self::V10 => "V10",
            Self::V11 => "V11",
            Self::V12 => "V12",
            Self::V13 => "V13",
            Self::V14 => "V14",
            Self::V15 => "V15",
        }
    }

    /// What the check establishes.
    pub const fn title(self) -> &'static str {
        match self {
            Self::V1 => "record format version is supported",
            Self::V2 => "every record file is present and matches its hash in record.json",
            Self::V3 => "the manifest is well formed",
            Self::V4 => "the key ceremony adjudicates to a key with at least t qualified guardians",
            Self::V5 => "the credential list is canonical: sorted, unique, valid points",
            Self::V6 => "the recomputed election context hash and the election id equal the record's",
            Self::V7 => "the board belongs to this election and its entries chain to the recorded head",
            Self::V8 => "every ballot decodes, fits the manifest, has a listed credential, a valid signature and valid proofs",
            Self::V9 => "ballot ids (under their credentials), trackers and ciphertexts are unique among cast ballots",
            Self::V10 => "the counted set follows the revoting policy",
            Self::V11 => "challenged ballots verify, open with their seeds, and share no tracker, ballot id or ciphertext with another entry",
            Self::V12 => "the recomputed encrypted tally equals the record's",
            Self::V13 => "decryption shares come from qualified guardians and their proofs verify; at least t are valid",
            Self::V14 => "the combined decryption gives the recorded results",
            Self::V15 => "the results match the manifest and lie within their bounds",
        }
    }
}

impl core::fmt::Display for CheckId {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl core::str::FromStr for CheckId {
    type Err = UnknownCheck;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|c| c.as_str().eq_ignore_ascii_case(s))
            .ok_or(UnknownCheck)
    }
}

/// A string that names no check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UnknownCheck;

impl core::fmt::Display for UnknownCheck {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("not a check: expected V1 … V15")
    }
}

impl std::error::Error for UnknownCheck {}

impl Serialize for CheckId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// The report under construction, and what the board's first pass counted (for a report that
/// ends early).
struct Builder {
    checks: Vec<Check>,
    entries: u64,
}

impl Builder {
    fn new() -> Self {
        Self {
            checks: CheckId::ALL
                .iter()
                .map(|&id| Check {
                    id,
                    title: id.title(),
                    status: Status::NotRun,
                    objects: 0,
                    failures: Vec::new(),
                    failures_total: 0,
                })
                .collect(),
            entries: 0,
        }
    }

    fn check(&mut self, id: CheckId) -> Option<&mut Check> {
        self.checks.iter_mut().find(|c| c.id == id)
    }

    fn objects(&mut self, id: CheckId, n: u64) {
        if let Some(c) = self.check(id) {
            c.objects += n;
        }
    }

    fn fail(&mut self, id: CheckId, at: impl Into<String>, reason: impl Into<String>) {
        if let Some(c) = self.check(id) {
            c.failures_total += 1;
            if c.failures.len() < MAX_LISTED_FAILURES {
                c.failures.push(Failure {
                    at: at.into(),
                    reason: reason.into(),
                });
            }
            c.status = Status::Fail;
        }
    }

    /// Marks a check that ran: pass unless it failed; a check that needs objects and examined
    /// none fails.
    fn ran(&mut self, id: CheckId, needs_objects: bool) {
        if let Some(c) = self.check(id) {
            if c.status == Status::NotRun {
                c.status = Status::Pass;
            }
            if needs_objects && c.objects == 0 && c.status == Status::Pass {
                c.status = Status::Fail;
                c.failures_total += 1;
                c.failures.push(Failure {
                    at: "record".into(),
                    reason: "no object to check".into(),
                });
            }
        }
    }
}

/// Progress callbacks for long work: `(phase, done, total)` (total 0 when unknown).
pub type Progress<'a> = &'a (dyn Fn(&str, u64, u64) + Sync);

/// How the verifier runs.
#[derive(Clone, Debug)]
pub struct Options {
    /// The folder for the indices' sorted runs (the system's temporary folder if `None`). When
    /// it is missing, full or unwritable the run ends with [`RecordError::Environment`].
    pub temp_dir: Option<PathBuf>,
    /// Index keys held in memory before a sorted run is written (48 bytes each).
    pub index_buffer_keys: usize,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            temp_dir: None,
            index_buffer_keys: spill::BUFFER_KEYS,
        }
    }
}

impl Options {
    fn sorter(&self) -> SpillSorter {
        SpillSorter::in_dir(self.index_buffer_keys, self.temp_dir.clone())
    }

    /// The error that ends a run whose temporary index failed, naming the folder.
    fn environment(&self, error: std::io::Error) -> RecordError {
        let dir = self.temp_dir.clone().unwrap_or_else(std::env::temp_dir);
        RecordError::Environment {
            what: format!("the verifier's temporary folder {}", dir.display()),
            error,
        }
    }
}

/// Verifies the record in `dir` with the default [`Options`].
///
/// # Errors
/// As [`verify_record_with`].
pub fn verify_record<R: RngCore + CryptoRng>(
    dir: &Path,
    rng: &mut R,
    progress: Progress<'_>,
) -> Result<Report, RecordError> {
    verify_record_with(dir, rng, progress, &Options::default())
}

/// Verifies the record in `dir`.
///
/// Every file is read once, from one handle, and hashed as it is read, so the bytes checked
/// are the bytes hashed (V2); the board, read twice, must give the same bytes, entries and head
/// both times (else V7 fails).
///
/// # Errors
/// [`RecordError`] only for unusable input or a failing machine: a missing or unparsable
/// `record.json`, an unsupported version, a record file that is not a regular file or is
/// longer than its format allows, or a temporary folder the verifier cannot write
/// ([`RecordError::Environment`]). Everything else is a failing check in the [`Report`].
pub fn verify_record_with<R: RngCore + CryptoRng>(
    dir: &Path,
    rng: &mut R,
    progress: Progress<'_>,
    options: &Options,
) -> Result<Report, RecordError> {
    let record = Record::open(dir)?;
    let mut b = Builder::new();
    b.objects(CheckId::V1, 1);
    b.ran(CheckId::V1, true);
    // The order and the stops below are docs/verifier.md, *Dependencies*: V3-V5 always run;
    // without a context nothing after V6 runs; a broken chain stops V8-V15.
    let files = context::Files::read(&record, &mut b)?;
    let (ballots, counted) = match front(&record, &files, &mut b, rng, progress, options)? {
        Front::NoContext => {
            // Nothing past V6 can run, but V2 still covers every file.
            board::hash_only(&record, &mut b)?;
            decryption::hash_only(&record, &mut b)?;
            (0, 0)
        }
        Front::NoChain => {
            decryption::hash_only(&record, &mut b)?;
            (b.entries, 0)
        }
        Front::Chain {
            context,
            chain,
            counted,
        } => {
            let second = ballots::second_pass(
                &context, chain, &counted, None, &mut b, rng, progress, options,
            )?;
            after_ballots(&record, &context, second, &files, &mut b, rng, options)?
        }
    };
    Ok(report(&record, b, ballots, counted))
}

/// After the second pass (a whole run's, or the merge of every shard's): V9's and V11's
/// repeats, V12, and V13–V15. Returns the ballots on the board and the counted ballots.
fn after_ballots<R: RngCore + CryptoRng>(
    record: &Record,
    context: &crate::election::ElectionContext,
    second: ballots::Second,
    files: &context::Files,
    b: &mut Builder,
    rng: &mut R,
    options: &Options,
) -> Result<(u64, u64), RecordError> {
    let tallied = ballots::conclude(context, second, files.tally.as_ref(), b, options)?;
    let counted = tallied.tally.ballots();
    decryption::check(
        record,
        context,
        &tallied.tally,
        files.results.as_ref(),
        b,
        rng,
    )?;
    Ok((tallied.ballots, counted))
}

/// The report, once every check that could run has run (V2 last: every file was hashed).
fn report(record: &Record, mut b: Builder, ballots: u64, counted: u64) -> Report {
    b.ran(CheckId::V2, true);
    Report {
        election_id: record.index().election_id.clone(),
        checks: b.checks,
        ballots,
        counted,
    }
}

/// How far the checks that precede the ballots got.
// One value per run, moved once: boxing the context would buy nothing.
#[allow(clippy::large_enum_variant)]
enum Front {
    /// No election context (V3–V6 failed): nothing after V6 runs.
    NoContext,
    /// A context, but the chain does not hold (V7): nothing after V7 runs.
    NoChain,
    /// The context, the board's first pass and the counted set (V10).
    Chain {
        context: crate::election::ElectionContext,
        chain: board::Chain,
        counted: EntrySet,
    },
}

/// V3–V7 and V10: the context, the board's first pass and the revoting policy.
fn front<R: RngCore + CryptoRng>(
    record: &Record,
    files: &context::Files,
    b: &mut Builder,
    rng: &mut R,
    progress: Progress<'_>,
    options: &Options,
) -> Result<Front, RecordError> {
    let Some(context) = context::check(record, files, b, rng) else {
        return Ok(Front::NoContext);
    };
    let mut by_credential = options.sorter();
    let Some(chain) = board::chain(record, &context, b, progress, &mut by_credential, options)?
    else {
        return Ok(Front::NoChain);
    };
    let counted = board::revoting(by_credential, &context, &chain, b, options)?;
    Ok(Front::Chain {
        context,
        chain,
        counted,
    })
}

/// Checks a file's SHA-512 against `record.json` (V2).
fn check_hash(b: &mut Builder, record: &Record, name: &str, found: &[u8; 64]) {
    match record.index().files.get(name) {
        None => b.fail(CheckId::V2, name, "not listed in record.json"),
        Some(expected) if *expected != to_hex(found) => b.fail(
            CheckId::V2,
            name,
            "the file's SHA-512 differs from record.json",
        ),
        Some(_) => {}
    }
}

/// Whether a record file error makes the input unusable (exit 2) rather than a failing check.
fn unusable(e: &RecordError) -> bool {
    matches!(
        e,
        RecordError::NotARegularFile { .. }
            | RecordError::TooLarge { .. }
            | RecordError::Environment { .. }
            | RecordError::Partial { .. }
    )
}

/// The first 32 bytes of `bytes`, zero-padded: an index value.
fn prefix32(bytes: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    for (o, b) in out.iter_mut().zip(bytes) {
        *o = *b;
    }
    out
}

/// A set of board entry numbers, one bit per entry.
struct EntrySet {
    bits: Vec<u64>,
}

impl EntrySet {
    fn new(last: u64) -> Self {
        Self {
            bits: vec![0; usize::try_from(last / 64 + 1).unwrap_or(0)],
        }
    }

    fn insert(&mut self, entry: u64) {
        if let Some(word) = usize::try_from(entry / 64)
            .ok()
            .and_then(|i| self.bits.get_mut(i))
        {
            *word |= 1 << (entry % 64);
        }
    }

    fn contains(&self, entry: u64) -> bool {
        usize::try_from(entry / 64)
            .ok()
            .and_then(|i| self.bits.get(i))
            .is_some_and(|word| word & (1 << (entry % 64)) != 0)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn the_summary_lists_five_failures_and_counts_the_rest() {
        let mut b = Builder::new();
        for i in 0..7 {
            b.fail(CheckId::V8, format!("entry {i}"), "bad");
        }
        b.objects(CheckId::V1, 1);
        b.ran(CheckId::V1, true);
        let report = Report {
            election_id: "e".into(),
            checks: b.checks,
            ballots: 7,
            counted: 0,
        };
        let summary = report.summary();
        assert!(summary.contains("entry 4: bad"));
        assert!(!summary.contains("entry 5: bad"));
        assert!(summary.contains("... 7 failures in all"));
        assert!(summary.ends_with("VERIFICATION FAILED\n"));
        assert!(!report.passed());
        // Exactly five failures: listed, no count line.
        let mut b = Builder::new();
        for i in 0..5 {
            b.fail(CheckId::V8, format!("entry {i}"), "bad");
        }
        let five = Report {
            election_id: "e".into(),
            checks: b.checks,
            ballots: 5,
            counted: 0,
        };
        assert!(!five.summary().contains("failures in all"));
        assert!(five.summary().contains("entry 4: bad"));
    }

    #[test]
    fn a_check_that_needs_objects_and_saw_none_fails() {
        let mut b = Builder::new();
        b.ran(CheckId::V3, true);
        b.ran(CheckId::V10, false);
        let v3 = b.checks.iter().find(|c| c.id == CheckId::V3).unwrap();
        assert_eq!(v3.status, Status::Fail);
        assert_eq!(v3.failures_total, 1);
        let v10 = b.checks.iter().find(|c| c.id == CheckId::V10).unwrap();
        assert_eq!(v10.status, Status::Pass);
        // A check that failed stays failed when it is marked as run.
        b.fail(CheckId::V4, "x", "y");
        b.objects(CheckId::V4, 3);
        b.ran(CheckId::V4, true);
        let v4 = b.checks.iter().find(|c| c.id == CheckId::V4).unwrap();
        assert_eq!(
            (v4.status, v4.objects, v4.failures_total),
            (Status::Fail, 3, 1)
        );
    }

    #[test]
    fn failures_beyond_the_listing_limit_are_counted() {
        let mut b = Builder::new();
        for i in 0..MAX_LISTED_FAILURES + 3 {
            b.fail(CheckId::V9, format!("entry {i}"), "dup");
        }
        let v9 = b.checks.iter().find(|c| c.id == CheckId::V9).unwrap();
        assert_eq!(v9.failures.len(), MAX_LISTED_FAILURES);
        assert_eq!(v9.failures_total, (MAX_LISTED_FAILURES + 3) as u64);
    }

    #[test]
    fn entry_sets_hold_exactly_what_was_inserted() {
        let mut set = EntrySet::new(200);
        for e in [0u64, 1, 63, 64, 65, 127, 128, 200] {
            set.insert(e);
        }
        for e in 0..=201u64 {
            assert_eq!(
                set.contains(e),
                [0u64, 1, 63, 64, 65, 127, 128, 200].contains(&e),
                "{e}"
            );
        }
        // Beyond the set's range: ignored, never a panic.
        set.insert(10_000);
        assert!(!set.contains(10_000));
        assert_eq!(prefix32(&[1, 2, 3])[..4], [1, 2, 3, 0]);
        assert_eq!(prefix32(&[9u8; 64]), [9u8; 32]);
    }
}
