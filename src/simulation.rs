//! Simulated elections (feature `simulation`): every party in one process — the key ceremony
//! ([`run_locally`]), the credential authority, the board, the
//! tally, the guardians' decryption and the record. The demo, the tests, the benchmarks and the
//! fuzz targets all build their elections here, so there is one pipeline to keep right.
//!
//! Not for a real election: one process holds every guardian's key share and every voter's
//! credential. A real election runs each party on its own machine.

use std::path::Path;

use rand_core::{CryptoRng, RngCore};

use crate::ceremony::{
    adjudicate, run_locally, CeremonyParams, CeremonyTranscript, GuardianKeyShare,
};
use crate::decryption::{combine, CandidateShare, EncryptedTally, DEFAULT_MIN_BALLOTS};
use crate::election::board::tally;
use crate::election::{
    write_record, CredentialList, ElectionContext, ElectionResults, Manifest, RecordError,
    RecordIndex, RecordParts, VoterCredential,
};

/// Why a simulation stopped.
pub type SimulationError = Box<dyn std::error::Error + Send + Sync>;

/// A simulated election before the vote: the ceremony's transcript and every guardian's key
/// share, the voters' credentials and the election context.
pub struct Election {
    /// The ceremony's public transcript.
    pub transcript: CeremonyTranscript,
    /// Every guardian's key share, guardian 1 first.
    pub keys: Vec<GuardianKeyShare>,
    /// The election context.
    pub context: ElectionContext,
    /// Every voter's credential, in the order issued.
    pub voters: Vec<VoterCredential>,
}

/// A decrypted election: the tally of the closed board, the shares that decrypted it and the
/// results.
pub struct Decrypted {
    /// The encrypted tally, bound to the board's head.
    pub tally: EncryptedTally,
    /// One share per guardian present.
    pub shares: Vec<CandidateShare>,
    /// The results.
    pub results: ElectionResults,
    /// The guardians whose shares were combined.
    pub combined: Vec<u32>,
}

impl Election {
    /// Runs a `threshold`-of-`guardians` ceremony named `id`, all guardians honest, and issues
    /// `voters` credentials for `manifest`.
    ///
    /// # Errors
    /// Inadmissible ceremony parameters, or a manifest the context refuses.
    pub fn new<R: RngCore + CryptoRng>(
        id: [u8; 32],
        threshold: u32,
        guardians: u32,
        manifest: Manifest,
        voters: usize,
        rng: &mut R,
    ) -> Result<Self, SimulationError> {
        let params = CeremonyParams::new(id, threshold, guardians)?;
        let (transcript, keys) = run_locally(&params, rng)?;
        let outcome = adjudicate(&transcript, rng)?;
        let (voters, list) = CredentialList::generate(voters, rng);
        let context = ElectionContext::new(manifest, outcome, list)?;
        Ok(Self {
            transcript,
            keys,
            context,
            voters,
        })
    }

    /// Writes the public election folder the per-party commands and the ballot box read
    /// (manifest, credential list, ceremony transcript) into `folder`.
    ///
    /// # Errors
    /// I/O errors.
    pub fn write_folder(&self, folder: &Path) -> Result<(), crate::party::PartyError> {
        use crate::party::{files, write_atomically};
        write_atomically(
            &folder.join(files::MANIFEST),
            self.context.manifest().to_json().as_bytes(),
        )?;
        write_atomically(
            &folder.join(files::CREDENTIALS),
            &self.context.credentials().to_bytes(),
        )?;
        write_atomically(&folder.join(files::CEREMONY), &self.transcript.to_bytes())
    }

    /// Tallies the closed board at `board` (streamed, counted ballots verified again) and
    /// decrypts it with every guardian but the first `absent`, each bound to the published
    /// `head`.
    ///
    /// # Errors
    /// A board that is not closed or not this election's, or a refused decryption.
    pub fn decrypt<R: RngCore + CryptoRng>(
        &mut self,
        board: &Path,
        head: &[u8; 64],
        absent: usize,
        rng: &mut R,
    ) -> Result<Decrypted, SimulationError> {
        let encrypted = tally(board, &self.context, rng)?;
        let shares = self
            .keys
            .iter_mut()
            .skip(absent)
            .map(|k| {
                k.decrypt_tally(
                    self.context.outcome(),
                    &encrypted,
                    head,
                    DEFAULT_MIN_BALLOTS,
                    rng,
                )
            })
            .collect::<Result<Vec<_>, _>>()?;
        let result = combine(self.context.outcome(), &encrypted, &shares, rng)?;
        let results = ElectionResults::from_counts(
            self.context.manifest(),
            encrypted.ballots(),
            &result.counts,
        )
        .ok_or("the tally does not fit the manifest")?;
        Ok(Decrypted {
            tally: encrypted,
            shares,
            results,
            combined: result.combined.iter().map(|g| g.get()).collect(),
        })
    }

    /// Writes the election's record to `dir` (see [`write_record`]).
    ///
    /// # Errors
    /// As [`write_record`].
    pub fn write_record(
        &self,
        dir: &Path,
        board: &Path,
        decrypted: &Decrypted,
    ) -> Result<RecordIndex, RecordError> {
        write_record(
            dir,
            &RecordParts {
                context: &self.context,
                ceremony: &self.transcript,
                board,
                tally: &decrypted.tally,
                shares: &decrypted.shares,
                results: &decrypted.results,
            },
        )
    }
}
