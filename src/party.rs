//! The parties of a real election, each on its own machine, and the folders they share: the
//! public *election folder* (manifest, credential list, then the ceremony transcript), a
//! guardian's sealed *state file*, and the ceremony's *exchange folder* where each guardian
//! publishes one file per round. The `evote election`, `evote guardian`, `evote vote`,
//! `evote board`, `evote record` commands are thin wrappers over this module; docs/deployment.md
//! says who runs what.
//!
//! Everything read from a shared folder is untrusted: a file that does not decode is reported,
//! naming it, and treated as missing; a guardian's own published file that differs from what its
//! state says it sent is refused (someone else wrote it).

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use rand_core::{CryptoRng, RngCore};
use sha2::{Digest, Sha512};

use crate::ceremony::{
    adjudicate, CeremonyOutcome, CeremonyParams, CeremonyTranscript, CommitmentHashPackage,
    Complaint, EncryptedShare, Guardian, GuardianIndex, KdfParams, Message, RevealPackage, Stage,
};
use crate::election::{CredentialList, ElectionContext, Manifest, VoterContext, VoterCredential};

/// Why a party's step could not run.
pub type PartyError = Box<dyn std::error::Error + Send + Sync>;

/// File names in an election folder.
pub mod files {
    /// The manifest (JSON).
    pub const MANIFEST: &str = "manifest.json";
    /// The public credential list.
    pub const CREDENTIALS: &str = "credentials.bin";
    /// The ceremony transcript, once the ceremony is finished.
    pub const CEREMONY: &str = "ceremony.bin";
    /// The voter context (manifest, keys, digests), once the ceremony is finished: all a
    /// voter's client needs, checked against the election hash.
    pub const CONTEXT: &str = "context.bin";
    /// The ceremony outcome, once the ceremony is finished.
    pub const OUTCOME: &str = "outcome.bin";
}

/// Writes `bytes` to `path` atomically: a temporary file beside it, synced, renamed over it,
/// the folder synced. A reader sees the old file or the new one, never a part.
///
/// # Errors
/// I/O errors, naming the file.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), PartyError> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .ok_or_else(|| format!("{}: no file name", path.display()))?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let temporary = dir.join(format!(".{name}.writing-{}", std::process::id()));
    let written = (|| -> std::io::Result<()> {
        let mut file = File::create(&temporary)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&temporary, path)?;
        if let Ok(d) = File::open(&dir) {
            d.sync_all()?;
        }
        Ok(())
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    written.map_err(|e| format!("{}: {e}", path.display()).into())
}

/// Reads a file that others wrote, at most `max` bytes (a longer one is refused before it is
/// read in full).
///
/// # Errors
/// I/O errors, or a file longer than `max`, naming the file.
pub fn read(path: &Path, max: u64) -> Result<Vec<u8>, PartyError> {
    let file = File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut bytes = Vec::new();
    file.take(max + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    if bytes.len() as u64 > max {
        return Err(format!("{}: longer than {max} bytes", path.display()).into());
    }
    Ok(bytes)
}

/// Creates an election folder: the manifest and the credential list for `voters` voters
/// (public), and one credential file per voter in `secrets` (the credential authority's
/// private output: hand each voter its own, never publish them).
///
/// # Errors
/// An invalid manifest, an existing election folder, I/O errors.
pub fn election_new<R: RngCore + CryptoRng>(
    manifest: &Manifest,
    voters: usize,
    election: &Path,
    secrets: &Path,
    rng: &mut R,
) -> Result<(), PartyError> {
    manifest.validate()?;
    if voters == 0 {
        return Err("an election needs at least one voter".into());
    }
    if election.join(files::MANIFEST).exists() {
        return Err(format!("{} already holds an election", election.display()).into());
    }
    let (credentials, list) = CredentialList::generate(voters, rng);
    std::fs::create_dir_all(secrets).map_err(|e| format!("{}: {e}", secrets.display()))?;
    for (k, c) in credentials.iter().enumerate() {
        write_atomically(
            &secrets.join(format!("voter-{:06}.credential", k + 1)),
            format!("{}\n", hex(c.expose_secret_bytes().as_slice())).as_bytes(),
        )?;
    }
    write_atomically(&election.join(files::CREDENTIALS), &list.to_bytes())?;
    write_atomically(
        &election.join(files::MANIFEST),
        manifest.to_json().as_bytes(),
    )?;
    Ok(())
}

/// Reads a voter's credential file (the 64 hex digits `election_new` wrote).
///
/// # Errors
/// A file that is not one credential.
pub fn read_credential(path: &Path) -> Result<VoterCredential, PartyError> {
    let text = String::from_utf8(read(path, 1024)?)
        .map_err(|_| format!("{}: not a credential file", path.display()))?;
    let bytes =
        unhex(text.trim()).ok_or_else(|| format!("{}: not 64 hex digits", path.display()))?;
    Ok(VoterCredential::from_secret_bytes(&bytes)
        .map_err(|e| format!("{}: {e}", path.display()))?)
}

/// The manifest of an election folder.
///
/// # Errors
/// A missing or invalid manifest.
pub fn election_manifest(election: &Path) -> Result<Manifest, PartyError> {
    let path = election.join(files::MANIFEST);
    let text = String::from_utf8(read(&path, crate::election::record::MAX_JSON_BYTES)?)
        .map_err(|_| format!("{}: not UTF-8", path.display()))?;
    Ok(Manifest::from_json(&text).map_err(|e| format!("{}: {e}", path.display()))?)
}

/// The ceremony of an election: its id is bound to the manifest,
/// `SHA-512("evote/ceremony-id/v1" ‖ manifest hash)[..32]`, so a ceremony run for one election
/// cannot be presented as another's.
///
/// # Errors
/// A missing manifest, inadmissible `t`, `n`.
pub fn ceremony_params(election: &Path, t: u32, n: u32) -> Result<CeremonyParams, PartyError> {
    let manifest = election_manifest(election)?;
    let digest = Sha512::new()
        .chain_update(b"evote/ceremony-id/v1")
        .chain_update(manifest.hash())
        .finalize();
    let mut id = [0u8; 32];
    id.copy_from_slice(digest.get(..32).unwrap_or(&[0; 32]));
    Ok(CeremonyParams::new(id, t, n)?)
}

/// The election context of a folder whose ceremony is finished (manifest, adjudicated
/// transcript, credential list), with the outcome.
///
/// # Errors
/// A missing or invalid part, naming the file.
pub fn election_context<R: RngCore + CryptoRng>(
    election: &Path,
    rng: &mut R,
) -> Result<ElectionContext, PartyError> {
    let manifest = election_manifest(election)?;
    let path = election.join(files::CEREMONY);
    let transcript = CeremonyTranscript::from_bytes(&read(&path, CeremonyTranscript::MAX_BYTES)?)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let outcome = adjudicate(&transcript, rng).map_err(|e| format!("{}: {e}", path.display()))?;
    let path = election.join(files::CREDENTIALS);
    let list = CredentialList::from_bytes(&read(
        &path,
        crate::election::record::MAX_CREDENTIALS_BYTES,
    )?)
    .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(ElectionContext::new(manifest, outcome, list)?)
}

/// Publishes the voter context and the ceremony outcome of a finished ceremony in the election
/// folder (`context.bin`, `outcome.bin`). Writing them again with the same bytes is a no-op; a
/// folder already holding other bytes is refused (another election's context is never
/// replaced).
///
/// # Errors
/// Other bytes already there; I/O errors, naming the file.
pub fn publish_context(election: &Path, context: &ElectionContext) -> Result<(), PartyError> {
    for (name, bytes) in [
        (files::CONTEXT, context.voter().to_bytes()),
        (files::OUTCOME, context.outcome().to_bytes()),
    ] {
        publish_once(&election.join(name), &bytes, "another election's file")?;
    }
    Ok(())
}

/// Writes a public file of the election folder once: writing the same bytes again is a no-op,
/// other bytes already there are refused (`what` names them in the error).
fn publish_once(path: &Path, bytes: &[u8], what: &str) -> Result<(), PartyError> {
    match std::fs::read(path) {
        Ok(existing) if existing == bytes => Ok(()),
        Ok(_) => Err(format!("{}: {what} is already published there", path.display()).into()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => write_atomically(path, bytes),
        Err(e) => Err(format!("{}: {e}", path.display()).into()),
    }
}

/// The voter context of an election folder (`context.bin`), accepted only for the election
/// hash the voter trusts: a voter's client needs neither the credential list nor the ceremony
/// transcript.
///
/// # Errors
/// A missing file, or a context that does not decode or describes another election.
pub fn voter_context(election: &Path, trusted: &[u8; 64]) -> Result<VoterContext, PartyError> {
    let path = election.join(files::CONTEXT);
    let bytes = read(&path, VoterContext::MAX_BYTES)?;
    Ok(
        VoterContext::from_bytes(&bytes, trusted)
            .map_err(|e| format!("{}: {e}", path.display()))?,
    )
}

/// The ceremony transcript of an election folder.
///
/// # Errors
/// A missing or undecodable transcript.
pub fn election_transcript(election: &Path) -> Result<CeremonyTranscript, PartyError> {
    let path = election.join(files::CEREMONY);
    Ok(
        CeremonyTranscript::from_bytes(&read(&path, CeremonyTranscript::MAX_BYTES)?)
            .map_err(|e| format!("{}: {e}", path.display()))?,
    )
}

/// A guardian's state file: sealed under its passphrase.
pub struct StateFile {
    path: PathBuf,
    passphrase: Vec<u8>,
    kdf: KdfParams,
}

impl StateFile {
    /// The state file at `path`, sealed under `passphrase` with `kdf`.
    pub fn new(path: &Path, passphrase: Vec<u8>, kdf: KdfParams) -> Self {
        Self {
            path: path.to_path_buf(),
            passphrase,
            kdf,
        }
    }

    /// Opens the guardian.
    ///
    /// # Errors
    /// A missing file, a wrong passphrase, a damaged file.
    pub fn load(&self) -> Result<Guardian, PartyError> {
        let sealed = read(&self.path, 64 << 20)?;
        Ok(Guardian::unseal(&sealed, &self.passphrase)
            .map_err(|e| format!("{}: {e}", self.path.display()))?)
    }

    /// Saves the guardian (atomically: the old state or the new, never a part).
    ///
    /// # Errors
    /// I/O errors.
    pub fn save<R: RngCore + CryptoRng>(
        &self,
        g: &Guardian,
        rng: &mut R,
    ) -> Result<(), PartyError> {
        let sealed = g.seal_with(&self.passphrase, self.kdf, rng)?;
        write_atomically(&self.path, &sealed)
    }

    /// Whether the file exists.
    pub fn exists(&self) -> bool {
        self.path.exists()
    }
}

/// The exchange folder of a ceremony: `round<r>/guardian-<i>.bin`, one file per guardian and
/// round (round 1 a commitment-hash package; 2 a reveal package; 3 and 4 `LE32(count)` then the
/// encrypted shares (58 bytes each) or complaints (138 bytes each)).
pub struct Exchange {
    dir: PathBuf,
}

/// What the exchange holds for one round.
pub struct Round<T> {
    /// The packages, by sender.
    pub packages: BTreeMap<GuardianIndex, T>,
    /// Guardians whose file is absent.
    pub missing: Vec<GuardianIndex>,
    /// Files that are present but do not decode (or belong to another sender), with why.
    pub refused: Vec<(PathBuf, String)>,
}

fn stage_round(stage: Stage) -> u32 {
    match stage {
        Stage::Committed => 1,
        Stage::Revealed => 2,
        Stage::Shared => 3,
        Stage::Checked => 4,
        Stage::Finished => 5,
    }
}

fn encode_message(m: &Message) -> Vec<u8> {
    match m {
        Message::Hash(h) => h.to_bytes(),
        Message::Reveal(r) => r.to_bytes(),
        Message::Shares(list) => {
            let mut out = (list.len() as u32).to_le_bytes().to_vec();
            for s in list {
                out.extend_from_slice(&s.to_bytes());
            }
            out
        }
        Message::Complaints(list) => {
            let mut out = (list.len() as u32).to_le_bytes().to_vec();
            for c in list {
                out.extend_from_slice(&c.to_bytes());
            }
            out
        }
    }
}

/// Decodes a round-3 exchange file: `LE32(count)` then `count` encrypted shares (58 bytes
/// each), at most `n`.
///
/// # Errors
/// What is wrong.
pub fn decode_shares(bytes: &[u8], n: u32) -> Result<Vec<EncryptedShare>, String> {
    decode_fixed(bytes, EncryptedShare::BYTES, n, EncryptedShare::from_bytes)
}

/// Decodes a round-4 exchange file: `LE32(count)` then `count` complaints (138 bytes each), at
/// most `n`.
///
/// # Errors
/// What is wrong.
pub fn decode_complaints(bytes: &[u8], n: u32) -> Result<Vec<Complaint>, String> {
    decode_fixed(bytes, Complaint::BYTES, n, Complaint::from_bytes)
}

/// The exchange file of a round-3 or round-4 message (the inverse of the decoders above).
pub fn encode_list(items: &[Vec<u8>]) -> Vec<u8> {
    let mut out = (items.len() as u32).to_le_bytes().to_vec();
    for item in items {
        out.extend_from_slice(item);
    }
    out
}

fn decode_fixed<T>(
    bytes: &[u8],
    size: usize,
    max: u32,
    decode: fn(&[u8]) -> Result<T, crate::DecodeError>,
) -> Result<Vec<T>, String> {
    let (count, rest) = bytes.split_at_checked(4).ok_or("shorter than its count")?;
    let count = u32::from_le_bytes(count.try_into().map_err(|_| "count")?);
    if count > max || rest.len() != count as usize * size {
        return Err(format!("{count} packages in {} bytes", rest.len()));
    }
    rest.chunks_exact(size)
        .map(|c| decode(c).map_err(|e| e.to_string()))
        .collect()
}

impl Exchange {
    /// The exchange folder at `dir`.
    pub fn new(dir: &Path) -> Self {
        Self {
            dir: dir.to_path_buf(),
        }
    }

    fn path(&self, round: u32, i: GuardianIndex) -> PathBuf {
        self.dir
            .join(format!("round{round}"))
            .join(format!("guardian-{}.bin", i.get()))
    }

    /// Publishes a guardian's message for the round it completed. Idempotent: the same bytes
    /// again change nothing; different bytes already there are refused.
    ///
    /// # Errors
    /// Another message of this guardian for this round already published; I/O errors.
    pub fn publish(&self, g: &Guardian) -> Result<Option<PathBuf>, PartyError> {
        let Some(message) = g.message() else {
            return Ok(None);
        };
        let path = self.path(stage_round(g.stage()), g.index());
        let bytes = encode_message(&message);
        match std::fs::read(&path) {
            Ok(existing) if existing == bytes => return Ok(Some(path)),
            Ok(_) => {
                return Err(format!(
                    "{}: holds another message for guardian {} than its state says it sent",
                    path.display(),
                    g.index()
                )
                .into())
            }
            Err(_) => {}
        }
        write_atomically(&path, &bytes)?;
        Ok(Some(path))
    }

    fn round<T>(
        &self,
        params: &CeremonyParams,
        round: u32,
        decode: impl Fn(&[u8]) -> Result<T, String>,
        sender: impl Fn(&T) -> Vec<GuardianIndex>,
    ) -> Round<T> {
        let mut out = Round {
            packages: BTreeMap::new(),
            missing: Vec::new(),
            refused: Vec::new(),
        };
        for i in params.indices() {
            let path = self.path(round, i);
            match read(&path, 64 << 20) {
                Err(_) if !path.exists() => out.missing.push(i),
                Err(e) => out.refused.push((path, e.to_string())),
                Ok(bytes) => match decode(&bytes) {
                    Err(e) => out.refused.push((path, e)),
                    Ok(p) if sender(&p).iter().any(|s| *s != i) => out
                        .refused
                        .push((path, format!("a package of another guardian than {i}"))),
                    Ok(p) => {
                        out.packages.insert(i, p);
                    }
                },
            }
        }
        out
    }

    /// Round 1's commitment hashes.
    pub fn hashes(&self, params: &CeremonyParams) -> Round<CommitmentHashPackage> {
        self.round(
            params,
            1,
            |b| CommitmentHashPackage::from_bytes(b).map_err(|e| e.to_string()),
            |p| vec![p.sender()],
        )
    }

    /// Round 2's reveals.
    pub fn reveals(&self, params: &CeremonyParams) -> Round<RevealPackage> {
        self.round(
            params,
            2,
            |b| RevealPackage::from_bytes(b).map_err(|e| e.to_string()),
            |p| vec![p.sender()],
        )
    }

    /// Round 3's sealed shares, by sender.
    pub fn shares(&self, params: &CeremonyParams) -> Round<Vec<EncryptedShare>> {
        let n = params.guardians();
        self.round(
            params,
            3,
            move |b| decode_shares(b, n),
            |list| list.iter().map(|s| s.sender()).collect(),
        )
    }

    /// Round 4's complaints, by complainer.
    pub fn complaints(&self, params: &CeremonyParams) -> Round<Vec<Complaint>> {
        let n = params.guardians();
        self.round(
            params,
            4,
            move |b| decode_complaints(b, n),
            |list| list.iter().map(|c| c.complainer()).collect(),
        )
    }

    /// The transcript of everything published, in canonical order (by sender, then as
    /// published): every guardian that assembles it from the same exchange gets the same bytes.
    pub fn transcript(&self, params: &CeremonyParams) -> CeremonyTranscript {
        CeremonyTranscript {
            params: params.clone(),
            hashes: self.hashes(params).packages.into_values().collect(),
            reveals: self.reveals(params).packages.into_values().collect(),
            shares: self
                .shares(params)
                .packages
                .into_values()
                .flatten()
                .collect(),
            complaints: self
                .complaints(params)
                .packages
                .into_values()
                .flatten()
                .collect(),
        }
    }
}

/// What a guardian step did.
#[derive(Debug, PartialEq, Eq)]
pub enum StepOutcome {
    /// A round was completed and its message published.
    Advanced(Stage),
    /// Nothing to do yet: these guardians' files of this round are missing (or refused).
    Waiting {
        /// The round waited on.
        round: u32,
        /// Who.
        missing: Vec<GuardianIndex>,
    },
    /// Round 4 is done: `finish` comes next.
    ReadyToFinish,
    /// The ceremony is over for this guardian.
    Finished,
}

/// Does whatever is due for the guardian in `state`: publishes its last message (again, if a
/// crash lost it), and when every guardian's message of that round is in (or `proceed`, after
/// the round's deadline: without the missing ones), runs the next round, saves the state and
/// publishes the new message. The state is saved before the message is published, so a crash
/// between the two republishes the same message on the next step.
///
/// # Errors
/// A state that does not open, a refused round (the state is unchanged), I/O errors.
pub fn guardian_step<R: RngCore + CryptoRng>(
    state: &StateFile,
    exchange: &Exchange,
    proceed: bool,
    rng: &mut R,
) -> Result<StepOutcome, PartyError> {
    let mut g = state.load()?;
    exchange.publish(&g)?;
    let params = g.params().clone();
    let round = stage_round(g.stage());
    let wait = |missing: Vec<GuardianIndex>, refused: usize| {
        (!proceed && (!missing.is_empty() || refused > 0))
            .then_some(StepOutcome::Waiting { round, missing })
    };
    match g.stage() {
        Stage::Committed => {
            let got = exchange.hashes(&params);
            if let Some(w) = wait(got.missing, got.refused.len()) {
                return Ok(w);
            }
            let hashes: Vec<_> = got.packages.into_values().collect();
            g.reveal(&hashes)?;
        }
        Stage::Revealed => {
            let got = exchange.reveals(&params);
            if let Some(w) = wait(got.missing, got.refused.len()) {
                return Ok(w);
            }
            let reveals: Vec<_> = got.packages.into_values().collect();
            g.share(&reveals, rng)?;
        }
        Stage::Shared => {
            let got = exchange.shares(&params);
            if let Some(w) = wait(got.missing, got.refused.len()) {
                return Ok(w);
            }
            let shares: Vec<_> = got.packages.into_values().flatten().collect();
            g.check(&shares, rng)?;
        }
        Stage::Checked => return Ok(StepOutcome::ReadyToFinish),
        Stage::Finished => return Ok(StepOutcome::Finished),
    }
    state.save(&g, rng)?;
    exchange.publish(&g)?;
    Ok(StepOutcome::Advanced(g.stage()))
}

/// Ends the ceremony for the guardian in `state`: assembles the transcript from the exchange
/// (every guardian's round-4 file must be in, unless `proceed`), adjudicates it, forms the key
/// share, saves the state, and writes the transcript to the election folder (refusing one that
/// differs from a transcript already there).
///
/// # Errors
/// Round 4 incomplete, a refused transcript, another transcript already published.
pub fn guardian_finish<R: RngCore + CryptoRng>(
    state: &StateFile,
    exchange: &Exchange,
    election: &Path,
    proceed: bool,
    rng: &mut R,
) -> Result<CeremonyOutcome, PartyError> {
    let mut g = state.load()?;
    let params = g.params().clone();
    if g.stage() == Stage::Checked {
        exchange.publish(&g)?;
        let got = exchange.complaints(&params);
        if !proceed && (!got.missing.is_empty() || !got.refused.is_empty()) {
            return Err(format!(
                "round 4 is not complete: waiting for guardians {}",
                list(&got.missing)
            )
            .into());
        }
    }
    let transcript = exchange.transcript(&params);
    let outcome = g.finish(&transcript, rng)?;
    state.save(&g, rng)?;
    publish_once(
        &election.join(files::CEREMONY),
        &transcript.to_bytes(),
        "another transcript",
    )?;
    Ok(outcome)
}

/// `1, 2, 4`.
pub fn list(guardians: &[GuardianIndex]) -> String {
    guardians
        .iter()
        .map(|g| g.get().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Decodes hex (either case); `None` for anything else ([`crate::text::from_hex`]).
pub fn unhex(text: &str) -> Option<Vec<u8>> {
    crate::text::from_hex(text)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn hex_round_trips_and_refuses_junk() {
        assert_eq!(unhex(&hex(&[0, 1, 254, 255])), Some(vec![0, 1, 254, 255]));
        assert_eq!(unhex("0"), None);
        assert_eq!(unhex("zz"), None);
        assert_eq!(unhex("AB"), Some(vec![0xab]));
    }
}
