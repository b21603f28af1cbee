//! The voter's booth of evote, compiled to WebAssembly for the browser (docs/booth.md).
//!
//! The page that loads this module never holds a second implementation of the cryptography:
//! everything a voter's device computes — the election's identity check, encryption, the range
//! and selection-limit proofs, the credential's signature, the tracker, the opening of a
//! challenged ballot, the check of the ballot box's receipt — is the `evote` library's own code,
//! the code the verifier checks. The page only draws the form, talks HTTP and keeps the voter's
//! choices between steps.
//!
//! [`Booth`] is the API; [`call`] is the same API as one JSON request in, one JSON answer out,
//! which is all the WebAssembly boundary carries (see `abi`, the module's only unsafe code, and
//! docs/booth.md for every request and answer).
//!
//! Randomness is injected: each request that needs it carries 32 bytes of `entropy` that the
//! page draws from `crypto.getRandomValues`; they seed a ChaCha20 generator for that request
//! only, and every prover nonce is further hedged through merlin's transcript RNG by the
//! library. The module has no clock, no threads and no files.
#![deny(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

use evote::election::{
    ChallengedBallot, Contest, PendingBallot, Receipt, RevotePolicy, VoterContext, VoterCredential,
};
use evote::text::{from_hex, to_hex};
use evote::PublicKey;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

#[cfg(target_arch = "wasm32")]
mod abi;

/// The most bytes a request may hold (a ballot's receipt, a context of the largest manifest,
/// hex-encoded, and the voter's choices fit with room to spare).
pub const MAX_REQUEST_BYTES: usize = 2 * VoterContext::MAX_BYTES as usize + 64 * 1024;

/// Why the booth refused a step. The message names what is wrong and is shown to the voter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BoothError(pub String);

impl core::fmt::Display for BoothError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BoothError {}

macro_rules! booth_error_from {
    ($($t:ty),*) => {$(
        impl From<$t> for BoothError {
            fn from(e: $t) -> Self {
                Self(e.to_string())
            }
        }
    )*};
}
booth_error_from!(
    evote::election::BallotError,
    evote::election::ContextError,
    serde_json::Error
);

fn refuse<T>(message: impl Into<String>) -> Result<T, BoothError> {
    Err(BoothError(message.into()))
}

fn hex_array<const N: usize>(text: &str, what: &str) -> Result<[u8; N], BoothError> {
    from_hex(text.trim())
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| BoothError(format!("{what}: not {} hex digits", 2 * N)))
}

/// The election as the page shows it.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct ElectionView {
    /// The election's identifier.
    pub election_id: String,
    /// Its title.
    pub title: String,
    /// `H_E`, hex: the voter compares it with the one the election authority published.
    pub election_hash: String,
    /// Whether a later ballot replaces an earlier one (`last-counts`) or is refused.
    pub revoting: RevotePolicy,
    /// The contests with their rules, in ballot order (the manifest's own).
    pub contests: Vec<Contest>,
    /// The bytes of a cast ballot of this election.
    pub ballot_bytes: u64,
}

/// A ballot encrypted and proved, not yet cast or challenged.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Encrypted {
    /// The tracker, hex: shown to the voter before cast or challenge.
    pub tracker: String,
}

/// A ballot signed for casting.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Cast {
    /// The ballot's canonical bytes, hex (the body of `POST /ballots`).
    pub ballot: String,
    /// Its tracker, hex.
    pub tracker: String,
}

/// A challenged ballot: the seed is revealed and the ballot can never be counted.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Challenged {
    /// The challenged ballot's canonical bytes, hex (the body of `POST /challenges`).
    pub ballot: String,
    /// Its tracker, hex (the one the voter saw).
    pub tracker: String,
    /// The revealed seed, hex.
    pub seed: String,
    /// What the ballot contains, opened from the seed: `selections[c][o]`.
    pub selections: Vec<Vec<u64>>,
}

/// A receipt the booth checked.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct CheckedReceipt {
    /// The board entry that holds the ballot (from 1).
    pub entry: u64,
    /// `ballot` or `challenge`.
    pub kind: &'static str,
    /// The board's head after the entry, hex.
    pub head: String,
}

/// The booth: one election's voter context, and at most one ballot in progress.
pub struct Booth {
    context: VoterContext,
    /// The ballot between encryption and cast or challenge, with the credential it was made
    /// for (both zeroized when dropped: the seed inside the ballot, the credential's secret).
    pending: Option<(PendingBallot, VoterCredential)>,
}

impl core::fmt::Debug for Booth {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Booth")
            .field("election", &to_hex(self.context.hash()))
            .field("pending", &self.pending.is_some())
            .finish()
    }
}

impl Booth {
    /// Loads the voter context (`context.bin` as the ballot box serves it), keeping it only if
    /// it is the election `election_hash` names: a ballot box cannot hand the voter another
    /// key or another manifest.
    ///
    /// # Errors
    /// A context that does not decode, or one of another election.
    pub fn load(context: &[u8], election_hash: &[u8; 64]) -> Result<Self, BoothError> {
        Ok(Self {
            context: VoterContext::from_bytes(context, election_hash)?,
            pending: None,
        })
    }

    /// The voter context.
    pub fn context(&self) -> &VoterContext {
        &self.context
    }

    /// The election as the page shows it.
    pub fn election(&self) -> ElectionView {
        let manifest = self.context.manifest();
        ElectionView {
            election_id: manifest.election_id.clone(),
            title: manifest.title.clone(),
            election_hash: to_hex(self.context.hash()),
            revoting: manifest.revoting,
            contests: manifest.contests.clone(),
            ballot_bytes: manifest.ballot_len(),
        }
    }

    /// Checks the voter's selections against the manifest's rules (the same check encryption
    /// runs first), so the page can refuse an invalid choice before anything is encrypted.
    ///
    /// # Errors
    /// The first rule broken, naming its contest.
    pub fn check(&self, selections: &[Vec<u64>]) -> Result<(), BoothError> {
        PendingBallot::check(&self.context, selections).map_err(|e| self.explain(e))
    }

    /// Encrypts and proves `selections` for the credential whose secret is `credential` (64
    /// hex digits, as the credential authority issued it), replacing any ballot in progress.
    /// The prover runs in time independent of the selections.
    ///
    /// # Errors
    /// A credential that does not decode, or selections the manifest does not allow.
    pub fn encrypt(
        &mut self,
        credential: &str,
        selections: &[Vec<u64>],
        entropy: [u8; 32],
    ) -> Result<Encrypted, BoothError> {
        self.pending = None;
        let secret = Zeroizing::new(
            from_hex(credential.trim())
                .ok_or_else(|| BoothError("the credential is not 64 hex digits".into()))?,
        );
        let credential = VoterCredential::from_secret_bytes(&secret)
            .map_err(|e| BoothError(format!("the credential: {e}")))?;
        let mut rng = ChaCha20Rng::from_seed(entropy);
        let pending =
            PendingBallot::encrypt(&self.context, credential.public(), selections, &mut rng)
                .map_err(|e| self.explain(e))?;
        let tracker = to_hex(&pending.tracker());
        self.pending = Some((pending, credential));
        Ok(Encrypted { tracker })
    }

    /// Whether a ballot is waiting for cast or challenge.
    pub fn has_pending(&self) -> bool {
        self.pending.is_some()
    }

    /// Signs the ballot in progress for casting; its seed is forgotten.
    ///
    /// # Errors
    /// No ballot in progress.
    pub fn cast(&mut self, entropy: [u8; 32]) -> Result<Cast, BoothError> {
        let Some((pending, credential)) = self.pending.take() else {
            return refuse("no ballot is waiting to be cast: encrypt one first");
        };
        let ballot = pending.cast(&credential, &mut ChaCha20Rng::from_seed(entropy))?;
        Ok(Cast {
            ballot: to_hex(&ballot.to_bytes()),
            tracker: to_hex(&ballot.tracker()),
        })
    }

    /// Challenges the ballot in progress (Benaloh): reveals its seed, signed by the credential,
    /// and opens it to show what it contains. A challenged ballot is never counted: the voter
    /// encrypts again.
    ///
    /// # Errors
    /// No ballot in progress, or a ballot its own seed does not open (a broken device).
    pub fn challenge(&mut self, entropy: [u8; 32]) -> Result<Challenged, BoothError> {
        let Some((pending, credential)) = self.pending.take() else {
            return refuse("no ballot is waiting to be challenged: encrypt one first");
        };
        let challenged = pending.challenge(&credential, &mut ChaCha20Rng::from_seed(entropy))?;
        self.open(&challenged)
    }

    /// Opens a challenged ballot (its bytes, hex) with its revealed seed: what a second device
    /// shows a voter who challenged on the first.
    ///
    /// # Errors
    /// Bytes that are not a challenged ballot of this election's shape, or a seed that does not
    /// open it.
    pub fn open_challenged(&self, ballot: &str) -> Result<Challenged, BoothError> {
        let bytes = from_hex(ballot.trim())
            .ok_or_else(|| BoothError("the challenged ballot is not hex".into()))?;
        self.open(&ChallengedBallot::from_bytes(&bytes)?)
    }

    fn open(&self, challenged: &ChallengedBallot) -> Result<Challenged, BoothError> {
        Ok(Challenged {
            ballot: to_hex(&challenged.to_bytes()),
            tracker: to_hex(&challenged.tracker()),
            seed: to_hex(challenged.seed()),
            selections: challenged.vartime_open(&self.context)?,
        })
    }

    /// Checks the ballot box's receipt (hex) for the ballot with tracker `tracker` (hex): signed
    /// by the ballot box's key `ballot_box` (hex, as `GET /election` gives it) for this
    /// election, and naming this tracker.
    ///
    /// # Errors
    /// A receipt that does not decode, is not signed by that key for this election, or names
    /// another ballot.
    pub fn check_receipt(
        &self,
        receipt: &str,
        ballot_box: &str,
        tracker: &str,
    ) -> Result<CheckedReceipt, BoothError> {
        let key = PublicKey::from_bytes(&hex_array::<32>(ballot_box, "the ballot box's key")?)
            .map_err(|e| BoothError(format!("the ballot box's key: {e}")))?;
        let tracker = hex_array::<64>(tracker, "the tracker")?;
        let bytes =
            from_hex(receipt.trim()).ok_or_else(|| BoothError("the receipt is not hex".into()))?;
        let receipt =
            Receipt::from_bytes(&bytes).map_err(|e| BoothError(format!("the receipt: {e}")))?;
        if receipt.verify(self.context.hash(), &key).is_err() {
            return refuse("the receipt is not signed by this ballot box for this election");
        }
        if receipt.tracker != tracker {
            return refuse("the receipt is for another ballot");
        }
        Ok(CheckedReceipt {
            entry: receipt.entry,
            kind: match receipt.kind {
                evote::election::EntryKind::Cast => "ballot",
                evote::election::EntryKind::Challenge => "challenge",
            },
            head: to_hex(&receipt.head),
        })
    }

    /// A ballot error in the voter's terms: contests by title, not by index.
    fn explain(&self, e: evote::election::BallotError) -> BoothError {
        use evote::election::BallotError;
        match e {
            BallotError::InvalidSelection { contest, reason } => {
                let title = self
                    .context
                    .manifest()
                    .contests
                    .get(contest)
                    .map_or("?", |c| c.title.as_str());
                BoothError(format!("{title}: {reason}"))
            }
            e => BoothError(e.to_string()),
        }
    }
}

/// One request to [`call`], as JSON: `{"op": …, …}` (docs/booth.md lists every field).
#[derive(Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
enum Request {
    Load {
        context: String,
        election_hash: String,
    },
    Election {},
    Check {
        selections: Vec<Vec<u64>>,
    },
    Encrypt {
        credential: String,
        selections: Vec<Vec<u64>>,
        entropy: String,
    },
    Cast {
        entropy: String,
    },
    Challenge {
        entropy: String,
    },
    OpenChallenged {
        ballot: String,
    },
    CheckReceipt {
        receipt: String,
        ballot_box: String,
        tracker: String,
    },
}

/// Runs one JSON request against the booth in `state` (`None` until a `load` succeeds) and
/// answers `{"ok": …}` or `{"error": "…"}`. Never panics, whatever the request.
pub fn call(state: &mut Option<Booth>, request: &[u8]) -> String {
    let answer = match handle(state, request) {
        Ok(value) => serde_json::json!({ "ok": value }),
        Err(e) => serde_json::json!({ "error": e.0 }),
    };
    answer.to_string()
}

fn handle(state: &mut Option<Booth>, request: &[u8]) -> Result<serde_json::Value, BoothError> {
    if request.len() > MAX_REQUEST_BYTES {
        return refuse(format!(
            "a request of {} bytes; at most {MAX_REQUEST_BYTES}",
            request.len()
        ));
    }
    let request: Request =
        serde_json::from_slice(request).map_err(|e| BoothError(format!("the request: {e}")))?;
    let entropy = |text: &str| hex_array::<32>(text, "entropy");
    if let Request::Load {
        context,
        election_hash,
    } = &request
    {
        let bytes = from_hex(context.trim())
            .ok_or_else(|| BoothError("the election context is not hex".into()))?;
        let booth = Booth::load(
            &bytes,
            &hex_array::<64>(election_hash, "the election hash")?,
        )?;
        let view = booth.election();
        *state = Some(booth);
        return Ok(serde_json::to_value(view)?);
    }
    let Some(booth) = state.as_mut() else {
        return refuse("no election is loaded");
    };
    Ok(match request {
        Request::Load { .. } => serde_json::Value::Null,
        Request::Election {} => serde_json::to_value(booth.election())?,
        Request::Check { selections } => {
            booth.check(&selections)?;
            serde_json::Value::Null
        }
        Request::Encrypt {
            credential,
            selections,
            entropy: e,
        } => {
            let credential = Zeroizing::new(credential);
            serde_json::to_value(booth.encrypt(&credential, &selections, entropy(&e)?)?)?
        }
        Request::Cast { entropy: e } => serde_json::to_value(booth.cast(entropy(&e)?)?)?,
        Request::Challenge { entropy: e } => serde_json::to_value(booth.challenge(entropy(&e)?)?)?,
        Request::OpenChallenged { ballot } => {
            serde_json::to_value(booth.open_challenged(&ballot)?)?
        }
        Request::CheckReceipt {
            receipt,
            ballot_box,
            tracker,
        } => serde_json::to_value(booth.check_receipt(&receipt, &ballot_box, &tracker)?)?,
    })
}
