//! The EHR suite on a drink chain: both contracts deployed and wired, named actors, and one
//! typed method per contract message.

use ehr_types::{
    scores::{AttestationBatch, ScoreAttestation, Signature, SignerInfo, SignerKey, StoredScore},
    AccessDecision, AddRecordOutcome, BlockNumber, ContentHash, Grant, Page, Patient, ProviderInfo,
    ProviderRole, Record, RecordCategory, RecordId, RecordsError, RegistryError, Scope, ScoreError,
};
use ink::primitives::AccountId;

use crate::{Call, Chain, Contract};

/// Result of a registry message.
pub type RegistryResult<T> = Result<T, RegistryError>;
/// Result of a records message.
pub type RecordsResult<T> = Result<T, RecordsError>;
/// Result of a risk-scores message.
pub type ScoreResult<T> = Result<T, ScoreError>;

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
}

impl Ehr {
    /// Deploys the registry (admin = deployer) and the records contract wired to it.
    pub fn deploy() -> Self {
        let mut chain = Chain::new();
        let admin = chain.account("admin");
        let registry = chain.deploy("provider_registry", "new", &[], admin);
        let registry_arg = crate::to_account32(registry.address).to_string();
        let records = chain.deploy("patient_records", "new", &[registry_arg], admin);
        let records_arg = crate::to_account32(records.address).to_string();
        let chain_arg = format!("0x{}", SANDBOX_CHAIN.iter().map(|b| format!("{b:02x}")).collect::<String>());
        let scores = chain.deploy("risk_scores", "new", &[records_arg, chain_arg], admin);
        Ehr {
            patient: chain.account("patient"),
            other_patient: chain.account("other patient"),
            doctor: chain.account("doctor"),
            other_doctor: chain.account("other doctor"),
            lab: chain.account("lab"),
            stranger: chain.account("stranger"),
            chain,
            registry,
            records,
            scores,
            admin,
        }
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
        self.chain.call(&self.registry, caller, "provider", account).value
    }

    /// `is_active_provider(account, role)`.
    pub fn is_active_provider(&mut self, account: AccountId, role: ProviderRole) -> bool {
        let caller = self.stranger;
        self.chain.call(&self.registry, caller, "is_active_provider", (account, role)).value
    }

    /// `admin()`.
    pub fn registry_admin(&mut self) -> AccountId {
        let caller = self.stranger;
        self.chain.call(&self.registry, caller, "admin", ()).value
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

    // ---- patient records --------------------------------------------------------------

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

    /// `submit_score(batch, signature)`.
    pub fn submit_score(
        &mut self,
        caller: AccountId,
        batch: &AttestationBatch,
        signature: Signature,
    ) -> Call<ScoreResult<()>> {
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

    /// `latest_score(patient, model_hash)`.
    pub fn latest_score(
        &mut self,
        caller: AccountId,
        patient: AccountId,
        model_hash: ContentHash,
    ) -> Call<ScoreResult<Option<StoredScore>>> {
        self.chain.call(&self.scores, caller, "latest_score", (patient, model_hash))
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

    /// A batch for this suite's risk-scores contract and chain.
    pub fn batch(&self, signer: SignerKey, attestations: Vec<ScoreAttestation>) -> AttestationBatch {
        AttestationBatch { contract: self.scores.address, chain: SANDBOX_CHAIN, signer, attestations }
    }
}

/// Signs a batch with an ed25519 key, as the oracle does.
pub fn sign_batch(key: &ed25519_dalek::SigningKey, batch: &AttestationBatch) -> Signature {
    use ed25519_dalek::Signer;
    key.sign(&batch.signing_message()).to_bytes()
}

/// A content hash that differs per `n` (a stand-in for the SHA-256 of an encrypted document).
pub fn doc_hash(n: u32) -> ContentHash {
    let mut hash = [0u8; 32];
    ink::env::hash_bytes::<ink::env::hash::Sha2x256>(&n.to_le_bytes(), &mut hash);
    hash
}
