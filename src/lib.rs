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
