//! Shared fixtures for the fuzz targets: one key pair and one valid proof of each kind, made
//! once from a fixed seed.

use std::sync::OnceLock;

use evote::proofs::{ChaumPedersenProof, RangeProof, SchnorrProof, SelectionLimitProof};
use evote::{Ciphertext, EncryptionKey, GroupElement, KeyPair, Transcript};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

pub struct Fixture {
    pub pair: KeyPair,
    pub bit: (Ciphertext, RangeProof),
    pub range9: (Ciphertext, RangeProof),
    pub contest: Vec<Ciphertext>,
    pub limit: SelectionLimitProof,
    pub schnorr: SchnorrProof,
    pub base: GroupElement,
    pub image: GroupElement,
    pub cp: ChaumPedersenProof,
}

pub fn context() -> Transcript {
    let mut t = Transcript::new(b"evote-fuzz");
    t.append_message(b"election", &[3u8; 32]);
    t
}

pub fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let mut rng = ChaCha20Rng::seed_from_u64(77);
        let pair = KeyPair::generate(&mut rng);
        let key = EncryptionKey::new(pair.public());
        let (ct, _, bit) =
            RangeProof::encrypt_and_prove(&mut context(), &key, 1, 0..=1, &mut rng).unwrap();
        let (ct9, _, range9) =
            RangeProof::encrypt_and_prove(&mut context(), &key, 6, 0..=9, &mut rng).unwrap();
        let (contest, openings): (Vec<_>, Vec<_>) = [1u64, 0, 1]
            .iter()
            .map(|v| Ciphertext::encrypt_with_opening(&key, *v, &mut rng))
            .unzip();
        let limit =
            SelectionLimitProof::prove(&mut context(), &key, &contest, &openings, 0..=2, &mut rng)
                .unwrap();
        let schnorr = SchnorrProof::prove(&mut context(), &pair, &mut rng);
        let base = GroupElement::from_point(evote::group::random_point(&mut rng));
        let image = GroupElement::from_point(base.as_point() * pair.secret().expose_scalar());
        let cp = ChaumPedersenProof::prove(&mut context(), &pair, &base, &image, &mut rng).unwrap();
        Fixture {
            pair,
            bit: (ct, bit),
            range9: (ct9, range9),
            contest,
            limit,
            schnorr,
            base,
            image,
            cp,
        }
    })
}

/// XORs `mask` into `bytes` (cycling over the bytes from `offset`); returns whether the bytes
/// changed (mask bytes landing on the same position can cancel out).
pub fn mutate(bytes: &mut [u8], offset: usize, mask: &[u8]) -> bool {
    if bytes.is_empty() {
        return false;
    }
    let before = bytes.to_vec();
    let len = bytes.len();
    for (i, m) in mask.iter().enumerate() {
        bytes[(offset + i) % len] ^= m;
    }
    bytes != before.as_slice()
}
