#![cfg_attr(not(feature = "std"), no_std, no_main)]

//! # Patient records
//!
//! Patient registry, patient-controlled consent (access-control list), hash-anchored medical
//! records and the audit trail of every access decision.
//!
//! - **No PHI on-chain.** A patient is a pseudonymous account with at most a 32-byte commitment
//!   to an off-chain profile. A record is the SHA-256 of an encrypted off-chain document, a
//!   bounded locator, a category, its author and block. Events carry ids and hashes only.
//! - **Consent.** A patient grants a provider a [`Scope`] (record categories × read/write) until
//!   an optional expiry block; re-granting replaces the grant; revoking removes it. The grantee
//!   must be an active provider in the provider registry, and is asked again (cross-contract
//!   call) on every decision: a suspended provider or an expired grant is denied everywhere at
//!   once, without the patient acting.
//! - **Audit.** `request_access` (read) and provider writes through `add_record` always emit
//!   [`AccessRequested`], granted or denied; a denial is an `Ok` outcome, so the event survives.
//! - **Flat storage.** Every message reads and writes a bounded number of mapping entries,
//!   whatever the number of patients, records or grants; list queries are paginated.
//!
//! Contract storage is public to anyone who reads the chain state; the access rules of the
//! read-only queries guide dApps, while the protection of the data itself is the encryption of
//! the off-chain documents, released by storage gateways on an audited `request_access`.

#[ink::contract]
mod patient_records {
    use ehr_types::{
        check_locator,
        events::{
            AccessGranted, AccessRequested, AccessRevoked, PatientRegistered, ProfileCommitmentSet,
            RecordAdded,
        },
        scores::{InputCheck, MAX_BATCH},
        AccessDecision, AccessMode, AddRecordOutcome, CategorySet, ContentHash, DenialReason, Grant, Page,
        Patient, ProviderInfo, Record, RecordCategory, RecordId, RecordsError, Scope, MAX_PAGE_LIMIT,
        PROVIDER_INFO_SELECTOR,
    };
    use ink::{
        env::{
            call::{build_call, ExecutionInput, Selector},
            DefaultEnvironment,
        },
        prelude::vec::Vec,
        storage::Mapping,
    };

    /// Result of the records contract's messages.
    pub type Result<T> = core::result::Result<T, RecordsError>;

    /// What an anchor points at: the record's id and category.
    type Anchor = (RecordId, RecordCategory);

    /// A grant as stored: the grant and its slot in the patient's grantee list.
    #[derive(Debug, Clone, Copy)]
    #[ink::scale_derive(Encode, Decode, TypeInfo)]
    #[cfg_attr(feature = "std", derive(ink::storage::traits::StorageLayout))]
    pub struct StoredGrant {
        grant: Grant,
        slot: u32,
    }

    /// Records storage: flat mappings keyed by patient.
    #[ink(storage)]
    pub struct PatientRecords {
        /// The provider registry asked on every access decision.
        registry: AccountId,
        /// Registered patients.
        patients: Mapping<AccountId, Patient>,
        /// Number of registered patients.
        patient_count: u32,
        /// Records by (patient, record id).
        records: Mapping<(AccountId, RecordId), Record>,
        /// Record id and category by (patient, content hash): which documents are anchored.
        anchors: Mapping<(AccountId, ContentHash), Anchor>,
        /// Grants by (patient, provider).
        grants: Mapping<(AccountId, AccountId), StoredGrant>,
        /// The patient's grantees by slot `0..grant_count`, for paginated listing.
        grantees: Mapping<(AccountId, u32), AccountId>,
    }

    impl PatientRecords {
        /// Creates the contract, wired to the provider registry at `registry`.
        #[ink(constructor)]
        pub fn new(registry: AccountId) -> Self {
            Self {
                registry,
                patients: Mapping::default(),
                patient_count: 0,
                records: Mapping::default(),
                anchors: Mapping::default(),
                grants: Mapping::default(),
                grantees: Mapping::default(),
            }
        }

        // ---- patients -------------------------------------------------------------------

        /// Registers the caller as a patient. No personal data is taken.
        #[ink(message)]
        pub fn register_patient(&mut self) -> Result<()> {
            let caller = self.env().caller();
            if self.patients.contains(caller) {
                return Err(RecordsError::PatientAlreadyExists);
            }
            let count = self.patient_count.checked_add(1).ok_or(RecordsError::Overflow)?;
            let patient = Patient {
                registered_at: self.env().block_number(),
                profile_commitment: None,
                record_count: 0,
                grant_count: 0,
            };
            self.patients.insert(caller, &patient);
            self.patient_count = count;
            self.env().emit_event(PatientRegistered { patient: caller });
            Ok(())
        }

        /// Sets (or clears, with `None`) the caller's commitment to an off-chain profile, e.g.
        /// a salted SHA-256 of it. Never the profile itself.
        #[ink(message)]
        pub fn set_profile_commitment(&mut self, commitment: Option<ContentHash>) -> Result<()> {
            if commitment == Some([0; 32]) {
                return Err(RecordsError::InvalidContentHash);
            }
            let caller = self.env().caller();
            let mut patient = self.patient_of(caller)?;
            patient.profile_commitment = commitment;
            self.patients.insert(caller, &patient);
            self.env().emit_event(ProfileCommitmentSet { patient: caller, commitment });
            Ok(())
        }

        /// The patient entry of `account` (counters and commitment only), if registered.
        #[ink(message)]
        pub fn patient(&self, account: AccountId) -> Option<Patient> {
            self.patients.get(account)
        }

        /// Number of registered patients.
        #[ink(message)]
        pub fn patient_count(&self) -> u32 {
            self.patient_count
        }

        /// The provider registry this contract asks.
        #[ink(message)]
        pub fn registry(&self) -> AccountId {
            self.registry
        }

        // ---- records --------------------------------------------------------------------

        /// Anchors a record in `patient`'s chart: the SHA-256 of the encrypted off-chain
        /// document and where to fetch it. The patient may always add; a provider needs an
        /// unexpired write grant for `category` while active in the registry. A provider's
        /// attempt is audited (`AccessRequested`); a denied one returns `Ok(Denied(reason))`.
        /// Records are append-only: a correction is a new record naming, in `supersedes`, the
        /// record it corrects (same category, not already corrected).
        #[ink(message)]
        pub fn add_record(
            &mut self,
            patient: AccountId,
            category: RecordCategory,
            content_hash: ContentHash,
            locator: Vec<u8>,
            supersedes: Option<RecordId>,
        ) -> Result<AddRecordOutcome> {
            check_locator(&locator)?;
            if content_hash == [0; 32] {
                return Err(RecordsError::InvalidContentHash);
            }
            let mut entry = self.patient_of(patient)?;
            let author = self.env().caller();
            if author != patient {
                let decision = self.decide(patient, author, category, AccessMode::Write);
                self.audit(patient, author, category, AccessMode::Write, decision);
                if let AccessDecision::Denied(reason) = decision {
                    return Ok(AddRecordOutcome::Denied(reason));
                }
            }
            if self.anchors.contains((patient, content_hash)) {
                return Err(RecordsError::DuplicateContentHash);
            }
            let id = entry.record_count;
            if let Some(old_id) = supersedes {
                let mut old =
                    self.records.get((patient, old_id)).ok_or(RecordsError::SupersededRecordNotFound)?;
                if old.superseded_by.is_some() {
                    return Err(RecordsError::RecordAlreadySuperseded);
                }
                if old.category != category {
                    return Err(RecordsError::SupersedeCategoryMismatch);
                }
                old.superseded_by = Some(id);
                self.records.insert((patient, old_id), &old);
            }
            entry.record_count = id.checked_add(1).ok_or(RecordsError::Overflow)?;
            let record = Record {
                id,
                category,
                content_hash,
                locator,
                author,
                added_at: self.env().block_number(),
                supersedes,
                superseded_by: None,
            };
            self.records.insert((patient, id), &record);
            self.anchors.insert((patient, content_hash), &(id, category));
            self.patients.insert(patient, &entry);
            self.env().emit_event(RecordAdded {
                patient,
                author,
                record_id: id,
                category,
                content_hash,
                supersedes,
            });
            Ok(AddRecordOutcome::Added(id))
        }

        /// Audited read-access decision: may the caller read `patient`'s records of
        /// `category`? Always emits `AccessRequested` with the decision; a denial is
        /// `Ok(Denied(reason))`, never a revert. Storage gateways release the encrypted
        /// documents on a granted decision.
        #[ink(message)]
        pub fn request_access(
            &mut self,
            patient: AccountId,
            category: RecordCategory,
        ) -> Result<AccessDecision> {
            let accessor = self.env().caller();
            let decision = self.decide(patient, accessor, category, AccessMode::Read);
            self.audit(patient, accessor, category, AccessMode::Read, decision);
            Ok(decision)
        }

        /// One page of `patient`'s records from id `from`, at most `limit` (1–50) ids scanned.
        /// The patient sees all; a provider with an unexpired read grant, while active, sees
        /// the categories of its grant (others are left out of the page).
        #[ink(message)]
        pub fn records(&self, patient: AccountId, from: RecordId, limit: u32) -> Result<Page<Record>> {
            if limit == 0 || limit > MAX_PAGE_LIMIT {
                return Err(RecordsError::InvalidPageLimit);
            }
            let (entry, readable) = self.readable_by_caller(patient)?;
            let end = from.saturating_add(limit).min(entry.record_count);
            let items = (from..end)
                .filter_map(|id| self.records.get((patient, id)))
                .filter(|record| readable.contains(record.category))
                .collect();
            let next = (end < entry.record_count).then_some(end);
            Ok(Page { items, next })
        }

        /// One record of `patient`, under the same access rule as `records`.
        #[ink(message)]
        pub fn record(&self, patient: AccountId, id: RecordId) -> Result<Record> {
            let (_, readable) = self.readable_by_caller(patient)?;
            let record = self.records.get((patient, id)).ok_or(RecordsError::RecordNotFound)?;
            if !readable.contains(record.category) {
                return Err(RecordsError::AccessDenied(DenialReason::OutOfScope));
            }
            Ok(record)
        }

        /// The id of `patient`'s record whose document has SHA-256 `content_hash`, if one is
        /// anchored. Lets anyone check a document's integrity against the chain.
        #[ink(message)]
        pub fn anchored_record(&self, patient: AccountId, content_hash: ContentHash) -> Option<RecordId> {
            self.anchors.get((patient, content_hash)).map(|(id, _)| id)
        }

        /// The decision `request_access` would take for `accessor`, without recording it: a
        /// pre-check for storage gateways and contracts. Only `request_access` is an audited
        /// access.
        #[ink(message)]
        pub fn access_decision(
            &self,
            patient: AccountId,
            accessor: AccountId,
            category: RecordCategory,
            mode: AccessMode,
        ) -> AccessDecision {
            self.decide(patient, accessor, category, mode)
        }

        /// For each `(patient, content_hash)`: is it an anchored record of the patient that
        /// `accessor` may read? Asks the registry once for the whole batch (at most 128 items).
        /// Used by the risk-scores contract to check an oracle batch in one call.
        #[ink(message)]
        pub fn check_inputs(
            &self,
            accessor: AccountId,
            items: Vec<(AccountId, ContentHash)>,
        ) -> Result<Vec<InputCheck>> {
            if items.len() > MAX_BATCH as usize {
                return Err(RecordsError::BatchTooLarge);
            }
            let provider_denial = self.provider_denial(accessor);
            let now = self.env().block_number();
            Ok(items
                .into_iter()
                .map(|(patient, content_hash)| {
                    let Some((_, category)) = self.anchors.get((patient, content_hash)) else {
                        return InputCheck::NotAnchored;
                    };
                    if accessor == patient {
                        return InputCheck::Ok;
                    }
                    match self
                        .grant_denial(patient, accessor, category, AccessMode::Read, now)
                        .or(provider_denial)
                    {
                        Some(reason) => InputCheck::Denied(reason),
                        None => InputCheck::Ok,
                    }
                })
                .collect())
        }

        // ---- consent --------------------------------------------------------------------

        /// Grants `provider` access to the caller's records within `scope` until block
        /// `expires_at` (exclusive; `None` = until revoked). Replaces an earlier grant to the
        /// same provider. The caller must be a patient; the provider an active provider.
        #[ink(message)]
        pub fn grant_access(
            &mut self,
            provider: AccountId,
            scope: Scope,
            expires_at: Option<BlockNumber>,
        ) -> Result<()> {
            let patient = self.env().caller();
            let mut entry = self.patient_of(patient)?;
            if provider == patient {
                return Err(RecordsError::CannotGrantSelf);
            }
            if !scope.read.is_valid() || !scope.write.is_valid() {
                return Err(RecordsError::InvalidScope);
            }
            if scope.read.is_empty() && scope.write.is_empty() {
                return Err(RecordsError::EmptyScope);
            }
            let now = self.env().block_number();
            if expires_at.is_some_and(|expiry| expiry <= now) {
                return Err(RecordsError::ExpiryNotInFuture);
            }
            match self.provider_info(provider) {
                Ok(Some(info)) if info.is_active() => {}
                Ok(Some(_)) => return Err(RecordsError::ProviderSuspended),
                Ok(None) => return Err(RecordsError::ProviderNotRegistered),
                Err(()) => return Err(RecordsError::RegistryUnavailable),
            }
            let grant = Grant { scope, granted_at: now, expires_at };
            let slot = match self.grants.get((patient, provider)) {
                Some(existing) => existing.slot,
                None => {
                    let slot = entry.grant_count;
                    entry.grant_count = slot.checked_add(1).ok_or(RecordsError::Overflow)?;
                    self.grantees.insert((patient, slot), &provider);
                    self.patients.insert(patient, &entry);
                    slot
                }
            };
            self.grants.insert((patient, provider), &StoredGrant { grant, slot });
            self.env().emit_event(AccessGranted { patient, provider, scope, expires_at });
            Ok(())
        }

        /// Revokes `provider`'s access to the caller's records.
        #[ink(message)]
        pub fn revoke_access(&mut self, provider: AccountId) -> Result<()> {
            let patient = self.env().caller();
            let mut entry = self.patient_of(patient)?;
            let removed = self.grants.take((patient, provider)).ok_or(RecordsError::NoAccess)?;
            // Swap-remove the provider from the grantee list so it stays dense.
            let last = entry.grant_count.checked_sub(1).ok_or(RecordsError::Overflow)?;
            if removed.slot != last {
                let moved = self.grantees.get((patient, last)).ok_or(RecordsError::Overflow)?;
                let mut moved_grant = self.grants.get((patient, moved)).ok_or(RecordsError::Overflow)?;
                moved_grant.slot = removed.slot;
                self.grants.insert((patient, moved), &moved_grant);
                self.grantees.insert((patient, removed.slot), &moved);
            }
            self.grantees.remove((patient, last));
            entry.grant_count = last;
            self.patients.insert(patient, &entry);
            self.env().emit_event(AccessRevoked { patient, provider });
            Ok(())
        }

        /// The grant `patient` gave `provider`, expired or not. Only the patient or that
        /// provider may ask.
        #[ink(message)]
        pub fn grant_of(&self, patient: AccountId, provider: AccountId) -> Result<Grant> {
            let caller = self.env().caller();
            if caller != patient && caller != provider {
                return Err(RecordsError::AccessDenied(DenialReason::NoGrant));
            }
            self.patient_of(patient)?;
            self.grants.get((patient, provider)).map(|stored| stored.grant).ok_or(RecordsError::NoAccess)
        }

        /// One page of the caller's grants (provider, grant), from slot `from`, at most
        /// `limit` (1–50). Patients only. Slots are dense; revoking moves the last grant into
        /// the freed slot.
        #[ink(message)]
        pub fn grants(&self, from: u32, limit: u32) -> Result<Page<(AccountId, Grant)>> {
            if limit == 0 || limit > MAX_PAGE_LIMIT {
                return Err(RecordsError::InvalidPageLimit);
            }
            let patient = self.env().caller();
            let entry = self.patient_of(patient)?;
            let end = from.saturating_add(limit).min(entry.grant_count);
            let items = (from..end)
                .filter_map(|slot| self.grantees.get((patient, slot)))
                .filter_map(|provider| {
                    self.grants.get((patient, provider)).map(|stored| (provider, stored.grant))
                })
                .collect();
            let next = (end < entry.grant_count).then_some(end);
            Ok(Page { items, next })
        }

        // ---- internals ------------------------------------------------------------------

        fn patient_of(&self, account: AccountId) -> Result<Patient> {
            self.patients.get(account).ok_or(RecordsError::PatientNotRegistered)
        }

        /// The access decision for `accessor` on `patient`'s `category` records in `mode`.
        /// The registry is asked last, only when the grant itself allows the access.
        fn decide(
            &self,
            patient: AccountId,
            accessor: AccountId,
            category: RecordCategory,
            mode: AccessMode,
        ) -> AccessDecision {
            if !self.patients.contains(patient) {
                return AccessDecision::Denied(DenialReason::PatientNotRegistered);
            }
            if accessor == patient {
                return AccessDecision::Granted;
            }
            let denial = self
                .grant_denial(patient, accessor, category, mode, self.env().block_number())
                .or_else(|| self.provider_denial(accessor));
            denial.map_or(AccessDecision::Granted, AccessDecision::Denied)
        }

        /// Why `accessor`'s grant from `patient` does not allow `mode` on `category` at block
        /// `now`, if it does not. Does not ask the registry.
        fn grant_denial(
            &self,
            patient: AccountId,
            accessor: AccountId,
            category: RecordCategory,
            mode: AccessMode,
            now: BlockNumber,
        ) -> Option<DenialReason> {
            match self.grants.get((patient, accessor)) {
                None => Some(DenialReason::NoGrant),
                Some(stored) if stored.grant.is_expired(now) => Some(DenialReason::GrantExpired),
                Some(stored) if !stored.grant.scope.allows(mode, category) => Some(DenialReason::OutOfScope),
                Some(_) => None,
            }
        }

        /// The patient entry and the categories the caller may read, for the read queries.
        fn readable_by_caller(&self, patient: AccountId) -> Result<(Patient, CategorySet)> {
            let entry = self.patient_of(patient)?;
            let caller = self.env().caller();
            if caller == patient {
                return Ok((entry, CategorySet::all()));
            }
            let stored = self
                .grants
                .get((patient, caller))
                .ok_or(RecordsError::AccessDenied(DenialReason::NoGrant))?;
            if stored.grant.is_expired(self.env().block_number()) {
                return Err(RecordsError::AccessDenied(DenialReason::GrantExpired));
            }
            let readable = stored.grant.scope.categories(AccessMode::Read);
            if readable.is_empty() {
                return Err(RecordsError::AccessDenied(DenialReason::OutOfScope));
            }
            if let Some(reason) = self.provider_denial(caller) {
                return Err(RecordsError::AccessDenied(reason));
            }
            Ok((entry, readable))
        }

        /// Why `account` may not act as a provider right now, if it may not.
        fn provider_denial(&self, account: AccountId) -> Option<DenialReason> {
            match self.provider_info(account) {
                Ok(Some(info)) if info.is_active() => None,
                Ok(Some(_)) => Some(DenialReason::ProviderSuspended),
                Ok(None) => Some(DenialReason::ProviderNotRegistered),
                Err(()) => Some(DenialReason::RegistryUnavailable),
            }
        }

        /// Asks the provider registry about `account` (cross-contract call).
        fn provider_info(&self, account: AccountId) -> core::result::Result<Option<ProviderInfo>, ()> {
            match build_call::<DefaultEnvironment>()
                .call(self.registry)
                .exec_input(ExecutionInput::new(Selector::new(PROVIDER_INFO_SELECTOR)).push_arg(account))
                .returns::<Option<ProviderInfo>>()
                .try_invoke()
            {
                Ok(Ok(info)) => Ok(info),
                _ => Err(()),
            }
        }

        fn audit(
            &self,
            patient: AccountId,
            accessor: AccountId,
            category: RecordCategory,
            mode: AccessMode,
            decision: AccessDecision,
        ) {
            self.env().emit_event(AccessRequested { patient, accessor, category, mode, decision });
        }
    }

    /// Unit tests of the paths that need no provider registry (the off-chain test environment
    /// cannot make cross-contract calls); the drink suites in `tests/` cover the rest against
    /// the real artifacts.
    #[cfg(test)]
    mod tests {
        use super::*;
        use ink::env::{test, DefaultEnvironment};

        fn accounts() -> test::DefaultAccounts<DefaultEnvironment> {
            test::default_accounts::<DefaultEnvironment>()
        }

        fn as_caller(caller: AccountId) {
            test::set_caller::<DefaultEnvironment>(caller);
        }

        fn contract() -> PatientRecords {
            as_caller(accounts().alice);
            PatientRecords::new(accounts().django)
        }

        fn add(contract: &mut PatientRecords, patient: AccountId, byte: u8) -> Result<AddRecordOutcome> {
            contract.add_record(patient, RecordCategory::LabResult, [byte; 32], b"ipfs://doc".to_vec(), None)
        }

        #[ink::test]
        fn register_patient_once() {
            let mut c = contract();
            assert_eq!(c.register_patient(), Ok(()));
            assert_eq!(c.register_patient(), Err(RecordsError::PatientAlreadyExists));
            assert_eq!(c.patient_count(), 1);
            assert!(c.patient(accounts().alice).is_some());
        }

        #[ink::test]
        fn patient_adds_and_pages_records() {
            let mut c = contract();
            let alice = accounts().alice;
            c.register_patient().unwrap();
            for byte in 1..=5 {
                assert_eq!(add(&mut c, alice, byte), Ok(AddRecordOutcome::Added(u32::from(byte) - 1)));
            }
            let page = c.records(alice, 0, 2).unwrap();
            assert_eq!(page.items.iter().map(|r| r.id).collect::<Vec<_>>(), vec![0, 1]);
            assert_eq!(page.next, Some(2));
            let last = c.records(alice, 4, 50).unwrap();
            assert_eq!(last.items.len(), 1);
            assert_eq!(last.next, None);
            assert_eq!(c.records(alice, 0, 0), Err(RecordsError::InvalidPageLimit));
            assert_eq!(c.records(alice, 0, 51), Err(RecordsError::InvalidPageLimit));
            assert_eq!(c.anchored_record(alice, [3; 32]), Some(2));
        }

        #[ink::test]
        fn corrections_supersede_once() {
            let mut c = contract();
            let alice = accounts().alice;
            c.register_patient().unwrap();
            add(&mut c, alice, 1).unwrap();
            let fix = |c: &mut PatientRecords, byte: u8, old: RecordId, category| {
                c.add_record(alice, category, [byte; 32], b"ipfs://fix".to_vec(), Some(old))
            };
            assert_eq!(
                fix(&mut c, 2, 0, RecordCategory::Vitals),
                Err(RecordsError::SupersedeCategoryMismatch)
            );
            assert_eq!(
                fix(&mut c, 2, 9, RecordCategory::LabResult),
                Err(RecordsError::SupersededRecordNotFound)
            );
            assert_eq!(fix(&mut c, 2, 0, RecordCategory::LabResult), Ok(AddRecordOutcome::Added(1)));
            assert_eq!(
                fix(&mut c, 3, 0, RecordCategory::LabResult),
                Err(RecordsError::RecordAlreadySuperseded)
            );
            assert_eq!(c.record(alice, 0).unwrap().superseded_by, Some(1));
            assert_eq!(c.record(alice, 1).unwrap().supersedes, Some(0));
        }

        #[ink::test]
        fn bad_record_input_is_refused() {
            let mut c = contract();
            let alice = accounts().alice;
            assert_eq!(add(&mut c, alice, 1), Err(RecordsError::PatientNotRegistered));
            c.register_patient().unwrap();
            assert_eq!(add(&mut c, alice, 0), Err(RecordsError::InvalidContentHash));
            add(&mut c, alice, 1).unwrap();
            assert_eq!(add(&mut c, alice, 1), Err(RecordsError::DuplicateContentHash));
            let long = [b'x'; 129].to_vec();
            assert_eq!(
                c.add_record(alice, RecordCategory::LabResult, [2; 32], long, None),
                Err(RecordsError::LocatorTooLong)
            );
        }

        #[ink::test]
        fn grant_checks_that_need_no_registry() {
            let mut c = contract();
            let bob = accounts().bob;
            assert_eq!(
                c.grant_access(bob, Scope::read(&[RecordCategory::LabResult]), None),
                Err(RecordsError::PatientNotRegistered)
            );
            c.register_patient().unwrap();
            assert_eq!(
                c.grant_access(accounts().alice, Scope::read(&[RecordCategory::LabResult]), None),
                Err(RecordsError::CannotGrantSelf)
            );
            assert_eq!(c.grant_access(bob, Scope::default(), None), Err(RecordsError::EmptyScope));
            let bad = Scope { read: CategorySet(1 << 12), write: CategorySet::empty() };
            assert_eq!(c.grant_access(bob, bad, None), Err(RecordsError::InvalidScope));
            assert_eq!(
                c.grant_access(bob, Scope::read(&[RecordCategory::LabResult]), Some(0)),
                Err(RecordsError::ExpiryNotInFuture)
            );
            assert_eq!(c.revoke_access(bob), Err(RecordsError::NoAccess));
        }
    }
}
