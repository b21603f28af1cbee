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

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use rand_chacha::ChaCha20Rng;
use rand_core::{CryptoRng, RngCore, SeedableRng};
use rayon::prelude::*;
use sha2::{Digest, Sha512};

use crate::ceremony::CEREMONY_VERSION;
use crate::ciphertext::Ciphertext;
use crate::election::ballot::Body;
use crate::election::board::{option_bounds, BoardError, BoardReader, Entry};
use crate::election::{Ballot, ChallengedBallot, ElectionContext, VerifiedBallot};
use crate::keys::PublicKey;

/// Adds up [`VerifiedBallot`]s (and nothing else: no raw ciphertexts, no caller-chosen
/// transcripts) into an [`EncryptedTally`].
///
/// Crate-private: the only public way to a tally is [`tally`], which applies the election's
/// counting rule to a *closed* board and binds the tally to the board's head. (A public accumulator let anyone build a "tally" of one voter's ciphertexts and a
/// known ballot, and have it decrypted.)
pub(crate) struct TallyAccumulator {
    pub(crate) public: PublicKey,
    pub(crate) bounds: Vec<u64>,
    pub(crate) sums: Vec<Ciphertext>,
    pub(crate) ballots: u64,
}

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
        let mut h = Sha512::new();
        h.update(b"evote/tally/v2");
        h.update(self.public.as_bytes());
        h.update(binding.election);
        h.update(binding.board_head);
        h.update(self.ballots.to_le_bytes());
        h.update((self.bounds.len() as u64).to_le_bytes());
        for (bound, sum) in self.bounds.iter().zip(&sums) {
            h.update(bound.to_le_bytes());
            h.update(sum.to_bytes());
        }
        EncryptedTally {
            public: self.public,
            election: binding.election,
            board_head: binding.board_head,
            bounds: self.bounds,
            sums,
            ballots: self.ballots,
            digest: h.finalize().into(),
        }
    }
}

/// Which closed board a tally counts: the election hash and the board's head after its close
/// entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
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
    /// (There is no decoder: a tally is recomputed from ballots, never read back for decryption;
    /// a verifier compares its recomputed tally's bytes with the record's.)
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
struct ChallengeIndex {
    trackers: HashMap<[u8; 64], u64>,
    ids: HashMap<[u8; 32], u64>,
    alphas: HashMap<[u8; 16], u64>,
}

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
