//! Events emitted by the contracts. Patient and actor accounts are topics so indexers can
//! filter by them; payloads carry ids, categories and hashes, never health data.
//!
//! Defined once here (ink! 5 shared events) so the contracts emit, and the tests and the
//! oracle decode, the very same types. ink! lists every event linked into a contract in its
//! metadata, so each contract's metadata shows all of these.

use alloc::vec::Vec;

use ink::primitives::Hash;

use crate::{
    alerts::{AlertId, AlertReasons},
    emergency::{EmergencyId, EmergencyPolicy, EmergencyPurpose, ReviewReason, ReviewVerdict},
    scores::SignerKey,
    AccessDecision, AccessMode, AccountId, BlockNumber, ContentHash, DenialReason, EncryptionKey,
    ProviderRole, RecordCategory, RecordId, Scope, ScoreError,
};

/// The admin registered a provider (seed: "Doctor registered successfully").
#[ink::event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderRegistered {
    /// The new provider.
    #[ink(topic)]
    pub provider: AccountId,
    /// Its role.
    pub role: ProviderRole,
}

/// The admin suspended a provider; its grants stop working.
#[ink::event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderSuspended {
    /// The suspended provider.
    #[ink(topic)]
    pub provider: AccountId,
}

/// The admin reinstated a suspended provider.
#[ink::event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderReinstated {
    /// The reinstated provider.
    #[ink(topic)]
    pub provider: AccountId,
}

/// The admin proposed a new admin (`None`: cancelled the pending proposal).
#[ink::event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminTransferProposed {
    /// The current admin.
    #[ink(topic)]
    pub admin: AccountId,
    /// The proposed admin, or `None` when the proposal was cancelled.
    pub candidate: Option<AccountId>,
}

/// The proposed admin accepted; the admin changed.
#[ink::event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminTransferred {
    /// The previous admin.
    #[ink(topic)]
    pub previous: AccountId,
    /// The new admin.
    #[ink(topic)]
    pub admin: AccountId,
}

/// An account registered as a patient (seed: "Patient registered successfully").
#[ink::event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatientRegistered {
    /// The new patient.
    #[ink(topic)]
    pub patient: AccountId,
}

/// A patient set or cleared the commitment to their off-chain profile.
#[ink::event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileCommitmentSet {
    /// The patient.
    #[ink(topic)]
    pub patient: AccountId,
    /// The new commitment (a salted hash), or `None` when cleared.
    pub commitment: Option<ContentHash>,
}

/// A record was anchored (seed: "Medical record added successfully").
#[ink::event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordAdded {
    /// Whose chart.
    #[ink(topic)]
    pub patient: AccountId,
    /// Who added it: the patient or a provider with a write grant.
    #[ink(topic)]
    pub author: AccountId,
    /// The record's id.
    pub record_id: RecordId,
    /// Its category.
    pub category: RecordCategory,
    /// SHA-256 of the encrypted off-chain document.
    pub content_hash: ContentHash,
    /// The record it corrects, if any.
    pub supersedes: Option<RecordId>,
}

/// The patient erased a record (crypto-shredding, GDPR art. 17): the vault destroys its
/// envelope and every wrapped key; on chain it stays a tombstone with no locator.
#[ink::event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordErased {
    /// Whose chart.
    #[ink(topic)]
    pub patient: AccountId,
    /// The erased record's id.
    pub record_id: RecordId,
    /// SHA-256 of its (destroyed) envelope, so that stores holding it find it.
    pub content_hash: ContentHash,
}

/// A patient granted (or re-granted, replacing the previous grant) access to a provider
/// (seed: "Access granted to Doctor").
#[ink::event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessGranted {
    /// The patient.
    #[ink(topic)]
    pub patient: AccountId,
    /// The grantee.
    #[ink(topic)]
    pub provider: AccountId,
    /// What the grant allows.
    pub scope: Scope,
    /// First block at which it no longer works, if any.
    pub expires_at: Option<BlockNumber>,
}

/// A patient revoked a provider's access (seed: "Access revoked from Doctor").
#[ink::event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessRevoked {
    /// The patient.
    #[ink(topic)]
    pub patient: AccountId,
    /// The former grantee.
    #[ink(topic)]
    pub provider: AccountId,
}

/// Audit trail: an account asked to read or write a patient's records, and what was decided.
/// Emitted for every decision, granted or denied. Each is a link of the patient's audit hash
/// chain ([`crate::audit`]): `seq` and `prev` place it, and the block it is in completes the
/// [`AuditEntry`](crate::audit::AuditEntry) whose hash the next event names as `prev`.
#[ink::event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessRequested {
    /// Whose records.
    #[ink(topic)]
    pub patient: AccountId,
    /// Who asked.
    #[ink(topic)]
    pub accessor: AccountId,
    /// Which category.
    pub category: RecordCategory,
    /// Read or write.
    pub mode: AccessMode,
    /// Granted, or denied with the reason.
    pub decision: AccessDecision,
    /// Whether it was decided under an open emergency (break-glass) access of the accessor.
    pub emergency: bool,
    /// Its sequence number in the patient's audit chain, from 1 (0: the account is not a
    /// registered patient, and the event is in no chain).
    pub seq: u64,
    /// Hash of the previous link of the chain (zeros before the first).
    pub prev: ContentHash,
}

impl AccessRequested {
    /// The chain link this event is, given the block it was emitted in.
    pub fn entry(&self, block: BlockNumber) -> crate::audit::AuditEntry {
        crate::audit::AuditEntry {
            prev: self.prev,
            seq: self.seq,
            patient: self.patient,
            accessor: self.accessor,
            category: self.category,
            mode: self.mode,
            decision: self.decision,
            emergency: self.emergency,
            block,
        }
    }
}

/// `AccessRequested` as storage versions 1–2 of the records contract emitted it, before the
/// audit chain: never emitted since, kept (under its original signature topic) so that tools
/// decode the old trail.
#[ink::event(signature_topic = "ce6b88ccd6c0c9a7f21c4bd9698265a6f5d093668eae57efda39c7930f536439")]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegacyAccessRequested {
    /// Whose records.
    #[ink(topic)]
    pub patient: AccountId,
    /// Who asked.
    #[ink(topic)]
    pub accessor: AccountId,
    /// Which category.
    pub category: RecordCategory,
    /// Read or write.
    pub mode: AccessMode,
    /// Granted, or denied with the reason.
    pub decision: AccessDecision,
}

/// A Doctor opened emergency (break-glass) access to a patient's records.
#[ink::event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmergencyOpened {
    /// The case.
    pub case: EmergencyId,
    /// Whose records.
    #[ink(topic)]
    pub patient: AccountId,
    /// The Doctor.
    #[ink(topic)]
    pub clinician: AccountId,
    /// HL7 purpose of use.
    pub purpose: EmergencyPurpose,
    /// First block at which it no longer grants access.
    pub expires_at: BlockNumber,
    /// Block by which an Auditor must review it.
    pub review_due: BlockNumber,
}

/// An attempt to open emergency access was refused (audited, not reverted).
#[ink::event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmergencyDenied {
    /// Whose records.
    #[ink(topic)]
    pub patient: AccountId,
    /// Who tried.
    #[ink(topic)]
    pub clinician: AccountId,
    /// Why it was refused.
    pub reason: DenialReason,
}

/// The clinician closed an emergency access before it expired.
#[ink::event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmergencyClosed {
    /// The case.
    pub case: EmergencyId,
    /// Whose records.
    #[ink(topic)]
    pub patient: AccountId,
}

/// An Auditor reviewed an emergency case.
#[ink::event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmergencyReviewed {
    /// The case.
    pub case: EmergencyId,
    /// Whose records.
    #[ink(topic)]
    pub patient: AccountId,
    /// The Auditor.
    #[ink(topic)]
    pub auditor: AccountId,
    /// Accepted or flagged.
    pub verdict: ReviewVerdict,
    /// The reason code.
    pub reason: ReviewReason,
}

/// An emergency case passed its review deadline unreviewed (raised by `raise_overdue`, which
/// anyone may call).
#[ink::event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmergencyReviewOverdue {
    /// The case.
    pub case: EmergencyId,
    /// Whose records.
    #[ink(topic)]
    pub patient: AccountId,
    /// The Doctor who opened it.
    #[ink(topic)]
    pub clinician: AccountId,
    /// The deadline it missed.
    pub review_due: BlockNumber,
}

/// The governance published (or rotated) the institution's emergency X25519 key: records of
/// patients who opted in are also wrapped for it, and the vault re-wraps them for a Doctor
/// only during an open emergency access.
#[ink::event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmergencyKeySet {
    /// The public key.
    pub key: EncryptionKey,
}

/// A patient opted in to (or out of) having their records also wrapped for the institution's
/// emergency key.
#[ink::event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmergencyKeyOptIn {
    /// The patient.
    #[ink(topic)]
    pub patient: AccountId,
    /// Opted in (`true`) or out.
    pub opted_in: bool,
}

/// The governance set the emergency-access policy.
#[ink::event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmergencyPolicySet {
    /// The new policy.
    pub policy: EmergencyPolicy,
}

/// The admin registered an oracle signer key for the oracle account `account`.
#[ink::event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignerAdded {
    /// The oracle's account.
    #[ink(topic)]
    pub account: AccountId,
    /// Its ed25519 public key.
    pub signer: SignerKey,
}

/// The admin retired an oracle signer key.
#[ink::event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignerRetired {
    /// Its ed25519 public key.
    pub signer: SignerKey,
}

/// The admin approved a model (by the hash of its parameters).
#[ink::event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelApproved {
    /// The model hash.
    #[ink(topic)]
    pub model_hash: ContentHash,
}

/// The admin retired a model.
#[ink::event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelRetired {
    /// The model hash.
    #[ink(topic)]
    pub model_hash: ContentHash,
}

/// One accepted score of a batch: whose, of which model and document, which nonce, and the
/// sealed report's record anchored for it. Ids and hashes only, never the score.
#[derive(Debug, Clone, PartialEq, Eq)]
#[ink::scale_derive(Encode, Decode, TypeInfo)]
pub struct AcceptedScore {
    /// The patient.
    pub patient: AccountId,
    /// The model hash.
    pub model_hash: ContentHash,
    /// SHA-256 of the envelope scored.
    pub input_hash: ContentHash,
    /// The attestation's nonce.
    pub nonce: u64,
    /// The sealed report's record in the patient's chart, anchored in the same call (no
    /// `RecordAdded` of its own: this event announces it).
    pub report_record: RecordId,
}

/// The scores of one batch accepted as their patients' latest, in the batch's order: one event
/// per batch, as one signature per batch. It has no account topic: every topic costs a storage
/// read and write of the chain's topic index, which would double a batch's weight.
#[ink::event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScoresAccepted {
    /// The signer.
    pub signer: SignerKey,
    /// The accepted scores.
    pub scores: Vec<AcceptedScore>,
}

/// A score accepted by storage versions 1–2 of the risk-scores contract, whose score was kept
/// in the clear. Never emitted since version 3 (`ScoresAccepted`); kept so that tools decode
/// the old events, which name the `(patient, model)` keys `purge_legacy_scores` takes.
#[ink::event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScoreAccepted {
    /// The patient.
    #[ink(topic)]
    pub patient: AccountId,
    /// The model hash.
    pub model_hash: ContentHash,
    /// SHA-256 of the document scored.
    pub input_hash: ContentHash,
    /// The signer.
    pub signer: SignerKey,
    /// The attestation's nonce.
    pub nonce: u64,
}

/// The governance named the risk-scores contract whose accepted scores anchor their reports
/// in patients' charts (`set_score_contract`).
#[ink::event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScoreContractSet {
    /// The risk-scores contract.
    pub contract: AccountId,
}

/// Scores stored in the clear by storage versions 1–2 were deleted (`purge_legacy_scores`).
#[ink::event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegacyScoresPurged {
    /// How many entries were deleted by this call.
    pub count: u32,
}

/// A signed attestation was refused after its signature and nonce checks passed; its nonce is
/// consumed, so it can never be landed later (replays and stale nonces emit nothing). Carries no patient and no score: the signer knows which
/// attestation the nonce is.
#[ink::event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScoreRefused {
    /// The signer.
    pub signer: SignerKey,
    /// The attestation's nonce.
    pub nonce: u64,
    /// Why it was refused.
    pub reason: ScoreError,
}

/// The governance account scheduled a code upgrade of the emitting contract. Watch for it: the
/// upgrade can be applied from block `not_before` on.
#[ink::event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpgradeScheduled {
    /// The code the contract will switch to.
    #[ink(topic)]
    pub code_hash: Hash,
    /// First block at which it can be applied.
    pub not_before: BlockNumber,
}

/// The governance account cancelled the scheduled upgrade.
#[ink::event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpgradeCancelled {
    /// The code that was scheduled.
    #[ink(topic)]
    pub code_hash: Hash,
}

/// The contract switched to new code, which accepted and migrated the storage.
#[ink::event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpgradeApplied {
    /// The new code.
    #[ink(topic)]
    pub code_hash: Hash,
    /// Storage version before.
    pub from_version: u16,
    /// Storage version after.
    pub to_version: u16,
}

/// The storage was migrated to a newer version (also after an upgrade by the chain's root).
#[ink::event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StorageMigrated {
    /// Storage version before.
    pub from_version: u16,
    /// Storage version after.
    pub to_version: u16,
}

/// A provider (in the registry) or a patient (in the records contract) published or rotated
/// its X25519 encryption public key. Data keys wrapped from now on use this key.
#[ink::event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncryptionKeySet {
    /// The key's owner.
    #[ink(topic)]
    pub account: AccountId,
    /// The public key.
    pub key: EncryptionKey,
}

/// The audit analytics flagged an accessor (a signed alert accepted by `submit_alerts`).
#[ink::event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertRaised {
    /// The alert's id.
    pub id: AlertId,
    /// The accessor flagged.
    #[ink(topic)]
    pub accessor: AccountId,
    /// Start of the window examined (Unix ms).
    pub window_start_ms: u64,
    /// End of the window examined (Unix ms).
    pub window_end_ms: u64,
    /// The score in tenths, rounded up (1–10).
    pub score_bucket: u8,
    /// Which behaviours stood out.
    pub reasons: AlertReasons,
    /// The signer.
    pub signer: SignerKey,
}

/// An Auditor acknowledged an alert.
#[ink::event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertAcknowledged {
    /// The alert's id.
    pub id: AlertId,
    /// The Auditor.
    #[ink(topic)]
    pub auditor: AccountId,
}
