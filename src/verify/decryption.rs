//! V13–V15: the decryption shares, their combination, and the results.
//!
//! `shares.bin` is read once, frame by frame, through a hashing reader (V2): at most one share
//! per guardian of the ceremony, each of exactly the tally's share length, so neither a long
//! stream nor a long frame is held in memory.

use std::collections::BTreeSet;
use std::io::{BufReader, Read};

use rand_core::{CryptoRng, RngCore};

use super::context::PartRef;
use super::{check_hash, unusable, Builder, CheckId};
use crate::decryption::{combine, CandidateShare};
use crate::election::manifest::{MAX_CONTESTS, MAX_OPTIONS};
use crate::election::record::{
    files, open_regular, read_shares, HashingReader, Record, RecordError,
};
use crate::election::{ElectionContext, ElectionResults};
use crate::tally::EncryptedTally;

/// Reads `shares.bin` for V2 and, given the ceremony's size and the tally's options, its
/// shares. `None` when it is missing (V2 fails).
fn read(
    record: &Record,
    b: &mut Builder,
    shape: Option<(u32, u64)>,
) -> Result<Option<Result<Vec<CandidateShare>, RecordError>>, RecordError> {
    b.objects(CheckId::V2, 1);
    let (file, len) = match open_regular(&record.path(files::SHARES), files::SHARES) {
        Ok(opened) => opened,
        Err(e) if unusable(&e) => return Err(e),
        Err(e) => {
            b.fail(
                CheckId::V2,
                files::SHARES,
                format!("missing or unreadable: {e}"),
            );
            return Ok(None);
        }
    };
    // One frame per guardian at most: a longer file is refused before it is hashed or read.
    let (guardians, options) = shape.unwrap_or((
        crate::ceremony::MAX_GUARDIANS,
        (MAX_CONTESTS * MAX_OPTIONS) as u64,
    ));
    let max = u64::from(guardians).saturating_mul(4 + CandidateShare::encoded_len(options));
    if len > max {
        return Err(RecordError::TooLarge {
            file: files::SHARES.into(),
            max,
            actual: len,
        });
    }
    let mut hashing = HashingReader::new(file.take(len.saturating_add(1)));
    let shares = shape.map(|(guardians, options)| {
        read_shares(
            &mut BufReader::with_capacity(1 << 16, &mut hashing),
            guardians,
            Some(options),
        )
    });
    match hashing.finish() {
        Ok((hash, bytes, _)) => {
            check_hash(b, record, files::SHARES, &hash);
            if bytes > len {
                b.fail(
                    CheckId::V2,
                    files::SHARES,
                    "the file grew while it was read",
                );
            }
        }
        Err(e) => b.fail(CheckId::V2, files::SHARES, format!("unreadable: {e}")),
    }
    Ok(shares)
}

/// V2 for the shares when no tally lets them be checked.
pub(super) fn hash_only(record: &Record, b: &mut Builder) -> Result<(), RecordError> {
    read(record, b, None).map(|_| ())
}

/// V13–V15.
///
/// # Errors
/// Unusable input (`shares.bin` not a regular file).
pub(super) fn check<R: RngCore + CryptoRng>(
    record: &Record,
    context: &ElectionContext,
    tally: &EncryptedTally,
    results: PartRef<'_>,
    b: &mut Builder,
    rng: &mut R,
) -> Result<(), RecordError> {
    let shape = (
        context.outcome().params().guardians(),
        tally.sums().len() as u64,
    );
    let shares = match read(record, b, Some(shape))? {
        Some(Ok(shares)) => Some(shares),
        Some(Err(e)) => {
            b.fail(CheckId::V13, files::SHARES, e.to_string());
            None
        }
        None => {
            b.fail(CheckId::V13, files::SHARES, "missing or unreadable");
            None
        }
    };
    let results = results
        .map_err(Clone::clone)
        .and_then(|bytes| Record::decode_results(bytes).map_err(|e| e.to_string()));
    if let Some(shares) = shares {
        shares_and_decryption(context, tally, &shares, &results, b, rng);
    }
    // V15: the results' shape and bounds.
    match &results {
        Ok(recorded) => {
            b.objects(CheckId::V15, recorded.contests.len() as u64);
            let expected_shape = ElectionResults::from_counts(
                context.manifest(),
                recorded.counted_ballots,
                &recorded.counts(),
            );
            if expected_shape.as_ref() != Some(recorded) {
                b.fail(
                    CheckId::V15,
                    files::RESULTS,
                    "contests or options differ from the manifest",
                );
            } else if !recorded.within_bounds(context.manifest()) {
                b.fail(
                    CheckId::V15,
                    files::RESULTS,
                    "a count lies outside the bounds the manifest allows",
                );
            }
            if recorded.election_id != context.manifest().election_id {
                b.fail(CheckId::V15, files::RESULTS, "another election's id");
            }
            b.ran(CheckId::V15, true);
        }
        Err(e) => b.fail(CheckId::V15, files::RESULTS, e.clone()),
    }
    Ok(())
}

/// V13 (one share per guardian, each valid, at least t) and V14 (the combination gives the
/// recorded counts and ballot count).
fn shares_and_decryption<R: RngCore + CryptoRng>(
    context: &ElectionContext,
    tally: &EncryptedTally,
    shares: &[CandidateShare],
    results: &Result<ElectionResults, String>,
    b: &mut Builder,
    rng: &mut R,
) {
    b.objects(CheckId::V13, shares.len() as u64);
    // One share per guardian in a record, an identical copy included: the record is the
    // canonical list, and a copy is either an error of its author or padding.
    let mut seen = BTreeSet::new();
    for share in shares {
        if !seen.insert(share.guardian()) {
            b.fail(
                CheckId::V13,
                share.guardian().to_string(),
                "more than one decryption share from this guardian",
            );
        }
    }
    let result = match combine(context.outcome(), tally, shares, rng) {
        Err(e) => {
            b.fail(CheckId::V13, files::SHARES, e.to_string());
            return;
        }
        Ok(result) => result,
    };
    for (who, why) in result.invalid.iter().chain(&result.discarded) {
        b.fail(CheckId::V13, who.to_string(), why.to_string());
    }
    b.ran(CheckId::V13, true);
    b.objects(CheckId::V14, result.counts.len() as u64);
    let counted = tally.ballots();
    match results {
        Ok(recorded)
            if recorded.counts() == result.counts && recorded.counted_ballots == counted => {}
        Ok(recorded) => {
            let recorded_counts = recorded.counts();
            for (k, (found, expected)) in recorded_counts.iter().zip(&result.counts).enumerate() {
                if found != expected {
                    b.fail(
                        CheckId::V14,
                        format!("option {k}"),
                        format!("results say {found}, decryption gives {expected}"),
                    );
                }
            }
            if recorded_counts.len() != result.counts.len() {
                b.fail(CheckId::V14, files::RESULTS, "wrong number of options");
            }
            if recorded.counted_ballots != counted {
                b.fail(
                    CheckId::V14,
                    files::RESULTS,
                    format!(
                        "counted_ballots {} but {counted} ballots are counted",
                        recorded.counted_ballots
                    ),
                );
            }
        }
        Err(e) => b.fail(CheckId::V14, files::RESULTS, e.clone()),
    }
    b.ran(CheckId::V14, true);
}
