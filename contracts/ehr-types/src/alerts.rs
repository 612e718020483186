//! Signed, PHI-free alerts of the audit analytics: the oracle's detector names accessors whose
//! behaviour stands out, and posts them to the `risk_scores` contract under one ed25519
//! signature per batch, for an Auditor to read and acknowledge.
//!
//! An alert names a provider's account, a time window, a score bucket and reason codes: no
//! patient, no record, no score of a patient.

use alloc::vec::Vec;

use crate::{scores::SignerKey, AccountId, BlockNumber};

/// Domain tag prepended to every signed alert batch digest.
pub const ALERT_SIGNING_CONTEXT: &[u8] = b"ehr-on-ink/audit-alerts/v1";
/// Most alerts one `submit_alerts` call takes.
pub const MAX_ALERTS: u32 = 64;
/// Id of an alert, numbered from 0 in the order raised.
pub type AlertId = u32;

/// Which behaviour made the detector flag an accessor: one code per detector feature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[ink::scale_derive(Encode, Decode, TypeInfo)]
pub enum AlertReason {
    /// Many more accesses than the role's peers.
    Accesses,
    /// Many more distinct patients than the role's peers.
    Patients,
    /// A high share of denied requests.
    Denied,
    /// Many requests without a grant or beyond its scope (probing).
    Probing,
    /// A high share of accesses outside working hours.
    OffHours,
    /// Accesses at hours the accessor never worked before.
    NewHours,
    /// Record categories unusual for the role.
    RareCategories,
    /// Patients whom none of the accessor's peers saw (outside its care community).
    Outsiders,
    /// Frequent emergency (break-glass) access.
    Emergencies,
    /// Emergency accesses left unreviewed.
    Unreviewed,
    /// A sudden change against the accessor's own history.
    Change,
}

impl AlertReason {
    /// Every code, in declaration order (bit `i` of [`AlertReasons`] is `ALL[i]`).
    pub const ALL: [AlertReason; 11] = [
        AlertReason::Accesses,
        AlertReason::Patients,
        AlertReason::Denied,
        AlertReason::Probing,
        AlertReason::OffHours,
        AlertReason::NewHours,
        AlertReason::RareCategories,
        AlertReason::Outsiders,
        AlertReason::Emergencies,
        AlertReason::Unreviewed,
        AlertReason::Change,
    ];

    /// The code's name: the detector's feature name (`accesses`, `patients`, `denied`,
    /// `probing`, `off_hours`, `new_hours`, `rare_categories`, `outsiders`, `emergencies`,
    /// `unreviewed`, `change`).
    pub const fn code(self) -> &'static str {
        match self {
            AlertReason::Accesses => "accesses",
            AlertReason::Patients => "patients",
            AlertReason::Denied => "denied",
            AlertReason::Probing => "probing",
            AlertReason::OffHours => "off_hours",
            AlertReason::NewHours => "new_hours",
            AlertReason::RareCategories => "rare_categories",
            AlertReason::Outsiders => "outsiders",
            AlertReason::Emergencies => "emergencies",
            AlertReason::Unreviewed => "unreviewed",
            AlertReason::Change => "change",
        }
    }

    /// The code's bit in [`AlertReasons`].
    pub const fn bit(self) -> u16 {
        1u16 << (self as u8)
    }
}

/// A set of [`AlertReason`]s, as a bit set (bit `i` = `AlertReason::ALL[i]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[ink::scale_derive(Encode, Decode, TypeInfo)]
#[cfg_attr(feature = "std", derive(ink::storage::traits::StorageLayout))]
pub struct AlertReasons(pub u16);

impl AlertReasons {
    /// Bits that name a reason.
    pub const VALID_BITS: u16 = (1u16 << AlertReason::ALL.len()) - 1;

    /// The set of the given reasons.
    pub fn of(reasons: &[AlertReason]) -> Self {
        AlertReasons(reasons.iter().fold(0, |bits, r| bits | r.bit()))
    }

    /// Whether `reason` is in the set.
    pub const fn contains(self, reason: AlertReason) -> bool {
        self.0 & reason.bit() != 0
    }

    /// Whether every bit names a reason.
    pub const fn is_valid(self) -> bool {
        self.0 & !Self::VALID_BITS == 0
    }

    /// The reasons in the set, in declaration order.
    pub fn reasons(self) -> Vec<AlertReason> {
        AlertReason::ALL.into_iter().filter(|r| self.contains(*r)).collect()
    }
}

/// One flagged accessor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[ink::scale_derive(Encode, Decode, TypeInfo)]
#[cfg_attr(feature = "std", derive(ink::storage::traits::StorageLayout))]
pub struct AuditAlert {
    /// The accessor flagged (a provider's account).
    pub accessor: AccountId,
    /// Start of the window examined (Unix ms, inclusive).
    pub window_start_ms: u64,
    /// End of the window examined (Unix ms, exclusive).
    pub window_end_ms: u64,
    /// The detector's score in tenths, rounded up: bucket `b` (1–10) holds scores in
    /// `((b-1)/10, b/10]`.
    pub score_bucket: u8,
    /// Which behaviours stood out (at least one).
    pub reasons: AlertReasons,
}

impl AuditAlert {
    /// Whether the fields are consistent: a window that ends after it starts, a bucket of
    /// 1–10, and at least one valid reason.
    pub const fn is_valid(&self) -> bool {
        self.window_end_ms > self.window_start_ms
            && self.score_bucket >= 1
            && self.score_bucket <= 10
            && self.reasons.0 != 0
            && self.reasons.is_valid()
    }
}

/// A batch of alerts under one signature, for one contract and chain.
#[derive(Debug, Clone, PartialEq, Eq)]
#[ink::scale_derive(Encode, Decode, TypeInfo)]
pub struct AlertBatch {
    /// Domain: the `risk_scores` contract the batch is for.
    pub contract: AccountId,
    /// Domain: the chain's genesis hash.
    pub chain: [u8; 32],
    /// The signer's ed25519 public key (a registered oracle signer).
    pub signer: SignerKey,
    /// Strictly above the signer's last alert batch's nonce (its own sequence, apart from the
    /// scores' nonces).
    pub nonce: u64,
    /// The alerts.
    pub alerts: Vec<AuditAlert>,
}

impl AlertBatch {
    /// The bytes the signer signs: `ALERT_SIGNING_CONTEXT ‖ blake2b-256(SCALE(batch))`.
    pub fn signing_message(&self) -> Vec<u8> {
        let mut digest = [0u8; 32];
        ink::env::hash_encoded::<ink::env::hash::Blake2x256, _>(self, &mut digest);
        let mut message = Vec::with_capacity(ALERT_SIGNING_CONTEXT.len().saturating_add(32));
        message.extend_from_slice(ALERT_SIGNING_CONTEXT);
        message.extend_from_slice(&digest);
        message
    }
}

/// An alert as stored, with who raised it and who acknowledged it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[ink::scale_derive(Encode, Decode, TypeInfo)]
#[cfg_attr(feature = "std", derive(ink::storage::traits::StorageLayout))]
pub struct StoredAlert {
    /// The alert.
    pub alert: AuditAlert,
    /// The signer's key.
    pub signer: SignerKey,
    /// Block in which it was raised.
    pub raised_at: BlockNumber,
    /// The Auditor who acknowledged it, and when.
    pub acknowledged: Option<(AccountId, BlockNumber)>,
}
