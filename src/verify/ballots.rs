//! V8, V9, V11 and V12: every ballot and challenge (the board's second pass), uniqueness, and
//! the tally of the counted ballots.
//!
//! Ballots are decoded and verified in batches of [`BATCH`] (one multiscalar multiplication
//! each, a failing batch bisected down to its ballots), batches spread over all cores. At most
//! [`PENDING`] entries or [`PENDING_BYTES`] bytes are held at once, whatever the manifest.

use std::io::{Seek, SeekFrom};

use rand_chacha::ChaCha20Rng;
use rand_core::{CryptoRng, RngCore, SeedableRng};
use rayon::prelude::*;

use super::board::{finish, stream, Chain};
use super::context::PartRef;
use super::{
    prefix32, Builder, CheckId, EntrySet, Key, Options, Progress, BALLOT_ID, BATCH, CIPHERTEXT,
    TRACKER,
};
use crate::election::ballot::{
    tracker_of, Ballot, BallotError, ChallengedBallot, VerifiedBallot, CAST_TAIL, CHALLENGE_TAIL,
};
use crate::election::board::{option_bounds, BoardReader, Entry};
use crate::election::record::{files, RecordError};
use crate::election::ElectionContext;
use crate::tally::{BoardBinding, EncryptedTally, TallyAccumulator};

/// Entries held before a round of batches is verified.
pub const PENDING: usize = BATCH * 4;

/// Ballot bytes held before a round of batches is verified (a manifest allows ballots of up to
/// 64 MiB; a round never holds more than this many bytes of them, plus one ballot).
pub const PENDING_BYTES: usize = 32 << 20;

/// One board entry after decoding and verification: its number, its tracker and the ballot (or
/// why it was refused).
type Judged = (u64, [u8; 64], Result<VerifiedBallot, BallotError>);

/// What the second pass gives the decryption checks.
pub(super) struct Tallied {
    /// Ballots on the board.
    pub(super) ballots: u64,
    /// The tally recomputed from the counted ballots.
    pub(super) tally: EncryptedTally,
}

/// What the second pass over a range of entries leaves for [`conclude`]: the ballots it saw,
/// the sums of the counted ones, the uniqueness keys and the challenge entries. A whole run
/// concludes from one; a sharded run concludes from the merge of every shard's.
pub(super) struct Second {
    /// Cast-ballot entries examined.
    pub(super) ballots: u64,
    /// The counted ballots' sums.
    pub(super) accumulator: TallyAccumulator,
    /// No counted ballot failed to fit the tally's options.
    pub(super) tally_ok: bool,
    /// Every tracker, scoped ballot id and ciphertext key of the examined entries.
    pub(super) uniques: super::SpillSorter,
    /// The challenge entries examined.
    pub(super) challenges: Vec<u64>,
    /// The board's head (the first pass's) and its last entry number.
    pub(super) head: [u8; 64],
    pub(super) last_number: u64,
}

/// The second pass over the entries numbered `range` (all of them when `None`): V8 (every
/// ballot), V11 for every challenge on its own, the keys of V9 and V11's uniqueness, the sums of
/// the counted ballots, and V7's snapshot rule (the same bytes, entries and head as the first
/// pass; checked over the whole file whatever the range).
///
/// # Errors
/// The temporary index failing ([`RecordError::Environment`]).
#[allow(clippy::too_many_arguments)]
pub(super) fn second_pass<R: RngCore + CryptoRng>(
    context: &ElectionContext,
    chain: Chain,
    counted_entries: &EntrySet,
    range: Option<(u64, u64)>,
    b: &mut Builder,
    rng: &mut R,
    progress: Progress<'_>,
    options: &Options,
) -> Result<Second, RecordError> {
    let environment = |e| options.environment(e);
    let bounds = option_bounds(context);
    let ballot_len = context.manifest().ballot_len();
    let mut accumulator = TallyAccumulator::new(context.public_key(), &bounds);
    let mut uniques = options.sorter();
    let mut ballots_seen = 0u64;
    let mut tally_ok = true;
    let mut challenges = Vec::new();
    let wanted = |number: u64| range.is_none_or(|(lo, hi)| (lo..=hi).contains(&number));
    let last_number = chain.last_number;
    let Chain {
        mut file,
        len,
        hash: first_hash,
        entries: first_entries,
        head: first_head,
        ..
    } = chain;
    let mut snapshot_error: Option<String> = None;
    if let Err(e) = file.seek(SeekFrom::Start(0)) {
        snapshot_error = Some(format!("cannot read it again: {e}"));
    }
    progress("proofs", 0, first_entries);
    let mut input = stream(file, len);
    let mut entries = 0u64;
    let mut head = [0u8; 64];
    match BoardReader::new(&mut input) {
        Err(e) => snapshot_error = snapshot_error.or(Some(e.to_string())),
        Ok(mut reader) => {
            let mut pending: Vec<(u64, Vec<u8>)> = Vec::with_capacity(PENDING);
            let mut pending_bytes = 0usize;
            let mut done = false;
            while !done {
                match reader.next_checked() {
                    Ok(Some(Entry::Ballot { number, .. })) if !wanted(number) => entries += 1,
                    Ok(Some(Entry::Challenge { number, .. })) if !wanted(number) => entries += 1,
                    Ok(Some(Entry::Ballot { number, bytes, .. })) => {
                        entries += 1;
                        if bytes.len() as u64 == ballot_len {
                            pending_bytes += bytes.len();
                            pending.push((number, bytes));
                        } else {
                            // Refused before it is decoded or held: no ballot of this election
                            // has that length.
                            ballots_seen += 1;
                            b.objects(CheckId::V8, 1);
                            b.objects(CheckId::V9, 1);
                            uniques
                                .push(Key {
                                    kind: TRACKER,
                                    value: prefix32(&tracker_of(&bytes, CAST_TAIL)),
                                    entry: number,
                                })
                                .map_err(environment)?;
                            b.fail(
                                CheckId::V8,
                                format!("entry {number}"),
                                format!(
                                    "a ballot of {} bytes; this election's ballots are {ballot_len}",
                                    bytes.len()
                                ),
                            );
                        }
                    }
                    Ok(Some(Entry::Challenge { number, bytes, .. })) => {
                        entries += 1;
                        challenges.push(number);
                        challenge(context, number, &bytes, &mut uniques, b, rng)
                            .map_err(environment)?;
                    }
                    Ok(Some(Entry::Close { .. })) => entries += 1,
                    Ok(None) => done = true,
                    Err(e) => {
                        snapshot_error = Some(e.to_string());
                        done = true;
                    }
                }
                if pending.len() == PENDING
                    || pending_bytes >= PENDING_BYTES
                    || (done && !pending.is_empty())
                {
                    let counted_batch =
                        verify_round(context, &pending, counted_entries, &mut uniques, b, rng)
                            .map_err(environment)?;
                    ballots_seen += pending.len() as u64;
                    // Counted ballots go into the tally: V8 has just verified them.
                    for ballot in &counted_batch {
                        if !accumulator.add(ballot) {
                            tally_ok = false;
                        }
                    }
                    progress("proofs", ballots_seen, first_entries);
                    pending.clear();
                    pending_bytes = 0;
                }
            }
            head = *reader.head();
        }
    }
    // V7's snapshot rule: the second pass saw exactly what the first did.
    match finish(input) {
        Err(e) => snapshot_error = snapshot_error.or(Some(format!("unreadable: {e}"))),
        Ok((hash, bytes, _)) => {
            if hash != first_hash || bytes > len {
                snapshot_error = snapshot_error.or(Some("different bytes".into()));
            } else if entries != first_entries || head != first_head {
                snapshot_error = snapshot_error.or(Some("different entries".into()));
            }
        }
    }
    if let Some(what) = snapshot_error {
        b.fail(
            CheckId::V7,
            files::BOARD,
            format!("the board changed while it was verified (second pass: {what}); verify a copy that nothing writes to"),
        );
    }
    b.ran(CheckId::V8, false);
    Ok(Second {
        ballots: ballots_seen,
        accumulator,
        tally_ok,
        uniques,
        challenges,
        head: first_head,
        last_number,
    })
}

/// After the second pass (or the merge of every shard's): V9 and V11's repeats, and V12, the
/// tally of the counted ballots against `tally.bin`.
///
/// # Errors
/// The temporary index failing ([`RecordError::Environment`]).
pub(super) fn conclude(
    context: &ElectionContext,
    second: Second,
    tally_bytes: PartRef<'_>,
    b: &mut Builder,
    options: &Options,
) -> Result<Tallied, RecordError> {
    let environment = |e| options.environment(e);
    let Second {
        ballots: ballots_seen,
        accumulator,
        tally_ok,
        uniques,
        challenges,
        head: first_head,
        last_number,
    } = second;
    // The challenge entries, one bit per entry: V9's repeats involving one are V11's.
    let mut challenge_entries = EntrySet::new(last_number);
    for number in challenges {
        challenge_entries.insert(number);
    }
    repeats(uniques, &challenge_entries, b).map_err(environment)?;
    b.ran(CheckId::V9, false);
    b.ran(CheckId::V11, false);

    // V12: the tally.
    let tally = accumulator.finish(BoardBinding {
        election: *context.hash(),
        board_head: first_head,
    });
    b.objects(CheckId::V12, 1);
    if !tally_ok {
        b.fail(
            CheckId::V12,
            "counted ballots",
            "a counted ballot does not fit the tally's options",
        );
    }
    match tally_bytes {
        Ok(bytes) if *bytes == tally.to_bytes() => {}
        Ok(_) => b.fail(
            CheckId::V12,
            files::TALLY,
            "differs from the tally recomputed from the counted ballots",
        ),
        Err(e) => b.fail(CheckId::V12, files::TALLY, e.clone()),
    }
    b.ran(CheckId::V12, true);
    Ok(Tallied {
        ballots: ballots_seen,
        tally,
    })
}

/// V11 for one challenge entry (rare: a voter's audit, checked on its own), and its index keys.
fn challenge<R: RngCore + CryptoRng>(
    context: &ElectionContext,
    number: u64,
    bytes: &[u8],
    uniques: &mut super::SpillSorter,
    b: &mut Builder,
    rng: &mut R,
) -> std::io::Result<()> {
    b.objects(CheckId::V11, 1);
    uniques.push(Key {
        kind: TRACKER,
        value: prefix32(&tracker_of(bytes, CHALLENGE_TAIL)),
        entry: number,
    })?;
    let mut r = ChaCha20Rng::from_seed({
        let mut s = [0u8; 32];
        rng.fill_bytes(&mut s);
        s
    });
    let at = format!("entry {number}");
    match ChallengedBallot::from_bytes(bytes) {
        Err(e) => b.fail(CheckId::V11, at, e.to_string()),
        Ok(challenged) => {
            uniques.push(Key {
                kind: BALLOT_ID,
                value: challenged.body().scoped_id(),
                entry: number,
            })?;
            for alpha in challenged.body().alpha_keys() {
                uniques.push(Key {
                    kind: CIPHERTEXT,
                    value: prefix32(&alpha),
                    entry: number,
                })?;
            }
            if let Err(e) = challenged.verify(context, &mut r) {
                b.fail(CheckId::V11, at, e.to_string());
            }
        }
    }
    Ok(())
}

/// V8 for one round of ballots, in parallel batches; their index keys; the counted ones.
fn verify_round<R: RngCore + CryptoRng>(
    context: &ElectionContext,
    pending: &[(u64, Vec<u8>)],
    counted_entries: &EntrySet,
    uniques: &mut super::SpillSorter,
    b: &mut Builder,
    rng: &mut R,
) -> std::io::Result<Vec<VerifiedBallot>> {
    let seeds: Vec<[u8; 32]> = (0..pending.len().div_ceil(BATCH))
        .map(|_| {
            let mut s = [0u8; 32];
            rng.fill_bytes(&mut s);
            s
        })
        .collect();
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
            let verified = Ballot::verify_batch(decoded, context, &mut chunk_rng);
            for (slot, verdict) in slots.into_iter().zip(verified) {
                if let Some(entry) = out.get_mut(slot) {
                    entry.2 = verdict;
                }
            }
            out
        })
        .collect();
    let mut counted = Vec::new();
    for (number, tracker, verdict) in verdicts.into_iter().flatten() {
        b.objects(CheckId::V8, 1);
        b.objects(CheckId::V9, 1);
        uniques.push(Key {
            kind: TRACKER,
            value: prefix32(&tracker),
            entry: number,
        })?;
        match verdict {
            Err(e) => b.fail(CheckId::V8, format!("entry {number}"), e.to_string()),
            Ok(verified) => {
                let ballot = verified.ballot();
                uniques.push(Key {
                    kind: BALLOT_ID,
                    value: ballot.scoped_id(),
                    entry: number,
                })?;
                for alpha in ballot.body().alpha_keys() {
                    uniques.push(Key {
                        kind: CIPHERTEXT,
                        value: prefix32(&alpha),
                        entry: number,
                    })?;
                }
                if counted_entries.contains(number) {
                    counted.push(verified);
                }
            }
        }
    }
    Ok(counted)
}

/// V9 (and V11's "not cast"): every repeated tracker, ballot id and ciphertext.
fn repeats(
    uniques: super::SpillSorter,
    challenge_entries: &EntrySet,
    b: &mut Builder,
) -> std::io::Result<()> {
    let mut sorted = uniques.into_sorted()?;
    // (kind, value, first board entry holding it)
    let mut current: Option<(u8, [u8; 32], Option<u64>)> = None;
    while let Some(key) = sorted.next_key()? {
        let first = match current {
            Some((kind, value, first)) if kind == key.kind && value == key.value => first,
            _ => None,
        };
        let first = match first {
            None => Some(key.entry),
            // A ciphertext repeated inside one ballot (a device that reused a nonce) leaks that
            // voter's choices but replays nothing: V9 looks for replays between entries only.
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
                        CheckId::V11,
                        at,
                        format!("a challenged ballot with the {what} of entry {first}"),
                    );
                } else if challenge_entries.contains(first) {
                    b.fail(
                        CheckId::V11,
                        at,
                        format!("a cast ballot with the {what} of challenged entry {first}"),
                    );
                } else {
                    let why = match key.kind {
                        TRACKER => format!("same tracker as entry {first}"),
                        BALLOT_ID => format!("same ballot id as entry {first}"),
                        _ => format!("reuses a ciphertext of entry {first}"),
                    };
                    b.fail(CheckId::V9, at, why);
                }
                Some(first)
            }
        };
        current = Some((key.kind, key.value, first));
    }
    Ok(())
}
