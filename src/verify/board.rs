//! V7 and V10: the board's chain (the first of its two passes) and the revoting policy.
//!
//! The board is opened once. Each pass reads it from the start through a hashing reader, so
//! the first pass also gives V2's hash, and the second pass must see the same bytes (hash and
//! length), the same entries and the same head, or V7 fails: one snapshot is verified, never a
//! file that changes underneath the verifier. A pass reads at most one byte more than the file
//! held when it was opened, so a file that keeps growing cannot keep the verifier reading.

use std::fs::File;
use std::io::{BufReader, Read, Take};

use super::{
    check_hash, unusable, Builder, CheckId, EntrySet, Key, Options, Progress, SpillSorter,
    CREDENTIAL,
};
use crate::election::ballot::peek_credential;
use crate::election::board::{BoardReader, Entry};
use crate::election::manifest::RevotePolicy;
use crate::election::record::{files, open_regular, to_hex, HashingReader, Record, RecordError};
use crate::election::ElectionContext;

/// One pass over the board file.
pub(super) type Stream = BufReader<HashingReader<Take<File>>>;

/// A pass over `file` (of `len` bytes when opened) from where its cursor is.
pub(super) fn stream(file: File, len: u64) -> Stream {
    BufReader::with_capacity(
        1 << 16,
        HashingReader::new(file.take(len.saturating_add(1))),
    )
}

/// Ends a pass: reads what is left, and returns the hash and length of everything the pass
/// read, and the file.
pub(super) fn finish(stream: Stream) -> std::io::Result<([u8; 64], u64, File)> {
    // The buffered reader's unread bytes were hashed when they were read from the file.
    let (hash, bytes, take) = stream.into_inner().finish()?;
    Ok((hash, bytes, take.into_inner()))
}

/// What the first pass established, and the open board for the second.
pub(super) struct Chain {
    pub(super) file: File,
    /// The file's length when it was opened.
    pub(super) len: u64,
    /// SHA-512 of the bytes the first pass read.
    pub(super) hash: [u8; 64],
    pub(super) entries: u64,
    pub(super) last_number: u64,
    /// The recomputed head: what the recomputed tally (and so every share) is bound to.
    pub(super) head: [u8; 64],
}

/// Opens `board.bin` (V2 counts it); `None`, with V2 failed, when it is missing.
fn open(record: &Record, b: &mut Builder) -> Result<Option<(File, u64)>, RecordError> {
    b.objects(CheckId::V2, 1);
    match open_regular(&record.path(files::BOARD), files::BOARD) {
        Ok(opened) => Ok(Some(opened)),
        Err(e) if unusable(&e) => Err(e),
        Err(e) => {
            b.fail(
                CheckId::V2,
                files::BOARD,
                format!("missing or unreadable: {e}"),
            );
            Ok(None)
        }
    }
}

/// V2 for the board when no context lets its entries be checked.
pub(super) fn hash_only(record: &Record, b: &mut Builder) -> Result<(), RecordError> {
    if let Some((file, len)) = open(record, b)? {
        match finish(stream(file, len)) {
            Ok((hash, bytes, _)) => {
                check_hash(b, record, files::BOARD, &hash);
                if bytes > len {
                    b.fail(CheckId::V2, files::BOARD, "the file grew while it was read");
                }
            }
            Err(e) => b.fail(CheckId::V2, files::BOARD, format!("unreadable: {e}")),
        }
    }
    Ok(())
}

/// V7, the first pass: the header names this election, entries chain, are numbered in order and
/// end at the recorded head, nothing follows the close; and, for V10, which entries each
/// credential cast (into `by_credential`). `None` when the chain does not hold: the ballots of a
/// broken chain are not checked.
///
/// # Errors
/// Unusable input, or the temporary index failing ([`RecordError::Environment`]).
pub(super) fn chain(
    record: &Record,
    context: &ElectionContext,
    b: &mut Builder,
    progress: Progress<'_>,
    by_credential: &mut SpillSorter,
    options: &Options,
) -> Result<Option<Chain>, RecordError> {
    let Some((file, len)) = open(record, b)? else {
        b.fail(CheckId::V7, files::BOARD, "missing or unreadable");
        return Ok(None);
    };
    progress("chain", 0, 0);
    let mut input = stream(file, len);
    let mut entries = 0u64;
    let mut last_number = 0u64;
    let mut closed_at: Option<u64> = None;
    let mut head = [0u8; 64];
    let mut ok = true;
    match BoardReader::new(&mut input) {
        Err(e) => {
            b.fail(CheckId::V7, files::BOARD, e.to_string());
            ok = false;
        }
        Ok(mut reader) => {
            if reader.election() != context.hash() {
                b.fail(
                    CheckId::V7,
                    files::BOARD,
                    "the board header names another election",
                );
                ok = false;
            }
            loop {
                let (number, after_close) = match reader.next_checked() {
                    Ok(None) => break,
                    Ok(Some(Entry::Ballot { number, bytes, .. })) => {
                        if (entries + 1).is_multiple_of(4096) {
                            // The length is not known before the end of the first pass.
                            progress("chain", entries + 1, entries + 1);
                        }
                        match peek_credential(&bytes) {
                            Some(value) => by_credential
                                .push(Key {
                                    kind: CREDENTIAL,
                                    value,
                                    entry: number,
                                })
                                .map_err(|e| options.environment(e))?,
                            None => b.fail(
                                CheckId::V7,
                                format!("entry {number}"),
                                "not a ballot encoding",
                            ),
                        }
                        (number, "a ballot")
                    }
                    Ok(Some(Entry::Challenge { number, .. })) => (number, "a challenge"),
                    Ok(Some(Entry::Close { number, .. })) => {
                        if closed_at.is_some() {
                            b.fail(CheckId::V7, format!("entry {number}"), "a second close");
                            ok = false;
                        }
                        closed_at = closed_at.or(Some(number));
                        (number, "")
                    }
                    Err(e) => {
                        b.fail(CheckId::V7, files::BOARD, e.to_string());
                        ok = false;
                        break;
                    }
                };
                entries += 1;
                last_number = last_number.max(number);
                if let Some(c) = closed_at.filter(|_| !after_close.is_empty()) {
                    b.fail(
                        CheckId::V7,
                        format!("entry {number}"),
                        format!("{after_close} after the close at entry {c}"),
                    );
                    ok = false;
                }
            }
            head = *reader.head();
        }
    }
    b.entries = entries;
    let file = match finish(input) {
        Ok((hash, bytes, file)) => {
            check_hash(b, record, files::BOARD, &hash);
            if bytes > len {
                b.fail(
                    CheckId::V7,
                    files::BOARD,
                    "the file grew while it was read: not one snapshot",
                );
                ok = false;
            }
            Some((file, hash))
        }
        Err(e) => {
            b.fail(CheckId::V2, files::BOARD, format!("unreadable: {e}"));
            b.fail(CheckId::V7, files::BOARD, format!("unreadable: {e}"));
            ok = false;
            None
        }
    };
    b.objects(CheckId::V7, entries.max(1));
    if ok && to_hex(&head) != record.index().board_head {
        b.fail(
            CheckId::V7,
            files::INDEX,
            "board_head differs from the board's recomputed head",
        );
        ok = false;
    }
    if closed_at.is_none() {
        b.fail(CheckId::V7, files::BOARD, "the board was never closed");
    }
    b.ran(CheckId::V7, true);
    Ok(match file {
        Some((file, hash)) if ok => Some(Chain {
            file,
            len,
            hash,
            entries,
            last_number,
            head,
        }),
        _ => None,
    })
}

/// V10: the revoting policy, and the counted set (each credential's last entry), one bit per
/// board entry.
///
/// # Errors
/// The temporary index failing ([`RecordError::Environment`]).
pub(super) fn revoting(
    by_credential: SpillSorter,
    context: &ElectionContext,
    chain: &Chain,
    b: &mut Builder,
    options: &Options,
) -> Result<EntrySet, RecordError> {
    let mut counted = EntrySet::new(chain.last_number);
    let refused = context.manifest().revoting == RevotePolicy::Refused;
    let mut finish = |b: &mut Builder, (key, n): (Key, u64)| {
        b.objects(CheckId::V10, 1);
        counted.insert(key.entry);
        if refused && n > 1 {
            b.fail(
                CheckId::V10,
                format!("credential {}", to_hex(key.value.get(..8).unwrap_or(&[]))),
                format!("{n} ballots although revoting is refused"),
            );
        }
    };
    let environment = |e| options.environment(e);
    let mut sorted = by_credential.into_sorted().map_err(environment)?;
    let mut current: Option<(Key, u64)> = None; // (latest key, ballots so far)
    while let Some(key) = sorted.next_key().map_err(environment)? {
        current = match current {
            Some((prev, n)) if prev.value == key.value => Some((key, n + 1)),
            Some(done) => {
                finish(b, done);
                Some((key, 1))
            }
            None => Some((key, 1)),
        };
    }
    if let Some(done) = current {
        finish(b, done);
    }
    b.ran(CheckId::V10, false);
    Ok(counted)
}
