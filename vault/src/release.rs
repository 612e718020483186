//! The vault's release rule, checked on-chain at the best block: a document (its envelope and
//! the caller's wrapped key) is released to the patient, or to a reader that
//!
//! 1. may read the record's category now — an unexpired read grant, held while an active
//!    provider, whose grant the registry has not voided (the records contract's own
//!    `access_decision`, asked at the best block); **and**
//! 2. was audited: its own `request_access` for that patient and category was granted, with an
//!    `AccessRequested` event on chain, within the last `audit_window` blocks.
//!
//! A granted request taken under the caller's open emergency (break-glass) access is marked
//! so: the vault then may release a data key re-wrapped from the institution's emergency key
//! (`crate::server`), for the patients who opted in to it.
//!
//! Anything else is a [`Refusal`] that says which condition failed.

use std::sync::Arc;

use anyhow::{Context, Result};
use ehr_client::{ContractRef, EhrEvent, Node};
use ehr_types::{AccessDecision, AccessMode, AccountId, DenialReason, RecordCategory};

/// Why a release passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Release {
    /// The caller is the patient.
    Patient,
    /// The caller may read and its granted request is in this block.
    Reader {
        /// Block of the caller's granted `AccessRequested`.
        audited_in_block: u32,
        /// Whether that request was granted under the caller's emergency access.
        emergency: bool,
    },
}

/// The caller's granted, audited request: its block, and whether it was an emergency access.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Audited {
    /// Block of the granted `AccessRequested`.
    pub block: u32,
    /// Its `emergency` flag.
    pub emergency: bool,
}

/// Why a release is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The records contract denies the read, with its reason.
    #[error("no read access to this patient's {category:?} records: {reason:?}")]
    Denied {
        /// The record's category.
        category: RecordCategory,
        /// The contract's reason.
        reason: DenialReason,
    },
    /// The read would be allowed, but the caller has not made it an audited access.
    #[error(
        "no audited request: call request_access(patient, {category:?}) on the records contract first; \
         its granted AccessRequested event must be within the last {window} blocks"
    )]
    NotAudited {
        /// The record's category.
        category: RecordCategory,
        /// The audit window, in blocks.
        window: u32,
    },
}

/// The rule itself, given what the chain says: the records contract's read decision for
/// `caller` and `caller`'s granted request within the audit window, if any. The
/// patient is always released to. [`ReleaseRule`] asks a node; an in-process chain (the demo)
/// asks its own.
pub fn decide(
    caller: &AccountId,
    patient: &AccountId,
    category: RecordCategory,
    decision: AccessDecision,
    audited: Option<Audited>,
    audit_window: u32,
) -> Result<Release, Refusal> {
    if caller == patient {
        return Ok(Release::Patient);
    }
    if let AccessDecision::Denied(reason) = decision {
        return Err(Refusal::Denied { category, reason });
    }
    match audited {
        Some(Audited { block, emergency }) => Ok(Release::Reader { audited_in_block: block, emergency }),
        None => Err(Refusal::NotAudited { category, window: audit_window }),
    }
}

/// The release rule over a node and the records contract.
pub struct ReleaseRule {
    node: Arc<Node>,
    records: ContractRef,
    audit_window: u32,
}

impl ReleaseRule {
    /// The rule on `node` for the records contract `records`, with an audit window of
    /// `audit_window` blocks (at least 1: the block of the request itself).
    pub fn new(node: Arc<Node>, records: ContractRef, audit_window: u32) -> Self {
        ReleaseRule { node, records, audit_window: audit_window.max(1) }
    }

    /// The audit window, in blocks.
    pub fn audit_window(&self) -> u32 {
        self.audit_window
    }

    /// Whether `caller` may have `patient`'s record of `category` now. `Err` when the node
    /// cannot be asked (then nothing is released either).
    pub async fn check(
        &self,
        caller: &AccountId,
        patient: &AccountId,
        category: RecordCategory,
    ) -> Result<Result<Release, Refusal>> {
        if caller == patient {
            return Ok(Ok(Release::Patient));
        }
        let decision = self
            .node
            .access_decision(&self.records, patient, caller, category, AccessMode::Read)
            .await
            .context("asking the records contract for the access decision")?;
        let audited = match decision {
            AccessDecision::Granted => self.audited_request(caller, patient, category).await?,
            AccessDecision::Denied(_) => None,
        };
        Ok(decide(caller, patient, category, decision, audited, self.audit_window))
    }

    /// `caller`'s newest granted read request for `patient`'s `category` records within the
    /// window.
    async fn audited_request(
        &self,
        caller: &AccountId,
        patient: &AccountId,
        category: RecordCategory,
    ) -> Result<Option<Audited>> {
        let (best, _) = self.node.best_block().await?;
        let oldest = best.saturating_sub(self.audit_window - 1);
        for number in (oldest..=best).rev() {
            let Some((_, events)) = self.node.block_events_of(number, &[self.records.address]).await? else {
                continue;
            };
            for raw in events {
                if let Ok(Some(EhrEvent::AccessRequested(e))) = EhrEvent::decode(&raw) {
                    if e.accessor == *caller
                        && e.patient == *patient
                        && e.category == category
                        && e.mode == AccessMode::Read
                        && e.decision == AccessDecision::Granted
                    {
                        return Ok(Some(Audited { block: number, emergency: e.emergency }));
                    }
                }
            }
        }
        Ok(None)
    }
}
