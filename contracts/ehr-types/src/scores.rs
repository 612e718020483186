//! Signed risk-score attestations: the one type the oracle signs and the `risk_scores` contract
//! verifies, and the exact bytes the signature covers.
//!
//! A batch of attestations is covered by **one** ed25519 signature over
//! `SCORE_SIGNING_CONTEXT ‖ blake2b-256(SCALE(batch))`, so the contract hashes the batch with the
//! chain's hash host function and verifies a single signature, whatever the batch size.

use alloc::vec::Vec;

use crate::{AccountId, BlockNumber, ContentHash, RecordId};

/// An ed25519 public key of an oracle signer.
pub type SignerKey = [u8; 32];
/// An ed25519 signature.
pub type Signature = [u8; 64];

/// Domain tag prepended to every signed batch digest.
pub const SCORE_SIGNING_CONTEXT: &[u8] = b"ehr-on-ink/risk-scores/v2";
/// Domain tag of a score commitment ([`ScoreResult::commitment`]).
pub const SCORE_COMMITMENT_CONTEXT: &[u8] = b"ehr-on-ink/score-commitment/v1";
/// Most legacy keys one `purge_legacy_scores` call takes.
pub const MAX_PURGE: u32 = 64;
/// Largest batch `submit_scores` accepts.
pub const MAX_BATCH: u32 = 128;
/// Largest step between a signer's last accepted nonce and a new one. The oracle's
/// block-position nonces (`block << 16 | index`, below 2^48) always fit; a single attestation
/// signed with `u64::MAX` is refused instead of ending the signer.
pub const MAX_NONCE_STEP: u64 = 1 << 48;
/// How far an attestation's `computed_at` may lie after the block's timestamp, in ms.
pub const MAX_CLOCK_SKEW_MS: u64 = 10 * 60 * 1000;
/// Risk is expressed in parts per million: 1_000_000 = 100 %.
pub const PPM: u32 = 1_000_000;

/// Risk band of a score (the model decides the cut points).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[ink::scale_derive(Encode, Decode, TypeInfo)]
#[cfg_attr(feature = "std", derive(ink::storage::traits::StorageLayout))]
pub enum ScoreBand {
    /// Low.
    Low,
    /// Borderline.
    Borderline,
    /// Intermediate.
    Intermediate,
    /// High.
    High,
}

/// The sealed result of a score: what the commitment of an attestation hides and the report
/// reveals to its readers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[ink::scale_derive(Encode, Decode, TypeInfo)]
pub struct ScoreResult {
    /// 10-year risk in parts per million.
    pub risk_ppm: u32,
    /// Risk band.
    pub band: ScoreBand,
}

impl ScoreResult {
    /// The commitment to this result under `salt`:
    /// `SHA-256(SCORE_COMMITMENT_CONTEXT ‖ salt ‖ SCALE(result))`. With a fresh random 32-byte
    /// salt it reveals nothing about the result; the report carries the salt, so its readers
    /// open it.
    pub fn commitment(&self, salt: &[u8; 32]) -> ContentHash {
        let mut input = Vec::with_capacity(SCORE_COMMITMENT_CONTEXT.len().saturating_add(37));
        input.extend_from_slice(SCORE_COMMITMENT_CONTEXT);
        input.extend_from_slice(salt);
        ink::scale::Encode::encode_to(self, &mut input);
        let mut digest = [0u8; 32];
        ink::env::hash_bytes::<ink::env::hash::Sha2x256>(&input, &mut digest);
        digest
    }
}

/// What the oracle attests: model `model_hash`, run on the patient's anchored record whose
/// envelope hashes to `input_hash`, gave the result committed to in `commitment`, explained in
/// the sealed report whose envelope hashes to `report_hash`. No score in the clear: 176 bytes
/// SCALE-encoded.
#[derive(Debug, Clone, PartialEq, Eq)]
#[ink::scale_derive(Encode, Decode, TypeInfo)]
pub struct ScoreAttestation {
    /// The patient scored.
    pub patient: AccountId,
    /// SHA-256 of the model's canonical parameters.
    pub model_hash: ContentHash,
    /// SHA-256 of the exact document scored; must be anchored in the patient's records.
    pub input_hash: ContentHash,
    /// Commitment to the [`ScoreResult`] ([`ScoreResult::commitment`]).
    pub commitment: ContentHash,
    /// SHA-256 of the sealed report's envelope: anchored as the patient's `RiskAssessment`
    /// record when the attestation is accepted, stored in the record vault.
    pub report_hash: ContentHash,
    /// When the oracle computed it (Unix time, milliseconds).
    pub computed_at: u64,
    /// Per-signer sequence number, strictly increasing across all the signer's attestations.
    pub nonce: u64,
}

/// A batch of attestations under one signature. The domain (contract and chain) and the signer
/// are stated once and covered by the signature with every attestation.
#[derive(Debug, Clone, PartialEq, Eq)]
#[ink::scale_derive(Encode, Decode, TypeInfo)]
pub struct AttestationBatch {
    /// Domain: the `risk_scores` contract the batch is for.
    pub contract: AccountId,
    /// Domain: the chain's genesis hash.
    pub chain: [u8; 32],
    /// The signer's ed25519 public key.
    pub signer: SignerKey,
    /// The attestations, in nonce order.
    pub attestations: Vec<ScoreAttestation>,
}

impl AttestationBatch {
    /// The bytes the signer signs: `SCORE_SIGNING_CONTEXT ‖ blake2b-256(SCALE(batch))`.
    pub fn signing_message(&self) -> Vec<u8> {
        let mut digest = [0u8; 32];
        ink::env::hash_encoded::<ink::env::hash::Blake2x256, _>(self, &mut digest);
        let mut message = Vec::with_capacity(SCORE_SIGNING_CONTEXT.len().saturating_add(32));
        message.extend_from_slice(SCORE_SIGNING_CONTEXT);
        message.extend_from_slice(&digest);
        message
    }
}

/// The latest accepted score of a patient for a model: the newest by `computed_at`, ties broken
/// by the higher signer key, then the higher nonce, whatever order they were submitted in.
/// Sealed: a commitment and the report's record, never the risk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[ink::scale_derive(Encode, Decode, TypeInfo)]
#[cfg_attr(feature = "std", derive(ink::storage::traits::StorageLayout))]
pub struct StoredScore {
    /// Commitment to the result ([`ScoreResult::commitment`]).
    pub commitment: ContentHash,
    /// SHA-256 of the sealed report's envelope.
    pub report_hash: ContentHash,
    /// The report's record id in the patient's chart (category `RiskAssessment`).
    pub report_record: RecordId,
    /// SHA-256 of the document scored.
    pub input_hash: ContentHash,
    /// When the oracle computed it (Unix ms).
    pub computed_at: u64,
    /// The signer's key.
    pub signer: SignerKey,
    /// The attestation's nonce.
    pub nonce: u64,
    /// Block in which it was accepted.
    pub accepted_at: BlockNumber,
}

impl StoredScore {
    /// The order in which scores replace each other as the latest.
    pub fn recency(&self) -> (u64, SignerKey, u64) {
        (self.computed_at, self.signer, self.nonce)
    }
}

/// A score as storage versions 1 and 2 kept it, with the risk in the clear. Storage version 3
/// never reads it back; `purge_legacy_scores` deletes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[ink::scale_derive(Encode, Decode, TypeInfo)]
#[cfg_attr(feature = "std", derive(ink::storage::traits::StorageLayout))]
pub struct LegacyScore {
    /// 10-year risk in parts per million.
    pub risk_ppm: u32,
    /// Risk band.
    pub band: ScoreBand,
    /// SHA-256 of the document scored.
    pub input_hash: ContentHash,
    /// When the oracle computed it (Unix ms).
    pub computed_at: u64,
    /// The signer's key.
    pub signer: SignerKey,
    /// The attestation's nonce.
    pub nonce: u64,
    /// Block in which it was accepted.
    pub accepted_at: BlockNumber,
}

/// A registered oracle signer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[ink::scale_derive(Encode, Decode, TypeInfo)]
#[cfg_attr(feature = "std", derive(ink::storage::traits::StorageLayout))]
pub struct SignerInfo {
    /// The oracle's on-chain account: patients grant it read access (it is registered as an
    /// `Analytics` provider).
    pub account: AccountId,
    /// Highest nonce accepted so far (0 = none yet; nonces start at 1).
    pub last_nonce: u64,
    /// Retired signers are refused.
    pub retired: bool,
}

/// Why the records contract refuses an attestation's input (see `check_inputs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[ink::scale_derive(Encode, Decode, TypeInfo)]
pub enum InputCheck {
    /// The input is an anchored record the accessor may read.
    Ok,
    /// No record of the patient has this content hash.
    NotAnchored,
    /// The accessor may not read the record's category.
    Denied(crate::DenialReason),
    /// The record has been corrected by a newer one.
    Superseded,
    /// The patient erased the record.
    Erased,
}
