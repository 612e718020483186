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
//!   A provider's `add_record` is decided and audited before its input is checked, and never
//!   reverts after that: invalid input is `Ok(Rejected(error))` with the audit event kept.
//! - **Tamper-evident trail.** Each patient's audited decisions form a SHA-256 hash chain
//!   (`ehr_types::audit`): every `AccessRequested` carries its sequence number and the previous
//!   link's hash, and `audit_head` holds the latest, so that an exported trail can be proven
//!   complete and unaltered.
//! - **Emergency access (break-glass).** An active Doctor may open read access to a patient who
//!   gave it no grant, with an HL7 purpose of use, for at most the governance's `max_blocks`;
//!   it is never extended, every read under it is audited with `emergency = true`, and an
//!   Auditor must review each case by its deadline, or anyone may raise it as overdue.
//! - **Erasure.** The patient may erase a record (`erase_record`): it becomes a tombstone with
//!   no locator, `RecordErased` tells the vault to destroy the envelope and its keys
//!   (crypto-shredding), and an erased record is never an oracle input again.
//! - **Suspension.** A provider suspended after a grant was given finds that grant void after
//!   its reinstatement (`SuspendedSinceGrant`) until the patient grants again; while it is
//!   suspended the patient may narrow its grant or revoke it.
//! - **Governance.** The provider registry's admin governs this contract: it schedules
//!   time-locked upgrades (`Upgradeable`); patients watch `UpgradeScheduled`.
//! - **Flat storage.** Every message reads and writes a bounded number of mapping entries,
//!   whatever the number of patients, records or grants; list queries are paginated.
//!
//! Contract storage and events are public to anyone who reads the chain state, grants
//! included: who granted whom which scope until when is public (`grant_of` answers anyone).
//! The access rules of the read-only queries guide dApps; the protection of the data itself
//! is the encryption of the off-chain documents.

#[ink::contract]
mod patient_records {
    use ehr_types::{
        api::{
            upgrade, ConsentCheck, MigrationStatus, ProviderDirectory, ReportAnchor, UpgradeError,
            UpgradeState, Upgradeable,
        },
        audit::{AuditEntry, AuditHead},
        check_locator,
        emergency::{
            EmergencyCase, EmergencyId, EmergencyOutcome, EmergencyPolicy, EmergencyPurpose, EmergencyReview,
            ReviewReason, ReviewVerdict, MAX_OVERDUE_STEP,
        },
        events::{
            AccessGranted, AccessRequested, AccessRevoked, EmergencyClosed, EmergencyDenied,
            EmergencyKeyOptIn, EmergencyKeySet, EmergencyOpened, EmergencyPolicySet, EmergencyReviewOverdue,
            EmergencyReviewed, EncryptionKeySet, PatientRegistered, ProfileCommitmentSet, RecordAdded,
            RecordErased, ScoreContractSet,
        },
        scores::{InputCheck, MAX_BATCH},
        AccessDecision, AccessMode, AddRecordOutcome, CategorySet, ContentHash, DenialReason, EncryptionKey,
        Grant, Page, Patient, ProviderInfo, ProviderRole, Record, RecordCategory, RecordId, RecordsError,
        Scope, FIRST_REPORT_ID, MAX_PAGE_LIMIT,
    };
    use ink::{
        codegen::TraitCallBuilder,
        contract_ref,
        prelude::vec::Vec,
        storage::{Lazy, Mapping},
    };

    /// Version of this code's storage layout (1: the first release; 3: audit chain and
    /// emergency access).
    pub const STORAGE_VERSION: u16 = 3;

    /// What the registry said about an accessor: `Err(())` when it could not be asked.
    type ProviderLookup = core::result::Result<Option<ProviderInfo>, ()>;

    /// Result of the records contract's messages.
    pub type Result<T> = core::result::Result<T, RecordsError>;

    /// What an anchor points at: the record's id and category, and whether it was corrected
    /// or erased, so that `check_inputs` need not read the whole record.
    ///
    /// `superseded` was added in storage version 2: `Some(_)` on entries written since; `None`
    /// on first-release entries, for which the record itself is read. `erased` came with
    /// erasure: entries written before decode as not erased (nothing could be erased then).
    #[derive(Debug, Clone, Copy)]
    #[ink::scale_derive(Encode, TypeInfo)]
    #[cfg_attr(feature = "std", derive(ink::storage::traits::StorageLayout))]
    pub struct Anchor {
        id: RecordId,
        category: RecordCategory,
        superseded: Option<bool>,
        erased: bool,
    }

    impl ink::scale::Decode for Anchor {
        fn decode<I: ink::scale::Input>(input: &mut I) -> core::result::Result<Self, ink::scale::Error> {
            let id = RecordId::decode(input)?;
            let category = RecordCategory::decode(input)?;
            // A first-release entry ends here, one written before erasure existed after
            // `superseded`.
            let ended = |input: &mut I| input.remaining_len().map(|len| len == Some(0));
            let superseded = if ended(input)? { None } else { Option::<bool>::decode(input)? };
            let erased = if ended(input)? { false } else { bool::decode(input)? };
            Ok(Anchor { id, category, superseded, erased })
        }
    }

    /// A grant as stored: the grant and its slot in the patient's grantee list.
    #[derive(Debug, Clone, Copy)]
    #[ink::scale_derive(Encode, Decode, TypeInfo)]
    #[cfg_attr(feature = "std", derive(ink::storage::traits::StorageLayout))]
    pub struct StoredGrant {
        grant: Grant,
        slot: u32,
    }

    /// Records storage: flat mappings keyed by patient. The root fields keep the first
    /// release's order; later fields live in cells of their own.
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
        /// Storage version, time-lock and scheduled upgrade.
        upgrades: Lazy<UpgradeState>,
        /// Each patient's X25519 encryption public key (storage version 2).
        encryption_keys: Mapping<AccountId, EncryptionKey>,
        /// The risk-scores contract that anchors score reports (`set_score_contract`).
        score_contract: Lazy<AccountId>,
        /// Number of report records anchored: the next one's id is `FIRST_REPORT_ID` plus it.
        report_count: Lazy<u32>,
        /// Each patient's audit chain head (storage version 3).
        audit_heads: Mapping<AccountId, AuditHead>,
        /// The emergency-access policy, once the governance set one (else the default).
        emergency_policy: Lazy<EmergencyPolicy>,
        /// Emergency cases by id.
        emergencies: Mapping<EmergencyId, EmergencyCase>,
        /// The latest emergency case of (patient, clinician).
        latest_emergency: Mapping<(AccountId, AccountId), EmergencyId>,
        /// Number of emergency cases opened: the next one's id.
        emergency_count: Lazy<EmergencyId>,
        /// The first case `raise_overdue` has not yet passed.
        overdue_cursor: Lazy<EmergencyId>,
        /// The institution's emergency X25519 public key, once the governance published one.
        emergency_key: Lazy<EncryptionKey>,
        /// Patients who opted in to the emergency key.
        emergency_opt_ins: Mapping<AccountId, ()>,
    }

    impl PatientRecords {
        /// Creates the contract, wired to the provider registry at `registry`, whose admin
        /// governs it. `upgrade_delay` is the time-lock, in blocks, of its upgrades.
        #[ink(constructor)]
        pub fn new(registry: AccountId, upgrade_delay: BlockNumber) -> Self {
            let mut upgrades = Lazy::new();
            upgrades.set(&UpgradeState::new(STORAGE_VERSION, upgrade_delay));
            Self {
                registry,
                patients: Mapping::default(),
                patient_count: 0,
                records: Mapping::default(),
                anchors: Mapping::default(),
                grants: Mapping::default(),
                grantees: Mapping::default(),
                upgrades,
                encryption_keys: Mapping::default(),
                score_contract: Lazy::new(),
                report_count: Lazy::new(),
                audit_heads: Mapping::default(),
                emergency_policy: Lazy::new(),
                emergencies: Mapping::default(),
                latest_emergency: Mapping::default(),
                emergency_count: Lazy::new(),
                overdue_cursor: Lazy::new(),
                emergency_key: Lazy::new(),
                emergency_opt_ins: Mapping::default(),
            }
        }

        // ---- patients -------------------------------------------------------------------

        /// Registers the caller as a patient. No personal data is taken.
        ///
        /// # Errors
        /// `PatientAlreadyExists`; `Overflow`.
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
        ///
        /// # Errors
        /// `InvalidContentHash` (all zeros); `PatientNotRegistered`.
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

        /// Publishes or rotates the caller's X25519 encryption public key, for which its records'
        /// data keys are wrapped (`ehr-envelope`). Patients only. Emits `EncryptionKeySet`.
        ///
        /// # Errors
        /// `PatientNotRegistered`; `InvalidEncryptionKey` (all zeros).
        #[ink(message)]
        pub fn set_encryption_key(&mut self, key: EncryptionKey) -> Result<()> {
            let caller = self.env().caller();
            self.patient_of(caller)?;
            if key == [0; 32] {
                return Err(RecordsError::InvalidEncryptionKey);
            }
            self.encryption_keys.insert(caller, &key);
            self.env().emit_event(EncryptionKeySet { account: caller, key });
            Ok(())
        }

        /// The encryption public key patient `account` published, if any.
        #[ink(message)]
        pub fn encryption_key(&self, account: AccountId) -> Option<EncryptionKey> {
            self.encryption_keys.get(account)
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

        /// Names the risk-scores contract whose accepted scores anchor their sealed reports in
        /// patients' charts (`ReportAnchor::anchor_reports`), once: that contract writes into
        /// every chart, so changing it later takes a time-locked upgrade of this contract,
        /// which patients see coming (`UpgradeScheduled`). The registry's admin only. Emits
        /// `ScoreContractSet`.
        ///
        /// # Errors
        /// `NoAccess` when the caller is not the registry's admin or the registry cannot be
        /// asked; `NotAContract` when `contract` is not a contract; `ScoreContractAlreadySet`.
        #[ink(message)]
        pub fn set_score_contract(&mut self, contract: AccountId) -> Result<()> {
            self.ensure_governance().map_err(|_| RecordsError::NoAccess)?;
            if self.score_contract.get().is_some() {
                return Err(RecordsError::ScoreContractAlreadySet);
            }
            if !self.env().is_contract(&contract) {
                return Err(RecordsError::NotAContract);
            }
            self.score_contract.set(&contract);
            self.env().emit_event(ScoreContractSet { contract });
            Ok(())
        }

        /// The risk-scores contract that anchors score reports, once named.
        #[ink(message)]
        pub fn score_contract(&self) -> Option<AccountId> {
            self.score_contract.get()
        }

        // ---- records --------------------------------------------------------------------

        /// Anchors a record in `patient`'s chart: the SHA-256 of the encrypted off-chain
        /// document and where to fetch it (a locator of an allowed scheme, see
        /// `ehr_types::LOCATOR_SCHEMES`). Records are append-only: a correction is a new record
        /// naming, in `supersedes`, the record it corrects (same category, not already
        /// corrected).
        ///
        /// The patient may always add, and correct any record. A provider needs an unexpired
        /// write grant for `category` while active in the registry, and may correct only the
        /// records it wrote. A provider's attempt is decided first and always audited
        /// (`AccessRequested`), and never reverts after that: a denial is `Ok(Denied(reason))`
        /// (`PatientNotRegistered`, `NotRecordAuthor`, the grant and registry reasons), invalid
        /// input is `Ok(Rejected(error))` with one of the errors below; nothing is anchored.
        ///
        /// # Errors
        /// For the patient's own call (reverts): `PatientNotRegistered`; `LocatorEmpty`,
        /// `LocatorTooLong`, `LocatorInvalid`, `LocatorSchemeNotAllowed`; `InvalidContentHash`;
        /// `DuplicateContentHash`; `SupersededRecordNotFound`, `RecordAlreadySuperseded`,
        /// `SupersedeCategoryMismatch`; `Overflow`.
        #[ink(message)]
        pub fn add_record(
            &mut self,
            patient: AccountId,
            category: RecordCategory,
            content_hash: ContentHash,
            locator: Vec<u8>,
            supersedes: Option<RecordId>,
        ) -> Result<AddRecordOutcome> {
            let author = self.env().caller();
            if author == patient {
                let entry = self.patient_of(patient)?;
                let old = self.check_record_input(patient, category, content_hash, &locator, supersedes)?;
                let mut entry = entry;
                let id = next_chart_id(&mut entry)?;
                let added = self.anchor(id, patient, author, category, content_hash, locator, old, true);
                self.patients.insert(patient, &entry);
                return Ok(added);
            }
            let (mut decision, emergency) = self.decide(patient, author, category, AccessMode::Write);
            let old = supersedes.and_then(|id| self.records.get((patient, id)));
            if decision.is_granted() && old.as_ref().is_some_and(|old| old.author != author) {
                decision = AccessDecision::Denied(DenialReason::NotRecordAuthor);
            }
            self.audit(patient, author, category, AccessMode::Write, decision, emergency);
            if let AccessDecision::Denied(reason) = decision {
                return Ok(AddRecordOutcome::Denied(reason));
            }
            let checked = self.patient_of(patient).and_then(|entry| {
                let old = self.check_record_input(patient, category, content_hash, &locator, supersedes)?;
                Ok((entry, old))
            });
            match checked.and_then(|(mut entry, old)| Ok((next_chart_id(&mut entry)?, entry, old))) {
                Ok((id, entry, old)) => {
                    let added = self.anchor(id, patient, author, category, content_hash, locator, old, true);
                    self.patients.insert(patient, &entry);
                    Ok(added)
                }
                Err(error) => Ok(AddRecordOutcome::Rejected(error)),
            }
        }

        /// Audited read-access decision: may the caller read `patient`'s records of
        /// `category`? Always emits `AccessRequested` with the decision, as the next link of
        /// the patient's audit chain; a denial is `Ok(Denied(reason))`, never a revert. A
        /// Doctor without a usable grant but with an open emergency access to the patient is
        /// granted, with `emergency = true` in the event. Storage gateways release the
        /// encrypted documents on a granted decision.
        ///
        /// # Errors
        /// None: every outcome, denials included, is `Ok`.
        #[ink(message)]
        pub fn request_access(
            &mut self,
            patient: AccountId,
            category: RecordCategory,
        ) -> Result<AccessDecision> {
            let accessor = self.env().caller();
            let (decision, emergency) = self.decide(patient, accessor, category, AccessMode::Read);
            self.audit(patient, accessor, category, AccessMode::Read, decision, emergency);
            Ok(decision)
        }

        /// The head of `patient`'s audit chain: the latest audited decision's sequence number
        /// and hash (`{0, zeros}` before the first). A verifier holding the patient's
        /// `AccessRequested` events checks that its last link hashes to this.
        #[ink(message)]
        pub fn audit_head(&self, patient: AccountId) -> AuditHead {
            self.audit_heads.get(patient).unwrap_or_default()
        }

        // ---- emergency access -----------------------------------------------------------

        /// Opens emergency ("break-glass") read access for the caller, an active Doctor, to
        /// `patient`'s records of every category, for `blocks` blocks (at most the policy's
        /// `max_blocks`), with the HL7 purpose of use `purpose`. It grants reads through
        /// `request_access` (audited with `emergency = true`) and the read queries while it is
        /// open, and only where the Doctor holds no usable grant; it never writes. It is never
        /// extended: while it is open, opening again is refused. An Auditor must review it by
        /// `review_due` (its end plus the policy's `review_blocks`). Emits `EmergencyOpened`.
        ///
        /// A refusal for who the caller or the patient is, is `Ok(Denied(reason))` with an
        /// `EmergencyDenied` event (audited, not reverted): `PatientNotRegistered`,
        /// `ProviderNotRegistered`, `ProviderSuspended`, `RoleNotPermitted` (not a Doctor),
        /// `RegistryUnavailable`.
        ///
        /// # Errors
        /// `EmergencyDurationInvalid` (0 blocks, or more than the policy's `max_blocks`);
        /// `EmergencyAlreadyOpen`; `Overflow`.
        #[ink(message)]
        pub fn open_emergency(
            &mut self,
            patient: AccountId,
            purpose: EmergencyPurpose,
            blocks: BlockNumber,
        ) -> Result<EmergencyOutcome> {
            let clinician = self.env().caller();
            let policy = self.emergency_policy();
            if blocks == 0 || blocks > policy.max_blocks {
                return Err(RecordsError::EmergencyDurationInvalid);
            }
            let denial = if self.patients.contains(patient) {
                match self.provider_info(clinician) {
                    Err(()) => Some(DenialReason::RegistryUnavailable),
                    Ok(None) => Some(DenialReason::ProviderNotRegistered),
                    Ok(Some(info)) if !info.is_active() => Some(DenialReason::ProviderSuspended),
                    Ok(Some(info)) if info.role != ProviderRole::Doctor => {
                        Some(DenialReason::RoleNotPermitted)
                    }
                    Ok(Some(_)) => None,
                }
            } else {
                Some(DenialReason::PatientNotRegistered)
            };
            if let Some(reason) = denial {
                self.env().emit_event(EmergencyDenied { patient, clinician, reason });
                return Ok(EmergencyOutcome::Denied(reason));
            }
            let now = self.env().block_number();
            if self.open_case(patient, clinician, now).is_some() {
                return Err(RecordsError::EmergencyAlreadyOpen);
            }
            let id = self.emergency_count.get().unwrap_or(0);
            let next = id.checked_add(1).ok_or(RecordsError::Overflow)?;
            let expires_at = now.checked_add(blocks).ok_or(RecordsError::Overflow)?;
            let review_due = expires_at.checked_add(policy.review_blocks).ok_or(RecordsError::Overflow)?;
            let case = EmergencyCase {
                patient,
                clinician,
                purpose,
                opened_at: now,
                expires_at,
                review_due,
                review: None,
                overdue_raised: false,
            };
            self.emergencies.insert(id, &case);
            self.latest_emergency.insert((patient, clinician), &id);
            self.emergency_count.set(&next);
            self.env().emit_event(EmergencyOpened {
                case: id,
                patient,
                clinician,
                purpose,
                expires_at,
                review_due,
            });
            Ok(EmergencyOutcome::Opened(id))
        }

        /// Closes the caller's open emergency case `case` now, before it expires; its review
        /// deadline stays. Emits `EmergencyClosed`.
        ///
        /// # Errors
        /// `EmergencyNotFound`; `NotEmergencyClinician`; `EmergencyNotOpen`.
        #[ink(message)]
        pub fn close_emergency(&mut self, case: EmergencyId) -> Result<()> {
            let mut entry = self.emergencies.get(case).ok_or(RecordsError::EmergencyNotFound)?;
            if entry.clinician != self.env().caller() {
                return Err(RecordsError::NotEmergencyClinician);
            }
            let now = self.env().block_number();
            if !entry.is_open(now) {
                return Err(RecordsError::EmergencyNotOpen);
            }
            entry.expires_at = now;
            self.emergencies.insert(case, &entry);
            self.env().emit_event(EmergencyClosed { case, patient: entry.patient });
            Ok(())
        }

        /// Reviews emergency case `case`: the caller, an active `Auditor`, accepts or flags it
        /// with a reason code, once (also while it is still open, and after its deadline).
        /// Emits `EmergencyReviewed`.
        ///
        /// # Errors
        /// `EmergencyNotFound`; `NotAuditor` (not a registered Auditor); `ProviderSuspended`
        /// (a suspended Auditor); `RegistryUnavailable`; `AlreadyReviewed`.
        #[ink(message)]
        pub fn review_emergency(
            &mut self,
            case: EmergencyId,
            verdict: ReviewVerdict,
            reason: ReviewReason,
        ) -> Result<()> {
            let mut entry = self.emergencies.get(case).ok_or(RecordsError::EmergencyNotFound)?;
            let auditor = self.env().caller();
            match self.provider_info(auditor) {
                Err(()) => return Err(RecordsError::RegistryUnavailable),
                Ok(Some(info)) if info.role == ProviderRole::Auditor => {
                    if !info.is_active() {
                        return Err(RecordsError::ProviderSuspended);
                    }
                }
                Ok(_) => return Err(RecordsError::NotAuditor),
            }
            if entry.review.is_some() {
                return Err(RecordsError::AlreadyReviewed);
            }
            let reviewed_at = self.env().block_number();
            entry.review = Some(EmergencyReview { auditor, verdict, reason, reviewed_at });
            self.emergencies.insert(case, &entry);
            self.env().emit_event(EmergencyReviewed {
                case,
                patient: entry.patient,
                auditor,
                verdict,
                reason,
            });
            Ok(())
        }

        /// Raises `EmergencyReviewOverdue` for the cases unreviewed past their deadline: looks at
        /// no more than `limit` (1–32) cases, in case order from the first one not yet done
        /// (reviewed, or raised), and raises each one due; cases not yet due are passed over and
        /// looked at again by a later call. Anyone may call it (an institution's monitor, a
        /// patient). Returns how many it raised and the first case not yet done after it (the
        /// next call starts there), so a caller can tell whether a call would make progress.
        ///
        /// # Errors
        /// `InvalidStepLimit`.
        #[ink(message)]
        pub fn raise_overdue(&mut self, limit: u32) -> Result<(u32, EmergencyId)> {
            if limit == 0 || limit > MAX_OVERDUE_STEP {
                return Err(RecordsError::InvalidStepLimit);
            }
            let now = self.env().block_number();
            let count = self.emergency_count.get().unwrap_or(0);
            let start = self.overdue_cursor.get().unwrap_or(0);
            let end = start.saturating_add(limit).min(count);
            // The cursor moves over the cases at its head that need nothing more.
            let mut cursor = start;
            let mut raised = 0u32;
            for id in start..end {
                let Some(mut case) = self.emergencies.get(id) else { continue };
                if case.review.is_none() && !case.overdue_raised && case.is_overdue(now) {
                    case.overdue_raised = true;
                    self.emergencies.insert(id, &case);
                    self.env().emit_event(EmergencyReviewOverdue {
                        case: id,
                        patient: case.patient,
                        clinician: case.clinician,
                        review_due: case.review_due,
                    });
                    raised = raised.saturating_add(1);
                }
                let done = case.review.is_some() || case.overdue_raised;
                if done && cursor == id {
                    cursor = id.saturating_add(1);
                }
            }
            if cursor != start {
                self.overdue_cursor.set(&cursor);
            }
            Ok((raised, cursor))
        }

        /// The first emergency case `raise_overdue` has not passed yet (every case before it is
        /// reviewed or raised).
        #[ink(message)]
        pub fn overdue_cursor(&self) -> EmergencyId {
            self.overdue_cursor.get().unwrap_or(0)
        }

        /// Emergency case `case`, if it exists. Cases are public chain state.
        #[ink(message)]
        pub fn emergency(&self, case: EmergencyId) -> Option<EmergencyCase> {
            self.emergencies.get(case)
        }

        /// One page of emergency cases from id `from`, at most `limit` (1–50) ids scanned;
        /// with `unreviewed_only`, the unreviewed ones only (an Auditor's work list).
        ///
        /// # Errors
        /// `InvalidPageLimit`.
        #[ink(message)]
        pub fn emergencies(
            &self,
            from: EmergencyId,
            limit: u32,
            unreviewed_only: bool,
        ) -> Result<Page<(EmergencyId, EmergencyCase)>> {
            if limit == 0 || limit > MAX_PAGE_LIMIT {
                return Err(RecordsError::InvalidPageLimit);
            }
            let count = self.emergency_count.get().unwrap_or(0);
            let end = from.saturating_add(limit).min(count);
            let items = (from..end)
                .filter_map(|id| self.emergencies.get(id).map(|case| (id, case)))
                .filter(|(_, case)| !unreviewed_only || case.review.is_none())
                .collect();
            let next = (end < count).then_some(end);
            Ok(Page { items, next })
        }

        /// Number of emergency cases opened so far (ids `0..count`).
        #[ink(message)]
        pub fn emergency_count(&self) -> EmergencyId {
            self.emergency_count.get().unwrap_or(0)
        }

        /// `clinician`'s emergency case on `patient` that is open now, if any.
        #[ink(message)]
        pub fn open_emergency_of(&self, patient: AccountId, clinician: AccountId) -> Option<EmergencyId> {
            self.open_case(patient, clinician, self.env().block_number()).map(|(id, _)| id)
        }

        /// `clinician`'s latest emergency case on `patient`, open or not, if any.
        #[ink(message)]
        pub fn latest_emergency_of(&self, patient: AccountId, clinician: AccountId) -> Option<EmergencyId> {
            self.latest_emergency.get((patient, clinician))
        }

        /// The emergency-access policy in force.
        #[ink(message)]
        pub fn emergency_policy(&self) -> EmergencyPolicy {
            self.emergency_policy.get().unwrap_or(EmergencyPolicy::DEFAULT)
        }

        /// Publishes (or rotates) the institution's emergency X25519 public key. Records of
        /// patients who opted in (`set_emergency_opt_in`) are also wrapped for it; the record
        /// vault, which holds its secret, re-wraps a record's key for a Doctor only while the
        /// Doctor's emergency access is open and its read is audited. The registry's admin
        /// only. Emits `EmergencyKeySet`.
        ///
        /// # Errors
        /// `NoAccess` when the caller is not the registry's admin or the registry cannot be
        /// asked; `InvalidEncryptionKey` (all zeros).
        #[ink(message)]
        pub fn set_emergency_key(&mut self, key: EncryptionKey) -> Result<()> {
            self.ensure_governance().map_err(|_| RecordsError::NoAccess)?;
            if key == [0; 32] {
                return Err(RecordsError::InvalidEncryptionKey);
            }
            self.emergency_key.set(&key);
            self.env().emit_event(EmergencyKeySet { key });
            Ok(())
        }

        /// The institution's emergency X25519 public key, once published.
        #[ink(message)]
        pub fn emergency_key(&self) -> Option<EncryptionKey> {
            self.emergency_key.get()
        }

        /// Opts the caller, a patient, in to (`true`) or out of having their records also
        /// wrapped for the institution's emergency key, so that a Doctor with open emergency
        /// access can read them when the patient cannot grant. Opting out stops new wraps; the
        /// vault then releases no emergency key for the patient. Emits `EmergencyKeyOptIn`.
        ///
        /// # Errors
        /// `PatientNotRegistered`.
        #[ink(message)]
        pub fn set_emergency_opt_in(&mut self, opted_in: bool) -> Result<()> {
            let patient = self.env().caller();
            self.patient_of(patient)?;
            if opted_in {
                self.emergency_opt_ins.insert(patient, &());
            } else {
                self.emergency_opt_ins.remove(patient);
            }
            self.env().emit_event(EmergencyKeyOptIn { patient, opted_in });
            Ok(())
        }

        /// Whether `patient` opted in to the emergency key.
        #[ink(message)]
        pub fn emergency_opt_in(&self, patient: AccountId) -> bool {
            self.emergency_opt_ins.contains(patient)
        }

        /// Sets the emergency-access policy for cases opened from now on. The registry's admin
        /// only. Emits `EmergencyPolicySet`.
        ///
        /// # Errors
        /// `NoAccess` when the caller is not the registry's admin or the registry cannot be
        /// asked; `InvalidEmergencyPolicy`.
        #[ink(message)]
        pub fn set_emergency_policy(&mut self, policy: EmergencyPolicy) -> Result<()> {
            self.ensure_governance().map_err(|_| RecordsError::NoAccess)?;
            if !policy.is_valid() {
                return Err(RecordsError::InvalidEmergencyPolicy);
            }
            self.emergency_policy.set(&policy);
            self.env().emit_event(EmergencyPolicySet { policy });
            Ok(())
        }

        /// One page of `patient`'s records from id `from`, at most `limit` (1–50) ids scanned.
        /// The pages are the chart's records (`0..record_count`); the oracle's risk reports
        /// (ids from `FIRST_REPORT_ID`) are read with `record` and listed by `ScoresAccepted`.
        /// The patient sees all; a provider with an unexpired read grant, while active, sees
        /// the categories of its grant (others are left out of the page). Storage is public:
        /// this rule guides dApps, it hides nothing.
        ///
        /// # Errors
        /// `InvalidPageLimit`; `PatientNotRegistered`; `AccessDenied(reason)`.
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
        ///
        /// # Errors
        /// `PatientNotRegistered`; `AccessDenied(reason)`; `RecordNotFound`.
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
            self.anchors.get((patient, content_hash)).map(|anchor| anchor.id)
        }

        /// Erases the caller's record `id` (crypto-shredding, GDPR art. 17): the record becomes
        /// a tombstone (`erased_at` set, locator emptied; id, category, author and envelope
        /// hash stay) and `RecordErased` tells the stores holding its envelope to destroy it
        /// and every wrapped key. An erased record is never an oracle input, nor corrected.
        /// The patient only. The chain's history keeps what earlier blocks held: the envelope's
        /// hash and locator, never a plaintext or its hash.
        ///
        /// # Errors
        /// `PatientNotRegistered` (the caller is not a patient); `RecordNotFound`;
        /// `RecordErased` (already erased).
        #[ink(message)]
        pub fn erase_record(&mut self, id: RecordId) -> Result<()> {
            let patient = self.env().caller();
            self.patient_of(patient)?;
            let mut record = self.records.get((patient, id)).ok_or(RecordsError::RecordNotFound)?;
            if record.is_erased() {
                return Err(RecordsError::RecordErased);
            }
            record.erased_at = Some(self.env().block_number());
            record.locator = Vec::new();
            self.records.insert((patient, id), &record);
            let anchor = Anchor {
                id,
                category: record.category,
                superseded: Some(record.superseded_by.is_some()),
                erased: true,
            };
            self.anchors.insert((patient, record.content_hash), &anchor);
            self.env().emit_event(RecordErased { patient, record_id: id, content_hash: record.content_hash });
            Ok(())
        }

        // ---- consent --------------------------------------------------------------------

        /// Grants `provider` access to the caller's records within `scope` until block
        /// `expires_at` (exclusive; `None` = until revoked). Replaces an earlier grant to the
        /// same provider (`granted_at` becomes now). The caller must be a patient; the provider
        /// an active provider. While the provider is suspended, the patient may only narrow its
        /// grant (a subset of each scope, an expiry no later than the current one), which keeps
        /// the grant void after a reinstatement; a full grant is needed then.
        ///
        /// # Errors
        /// `PatientNotRegistered`; `CannotGrantSelf`; `InvalidScope`; `EmptyScope`;
        /// `ExpiryNotInFuture`; `ProviderNotRegistered`; `ProviderSuspended` (no grant to
        /// narrow); `GrantWouldWiden`; `RegistryUnavailable`; `Overflow`.
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
            let existing = self.grants.get((patient, provider));
            let granted_at = match self.provider_info(provider) {
                Ok(Some(info)) if info.is_active() => now,
                Ok(Some(_)) => {
                    let existing = existing.ok_or(RecordsError::ProviderSuspended)?;
                    if !narrows(&existing.grant, &scope, expires_at) {
                        return Err(RecordsError::GrantWouldWiden);
                    }
                    existing.grant.granted_at
                }
                Ok(None) => return Err(RecordsError::ProviderNotRegistered),
                Err(()) => return Err(RecordsError::RegistryUnavailable),
            };
            let grant = Grant { scope, granted_at, expires_at };
            let slot = match existing {
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
        ///
        /// # Errors
        /// `PatientNotRegistered`; `NoAccess`; `Overflow` (inconsistent storage).
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

        /// The grant `patient` gave `provider`, expired or not. Anyone may ask: grants are
        /// public chain state (storage and `AccessGranted` events), and this query does not
        /// pretend otherwise.
        ///
        /// # Errors
        /// `PatientNotRegistered`; `NoAccess`.
        #[ink(message)]
        pub fn grant_of(&self, patient: AccountId, provider: AccountId) -> Result<Grant> {
            self.patient_of(patient)?;
            self.grants.get((patient, provider)).map(|stored| stored.grant).ok_or(RecordsError::NoAccess)
        }

        /// One page of the caller's grants (provider, grant), from slot `from`, at most
        /// `limit` (1–50). Patients only. Slots are dense; revoking moves the last grant into
        /// the freed slot.
        ///
        /// # Errors
        /// `InvalidPageLimit`; `PatientNotRegistered`.
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

        /// Checks a record's input; returns the record it supersedes, if any.
        fn check_record_input(
            &self,
            patient: AccountId,
            category: RecordCategory,
            content_hash: ContentHash,
            locator: &[u8],
            supersedes: Option<RecordId>,
        ) -> Result<Option<(RecordId, Record)>> {
            check_locator(locator)?;
            if content_hash == [0; 32] {
                return Err(RecordsError::InvalidContentHash);
            }
            if self.anchors.contains((patient, content_hash)) {
                return Err(RecordsError::DuplicateContentHash);
            }
            let Some(old_id) = supersedes else { return Ok(None) };
            let old = self.records.get((patient, old_id)).ok_or(RecordsError::SupersededRecordNotFound)?;
            if old.is_erased() {
                return Err(RecordsError::RecordErased);
            }
            if old.superseded_by.is_some() {
                return Err(RecordsError::RecordAlreadySuperseded);
            }
            if old.category != category {
                return Err(RecordsError::SupersedeCategoryMismatch);
            }
            Ok(Some((old_id, old)))
        }

        /// Anchors a checked record as `id` and links the one it supersedes.
        #[allow(clippy::too_many_arguments)]
        fn anchor(
            &mut self,
            id: RecordId,
            patient: AccountId,
            author: AccountId,
            category: RecordCategory,
            content_hash: ContentHash,
            locator: Vec<u8>,
            old: Option<(RecordId, Record)>,
            announce: bool,
        ) -> AddRecordOutcome {
            let supersedes = old.map(|(old_id, mut old)| {
                old.superseded_by = Some(id);
                self.records.insert((patient, old_id), &old);
                let anchor =
                    Anchor { id: old_id, category: old.category, superseded: Some(true), erased: false };
                self.anchors.insert((patient, old.content_hash), &anchor);
                old_id
            });
            let record = Record {
                id,
                category,
                content_hash,
                locator,
                author,
                added_at: self.env().block_number(),
                supersedes,
                superseded_by: None,
                erased_at: None,
            };
            self.records.insert((patient, id), &record);
            let anchor = Anchor { id, category, superseded: Some(false), erased: false };
            self.anchors.insert((patient, content_hash), &anchor);
            if announce {
                self.env().emit_event(RecordAdded {
                    patient,
                    author,
                    record_id: id,
                    category,
                    content_hash,
                    supersedes,
                });
            }
            AddRecordOutcome::Added(id)
        }

        /// The access decision for `accessor` on `patient`'s `category` records in `mode`,
        /// and whether it was taken under the accessor's open emergency access. The registry
        /// is asked last, only when the grant (or an open emergency case) allows the access.
        fn decide(
            &self,
            patient: AccountId,
            accessor: AccountId,
            category: RecordCategory,
            mode: AccessMode,
        ) -> (AccessDecision, bool) {
            if !self.patients.contains(patient) {
                return (AccessDecision::Denied(DenialReason::PatientNotRegistered), false);
            }
            if accessor == patient {
                return (AccessDecision::Granted, false);
            }
            let now = self.env().block_number();
            let (denial, emergency) = match self.usable_grant(patient, accessor, category, mode, now) {
                Err(_) if mode == AccessMode::Read && self.open_case(patient, accessor, now).is_some() => {
                    (emergency_denial(&self.provider_info(accessor)), true)
                }
                Err(reason) => (Some(reason), false),
                Ok(grant) => (provider_denial(&self.provider_info(accessor), &grant, None), false),
            };
            (denial.map_or(AccessDecision::Granted, AccessDecision::Denied), emergency)
        }

        /// `clinician`'s emergency case on `patient`, if it is open at block `now`.
        fn open_case(
            &self,
            patient: AccountId,
            clinician: AccountId,
            now: BlockNumber,
        ) -> Option<(EmergencyId, EmergencyCase)> {
            let id = self.latest_emergency.get((patient, clinician))?;
            self.emergencies.get(id).filter(|case| case.is_open(now)).map(|case| (id, case))
        }

        /// `accessor`'s grant from `patient` if it allows `mode` on `category` at block `now`,
        /// else why not. Does not ask the registry.
        fn usable_grant(
            &self,
            patient: AccountId,
            accessor: AccountId,
            category: RecordCategory,
            mode: AccessMode,
            now: BlockNumber,
        ) -> core::result::Result<Grant, DenialReason> {
            match self.grants.get((patient, accessor)) {
                None => Err(DenialReason::NoGrant),
                Some(stored) if stored.grant.is_expired(now) => Err(DenialReason::GrantExpired),
                Some(stored) if !stored.grant.scope.allows(mode, category) => Err(DenialReason::OutOfScope),
                Some(stored) => Ok(stored.grant),
            }
        }

        /// The patient entry and the categories the caller may read, for the read queries.
        fn readable_by_caller(&self, patient: AccountId) -> Result<(Patient, CategorySet)> {
            let entry = self.patient_of(patient)?;
            let caller = self.env().caller();
            if caller == patient {
                return Ok((entry, CategorySet::all()));
            }
            let now = self.env().block_number();
            let readable = match self.grants.get((patient, caller)) {
                None => Err(DenialReason::NoGrant),
                Some(stored) if stored.grant.is_expired(now) => Err(DenialReason::GrantExpired),
                Some(stored) if stored.grant.scope.read.is_empty() => Err(DenialReason::OutOfScope),
                Some(stored) => Ok(stored),
            };
            match readable {
                Ok(stored) => match provider_denial(&self.provider_info(caller), &stored.grant, None) {
                    Some(reason) => Err(RecordsError::AccessDenied(reason)),
                    // Under open emergency access the categories beyond the grant too, as
                    // `request_access` decides.
                    None if self.open_case(patient, caller, now).is_some()
                        && emergency_denial(&self.provider_info(caller)).is_none() =>
                    {
                        Ok((entry, CategorySet::all()))
                    }
                    None => Ok((entry, stored.grant.scope.read)),
                },
                Err(_) if self.open_case(patient, caller, now).is_some() => {
                    match emergency_denial(&self.provider_info(caller)) {
                        Some(reason) => Err(RecordsError::AccessDenied(reason)),
                        None => Ok((entry, CategorySet::all())),
                    }
                }
                Err(reason) => Err(RecordsError::AccessDenied(reason)),
            }
        }

        /// Asks the provider registry about `account` (typed cross-contract call; any failure
        /// of the call is `Err(())`, which every caller treats as a denial).
        fn provider_info(&self, account: AccountId) -> ProviderLookup {
            let registry: contract_ref!(ProviderDirectory) = self.registry.into();
            match registry.call().provider(account).try_invoke() {
                Ok(Ok(info)) => Ok(info),
                _ => Err(()),
            }
        }

        /// Whether the caller is the registry's admin, who governs this contract.
        fn ensure_governance(&self) -> core::result::Result<(), UpgradeError> {
            let registry: contract_ref!(ProviderDirectory) = self.registry.into();
            match registry.call().admin().try_invoke() {
                Ok(Ok(admin)) if admin == self.env().caller() => Ok(()),
                Ok(Ok(_)) => Err(UpgradeError::NotGovernance),
                _ => Err(UpgradeError::GovernanceUnavailable),
            }
        }

        /// Emits the decision as the next link of `patient`'s audit chain and moves the
        /// chain's head (one read, one write). A decision on an account that is not a
        /// registered patient is emitted with `seq` 0 and moves nothing.
        fn audit(
            &mut self,
            patient: AccountId,
            accessor: AccountId,
            category: RecordCategory,
            mode: AccessMode,
            decision: AccessDecision,
            emergency: bool,
        ) {
            let chained = decision != AccessDecision::Denied(DenialReason::PatientNotRegistered);
            let (seq, prev) = match chained.then(|| self.audit_heads.get(patient).unwrap_or_default()) {
                // Sequence numbers are u64: no chart reaches 2^64 decisions.
                Some(head) => (head.seq.saturating_add(1), head.hash),
                None => (0, [0; 32]),
            };
            if chained {
                let entry = AuditEntry {
                    prev,
                    seq,
                    patient,
                    accessor,
                    category,
                    mode,
                    decision,
                    emergency,
                    block: self.env().block_number(),
                };
                // SHA-256 by the chain's host function (`ink::env::hash_encoded`).
                self.audit_heads.insert(patient, &entry.head());
            }
            self.env().emit_event(AccessRequested {
                patient,
                accessor,
                category,
                mode,
                decision,
                emergency,
                seq,
                prev,
            });
        }
    }

    /// Why a provider holding `grant` may not use it now, given what the registry said: not
    /// registered, suspended, of another role than `role` (when one is required), or suspended
    /// since the grant was given.
    fn provider_denial(
        info: &ProviderLookup,
        grant: &Grant,
        role: Option<ProviderRole>,
    ) -> Option<DenialReason> {
        match info {
            Err(()) => Some(DenialReason::RegistryUnavailable),
            Ok(None) => Some(DenialReason::ProviderNotRegistered),
            Ok(Some(info)) if !info.is_active() => Some(DenialReason::ProviderSuspended),
            Ok(Some(info)) if role.is_some_and(|role| role != info.role) => {
                Some(DenialReason::RoleNotPermitted)
            }
            Ok(Some(info)) if info.suspended_at.is_some_and(|at| at >= grant.granted_at) => {
                Some(DenialReason::SuspendedSinceGrant)
            }
            Ok(Some(_)) => None,
        }
    }

    /// Why an accessor with an open emergency case may not use it now, given what the registry
    /// said: emergency access is for active Doctors only.
    fn emergency_denial(info: &ProviderLookup) -> Option<DenialReason> {
        match info {
            Err(()) => Some(DenialReason::RegistryUnavailable),
            Ok(None) => Some(DenialReason::ProviderNotRegistered),
            Ok(Some(info)) if !info.is_active() => Some(DenialReason::ProviderSuspended),
            Ok(Some(info)) if info.role != ProviderRole::Doctor => Some(DenialReason::RoleNotPermitted),
            Ok(Some(_)) => None,
        }
    }

    /// Whether `scope` until `expires_at` grants no more than `old`.
    fn narrows(old: &Grant, scope: &Scope, expires_at: Option<BlockNumber>) -> bool {
        let subset = |new: CategorySet, old: CategorySet| new.0 & !old.0 == 0;
        let expiry_ok = match (old.expires_at, expires_at) {
            (None, _) => true,
            (Some(_), None) => false,
            (Some(old), Some(new)) => new <= old,
        };
        subset(scope.read, old.scope.read) && subset(scope.write, old.scope.write) && expiry_ok
    }

    impl ConsentCheck for PatientRecords {
        /// The provider registry this contract asks (as `registry`).
        #[ink(message)]
        fn provider_registry(&self) -> AccountId {
            self.registry
        }

        /// The decision `request_access` would take for `accessor`, without recording it: a
        /// pre-check for storage gateways and contracts. Only `request_access` is an audited
        /// access. Grant state is public chain state; this answers anyone.
        #[ink(message)]
        fn access_decision(
            &self,
            patient: AccountId,
            accessor: AccountId,
            category: RecordCategory,
            mode: AccessMode,
        ) -> AccessDecision {
            self.decide(patient, accessor, category, mode).0
        }

        /// For each `(patient, content_hash)`: is it an anchored record of the patient, not
        /// superseded, that `accessor`, an active provider of `role`, may read? Asks the
        /// registry once for the whole batch. Used by the risk-scores contract to check an
        /// oracle batch in one call.
        ///
        /// # Errors
        /// `BatchTooLarge` for more than 128 items.
        #[ink(message)]
        fn check_inputs(
            &self,
            accessor: AccountId,
            role: ProviderRole,
            items: Vec<(AccountId, ContentHash)>,
        ) -> Result<Vec<InputCheck>> {
            if items.len() > MAX_BATCH as usize {
                return Err(RecordsError::BatchTooLarge);
            }
            let info = self.provider_info(accessor);
            let now = self.env().block_number();
            Ok(items
                .into_iter()
                .map(|(patient, content_hash)| {
                    let Some(Anchor { id, category, superseded, erased }) =
                        self.anchors.get((patient, content_hash))
                    else {
                        return InputCheck::NotAnchored;
                    };
                    if erased {
                        return InputCheck::Erased;
                    }
                    let superseded = superseded.unwrap_or_else(|| {
                        self.records.get((patient, id)).is_some_and(|r| r.superseded_by.is_some())
                    });
                    if superseded {
                        return InputCheck::Superseded;
                    }
                    let denial = match self.usable_grant(patient, accessor, category, AccessMode::Read, now) {
                        Err(reason) => Some(reason),
                        Ok(grant) => provider_denial(&info, &grant, Some(role)),
                    };
                    denial.map_or(InputCheck::Ok, InputCheck::Denied)
                })
                .collect())
        }
    }

    impl ReportAnchor for PatientRecords {
        /// Anchors, for each `(patient, report_hash)`, a `RiskAssessment` record authored by
        /// `author` (the oracle's account) with the locator `vault://<report_hash>`, as
        /// `add_record` anchors one but without a `RecordAdded` event: the risk-scores
        /// contract's `ScoresAccepted` announces the batch's reports in one event (each event
        /// topic costs a storage read and write). Only the risk-scores contract named by
        /// `set_score_contract` may call it, in the call that accepts the scores; the oracle's
        /// consent to read the scored input was checked there. One outcome per item, in order.
        ///
        ///
        /// Reports take ids from `FIRST_REPORT_ID` up, numbered across all patients, so the
        /// batch reads and writes one counter and no patient's entry (a write costs
        /// ≈ 0.13·10⁹ ref_time, and a full batch may name 128 patients). Nor is the patient
        /// looked up: the caller anchors reports only of inputs it found anchored in this call
        /// (`check_inputs`), and only a registered patient has records.
        ///
        /// # Errors
        /// `NotScoreContract`; `BatchTooLarge` for more than 128 items. Per item:
        /// `InvalidContentHash`; `DuplicateContentHash`; `Overflow` (2³¹ reports anchored).
        #[ink(message)]
        fn anchor_reports(
            &mut self,
            author: AccountId,
            items: Vec<(AccountId, ContentHash)>,
        ) -> Result<Vec<Result<RecordId>>> {
            if self.score_contract.get() != Some(self.env().caller()) {
                return Err(RecordsError::NotScoreContract);
            }
            if items.len() > MAX_BATCH as usize {
                return Err(RecordsError::BatchTooLarge);
            }
            let count = self.report_count.get().unwrap_or(0);
            let mut next = count;
            let outcomes = items
                .into_iter()
                .map(|(patient, report_hash)| {
                    if report_hash == [0; 32] {
                        return Err(RecordsError::InvalidContentHash);
                    }
                    if self.anchors.contains((patient, report_hash)) {
                        return Err(RecordsError::DuplicateContentHash);
                    }
                    let id = FIRST_REPORT_ID.checked_add(next).ok_or(RecordsError::Overflow)?;
                    next = next.checked_add(1).ok_or(RecordsError::Overflow)?;
                    let (category, locator) = (RecordCategory::RiskAssessment, vault_locator(&report_hash));
                    self.anchor(id, patient, author, category, report_hash, locator, None, false);
                    Ok(id)
                })
                .collect();
            if next != count {
                self.report_count.set(&next);
            }
            Ok(outcomes)
        }
    }

    /// Takes the next id of the patient's chart and counts it in `entry`, which the caller
    /// writes back.
    ///
    /// # Errors
    /// `Overflow` when the chart holds `FIRST_REPORT_ID` (2³¹) records.
    fn next_chart_id(entry: &mut Patient) -> Result<RecordId> {
        let id = entry.record_count;
        entry.record_count =
            id.checked_add(1).filter(|n| *n <= FIRST_REPORT_ID).ok_or(RecordsError::Overflow)?;
        Ok(id)
    }

    /// `vault://<hex of hash>`: the record vault's locator of the envelope hashing to `hash`.
    fn vault_locator(hash: &ContentHash) -> Vec<u8> {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut locator = Vec::with_capacity(72);
        locator.extend_from_slice(b"vault://");
        for byte in hash {
            locator.push(HEX[usize::from(byte >> 4)]);
            locator.push(HEX[usize::from(byte & 0x0f)]);
        }
        locator
    }

    impl Upgradeable for PatientRecords {
        /// The stored data's version (1: instantiated from the first release, not migrated),
        /// the time-lock in blocks and the scheduled upgrade, if any.
        #[ink(message)]
        fn upgrade_state(&self) -> UpgradeState {
            upgrade::state(&self.upgrades)
        }

        /// Schedules a switch to the uploaded code `code_hash`; returns the first block it can be
        /// applied. The registry's admin only. Emits `UpgradeScheduled`, which patients watch.
        ///
        /// # Errors
        /// `NotGovernance`; `GovernanceUnavailable`; `UpgradeAlreadyScheduled`.
        #[ink(message)]
        fn schedule_upgrade(&mut self, code_hash: Hash) -> core::result::Result<BlockNumber, UpgradeError> {
            self.ensure_governance()?;
            upgrade::schedule(&mut self.upgrades, code_hash)
        }

        /// Cancels the scheduled upgrade. The registry's admin only. Emits `UpgradeCancelled`.
        ///
        /// # Errors
        /// `NotGovernance`; `GovernanceUnavailable`; `NoUpgradeScheduled`.
        #[ink(message)]
        fn cancel_upgrade(&mut self) -> core::result::Result<(), UpgradeError> {
            self.ensure_governance()?;
            upgrade::cancel(&mut self.upgrades)
        }

        /// Applies the scheduled upgrade after its time-lock: switches the code and runs the new
        /// code's `migrate` in the same transaction. The registry's admin only. Emits
        /// `UpgradeApplied`.
        ///
        /// # Errors
        /// `NotGovernance`; `GovernanceUnavailable`; `NoUpgradeScheduled`; `TimeLocked(block)`;
        /// `CodeNotFound`; `NewCodeRefused` (the new code refused the storage: nothing changed).
        #[ink(message)]
        fn apply_upgrade(&mut self) -> core::result::Result<MigrationStatus, UpgradeError> {
            self.ensure_governance()?;
            upgrade::apply(&mut self.upgrades)
        }

        /// Migrates the stored data to this code's storage version (anyone; idempotent).
        /// 2 → 3: nothing to rewrite (audit chains start empty, no emergency case exists, the
        /// default emergency policy applies).
        /// First release → 2: nothing to rewrite (records and grants keep their layout, no
        /// patient has an encryption key yet; a
        /// first-release anchor decodes without its `superseded` flag, and the record is read
        /// instead; the registry's provider entries decode with no suspension block).
        ///
        /// # Errors
        /// `InvalidStepLimit` (limit not 1–64); `UnknownStorageVersion(v)` (a downgrade).
        #[ink(message)]
        fn migrate(&mut self, limit: u32) -> core::result::Result<MigrationStatus, UpgradeError> {
            upgrade::migrate(&mut self.upgrades, STORAGE_VERSION, limit)
        }
    }

    /// Unit tests of the paths that need no provider registry (the off-chain test environment
    /// cannot make cross-contract calls); the drink suites in `tests/` cover the rest against
    /// the real artifacts.
    #[cfg(test)]
    mod tests {
        use super::*;
        use ink::env::{test, DefaultEnvironment};

        #[test]
        fn narrowing_never_widens() {
            let lab = RecordCategory::LabResult;
            let old = Grant {
                scope: Scope::read_write(&[lab, RecordCategory::Vitals]),
                granted_at: 1,
                expires_at: Some(50),
            };
            assert!(narrows(&old, &Scope::read(&[lab]), Some(50)));
            assert!(narrows(&old, &Scope::read(&[lab]), Some(10)));
            assert!(!narrows(&old, &Scope::read(&[lab]), Some(51)));
            assert!(!narrows(&old, &Scope::read(&[lab]), None));
            assert!(!narrows(&old, &Scope::read(&[RecordCategory::Summary]), Some(10)));
            let forever = Grant { expires_at: None, ..old };
            assert!(narrows(&forever, &Scope::read(&[lab]), None));
        }

        fn accounts() -> test::DefaultAccounts<DefaultEnvironment> {
            test::default_accounts::<DefaultEnvironment>()
        }

        fn as_caller(caller: AccountId) {
            test::set_caller::<DefaultEnvironment>(caller);
        }

        fn contract() -> PatientRecords {
            as_caller(accounts().alice);
            PatientRecords::new(accounts().django, 10)
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
