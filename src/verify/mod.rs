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

use std::path::Path;

use rand_chacha::ChaCha20Rng;
use rand_core::{CryptoRng, RngCore, SeedableRng};
use rayon::prelude::*;
use serde::Serialize;

use crate::ceremony::adjudicate;
use crate::decryption::combine;
use crate::election::ballot::{
    peek_credential, tracker_of, Ballot, BallotError, ChallengedBallot, VerifiedBallot, CAST_TAIL,
    CHALLENGE_TAIL,
};
use crate::election::board::{option_bounds, Entry};
use crate::election::manifest::RevotePolicy;
use crate::election::record::{file_hash, files, to_hex, Record, RecordError};
use crate::election::{ElectionContext, ElectionResults};
use crate::tally::{BoardBinding, TallyAccumulator};

/// One board entry after decoding and verification: its number, its tracker and the ballot (or
/// why it was refused).
type Judged = (u64, [u8; 64], Result<VerifiedBallot, BallotError>);

mod spill;
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
    /// Its id, `V1`, `V2`, ...
    pub id: &'static str,
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
                c.id, status, c.objects, c.title
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

/// The checks, in order (`docs/verifier.md` describes each).
pub const CHECKS: [(&str, &str); 15] = [
    ("V1", "record format version is supported"),
    ("V2", "every record file is present and matches its hash in record.json"),
    ("V3", "the manifest is well formed"),
    ("V4", "the key ceremony adjudicates to a key with at least t qualified guardians"),
    ("V5", "the credential list is canonical: sorted, unique, valid points"),
    ("V6", "the recomputed election context hash and the election id equal the record's"),
    ("V7", "the board belongs to this election and its entries chain to the recorded head"),
    ("V8", "every ballot decodes, fits the manifest, has a listed credential, a valid signature and valid proofs"),
    ("V9", "ballot ids (under their credentials), trackers and ciphertexts are unique among cast ballots"),
    ("V10", "the counted set follows the revoting policy"),
    ("V11", "challenged ballots verify, open with their seeds, and share no tracker, ballot id or ciphertext with another entry"),
    ("V12", "the recomputed encrypted tally equals the record's"),
    ("V13", "decryption shares come from qualified guardians and their proofs verify; at least t are valid"),
    ("V14", "the combined decryption gives the recorded results"),
    ("V15", "the results match the manifest and lie within their bounds"),
];

struct Builder {
    checks: Vec<Check>,
}

impl Builder {
    fn new() -> Self {
        Self {
            checks: CHECKS
                .iter()
                .map(|(id, title)| Check {
                    id,
                    title,
                    status: Status::NotRun,
                    objects: 0,
                    failures: Vec::new(),
                    failures_total: 0,
                })
                .collect(),
        }
    }

    fn check(&mut self, id: &str) -> Option<&mut Check> {
        self.checks.iter_mut().find(|c| c.id == id)
    }

    fn objects(&mut self, id: &str, n: u64) {
        if let Some(c) = self.check(id) {
            c.objects += n;
        }
    }

    fn fail(&mut self, id: &str, at: impl Into<String>, reason: impl Into<String>) {
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
    fn ran(&mut self, id: &str, needs_objects: bool) {
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

/// Verifies the record in `dir`.
///
/// # Errors
/// [`RecordError`] only for unusable input: a missing or unparsable `record.json` or an
/// unsupported version. Everything else is a failing check in the [`Report`].
pub fn verify_record<R: RngCore + CryptoRng>(
    dir: &Path,
    rng: &mut R,
    progress: Progress<'_>,
) -> Result<Report, RecordError> {
    let record = Record::open(dir)?;
    let mut b = Builder::new();
    b.objects("V1", 1);
    b.ran("V1", true);

    // V2: completeness and file hashes.
    for name in files::ALL {
        b.objects("V2", 1);
        match (
            record.index().files.get(name),
            file_hash(&record.path(name)),
        ) {
            (None, _) => b.fail("V2", name, "not listed in record.json"),
            (_, Err(e)) => b.fail("V2", name, format!("missing or unreadable: {e}")),
            (Some(expected), Ok(found)) if *expected != to_hex(&found) => {
                b.fail("V2", name, "the file's SHA-512 differs from record.json")
            }
            _ => {}
        }
    }
    for name in record.index().files.keys() {
        if !files::ALL.contains(&name.as_str()) {
            b.fail("V2", name.clone(), "unknown file listed in record.json");
        }
    }
    b.ran("V2", true);

    let election_id = record.index().election_id.clone();
    let report = |b: Builder, ballots: u64, counted: u64| Report {
        election_id: election_id.clone(),
        checks: b.checks,
        ballots,
        counted,
    };

    // V3-V6: the context.
    let manifest = match record.manifest() {
        Ok(m) => {
            b.objects("V3", 1);
            b.ran("V3", true);
            Some(m)
        }
        Err(e) => {
            b.fail("V3", files::MANIFEST, e.to_string());
            None
        }
    };
    let outcome = match record.ceremony() {
        Ok(transcript) => {
            b.objects("V4", transcript.params.guardians().into());
            match adjudicate(&transcript, rng) {
                Ok(outcome) => {
                    b.ran("V4", true);
                    Some(outcome)
                }
                Err(e) => {
                    b.fail("V4", files::CEREMONY, e.to_string());
                    None
                }
            }
        }
        Err(e) => {
            b.fail("V4", files::CEREMONY, e.to_string());
            None
        }
    };
    let credentials = match record.credentials() {
        Ok(c) => {
            b.objects("V5", c.len() as u64);
            b.ran("V5", true);
            Some(c)
        }
        Err(e) => {
            b.fail("V5", files::CREDENTIALS, e.to_string());
            None
        }
    };
    let (Some(manifest), Some(outcome), Some(credentials)) = (manifest, outcome, credentials)
    else {
        return Ok(report(b, 0, 0));
    };
    let context = match ElectionContext::new(manifest, outcome, credentials) {
        Ok(c) => c,
        Err(e) => {
            b.fail("V6", "context", e.to_string());
            return Ok(report(b, 0, 0));
        }
    };
    b.objects("V6", 1);
    if to_hex(context.hash()) != record.index().election_hash {
        b.fail("V6", files::INDEX, "election_hash differs from the hash recomputed from manifest, ceremony and credentials");
    }
    if record.index().election_id != context.manifest().election_id {
        b.fail(
            "V6",
            files::INDEX,
            "election_id differs from the manifest's",
        );
    }
    b.ran("V6", true);

    // V7 (pass 1): chain, head, close, and which entries each credential cast.
    let mut by_credential = SpillSorter::new();
    let mut index_error: Option<std::io::Error> = None;
    let mut entries = 0u64;
    let mut last_number = 0u64;
    let mut closed_at: Option<u64> = None;
    // The head recomputed by pass 1: what the recomputed tally (and so every share) is bound to.
    let mut recomputed_head = [0u8; 64];
    let chain_ok = match record.board() {
        Err(e) => {
            b.fail("V7", files::BOARD, e.to_string());
            false
        }
        Ok(mut reader) => {
            let mut ok = true;
            if reader.election() != context.hash() {
                b.fail(
                    "V7",
                    files::BOARD,
                    "the board header names another election",
                );
                ok = false;
            }
            loop {
                match reader.next_checked() {
                    Ok(None) => break,
                    Ok(Some(Entry::Ballot { number, bytes, .. })) => {
                        entries += 1;
                        last_number = last_number.max(number);
                        if entries.is_multiple_of(4096) {
                            // The length is not known before the end of the first pass.
                            progress("chain", entries, entries);
                        }
                        if let Some(c) = closed_at {
                            b.fail(
                                "V7",
                                format!("entry {number}"),
                                format!("a ballot after the close at entry {c}"),
                            );
                            ok = false;
                        }
                        match peek_credential(&bytes) {
                            Some(value) => {
                                let key = Key {
                                    kind: CREDENTIAL,
                                    value,
                                    entry: number,
                                };
                                if let Err(e) = by_credential.push(key) {
                                    index_error.get_or_insert(e);
                                }
                            }
                            None => {
                                b.fail("V7", format!("entry {number}"), "not a ballot encoding");
                            }
                        }
                    }
                    Ok(Some(Entry::Challenge { number, .. })) => {
                        entries += 1;
                        last_number = last_number.max(number);
                        if let Some(c) = closed_at {
                            b.fail(
                                "V7",
                                format!("entry {number}"),
                                format!("a challenge after the close at entry {c}"),
                            );
                            ok = false;
                        }
                    }
                    Ok(Some(Entry::Close { number, .. })) => {
                        entries += 1;
                        last_number = last_number.max(number);
                        if closed_at.is_some() {
                            b.fail("V7", format!("entry {number}"), "a second close");
                            ok = false;
                        }
                        closed_at = Some(number);
                    }
                    Err(e) => {
                        b.fail("V7", files::BOARD, e.to_string());
                        ok = false;
                        break;
                    }
                }
            }
            b.objects("V7", entries.max(1));
            recomputed_head = *reader.head();
            if ok && to_hex(reader.head()) != record.index().board_head {
                b.fail(
                    "V7",
                    files::INDEX,
                    "board_head differs from the board's recomputed head",
                );
                ok = false;
            }
            if closed_at.is_none() {
                b.fail("V7", files::BOARD, "the board was never closed");
            }
            b.ran("V7", true);
            ok
        }
    };
    if !chain_ok {
        return Ok(report(b, entries, 0));
    }

    // V10: revoting policy, and the counted set (each credential's last entry), one bit per
    // board entry.
    let mut counted_entries = EntrySet::new(last_number);
    let refused = context.manifest().revoting == RevotePolicy::Refused;
    let revotes = index_error
        .take()
        .map_or_else(|| by_credential.into_sorted(), Err)
        .and_then(|mut sorted| {
            let mut current: Option<(Key, u64)> = None; // (latest key, ballots so far)
            let mut finish = |b: &mut Builder, (key, n): (Key, u64)| {
                b.objects("V10", 1);
                counted_entries.insert(key.entry);
                if refused && n > 1 {
                    b.fail(
                        "V10",
                        format!("credential {}", to_hex(key.value.get(..8).unwrap_or(&[]))),
                        format!("{n} ballots although revoting is refused"),
                    );
                }
            };
            while let Some(key) = sorted.next_key()? {
                current = match current {
                    Some((prev, n)) if prev.value == key.value => Some((key, n + 1)),
                    Some(done) => {
                        finish(&mut b, done);
                        Some((key, 1))
                    }
                    None => Some((key, 1)),
                };
            }
            if let Some(done) = current {
                finish(&mut b, done);
            }
            Ok(())
        });
    if let Err(e) = revotes {
        b.fail("V10", "index", format!("the temporary index failed: {e}"));
    }
    b.ran("V10", false);

    // Pass 2: every ballot, in parallel batches; uniqueness; the tally of the counted ballots.
    let bounds = option_bounds(&context);
    let mut accumulator = TallyAccumulator::new(context.public_key(), &bounds);
    let mut uniques = SpillSorter::new();
    let mut push = |key: Key| {
        if let Err(e) = uniques.push(key) {
            index_error.get_or_insert(e);
        }
    };
    let mut ballots_seen = 0u64;
    let mut reader = match record.board() {
        Ok(r) => r,
        Err(e) => {
            b.fail("V8", files::BOARD, e.to_string());
            return Ok(report(b, entries, 0));
        }
    };
    let mut pending: Vec<(u64, Vec<u8>)> = Vec::with_capacity(BATCH * 4);
    let mut done = false;
    let mut tally_ok = true;
    // The challenge entries, one bit per entry: V9's repeats involving one are V11's.
    let mut challenge_entries = EntrySet::new(last_number);
    while !done {
        match reader.next_checked() {
            Ok(Some(Entry::Ballot { number, bytes, .. })) => pending.push((number, bytes)),
            Ok(Some(Entry::Challenge { number, bytes, .. })) => {
                // V11: a challenge (rare: a voter's audit) is checked on its own.
                b.objects("V11", 1);
                challenge_entries.insert(number);
                push(Key {
                    kind: TRACKER,
                    value: prefix32(&tracker_of(&bytes, CHALLENGE_TAIL)),
                    entry: number,
                });
                let mut r = ChaCha20Rng::from_seed({
                    let mut s = [0u8; 32];
                    rng.fill_bytes(&mut s);
                    s
                });
                let at = format!("entry {number}");
                match ChallengedBallot::from_bytes(&bytes) {
                    Err(e) => b.fail("V11", at, e.to_string()),
                    Ok(challenged) => {
                        push(Key {
                            kind: BALLOT_ID,
                            value: challenged.body().scoped_id(),
                            entry: number,
                        });
                        for alpha in challenged.body().alpha_keys() {
                            push(Key {
                                kind: CIPHERTEXT,
                                value: prefix32(&alpha),
                                entry: number,
                            });
                        }
                        if let Err(e) = challenged.verify(&context, &mut r) {
                            b.fail("V11", at, e.to_string());
                        }
                    }
                }
            }
            Ok(Some(Entry::Close { .. })) => {}
            Ok(None) | Err(_) => done = true,
        }
        if pending.len() == BATCH * 4 || (done && !pending.is_empty()) {
            let seeds: Vec<[u8; 32]> = (0..pending.len().div_ceil(BATCH))
                .map(|_| {
                    let mut s = [0u8; 32];
                    rng.fill_bytes(&mut s);
                    s
                })
                .collect();
            // Decode and verify in parallel, one batch per chunk.
            let verdicts: Vec<Vec<Judged>> = pending
                .par_chunks(BATCH)
                .zip(seeds.par_iter())
                .map(|(chunk, seed)| {
                    let mut chunk_rng = ChaCha20Rng::from_seed(*seed);
                    let mut decoded = Vec::with_capacity(chunk.len());
                    let mut slots = Vec::with_capacity(chunk.len());
                    let mut out: Vec<Judged> = Vec::with_capacity(chunk.len());
                    for (number, bytes) in chunk {
                        let tracker = tracker_of(bytes, CAST_TAIL);
                        match Ballot::from_bytes(bytes) {
                            Ok(ballot) => {
                                slots.push(out.len());
                                decoded.push(ballot);
                                out.push((
                                    *number,
                                    tracker,
                                    Err(BallotError::Shape { reason: "pending" }),
                                ));
                            }
                            Err(e) => out.push((*number, tracker, Err(e))),
                        }
                    }
                    let verified = Ballot::verify_batch(decoded, &context, &mut chunk_rng);
                    for (slot, verdict) in slots.into_iter().zip(verified) {
                        if let Some(entry) = out.get_mut(slot) {
                            entry.2 = verdict;
                        }
                    }
                    out
                })
                .collect();
            let mut counted_batch: Vec<(u64, VerifiedBallot)> = Vec::new();
            for (number, tracker, verdict) in verdicts.into_iter().flatten() {
                ballots_seen += 1;
                b.objects("V8", 1);
                b.objects("V9", 1);
                push(Key {
                    kind: TRACKER,
                    value: prefix32(&tracker),
                    entry: number,
                });
                match verdict {
                    Err(e) => b.fail("V8", format!("entry {number}"), e.to_string()),
                    Ok(verified) => {
                        let ballot = verified.ballot();
                        push(Key {
                            kind: BALLOT_ID,
                            value: ballot.scoped_id(),
                            entry: number,
                        });
                        for alpha in ballot.body().alpha_keys() {
                            push(Key {
                                kind: CIPHERTEXT,
                                value: prefix32(&alpha),
                                entry: number,
                            });
                        }
                        if counted_entries.contains(number) {
                            counted_batch.push((number, verified));
                        }
                    }
                }
            }
            // Counted ballots go into the tally: V8 has just verified them.
            for (_, ballot) in &counted_batch {
                if !accumulator.add(ballot) {
                    tally_ok = false;
                }
            }
            progress("proofs", ballots_seen, entries);
            pending.clear();
        }
    }
    b.ran("V8", false);

    // V9 (and V11's "not cast"): every repeated tracker, ballot id and ciphertext.
    let repeats = index_error
        .take()
        .map_or_else(|| uniques.into_sorted(), Err)
        .and_then(|mut sorted| {
            // (kind, value, first board entry holding it)
            let mut current: Option<(u8, [u8; 32], Option<u64>)> = None;
            while let Some(key) = sorted.next_key()? {
                let first = match current {
                    Some((kind, value, first)) if kind == key.kind && value == key.value => first,
                    _ => None,
                };
                let first = match first {
                    None => Some(key.entry),
                    // A ciphertext repeated inside one ballot (a device that reused a nonce)
                    // leaks that voter's choices but replays nothing: V9 looks for replays
                    // between entries only.
                    Some(first) if key.kind == CIPHERTEXT && key.entry == first => Some(first),
                    Some(first) => {
                        let what = match key.kind {
                            TRACKER => "tracker",
                            BALLOT_ID => "ballot id",
                            _ => "a ciphertext",
                        };
                        let at = format!("entry {}", key.entry);
                        if challenge_entries.contains(key.entry) {
                            b.fail(
                                "V11",
                                at,
                                format!("a challenged ballot with the {what} of entry {first}"),
                            );
                        } else if challenge_entries.contains(first) {
                            b.fail(
                                "V11",
                                at,
                                format!(
                                    "a cast ballot with the {what} of challenged entry {first}"
                                ),
                            );
                        } else {
                            let why = match key.kind {
                                TRACKER => format!("same tracker as entry {first}"),
                                BALLOT_ID => format!("same ballot id as entry {first}"),
                                _ => format!("reuses a ciphertext of entry {first}"),
                            };
                            b.fail("V9", at, why);
                        }
                        Some(first)
                    }
                };
                current = Some((key.kind, key.value, first));
            }
            Ok(())
        });
    if let Err(e) = repeats {
        b.fail("V9", "index", format!("the temporary index failed: {e}"));
    }
    b.ran("V9", false);
    b.ran("V11", false);

    // V12: the tally.
    let counted = accumulator.ballots();
    let tally = accumulator.finish(BoardBinding {
        election: *context.hash(),
        board_head: recomputed_head,
    });
    b.objects("V12", 1);
    if !tally_ok {
        b.fail(
            "V12",
            "counted ballots",
            "a counted ballot does not fit the tally's options",
        );
    }
    match record.tally_bytes() {
        Ok(bytes) if bytes == tally.to_bytes() => {}
        Ok(_) => b.fail(
            "V12",
            files::TALLY,
            "differs from the tally recomputed from the counted ballots",
        ),
        Err(e) => b.fail("V12", files::TALLY, e.to_string()),
    }
    b.ran("V12", true);

    // V13-V14: decryption.
    let shares = match record.shares() {
        Ok(s) => s,
        Err(e) => {
            b.fail("V13", files::SHARES, e.to_string());
            return Ok(report(b, ballots_seen, counted));
        }
    };
    b.objects("V13", shares.len() as u64);
    // One share per guardian in a record, an identical copy included: the record is the
    // canonical list, and a copy is either an error of its author or padding.
    let mut seen = std::collections::BTreeSet::new();
    for share in &shares {
        if !seen.insert(share.guardian()) {
            b.fail(
                "V13",
                share.guardian().to_string(),
                "more than one decryption share from this guardian",
            );
        }
    }
    let results = record.results();
    match combine(context.outcome(), &tally, &shares, rng) {
        Err(e) => {
            b.fail("V13", files::SHARES, e.to_string());
        }
        Ok(result) => {
            for (who, why) in result.invalid.iter().chain(&result.discarded) {
                b.fail("V13", who.to_string(), why.to_string());
            }
            b.ran("V13", true);
            b.objects("V14", result.counts.len() as u64);
            match &results {
                Ok(recorded)
                    if recorded.counts() == result.counts
                        && recorded.counted_ballots == counted => {}
                Ok(recorded) => {
                    let recorded_counts = recorded.counts();
                    for (k, (found, expected)) in
                        recorded_counts.iter().zip(&result.counts).enumerate()
                    {
                        if found != expected {
                            b.fail(
                                "V14",
                                format!("option {k}"),
                                format!("results say {found}, decryption gives {expected}"),
                            );
                        }
                    }
                    if recorded_counts.len() != result.counts.len() {
                        b.fail("V14", files::RESULTS, "wrong number of options");
                    }
                    if recorded.counted_ballots != counted {
                        b.fail(
                            "V14",
                            files::RESULTS,
                            format!(
                                "counted_ballots {} but {counted} ballots are counted",
                                recorded.counted_ballots
                            ),
                        );
                    }
                }
                Err(e) => b.fail("V14", files::RESULTS, e.to_string()),
            }
            b.ran("V14", true);
        }
    }

    // V15: results shape and bounds.
    match &results {
        Ok(recorded) => {
            b.objects("V15", recorded.contests.len() as u64);
            let expected_shape = ElectionResults::from_counts(
                context.manifest(),
                recorded.counted_ballots,
                &recorded.counts(),
            );
            if expected_shape.as_ref() != Some(recorded) {
                b.fail(
                    "V15",
                    files::RESULTS,
                    "contests or options differ from the manifest",
                );
            } else if !recorded.within_bounds(context.manifest()) {
                b.fail(
                    "V15",
                    files::RESULTS,
                    "a count lies outside the bounds the manifest allows",
                );
            }
            if recorded.election_id != context.manifest().election_id {
                b.fail("V15", files::RESULTS, "another election's id");
            }
            b.ran("V15", true);
        }
        Err(e) => b.fail("V15", files::RESULTS, e.to_string()),
    }
    Ok(report(b, ballots_seen, counted))
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
            b.fail("V8", format!("entry {i}"), "bad");
        }
        b.objects("V1", 1);
        b.ran("V1", true);
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
            b.fail("V8", format!("entry {i}"), "bad");
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
        b.ran("V3", true);
        b.ran("V10", false);
        let v3 = b.checks.iter().find(|c| c.id == "V3").unwrap();
        assert_eq!(v3.status, Status::Fail);
        assert_eq!(v3.failures_total, 1);
        let v10 = b.checks.iter().find(|c| c.id == "V10").unwrap();
        assert_eq!(v10.status, Status::Pass);
        // A check that failed stays failed when it is marked as run.
        b.fail("V4", "x", "y");
        b.objects("V4", 3);
        b.ran("V4", true);
        let v4 = b.checks.iter().find(|c| c.id == "V4").unwrap();
        assert_eq!(
            (v4.status, v4.objects, v4.failures_total),
            (Status::Fail, 3, 1)
        );
    }

    #[test]
    fn failures_beyond_the_listing_limit_are_counted() {
        let mut b = Builder::new();
        for i in 0..MAX_LISTED_FAILURES + 3 {
            b.fail("V9", format!("entry {i}"), "dup");
        }
        let v9 = b.checks.iter().find(|c| c.id == "V9").unwrap();
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
