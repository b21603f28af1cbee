#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing,
        clippy::unreachable,
        clippy::todo,
        clippy::unimplemented
    )
)]

pub mod ceremony;
pub mod ciphertext;
pub mod decryption;
#[cfg(feature = "simulation")]
pub mod demo;
pub mod dlog;
pub mod election;
pub mod errors;
pub mod group;
pub mod keys;
#[cfg(feature = "fs")]
pub mod party;
pub mod proofs;
#[cfg(feature = "server")]
pub mod server;
#[cfg(feature = "simulation")]
pub mod simulation;
pub mod tally;
pub mod text;
pub mod transcript;
#[cfg(feature = "fs")]
pub mod verify;

/// The specification: docs/ mounted into the API documentation, so that `cargo doc` carries the
/// math, the byte layouts and the verifier's rules beside the code that implements them (the
/// way bulletproofs mounts its notes). Doc-only: nothing here is code. The documents are plain
/// Markdown, read on their own as well: brackets in their formulas (`Keccak-f[1600]`, `h[..32]`)
/// are text, not links to items.
#[cfg(doc)]
#[allow(rustdoc::broken_intra_doc_links)]
pub mod spec {
    #[doc = include_str!("../docs/proofs.md")]
    pub mod proofs {}
    #[doc = include_str!("../docs/transcript.md")]
    pub mod transcript {}
    #[doc = include_str!("../docs/wire-format.md")]
    pub mod wire_format {}
    #[doc = include_str!("../docs/election.md")]
    pub mod election {}
    #[doc = include_str!("../docs/ceremony.md")]
    pub mod ceremony {}
    #[doc = include_str!("../docs/record.md")]
    pub mod record {}
    #[doc = include_str!("../docs/verifier.md")]
    pub mod verifier {}
    #[doc = include_str!("../docs/vectors.md")]
    pub mod vectors {}
    #[doc = include_str!("../docs/threat-model.md")]
    pub mod threat_model {}
}

pub use ciphertext::{Ciphertext, Opening};
pub use dlog::DlogTable;
pub use errors::{BatchError, BatchFailure, DecodeError, DlogError, ProofError, ProofKind};
pub use group::GroupElement;
pub use keys::{EncryptionKey, KeyPair, PublicKey, SecretKey};
pub use proofs::{
    BatchVerifier, ChaumPedersenProof, RangeProof, SchnorrProof, SelectionLimitProof,
};

/// The transcript type every prover and verifier takes (re-exported from `merlin`).
pub use merlin::Transcript;
