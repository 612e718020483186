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
//!   patient records contract asks `provider` on every access decision, so a suspension takes
//!   effect on every grant at once, without the patients acting.

#[ink::contract]
mod provider_registry {
    use ehr_types::{
        events::{
            AdminTransferProposed, AdminTransferred, ProviderRegistered, ProviderReinstated,
            ProviderSuspended,
        },
        ProviderInfo, ProviderRole, ProviderStatus, RegistryError,
    };
    use ink::storage::Mapping;

    /// Result of the registry's messages.
    pub type Result<T> = core::result::Result<T, RegistryError>;

    /// Registry storage: flat mappings, nothing that grows with the number of providers.
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
    }

    impl ProviderRegistry {
        /// Creates the registry; the caller becomes the admin.
        #[ink(constructor)]
        pub fn new() -> Self {
            Self {
                admin: Self::env().caller(),
                pending_admin: None,
                providers: Mapping::default(),
                provider_count: 0,
            }
        }

        /// Registers `account` as an active provider with `role`. Admin only.
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
            };
            self.providers.insert(account, &info);
            self.provider_count = count;
            self.env().emit_event(ProviderRegistered { provider: account, role });
            Ok(())
        }

        /// Suspends an active provider. Admin only. Every grant it holds stops working.
        #[ink(message)]
        pub fn suspend_provider(&mut self, account: AccountId) -> Result<()> {
            self.ensure_admin()?;
            let mut info = self.providers.get(account).ok_or(RegistryError::ProviderNotFound)?;
            if info.status == ProviderStatus::Suspended {
                return Err(RegistryError::ProviderAlreadySuspended);
            }
            info.status = ProviderStatus::Suspended;
            self.providers.insert(account, &info);
            self.env().emit_event(ProviderSuspended { provider: account });
            Ok(())
        }

        /// Reinstates a suspended provider. Admin only.
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

        /// The provider record of `account`, if it is registered. Called cross-contract by the
        /// records contract (selector `ehr_types::PROVIDER_INFO_SELECTOR`).
        #[ink(message)]
        pub fn provider(&self, account: AccountId) -> Option<ProviderInfo> {
            self.providers.get(account)
        }

        /// Whether `account` is an active (registered, not suspended) provider of `role`.
        #[ink(message)]
        pub fn is_active_provider(&self, account: AccountId, role: ProviderRole) -> bool {
            self.providers.get(account).is_some_and(|info| info.is_active() && info.role == role)
        }

        /// The current admin.
        #[ink(message)]
        pub fn admin(&self) -> AccountId {
            self.admin
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

    impl Default for ProviderRegistry {
        fn default() -> Self {
            Self::new()
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;
        use ink::env::{test, DefaultEnvironment};

        fn accounts() -> test::DefaultAccounts<DefaultEnvironment> {
            test::default_accounts::<DefaultEnvironment>()
        }

        fn set_caller(caller: AccountId) {
            test::set_caller::<DefaultEnvironment>(caller);
        }

        fn registry() -> ProviderRegistry {
            set_caller(accounts().alice);
            ProviderRegistry::new()
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

            registry.suspend_provider(bob).unwrap();
            assert!(!registry.is_active_provider(bob, ProviderRole::Doctor));
            assert_eq!(registry.suspend_provider(bob), Err(RegistryError::ProviderAlreadySuspended));

            registry.reinstate_provider(bob).unwrap();
            assert!(registry.is_active_provider(bob, ProviderRole::Doctor));
            assert_eq!(registry.reinstate_provider(bob), Err(RegistryError::ProviderNotSuspended));
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
