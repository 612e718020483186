//! The contracts' cross-contract interfaces, as ink! trait definitions, and the upgrade
//! machinery every contract shares.
//!
//! A contract calls another through `contract_ref!(Trait)` with the types below, never through
//! selectors spelled out by hand, and always with `try_invoke`, so that a callee that cannot be
//! reached, traps or answers something undecodable is a typed failure the caller turns into a
//! refusal (fail closed), never a trap of the caller.
//!
//! # Upgrades
//! Every contract implements [`Upgradeable`]. Its governance account (the admin of the registry
//! and of `risk_scores`; for `patient_records`, the registry's admin) schedules a new code hash
//! with [`Upgradeable::schedule_upgrade`]; an [`UpgradeScheduled`](crate::events::UpgradeScheduled)
//! event announces it and the earliest block it may take effect (the contract's time-lock, fixed
//! at instantiation). Patients and providers watch for that event. After the time-lock the
//! governance account calls [`Upgradeable::apply_upgrade`]: the contract switches its code with
//! `set_code_hash` and, in the same transaction, calls the **new** code's
//! [`Upgradeable::migrate`] (a re-entrant call into itself). If the new code has no `migrate`,
//! refuses the stored version (a downgrade, or a version it does not know) or fails in any
//! other way, the whole transaction reverts and the old code stays. Storage layouts only ever
//! grow compatibly (new fields in their own storage cells, new fields of stored values decode
//! as absent from old entries), so a migration is bounded work and never a loop over patients,
//! records or grants.

use ink::{
    env::{CallFlags, DefaultEnvironment},
    primitives::{AccountId, Hash},
    storage::{traits::StorageKey, Lazy},
};

use crate::{
    scores::InputCheck, AccessDecision, AccessMode, BlockNumber, ContentHash, ProviderInfo, ProviderRole,
    RecordCategory, RecordsError,
};

/// The registry as other contracts see it.
#[ink::trait_definition]
pub trait ProviderDirectory {
    /// The provider record of `account`, if it is registered.
    #[ink(message)]
    fn provider(&self, account: AccountId) -> Option<ProviderInfo>;

    /// The registry's admin: it governs the whole suite (providers, and the records contract's
    /// upgrades).
    #[ink(message)]
    fn admin(&self) -> AccountId;
}

/// The records contract's consent checks, as the risk-scores contract uses them.
#[ink::trait_definition]
pub trait ConsentCheck {
    /// The provider registry this records contract asks (the risk-scores contract asks it who
    /// is an Auditor).
    #[ink(message)]
    fn provider_registry(&self) -> AccountId;

    /// The decision `request_access` would take for `accessor` on `patient`'s `category` records
    /// in `mode`, without recording it.
    #[ink(message)]
    fn access_decision(
        &self,
        patient: AccountId,
        accessor: AccountId,
        category: RecordCategory,
        mode: AccessMode,
    ) -> AccessDecision;

    /// For each `(patient, content_hash)`: is it an anchored, current (not superseded) record of
    /// the patient that `accessor`, an active provider of `role`, may read?
    ///
    /// # Errors
    /// `BatchTooLarge` for more than `MAX_BATCH` (128) items.
    #[ink(message)]
    fn check_inputs(
        &self,
        accessor: AccountId,
        role: ProviderRole,
        items: ink::prelude::vec::Vec<(AccountId, ContentHash)>,
    ) -> Result<ink::prelude::vec::Vec<InputCheck>, RecordsError>;
}

/// The records contract's anchoring of sealed score reports, as the risk-scores contract uses
/// it in the call that accepts the scores.
#[ink::trait_definition]
pub trait ReportAnchor {
    /// Anchors, for each `(patient, report_hash)`, a `RiskAssessment` record authored by
    /// `author` (the oracle's account) with the locator `vault://<report_hash>` (announced by
    /// the caller's `ScoresAccepted`, not by a `RecordAdded`), with the next report id
    /// (from [`crate::FIRST_REPORT_ID`]). Only the risk-scores contract named by
    /// `set_score_contract` may call it, for patients whose scored input it found anchored in
    /// the same call. One outcome per item, in order.
    ///
    /// # Errors
    /// `NotScoreContract`; `BatchTooLarge` for more than `MAX_BATCH` (128) items. Per item:
    /// `DuplicateContentHash`, `InvalidContentHash`, `Overflow` (2³¹ reports anchored).
    #[ink(message)]
    fn anchor_reports(
        &mut self,
        author: AccountId,
        items: ink::prelude::vec::Vec<(AccountId, ContentHash)>,
    ) -> Result<ink::prelude::vec::Vec<Result<crate::RecordId, RecordsError>>, RecordsError>;
}

/// Why an upgrade message was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[ink::scale_derive(Encode, Decode, TypeInfo)]
pub enum UpgradeError {
    /// The caller is not the contract's governance account.
    NotGovernance,
    /// The governance account could not be asked (the registry did not answer).
    GovernanceUnavailable,
    /// An upgrade is already scheduled; cancel it first.
    UpgradeAlreadyScheduled,
    /// No upgrade is scheduled.
    NoUpgradeScheduled,
    /// The time-lock has not passed yet: the upgrade may be applied from the block given.
    TimeLocked(BlockNumber),
    /// No code with this hash is uploaded on the chain.
    CodeNotFound,
    /// The new code did not accept the contract's storage: it has no `migrate`, or refused the
    /// stored version (a downgrade or an unknown version), or failed. Nothing changed.
    NewCodeRefused,
    /// The stored data has a storage version this code does not know (newer than it, or 0):
    /// a downgrade, or a foreign contract's storage.
    UnknownStorageVersion(u16),
    /// A migration step limit must be between 1 and `MAX_MIGRATION_STEPS`.
    InvalidStepLimit,
}

/// An upgrade waiting for its time-lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[ink::scale_derive(Encode, Decode, TypeInfo)]
#[cfg_attr(feature = "std", derive(ink::storage::traits::StorageLayout))]
pub struct PendingUpgrade {
    /// The code the contract will switch to.
    pub code_hash: Hash,
    /// The first block at which it may be applied.
    pub not_before: BlockNumber,
}

/// What a `migrate` call did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[ink::scale_derive(Encode, Decode, TypeInfo)]
pub struct MigrationStatus {
    /// The storage version before the call.
    pub from: u16,
    /// The storage version after the call (the code's version once `done`).
    pub to: u16,
    /// Whether the storage is fully migrated; if not, call `migrate` again.
    pub done: bool,
}

/// Upgrades and storage migrations, implemented by every contract of the suite.
#[ink::trait_definition]
pub trait Upgradeable {
    /// The stored data's version (1 for a contract instantiated from the first release and
    /// not migrated), the time-lock in blocks and the scheduled upgrade, if any.
    #[ink(message)]
    fn upgrade_state(&self) -> UpgradeState;

    /// Schedules a switch to the uploaded code `code_hash`, applicable from the returned block
    /// (now + the time-lock). Emits `UpgradeScheduled`.
    ///
    /// # Errors
    /// `NotGovernance`, `GovernanceUnavailable`, `UpgradeAlreadyScheduled`.
    #[ink(message)]
    fn schedule_upgrade(&mut self, code_hash: Hash) -> Result<BlockNumber, UpgradeError>;

    /// Cancels the scheduled upgrade. Emits `UpgradeCancelled`.
    ///
    /// # Errors
    /// `NotGovernance`, `GovernanceUnavailable`, `NoUpgradeScheduled`.
    #[ink(message)]
    fn cancel_upgrade(&mut self) -> Result<(), UpgradeError>;

    /// Applies the scheduled upgrade once its time-lock has passed: switches the code and runs
    /// the new code's `migrate` in the same transaction. Emits `UpgradeApplied`.
    ///
    /// # Errors
    /// `NotGovernance`, `GovernanceUnavailable`, `NoUpgradeScheduled`, `TimeLocked(block)`,
    /// `CodeNotFound`, `NewCodeRefused` (the new code refused the storage; nothing changed).
    #[ink(message)]
    fn apply_upgrade(&mut self) -> Result<MigrationStatus, UpgradeError>;

    /// Migrates the stored data to this code's storage version, at most `limit` steps (1–64).
    /// Anyone may call it; it is idempotent. Emits `StorageMigrated` when the version changes.
    ///
    /// # Errors
    /// `InvalidStepLimit`; `UnknownStorageVersion(v)` when the stored data is newer than this
    /// code (a downgrade) or of an unknown version.
    #[ink(message)]
    fn migrate(&mut self, limit: u32) -> Result<MigrationStatus, UpgradeError>;
}

/// Largest `limit` a `migrate` call takes.
pub const MAX_MIGRATION_STEPS: u32 = 64;
/// The time-lock of a contract upgraded from the first release, which had none: one day of
/// 6-second blocks.
pub const DEFAULT_UPGRADE_DELAY: BlockNumber = 14_400;

/// The upgrade state a contract keeps in one storage cell of its own (a `Lazy` field), read
/// only by the upgrade messages: no other message pays for it. A contract instantiated from the
/// first release, which had none, reads as [`UpgradeState::default`]: storage version 1, the
/// default time-lock, nothing scheduled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[ink::scale_derive(Encode, Decode, TypeInfo)]
#[cfg_attr(feature = "std", derive(ink::storage::traits::StorageLayout))]
pub struct UpgradeState {
    /// Version of the stored data.
    pub version: u16,
    /// Time-lock of an upgrade, in blocks.
    pub delay: BlockNumber,
    /// The scheduled upgrade, if any.
    pub pending: Option<PendingUpgrade>,
}

impl Default for UpgradeState {
    fn default() -> Self {
        UpgradeState { version: 1, delay: DEFAULT_UPGRADE_DELAY, pending: None }
    }
}

impl UpgradeState {
    /// The state of a newly instantiated contract of storage version `version`.
    pub fn new(version: u16, delay: BlockNumber) -> Self {
        UpgradeState { version, delay, pending: None }
    }

    /// Schedules `code_hash` at block `now`; returns the first block it may be applied.
    pub fn schedule(&mut self, code_hash: Hash, now: BlockNumber) -> Result<BlockNumber, UpgradeError> {
        if self.pending.is_some() {
            return Err(UpgradeError::UpgradeAlreadyScheduled);
        }
        let not_before = now.saturating_add(self.delay);
        self.pending = Some(PendingUpgrade { code_hash, not_before });
        Ok(not_before)
    }

    /// Cancels the scheduled upgrade; returns its code hash.
    pub fn cancel(&mut self) -> Result<Hash, UpgradeError> {
        self.pending.take().map(|p| p.code_hash).ok_or(UpgradeError::NoUpgradeScheduled)
    }

    /// Takes the scheduled upgrade if its time-lock has passed at block `now`.
    pub fn take_due(&mut self, now: BlockNumber) -> Result<Hash, UpgradeError> {
        let pending = self.pending.ok_or(UpgradeError::NoUpgradeScheduled)?;
        if now < pending.not_before {
            return Err(UpgradeError::TimeLocked(pending.not_before));
        }
        self.pending = None;
        Ok(pending.code_hash)
    }

    /// Moves the stored version to `code_version`, the version of the running code; refuses a
    /// newer or an unknown stored version. The suite's migrations so far need no steps of their
    /// own (every change decodes compatibly), so one call always finishes.
    pub fn migrate(&mut self, code_version: u16, limit: u32) -> Result<MigrationStatus, UpgradeError> {
        if limit == 0 || limit > MAX_MIGRATION_STEPS {
            return Err(UpgradeError::InvalidStepLimit);
        }
        let from = self.version;
        if from == 0 || from > code_version {
            return Err(UpgradeError::UnknownStorageVersion(from));
        }
        self.version = code_version;
        Ok(MigrationStatus { from, to: code_version, done: true })
    }
}

/// Switches the running contract to `code_hash` and calls the new code's `migrate` through a
/// re-entrant call into itself, in the same transaction. Any failure of the new code is
/// `NewCodeRefused`; the caller returns it as an `Err`, which reverts the switch.
pub fn switch_code_and_migrate(code_hash: Hash) -> Result<MigrationStatus, UpgradeError> {
    use ink::codegen::TraitCallBuilder;
    ink::env::set_code_hash::<DefaultEnvironment>(&code_hash).map_err(|_| UpgradeError::CodeNotFound)?;
    let this = ink::env::account_id::<DefaultEnvironment>();
    let mut new_code: ink::contract_ref!(Upgradeable, DefaultEnvironment) = this.into();
    let call = new_code.call_mut().migrate(MAX_MIGRATION_STEPS).call_flags(CallFlags::ALLOW_REENTRY);
    match call.try_invoke() {
        Ok(Ok(Ok(status))) if status.done => Ok(status),
        _ => Err(UpgradeError::NewCodeRefused),
    }
}

/// The helpers behind every contract's [`Upgradeable`] messages, over the contract's
/// `Lazy<UpgradeState>` cell; the contract checks its governance account first.
pub mod upgrade {
    use super::*;
    use crate::events::{StorageMigrated, UpgradeApplied, UpgradeCancelled, UpgradeScheduled};

    /// The cell's state ([`UpgradeState::default`] for a first-release contract):
    /// `Upgradeable::upgrade_state`.
    pub fn state<K: StorageKey>(cell: &Lazy<UpgradeState, K>) -> UpgradeState {
        cell.get().unwrap_or_default()
    }

    /// `Upgradeable::schedule_upgrade`, after the governance check.
    pub fn schedule<K: StorageKey>(
        cell: &mut Lazy<UpgradeState, K>,
        code_hash: Hash,
    ) -> Result<BlockNumber, UpgradeError> {
        let mut state = state(cell);
        let not_before = state.schedule(code_hash, ink::env::block_number::<DefaultEnvironment>())?;
        cell.set(&state);
        ink::env::emit_event::<DefaultEnvironment, _>(UpgradeScheduled { code_hash, not_before });
        Ok(not_before)
    }

    /// `Upgradeable::cancel_upgrade`, after the governance check.
    pub fn cancel<K: StorageKey>(cell: &mut Lazy<UpgradeState, K>) -> Result<(), UpgradeError> {
        let mut state = state(cell);
        let code_hash = state.cancel()?;
        cell.set(&state);
        ink::env::emit_event::<DefaultEnvironment, _>(UpgradeCancelled { code_hash });
        Ok(())
    }

    /// `Upgradeable::apply_upgrade`, after the governance check. The cell is written before the
    /// switch (the new code's `migrate` reads it) and never after.
    pub fn apply<K: StorageKey>(cell: &mut Lazy<UpgradeState, K>) -> Result<MigrationStatus, UpgradeError> {
        let mut state = state(cell);
        let code_hash = state.take_due(ink::env::block_number::<DefaultEnvironment>())?;
        cell.set(&state);
        let status = switch_code_and_migrate(code_hash)?;
        ink::env::emit_event::<DefaultEnvironment, _>(UpgradeApplied {
            code_hash,
            from_version: status.from,
            to_version: status.to,
        });
        Ok(status)
    }

    /// `Upgradeable::migrate` for code of storage version `code_version`.
    pub fn migrate<K: StorageKey>(
        cell: &mut Lazy<UpgradeState, K>,
        code_version: u16,
        limit: u32,
    ) -> Result<MigrationStatus, UpgradeError> {
        let mut state = state(cell);
        let status = state.migrate(code_version, limit)?;
        if status.from != status.to {
            cell.set(&state);
            ink::env::emit_event::<DefaultEnvironment, _>(StorageMigrated {
                from_version: status.from,
                to_version: status.to,
            });
        }
        Ok(status)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedule_waits_for_the_time_lock_and_cancels() {
        let mut state = UpgradeState::new(2, 10);
        let code = Hash::from([7; 32]);
        assert_eq!(state.take_due(5), Err(UpgradeError::NoUpgradeScheduled));
        assert_eq!(state.schedule(code, 5), Ok(15));
        assert_eq!(state.schedule(code, 6), Err(UpgradeError::UpgradeAlreadyScheduled));
        assert_eq!(state.take_due(14), Err(UpgradeError::TimeLocked(15)));
        assert_eq!(state.cancel(), Ok(code));
        assert_eq!(state.cancel(), Err(UpgradeError::NoUpgradeScheduled));
        state.schedule(code, 20).unwrap();
        assert_eq!(state.take_due(30), Ok(code));
        assert_eq!(state.pending, None);
        assert_eq!(UpgradeState::new(2, u32::MAX).schedule(code, 5), Ok(u32::MAX));
    }

    #[test]
    fn migration_refuses_downgrades_and_unknown_versions() {
        let mut v1 = UpgradeState::default();
        assert_eq!(v1.version, 1);
        assert_eq!(v1.migrate(2, 0), Err(UpgradeError::InvalidStepLimit));
        assert_eq!(v1.migrate(2, MAX_MIGRATION_STEPS + 1), Err(UpgradeError::InvalidStepLimit));
        assert_eq!(v1.migrate(2, 1), Ok(MigrationStatus { from: 1, to: 2, done: true }));
        assert_eq!(v1.migrate(2, 1), Ok(MigrationStatus { from: 2, to: 2, done: true }));
        let mut v3 = UpgradeState::new(3, 1);
        assert_eq!(v3.migrate(2, 1), Err(UpgradeError::UnknownStorageVersion(3)));
        assert_eq!(UpgradeState::new(0, 1).migrate(2, 1), Err(UpgradeError::UnknownStorageVersion(0)));
    }
}
