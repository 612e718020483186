//! Contract events as they appear on a chain, decoded into the shared event types (`std` only).
//!
//! Both the drink harness and the node client read events the same way: the emitting contract,
//! the topics (the first is the event's signature topic) and the SCALE data, turned into an
//! [`EhrEvent`] by signature topic.

use alloc::{format, string::String, vec::Vec};
use core::fmt;

use ink::{env::Event as _, primitives::AccountId, scale::DecodeAll};

use crate::events;

/// An event whose signature topic is an EHR event's but whose data does not decode as it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UndecodableEvent {
    /// The event the topic names.
    pub event: &'static str,
    /// The decoding error.
    pub error: ink::scale::Error,
}

impl fmt::Display for UndecodableEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "undecodable {} event: {}", self.event, self.error)
    }
}

impl std::error::Error for UndecodableEvent {}

/// A contract event as it appeared on chain: emitting contract, topics and data.
#[derive(Debug, Clone)]
pub struct RawEvent {
    /// Emitting contract.
    pub contract: AccountId,
    /// Topics; the first is the event's signature topic.
    pub topics: Vec<[u8; 32]>,
    /// SCALE-encoded event.
    pub data: Vec<u8>,
}

macro_rules! ehr_events {
    ($($name:ident),* $(,)?) => {
        /// Every event the EHR contracts emit, decoded with the shared types.
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub enum EhrEvent {
            $(
                #[allow(missing_docs)]
                $name(events::$name),
            )*
        }

        impl EhrEvent {
            /// Decodes a raw contract event by its signature topic: `Ok(None)` for an event
            /// that is not one of the EHR contracts' (or has no topics), an error when the
            /// topic is known but the data does not decode as that event.
            pub fn decode(raw: &RawEvent) -> Result<Option<Self>, UndecodableEvent> {
                let Some(signature) = raw.topics.first().copied() else { return Ok(None) };
                $(
                    if Some(signature) == events::$name::SIGNATURE_TOPIC {
                        return events::$name::decode_all(&mut &raw.data[..])
                            .map(|event| Some(EhrEvent::$name(event)))
                            .map_err(|error| UndecodableEvent { event: stringify!($name), error });
                    }
                )*
                Ok(None)
            }
        }
    };
}

ehr_events!(
    ProviderRegistered,
    ProviderSuspended,
    ProviderReinstated,
    AdminTransferProposed,
    AdminTransferred,
    PatientRegistered,
    ProfileCommitmentSet,
    RecordAdded,
    RecordErased,
    AccessGranted,
    AccessRevoked,
    AccessRequested,
    LegacyAccessRequested,
    EmergencyOpened,
    EmergencyDenied,
    EmergencyClosed,
    EmergencyReviewed,
    EmergencyReviewOverdue,
    EmergencyPolicySet,
    EmergencyKeySet,
    EmergencyKeyOptIn,
    AlertRaised,
    AlertAcknowledged,
    SignerAdded,
    SignerRetired,
    ModelApproved,
    ModelRetired,
    ScoresAccepted,
    ScoreAccepted,
    ScoreRefused,
    UpgradeScheduled,
    UpgradeCancelled,
    UpgradeApplied,
    StorageMigrated,
    EncryptionKeySet,
    ScoreContractSet,
    LegacyScoresPurged,
);

/// A short form of an account for logs: `0x` and its first four bytes.
pub fn short_account(account: &AccountId) -> String {
    short_hex(AsRef::<[u8; 32]>::as_ref(account))
}

/// A short form of a 32-byte hash for logs: `0x` and its first four bytes.
pub fn short_hex(bytes: &[u8]) -> String {
    format!("0x{}…", bytes[..4].iter().map(|b| format!("{b:02x}")).collect::<String>())
}

impl EhrEvent {
    /// One line describing the event, with short account ids and hashes.
    pub fn summary(&self) -> String {
        let a = short_account;
        match self {
            EhrEvent::ProviderRegistered(e) => {
                format!("ProviderRegistered {} as {:?}", a(&e.provider), e.role)
            }
            EhrEvent::ProviderSuspended(e) => format!("ProviderSuspended {}", a(&e.provider)),
            EhrEvent::ProviderReinstated(e) => format!("ProviderReinstated {}", a(&e.provider)),
            EhrEvent::AdminTransferProposed(e) => {
                format!("AdminTransferProposed by {} to {:?}", a(&e.admin), e.candidate.as_ref().map(a))
            }
            EhrEvent::AdminTransferred(e) => {
                format!("AdminTransferred {} -> {}", a(&e.previous), a(&e.admin))
            }
            EhrEvent::PatientRegistered(e) => format!("PatientRegistered {}", a(&e.patient)),
            EhrEvent::ProfileCommitmentSet(e) => {
                format!(
                    "ProfileCommitmentSet {} {:?}",
                    a(&e.patient),
                    e.commitment.as_ref().map(|c| short_hex(c))
                )
            }
            EhrEvent::RecordAdded(e) => format!(
                "RecordAdded patient {} record {} {:?} sha256 {} by {}{}",
                a(&e.patient),
                e.record_id,
                e.category,
                short_hex(&e.content_hash),
                a(&e.author),
                e.supersedes.map(|id| format!(", supersedes {id}")).unwrap_or_default()
            ),
            EhrEvent::RecordErased(e) => format!(
                "RecordErased patient {} record {} sha256 {}",
                a(&e.patient),
                e.record_id,
                short_hex(&e.content_hash)
            ),
            EhrEvent::AccessGranted(e) => format!(
                "AccessGranted patient {} -> {} read {:?} write {:?} until {}",
                a(&e.patient),
                a(&e.provider),
                e.scope.read.categories(),
                e.scope.write.categories(),
                e.expires_at.map(|b| format!("block {b}")).unwrap_or_else(|| "revoked".into())
            ),
            EhrEvent::AccessRevoked(e) => {
                format!("AccessRevoked patient {} -> {}", a(&e.patient), a(&e.provider))
            }
            EhrEvent::AccessRequested(e) => format!(
                "AccessRequested patient {} by {}: {:?} {:?} -> {:?}{} (audit #{})",
                a(&e.patient),
                a(&e.accessor),
                e.mode,
                e.category,
                e.decision,
                if e.emergency { " under emergency access" } else { "" },
                e.seq
            ),
            EhrEvent::LegacyAccessRequested(e) => format!(
                "AccessRequested (storage version 1-2) patient {} by {}: {:?} {:?} -> {:?}",
                a(&e.patient),
                a(&e.accessor),
                e.mode,
                e.category,
                e.decision
            ),
            EhrEvent::EmergencyOpened(e) => format!(
                "EmergencyOpened case {} patient {} by {} ({:?}) until block {}, review due by block {}",
                e.case,
                a(&e.patient),
                a(&e.clinician),
                e.purpose,
                e.expires_at,
                e.review_due
            ),
            EhrEvent::EmergencyDenied(e) => {
                format!("EmergencyDenied patient {} to {}: {:?}", a(&e.patient), a(&e.clinician), e.reason)
            }
            EhrEvent::EmergencyClosed(e) => {
                format!("EmergencyClosed case {} patient {}", e.case, a(&e.patient))
            }
            EhrEvent::EmergencyReviewed(e) => format!(
                "EmergencyReviewed case {} patient {} by {}: {:?} ({:?})",
                e.case,
                a(&e.patient),
                a(&e.auditor),
                e.verdict,
                e.reason
            ),
            EhrEvent::EmergencyReviewOverdue(e) => format!(
                "EmergencyReviewOverdue case {} patient {} opened by {}: due by block {}",
                e.case,
                a(&e.patient),
                a(&e.clinician),
                e.review_due
            ),
            EhrEvent::EmergencyPolicySet(e) => format!(
                "EmergencyPolicySet at most {} blocks, reviewed within {} blocks",
                e.policy.max_blocks, e.policy.review_blocks
            ),
            EhrEvent::EmergencyKeySet(e) => format!("EmergencyKeySet key {}", short_hex(&e.key)),
            EhrEvent::EmergencyKeyOptIn(e) => format!(
                "EmergencyKeyOptIn patient {} {}",
                a(&e.patient),
                if e.opted_in { "opted in" } else { "opted out" }
            ),
            EhrEvent::AlertRaised(e) => format!(
                "AlertRaised {} accessor {} score bucket {}/10 for {:?}, window {}..{} ms, signer {}",
                e.id,
                a(&e.accessor),
                e.score_bucket,
                e.reasons.reasons(),
                e.window_start_ms,
                e.window_end_ms,
                short_hex(&e.signer)
            ),
            EhrEvent::AlertAcknowledged(e) => format!("AlertAcknowledged {} by {}", e.id, a(&e.auditor)),
            EhrEvent::SignerAdded(e) => {
                format!("SignerAdded key {} for oracle {}", short_hex(&e.signer), a(&e.account))
            }
            EhrEvent::SignerRetired(e) => format!("SignerRetired key {}", short_hex(&e.signer)),
            EhrEvent::ModelApproved(e) => format!("ModelApproved {}", short_hex(&e.model_hash)),
            EhrEvent::ModelRetired(e) => format!("ModelRetired {}", short_hex(&e.model_hash)),
            EhrEvent::ScoresAccepted(e) => format!(
                "ScoresAccepted signer {}: {}",
                short_hex(&e.signer),
                e.scores
                    .iter()
                    .map(|s| format!(
                        "nonce {} patient {} model {} input sha256 {} report record {}",
                        s.nonce,
                        a(&s.patient),
                        short_hex(&s.model_hash),
                        short_hex(&s.input_hash),
                        s.report_record
                    ))
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
            EhrEvent::ScoreAccepted(e) => format!(
                "ScoreAccepted (storage version 1-2) patient {} model {} input sha256 {} signer {} nonce {}",
                a(&e.patient),
                short_hex(&e.model_hash),
                short_hex(&e.input_hash),
                short_hex(&e.signer),
                e.nonce
            ),
            EhrEvent::ScoreContractSet(e) => format!("ScoreContractSet {}", a(&e.contract)),
            EhrEvent::LegacyScoresPurged(e) => format!("LegacyScoresPurged {}", e.count),
            EhrEvent::ScoreRefused(e) => {
                format!("ScoreRefused signer {} nonce {}: {:?}", short_hex(&e.signer), e.nonce, e.reason)
            }
            EhrEvent::UpgradeScheduled(e) => format!(
                "UpgradeScheduled code {} from block {}",
                short_hex(e.code_hash.as_ref()),
                e.not_before
            ),
            EhrEvent::UpgradeCancelled(e) => {
                format!("UpgradeCancelled code {}", short_hex(e.code_hash.as_ref()))
            }
            EhrEvent::UpgradeApplied(e) => format!(
                "UpgradeApplied code {} storage v{} -> v{}",
                short_hex(e.code_hash.as_ref()),
                e.from_version,
                e.to_version
            ),
            EhrEvent::EncryptionKeySet(e) => {
                format!("EncryptionKeySet {} key {}", a(&e.account), short_hex(&e.key))
            }
            EhrEvent::StorageMigrated(e) => {
                format!("StorageMigrated storage v{} -> v{}", e.from_version, e.to_version)
            }
        }
    }
}
