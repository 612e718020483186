//! The EHR suite on a drink chain: both contracts deployed and wired, named actors, and one
//! typed method per contract message.

use ehr_types::{
    alerts::{AlertBatch, AlertId, AuditAlert, StoredAlert},
    api::{MigrationStatus, UpgradeError, UpgradeState},
    audit::AuditHead,
    emergency::{
        EmergencyCase, EmergencyId, EmergencyOutcome, EmergencyPolicy, EmergencyPurpose, ReviewReason,
        ReviewVerdict,
    },
    events::AccessRequested,
    scores::{AttestationBatch, ScoreAttestation, Signature, SignerInfo, SignerKey, StoredScore},
    AccessDecision, AccessMode, AddRecordOutcome, BlockNumber, ContentHash, DenialReason, EncryptionKey,
    Grant, Page, Patient, ProviderInfo, ProviderRole, Record, RecordCategory, RecordId, RecordsError,
    RegistryError, Scope, ScoreError,
};
use ink::primitives::{AccountId, Hash};

use crate::{Call, Chain, Contract};

/// Result of a registry message.
pub type RegistryResult<T> = Result<T, RegistryError>;
/// Result of a records message.
pub type RecordsResult<T> = Result<T, RecordsError>;
/// Result of a risk-scores message.
pub type ScoreResult<T> = Result<T, ScoreError>;

/// The upgrade time-lock, in blocks, the sandbox deploys every contract with.
pub const UPGRADE_DELAY: u32 = 10;

/// The chain id (genesis hash) the sandbox's risk-scores contract is deployed with.
pub const SANDBOX_CHAIN: [u8; 32] = *b"drink-sandbox-chain-genesis-hash";

/// Both contracts deployed on a fresh chain, with the seed paper's cast of accounts.
pub struct Ehr {
    /// The chain.
    pub chain: Chain,
    /// The provider registry.
    pub registry: Contract,
    /// The patient records contract, wired to `registry`.
    pub records: Contract,
    /// The risk-scores contract, wired to `records`, for chain [`SANDBOX_CHAIN`].
    pub scores: Contract,
    /// Deployer of both contracts and the registry's admin.
    pub admin: AccountId,
    /// A patient-to-be (not registered by `deploy`).
    pub patient: AccountId,
    /// A second patient-to-be.
    pub other_patient: AccountId,
    /// A doctor-to-be (not registered by `deploy`).
    pub doctor: AccountId,
    /// A second doctor-to-be.
    pub other_doctor: AccountId,
    /// A lab-to-be.
    pub lab: AccountId,
    /// An account that is never registered as anything.
    pub stranger: AccountId,
    /// An auditor-to-be (not registered by `deploy` or `with_cast`).
    pub auditor: AccountId,
}

impl Ehr {
    /// Deploys the registry (admin = deployer), the records contract wired to it and the
    /// risk-scores contract wired to both, named as the records contract's score contract.
    pub fn deploy() -> Self {
        let mut ehr = Self::deploy_unnamed();
        let (admin, scores) = (ehr.admin, ehr.scores.address);
        ehr.set_score_contract(admin, scores).value.expect("set_score_contract");
        ehr
    }

    /// [`Ehr::deploy`] without naming the score contract in the records contract.
    pub fn deploy_unnamed() -> Self {
        let mut chain = Chain::new();
        let admin = chain.account("admin");
        let delay = UPGRADE_DELAY.to_string();
        let registry = chain.deploy("provider_registry", "new", &[delay.clone()], admin);
        let registry_arg = crate::to_account32(registry.address).to_string();
        let records = chain.deploy("patient_records", "new", &[registry_arg, delay.clone()], admin);
        let records_arg = crate::to_account32(records.address).to_string();
        let chain_arg = format!("0x{}", SANDBOX_CHAIN.iter().map(|b| format!("{b:02x}")).collect::<String>());
        let scores = chain.deploy("risk_scores", "new", &[records_arg, chain_arg, delay], admin);
        Self::with_contracts(chain, admin, registry, records, scores)
    }

    /// Deploys the first release (storage version 1, `tests/fixtures/v1`) with its own
    /// constructors, as a deployer did before upgrades existed.
    pub fn deploy_v1() -> Self {
        let mut chain = Chain::new();
        let admin = chain.account("admin");
        let fixture =
            |name: &str| crate::load_bundle_from(&crate::v1_fixtures_dir().join(format!("{name}.contract")));
        let registry =
            chain.deploy_bundle("provider_registry", fixture("provider_registry"), "new", &[], admin);
        let registry_arg = crate::to_account32(registry.address).to_string();
        let records =
            chain.deploy_bundle("patient_records", fixture("patient_records"), "new", &[registry_arg], admin);
        let records_arg = crate::to_account32(records.address).to_string();
        let chain_arg = format!("0x{}", SANDBOX_CHAIN.iter().map(|b| format!("{b:02x}")).collect::<String>());
        let scores = chain.deploy_bundle(
            "risk_scores",
            fixture("risk_scores"),
            "new",
            &[records_arg, chain_arg],
            admin,
        );
        Self::with_contracts(chain, admin, registry, records, scores)
    }

    fn with_contracts(
        mut chain: Chain,
        admin: AccountId,
        registry: Contract,
        records: Contract,
        scores: Contract,
    ) -> Self {
        Ehr {
            patient: chain.account("patient"),
            other_patient: chain.account("other patient"),
            doctor: chain.account("doctor"),
            other_doctor: chain.account("other doctor"),
            lab: chain.account("lab"),
            stranger: chain.account("stranger"),
            auditor: chain.account("auditor"),
            chain,
            registry,
            records,
            scores,
            admin,
        }
    }

    /// Upgrades every contract to the current release the only way a first-release contract
    /// can be: the chain's root switches its code (`Contracts::set_code`); then anyone calls
    /// `migrate`. Returns the `migrate` calls, registry first.
    pub fn upgrade_by_root(&mut self) -> Vec<Call<Result<MigrationStatus, UpgradeError>>> {
        let (admin, stranger) = (self.admin, self.stranger);
        let mut migrations = Vec::new();
        for contract in [&mut self.registry, &mut self.records, &mut self.scores] {
            let code_hash = self.chain.upload(&contract.name, admin);
            self.chain.root_set_code(contract, code_hash).expect("root set_code");
            *contract = contract.current();
            migrations.push(self.chain.call(contract, stranger, "Upgradeable::migrate", 1u32));
        }
        migrations
    }

    /// The contract of this suite named `name`.
    pub fn contract(&self, name: &str) -> Contract {
        [&self.registry, &self.records, &self.scores]
            .into_iter()
            .find(|c| c.name == name)
            .unwrap_or_else(|| panic!("no contract {name}"))
            .clone()
    }

    /// `Upgradeable::upgrade_state()` of `contract`.
    pub fn upgrade_state(&mut self, contract: &Contract) -> UpgradeState {
        let caller = self.stranger;
        self.chain.call(contract, caller, "Upgradeable::upgrade_state", ()).value
    }

    /// The stored data's version of `contract`.
    pub fn storage_version(&mut self, contract: &Contract) -> u16 {
        self.upgrade_state(contract).version
    }

    /// `Upgradeable::schedule_upgrade(code_hash)` of `contract`.
    pub fn schedule_upgrade(
        &mut self,
        contract: &Contract,
        caller: AccountId,
        code_hash: [u8; 32],
    ) -> Call<Result<BlockNumber, UpgradeError>> {
        self.chain.call(contract, caller, "Upgradeable::schedule_upgrade", Hash::from(code_hash))
    }

    /// `Upgradeable::cancel_upgrade()` of `contract`.
    pub fn cancel_upgrade(
        &mut self,
        contract: &Contract,
        caller: AccountId,
    ) -> Call<Result<(), UpgradeError>> {
        self.chain.call(contract, caller, "Upgradeable::cancel_upgrade", ())
    }

    /// `Upgradeable::apply_upgrade()` of `contract`.
    pub fn apply_upgrade(
        &mut self,
        contract: &Contract,
        caller: AccountId,
    ) -> Call<Result<MigrationStatus, UpgradeError>> {
        self.chain.call(contract, caller, "Upgradeable::apply_upgrade", ())
    }

    /// `Upgradeable::migrate(limit)` of `contract`.
    pub fn migrate(
        &mut self,
        contract: &Contract,
        caller: AccountId,
        limit: u32,
    ) -> Call<Result<MigrationStatus, UpgradeError>> {
        self.chain.call(contract, caller, "Upgradeable::migrate", limit)
    }

    /// Deploys, registers `patient`, registers `doctor` as a Doctor and `lab` as a Lab.
    pub fn with_cast() -> Self {
        let mut ehr = Self::deploy();
        let (admin, doctor, other_doctor, lab, patient) =
            (ehr.admin, ehr.doctor, ehr.other_doctor, ehr.lab, ehr.patient);
        ehr.register_provider(admin, doctor, ProviderRole::Doctor).value.expect("register doctor");
        ehr.register_provider(admin, other_doctor, ProviderRole::Doctor).value.expect("register doctor");
        ehr.register_provider(admin, lab, ProviderRole::Lab).value.expect("register lab");
        ehr.register_patient(patient).value.expect("register patient");
        ehr
    }

    // ---- provider registry ------------------------------------------------------------

    /// `register_provider(account, role)`.
    pub fn register_provider(
        &mut self,
        caller: AccountId,
        account: AccountId,
        role: ProviderRole,
    ) -> Call<RegistryResult<()>> {
        self.chain.call(&self.registry, caller, "register_provider", (account, role))
    }

    /// `suspend_provider(account)`.
    pub fn suspend_provider(&mut self, caller: AccountId, account: AccountId) -> Call<RegistryResult<()>> {
        self.chain.call(&self.registry, caller, "suspend_provider", account)
    }

    /// `reinstate_provider(account)`.
    pub fn reinstate_provider(&mut self, caller: AccountId, account: AccountId) -> Call<RegistryResult<()>> {
        self.chain.call(&self.registry, caller, "reinstate_provider", account)
    }

    /// `propose_admin(candidate)`.
    pub fn propose_admin(&mut self, caller: AccountId, candidate: AccountId) -> Call<RegistryResult<()>> {
        self.chain.call(&self.registry, caller, "propose_admin", candidate)
    }

    /// `cancel_admin_proposal()`.
    pub fn cancel_admin_proposal(&mut self, caller: AccountId) -> Call<RegistryResult<()>> {
        self.chain.call(&self.registry, caller, "cancel_admin_proposal", ())
    }

    /// `accept_admin()`.
    pub fn accept_admin(&mut self, caller: AccountId) -> Call<RegistryResult<()>> {
        self.chain.call(&self.registry, caller, "accept_admin", ())
    }

    /// `provider(account)`.
    pub fn provider(&mut self, account: AccountId) -> Option<ProviderInfo> {
        let caller = self.stranger;
        self.chain.call(&self.registry, caller, "ProviderDirectory::provider", account).value
    }

    /// `is_active_provider(account, role)`.
    pub fn is_active_provider(&mut self, account: AccountId, role: ProviderRole) -> bool {
        let caller = self.stranger;
        self.chain.call(&self.registry, caller, "is_active_provider", (account, role)).value
    }

    /// `admin()`.
    pub fn registry_admin(&mut self) -> AccountId {
        let caller = self.stranger;
        self.chain.call(&self.registry, caller, "ProviderDirectory::admin", ()).value
    }

    /// `pending_admin()`.
    pub fn pending_admin(&mut self) -> Option<AccountId> {
        let caller = self.stranger;
        self.chain.call(&self.registry, caller, "pending_admin", ()).value
    }

    /// `provider_count()`.
    pub fn provider_count(&mut self) -> u32 {
        let caller = self.stranger;
        self.chain.call(&self.registry, caller, "provider_count", ()).value
    }

    /// `set_encryption_key(key)` of the registry (a provider's key).
    pub fn set_provider_key(&mut self, caller: AccountId, key: EncryptionKey) -> Call<RegistryResult<()>> {
        self.chain.call(&self.registry, caller, "set_encryption_key", key)
    }

    /// `encryption_key(account)` of the registry.
    pub fn provider_key(&mut self, account: AccountId) -> Option<EncryptionKey> {
        let caller = self.stranger;
        self.chain.call(&self.registry, caller, "encryption_key", account).value
    }

    // ---- patient records --------------------------------------------------------------

    /// `set_encryption_key(key)` of the records contract (a patient's key).
    pub fn set_patient_key(&mut self, caller: AccountId, key: EncryptionKey) -> Call<RecordsResult<()>> {
        self.chain.call(&self.records, caller, "set_encryption_key", key)
    }

    /// `encryption_key(account)` of the records contract.
    pub fn patient_key(&mut self, account: AccountId) -> Option<EncryptionKey> {
        let caller = self.stranger;
        self.chain.call(&self.records, caller, "encryption_key", account).value
    }

    /// `register_patient()`.
    pub fn register_patient(&mut self, caller: AccountId) -> Call<RecordsResult<()>> {
        self.chain.call(&self.records, caller, "register_patient", ())
    }

    /// `set_profile_commitment(commitment)`.
    pub fn set_profile_commitment(
        &mut self,
        caller: AccountId,
        commitment: Option<ContentHash>,
    ) -> Call<RecordsResult<()>> {
        self.chain.call(&self.records, caller, "set_profile_commitment", commitment)
    }

    /// `patient(account)`.
    pub fn patient_entry(&mut self, account: AccountId) -> Option<Patient> {
        let caller = self.stranger;
        self.chain.call(&self.records, caller, "patient", account).value
    }

    /// `patient_count()`.
    pub fn patient_count(&mut self) -> u32 {
        let caller = self.stranger;
        self.chain.call(&self.records, caller, "patient_count", ()).value
    }

    /// `registry()`.
    pub fn records_registry(&mut self) -> AccountId {
        let caller = self.stranger;
        self.chain.call(&self.records, caller, "registry", ()).value
    }

    /// `add_record(patient, category, content_hash, locator, supersedes)`.
    pub fn add_record(
        &mut self,
        caller: AccountId,
        patient: AccountId,
        category: RecordCategory,
        content_hash: ContentHash,
        locator: &[u8],
        supersedes: Option<RecordId>,
    ) -> Call<RecordsResult<AddRecordOutcome>> {
        self.chain.call(
            &self.records,
            caller,
            "add_record",
            (patient, category, content_hash, locator.to_vec(), supersedes),
        )
    }

    /// `request_access(patient, category)`.
    pub fn request_access(
        &mut self,
        caller: AccountId,
        patient: AccountId,
        category: RecordCategory,
    ) -> Call<RecordsResult<AccessDecision>> {
        self.chain.call(&self.records, caller, "request_access", (patient, category))
    }

    /// `audit_head(patient)`.
    pub fn audit_head(&mut self, patient: AccountId) -> AuditHead {
        let caller = self.stranger;
        self.chain.call(&self.records, caller, "audit_head", patient).value
    }

    /// The `AccessRequested` event the next decision on `patient` must emit, given the chain's
    /// head now (read before the call): `seq` the head's plus one and `prev` its hash, or
    /// `seq` 0 for an account that is not a registered patient. Not under emergency access.
    pub fn expected_access(
        &mut self,
        patient: AccountId,
        accessor: AccountId,
        category: RecordCategory,
        mode: AccessMode,
        decision: AccessDecision,
    ) -> AccessRequested {
        let head = self.audit_head(patient);
        let (seq, prev) = if decision == AccessDecision::Denied(DenialReason::PatientNotRegistered) {
            (0, [0; 32])
        } else {
            (head.seq + 1, head.hash)
        };
        AccessRequested { patient, accessor, category, mode, decision, emergency: false, seq, prev }
    }

    /// `open_emergency(patient, purpose, blocks)`.
    pub fn open_emergency(
        &mut self,
        caller: AccountId,
        patient: AccountId,
        purpose: EmergencyPurpose,
        blocks: BlockNumber,
    ) -> Call<RecordsResult<EmergencyOutcome>> {
        self.chain.call(&self.records, caller, "open_emergency", (patient, purpose, blocks))
    }

    /// `close_emergency(case)`.
    pub fn close_emergency(&mut self, caller: AccountId, case: EmergencyId) -> Call<RecordsResult<()>> {
        self.chain.call(&self.records, caller, "close_emergency", case)
    }

    /// `review_emergency(case, verdict, reason)`.
    pub fn review_emergency(
        &mut self,
        caller: AccountId,
        case: EmergencyId,
        verdict: ReviewVerdict,
        reason: ReviewReason,
    ) -> Call<RecordsResult<()>> {
        self.chain.call(&self.records, caller, "review_emergency", (case, verdict, reason))
    }

    /// `raise_overdue(limit)`: (raised, the cursor after).
    pub fn raise_overdue(
        &mut self,
        caller: AccountId,
        limit: u32,
    ) -> Call<RecordsResult<(u32, EmergencyId)>> {
        self.chain.call(&self.records, caller, "raise_overdue", limit)
    }

    /// `overdue_cursor()`.
    pub fn overdue_cursor(&mut self) -> EmergencyId {
        let caller = self.stranger;
        self.chain.call(&self.records, caller, "overdue_cursor", ()).value
    }

    /// `latest_emergency_of(patient, clinician)`.
    pub fn latest_emergency_of(&mut self, patient: AccountId, clinician: AccountId) -> Option<EmergencyId> {
        let caller = self.stranger;
        self.chain.call(&self.records, caller, "latest_emergency_of", (patient, clinician)).value
    }

    /// `emergency(case)`.
    pub fn emergency(&mut self, case: EmergencyId) -> Option<EmergencyCase> {
        let caller = self.stranger;
        self.chain.call(&self.records, caller, "emergency", case).value
    }

    /// `emergencies(from, limit, unreviewed_only)`.
    pub fn emergencies(
        &mut self,
        from: EmergencyId,
        limit: u32,
        unreviewed_only: bool,
    ) -> RecordsResult<Page<(EmergencyId, EmergencyCase)>> {
        let caller = self.stranger;
        self.chain.call(&self.records, caller, "emergencies", (from, limit, unreviewed_only)).value
    }

    /// `open_emergency_of(patient, clinician)`.
    pub fn open_emergency_of(&mut self, patient: AccountId, clinician: AccountId) -> Option<EmergencyId> {
        let caller = self.stranger;
        self.chain.call(&self.records, caller, "open_emergency_of", (patient, clinician)).value
    }

    /// `emergency_policy()`.
    pub fn emergency_policy(&mut self) -> EmergencyPolicy {
        let caller = self.stranger;
        self.chain.call(&self.records, caller, "emergency_policy", ()).value
    }

    /// `set_emergency_key(key)`.
    pub fn set_emergency_key(&mut self, caller: AccountId, key: EncryptionKey) -> Call<RecordsResult<()>> {
        self.chain.call(&self.records, caller, "set_emergency_key", key)
    }

    /// `emergency_key()`.
    pub fn emergency_key(&mut self) -> Option<EncryptionKey> {
        let caller = self.stranger;
        self.chain.call(&self.records, caller, "emergency_key", ()).value
    }

    /// `set_emergency_opt_in(opted_in)`.
    pub fn set_emergency_opt_in(&mut self, caller: AccountId, opted_in: bool) -> Call<RecordsResult<()>> {
        self.chain.call(&self.records, caller, "set_emergency_opt_in", opted_in)
    }

    /// `emergency_opt_in(patient)`.
    pub fn emergency_opt_in(&mut self, patient: AccountId) -> bool {
        let caller = self.stranger;
        self.chain.call(&self.records, caller, "emergency_opt_in", patient).value
    }

    /// `set_emergency_policy(policy)`.
    pub fn set_emergency_policy(
        &mut self,
        caller: AccountId,
        policy: EmergencyPolicy,
    ) -> Call<RecordsResult<()>> {
        self.chain.call(&self.records, caller, "set_emergency_policy", policy)
    }

    /// `records(patient, from, limit)`.
    pub fn records_page(
        &mut self,
        caller: AccountId,
        patient: AccountId,
        from: RecordId,
        limit: u32,
    ) -> Call<RecordsResult<Page<Record>>> {
        self.chain.call(&self.records, caller, "records", (patient, from, limit))
    }

    /// `record(patient, id)`.
    pub fn record(
        &mut self,
        caller: AccountId,
        patient: AccountId,
        id: RecordId,
    ) -> Call<RecordsResult<Record>> {
        self.chain.call(&self.records, caller, "record", (patient, id))
    }

    /// `erase_record(id)`.
    pub fn erase_record(&mut self, caller: AccountId, id: RecordId) -> Call<RecordsResult<()>> {
        self.chain.call(&self.records, caller, "erase_record", id)
    }

    /// `anchored_record(patient, content_hash)`.
    pub fn anchored_record(&mut self, patient: AccountId, content_hash: ContentHash) -> Option<RecordId> {
        let caller = self.stranger;
        self.chain.call(&self.records, caller, "anchored_record", (patient, content_hash)).value
    }

    /// `grant_access(provider, scope, expires_at)`.
    pub fn grant_access(
        &mut self,
        caller: AccountId,
        provider: AccountId,
        scope: Scope,
        expires_at: Option<BlockNumber>,
    ) -> Call<RecordsResult<()>> {
        self.chain.call(&self.records, caller, "grant_access", (provider, scope, expires_at))
    }

    /// `revoke_access(provider)`.
    pub fn revoke_access(&mut self, caller: AccountId, provider: AccountId) -> Call<RecordsResult<()>> {
        self.chain.call(&self.records, caller, "revoke_access", provider)
    }

    /// `grant_of(patient, provider)`.
    pub fn grant_of(
        &mut self,
        caller: AccountId,
        patient: AccountId,
        provider: AccountId,
    ) -> Call<RecordsResult<Grant>> {
        self.chain.call(&self.records, caller, "grant_of", (patient, provider))
    }

    /// `grants(from, limit)`.
    pub fn grants_page(
        &mut self,
        caller: AccountId,
        from: u32,
        limit: u32,
    ) -> Call<RecordsResult<Page<(AccountId, Grant)>>> {
        self.chain.call(&self.records, caller, "grants", (from, limit))
    }
}

impl Ehr {
    // ---- risk scores ------------------------------------------------------------------

    /// `add_signer(signer, account)`.
    pub fn add_signer(
        &mut self,
        caller: AccountId,
        signer: SignerKey,
        account: AccountId,
    ) -> Call<ScoreResult<()>> {
        self.chain.call(&self.scores, caller, "add_signer", (signer, account))
    }

    /// `retire_signer(signer)`.
    pub fn retire_signer(&mut self, caller: AccountId, signer: SignerKey) -> Call<ScoreResult<()>> {
        self.chain.call(&self.scores, caller, "retire_signer", signer)
    }

    /// `approve_model(model_hash)`.
    pub fn approve_model(&mut self, caller: AccountId, model_hash: ContentHash) -> Call<ScoreResult<()>> {
        self.chain.call(&self.scores, caller, "approve_model", model_hash)
    }

    /// `retire_model(model_hash)`.
    pub fn retire_model(&mut self, caller: AccountId, model_hash: ContentHash) -> Call<ScoreResult<()>> {
        self.chain.call(&self.scores, caller, "retire_model", model_hash)
    }

    /// `submit_score(batch, signature)`: the batch-level result, and inside it the
    /// attestation's own outcome.
    pub fn submit_score(
        &mut self,
        caller: AccountId,
        batch: &AttestationBatch,
        signature: Signature,
    ) -> Call<ScoreResult<ScoreResult<()>>> {
        self.chain.call(&self.scores, caller, "submit_score", (batch, signature))
    }

    /// `submit_scores(batch, signature)`.
    pub fn submit_scores(
        &mut self,
        caller: AccountId,
        batch: &AttestationBatch,
        signature: Signature,
    ) -> Call<ScoreResult<Vec<ScoreResult<()>>>> {
        self.chain.call(&self.scores, caller, "submit_scores", (batch, signature))
    }

    /// `set_score_contract(contract)` of the records contract.
    pub fn set_score_contract(&mut self, caller: AccountId, contract: AccountId) -> Call<RecordsResult<()>> {
        self.chain.call(&self.records, caller, "set_score_contract", contract)
    }

    /// `purge_legacy_scores(keys)`.
    pub fn purge_legacy_scores(
        &mut self,
        caller: AccountId,
        keys: Vec<(AccountId, ContentHash)>,
    ) -> Call<ScoreResult<u32>> {
        self.chain.call(&self.scores, caller, "purge_legacy_scores", keys)
    }

    /// `latest_score(patient, model_hash)`.
    pub fn latest_score(
        &mut self,
        caller: AccountId,
        patient: AccountId,
        model_hash: ContentHash,
    ) -> Call<ScoreResult<Option<StoredScore>>> {
        self.chain.call(&self.scores, caller, "latest_score", (patient, model_hash))
    }

    /// `submit_alerts(batch, signature)`.
    pub fn submit_alerts(
        &mut self,
        caller: AccountId,
        batch: &AlertBatch,
        signature: Signature,
    ) -> Call<ScoreResult<AlertId>> {
        self.chain.call(&self.scores, caller, "submit_alerts", (batch, signature))
    }

    /// `acknowledge_alert(id)`.
    pub fn acknowledge_alert(&mut self, caller: AccountId, id: AlertId) -> Call<ScoreResult<()>> {
        self.chain.call(&self.scores, caller, "acknowledge_alert", id)
    }

    /// `alert(id)`.
    pub fn alert(&mut self, id: AlertId) -> Option<StoredAlert> {
        let caller = self.stranger;
        self.chain.call(&self.scores, caller, "alert", id).value
    }

    /// `alerts(from, limit, unacknowledged_only)`.
    pub fn alerts(
        &mut self,
        from: AlertId,
        limit: u32,
        unacknowledged_only: bool,
    ) -> ScoreResult<Page<(AlertId, StoredAlert)>> {
        let caller = self.stranger;
        self.chain.call(&self.scores, caller, "alerts", (from, limit, unacknowledged_only)).value
    }

    /// `alert_nonce(signer)`.
    pub fn alert_nonce(&mut self, signer: SignerKey) -> u64 {
        let caller = self.stranger;
        self.chain.call(&self.scores, caller, "alert_nonce", signer).value
    }

    /// An alert batch for this suite's risk-scores contract and chain.
    pub fn alert_batch(&self, signer: SignerKey, nonce: u64, alerts: Vec<AuditAlert>) -> AlertBatch {
        AlertBatch { contract: self.scores.address, chain: SANDBOX_CHAIN, signer, nonce, alerts }
    }

    /// `signer(signer)`.
    pub fn signer_info(&mut self, signer: SignerKey) -> Option<SignerInfo> {
        let caller = self.stranger;
        self.chain.call(&self.scores, caller, "signer", signer).value
    }

    /// `is_model_approved(model_hash)`.
    pub fn is_model_approved(&mut self, model_hash: ContentHash) -> bool {
        let caller = self.stranger;
        self.chain.call(&self.scores, caller, "is_model_approved", model_hash).value
    }

    /// `pending_admin()` of the risk-scores contract.
    pub fn scores_pending_admin(&mut self) -> Option<AccountId> {
        let caller = self.stranger;
        self.chain.call(&self.scores, caller, "pending_admin", ()).value
    }

    /// `admin()` of the risk-scores contract.
    pub fn scores_admin(&mut self) -> AccountId {
        let caller = self.stranger;
        self.chain.call(&self.scores, caller, "admin", ()).value
    }

    /// `propose_admin`, `cancel_admin_proposal` or `accept_admin` of the risk-scores contract
    /// (`candidate` only for `propose_admin`).
    pub fn scores_admin_call(
        &mut self,
        caller: AccountId,
        message: &str,
        candidate: Option<AccountId>,
    ) -> Call<ScoreResult<()>> {
        match candidate {
            Some(candidate) => self.chain.call(&self.scores, caller, message, candidate),
            None => self.chain.call(&self.scores, caller, message, ()),
        }
    }

    /// Sets the weight every later call of this suite may consume (drink's default: 100·10⁹
    /// ref_time, 3 MiB proof); returns the previous one as (ref_time, proof_size).
    pub fn set_gas_limit(&mut self, ref_time: u64, proof_size: u64) -> (u64, u64) {
        let previous = self.chain.session().set_gas_limit(drink::Weight::from_parts(ref_time, proof_size));
        (previous.ref_time(), previous.proof_size())
    }

    /// A batch for this suite's risk-scores contract and chain.
    pub fn batch(&self, signer: SignerKey, attestations: Vec<ScoreAttestation>) -> AttestationBatch {
        AttestationBatch { contract: self.scores.address, chain: SANDBOX_CHAIN, signer, attestations }
    }
}

/// Signs an alert batch with an ed25519 key, as the oracle does.
pub fn sign_alerts(key: &ed25519_dalek::SigningKey, batch: &AlertBatch) -> Signature {
    use ed25519_dalek::Signer;
    key.sign(&batch.signing_message()).to_bytes()
}

/// Signs a batch with an ed25519 key, as the oracle does.
pub fn sign_batch(key: &ed25519_dalek::SigningKey, batch: &AttestationBatch) -> Signature {
    use ed25519_dalek::Signer;
    key.sign(&batch.signing_message()).to_bytes()
}

/// A sealed result for tests: risk `risk_ppm`, band `Intermediate`, salt `[n; 32]`; returns
/// the commitment an attestation carries.
pub fn commitment(risk_ppm: u32, salt: u8) -> ContentHash {
    ehr_types::scores::ScoreResult { risk_ppm, band: ehr_types::scores::ScoreBand::Intermediate }
        .commitment(&[salt; 32])
}

/// A report hash that differs per `n` and from every [`doc_hash`] (a stand-in for the SHA-256
/// of a sealed report's envelope).
pub fn report_hash(n: u32) -> ContentHash {
    let mut hash = [0u8; 32];
    ink::env::hash_bytes::<ink::env::hash::Sha2x256>(&(u64::from(n) | 1 << 40).to_le_bytes(), &mut hash);
    hash
}

/// A content hash that differs per `n` (a stand-in for the SHA-256 of an encrypted document).
pub fn doc_hash(n: u32) -> ContentHash {
    let mut hash = [0u8; 32];
    ink::env::hash_bytes::<ink::env::hash::Sha2x256>(&n.to_le_bytes(), &mut hash);
    hash
}
