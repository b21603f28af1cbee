//! Zero-knowledge proofs and their batch verifier.
//!
//! | proof | statement | used for |
//! |---|---|---|
//! | [`SchnorrProof`] | knowledge of `x` with `K = x·G` | keys, ceremony coefficients, credential signatures |
//! | [`ChaumPedersenProof`] | `log_G K = log_H Y` | decryption shares |
//! | [`RangeProof`] | a ciphertext encrypts a value in `min..=max` | each option of a ballot (0/1, or 0..=R) |
//! | [`SelectionLimitProof`] | the sum of ciphertexts encrypts a value in `min..=max` | a contest's selection limits |
//!
//! Every proof is made and checked under a caller-owned [`merlin::Transcript`] that carries the
//! context, and absorbs its whole statement before its challenge (see [`crate::transcript`]).
//! Every proof is *batchable*: it carries its commitments, so many proofs can be checked at once
//! by a [`BatchVerifier`]. `docs/proofs.md` derives each one and weighs this encoding against
//! the compact (challenge, response) form.

mod batch;
mod chaum_pedersen;
pub(crate) mod range;
mod schnorr;

pub use batch::BatchVerifier;
pub use chaum_pedersen::ChaumPedersenProof;
pub use range::{RangeProof, SelectionLimitProof, MAX_LIMIT_CIPHERTEXTS, MAX_RANGE_BRANCHES};
pub use schnorr::SchnorrProof;
