//! Sharded verification: one record verified on many machines.
//!
//! `verify_shard(record, I/N)` runs every check that is cheap and global (V1–V7, V10: the
//! files, the context, the board's chain and the counted set, each a pass that hashes or peeks
//! but verifies no proof) and the costly part, V8 and V11's per-challenge checks, only for the
//! contiguous range of board entries that is shard I's. It writes a *partial* (docs/verifier.md,
//! *Sharded verification*): its checks, its range, the uniqueness keys and challenge entries of
//! its range, and the sums of the counted ballots of its range. `combine_partials` reads the N
//! partials of one record, checks that they are exactly shards 1..N of that record (same index,
//! same board bytes, contiguous ranges covering every entry), merges them, and runs what needs
//! the whole board: V9 and V11's repeats over every key, V12 on the summed tally, and V13–V15.
//! The result is the report a whole run gives (tests/shard.rs compares both on honest and
//! tampered records).
//!
//! Partials travel between machines, so they are read as untrusted input: every length is
//! bounded before anything is allocated, points are decoded canonically, and the keys are
//! streamed from the file, never held whole.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::Path;

use curve25519_dalek::ristretto::CompressedRistretto;
use rand_core::{CryptoRng, RngCore};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha512};

use super::{
    after_ballots, ballots, board, context, decryption, front, report, Builder, Check, CheckId,
    Front, Key, Options, Progress, Report, Status,
};
use crate::ciphertext::Ciphertext;
use crate::election::record::{Record, RecordError};
use crate::tally::TallyAccumulator;

/// The magic bytes that open a partial.
const MAGIC: &[u8; 16] = b"EVOTE-PARTIAL\0\0\0";
/// The partial format's version.
const VERSION: u8 = 1;
/// The largest checks section a partial may declare (its JSON).
const MAX_CHECKS_BYTES: u32 = 64 << 20;
/// The most options a tally has (the largest manifest's).
const MAX_OPTIONS: u32 = 1 << 16;
/// Bytes of one key in a partial: kind, value, entry (big-endian).
const KEY_BYTES: usize = 41;

/// Which part of a record's board one run verifies: shard `index` of `count` (1-based), the
/// entries `⌊E·(index−1)/count⌋ + 1 ..= ⌊E·index/count⌋` of a board of `E` entries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    index: u32,
    count: u32,
}

impl Shard {
    /// Shard `index` of `count`; `None` unless `1 ≤ index ≤ count`.
    pub fn new(index: u32, count: u32) -> Option<Self> {
        (index >= 1 && index <= count).then_some(Self { index, count })
    }

    /// Parses `I/N`.
    pub fn parse(text: &str) -> Option<Self> {
        let (i, n) = text.split_once('/')?;
        Self::new(i.trim().parse().ok()?, n.trim().parse().ok()?)
    }

    /// The shard's index (from 1).
    pub fn index(&self) -> u32 {
        self.index
    }

    /// How many shards there are.
    pub fn count(&self) -> u32 {
        self.count
    }

    /// The entries (first, last) of this shard on a board whose last entry is `last`; an empty
    /// range is `(first, first − 1)`.
    fn range(&self, last: u64) -> (u64, u64) {
        let at = |k: u32| {
            u64::try_from(u128::from(last) * u128::from(k) / u128::from(self.count)).unwrap_or(last)
        };
        (at(self.index - 1) + 1, at(self.index))
    }
}

/// How far a shard's run got: the same for every shard of one record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stage {
    NoContext = 1,
    NoChain = 2,
    Chain = 3,
}

/// One check as a partial carries it.
#[derive(Serialize, Deserialize, PartialEq, Eq, Debug, Clone)]
#[serde(deny_unknown_fields)]
struct CheckRecord {
    id: String,
    status: String,
    objects: u64,
    failures_total: u64,
    failures: Vec<(String, String)>,
}

fn status_name(status: Status) -> &'static str {
    match status {
        Status::Pass => "pass",
        Status::Fail => "fail",
        Status::NotRun => "not-run",
    }
}

/// What a shard found, as read back from its partial file.
pub struct Partial {
    shard: Shard,
    range: (u64, u64),
    stage: Stage,
    /// SHA-512 of the record index (`record.json` as parsed and re-serialized).
    index: [u8; 64],
    /// The board's SHA-512, length, entries and head (zero when the chain did not run).
    board_hash: [u8; 64],
    board_len: u64,
    entries: u64,
    last_number: u64,
    head: [u8; 64],
    ballots: u64,
    tally_ok: bool,
    tally_ballots: u64,
    sums: Vec<Ciphertext>,
    challenges: Vec<u64>,
    checks: Vec<CheckRecord>,
    /// The keys, still in the file: where they start and how many.
    keys: BufReader<File>,
    key_count: u64,
}

impl Partial {
    /// The shard this partial is of.
    pub fn shard(&self) -> Shard {
        self.shard
    }

    /// The board entries it verified (first, last).
    pub fn range(&self) -> (u64, u64) {
        self.range
    }
}

fn record_index_hash(record: &Record) -> [u8; 64] {
    let bytes = serde_json::to_vec(record.index()).unwrap_or_default();
    Sha512::digest(bytes).into()
}

fn bad(reason: impl Into<String>) -> RecordError {
    RecordError::Partial {
        reason: reason.into(),
    }
}

/// Verifies shard `shard` of the record in `dir` and writes its partial to `out` (docs/verifier.md,
/// *Sharded verification*).
///
/// # Errors
/// As [`super::verify_record_with`]; or `out` cannot be written ([`RecordError::Io`]).
pub fn verify_shard<R: RngCore + CryptoRng>(
    dir: &Path,
    shard: Shard,
    out: &Path,
    rng: &mut R,
    progress: Progress<'_>,
    options: &Options,
) -> Result<(), RecordError> {
    let record = Record::open(dir)?;
    let mut b = Builder::new();
    b.objects(CheckId::V1, 1);
    b.ran(CheckId::V1, true);
    let files = context::Files::read(&record, &mut b)?;
    let mut stage = Stage::NoContext;
    let mut range = (1, 0);
    let mut board_state = ([0u8; 64], 0u64, 0u64);
    let mut second = None;
    match front(&record, &files, &mut b, rng, progress, options)? {
        Front::NoContext => board::hash_only(&record, &mut b)?,
        Front::NoChain => stage = Stage::NoChain,
        Front::Chain {
            context,
            chain,
            counted,
        } => {
            stage = Stage::Chain;
            range = shard.range(chain.last_number);
            board_state = (chain.hash, chain.len, chain.last_number);
            second = Some(ballots::second_pass(
                &context,
                chain,
                &counted,
                Some(range),
                &mut b,
                rng,
                progress,
                options,
            )?);
        }
    }
    write_partial(
        out,
        &PartialHeader {
            shard,
            range,
            stage,
            index: record_index_hash(&record),
            board: board_state,
            entries: b.entries,
        },
        &b.checks,
        second,
        options,
    )
}

struct PartialHeader {
    shard: Shard,
    range: (u64, u64),
    stage: Stage,
    index: [u8; 64],
    /// hash, length, last entry number
    board: ([u8; 64], u64, u64),
    entries: u64,
}

/// Layout (little-endian): `MAGIC (16) ‖ version ‖ LE32(index) ‖ LE32(count) ‖ LE64(first) ‖
/// LE64(last) ‖ stage ‖ index hash (64) ‖ board hash (64) ‖ LE64(board length) ‖ LE64(entries)
/// ‖ LE64(last entry number) ‖ head (64) ‖ LE64(ballots) ‖ tally ok (1) ‖ LE64(counted) ‖
/// LE32(options) ‖ options × (α ‖ β) ‖ LE32(challenges) ‖ LE64 each ‖ LE32(len) ‖ checks JSON ‖
/// LE64(keys) ‖ keys × (kind ‖ value (32) ‖ BE64(entry)) ‖ SHA-512 of everything before (64)`,
/// keys in sorted order.
fn write_partial(
    out: &Path,
    header: &PartialHeader,
    checks: &[Check],
    second: Option<ballots::Second>,
    options: &Options,
) -> Result<(), RecordError> {
    let name = out.display().to_string();
    let io = |error| RecordError::Io {
        file: name.clone(),
        error,
    };
    let mut w = BufWriter::new(File::create(out).map_err(io)?);
    let put = |bytes: &[u8], w: &mut BufWriter<File>| w.write_all(bytes);
    let checks: Vec<CheckRecord> = checks
        .iter()
        .map(|c| CheckRecord {
            id: c.id.as_str().to_string(),
            status: status_name(c.status).to_string(),
            objects: c.objects,
            failures_total: c.failures_total,
            failures: c
                .failures
                .iter()
                .map(|f| (f.at.clone(), f.reason.clone()))
                .collect(),
        })
        .collect();
    let json = serde_json::to_vec(&checks).map_err(|e| bad(e.to_string()))?;
    let (head, ballots, tally_ok, sums, challenges, counted) = match &second {
        Some(s) => (
            s.head,
            s.ballots,
            s.tally_ok,
            s.accumulator.sums.clone(),
            s.challenges.clone(),
            s.accumulator.ballots,
        ),
        None => ([0u8; 64], 0, true, Vec::new(), Vec::new(), 0),
    };
    let mut head_bytes = Vec::new();
    head_bytes.extend_from_slice(MAGIC);
    head_bytes.push(VERSION);
    head_bytes.extend_from_slice(&header.shard.index.to_le_bytes());
    head_bytes.extend_from_slice(&header.shard.count.to_le_bytes());
    head_bytes.extend_from_slice(&header.range.0.to_le_bytes());
    head_bytes.extend_from_slice(&header.range.1.to_le_bytes());
    head_bytes.push(header.stage as u8);
    head_bytes.extend_from_slice(&header.index);
    head_bytes.extend_from_slice(&header.board.0);
    head_bytes.extend_from_slice(&header.board.1.to_le_bytes());
    head_bytes.extend_from_slice(&header.entries.to_le_bytes());
    head_bytes.extend_from_slice(&header.board.2.to_le_bytes());
    head_bytes.extend_from_slice(&head);
    head_bytes.extend_from_slice(&ballots.to_le_bytes());
    head_bytes.push(u8::from(tally_ok));
    head_bytes.extend_from_slice(&counted.to_le_bytes());
    head_bytes.extend_from_slice(&(sums.len() as u32).to_le_bytes());
    for ct in &sums {
        head_bytes.extend_from_slice(ct.alpha().compress().as_bytes());
        head_bytes.extend_from_slice(ct.beta().compress().as_bytes());
    }
    head_bytes.extend_from_slice(&(challenges.len() as u32).to_le_bytes());
    for c in &challenges {
        head_bytes.extend_from_slice(&c.to_le_bytes());
    }
    head_bytes.extend_from_slice(&(json.len() as u32).to_le_bytes());
    head_bytes.extend_from_slice(&json);
    put(&head_bytes, &mut w).map_err(io)?;
    // The keys: counted first into a temporary run, so the count can precede them.
    let mut key_count = 0u64;
    let mut spool = tempfile_in(options).map_err(io)?;
    if let Some(second) = second {
        let mut sorted = second
            .uniques
            .into_sorted()
            .map_err(|e| options.environment(e))?;
        let mut sw = BufWriter::new(&mut spool);
        while let Some(key) = sorted.next_key().map_err(|e| options.environment(e))? {
            write_key(&key, &mut sw).map_err(|e| options.environment(e))?;
            key_count += 1;
        }
        sw.flush().map_err(|e| options.environment(e))?;
    }
    put(&key_count.to_le_bytes(), &mut w).map_err(io)?;
    use std::io::Seek;
    spool
        .seek(std::io::SeekFrom::Start(0))
        .map_err(|e| options.environment(e))?;
    let mut digest = Sha512::new();
    digest.update(&head_bytes);
    digest.update(key_count.to_le_bytes());
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = spool.read(&mut buf).map_err(|e| options.environment(e))?;
        let Some(chunk) = buf.get(..n).filter(|c| !c.is_empty()) else {
            break;
        };
        digest.update(chunk);
        put(chunk, &mut w).map_err(io)?;
    }
    // The trailer: SHA-512 of every byte before it, so that a partial damaged in storage or in
    // transit is refused rather than merged.
    put(&digest.finalize(), &mut w).map_err(io)?;
    let file = w.into_inner().map_err(|e| io(e.into_error()))?;
    file.sync_all().map_err(io)?;
    Ok(())
}

fn tempfile_in(options: &Options) -> std::io::Result<File> {
    let dir = options.temp_dir.clone().unwrap_or_else(std::env::temp_dir);
    let path = dir.join(format!(
        ".evote-partial-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0)
    ));
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .open(&path)?;
    // Anonymous from here on: removed when dropped, whatever happens.
    std::fs::remove_file(&path)?;
    Ok(file)
}

fn write_key(key: &Key, w: &mut impl Write) -> std::io::Result<()> {
    w.write_all(&[key.kind])?;
    w.write_all(&key.value)?;
    w.write_all(&key.entry.to_be_bytes())
}

/// A bounded little-endian reader over a partial file.
struct In<'a> {
    r: &'a mut BufReader<File>,
    left: u64,
}

impl In<'_> {
    fn bytes(&mut self, n: usize, what: &str) -> Result<Vec<u8>, RecordError> {
        if (n as u64) > self.left {
            return Err(bad(format!("ends inside {what}")));
        }
        let mut out = vec![0u8; n];
        self.r
            .read_exact(&mut out)
            .map_err(|e| bad(format!("{what}: {e}")))?;
        self.left -= n as u64;
        Ok(out)
    }
    fn array<const N: usize>(&mut self, what: &str) -> Result<[u8; N], RecordError> {
        let v = self.bytes(N, what)?;
        let mut out = [0u8; N];
        out.copy_from_slice(&v);
        Ok(out)
    }
    fn u8(&mut self, what: &str) -> Result<u8, RecordError> {
        Ok(self.array::<1>(what)?[0])
    }
    fn u32(&mut self, what: &str) -> Result<u32, RecordError> {
        Ok(u32::from_le_bytes(self.array(what)?))
    }
    fn u64(&mut self, what: &str) -> Result<u64, RecordError> {
        Ok(u64::from_le_bytes(self.array(what)?))
    }
}

fn point(bytes: &[u8; 32]) -> Result<curve25519_dalek::ristretto::RistrettoPoint, RecordError> {
    CompressedRistretto(*bytes)
        .decompress()
        .ok_or_else(|| bad("a tally sum is not a ristretto255 encoding"))
}

impl Partial {
    /// Reads a partial's header and leaves its keys in the file, to be streamed.
    ///
    /// # Errors
    /// [`RecordError::Partial`] for anything that is not a partial of this format.
    pub fn open(path: &Path) -> Result<Self, RecordError> {
        let name = path.display().to_string();
        let (mut file, len) = crate::election::record::open_regular(path, &name)?;
        // The trailer first: the whole file must hash to it.
        let body = len
            .checked_sub(64)
            .ok_or_else(|| bad(format!("{name} is too short to be a partial")))?;
        let mut digest = Sha512::new();
        let mut buf = vec![0u8; 1 << 16];
        let mut left = body;
        while left > 0 {
            let want = usize::try_from(left.min(buf.len() as u64)).unwrap_or(buf.len());
            let chunk = buf.get_mut(..want).ok_or_else(|| bad("read"))?;
            file.read_exact(chunk)
                .map_err(|e| bad(format!("{name}: {e}")))?;
            digest.update(&*chunk);
            left -= want as u64;
        }
        let mut trailer = [0u8; 64];
        file.read_exact(&mut trailer)
            .map_err(|e| bad(format!("{name}: {e}")))?;
        if trailer != <[u8; 64]>::from(digest.finalize()) {
            return Err(bad(format!(
                "{name} is damaged: its bytes do not hash to its trailer"
            )));
        }
        use std::io::Seek;
        file.seek(std::io::SeekFrom::Start(0))
            .map_err(|e| bad(format!("{name}: {e}")))?;
        let mut reader = BufReader::new(file);
        let mut r = In {
            r: &mut reader,
            left: body,
        };
        if r.bytes(16, "the magic bytes")? != MAGIC || r.u8("the version")? != VERSION {
            return Err(bad(format!("{name} is not a partial of this version")));
        }
        let shard = Shard::new(r.u32("the shard")?, r.u32("the shard count")?)
            .ok_or_else(|| bad("the shard is not 1..=count"))?;
        let range = (r.u64("the range")?, r.u64("the range")?);
        let stage = match r.u8("the stage")? {
            1 => Stage::NoContext,
            2 => Stage::NoChain,
            3 => Stage::Chain,
            _ => return Err(bad("an unknown stage")),
        };
        let index = r.array("the index hash")?;
        let board_hash = r.array("the board hash")?;
        let board_len = r.u64("the board length")?;
        let entries = r.u64("the entries")?;
        let last_number = r.u64("the last entry")?;
        let head = r.array("the head")?;
        let ballots = r.u64("the ballots")?;
        let tally_ok = match r.u8("the tally flag")? {
            0 => false,
            1 => true,
            _ => return Err(bad("the tally flag is not 0 or 1")),
        };
        let tally_ballots = r.u64("the counted ballots")?;
        let options = r.u32("the options")?;
        if options > MAX_OPTIONS {
            return Err(bad("more options than any tally has"));
        }
        let mut sums = Vec::with_capacity(options as usize);
        for _ in 0..options {
            let alpha = point(&r.array("a tally sum")?)?;
            let beta = point(&r.array("a tally sum")?)?;
            sums.push(Ciphertext::from_points(alpha, beta));
        }
        let count = r.u32("the challenges")?;
        if u64::from(count) > entries || u64::from(count) * 8 > r.left {
            return Err(bad("more challenges than entries"));
        }
        let mut challenges = Vec::with_capacity(count as usize);
        for _ in 0..count {
            challenges.push(r.u64("a challenge entry")?);
        }
        let json_len = r.u32("the checks")?;
        if json_len > MAX_CHECKS_BYTES {
            return Err(bad("the checks section is too long"));
        }
        let json = r.bytes(json_len as usize, "the checks")?;
        let checks: Vec<CheckRecord> =
            serde_json::from_slice(&json).map_err(|e| bad(format!("the checks: {e}")))?;
        let ids: Vec<&str> = checks.iter().map(|c| c.id.as_str()).collect();
        let expected: Vec<&str> = CheckId::ALL.iter().map(|c| c.as_str()).collect();
        if ids != expected
            || checks
                .iter()
                .any(|c| !["pass", "fail", "not-run"].contains(&c.status.as_str()))
        {
            return Err(bad("the checks are not V1..V15 with known statuses"));
        }
        let key_count = r.u64("the key count")?;
        if key_count.checked_mul(KEY_BYTES as u64) != Some(r.left) {
            return Err(bad("the keys section's length differs from its count"));
        }
        Ok(Self {
            shard,
            range,
            stage,
            index,
            board_hash,
            board_len,
            entries,
            last_number,
            head,
            ballots,
            tally_ok,
            tally_ballots,
            sums,
            challenges,
            checks,
            keys: reader,
            key_count,
        })
    }

    /// The fields every shard of one record must agree on.
    fn identity(&self) -> impl PartialEq + '_ {
        (
            self.shard.count,
            self.stage,
            &self.index,
            &self.board_hash,
            self.board_len,
            self.entries,
            self.last_number,
            &self.head,
        )
    }
}

/// Adds a shard's record of a check to the report under construction: its objects and every
/// failure (those beyond the listing limit counted).
fn absorb(b: &mut Builder, record: &CheckRecord, id: CheckId, status_too: bool) {
    b.objects(id, record.objects);
    for (at, reason) in &record.failures {
        b.fail(id, at.clone(), reason.clone());
    }
    let unlisted = record
        .failures_total
        .saturating_sub(record.failures.len() as u64);
    if let Some(c) = b.check(id) {
        if unlisted > 0 {
            c.failures_total += unlisted;
            c.status = Status::Fail;
        }
        if status_too && c.status == Status::NotRun {
            c.status = match record.status.as_str() {
                "pass" => Status::Pass,
                "fail" => Status::Fail,
                _ => Status::NotRun,
            };
        }
    }
}

/// Merges the partials of every shard of the record in `dir` into the report a whole run gives
/// (docs/verifier.md, *Sharded verification*). The record's board need not be present: only
/// its small files and `shares.bin` are read.
///
/// # Errors
/// [`RecordError::Partial`] when the partials are not exactly shards 1..N of this record (a
/// shard missing or twice, another record or another board, ranges that do not cover every
/// entry once); otherwise as [`super::verify_record_with`].
pub fn combine_partials<R: RngCore + CryptoRng>(
    dir: &Path,
    mut partials: Vec<Partial>,
    rng: &mut R,
    options: &Options,
) -> Result<Report, RecordError> {
    let record = Record::open(dir)?;
    partials.sort_by_key(|p| p.shard.index);
    let Some(first) = partials.first() else {
        return Err(bad("no partial"));
    };
    let n = first.shard.count;
    if partials.len() as u64 != u64::from(n)
        || partials
            .iter()
            .enumerate()
            .any(|(i, p)| p.shard.index as usize != i + 1)
    {
        return Err(bad(format!(
            "not exactly one partial for each of the {n} shards"
        )));
    }
    if first.index != record_index_hash(&record) {
        return Err(bad(
            "the partials are of another record (record.json differs)",
        ));
    }
    if partials.iter().any(|p| p.identity() != first.identity()) {
        return Err(bad(
            "the partials disagree on the record, the board or how far the checks got",
        ));
    }
    let (stage, entries, last_number, head) =
        (first.stage, first.entries, first.last_number, first.head);
    if stage == Stage::Chain {
        for (i, p) in partials.iter().enumerate() {
            let expected = Shard {
                index: i as u32 + 1,
                count: n,
            }
            .range(last_number);
            if p.range != expected {
                return Err(bad(format!("shard {} covers the wrong entries", i + 1)));
            }
        }
    }
    let first_checks = first.checks.clone();
    let mut b = Builder::new();
    // The global checks: every shard ran them on the same bytes, so they must agree; shard 1's
    // stand for all.
    const GLOBAL: [CheckId; 8] = [
        CheckId::V1,
        CheckId::V2,
        CheckId::V3,
        CheckId::V4,
        CheckId::V5,
        CheckId::V6,
        CheckId::V7,
        CheckId::V10,
    ];
    for (k, id) in CheckId::ALL.iter().enumerate() {
        let Some(one) = first_checks.get(k) else {
            continue;
        };
        if GLOBAL.contains(id) {
            absorb(&mut b, one, *id, *id != CheckId::V2);
            for p in partials.iter().skip(1) {
                if p.checks.get(k) != Some(one) {
                    b.fail(
                        *id,
                        format!("shard {}", p.shard.index),
                        "this shard's result differs from shard 1's: the record changed between the shards' runs",
                    );
                }
            }
        }
    }
    // The combining machine reads its own copy of the small files: the shards' V2 covered
    // theirs, so this copy must hash as record.json says too, or V2 fails naming it (a copy
    // swapped on this machine would otherwise be used under the shards' "pass"). Its object
    // count is not added: the whole run counts each file once.
    let mut here = Builder::new();
    let files = context::Files::read(&record, &mut here)?;
    let already: Vec<String> = b
        .check(CheckId::V2)
        .map(|c| c.failures.iter().map(|f| f.at.clone()).collect())
        .unwrap_or_default();
    if let Some(check) = here.check(CheckId::V2) {
        // A file the shards already found wrong is reported once, as in a whole run.
        for failure in check.failures.iter().filter(|f| !already.contains(&f.at)) {
            b.fail(
                CheckId::V2,
                format!("{} (the combining machine's copy)", failure.at),
                failure.reason.clone(),
            );
        }
    }
    let (ballots, counted) = match stage {
        Stage::NoContext | Stage::NoChain => {
            decryption::hash_only(&record, &mut b)?;
            (if stage == Stage::NoChain { entries } else { 0 }, 0)
        }
        Stage::Chain => {
            let Some(context) = context::check(&record, &files, &mut Builder::new(), rng) else {
                return Err(bad(
                    "the partials reached the board but this record has no context",
                ));
            };
            let mut accumulator = TallyAccumulator::new(
                context.public_key(),
                &crate::election::board::option_bounds(&context),
            );
            let mut uniques = options.sorter();
            let mut challenges = Vec::new();
            let (mut ballots, mut tally_ok) = (0u64, true);
            for p in &mut partials {
                for id in [CheckId::V8, CheckId::V9, CheckId::V11].iter() {
                    if let Some(c) = p.checks.iter().find(|c| c.id == id.as_str()) {
                        absorb(&mut b, c, *id, false);
                    }
                }
                ballots += p.ballots;
                tally_ok &= p.tally_ok;
                challenges.extend(p.challenges.iter().copied());
                let shard = TallyAccumulator {
                    public: *context.public_key(),
                    bounds: accumulator.bounds.clone(),
                    sums: std::mem::take(&mut p.sums),
                    ballots: p.tally_ballots,
                };
                if !accumulator.merge(shard) {
                    return Err(bad(format!(
                        "shard {}'s tally has another number of options",
                        p.shard.index
                    )));
                }
                for _ in 0..p.key_count {
                    let mut raw = [0u8; KEY_BYTES];
                    p.keys
                        .read_exact(&mut raw)
                        .map_err(|e| bad(format!("shard {}'s keys: {e}", p.shard.index)))?;
                    let mut value = [0u8; 32];
                    value.copy_from_slice(&raw[1..33]);
                    let mut entry = [0u8; 8];
                    entry.copy_from_slice(&raw[33..]);
                    uniques
                        .push(Key {
                            kind: raw[0],
                            value,
                            entry: u64::from_be_bytes(entry),
                        })
                        .map_err(|e| options.environment(e))?;
                }
            }
            if b.check(CheckId::V8)
                .is_some_and(|c| c.status == Status::NotRun)
            {
                b.ran(CheckId::V8, false);
            }
            let second = ballots::Second {
                ballots,
                accumulator,
                tally_ok,
                uniques,
                challenges,
                head,
                last_number,
            };
            after_ballots(&record, &context, second, &files, &mut b, rng, options)?
        }
    };
    Ok(report(&record, b, ballots, counted))
}
