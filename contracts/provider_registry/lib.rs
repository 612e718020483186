#![cfg_attr(not(feature = "std"), no_std, no_main)]

//! # Provider registry
//!
//! The admin-governed directory of health-care providers (the seed paper's "doctor registry"):
//! doctors, labs, pharmacies, insurers and analytics services such as the AI risk oracle.
//!
//! - The deployer is the admin. Admin transfer is two-step: `propose_admin` then `accept_admin`
//!   by the candidate.
//! - Only the admin registers, suspends and reinstates providers.
//! - Anyone (including other contracts) can ask whether an account is an active provider. The
//!   patient records contract asks `ProviderDirectory::provider` on every access decision, so a
//!   suspension takes effect on every grant at once, without the patients acting. A provider
//!   keeps the block of its latest suspension: grants given before it stay void after a
//!   reinstatement until each patient grants again.
//! - The admin governs the suite: it also schedules the records contract's upgrades. Upgrades of
//!   this contract are time-locked (`Upgradeable`, see `ehr_types::api`).

#[ink::contract]
mod provider_registry {
    use ehr_types::{
        api::{upgrade, MigrationStatus, ProviderDirectory, UpgradeError, UpgradeState, Upgradeable},
        events::{
            AdminTransferProposed, AdminTransferred, EncryptionKeySet, ProviderRegistered,
            ProviderReinstated, ProviderSuspended,
        },
        EncryptionKey, ProviderInfo, ProviderRole, ProviderStatus, RegistryError,
    };
    use ink::storage::{Lazy, Mapping};

    /// Version of this code's storage layout (1: the first release).
    pub const STORAGE_VERSION: u16 = 2;

    /// Result of the registry's messages.
    pub type Result<T> = core::result::Result<T, RegistryError>;

    /// Registry storage: flat mappings, nothing that grows with the number of providers. The
    /// root fields keep the first release's order; later fields live in cells of their own.
    #[ink(storage)]
    pub struct ProviderRegistry {
        /// The account allowed to manage providers.
        admin: AccountId,
        /// The account proposed as the next admin, until it accepts.
        pending_admin: Option<AccountId>,
        /// Every registered provider.
        providers: Mapping<AccountId, ProviderInfo>,
        /// Number of registered providers (active and suspended).
        provider_count: u32,
        /// Storage version, time-lock and scheduled upgrade.
        upgrades: Lazy<UpgradeState>,
        /// Each provider's X25519 encryption public key (storage version 2).
        encryption_keys: Mapping<AccountId, EncryptionKey>,
    }

    impl ProviderRegistry {
        /// Creates the registry; the caller becomes the admin. `upgrade_delay` is the time-lock,
        /// in blocks, between scheduling an upgrade and applying it (for this contract and the
        /// records contract, which it governs).
        #[ink(constructor)]
        pub fn new(upgrade_delay: BlockNumber) -> Self {
            let mut upgrades = Lazy::new();
            upgrades.set(&UpgradeState::new(STORAGE_VERSION, upgrade_delay));
            Self {
                admin: Self::env().caller(),
                pending_admin: None,
                providers: Mapping::default(),
                provider_count: 0,
                upgrades,
                encryption_keys: Mapping::default(),
            }
        }

        /// Registers `account` as an active provider with `role`. Admin only.
        ///
        /// # Errors
        /// `NotAdmin`; `ProviderAlreadyRegistered`; `Overflow`.
        #[ink(message)]
        pub fn register_provider(&mut self, account: AccountId, role: ProviderRole) -> Result<()> {
            self.ensure_admin()?;
            if self.providers.contains(account) {
                return Err(RegistryError::ProviderAlreadyRegistered);
            }
            let count = self.provider_count.checked_add(1).ok_or(RegistryError::Overflow)?;
            let info = ProviderInfo {
                role,
                status: ProviderStatus::Active,
                registered_at: self.env().block_number(),
                suspended_at: None,
            };
            self.providers.insert(account, &info);
            self.provider_count = count;
            self.env().emit_event(ProviderRegistered { provider: account, role });
            Ok(())
        }

        /// Suspends an active provider. Admin only. Every grant it holds stops working, and
        /// stays void after a reinstatement until the patient grants again.
        ///
        /// # Errors
        /// `NotAdmin`; `ProviderNotFound`; `ProviderAlreadySuspended`.
        #[ink(message)]
        pub fn suspend_provider(&mut self, account: AccountId) -> Result<()> {
            self.ensure_admin()?;
            let mut info = self.providers.get(account).ok_or(RegistryError::ProviderNotFound)?;
            if info.status == ProviderStatus::Suspended {
                return Err(RegistryError::ProviderAlreadySuspended);
            }
            info.status = ProviderStatus::Suspended;
            info.suspended_at = Some(self.env().block_number());
            self.providers.insert(account, &info);
            self.env().emit_event(ProviderSuspended { provider: account });
            Ok(())
        }

        /// Reinstates a suspended provider. Admin only. It may be granted access again; the
        /// grants it held before its suspension do not revive.
        ///
        /// # Errors
        /// `NotAdmin`; `ProviderNotFound`; `ProviderNotSuspended`.
        #[ink(message)]
        pub fn reinstate_provider(&mut self, account: AccountId) -> Result<()> {
            self.ensure_admin()?;
            let mut info = self.providers.get(account).ok_or(RegistryError::ProviderNotFound)?;
            if info.status == ProviderStatus::Active {
                return Err(RegistryError::ProviderNotSuspended);
            }
            info.status = ProviderStatus::Active;
            self.providers.insert(account, &info);
            self.env().emit_event(ProviderReinstated { provider: account });
            Ok(())
        }

        /// Proposes `candidate` as the next admin; it becomes admin when it calls
        /// `accept_admin`. Replaces any earlier proposal. Admin only.
        ///
        /// # Errors
        /// `NotAdmin`; `AlreadyAdmin` when `candidate` is the admin.
        #[ink(message)]
        pub fn propose_admin(&mut self, candidate: AccountId) -> Result<()> {
            self.ensure_admin()?;
            if candidate == self.admin {
                return Err(RegistryError::AlreadyAdmin);
            }
            self.pending_admin = Some(candidate);
            self.env().emit_event(AdminTransferProposed { admin: self.admin, candidate: Some(candidate) });
            Ok(())
        }

        /// Cancels the pending admin proposal. Admin only.
        ///
        /// # Errors
        /// `NotAdmin`; `NoPendingAdmin`.
        #[ink(message)]
        pub fn cancel_admin_proposal(&mut self) -> Result<()> {
            self.ensure_admin()?;
            if self.pending_admin.take().is_none() {
                return Err(RegistryError::NoPendingAdmin);
            }
            self.env().emit_event(AdminTransferProposed { admin: self.admin, candidate: None });
            Ok(())
        }

        /// Accepts a pending admin proposal. Only the proposed account may call it.
        ///
        /// # Errors
        /// `NoPendingAdmin`; `NotPendingAdmin` when the caller is not the candidate.
        #[ink(message)]
        pub fn accept_admin(&mut self) -> Result<()> {
            let candidate = self.pending_admin.ok_or(RegistryError::NoPendingAdmin)?;
            if self.env().caller() != candidate {
                return Err(RegistryError::NotPendingAdmin);
            }
            let previous = core::mem::replace(&mut self.admin, candidate);
            self.pending_admin = None;
            self.env().emit_event(AdminTransferred { previous, admin: candidate });
            Ok(())
        }

        /// Publishes or rotates the caller's X25519 encryption public key, for which patients'
        /// clients and the record vault wrap the data keys of the records it may read. A
        /// registered provider only (a suspended one may rotate too). Emits `EncryptionKeySet`.
        ///
        /// # Errors
        /// `ProviderNotFound`; `InvalidEncryptionKey` (all zeros).
        #[ink(message)]
        pub fn set_encryption_key(&mut self, key: EncryptionKey) -> Result<()> {
            let caller = self.env().caller();
            if !self.providers.contains(caller) {
                return Err(RegistryError::ProviderNotFound);
            }
            if key == [0; 32] {
                return Err(RegistryError::InvalidEncryptionKey);
            }
            self.encryption_keys.insert(caller, &key);
            self.env().emit_event(EncryptionKeySet { account: caller, key });
            Ok(())
        }

        /// The encryption public key `account` published, if any.
        #[ink(message)]
        pub fn encryption_key(&self, account: AccountId) -> Option<EncryptionKey> {
            self.encryption_keys.get(account)
        }

        /// Whether `account` is an active (registered, not suspended) provider of `role`.
        #[ink(message)]
        pub fn is_active_provider(&self, account: AccountId, role: ProviderRole) -> bool {
            self.providers.get(account).is_some_and(|info| info.is_active() && info.role == role)
        }

        /// The proposed next admin, if any.
        #[ink(message)]
        pub fn pending_admin(&self) -> Option<AccountId> {
            self.pending_admin
        }

        /// Number of registered providers (active and suspended).
        #[ink(message)]
        pub fn provider_count(&self) -> u32 {
            self.provider_count
        }

        fn ensure_admin(&self) -> Result<()> {
            if self.env().caller() == self.admin {
                Ok(())
            } else {
                Err(RegistryError::NotAdmin)
            }
        }
    }

    impl ProviderDirectory for ProviderRegistry {
        /// The provider record of `account`, if it is registered: role, status, registration
        /// and latest suspension block. Called cross-contract by the records contract.
        #[ink(message)]
        fn provider(&self, account: AccountId) -> Option<ProviderInfo> {
            self.providers.get(account)
        }

        /// The current admin, who also governs the records contract.
        #[ink(message)]
        fn admin(&self) -> AccountId {
            self.admin
        }
    }

    impl Upgradeable for ProviderRegistry {
        /// The stored data's version (1: instantiated from the first release, not migrated),
        /// the time-lock in blocks and the scheduled upgrade, if any.
        #[ink(message)]
        fn upgrade_state(&self) -> UpgradeState {
            upgrade::state(&self.upgrades)
        }

        /// Schedules a switch to the uploaded code `code_hash`; returns the first block it can be
        /// applied. Admin only. Emits `UpgradeScheduled`.
        ///
        /// # Errors
        /// `NotGovernance`; `UpgradeAlreadyScheduled`.
        #[ink(message)]
        fn schedule_upgrade(&mut self, code_hash: Hash) -> core::result::Result<BlockNumber, UpgradeError> {
            self.ensure_admin().map_err(|_| UpgradeError::NotGovernance)?;
            upgrade::schedule(&mut self.upgrades, code_hash)
        }

        /// Cancels the scheduled upgrade. Admin only. Emits `UpgradeCancelled`.
        ///
        /// # Errors
        /// `NotGovernance`; `NoUpgradeScheduled`.
        #[ink(message)]
        fn cancel_upgrade(&mut self) -> core::result::Result<(), UpgradeError> {
            self.ensure_admin().map_err(|_| UpgradeError::NotGovernance)?;
            upgrade::cancel(&mut self.upgrades)
        }

        /// Applies the scheduled upgrade after its time-lock: switches the code and runs the new
        /// code's `migrate` in the same transaction. Admin only. Emits `UpgradeApplied`.
        ///
        /// # Errors
        /// `NotGovernance`; `NoUpgradeScheduled`; `TimeLocked(block)`; `CodeNotFound`;
        /// `NewCodeRefused` (the new code refused the storage: nothing changed).
        #[ink(message)]
        fn apply_upgrade(&mut self) -> core::result::Result<MigrationStatus, UpgradeError> {
            self.ensure_admin().map_err(|_| UpgradeError::NotGovernance)?;
            upgrade::apply(&mut self.upgrades)
        }

        /// Migrates the stored data to this code's storage version (anyone; idempotent).
        /// First release → 2: provider entries decode with no suspension block and no provider
        /// has an encryption key yet; nothing to rewrite.
        ///
        /// # Errors
        /// `InvalidStepLimit` (limit not 1–64); `UnknownStorageVersion(v)` (a downgrade).
        #[ink(message)]
        fn migrate(&mut self, limit: u32) -> core::result::Result<MigrationStatus, UpgradeError> {
            upgrade::migrate(&mut self.upgrades, STORAGE_VERSION, limit)
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;
        use ehr_types::api::{ProviderDirectory, Upgradeable};
        use ink::env::{test, DefaultEnvironment};

        fn accounts() -> test::DefaultAccounts<DefaultEnvironment> {
            test::default_accounts::<DefaultEnvironment>()
        }

        fn set_caller(caller: AccountId) {
            test::set_caller::<DefaultEnvironment>(caller);
        }

        fn registry() -> ProviderRegistry {
            set_caller(accounts().alice);
            ProviderRegistry::new(10)
        }

        #[ink::test]
        fn deployer_is_admin() {
            let registry = registry();
            assert_eq!(registry.admin(), accounts().alice);
            assert_eq!(registry.pending_admin(), None);
            assert_eq!(registry.provider_count(), 0);
        }

        #[ink::test]
        fn register_suspend_reinstate_round_trip() {
            let mut registry = registry();
            let bob = accounts().bob;
            registry.register_provider(bob, ProviderRole::Doctor).unwrap();
            assert!(registry.is_active_provider(bob, ProviderRole::Doctor));
            assert!(!registry.is_active_provider(bob, ProviderRole::Lab));
            assert_eq!(registry.provider_count(), 1);

            test::set_block_number::<DefaultEnvironment>(4);
            registry.suspend_provider(bob).unwrap();
            assert!(!registry.is_active_provider(bob, ProviderRole::Doctor));
            assert_eq!(registry.provider(bob).unwrap().suspended_at, Some(4));
            assert_eq!(registry.suspend_provider(bob), Err(RegistryError::ProviderAlreadySuspended));

            registry.reinstate_provider(bob).unwrap();
            assert!(registry.is_active_provider(bob, ProviderRole::Doctor));
            assert_eq!(registry.reinstate_provider(bob), Err(RegistryError::ProviderNotSuspended));
            assert_eq!(registry.provider(bob).unwrap().suspended_at, Some(4), "kept after reinstatement");
            assert_eq!(test::recorded_events().count(), 3);
        }

        #[ink::test]
        fn only_admin_manages_providers() {
            let mut registry = registry();
            let bob = accounts().bob;
            set_caller(accounts().eve);
            assert_eq!(registry.register_provider(bob, ProviderRole::Doctor), Err(RegistryError::NotAdmin));
            assert_eq!(registry.suspend_provider(bob), Err(RegistryError::NotAdmin));
            assert_eq!(registry.reinstate_provider(bob), Err(RegistryError::NotAdmin));
            assert_eq!(registry.propose_admin(bob), Err(RegistryError::NotAdmin));
            assert_eq!(registry.schedule_upgrade(Hash::from([1; 32])), Err(UpgradeError::NotGovernance));
            assert_eq!(registry.cancel_upgrade(), Err(UpgradeError::NotGovernance));
            assert_eq!(registry.apply_upgrade(), Err(UpgradeError::NotGovernance));
        }

        #[ink::test]
        fn upgrades_wait_for_the_time_lock() {
            let mut registry = registry();
            assert_eq!(registry.upgrade_state(), UpgradeState::new(STORAGE_VERSION, 10));
            let code = Hash::from([1; 32]);
            assert_eq!(registry.schedule_upgrade(code), Ok(10));
            assert_eq!(registry.apply_upgrade(), Err(UpgradeError::TimeLocked(10)));
            assert_eq!(registry.cancel_upgrade(), Ok(()));
            assert_eq!(registry.apply_upgrade(), Err(UpgradeError::NoUpgradeScheduled));
            assert_eq!(registry.migrate(1), Ok(MigrationStatus { from: 2, to: 2, done: true }));
        }

        #[ink::test]
        fn two_step_admin_transfer() {
            let mut registry = registry();
            let bob = accounts().bob;
            registry.propose_admin(bob).unwrap();
            set_caller(accounts().eve);
            assert_eq!(registry.accept_admin(), Err(RegistryError::NotPendingAdmin));
            set_caller(bob);
            registry.accept_admin().unwrap();
            assert_eq!(registry.admin(), bob);
            assert_eq!(registry.pending_admin(), None);
            assert_eq!(registry.accept_admin(), Err(RegistryError::NoPendingAdmin));
        }
    }
}
