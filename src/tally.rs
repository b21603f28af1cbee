//! The tally: the homomorphic sum of the ballots a closed board counts, and nothing else.
//!
//! [`tally`] reads a *closed* board, applies the election's counting rule (each credential's
//! last ballot, or its only one under refused revoting), verifies every counted ballot again
//! and adds the [`VerifiedBallot`]s into an [`EncryptedTally`] bound to the election and to the
//! board's head after its close entry. There is no other way to an `EncryptedTally`, so a
//! guardian is never asked to decrypt chosen ciphertexts (docs/ceremony.md, "Only the closed
//! board").
//!
//! ```compile_fail
//! // The accumulator is not public (a "tally" of one voter's ballot and an encryption of 0
//! // would decrypt that voter's vote).
//! let _ = evote::tally::TallyAccumulator::new;
//! ```

#[cfg(feature = "fs")]
use std::collections::{HashMap, HashSet};
#[cfg(feature = "fs")]
use std::fs::File;
#[cfg(feature = "fs")]
use std::io::BufReader;
#[cfg(feature = "fs")]
use std::path::Path;

#[cfg(feature = "fs")]
use rand_chacha::ChaCha20Rng;
#[cfg(feature = "fs")]
use rand_core::{CryptoRng, RngCore, SeedableRng};
#[cfg(feature = "fs")]
use rayon::prelude::*;
use sha2::{Digest, Sha512};

use crate::ceremony::CEREMONY_VERSION;
use crate::ciphertext::Ciphertext;
#[cfg(feature = "fs")]
use crate::election::ballot::Body;
#[cfg(feature = "fs")]
use crate::election::board::{option_bounds, BoardError, BoardReader, Entry};
use crate::election::manifest::{MAX_CONTESTS, MAX_OPTIONS};
#[cfg(feature = "fs")]
use crate::election::{Ballot, ChallengedBallot, ElectionContext, VerifiedBallot};
use crate::errors::DecodeError;
use crate::group::{decode_point, Reader};
use crate::keys::PublicKey;
use crate::proofs::MAX_RANGE_BRANCHES;

/// Adds up [`VerifiedBallot`]s (and nothing else: no raw ciphertexts, no caller-chosen
/// transcripts) into an [`EncryptedTally`].
///
/// Crate-private: the only public way to a tally is [`tally`], which applies the election's
/// counting rule to a *closed* board and binds the tally to the board's head. (A public accumulator let anyone build a "tally" of one voter's ciphertexts and a
/// known ballot, and have it decrypted.)
#[cfg(feature = "fs")]
pub(crate) struct TallyAccumulator {
    pub(crate) public: PublicKey,
    pub(crate) bounds: Vec<u64>,
    pub(crate) sums: Vec<Ciphertext>,
    pub(crate) ballots: u64,
}

#[cfg(feature = "fs")]
impl TallyAccumulator {
    /// A tally of ballots with one ciphertext per option, option `k` admitting `0..=bounds[k]`,
    /// under the election key `public`.
    pub(crate) fn new(public: &PublicKey, bounds: &[u64]) -> Self {
        Self {
            public: *public,
            bounds: bounds.to_vec(),
            sums: vec![Ciphertext::zero(); bounds.len()],
            ballots: 0,
        }
    }

    /// Adds a verified ballot's ciphertexts, option by option. Returns `false` (and adds
    /// nothing) for a ballot of another shape than this tally's options.
    pub(crate) fn add(&mut self, ballot: &VerifiedBallot) -> bool {
        let ciphertexts = ballot.ballot().flattened().0;
        if ciphertexts.len() != self.bounds.len() {
            return false;
        }
        for (sum, ct) in self.sums.iter_mut().zip(&ciphertexts) {
            *sum += ct;
        }
        self.ballots += 1;
        true
    }

    /// Adds another accumulator's ballots (one built in parallel under the same key and bounds).
    /// Refuses (returns `false`, adds nothing) when the key or the bounds differ.
    pub(crate) fn merge(&mut self, other: TallyAccumulator) -> bool {
        if other.public != self.public || other.bounds != self.bounds {
            return false;
        }
        for (sum, ct) in self.sums.iter_mut().zip(&other.sums) {
            *sum += ct;
        }
        self.ballots += other.ballots;
        true
    }

    /// Closes the tally of the closed board `binding` names.
    pub(crate) fn finish(self, binding: BoardBinding) -> EncryptedTally {
        let sums: Vec<Ciphertext> = self
            .sums
            .iter()
            .map(|ct| match Ciphertext::from_bytes(&ct.to_bytes()) {
                // Cache the encodings; an identity alpha (no ballots) keeps the computed form.
                Ok(encoded) => encoded,
                Err(_) => *ct,
            })
            .collect();
        let mut tally = EncryptedTally {
            public: self.public,
            election: binding.election,
            board_head: binding.board_head,
            bounds: self.bounds,
            sums,
            ballots: self.ballots,
            digest: [0; 64],
        };
        tally.digest = tally.compute_digest();
        tally
    }
}

/// Which closed board a tally counts: the election hash and the board's head after its close
/// entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg(feature = "fs")]
pub(crate) struct BoardBinding {
    pub(crate) election: [u8; 64],
    pub(crate) board_head: [u8; 64],
}

/// The per-option sums of the ballots a closed board counts, bound to that board. Built only
/// by [`crate::election::board::tally`] (and by the verifier, from the same ballots).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EncryptedTally {
    pub(crate) public: PublicKey,
    pub(crate) election: [u8; 64],
    pub(crate) board_head: [u8; 64],
    pub(crate) bounds: Vec<u64>,
    pub(crate) sums: Vec<Ciphertext>,
    pub(crate) ballots: u64,
    pub(crate) digest: [u8; 64],
}

impl EncryptedTally {
    /// The election key the ballots were encrypted under.
    pub fn public_key(&self) -> &PublicKey {
        &self.public
    }

    /// The hash of the election whose board this tally counts.
    pub fn election(&self) -> &[u8; 64] {
        &self.election
    }

    /// The head of the closed board (after its close entry) whose counted ballots this is.
    pub fn board_head(&self) -> &[u8; 64] {
        &self.board_head
    }

    /// The per-option sums.
    pub fn sums(&self) -> &[Ciphertext] {
        &self.sums
    }

    /// The number of ballots counted.
    pub fn ballots(&self) -> u64 {
        self.ballots
    }

    /// Each option's largest possible count: `ballots·R_k`.
    pub fn count_bounds(&self) -> impl Iterator<Item = u64> + '_ {
        self.bounds.iter().map(|r| r.saturating_mul(self.ballots))
    }

    /// The canonical encoding, for the election record: `version (1) ‖ kind 49 ‖ enc(K) ‖
    /// H_E (64) ‖ board head (64) ‖ LE64(ballots) ‖ LE32(options)`, then per option
    /// `LE64(R_k) ‖ enc(A_k) ‖ enc(B_k)`.
    /// (Read back only as a [`TallyCandidate`]: a tally is recomputed from ballots, never read
    /// back for decryption; a verifier compares its recomputed tally's bytes with the record's.)
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(
            usize::try_from(Self::encoded_len(self.bounds.len() as u64)).unwrap_or(0),
        );
        out.extend_from_slice(&[CEREMONY_VERSION, 49]);
        out.extend_from_slice(self.public.as_bytes());
        out.extend_from_slice(&self.election);
        out.extend_from_slice(&self.board_head);
        out.extend_from_slice(&self.ballots.to_le_bytes());
        out.extend_from_slice(&(self.bounds.len() as u32).to_le_bytes());
        for (bound, sum) in self.bounds.iter().zip(&self.sums) {
            out.extend_from_slice(&bound.to_le_bytes());
            out.extend_from_slice(&sum.to_bytes());
        }
        out
    }

    /// The length of [`to_bytes`](Self::to_bytes) for `options` options: `174 + 72·options`.
    pub const fn encoded_len(options: u64) -> u64 {
        2 + 32 + 64 + 64 + 8 + 4 + 72 * options
    }

    /// SHA-512 over the key, the election, the board head, the ballot count, the bounds and the
    /// sums: what decryption shares are bound to.
    pub fn digest(&self) -> &[u8; 64] {
        &self.digest
    }

    /// `SHA-512("evote/tally/v2" ‖ enc(K) ‖ H_E ‖ head ‖ LE64(ballots) ‖ LE64(options) ‖
    /// per option LE64(R_k) ‖ enc(A_k) ‖ enc(B_k))`.
    fn compute_digest(&self) -> [u8; 64] {
        let mut h = Sha512::new();
        h.update(b"evote/tally/v2");
        h.update(self.public.as_bytes());
        h.update(self.election);
        h.update(self.board_head);
        h.update(self.ballots.to_le_bytes());
        h.update((self.bounds.len() as u64).to_le_bytes());
        for (bound, sum) in self.bounds.iter().zip(&self.sums) {
            h.update(bound.to_le_bytes());
            h.update(sum.to_bytes());
        }
        h.finalize().into()
    }
}

/// An encrypted tally read back from its bytes (a published `tally.bin`): what it says it
/// counts, for inspection, and nothing more. It cannot be decrypted — decryption takes an
/// [`EncryptedTally`], which only the tally of the closed board builds — so a guardian handed
/// a tally file recomputes the tally from the board and checks with [`matches`](Self::matches)
/// that the file is that tally before publishing a share for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TallyCandidate(EncryptedTally);

impl TallyCandidate {
    /// Decodes the encoding of [`EncryptedTally::to_bytes`]. Sums may hold the identity (two
    /// ballots' nonces may cancel; a tally of no ballots is all identities); the key may not.
    ///
    /// # Errors
    /// [`DecodeError`] naming the field: a wrong version or kind, more options than a manifest
    /// can hold, a length other than `174 + 72·options`, a bound of 0 or above
    /// `MAX_RANGE_BRANCHES − 1`, a count bound
    /// `ballots·R_k` beyond 2^64, a non-canonical point.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        const WHAT: &str = "encrypted tally";
        let mut r = Reader::new(bytes, WHAT, "174 + 72·options");
        let version = r.u8()?;
        if version != CEREMONY_VERSION {
            return Err(DecodeError::UnsupportedVersion {
                what: WHAT,
                version,
            });
        }
        if r.u8()? != 49 {
            return Err(DecodeError::Malformed {
                what: WHAT,
                reason: "not an encrypted tally (kind byte)",
            });
        }
        let public = PublicKey::from_bytes(r.bytes(32)?)?;
        let election = r.array::<64>()?;
        let board_head = r.array::<64>()?;
        let ballots = u64::from_le_bytes(r.array::<8>()?);
        let options = u64::from(r.u32()?);
        let max = (MAX_CONTESTS * MAX_OPTIONS) as u64;
        if options == 0 || options > max {
            return Err(DecodeError::TooLarge {
                what: WHAT,
                max,
                actual: options,
            });
        }
        if bytes.len() as u64 != EncryptedTally::encoded_len(options) {
            return Err(DecodeError::Length {
                what: WHAT,
                expected: "174 + 72·options",
                actual: bytes.len(),
            });
        }
        let mut bounds = Vec::new();
        let mut sums = Vec::new();
        for _ in 0..options {
            let bound = u64::from_le_bytes(r.array::<8>()?);
            if bound == 0 || bound >= MAX_RANGE_BRANCHES {
                return Err(DecodeError::Malformed {
                    what: WHAT,
                    reason: "an option's bound is 0 or above the largest range",
                });
            }
            if ballots.checked_mul(bound).is_none() {
                return Err(DecodeError::Malformed {
                    what: WHAT,
                    reason: "an option's largest count overflows 64 bits",
                });
            }
            let alpha = decode_point(r.bytes(32)?, "tally sum alpha")?;
            let beta = decode_point(r.bytes(32)?, "tally sum beta")?;
            bounds.push(bound);
            sums.push(Ciphertext::from_elements(&alpha, &beta));
        }
        r.finish()?;
        let mut tally = EncryptedTally {
            public,
            election,
            board_head,
            bounds,
            sums,
            ballots,
            digest: [0; 64],
        };
        tally.digest = tally.compute_digest();
        Ok(Self(tally))
    }

    /// The election key it claims.
    pub fn public_key(&self) -> &PublicKey {
        &self.0.public
    }

    /// The election hash it claims.
    pub fn election(&self) -> &[u8; 64] {
        &self.0.election
    }

    /// The closed board's head it claims.
    pub fn board_head(&self) -> &[u8; 64] {
        &self.0.board_head
    }

    /// The number of ballots it claims to count.
    pub fn ballots(&self) -> u64 {
        self.0.ballots
    }

    /// The per-option sums.
    pub fn sums(&self) -> &[Ciphertext] {
        &self.0.sums
    }

    /// Each option's largest possible count, `ballots·R_k`.
    pub fn count_bounds(&self) -> impl Iterator<Item = u64> + '_ {
        self.0.count_bounds()
    }

    /// The digest decryption shares for this tally would be bound to.
    pub fn digest(&self) -> &[u8; 64] {
        &self.0.digest
    }

    /// Whether it is exactly `tally` (every byte: key, election, head, counts, bounds, sums).
    /// Variable-time: both are public.
    pub fn matches(&self, tally: &EncryptedTally) -> bool {
        self.0.to_bytes() == tally.to_bytes()
    }
}

/// Tallies a *closed* board file under the election's counting rule, streaming: a first pass
/// checks the chain to the close entry and finds each credential's last ballot (the only one
/// under `refused`), a second pass verifies the counted ballots again (signature and every proof,
/// in batches of 256 ballots, eight batches at a time on all cores) and adds the verified ones. Memory holds those batches and
/// one entry number per credential, not the ballots.
///
/// The tally is bound to the election and to the board's head after its close entry: a
/// guardian decrypts it only if that head is the one published at the close, and its shares
/// verify for no other tally (docs/ceremony.md). This is the only way to an [`EncryptedTally`].
///
/// # Errors
/// [`BoardError::NotClosed`] before the close; [`BoardError`] for a broken file, a second
/// reading that differs from the first, or a counted ballot that no longer verifies.
#[cfg(feature = "fs")]
pub fn tally<R: RngCore + CryptoRng>(
    path: &Path,
    context: &ElectionContext,
    rng: &mut R,
) -> Result<EncryptedTally, BoardError> {
    const CHUNK: usize = 256;
    let mut last: HashMap<[u8; 32], u64> = HashMap::new();
    let mut reader = BoardReader::new(BufReader::new(File::open(path)?))?;
    if reader.election() != context.hash() {
        return Err(BoardError::WrongBoard {
            reason: "the board belongs to another election",
        });
    }
    let mut closed = false;
    // Challenges are few (a voter's audit); their keys are kept to refuse a counted ballot that
    // shares one (a board written by this library never holds one; a hostile file might).
    let mut challenges = ChallengeIndex::default();
    while let Some(entry) = reader.next_checked()? {
        match entry {
            Entry::Ballot { number, bytes, .. } => {
                // Only the credential is needed here; counted ballots are decoded in full below.
                let credential = crate::election::ballot::peek_credential(&bytes).ok_or(
                    BoardError::Corrupt {
                        entry: number,
                        reason: "the ballot does not decode",
                    },
                )?;
                last.insert(credential, number);
            }
            Entry::Challenge { number, bytes, .. } => {
                let challenged =
                    ChallengedBallot::from_bytes(&bytes).map_err(|_| BoardError::Corrupt {
                        entry: number,
                        reason: "the challenged ballot does not decode",
                    })?;
                challenges.insert(challenged.body(), number);
            }
            Entry::Close { .. } => closed = true,
        }
    }
    if !closed {
        return Err(BoardError::NotClosed);
    }
    let binding = BoardBinding {
        election: *context.hash(),
        board_head: *reader.head(),
    };
    let counted: HashSet<u64> = last.into_values().collect();
    let bounds = option_bounds(context);
    let mut accumulator = TallyAccumulator::new(context.public_key(), &bounds);
    let mut reader = BoardReader::new(BufReader::new(File::open(path)?))?;
    // Verifies one chunk's ballots in one batch (signature, every range and selection-limit
    // proof) and adds the verified ones to an accumulator of its own.
    let check_chunk = |raw: &[(u64, Vec<u8>)], seed: [u8; 32]| {
        let mut ballots = Vec::with_capacity(raw.len());
        for (number, bytes) in raw {
            let ballot = Ballot::from_bytes(bytes).map_err(BoardError::Ballot)?;
            if let Some(entry) = challenges.conflict(ballot.body()) {
                return Err(BoardError::Corrupt {
                    entry: *number,
                    reason: if entry < *number {
                        "a counted ballot shares its tracker, ballot id or a ciphertext with \
                         an earlier challenged ballot"
                    } else {
                        "a counted ballot shares its tracker, ballot id or a ciphertext with \
                         a later challenged ballot"
                    },
                });
            }
            ballots.push(ballot);
        }
        let mut partial = TallyAccumulator::new(context.public_key(), &bounds);
        let verdicts = Ballot::verify_batch(ballots, context, &mut ChaCha20Rng::from_seed(seed));
        for ((number, _), verdict) in raw.iter().zip(verdicts) {
            let counted = verdict.map_err(|_| BoardError::Corrupt {
                entry: *number,
                reason: "a counted ballot does not verify",
            })?;
            if !partial.add(&counted) {
                return Err(BoardError::Corrupt {
                    entry: *number,
                    reason: "a counted ballot does not fit the tally's options",
                });
            }
        }
        Ok(partial)
    };
    // Chunks of a batch run on all cores; partial sums are merged in order.
    let mut flush = |pending: &mut Vec<(u64, Vec<u8>)>, accumulator: &mut TallyAccumulator| {
        let seeds: Vec<[u8; 32]> = (0..pending.len().div_ceil(CHUNK))
            .map(|_| {
                let mut seed = [0u8; 32];
                rng.fill_bytes(&mut seed);
                seed
            })
            .collect();
        let partials: Vec<Result<TallyAccumulator, BoardError>> = pending
            .par_chunks(CHUNK)
            .zip(seeds)
            .map(|(chunk, seed)| check_chunk(chunk, seed))
            .collect();
        pending.clear();
        for partial in partials {
            if !accumulator.merge(partial?) {
                return Err(BoardError::Corrupt {
                    entry: 0,
                    reason: "a partial tally does not fit the election",
                });
            }
        }
        Ok(())
    };
    // Raw bytes: decoding (the larger part of the work) happens in the parallel chunks.
    let mut pending: Vec<(u64, Vec<u8>)> = Vec::with_capacity(CHUNK * 8);
    while let Some(entry) = reader.next_checked()? {
        if let Entry::Ballot { number, bytes, .. } = entry {
            if counted.contains(&number) {
                pending.push((number, bytes));
                if pending.len() == CHUNK * 8 {
                    flush(&mut pending, &mut accumulator)?;
                }
            }
        }
    }
    flush(&mut pending, &mut accumulator)?;
    // The second reading must be the board of the first (a file rewritten in between is not).
    if *reader.head() != binding.board_head {
        return Err(BoardError::Corrupt {
            entry: 0,
            reason: "the board changed while it was being tallied",
        });
    }
    Ok(accumulator.finish(binding))
}

/// The tracker, scoped ballot id and ciphertext keys of a board's challenged ballots.
#[derive(Default)]
#[cfg(feature = "fs")]
struct ChallengeIndex {
    trackers: HashMap<[u8; 64], u64>,
    ids: HashMap<[u8; 32], u64>,
    alphas: HashMap<[u8; 16], u64>,
}

#[cfg(feature = "fs")]
impl ChallengeIndex {
    fn insert(&mut self, body: &Body, number: u64) {
        self.trackers.insert(body.tracker(), number);
        self.ids.insert(body.scoped_id(), number);
        for key in body.alpha_keys() {
            self.alphas.insert(key, number);
        }
    }

    /// The challenge entry `body` conflicts with, if any.
    fn conflict(&self, body: &Body) -> Option<u64> {
        self.trackers
            .get(&body.tracker())
            .or_else(|| self.ids.get(&body.scoped_id()))
            .or_else(|| body.alpha_keys().iter().find_map(|k| self.alphas.get(k)))
            .copied()
    }
}
