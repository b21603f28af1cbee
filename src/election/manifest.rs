//! The election manifest: contests, their options and their selection rules.
//!
//! # Contest kinds
//! Every kind is one [`Contest`] shape; `R` is the option limit (the most one voter may give to
//! one option), `min..=max` bounds the total a voter gives in the contest:
//!
//! | kind | options | `R` | `min..=max` |
//! |---|---|---|---|
//! | referendum | yes, no | 1 | `1..=1` (`0..=1` with a blank vote) |
//! | 1-of-n | n candidates | 1 | `1..=1` (`0..=1` with a blank vote) |
//! | k-of-n, approval | n candidates | 1 | `0..=k` |
//! | cumulative | n candidates | `R > 1` | `0..=V` (V votes to spread) |
//!
//! A blank vote is the all-zero selection, admissible when `min = 0`.
//!
//! # Layout
//! The canonical encoding hashed into the election context (all integers little-endian):
//! `version (2) ‖ str(election_id) ‖ nonce (32) ‖ str(title) ‖ revoting (1: 0 = last ballot counts, 1 =
//! refused) ‖ u32(contests)`, then per contest `str(id) ‖ str(title) ‖ u32(options) ‖
//! str(option)… ‖ u64(min) ‖ u64(max) ‖ u64(R)`, where `str(s) = u32(len) ‖ UTF-8 bytes`.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha512};

use crate::proofs::MAX_RANGE_BRANCHES;
use crate::text::to_hex as to_hex_lower;

/// The version byte of the manifest encoding.
pub const MANIFEST_VERSION: u8 = 2;

/// The most contests in one manifest.
pub const MAX_CONTESTS: usize = 256;

/// The most options in one contest.
pub const MAX_OPTIONS: usize = 256;

/// The longest ballot a manifest may imply: a board entry holds at most 64 MiB, of which 9
/// bytes are the entry number and kind.
pub const MAX_BALLOT_BYTES: u64 = (64 << 20) - 9;

/// The longest name (election id, title, contest id, option) in bytes.
pub const MAX_NAME_BYTES: usize = 256;

/// The longest canonical manifest encoding: [`MAX_CONTESTS`] contests of [`MAX_OPTIONS`]
/// options, every name [`MAX_NAME_BYTES`] long (about 17 MB).
pub const MAX_MANIFEST_BYTES: u64 = {
    let name = 4 + MAX_NAME_BYTES as u64;
    let contest = 2 * name + 4 + MAX_OPTIONS as u64 * name + 24;
    1 + name + 32 + name + 1 + 4 + MAX_CONTESTS as u64 * contest
};

/// What happens when a credential casts a second ballot.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RevotePolicy {
    /// The last ballot a credential cast counts; earlier ones stay on the board, uncounted.
    LastCounts,
    /// A credential casts once; the board refuses a second ballot.
    Refused,
}

/// One contest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Contest {
    /// Identifier, unique within the manifest.
    pub id: String,
    /// Human-readable title.
    pub title: String,
    /// The options, in ballot order; names unique within the contest.
    pub options: Vec<String>,
    /// The least total a voter gives in this contest (0 allows a blank vote).
    pub min_selections: u64,
    /// The most total a voter gives in this contest.
    pub max_selections: u64,
    /// `R`: the most a voter gives one option (1 for ordinary votes, more for cumulative).
    pub option_limit: u64,
}

/// The election manifest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// The election's identifier.
    pub election_id: String,
    /// 32 random bytes, 64 lowercase hex digits, drawn afresh for each election
    /// ([`Manifest::fresh_nonce`]): two elections that reuse a ceremony, a credential list and
    /// every other field of a manifest still have different election hashes, so a ballot of
    /// one never verifies in the other.
    pub nonce: String,
    /// Human-readable title.
    pub title: String,
    /// The revoting policy.
    pub revoting: RevotePolicy,
    /// The contests, in ballot order.
    pub contests: Vec<Contest>,
}

/// Why a manifest is not admissible.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ManifestError {
    /// A name is empty or longer than [`MAX_NAME_BYTES`].
    BadName {
        /// Which name.
        what: String,
    },
    /// No contests, or more than [`MAX_CONTESTS`].
    ContestCount,
    /// Two contests share an id.
    DuplicateContest {
        /// The id.
        id: String,
    },
    /// A contest has no options, or more than [`MAX_OPTIONS`].
    OptionCount {
        /// The contest.
        contest: String,
    },
    /// Two options of a contest share a name.
    DuplicateOption {
        /// The contest.
        contest: String,
        /// The option.
        option: String,
    },
    /// The limits cannot be met or proved: `R = 0`, `min > max`, `min` above what the options
    /// allow, or more admissible values than a proof supports.
    ImpossibleLimits {
        /// The contest.
        contest: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// A ballot for this manifest would be longer than [`MAX_BALLOT_BYTES`], so the board could
    /// not hold it as one entry.
    BallotTooLarge {
        /// The encoded length of one ballot.
        bytes: u64,
    },
    /// A name a voter reads is not in NFC, or holds a control, bidirectional or invisible
    /// character ([`crate::text::check_name_text`]).
    BadText {
        /// Which name.
        what: String,
        /// Why.
        reason: String,
    },
    /// Two names that must differ look alike (their Unicode confusable skeletons are equal):
    /// two options of one contest, or two contests' titles.
    Confusable {
        /// Where.
        what: String,
        /// The first name.
        first: String,
        /// The second name.
        second: String,
    },
    /// The nonce is not 64 lowercase hex digits.
    BadNonce,
    /// An election or contest id is not an identifier
    /// ([`crate::text::is_identifier`]: 1 to 64 ASCII letters, digits, `-`, `_`, `.`).
    BadIdentifier {
        /// Which id.
        what: String,
    },
    /// The JSON text is not a manifest.
    Json {
        /// The parser's message.
        message: String,
    },
    /// The bytes are not a canonical manifest encoding.
    Encoding {
        /// What is wrong.
        reason: &'static str,
    },
}

impl core::fmt::Display for ManifestError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::BadName { what } => {
                write!(f, "{what}: names must have 1 to {MAX_NAME_BYTES} bytes")
            }
            Self::BadText { what, reason } => write!(
                f,
                "{what} {reason}",
            ),
            Self::Confusable {
                what,
                first,
                second,
            } => write!(
                f,
                "{what}: {} and {} look alike (same Unicode confusable skeleton)",
                crate::text::terminal_safe(&format!("{first:?}")),
                crate::text::terminal_safe(&format!("{second:?}"))
            ),
            Self::BadNonce => f.write_str(
                "the manifest's nonce must be 64 lowercase hex digits (32 random bytes)",
            ),
            Self::ContestCount => write!(f, "a manifest has 1 to {MAX_CONTESTS} contests"),
            Self::DuplicateContest { id } => write!(f, "contest id {id:?} appears twice"),
            Self::OptionCount { contest } => {
                write!(
                    f,
                    "contest {contest:?}: a contest has 1 to {MAX_OPTIONS} options"
                )
            }
            Self::DuplicateOption { contest, option } => {
                write!(f, "contest {contest:?}: option {option:?} appears twice")
            }
            Self::ImpossibleLimits { contest, reason } => {
                write!(f, "contest {contest:?}: {reason}")
            }
            Self::BadIdentifier { what } => write!(
                f,
                "{what}: an id has 1 to {} ASCII letters, digits, '-', '_' or '.', starting with a letter or digit",
                crate::text::MAX_IDENTIFIER_BYTES
            ),
            Self::BallotTooLarge { bytes } => write!(
                f,
                "a ballot would be {bytes} bytes, more than the board's {MAX_BALLOT_BYTES}"
            ),
            Self::Json { message } => write!(f, "manifest JSON: {message}"),
            Self::Encoding { reason } => write!(f, "manifest encoding: {reason}"),
        }
    }
}

impl std::error::Error for ManifestError {}

fn check_name(name: &str, what: impl Fn() -> String) -> Result<(), ManifestError> {
    if name.is_empty() || name.len() > MAX_NAME_BYTES {
        return Err(ManifestError::BadName { what: what() });
    }
    crate::text::check_name_text(name).map_err(|reason| ManifestError::BadText {
        what: what(),
        reason,
    })
}

impl Contest {
    /// Checks the contest on its own.
    ///
    /// # Errors
    /// [`ManifestError`] naming the contest and the problem.
    pub fn validate(&self) -> Result<(), ManifestError> {
        // docs/election.md, *Manifest*, rules M1-M9, in the order given there.
        check_name(&self.id, || "contest id".into())?; // M3
                                                       // M1
        if !crate::text::is_identifier(&self.id) {
            return Err(ManifestError::BadIdentifier {
                what: format!("contest id {:?}", self.id),
            });
        }
        check_name(&self.title, || format!("contest {:?} title", self.id))?;
        // M4
        if self.options.is_empty() || self.options.len() > MAX_OPTIONS {
            return Err(ManifestError::OptionCount {
                contest: self.id.clone(),
            });
        }
        for (i, option) in self.options.iter().enumerate() {
            check_name(option, || format!("contest {:?} option {i}", self.id))?; // M3
                                                                                 // M6: within this contest only.
            if self.options.iter().take(i).any(|o| o == option) {
                return Err(ManifestError::DuplicateOption {
                    contest: self.id.clone(),
                    option: option.clone(),
                });
            }
            if let Some(first) = self
                .options
                .iter()
                .take(i)
                .find(|o| crate::text::confusable(o, option))
            {
                return Err(ManifestError::Confusable {
                    what: format!("contest {:?} options", self.id),
                    first: first.clone(),
                    second: option.clone(),
                });
            }
        }
        let impossible = |reason| {
            Err(ManifestError::ImpossibleLimits {
                contest: self.id.clone(),
                reason,
            })
        };
        // M7
        if self.option_limit == 0 {
            return impossible("the option limit R must be at least 1");
        }
        if self.option_limit >= MAX_RANGE_BRANCHES {
            return impossible("the option limit R is larger than a range proof supports");
        }
        // M8
        if self.min_selections > self.max_selections {
            return impossible("min_selections exceeds max_selections");
        }
        let most = (self.options.len() as u64).saturating_mul(self.option_limit);
        if self.min_selections > most {
            return impossible("min_selections exceeds what the options allow (options × R)");
        }
        if self.max_selections > most {
            return impossible("max_selections exceeds what the options allow (options × R)");
        }
        if self.max_selections - self.min_selections >= MAX_RANGE_BRANCHES {
            return impossible("max_selections - min_selections is larger than a proof supports");
        }
        Ok(())
    }
}

impl Manifest {
    /// Checks the whole manifest.
    ///
    /// # Errors
    /// [`ManifestError`] naming what is wrong.
    pub fn validate(&self) -> Result<(), ManifestError> {
        // docs/election.md, *Manifest*, rules M1-M9, in the order given there.
        check_name(&self.election_id, || "election id".into())?; // M3
                                                                 // M1
        if !crate::text::is_identifier(&self.election_id) {
            return Err(ManifestError::BadIdentifier {
                what: "election id".into(),
            });
        }
        // M2
        if self.nonce_bytes().is_none() {
            return Err(ManifestError::BadNonce);
        }
        check_name(&self.title, || "election title".into())?;
        if self.contests.is_empty() || self.contests.len() > MAX_CONTESTS {
            return Err(ManifestError::ContestCount);
        }
        for (i, contest) in self.contests.iter().enumerate() {
            contest.validate()?;
            // M5
            if self.contests.iter().take(i).any(|c| c.id == contest.id) {
                return Err(ManifestError::DuplicateContest {
                    id: contest.id.clone(),
                });
            }
            if let Some(first) = self
                .contests
                .iter()
                .take(i)
                .find(|c| crate::text::confusable(&c.title, &contest.title))
            {
                return Err(ManifestError::Confusable {
                    what: "contest titles".into(),
                    first: first.title.clone(),
                    second: contest.title.clone(),
                });
            }
        }
        // M9
        let bytes = self.ballot_len();
        if bytes > MAX_BALLOT_BYTES {
            return Err(ManifestError::BallotTooLarge { bytes });
        }
        Ok(())
    }

    /// The exact encoded length of every ballot for this manifest (docs/election.md, the
    /// ballot layout):
    /// `2 + 32 + 32 + 4 + Σ_contests (4 + Σ_options (64 + 4 + 128·(R+1) − 32) + 4 + 128·(max − min + 1) − 32) + 64`.
    /// The board refuses any other length before decoding anything.
    pub fn ballot_len(&self) -> u64 {
        let proof = |branches: u64| branches.saturating_mul(128).saturating_sub(32);
        let contests: u64 = self
            .contests
            .iter()
            .map(|c| {
                let option = 64 + 4 + proof(c.option_limit.saturating_add(1));
                let limit = proof(
                    c.max_selections
                        .saturating_sub(c.min_selections)
                        .saturating_add(1),
                );
                (c.options.len() as u64)
                    .saturating_mul(option)
                    .saturating_add(8 + limit)
            })
            .fold(0u64, u64::saturating_add);
        (2 + 32 + 32 + 4 + 64u64).saturating_add(contests)
    }

    /// Parses and validates a JSON manifest (unknown fields refused).
    ///
    /// # Errors
    /// [`ManifestError::Json`] for text that is not a manifest; any validation error.
    pub fn from_json(text: &str) -> Result<Self, ManifestError> {
        let manifest: Self = serde_json::from_str(text).map_err(|e| ManifestError::Json {
            message: e.to_string(),
        })?;
        manifest.validate()?;
        Ok(manifest)
    }

    /// The manifest as pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// The canonical encoding (see the module's Layout).
    pub fn to_bytes(&self) -> Vec<u8> {
        fn string(out: &mut Vec<u8>, s: &str) {
            out.extend_from_slice(&(s.len() as u32).to_le_bytes());
            out.extend_from_slice(s.as_bytes());
        }
        let mut out = vec![MANIFEST_VERSION];
        string(&mut out, &self.election_id);
        // A manifest that passed `validate` has a nonce; an unvalidated one encodes as zeros.
        out.extend_from_slice(&self.nonce_bytes().unwrap_or([0; 32]));
        string(&mut out, &self.title);
        out.push(match self.revoting {
            RevotePolicy::LastCounts => 0,
            RevotePolicy::Refused => 1,
        });
        out.extend_from_slice(&(self.contests.len() as u32).to_le_bytes());
        for c in &self.contests {
            string(&mut out, &c.id);
            string(&mut out, &c.title);
            out.extend_from_slice(&(c.options.len() as u32).to_le_bytes());
            for o in &c.options {
                string(&mut out, o);
            }
            out.extend_from_slice(&c.min_selections.to_le_bytes());
            out.extend_from_slice(&c.max_selections.to_le_bytes());
            out.extend_from_slice(&c.option_limit.to_le_bytes());
        }
        out
    }

    /// Decodes the canonical encoding ([`to_bytes`](Self::to_bytes)) and validates the result.
    /// Only canonical bytes are accepted: the manifest decoded re-encodes to the same bytes
    /// (so its hash is the hash of these bytes).
    ///
    /// # Errors
    /// [`ManifestError::Encoding`] for truncated or trailing bytes, a wrong version, a revoting
    /// byte other than 0 or 1, a count or name length beyond the limits (refused before
    /// anything is allocated), text that is not UTF-8; any validation error.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, ManifestError> {
        struct Cursor<'a>(&'a [u8]);
        impl<'a> Cursor<'a> {
            fn take(&mut self, n: usize) -> Result<&'a [u8], ManifestError> {
                if self.0.len() < n {
                    return Err(ManifestError::Encoding {
                        reason: "truncated",
                    });
                }
                let (head, tail) = self.0.split_at(n);
                self.0 = tail;
                Ok(head)
            }
            fn u32(&mut self) -> Result<u32, ManifestError> {
                let mut a = [0u8; 4];
                a.copy_from_slice(self.take(4)?);
                Ok(u32::from_le_bytes(a))
            }
            fn u64(&mut self) -> Result<u64, ManifestError> {
                let mut a = [0u8; 8];
                a.copy_from_slice(self.take(8)?);
                Ok(u64::from_le_bytes(a))
            }
            fn count(&mut self, max: usize) -> Result<usize, ManifestError> {
                let n = self.u32()? as usize;
                if n > max {
                    return Err(ManifestError::Encoding {
                        reason: "a count beyond the manifest limits",
                    });
                }
                Ok(n)
            }
            fn string(&mut self) -> Result<String, ManifestError> {
                let n = self.count(MAX_NAME_BYTES)?;
                let bytes = self.take(n)?;
                String::from_utf8(bytes.to_vec()).map_err(|_| ManifestError::Encoding {
                    reason: "a name that is not UTF-8",
                })
            }
        }
        let mut c = Cursor(bytes);
        if c.take(1)? != [MANIFEST_VERSION] {
            return Err(ManifestError::Encoding {
                reason: "unsupported manifest version",
            });
        }
        let election_id = c.string()?;
        let nonce = to_hex_lower(c.take(32)?);
        let title = c.string()?;
        let revoting = match c.take(1)? {
            [0] => RevotePolicy::LastCounts,
            [1] => RevotePolicy::Refused,
            _ => {
                return Err(ManifestError::Encoding {
                    reason: "a revoting byte other than 0 or 1",
                })
            }
        };
        let count = c.count(MAX_CONTESTS)?;
        let mut contests = Vec::with_capacity(count);
        for _ in 0..count {
            let id = c.string()?;
            let title = c.string()?;
            let n = c.count(MAX_OPTIONS)?;
            let mut options = Vec::with_capacity(n);
            for _ in 0..n {
                options.push(c.string()?);
            }
            contests.push(Contest {
                id,
                title,
                options,
                min_selections: c.u64()?,
                max_selections: c.u64()?,
                option_limit: c.u64()?,
            });
        }
        if !c.0.is_empty() {
            return Err(ManifestError::Encoding {
                reason: "bytes after the last contest",
            });
        }
        let manifest = Self {
            election_id,
            nonce,
            title,
            revoting,
            contests,
        };
        manifest.validate()?;
        // Every field above is read in its only encoding, so this holds by construction; it is
        // checked because the manifest hash, and so every proof, rests on it.
        if manifest.to_bytes() != bytes {
            return Err(ManifestError::Encoding {
                reason: "not the canonical encoding",
            });
        }
        Ok(manifest)
    }

    /// A fresh nonce for a new election.
    pub fn fresh_nonce<R: rand_core::RngCore + rand_core::CryptoRng>(rng: &mut R) -> String {
        let mut bytes = [0u8; 32];
        rng.fill_bytes(&mut bytes);
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// The nonce's 32 bytes, if it is 64 lowercase hex digits.
    fn nonce_bytes(&self) -> Option<[u8; 32]> {
        let hex = self.nonce.as_bytes();
        if hex.len() != 64 || !hex.iter().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            return None;
        }
        let mut out = [0u8; 32];
        for (o, pair) in out.iter_mut().zip(self.nonce.as_bytes().chunks(2)) {
            *o = u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok()?;
        }
        Some(out)
    }

    /// `SHA-512("evote/manifest/v1" ‖ canonical encoding)`.
    pub fn hash(&self) -> [u8; 64] {
        let mut h = Sha512::new();
        h.update(b"evote/manifest/v1");
        h.update(self.to_bytes());
        h.finalize().into()
    }

    /// The total number of options over all contests.
    pub fn option_count(&self) -> usize {
        self.contests.iter().map(|c| c.options.len()).sum()
    }

    /// A manifest with one contest of each kind: a referendum, a 1-of-5 race with blank votes,
    /// a 2-of-8 approval contest and a cumulative contest (5 votes over 4 options, at most 3
    /// to one).
    pub fn example() -> Self {
        let names = |prefix: &str, n: usize| (1..=n).map(|i| format!("{prefix} {i}")).collect();
        Self {
            election_id: "example-2026".into(),
            nonce: "0123456789abcdef".repeat(4),
            title: "Example election".into(),
            revoting: RevotePolicy::LastCounts,
            contests: vec![
                Contest {
                    id: "referendum".into(),
                    title: "Do you approve the proposal?".into(),
                    options: vec!["yes".into(), "no".into()],
                    min_selections: 1,
                    max_selections: 1,
                    option_limit: 1,
                },
                Contest {
                    id: "mayor".into(),
                    title: "Mayor (one candidate, or blank)".into(),
                    options: names("Candidate", 5),
                    min_selections: 0,
                    max_selections: 1,
                    option_limit: 1,
                },
                Contest {
                    id: "council".into(),
                    title: "Council (up to two)".into(),
                    options: names("Member", 8),
                    min_selections: 0,
                    max_selections: 2,
                    option_limit: 1,
                },
                Contest {
                    id: "budget".into(),
                    title: "Budget priorities (5 votes, at most 3 to one)".into(),
                    options: names("Priority", 4),
                    min_selections: 0,
                    max_selections: 5,
                    option_limit: 3,
                },
            ],
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn the_example_is_valid_and_roundtrips_through_json() {
        let m = Manifest::example();
        m.validate().unwrap();
        assert_eq!(Manifest::from_json(&m.to_json()).unwrap(), m);
        assert_eq!(m.option_count(), 2 + 5 + 8 + 4);
    }

    #[test]
    fn invalid_manifests_are_refused_with_the_reason() {
        let base = Manifest::example();
        let with = |f: &dyn Fn(&mut Manifest)| {
            let mut m = base.clone();
            f(&mut m);
            m.validate()
        };
        assert!(matches!(
            with(&|m| m.contests[1].id = "referendum".into()),
            Err(ManifestError::DuplicateContest { .. })
        ));
        assert!(matches!(
            with(&|m| m.contests[0].options[1] = "yes".into()),
            Err(ManifestError::DuplicateOption { .. })
        ));
        assert!(matches!(
            with(&|m| m.contests[2].options.clear()),
            Err(ManifestError::OptionCount { .. })
        ));
        assert!(matches!(
            with(&|m| m.contests.clear()),
            Err(ManifestError::ContestCount)
        ));
        assert!(matches!(
            with(&|m| m.contests[0].min_selections = 2),
            Err(ManifestError::ImpossibleLimits { .. })
        ));
        assert!(matches!(
            with(&|m| m.contests[0].max_selections = 3),
            Err(ManifestError::ImpossibleLimits { .. })
        ));
        assert!(matches!(
            with(&|m| m.contests[3].option_limit = 0),
            Err(ManifestError::ImpossibleLimits { .. })
        ));
        assert!(matches!(
            with(&|m| m.contests[3].option_limit = 5000),
            Err(ManifestError::ImpossibleLimits { .. })
        ));
        assert!(matches!(
            with(&|m| m.election_id.clear()),
            Err(ManifestError::BadName { .. })
        ));
        assert!(matches!(
            with(&|m| m.contests[1].options[0] = "x".repeat(300)),
            Err(ManifestError::BadName { .. })
        ));
        assert!(matches!(
            Manifest::from_json("{\"election_id\": 1}"),
            Err(ManifestError::Json { .. })
        ));
        let mut json: serde_json::Value = serde_json::from_str(&base.to_json()).unwrap();
        json["surprise"] = serde_json::Value::Bool(true);
        assert!(matches!(
            Manifest::from_json(&json.to_string()),
            Err(ManifestError::Json { .. })
        ));
    }

    #[test]
    fn the_hash_covers_every_field() {
        let base = Manifest::example();
        let h = base.hash();
        type Change = Box<dyn Fn(&mut Manifest)>;
        let changes: Vec<Change> = vec![
            Box::new(|m| m.election_id.push('x')),
            Box::new(|m| m.title.push('x')),
            Box::new(|m| m.revoting = RevotePolicy::Refused),
            Box::new(|m| m.contests.swap(0, 1)),
            Box::new(|m| m.contests[1].options.swap(0, 1)),
            Box::new(|m| m.contests[2].max_selections = 3),
            Box::new(|m| m.contests[2].min_selections = 1),
            Box::new(|m| m.contests[3].option_limit = 2),
            Box::new(|m| m.contests[0].title.push('?')),
            // Moving a character between adjacent names must change the encoding.
            Box::new(|m| {
                m.contests[0].options[0] = "yesn".into();
                m.contests[0].options[1] = "o".into();
            }),
        ];
        for (i, change) in changes.iter().enumerate() {
            let mut m = base.clone();
            change(&mut m);
            assert_ne!(m.hash(), h, "change {i}");
        }
    }
}
