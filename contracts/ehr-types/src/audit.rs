//! The tamper-evident, gap-evident audit trail: each patient's access decisions form a hash
//! chain.
//!
//! The records contract keeps, per patient, an [`AuditHead`]: the sequence number of the
//! latest audited decision on the patient's chart and its hash. Every `AccessRequested` event
//! carries its own `seq` (the head's plus one) and `prev` (the head's hash), and the head
//! becomes `{seq, AuditEntry::hash}`. Whoever holds a patient's events from `seq` 1 on (from a
//! node, or from an export) recomputes every hash and finds a removed event (a gap in `seq`),
//! an altered one (the next event's `prev` is not its hash) and a cut-off end (the last hash is
//! not the head in storage). Decisions on an account that is not a registered patient carry
//! `seq` 0: they belong to no chart and to no chain.

use crate::{AccessDecision, AccessMode, AccountId, BlockNumber, ContentHash, RecordCategory};

/// A patient's audit chain as stored: the latest decision's sequence number (0: none yet) and
/// its hash ([`AuditEntry::hash`]; zeros when there is none).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[ink::scale_derive(Encode, Decode, TypeInfo)]
#[cfg_attr(feature = "std", derive(ink::storage::traits::StorageLayout))]
pub struct AuditHead {
    /// Sequence number of the latest audited decision (the first is 1).
    pub seq: u64,
    /// Its hash.
    pub hash: ContentHash,
}

/// What one link of a patient's audit chain commits to: the audited decision, where it sits in
/// the chain, and the block it was taken in. Its hash is `SHA-256(SCALE(entry))`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[ink::scale_derive(Encode, Decode, TypeInfo)]
pub struct AuditEntry {
    /// Hash of the previous entry (zeros before the first).
    pub prev: ContentHash,
    /// Sequence number, from 1.
    pub seq: u64,
    /// Whose chart.
    pub patient: AccountId,
    /// Who asked.
    pub accessor: AccountId,
    /// Which category.
    pub category: RecordCategory,
    /// Read or write.
    pub mode: AccessMode,
    /// What was decided.
    pub decision: AccessDecision,
    /// Whether the decision was taken under an open emergency (break-glass) access.
    pub emergency: bool,
    /// The block the decision was taken in.
    pub block: BlockNumber,
}

impl AuditEntry {
    /// `SHA-256(SCALE(self))`: the chain's next `prev`. The contract computes it with the
    /// chain's hash host function, verifiers with the same code off chain.
    pub fn hash(&self) -> ContentHash {
        let mut digest = [0u8; 32];
        ink::env::hash_encoded::<ink::env::hash::Sha2x256, _>(self, &mut digest);
        digest
    }

    /// The head after this entry.
    pub fn head(&self) -> AuditHead {
        AuditHead { seq: self.seq, hash: self.hash() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DenialReason;

    #[test]
    fn every_field_changes_the_hash() {
        let entry = AuditEntry {
            prev: [0; 32],
            seq: 1,
            patient: AccountId::from([1; 32]),
            accessor: AccountId::from([2; 32]),
            category: RecordCategory::LabResult,
            mode: AccessMode::Read,
            decision: AccessDecision::Granted,
            emergency: false,
            block: 7,
        };
        let variants = [
            AuditEntry { prev: [9; 32], ..entry },
            AuditEntry { seq: 2, ..entry },
            AuditEntry { patient: AccountId::from([3; 32]), ..entry },
            AuditEntry { accessor: AccountId::from([3; 32]), ..entry },
            AuditEntry { category: RecordCategory::Vitals, ..entry },
            AuditEntry { mode: AccessMode::Write, ..entry },
            AuditEntry { decision: AccessDecision::Denied(DenialReason::NoGrant), ..entry },
            AuditEntry { emergency: true, ..entry },
            AuditEntry { block: 8, ..entry },
        ];
        for other in variants {
            assert_ne!(other.hash(), entry.hash(), "{other:?}");
        }
        // SHA-256 of the SCALE bytes, nothing else.
        use sha2::Digest as _;
        let expected: [u8; 32] = sha2::Sha256::digest(ink::scale::Encode::encode(&entry)).into();
        assert_eq!(entry.hash(), expected);
        assert_eq!(entry.head(), AuditHead { seq: 1, hash: expected });
    }
}
