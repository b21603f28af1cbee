//! The public ceremony transcript: everything the broadcast carried, and its canonical codec.

use super::packages::{CommitmentHashPackage, Complaint, EncryptedShare, RevealPackage};
use super::CeremonyParams;

/// election key and every guardian's public key share. It goes into the election record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CeremonyTranscript {
    /// The parameters.
    pub params: CeremonyParams,
    /// Round 1.
    pub hashes: Vec<CommitmentHashPackage>,
    /// Round 2.
    pub reveals: Vec<RevealPackage>,
    /// Round 3.
    pub shares: Vec<EncryptedShare>,
    /// Round 4.
    pub complaints: Vec<Complaint>,
}

const KIND_TRANSCRIPT: u8 = 32;

/// The most packages one section of a decoded transcript may hold: two per slot (one package,
/// plus a second, different one as evidence of equivocation; exact repeats are merged before
/// publication), where a section has `n` slots (hashes, reveals) or `n·(n-1)` (shares,
/// complaints). At most `2·255·254 = 129,540` for the largest ceremony.
fn max_section_packages(params: &CeremonyParams, per_pair: bool) -> u32 {
    let n = params.guardians();
    let slots = if per_pair {
        n.saturating_mul(n.saturating_sub(1))
    } else {
        n
    };
    slots.saturating_mul(2)
}

impl CeremonyTranscript {
    /// The longest encoding of a transcript with `t` of `n` guardians: the header (42 bytes),
    /// four section counts, and each section full (two packages per slot, each with its 4-byte
    /// length): hashes 70 bytes, reveals `106 + 96·t`, shares 58, complaints 138.
    pub const fn max_encoded_len(t: u32, n: u32) -> u64 {
        let (t, n) = (t as u64, n as u64);
        let per_guardian = 2 * n;
        let per_pair = 2 * n * n.saturating_sub(1);
        42 + 16
            + per_guardian * (4 + 70)
            + per_guardian * (4 + 106 + 96 * t)
            + per_pair * (4 + 58)
            + per_pair * (4 + 138)
    }

    /// The longest transcript of any admissible ceremony (255 of 255 guardians): ≈ 39 MB.
    pub const MAX_BYTES: u64 = Self::max_encoded_len(super::MAX_GUARDIANS, super::MAX_GUARDIANS);

    /// The canonical encoding, for the election record.
    ///
    /// # Layout
    /// version, kind 32, ceremony id (32 bytes), t (u32), n (u32), then four sections (hashes,
    /// reveals, shares, complaints), each a count (u32) followed by that many packages, each
    /// prefixed by its length (u32).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = vec![super::CEREMONY_VERSION, KIND_TRANSCRIPT];
        out.extend_from_slice(self.params.id());
        out.extend_from_slice(&self.params.threshold().to_le_bytes());
        out.extend_from_slice(&self.params.guardians().to_le_bytes());
        fn section(out: &mut Vec<u8>, packages: Vec<Vec<u8>>) {
            out.extend_from_slice(&(packages.len() as u32).to_le_bytes());
            for p in packages {
                out.extend_from_slice(&(p.len() as u32).to_le_bytes());
                out.extend_from_slice(&p);
            }
        }
        section(&mut out, self.hashes.iter().map(|p| p.to_bytes()).collect());
        section(
            &mut out,
            self.reveals.iter().map(|p| p.to_bytes()).collect(),
        );
        section(&mut out, self.shares.iter().map(|p| p.to_bytes()).collect());
        section(
            &mut out,
            self.complaints.iter().map(|p| p.to_bytes()).collect(),
        );
        out
    }

    /// Decodes a transcript.
    ///
    /// # Errors
    /// [`DecodeError`](crate::DecodeError) for a wrong version or kind, inadmissible parameters,
    /// a package that does not decode, or trailing bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, crate::DecodeError> {
        use crate::errors::DecodeError;
        use crate::group::Reader;
        const WHAT: &str = "ceremony transcript";
        let mut reader = Reader::new(bytes, WHAT, "a complete transcript");
        let version = reader.u8()?;
        if version != super::CEREMONY_VERSION {
            return Err(DecodeError::UnsupportedVersion {
                what: WHAT,
                version,
            });
        }
        if reader.u8()? != KIND_TRANSCRIPT {
            return Err(DecodeError::Malformed {
                what: WHAT,
                reason: "wrong package kind",
            });
        }
        let id = reader.array::<32>()?;
        let (t, n) = (reader.u32()?, reader.u32()?);
        let params = CeremonyParams::new(id, t, n).map_err(|_| DecodeError::Malformed {
            what: WHAT,
            reason: "inadmissible threshold or number of guardians",
        })?;
        fn section<T>(
            reader: &mut Reader<'_>,
            max: u32,
            decode: fn(&[u8]) -> Result<T, DecodeError>,
        ) -> Result<Vec<T>, DecodeError> {
            let count = reader.u32()?;
            if count > max {
                return Err(DecodeError::TooLarge {
                    what: WHAT,
                    max: u64::from(max),
                    actual: u64::from(count),
                });
            }
            let mut out = Vec::new();
            for _ in 0..count {
                let len = reader.u32()? as usize;
                out.push(decode(reader.bytes(len)?)?);
            }
            Ok(out)
        }
        let (per_guardian, per_pair) = (
            max_section_packages(&params, false),
            max_section_packages(&params, true),
        );
        let hashes = section(&mut reader, per_guardian, CommitmentHashPackage::from_bytes)?;
        let reveals = section(&mut reader, per_guardian, RevealPackage::from_bytes)?;
        let shares = section(&mut reader, per_pair, EncryptedShare::from_bytes)?;
        let complaints = section(&mut reader, per_pair, Complaint::from_bytes)?;
        reader.finish()?;
        Ok(Self {
            params,
            hashes,
            reveals,
            shares,
            complaints,
        })
    }
}
