//! V1–V6: the files, and the election context they make (manifest, ceremony, credentials).

use rand_core::{CryptoRng, RngCore};
use sha2::{Digest, Sha512};

use super::{check_hash, unusable, Builder, CheckId};
use crate::ceremony::adjudicate;
use crate::election::record::{files, to_hex, Record, RecordError};
use crate::election::ElectionContext;

/// A file read once: its bytes, or why they could not be read (already a V2 failure).
pub(super) type Part = Result<Vec<u8>, String>;

/// A borrowed [`Part`].
pub(super) type PartRef<'a> = Result<&'a Vec<u8>, &'a String>;

/// The record's small files, each read once under its size limit and hashed from the bytes
/// read (V2). The board and the shares are streams: their V2 is checked as they are read.
pub(super) struct Files {
    pub(super) manifest: Part,
    pub(super) ceremony: Part,
    pub(super) credentials: Part,
    pub(super) tally: Part,
    pub(super) results: Part,
}

impl Files {
    /// Reads the five small files and checks each one's hash; also flags files `record.json`
    /// lists that a record does not have.
    ///
    /// # Errors
    /// A file that is not a regular file or is longer than its format allows: unusable input.
    pub(super) fn read(record: &Record, b: &mut Builder) -> Result<Self, RecordError> {
        let mut read = |name: &str| -> Result<Part, RecordError> {
            b.objects(CheckId::V2, 1);
            match record.read(name) {
                Ok(bytes) => {
                    let hash: [u8; 64] = Sha512::digest(&bytes).into();
                    check_hash(b, record, name, &hash);
                    Ok(Ok(bytes))
                }
                Err(e) if unusable(&e) => Err(e),
                Err(e) => {
                    b.fail(CheckId::V2, name, format!("missing or unreadable: {e}"));
                    Ok(Err(e.to_string()))
                }
            }
        };
        let parts = Self {
            manifest: read(files::MANIFEST)?,
            ceremony: read(files::CEREMONY)?,
            credentials: read(files::CREDENTIALS)?,
            tally: read(files::TALLY)?,
            results: read(files::RESULTS)?,
        };
        for name in record.index().files.keys() {
            if !files::ALL.contains(&name.as_str()) {
                b.fail(
                    CheckId::V2,
                    name.clone(),
                    "unknown file listed in record.json",
                );
            }
        }
        Ok(parts)
    }
}

/// V3–V6: the manifest, the ceremony's adjudication, the credential list and the context they
/// make, against `record.json`. `None` when no context can be made: no later check can run.
pub(super) fn check<R: RngCore + CryptoRng>(
    record: &Record,
    parts: &Files,
    b: &mut Builder,
    rng: &mut R,
) -> Option<ElectionContext> {
    let manifest = match parts.manifest.as_deref().map(Record::decode_manifest) {
        Ok(Ok(m)) => {
            b.objects(CheckId::V3, 1);
            b.ran(CheckId::V3, true);
            Some(m)
        }
        Ok(Err(e)) => {
            b.fail(CheckId::V3, files::MANIFEST, e.to_string());
            None
        }
        Err(e) => {
            b.fail(CheckId::V3, files::MANIFEST, e.clone());
            None
        }
    };
    let outcome = match parts.ceremony.as_deref().map(Record::decode_ceremony) {
        Ok(Ok(transcript)) => {
            b.objects(CheckId::V4, transcript.params.guardians().into());
            match adjudicate(&transcript, rng) {
                Ok(outcome) => {
                    b.ran(CheckId::V4, true);
                    Some(outcome)
                }
                Err(e) => {
                    b.fail(CheckId::V4, files::CEREMONY, e.to_string());
                    None
                }
            }
        }
        Ok(Err(e)) => {
            b.fail(CheckId::V4, files::CEREMONY, e.to_string());
            None
        }
        Err(e) => {
            b.fail(CheckId::V4, files::CEREMONY, e.clone());
            None
        }
    };
    let credentials = match parts.credentials.as_deref().map(Record::decode_credentials) {
        Ok(Ok(c)) => {
            b.objects(CheckId::V5, c.len() as u64);
            b.ran(CheckId::V5, true);
            Some(c)
        }
        Ok(Err(e)) => {
            b.fail(CheckId::V5, files::CREDENTIALS, e.to_string());
            None
        }
        Err(e) => {
            b.fail(CheckId::V5, files::CREDENTIALS, e.clone());
            None
        }
    };
    let (manifest, outcome, credentials) = (manifest?, outcome?, credentials?);
    let context = match ElectionContext::new(manifest, outcome, credentials) {
        Ok(c) => c,
        Err(e) => {
            b.fail(CheckId::V6, "context", e.to_string());
            return None;
        }
    };
    b.objects(CheckId::V6, 1);
    if to_hex(context.hash()) != record.index().election_hash {
        b.fail(
            CheckId::V6,
            files::INDEX,
            "election_hash differs from the hash recomputed from manifest, ceremony and credentials",
        );
    }
    if record.index().election_id != context.manifest().election_id {
        b.fail(
            CheckId::V6,
            files::INDEX,
            "election_id differs from the manifest's",
        );
    }
    b.ran(CheckId::V6, true);
    Some(context)
}
