//! Emergency ("break-glass") access: an active Doctor opens, for a bounded number of blocks and
//! with an HL7 purpose of use, read access to a patient who gave it no grant; an Auditor must
//! review every such case before its deadline (45 CFR 164.312(a)(2)(ii), emergency access
//! procedure; 164.312(b), audit controls).

use crate::{AccountId, BlockNumber, DenialReason};

/// Id of an emergency case, numbered from 0 across all patients in the order opened.
pub type EmergencyId = u32;

/// Longest emergency access the governance may allow: 14 400 blocks (24 h of 6-second blocks).
pub const MAX_EMERGENCY_BLOCKS: BlockNumber = 14_400;
/// Longest review deadline the governance may set: 432 000 blocks (30 days of 6-second blocks).
pub const MAX_REVIEW_BLOCKS: BlockNumber = 432_000;
/// Most cases one `raise_overdue` call examines.
pub const MAX_OVERDUE_STEP: u32 = 32;

/// The governance's bounds on emergency access.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[ink::scale_derive(Encode, Decode, TypeInfo)]
#[cfg_attr(feature = "std", derive(ink::storage::traits::StorageLayout))]
pub struct EmergencyPolicy {
    /// Longest emergency access a Doctor may open, in blocks (1 to [`MAX_EMERGENCY_BLOCKS`]).
    pub max_blocks: BlockNumber,
    /// Blocks after the access ends by which an Auditor must have reviewed it (1 to
    /// [`MAX_REVIEW_BLOCKS`]).
    pub review_blocks: BlockNumber,
}

impl EmergencyPolicy {
    /// The policy until the governance sets one: at most 600 blocks (1 h) of access, reviewed
    /// within 100 800 blocks (7 days) after it ends.
    pub const DEFAULT: EmergencyPolicy = EmergencyPolicy { max_blocks: 600, review_blocks: 100_800 };

    /// Whether both bounds are within the allowed ranges.
    pub const fn is_valid(&self) -> bool {
        self.max_blocks >= 1
            && self.max_blocks <= MAX_EMERGENCY_BLOCKS
            && self.review_blocks >= 1
            && self.review_blocks <= MAX_REVIEW_BLOCKS
    }
}

/// Why emergency access is opened: an HL7 v3 `PurposeOfUse` code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[ink::scale_derive(Encode, Decode, TypeInfo)]
#[cfg_attr(feature = "std", derive(ink::storage::traits::StorageLayout))]
pub enum EmergencyPurpose {
    /// `ETREAT`, emergency treatment: care of a patient who cannot consent now.
    Etreat,
    /// `BTG`, break the glass: access that overrides the patient's consent directives.
    Btg,
}

/// An Auditor's verdict on an emergency case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[ink::scale_derive(Encode, Decode, TypeInfo)]
#[cfg_attr(feature = "std", derive(ink::storage::traits::StorageLayout))]
pub enum ReviewVerdict {
    /// The emergency access was justified.
    Accepted,
    /// The emergency access was not justified: follow up (sanctions, patient notice).
    Flagged,
}

/// The reason code of an Auditor's review. Administrative codes only: the review is public
/// chain state, so no code says anything about the patient's health.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[ink::scale_derive(Encode, Decode, TypeInfo)]
#[cfg_attr(feature = "std", derive(ink::storage::traits::StorageLayout))]
pub enum ReviewReason {
    /// The clinical record documents an emergency that needed the access.
    EmergencyDocumented,
    /// Consent could not be obtained in time (no grant could be asked for or given).
    ConsentUnobtainable,
    /// No emergency is documented for the patient at that time.
    NoEmergencyDocumented,
    /// The clinician had no care relationship with the patient.
    NoCareRelationship,
    /// More was read, or for longer, than the emergency needed.
    ExcessiveAccess,
    /// Another reason, recorded off chain by the institution.
    Other,
}

/// An Auditor's review of an emergency case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[ink::scale_derive(Encode, Decode, TypeInfo)]
#[cfg_attr(feature = "std", derive(ink::storage::traits::StorageLayout))]
pub struct EmergencyReview {
    /// The reviewing Auditor.
    pub auditor: AccountId,
    /// Accepted or flagged.
    pub verdict: ReviewVerdict,
    /// Why.
    pub reason: ReviewReason,
    /// Block of the review.
    pub reviewed_at: BlockNumber,
}

/// One emergency access, open or past.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[ink::scale_derive(Encode, Decode, TypeInfo)]
#[cfg_attr(feature = "std", derive(ink::storage::traits::StorageLayout))]
pub struct EmergencyCase {
    /// Whose chart.
    pub patient: AccountId,
    /// The Doctor who opened it.
    pub clinician: AccountId,
    /// Why.
    pub purpose: EmergencyPurpose,
    /// Block it was opened.
    pub opened_at: BlockNumber,
    /// First block at which it no longer grants access (set to the closing block when the
    /// clinician closes it early; never later than at opening).
    pub expires_at: BlockNumber,
    /// Block by which an Auditor must have reviewed it.
    pub review_due: BlockNumber,
    /// The review, once given.
    pub review: Option<EmergencyReview>,
    /// Whether `EmergencyReviewOverdue` was raised for it.
    pub overdue_raised: bool,
}

impl EmergencyCase {
    /// Whether it grants access at block `now`.
    pub const fn is_open(&self, now: BlockNumber) -> bool {
        now < self.expires_at
    }

    /// Whether it is unreviewed past its deadline at block `now`.
    pub const fn is_overdue(&self, now: BlockNumber) -> bool {
        self.review.is_none() && now >= self.review_due
    }
}

/// The outcome of `open_emergency`: the case opened, or an audited denial (a revert would drop
/// the `EmergencyDenied` event).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[ink::scale_derive(Encode, Decode, TypeInfo)]
pub enum EmergencyOutcome {
    /// Emergency access is open as this case.
    #[codec(index = 0)]
    Opened(EmergencyId),
    /// Refused: `PatientNotRegistered`, `ProviderNotRegistered`, `ProviderSuspended`,
    /// `RoleNotPermitted` (not a Doctor) or `RegistryUnavailable`.
    #[codec(index = 1)]
    Denied(DenialReason),
}
