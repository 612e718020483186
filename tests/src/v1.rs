//! The first release's (`tests/fixtures/v1`) score types, for the upgrade tests: its risk-scores
//! contract verifies attestations with the risk and band in the clear, signed under its own
//! domain tag.

use ed25519_dalek::{Signer, SigningKey};
use ehr_types::{
    scores::{ScoreBand, Signature, SignerKey},
    ContentHash,
};
use ink::primitives::AccountId;

/// Domain tag the first release's signers sign under.
pub const SIGNING_CONTEXT: &[u8] = b"ehr-on-ink/risk-scores/v1";

/// An attestation as the first release signs it: the risk and band in the clear.
#[derive(Debug, Clone)]
#[ink::scale_derive(Encode)]
pub struct Attestation {
    /// The patient scored.
    pub patient: AccountId,
    /// The model hash.
    pub model_hash: ContentHash,
    /// SHA-256 of the document scored.
    pub input_hash: ContentHash,
    /// 10-year risk in parts per million.
    pub risk_ppm: u32,
    /// Risk band.
    pub band: ScoreBand,
    /// When it was computed (Unix ms).
    pub computed_at: u64,
    /// The signer's nonce.
    pub nonce: u64,
}

/// A batch as the first release verifies it.
#[derive(Debug, Clone)]
#[ink::scale_derive(Encode)]
pub struct Batch {
    /// Domain: the risk-scores contract.
    pub contract: AccountId,
    /// Domain: the chain's genesis hash.
    pub chain: [u8; 32],
    /// The signer's key.
    pub signer: SignerKey,
    /// The attestations.
    pub attestations: Vec<Attestation>,
}

impl Batch {
    /// A batch of one score of `patient` for `model_hash`, of the document `input_hash`, with
    /// risk 81 000 ppm (`Intermediate`), as the upgrade tests land on the first release.
    pub fn one_score(
        (contract, chain): (AccountId, [u8; 32]),
        signer: SignerKey,
        (patient, model_hash, input_hash): (AccountId, ContentHash, ContentHash),
        computed_at: u64,
        nonce: u64,
    ) -> Batch {
        Batch {
            contract,
            chain,
            signer,
            attestations: vec![Attestation {
                patient,
                model_hash,
                input_hash,
                risk_ppm: 81_000,
                band: ScoreBand::Intermediate,
                computed_at,
                nonce,
            }],
        }
    }
}

/// The first release's signature: over `SIGNING_CONTEXT ‖ blake2b-256(SCALE(batch))`.
pub fn sign(key: &SigningKey, batch: &Batch) -> Signature {
    let mut digest = [0u8; 32];
    ink::env::hash_encoded::<ink::env::hash::Blake2x256, _>(batch, &mut digest);
    key.sign(&[SIGNING_CONTEXT, &digest[..]].concat()).to_bytes()
}
