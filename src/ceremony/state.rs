//! A guardian that survives restarts: the whole ceremony state of one guardian, from round 1 to
//! its key share, as one value with a canonical encoding, kept at rest sealed under a
//! passphrase (Argon2id, then ChaCha20-Poly1305).
//!
//! Each round is a method that leaves the guardian unchanged when it fails (a missing package,
//! a channel glitch): it can be retried. A round that succeeded keeps the message it produced,
//! and running it again changes nothing, so a guardian that crashed after sending, or is asked
//! twice, never sends two different messages for one round. The one-decryption rule of the
//! key share is part of the state, so it holds across restarts too.
//!
//! docs/ceremony.md (*Guardian state at rest*) gives both encodings.

use std::collections::BTreeMap;

use argon2::{Algorithm, Argon2, Params, Version};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use curve25519_dalek::constants::RISTRETTO_BASEPOINT_TABLE;
use rand_core::{CryptoRng, RngCore};
use zeroize::Zeroizing;

use super::guardian::{part1, Polynomial, SecretShares};
use super::packages::{CommitmentHashPackage, Complaint, EncryptedShare, RevealPackage};
use super::{
    CeremonyError, CeremonyOutcome, CeremonyParams, CeremonyTranscript, GuardianIndex,
    GuardianKeyShare, Round1Secret, Round2Secret, Round3Secret, Round4Secret, MAX_GUARDIANS,
};
use crate::errors::DecodeError;
use crate::group::Reader;
use crate::keys::{KeyPair, PublicKey, SecretKey};

/// The version of the guardian state encoding.
pub const GUARDIAN_STATE_VERSION: u8 = 1;

/// Where a guardian is in the ceremony: the last round it completed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Stage {
    /// Round 1 done: its commitment hash is ready to publish.
    Committed,
    /// Round 2 done: its reveal is ready to publish.
    Revealed,
    /// Round 3 done: its sealed shares are ready to publish.
    Shared,
    /// Round 4 done: its complaints (often none) are ready to publish.
    Checked,
    /// The ceremony is over: it holds its key share.
    Finished,
}

impl Stage {
    /// Its name, as `evote guardian status` prints it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Committed => "committed (round 1)",
            Self::Revealed => "revealed (round 2)",
            Self::Shared => "shared (round 3)",
            Self::Checked => "checked (round 4)",
            Self::Finished => "finished",
        }
    }
}

enum State {
    Committed {
        secret: Round1Secret,
        hash: CommitmentHashPackage,
    },
    Revealed {
        secret: Round2Secret,
    },
    Shared {
        secret: Round3Secret,
        shares: Vec<EncryptedShare>,
    },
    Checked {
        secret: Round4Secret,
        complaints: Vec<Complaint>,
    },
    Finished {
        key: GuardianKeyShare,
    },
}

/// The message a guardian publishes for the round it completed last.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Message {
    /// Round 1.
    Hash(CommitmentHashPackage),
    /// Round 2.
    Reveal(Box<RevealPackage>),
    /// Round 3 (one per other qualified guardian).
    Shares(Vec<EncryptedShare>),
    /// Round 4 (none when every share checked out).
    Complaints(Vec<Complaint>),
}

/// One guardian's whole ceremony state. Secret: redacted `Debug`, every secret zeroized on
/// drop, never `Clone`.
pub struct Guardian {
    state: State,
}

impl core::fmt::Debug for Guardian {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "Guardian({}, {}, <redacted>)",
            self.index(),
            self.stage().name()
        )
    }
}

fn wrong_stage(reason: &'static str) -> CeremonyError {
    CeremonyError::UnexpectedPackage { reason }
}

impl Guardian {
    /// Round 1 for guardian `index` of the ceremony `params`.
    ///
    /// # Errors
    /// As [`part1`].
    pub fn start<R: RngCore + CryptoRng>(
        params: &CeremonyParams,
        index: GuardianIndex,
        rng: &mut R,
    ) -> Result<Self, CeremonyError> {
        let (secret, hash) = part1(params, index, rng)?;
        Ok(Self {
            state: State::Committed { secret, hash },
        })
    }

    /// The last round completed.
    pub fn stage(&self) -> Stage {
        match &self.state {
            State::Committed { .. } => Stage::Committed,
            State::Revealed { .. } => Stage::Revealed,
            State::Shared { .. } => Stage::Shared,
            State::Checked { .. } => Stage::Checked,
            State::Finished { .. } => Stage::Finished,
        }
    }

    /// This guardian's index.
    pub fn index(&self) -> GuardianIndex {
        match &self.state {
            State::Committed { secret, .. } => secret.index,
            State::Revealed { secret } => secret.round1.index,
            State::Shared { secret, .. } => secret.round2.round1.index,
            State::Checked { secret, .. } => secret.index,
            State::Finished { key } => key.index,
        }
    }

    /// The ceremony.
    pub fn params(&self) -> &CeremonyParams {
        match &self.state {
            State::Committed { secret, .. } => &secret.params,
            State::Revealed { secret } => &secret.round1.params,
            State::Shared { secret, .. } => &secret.round2.round1.params,
            State::Checked { secret, .. } => &secret.params,
            State::Finished { key } => &key.params,
        }
    }

    /// The message of the last round completed — the same on every call — or `None` once
    /// finished.
    pub fn message(&self) -> Option<Message> {
        match &self.state {
            State::Committed { hash, .. } => Some(Message::Hash(hash.clone())),
            State::Revealed { secret } => {
                Some(Message::Reveal(Box::new(secret.round1.reveal.clone())))
            }
            State::Shared { shares, .. } => Some(Message::Shares(shares.clone())),
            State::Checked { complaints, .. } => Some(Message::Complaints(complaints.clone())),
            State::Finished { .. } => None,
        }
    }

    /// Round 2, given every guardian's commitment hash. Nothing changes when it fails; once
    /// done, calling it again does nothing.
    ///
    /// # Errors
    /// As [`Round1Secret::part2`]; a guardian past round 1 that never did round 2 cannot exist.
    pub fn reveal(&mut self, hashes: &[CommitmentHashPackage]) -> Result<(), CeremonyError> {
        if let State::Committed { secret, .. } = &self.state {
            let (next, _) = secret.duplicate().part2(hashes)?;
            self.state = State::Revealed { secret: next };
        }
        Ok(())
    }

    /// Round 3, given every guardian's reveal.
    ///
    /// # Errors
    /// As [`Round2Secret::part3`]; [`CeremonyError::UnexpectedPackage`] before round 2.
    pub fn share<R: RngCore + CryptoRng>(
        &mut self,
        reveals: &[RevealPackage],
        rng: &mut R,
    ) -> Result<(), CeremonyError> {
        match &self.state {
            State::Committed { .. } => Err(wrong_stage("round 2 is not done yet")),
            State::Revealed { secret } => {
                let (next, shares) = secret.duplicate().part3(reveals, rng)?;
                self.state = State::Shared {
                    secret: next,
                    shares,
                };
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// Round 4, given every sealed share on the broadcast.
    ///
    /// # Errors
    /// As [`Round3Secret::part4`]; [`CeremonyError::UnexpectedPackage`] before round 3.
    pub fn check<R: RngCore + CryptoRng>(
        &mut self,
        shares: &[EncryptedShare],
        rng: &mut R,
    ) -> Result<(), CeremonyError> {
        match &self.state {
            State::Committed { .. } | State::Revealed { .. } => {
                Err(wrong_stage("round 3 is not done yet"))
            }
            State::Shared { secret, .. } => {
                let (next, complaints) = secret.duplicate().part4(shares, rng)?;
                self.state = State::Checked {
                    secret: next,
                    complaints,
                };
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// Ends the ceremony from the public transcript: adjudicates it and forms the key share.
    /// A finished guardian adjudicates again and keeps its key (a transcript of another
    /// ceremony is refused).
    ///
    /// # Errors
    /// As [`Round4Secret::finish`]; [`CeremonyError::UnexpectedPackage`] before round 4.
    pub fn finish<R: RngCore + CryptoRng>(
        &mut self,
        transcript: &CeremonyTranscript,
        rng: &mut R,
    ) -> Result<CeremonyOutcome, CeremonyError> {
        match &self.state {
            State::Checked { secret, .. } => {
                let (key, outcome) = secret.duplicate().finish(transcript, rng)?;
                self.state = State::Finished { key };
                Ok(outcome)
            }
            State::Finished { key } => {
                if transcript.params != key.params {
                    return Err(wrong_stage("the transcript belongs to another ceremony"));
                }
                let outcome = super::adjudicate(transcript, rng)?;
                if outcome.key_share(key.index) != Some(key.pair.public()) {
                    return Err(CeremonyError::InconsistentKeyShare);
                }
                Ok(outcome)
            }
            _ => Err(wrong_stage("round 4 is not done yet")),
        }
    }

    /// The key share, once finished.
    pub fn key_share(&self) -> Option<&GuardianKeyShare> {
        match &self.state {
            State::Finished { key } => Some(key),
            _ => None,
        }
    }

    /// The key share, to decrypt with (its one-decryption rule is part of this state: save
    /// the guardian after decrypting).
    pub fn key_share_mut(&mut self) -> Option<&mut GuardianKeyShare> {
        match &mut self.state {
            State::Finished { key } => Some(key),
            _ => None,
        }
    }

    /// The canonical encoding (secret: zeroized when dropped). docs/ceremony.md gives the
    /// layout.
    pub fn to_bytes(&self) -> Zeroizing<Vec<u8>> {
        let mut out = Zeroizing::new(Vec::new());
        out.push(GUARDIAN_STATE_VERSION);
        out.push(self.stage() as u8 + 1);
        let params = self.params();
        out.extend_from_slice(params.id());
        out.extend_from_slice(&params.threshold().to_le_bytes());
        out.extend_from_slice(&params.guardians().to_le_bytes());
        out.extend_from_slice(&self.index().get().to_le_bytes());
        match &self.state {
            State::Committed { secret, .. } => put_round1(&mut out, secret),
            State::Revealed { secret } => {
                put_round1(&mut out, &secret.round1);
                put_list(&mut out, secret.hashes.iter().map(|h| h.to_bytes()));
            }
            State::Shared { secret, shares } => {
                put_round1(&mut out, &secret.round2.round1);
                put_list(&mut out, secret.round2.hashes.iter().map(|h| h.to_bytes()));
                put_list(&mut out, secret.reveals.values().map(|r| r.to_bytes()));
                put_list(&mut out, shares.iter().map(|s| s.to_bytes()));
            }
            State::Checked { secret, complaints } => {
                out.extend_from_slice(secret.own.as_bytes());
                out.extend_from_slice(&(secret.received.0.len() as u32).to_le_bytes());
                for (i, share) in &secret.received.0 {
                    out.extend_from_slice(&i.get().to_le_bytes());
                    out.extend_from_slice(share.as_bytes());
                }
                put_list(&mut out, complaints.iter().map(|c| c.to_bytes()));
            }
            State::Finished { key } => {
                out.extend_from_slice(key.pair.secret().to_bytes().as_slice());
                match &key.decrypted {
                    None => out.push(0),
                    Some(digest) => {
                        out.push(1);
                        out.extend_from_slice(digest);
                    }
                }
            }
        }
        out
    }

    /// Decodes a state, refusing anything but a canonical encoding of a consistent state: the
    /// commitments and keys must be those of the secrets, and every package this guardian's.
    ///
    /// # Errors
    /// [`DecodeError`] naming what is wrong.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        const WHAT: &str = "guardian state";
        let malformed = |reason| DecodeError::Malformed { what: WHAT, reason };
        let mut r = Reader::new(bytes, WHAT, "a complete guardian state");
        let version = r.u8()?;
        if version != GUARDIAN_STATE_VERSION {
            return Err(DecodeError::UnsupportedVersion {
                what: WHAT,
                version,
            });
        }
        let stage = r.u8()?;
        let id = r.array::<32>()?;
        let (t, n) = (r.u32()?, r.u32()?);
        let params = CeremonyParams::new(id, t, n)
            .map_err(|_| malformed("inadmissible threshold or number of guardians"))?;
        let index = GuardianIndex::new(r.u32()?).map_err(|_| malformed("guardian index 0"))?;
        params
            .check(index)
            .map_err(|_| malformed("guardian index above n"))?;
        let state = match stage {
            1..=3 => {
                let round1 = read_round1(&mut r, &params, index)?;
                if stage == 1 {
                    let hash = CommitmentHashPackage {
                        sender: index,
                        hash: round1.reveal.commitment_hash(&params),
                    };
                    State::Committed {
                        secret: round1,
                        hash,
                    }
                } else {
                    let hashes = read_list(&mut r, n, CommitmentHashPackage::from_bytes)?;
                    let round2 = Round2Secret { round1, hashes };
                    if stage == 2 {
                        State::Revealed { secret: round2 }
                    } else {
                        let list = read_list(&mut r, n, RevealPackage::from_bytes)?;
                        let mut reveals = BTreeMap::new();
                        for reveal in list {
                            // Canonical: by sender, strictly increasing (the map's order).
                            if reveals
                                .keys()
                                .next_back()
                                .is_some_and(|last| *last >= reveal.sender)
                            {
                                return Err(malformed("reveals not in increasing sender order"));
                            }
                            reveals.insert(reveal.sender, reveal);
                        }
                        let shares = read_list(&mut r, n, EncryptedShare::from_bytes)?;
                        if shares.iter().any(|s| s.sender != index) {
                            return Err(malformed("a share this guardian did not send"));
                        }
                        State::Shared {
                            secret: Round3Secret { round2, reveals },
                            shares,
                        }
                    }
                }
            }
            4 => {
                let own = r.scalar("own share")?;
                let count = r.u32()?;
                if count >= n {
                    return Err(DecodeError::TooLarge {
                        what: WHAT,
                        max: u64::from(n.saturating_sub(1)),
                        actual: u64::from(count),
                    });
                }
                let mut received = BTreeMap::new();
                for _ in 0..count {
                    let from =
                        GuardianIndex::new(r.u32()?).map_err(|_| malformed("guardian index 0"))?;
                    params
                        .check(from)
                        .map_err(|_| malformed("guardian index above n"))?;
                    let share = r.scalar("received share")?;
                    // Canonical: by sender, strictly increasing, never itself.
                    if from == index
                        || received
                            .keys()
                            .next_back()
                            .is_some_and(|last: &GuardianIndex| *last >= from)
                    {
                        return Err(malformed(
                            "received shares not in increasing sender order, or from itself",
                        ));
                    }
                    received.insert(from, share);
                }
                let complaints = read_list(&mut r, n, Complaint::from_bytes)?;
                if complaints.iter().any(|c| c.complainer != index) {
                    return Err(malformed("a complaint this guardian did not file"));
                }
                State::Checked {
                    secret: Round4Secret {
                        params: params.clone(),
                        index,
                        own,
                        received: SecretShares(received),
                    },
                    complaints,
                }
            }
            5 => {
                let secret = SecretKey::from_bytes(r.bytes(32)?)?;
                let decrypted = match r.u8()? {
                    0 => None,
                    1 => Some(r.array::<64>()?),
                    _ => return Err(malformed("decryption flag")),
                };
                State::Finished {
                    key: GuardianKeyShare {
                        index,
                        pair: KeyPair::from_secret(secret),
                        params: params.clone(),
                        decrypted,
                    },
                }
            }
            _ => return Err(malformed("unknown stage")),
        };
        r.finish()?;
        Ok(Self { state })
    }

    /// Seals the state under `passphrase` with the default [`KdfParams`].
    ///
    /// # Errors
    /// [`StateError::Kdf`] (never with the defaults).
    pub fn seal<R: RngCore + CryptoRng>(
        &self,
        passphrase: &[u8],
        rng: &mut R,
    ) -> Result<Vec<u8>, StateError> {
        self.seal_with(passphrase, KdfParams::default(), rng)
    }

    /// Seals the state: `MAGIC ‖ 1 ‖ LE32(m KiB) ‖ LE32(t) ‖ LE32(p) ‖ salt (16) ‖ nonce (12)
    /// ‖ ChaCha20-Poly1305(key, nonce, state, associated data = everything before it)`, the key
    /// Argon2id(passphrase, salt, m, t, p), 32 bytes.
    ///
    /// # Errors
    /// [`StateError::Kdf`] for parameters outside [`KdfParams::check`].
    pub fn seal_with<R: RngCore + CryptoRng>(
        &self,
        passphrase: &[u8],
        kdf: KdfParams,
        rng: &mut R,
    ) -> Result<Vec<u8>, StateError> {
        kdf.check()?;
        let mut salt = [0u8; 16];
        rng.fill_bytes(&mut salt);
        let mut nonce = [0u8; 12];
        rng.fill_bytes(&mut nonce);
        let mut header = Vec::with_capacity(SEALED_HEADER_BYTES);
        header.extend_from_slice(SEALED_MAGIC);
        header.push(SEALED_VERSION);
        header.extend_from_slice(&kdf.memory_kib.to_le_bytes());
        header.extend_from_slice(&kdf.iterations.to_le_bytes());
        header.extend_from_slice(&kdf.parallelism.to_le_bytes());
        header.extend_from_slice(&salt);
        header.extend_from_slice(&nonce);
        let key = derive_key(passphrase, &salt, kdf)?;
        let cipher = ChaCha20Poly1305::new(Key::from_slice(key.as_slice()));
        let sealed = cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: self.to_bytes().as_slice(),
                    aad: &header,
                },
            )
            .map_err(|_| StateError::Kdf("encryption failed"))?;
        header.extend_from_slice(&sealed);
        Ok(header)
    }

    /// Opens a sealed state.
    ///
    /// # Errors
    /// [`StateError::Format`] for a file that is not a sealed guardian state (or asks for a
    /// KDF outside [`KdfParams::check`], as a hostile file would, to exhaust memory);
    /// [`StateError::WrongPassphrase`] when it does not open (a wrong passphrase, or any byte
    /// changed); [`StateError::Decode`] for a state that opens but does not decode.
    pub fn unseal(sealed: &[u8], passphrase: &[u8]) -> Result<Self, StateError> {
        let header = sealed
            .get(..SEALED_HEADER_BYTES)
            .ok_or(StateError::Format("shorter than a sealed guardian state"))?;
        let ciphertext = sealed.get(SEALED_HEADER_BYTES..).unwrap_or(&[]);
        let (magic, rest) = header.split_at(SEALED_MAGIC.len());
        if magic != SEALED_MAGIC {
            return Err(StateError::Format("not a sealed guardian state"));
        }
        let (version, rest) = rest.split_at(1);
        if version != [SEALED_VERSION] {
            return Err(StateError::Format("unsupported sealed state version"));
        }
        let le32 = |b: &[u8]| u32::from_le_bytes(b.try_into().unwrap_or([0xFF; 4]));
        let (m, rest) = rest.split_at(4);
        let (t, rest) = rest.split_at(4);
        let (p, rest) = rest.split_at(4);
        let (salt, nonce) = rest.split_at(16);
        let kdf = KdfParams {
            memory_kib: le32(m),
            iterations: le32(t),
            parallelism: le32(p),
        };
        kdf.check().map_err(|_| {
            StateError::Format("key derivation parameters outside the admissible range")
        })?;
        let key = derive_key(passphrase, salt, kdf)?;
        let cipher = ChaCha20Poly1305::new(Key::from_slice(key.as_slice()));
        let plain = Zeroizing::new(
            cipher
                .decrypt(
                    Nonce::from_slice(nonce),
                    Payload {
                        msg: ciphertext,
                        aad: header,
                    },
                )
                .map_err(|_| StateError::WrongPassphrase)?,
        );
        Self::from_bytes(&plain).map_err(StateError::Decode)
    }
}

const SEALED_MAGIC: &[u8; 16] = b"EVOTE-GUARDIAN\0\0";
const SEALED_VERSION: u8 = 1;
const SEALED_HEADER_BYTES: usize = 16 + 1 + 12 + 16 + 12;

/// Argon2id's cost parameters for sealing a guardian state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KdfParams {
    /// Memory, KiB (default 65,536: 64 MiB).
    pub memory_kib: u32,
    /// Passes (default 3).
    pub iterations: u32,
    /// Lanes (default 1).
    pub parallelism: u32,
}

impl Default for KdfParams {
    fn default() -> Self {
        Self {
            memory_kib: 64 << 10,
            iterations: 3,
            parallelism: 1,
        }
    }
}

impl KdfParams {
    /// The admissible range: 8 MiB to 1 GiB of memory, 1 to 16 passes, 1 to 4 lanes (a sealed
    /// file asking for more is refused before any work).
    ///
    /// # Errors
    /// [`StateError::Kdf`].
    pub fn check(&self) -> Result<(), StateError> {
        if !(8 << 10..=1 << 20).contains(&self.memory_kib)
            || !(1..=16).contains(&self.iterations)
            || !(1..=4).contains(&self.parallelism)
        {
            return Err(StateError::Kdf(
                "Argon2id parameters outside 8 MiB..1 GiB, 1..16 passes, 1..4 lanes",
            ));
        }
        Ok(())
    }
}

fn derive_key(
    passphrase: &[u8],
    salt: &[u8],
    kdf: KdfParams,
) -> Result<Zeroizing<[u8; 32]>, StateError> {
    let params = Params::new(kdf.memory_kib, kdf.iterations, kdf.parallelism, Some(32))
        .map_err(|_| StateError::Kdf("Argon2id refused the parameters"))?;
    let mut key = Zeroizing::new([0u8; 32]);
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password_into(passphrase, salt, key.as_mut_slice())
        .map_err(|_| StateError::Kdf("Argon2id failed"))?;
    Ok(key)
}

/// Why a sealed guardian state could not be made or opened.
#[derive(Debug)]
#[non_exhaustive]
pub enum StateError {
    /// Not a sealed guardian state (or an inadmissible one).
    Format(&'static str),
    /// The key derivation could not run.
    Kdf(&'static str),
    /// It does not open: a wrong passphrase, or the file was changed.
    WrongPassphrase,
    /// It opens, but the state inside does not decode.
    Decode(DecodeError),
}

impl core::fmt::Display for StateError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Format(why) | Self::Kdf(why) => f.write_str(why),
            Self::WrongPassphrase => f.write_str(
                "the guardian state does not open: wrong passphrase, or the file was changed",
            ),
            Self::Decode(e) => write!(f, "the guardian state does not decode: {e}"),
        }
    }
}

impl std::error::Error for StateError {}

fn put_list(out: &mut Vec<u8>, items: impl ExactSizeIterator<Item = Vec<u8>>) {
    out.extend_from_slice(&(items.len() as u32).to_le_bytes());
    for item in items {
        out.extend_from_slice(&(item.len() as u32).to_le_bytes());
        out.extend_from_slice(&item);
    }
}

fn read_list<T>(
    r: &mut Reader<'_>,
    n: u32,
    decode: fn(&[u8]) -> Result<T, DecodeError>,
) -> Result<Vec<T>, DecodeError> {
    let count = r.u32()?;
    // At most one package per guardian (shares and complaints: one per other guardian).
    if count > n.min(MAX_GUARDIANS) {
        return Err(DecodeError::TooLarge {
            what: "guardian state",
            max: u64::from(n),
            actual: u64::from(count),
        });
    }
    let mut out = Vec::new();
    for _ in 0..count {
        let len = r.u32()? as usize;
        out.push(decode(r.bytes(len)?)?);
    }
    Ok(out)
}

fn put_round1(out: &mut Vec<u8>, secret: &Round1Secret) {
    for a in &secret.polynomial.0 {
        out.extend_from_slice(a.as_bytes());
    }
    out.extend_from_slice(secret.encryption.secret().to_bytes().as_slice());
    let reveal = secret.reveal.to_bytes();
    out.extend_from_slice(&(reveal.len() as u32).to_le_bytes());
    out.extend_from_slice(&reveal);
}

fn read_round1(
    r: &mut Reader<'_>,
    params: &CeremonyParams,
    index: GuardianIndex,
) -> Result<Round1Secret, DecodeError> {
    const WHAT: &str = "guardian state";
    let mut coefficients = Vec::with_capacity(params.threshold() as usize);
    for _ in 0..params.threshold() {
        coefficients.push(r.scalar("polynomial coefficient")?);
    }
    let polynomial = Polynomial(coefficients);
    let encryption = KeyPair::from_secret(SecretKey::from_bytes(r.bytes(32)?)?);
    let len = r.u32()? as usize;
    let reveal = RevealPackage::from_bytes(r.bytes(len)?)?;
    // The published commitments and key must be those of these secrets: a state spliced
    // from two guardians, or edited, is refused.
    let consistent = reveal.sender == index
        && reveal.commitments.len() == polynomial.0.len()
        && reveal
            .commitments
            .iter()
            .zip(&polynomial.0)
            .all(|(c, a)| *c == PublicKey::from_point_unchecked(RISTRETTO_BASEPOINT_TABLE * a))
        && reveal.encryption_key == *encryption.public();
    if !consistent {
        return Err(DecodeError::Malformed {
            what: WHAT,
            reason: "the commitments or the share-encryption key are not the secrets' own",
        });
    }
    Ok(Round1Secret {
        params: params.clone(),
        index,
        polynomial,
        encryption,
        reveal,
    })
}
