//! Record tampering at scale: a valid record is mutated systematically — every field of every
//! JSON object, bytes of every binary object, board entries dropped, duplicated, reordered and
//! cut, files truncated, extended, removed or swapped with another election's — and the verifier
//! must reject every single case and name a check (or, for an unusable `record.json`, refuse the
//! record with an error).
//!
//! Board edits are re-chained and every file hash is recomputed, as a forger controlling the
//! server would do, so the chain and the index hashes alone never catch a case.
//!
//! Binary objects are sampled (a stride over each file plus every byte of its header); set
//! `EVOTE_TAMPER=full` to flip one bit in every byte of every file instead, or
//! `EVOTE_TAMPER=quick` for a tenth of the byte positions (used by mutation testing, which runs
//! the suite once per mutant).

mod common;
use common::{board_ballots, build, build_seeded, copy_dir, rechain, rehash};

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use evote::election::record::files;
use evote::election::{verify_extension, Record, RevotePolicy};
use evote::verify::verify_record;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use rayon::prelude::*;
use serde_json::Value;

/// An edit of the list of ballot encodings on a board.
type BoardEdit = Box<dyn Fn(&mut Vec<Vec<u8>>) + Send + Sync>;

/// Per mutation kind: cases, and how many each combination of failing checks rejected.
type Tally = BTreeMap<&'static str, (usize, BTreeMap<String, usize>)>;

/// One mutation of a record directory.
enum Mutation {
    /// Replace a file's bytes (file hashes recomputed unless it is record.json).
    Write(&'static str, Vec<u8>),
    /// Delete a file.
    Remove(&'static str),
    /// Edit the list of ballot encodings on the board, then re-chain.
    Board(BoardEdit),
}

struct Case {
    kind: &'static str,
    name: String,
    mutation: Mutation,
}

fn case(kind: &'static str, name: impl Into<String>, mutation: Mutation) -> Case {
    Case {
        kind,
        name: name.into(),
        mutation,
    }
}

/// Every JSON path of `value`, and for each the documents obtained by changing it.
fn json_mutations(value: &Value) -> Vec<(String, Value)> {
    fn walk(root: &Value, path: &mut Vec<PathStep>, here: &Value, out: &mut Vec<(String, Value)>) {
        fn emit(
            root: &Value,
            path: &[PathStep],
            label: &str,
            replacement: Option<Value>,
            out: &mut Vec<(String, Value)>,
        ) {
            let mut doc = root.clone();
            set(&mut doc, path, replacement);
            out.push((format!("{}: {label}", show(path)), doc));
        }
        let mut changes: Vec<(&str, Option<Value>)> = Vec::new();
        let mut with = |label: &'static str, replacement: Option<Value>| {
            changes.push((label, replacement));
        };
        match here {
            Value::Number(n) => {
                let n = n.as_u64().unwrap_or(0);
                with("+1", Some(Value::from(n + 1)));
                if n > 0 {
                    with("-1", Some(Value::from(n - 1)));
                }
                with("as string", Some(Value::from(n.to_string())));
            }
            Value::String(s) => {
                with("appended", Some(Value::from(format!("{s}0"))));
                with("emptied", Some(Value::from("")));
                if !s.is_empty() {
                    let mut flipped = s.clone().into_bytes();
                    flipped[0] = if flipped[0] == b'a' { b'b' } else { b'a' };
                    with(
                        "first char",
                        Some(Value::from(String::from_utf8(flipped).unwrap())),
                    );
                    with("uppercased", Some(Value::from(s.to_uppercase())));
                }
            }
            Value::Bool(b) => with("negated", Some(Value::from(!b))),
            Value::Null => with("filled", Some(Value::from(0))),
            Value::Array(items) => {
                if !items.is_empty() {
                    let mut fewer = items.clone();
                    fewer.pop();
                    with("last removed", Some(Value::from(fewer)));
                    let mut more = items.clone();
                    more.push(items[0].clone());
                    with("first repeated", Some(Value::from(more)));
                }
                if items.len() >= 2 && items[0] != items[items.len() - 1] {
                    let mut reversed = items.clone();
                    reversed.reverse();
                    with("reversed", Some(Value::from(reversed)));
                }
            }
            Value::Object(map) => {
                let mut extra = map.clone();
                extra.insert("unexpected".into(), Value::from(1));
                with("unknown field added", Some(Value::Object(extra)));
            }
        }
        for (label, replacement) in changes {
            emit(root, path, label, replacement, out);
        }
        match here {
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    path.push(PathStep::Index(i));
                    walk(root, path, item, out);
                    path.pop();
                }
            }
            Value::Object(map) => {
                for (key, item) in map {
                    path.push(PathStep::Key(key.clone()));
                    walk(root, path, item, out);
                    emit(root, path, "removed", None, out);
                    path.pop();
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(value, &mut Vec::new(), value, &mut out);
    out
}

#[derive(Clone)]
enum PathStep {
    Key(String),
    Index(usize),
}

fn show(path: &[PathStep]) -> String {
    let mut s = String::from("$");
    for step in path {
        match step {
            PathStep::Key(k) => s.push_str(&format!(".{k}")),
            PathStep::Index(i) => s.push_str(&format!("[{i}]")),
        }
    }
    s
}

/// Sets (or, with `None`, removes) the value at `path`.
fn set(doc: &mut Value, path: &[PathStep], replacement: Option<Value>) {
    let Some((last, parents)) = path.split_last() else {
        if let Some(r) = replacement {
            *doc = r;
        }
        return;
    };
    let mut here = doc;
    for step in parents {
        here = match step {
            PathStep::Key(k) => &mut here[k.as_str()],
            PathStep::Index(i) => &mut here[*i],
        };
    }
    match (last, replacement) {
        (PathStep::Key(k), Some(r)) => here[k.as_str()] = r,
        (PathStep::Key(k), None) => {
            here.as_object_mut().unwrap().remove(k);
        }
        (PathStep::Index(i), Some(r)) => here[*i] = r,
        (PathStep::Index(i), None) => {
            here.as_array_mut().unwrap().remove(*i);
        }
    }
}

/// How densely binary files are sampled.
#[derive(Clone, Copy, PartialEq)]
enum Sampling {
    Quick,
    Default,
    Full,
}

/// Byte positions to flip in a file of `len` bytes.
fn positions(len: usize, sampling: Sampling) -> Vec<usize> {
    let per_file = match sampling {
        Sampling::Full => return (0..len).collect(),
        Sampling::Default => 160,
        Sampling::Quick => 16,
    };
    let stride = (len / per_file).max(1) | 1; // odd: walks across 32-byte field boundaries
    let header = if sampling == Sampling::Quick { 8 } else { 48 };
    let mut p: Vec<usize> = (0..len.min(header))
        .chain((0..len).step_by(stride))
        .collect();
    p.extend(len.saturating_sub(8)..len);
    p.sort_unstable();
    p.dedup();
    p
}

fn cases(good: &Path, other: &Path, sampling: Sampling) -> Vec<Case> {
    let mut cases = Vec::new();
    let binaries = [
        files::CEREMONY,
        files::CREDENTIALS,
        files::TALLY,
        files::SHARES,
        files::BOARD,
    ];
    let jsons = [files::MANIFEST, files::RESULTS, files::INDEX];
    // JSON: every field changed, removed, retyped; unknown fields; arrays cut and extended.
    for name in jsons {
        let doc: Value =
            serde_json::from_str(&std::fs::read_to_string(good.join(name)).unwrap()).unwrap();
        let every = if sampling == Sampling::Quick { 3 } else { 1 };
        for (what, mutated) in json_mutations(&doc).into_iter().step_by(every) {
            let text = serde_json::to_string_pretty(&mutated).unwrap();
            cases.push(case(
                "json field",
                format!("{name} {what}"),
                Mutation::Write(name, text.into()),
            ));
        }
    }
    // Binary objects: one bit flipped (the board raw, so the chain must catch it).
    for name in binaries {
        let bytes = std::fs::read(good.join(name)).unwrap();
        for at in positions(bytes.len(), sampling) {
            let mut b = bytes.clone();
            b[at] ^= 1 << (at % 8);
            cases.push(case(
                "bit flip",
                format!("{name} byte {at}"),
                Mutation::Write(name, b),
            ));
        }
    }
    // Ballots altered on a re-chained board: every field of the first (superseded) ballot and of
    // the last (counted) one.
    let ballots = board_ballots(good);
    let n = ballots.len();
    for which in [0, n - 1] {
        for at in positions(ballots[which].len(), sampling) {
            cases.push(case(
                "ballot bit flip, re-chained",
                format!("ballot {which} byte {at}"),
                Mutation::Board(Box::new(move |b| b[which][at] ^= 1 << (at % 8))),
            ));
        }
    }
    // Entries dropped, duplicated, swapped, cut; ballots from another election inserted.
    for i in 0..n {
        cases.push(case(
            "entry dropped",
            format!("ballot {i}"),
            Mutation::Board(Box::new(move |b| {
                b.remove(i);
            })),
        ));
        cases.push(case(
            "entry duplicated",
            format!("ballot {i}"),
            Mutation::Board(Box::new(move |b| {
                let copy = b[i].clone();
                b.insert(i + 1, copy);
            })),
        ));
        cases.push(case(
            "entries cut",
            format!("after {i}"),
            Mutation::Board(Box::new(move |b| {
                b.truncate(i);
            })),
        ));
    }
    for i in 0..n - 1 {
        cases.push(case(
            "entries reordered",
            format!("{i} <-> {}", i + 1),
            Mutation::Board(Box::new(move |b| {
                b.swap(i, i + 1);
            })),
        ));
    }
    cases.push(case(
        "entries reordered",
        "reversed",
        Mutation::Board(Box::new(|b| b.reverse())),
    ));
    let foreign = board_ballots(other);
    for (i, f) in foreign.iter().enumerate().take(3) {
        let f = f.clone();
        cases.push(case(
            "foreign ballot inserted",
            format!("other election's ballot {i}"),
            Mutation::Board(Box::new(move |b| {
                b.push(f.clone());
            })),
        ));
    }
    // Files truncated, extended, removed, replaced by another election's.
    for name in binaries.iter().chain(&jsons) {
        let bytes = std::fs::read(good.join(name)).unwrap();
        for cut in [0, 1, bytes.len() / 2, bytes.len() - 1] {
            cases.push(case(
                "file truncated",
                format!("{name} to {cut} bytes"),
                Mutation::Write(name, bytes[..cut].to_vec()),
            ));
        }
        let mut longer = bytes.clone();
        longer.extend_from_slice(&[0u8; 32]);
        cases.push(case(
            "file extended",
            format!("{name} + 32 zero bytes"),
            Mutation::Write(name, longer),
        ));
        cases.push(case(
            "file removed",
            name.to_string(),
            Mutation::Remove(name),
        ));
        let swapped = std::fs::read(other.join(name)).unwrap();
        if swapped != bytes {
            cases.push(case(
                "file from another election",
                name.to_string(),
                Mutation::Write(name, swapped),
            ));
        }
    }
    cases
}

fn quiet(_: &str, _: u64, _: u64) {}

/// The trackers of a record's challenged ballots: its board's challenge entries.
fn challenged_trackers(dir: &Path) -> Vec<[u8; 64]> {
    let Ok(mut reader) = Record::open(dir).and_then(|r| r.board()) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    while let Ok(Some(entry)) = reader.next_checked() {
        if let evote::election::board::Entry::Challenge { bytes, .. } = entry {
            if let Ok(c) = evote::election::ChallengedBallot::from_bytes(&bytes) {
                out.push(c.tracker());
            }
        }
    }
    out
}

/// Whether the evidence voters hold catches a forged record that verifies: the board head
/// published at the close is no longer a head of the board (`verify-extension` fails), or a
/// voter's challenged ballot is missing.
fn receipts_catch(dir: &Path, head: &str, challenged: &[[u8; 64]]) -> bool {
    let mut old = [0u8; 64];
    for (o, pair) in old.iter_mut().zip(head.as_bytes().chunks(2)) {
        *o = u8::from_str_radix(std::str::from_utf8(pair).unwrap(), 16).unwrap();
    }
    let extension_fails = verify_extension(&old, &dir.join(files::BOARD)).is_err();
    let now = challenged_trackers(dir);
    extension_fails || challenged.iter().any(|t| !now.contains(t))
}

/// Applies `case` to a copy of `good` in `dir` and verifies it: `Ok(check ids that failed)` or
/// `Err(message)` for a record refused as unusable.
fn run(good: &Path, dir: &Path, case: &Case) -> Result<Vec<&'static str>, String> {
    copy_dir(good, dir);
    match &case.mutation {
        Mutation::Write(name, bytes) => {
            std::fs::write(dir.join(name), bytes).unwrap();
            if *name != files::INDEX {
                rehash(dir);
            }
        }
        Mutation::Remove(name) => {
            std::fs::remove_file(dir.join(name)).unwrap();
            if *name != files::INDEX {
                rehash(dir);
            }
        }
        Mutation::Board(edit) => rechain(dir, edit.as_ref()),
    }
    let report = verify_record(dir, &mut ChaCha20Rng::seed_from_u64(1), &quiet)
        .map_err(|e| e.to_string())?;
    Ok(report
        .failed()
        .filter(|c| c.failures_total > 0)
        .map(|c| c.id.as_str())
        .collect())
}

#[test]
fn every_tampering_of_a_record_is_rejected_and_named() {
    let (good, _, _) = build("tamper-good", RevotePolicy::LastCounts);
    let (other, _, _) = build_seeded("tamper-other", RevotePolicy::LastCounts, 43);
    let sampling = match std::env::var("EVOTE_TAMPER").as_deref() {
        Ok("full") => Sampling::Full,
        Ok("quick") => Sampling::Quick,
        _ => Sampling::Default,
    };
    let cases = cases(&good, &other, sampling);
    let work = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("tamper");
    let _ = std::fs::remove_dir_all(&work);
    // The untouched copy passes, so every rejection below is the mutation's doing.
    copy_dir(&good, &work.join("control"));
    let control = verify_record(
        &work.join("control"),
        &mut ChaCha20Rng::seed_from_u64(1),
        &quiet,
    );
    assert!(control.unwrap().passed());

    let good_head = Record::open(&good).unwrap().index().board_head.clone();
    let challenged_trackers = challenged_trackers(&good);
    assert!(!challenged_trackers.is_empty());
    let passed = Mutex::new(Vec::new());
    let tally: Mutex<Tally> = Mutex::new(BTreeMap::new());
    cases.par_iter().enumerate().for_each(|(i, c)| {
        let dir = work.join(format!("case-{i}"));
        let verdict = run(&good, &dir, c);

        let named = match &verdict {
            // What the record alone cannot show (the order of independent ballots, a
            // superseded or challenged ballot withheld), the evidence voters hold does: the head
            // published at the close is no longer on the board, or a challenged tracker is gone.
            Ok(failed)
                if failed.is_empty() && receipts_catch(&dir, &good_head, &challenged_trackers) =>
            {
                "receipt".to_string()
            }
            Ok(failed) if failed.is_empty() => {
                passed
                    .lock()
                    .unwrap()
                    .push(format!("{}: {}", c.kind, c.name));
                return;
            }
            Ok(failed) => failed.join("+"),
            Err(_) => "unusable".to_string(),
        };
        let _ = std::fs::remove_dir_all(&dir);
        let mut t = tally.lock().unwrap();
        let entry = t.entry(c.kind).or_default();
        entry.0 += 1;
        *entry.1.entry(named).or_default() += 1;
    });
    let passed = passed.into_inner().unwrap();
    let tally = tally.into_inner().unwrap();
    let total: usize = tally.values().map(|(n, _)| n).sum();
    eprintln!(
        "{} mutation kinds, {} cases, {} passed",
        tally.len(),
        cases.len(),
        passed.len()
    );
    for (kind, (n, by)) in &tally {
        let mut by: Vec<_> = by.iter().collect();
        by.sort_by(|a, b| b.1.cmp(a.1));
        let top: Vec<String> = by
            .iter()
            .take(4)
            .map(|(k, v)| format!("{k} ×{v}"))
            .collect();
        eprintln!("  {kind:<28} {n:>5} rejected   {}", top.join(", "));
    }
    assert!(
        passed.is_empty(),
        "{} mutations passed verification:\n{}",
        passed.len(),
        passed.join("\n")
    );
    assert_eq!(total, cases.len());
    assert!(tally.len() >= 12, "mutation kinds: {}", tally.len());
}
