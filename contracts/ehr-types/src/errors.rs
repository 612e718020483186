//! Error enums of the contracts. Each message returns `Result<_, Error>` with one of these
//! variants; each variant names exactly what was wrong with the call.

use crate::DenialReason;

/// Errors of the provider registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[ink::scale_derive(Encode, Decode, TypeInfo)]
pub enum RegistryError {
    /// The caller is not the admin (seed: "Access Denied! Only Admin can register doctors").
    NotAdmin,
    /// The account is already registered as a provider (seed: "Doctor is already registered").
    ProviderAlreadyRegistered,
    /// The account is not a registered provider.
    ProviderNotFound,
    /// The provider is already suspended.
    ProviderAlreadySuspended,
    /// The provider is not suspended, so it cannot be reinstated.
    ProviderNotSuspended,
    /// There is no pending admin transfer.
    NoPendingAdmin,
    /// The caller is not the proposed admin.
    NotPendingAdmin,
    /// The proposed admin is already the admin.
    AlreadyAdmin,
    /// A counter would overflow.
    Overflow,
    /// An encryption key of all zeros (no X25519 key is).
    InvalidEncryptionKey,
    /// The record was erased by the patient: it can be neither erased again nor corrected.
    RecordErased,
}

/// Errors of the patient records contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[ink::scale_derive(Encode, Decode, TypeInfo)]
pub enum RecordsError {
    /// The caller is already a registered patient (seed: "Patient already exists").
    PatientAlreadyExists,
    /// The account is not a registered patient (seed: "Only registered patients can add
    /// records" / "Only patients can grant access" / "Only patients can revoke access").
    PatientNotRegistered,
    /// The grantee is not a registered provider (seed: "Doctor is not registered").
    ProviderNotRegistered,
    /// The grantee is a suspended provider.
    ProviderSuspended,
    /// The provider holds no grant from this patient (seed: "Doctor does not have access").
    NoAccess,
    /// A query was refused for this reason (queries cannot emit audit events; use
    /// `request_access` for an audited decision).
    #[codec(index = 5)]
    AccessDenied(DenialReason),
    /// A patient cannot grant access to themselves; they always have it.
    CannotGrantSelf,
    /// The scope grants nothing.
    EmptyScope,
    /// The scope names categories that do not exist.
    InvalidScope,
    /// The expiry block is not in the future.
    ExpiryNotInFuture,
    /// The locator is empty.
    LocatorEmpty,
    /// The locator is longer than 128 bytes.
    LocatorTooLong,
    /// The locator is not `scheme://…` in printable ASCII.
    LocatorInvalid,
    /// The content hash is all zeros.
    InvalidContentHash,
    /// This content hash is already anchored for this patient.
    DuplicateContentHash,
    /// No record with this id.
    RecordNotFound,
    /// The record named as superseded does not exist.
    SupersededRecordNotFound,
    /// The record named as superseded already has a correction; correct the newest one.
    RecordAlreadySuperseded,
    /// A correction must have the category of the record it supersedes.
    SupersedeCategoryMismatch,
    /// A page limit must be between 1 and 50.
    InvalidPageLimit,
    /// The provider registry could not be called.
    RegistryUnavailable,
    /// A counter would overflow.
    Overflow,
    /// More items than `MAX_BATCH` (128) in one call.
    BatchTooLarge,
    /// The locator's scheme is not one of `ehr_types::LOCATOR_SCHEMES` (`ipfs`, `https`, `ar`,
    /// `s3`, `vault`).
    LocatorSchemeNotAllowed,
    /// The provider is suspended: its grant may only be narrowed (a subset of its scope, an
    /// expiry no later than the current one) or revoked.
    GrantWouldWiden,
    /// An encryption key of all zeros (no X25519 key is).
    InvalidEncryptionKey,
    /// The record was erased by the patient: it can be neither erased again nor corrected.
    RecordErased,
    /// The caller is not the risk-scores contract the governance named
    /// (`set_score_contract`): only it anchors score reports.
    NotScoreContract,
    /// The account named as the score contract is not a contract.
    NotAContract,
    /// The score contract is named already; changing it takes an upgrade of this contract.
    ScoreContractAlreadySet,
    /// An emergency access must last from 1 block to the policy's `max_blocks`.
    EmergencyDurationInvalid,
    /// The caller already has an open emergency access to this patient: it is never extended;
    /// open a new one after it ends (or close it first).
    EmergencyAlreadyOpen,
    /// No emergency case with this id.
    EmergencyNotFound,
    /// The caller is not a registered `Auditor`: only an Auditor reviews emergency accesses.
    NotAuditor,
    /// The emergency case has been reviewed already; a review is final.
    AlreadyReviewed,
    /// An emergency policy's `max_blocks` must be 1–14 400 and its `review_blocks` 1–432 000.
    InvalidEmergencyPolicy,
    /// A step limit must be between 1 and 32.
    InvalidStepLimit,
    /// Only the clinician who opened an emergency access may close it.
    NotEmergencyClinician,
    /// The emergency access has ended already.
    EmergencyNotOpen,
}

/// Errors of the risk-scores contract, and per-item outcomes of a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[ink::scale_derive(Encode, Decode, TypeInfo)]
pub enum ScoreError {
    /// The caller is not the admin.
    NotAdmin,
    /// The signer key is already registered.
    SignerAlreadyRegistered,
    /// The signer key is not registered.
    UnknownSigner,
    /// The signer key was retired.
    SignerRetired,
    /// The model hash is already approved.
    ModelAlreadyApproved,
    /// The model hash is not approved (never, or retired).
    ModelNotApproved,
    /// The signature does not verify against the signer key for this batch.
    BadSignature,
    /// The attestation is for another contract or chain.
    WrongDomain,
    /// The nonce is not above the signer's last accepted nonce: a replay or out of order.
    StaleNonce,
    /// The patient has not granted the oracle's account read access to the record (reason).
    #[codec(index = 9)]
    NoConsent(DenialReason),
    /// The input hash is not an anchored record of the patient.
    InputNotAnchored,
    /// The risk is above 1_000_000 ppm. Not returned since scores are sealed (storage
    /// version 3): the contract never sees the risk; the report's reader checks it.
    RiskOutOfRange,
    /// The batch is empty.
    EmptyBatch,
    /// The batch has more than 128 attestations.
    BatchTooLarge,
    /// The records contract could not be asked.
    RecordsUnavailable,
    /// The nonce is more than `MAX_NONCE_STEP` (2^48) above the signer's last: refused so that
    /// no single attestation can use up a signer's nonces.
    NonceTooFar,
    /// The input record has been corrected (superseded); only its newest version is scored.
    InputSuperseded,
    /// The stored latest score of this patient and model is newer (by `computed_at`, ties by
    /// signer key then nonce); an older one never replaces it.
    OlderThanLatest,
    /// `computed_at` is more than `MAX_CLOCK_SKEW_MS` (10 minutes) after the block's time.
    ComputedInFuture,
    /// There is no pending admin transfer.
    NoPendingAdmin,
    /// The caller is not the proposed admin.
    NotPendingAdmin,
    /// The proposed admin is already the admin.
    AlreadyAdmin,
    /// The input record was erased by the patient.
    InputErased,
    /// The records contract did not anchor the score's report (its hash is already anchored
    /// for the patient, or this contract is not the records contract's score contract).
    ReportNotAnchored,
    /// More legacy keys than `MAX_PURGE` in one `purge_legacy_scores` call.
    TooManyKeys,
    /// An alert's window does not end after it starts, its score bucket is not 1–10, or it
    /// names no reason or an unknown one.
    InvalidAlert,
    /// No alert with this id.
    AlertNotFound,
    /// The caller is not a registered `Auditor`: only an Auditor acknowledges alerts.
    NotAuditor,
    /// The caller is a suspended provider.
    ProviderSuspended,
    /// The alert has been acknowledged already.
    AlreadyAcknowledged,
    /// The provider registry could not be asked.
    RegistryUnavailable,
    /// A page limit must be between 1 and 50.
    InvalidPageLimit,
    /// A counter would overflow.
    Overflow,
}

impl ScoreError {
    /// For an attestation's own outcome in a batch: whether the refusal consumed its nonce.
    /// Refusals before the nonce checks pass (`WrongDomain`, `StaleNonce`, `NonceTooFar`) leave
    /// the signer as it was and emit nothing; every later one consumes the nonce and emits
    /// `ScoreRefused`.
    pub const fn consumes_nonce(&self) -> bool {
        !matches!(self, ScoreError::WrongDomain | ScoreError::StaleNonce | ScoreError::NonceTooFar)
    }
}
