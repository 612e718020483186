//! `ehr`, the patient's and the providers' command line, as a library: each role's flows over
//! the chain (the records and registry contracts) and the vault.
//!
//! - A document is sealed on the user's machine ([`ehr_envelope`]) for the patient and every
//!   provider that may read its category now, anchored on chain by the hash of its envelope,
//!   then uploaded to the vault.
//! - A grant re-wraps the data keys of the records in its read scope for the new reader; a
//!   revocation deletes the reader's keys in the vault.
//! - A provider's read is always audited first (`request_access`), granted or denied, then
//!   fetched from the vault and opened with the provider's own key.
//! - Erasure tombstones the record on chain and destroys its envelope and keys in the vault.
//! - Emergency (break-glass) access: a Doctor opens it for a bounded time; a patient who opted
//!   in has their records also wrapped for the institution's emergency key, which the vault
//!   re-wraps for the Doctor only during open, audited emergency access; an Auditor reviews
//!   every case and acknowledges the audit analytics' alerts.

#![forbid(unsafe_code)]

pub mod identity;

use std::path::PathBuf;

use ai_oracle::report::{self, OpenedReport};
use anyhow::{anyhow, bail, Context, Result};
use ehr_client::{account_of, deploy::Deployment, ss58, ContractRef, EhrEvent, Keypair, Node, Submitted};
use ehr_envelope::{Envelope, KeyPair, PublicKey, WrappedKey};
use ehr_types::{
    alerts::{AlertId, StoredAlert},
    emergency::{
        EmergencyCase, EmergencyId, EmergencyOutcome, EmergencyPolicy, EmergencyPurpose, ReviewReason,
        ReviewVerdict,
    },
    scores::{StoredScore, MAX_PURGE},
    AccessDecision, AccountId, AddRecordOutcome, ContentHash, Grant, Page, ProviderRole, Record,
    RecordCategory, RecordId, RecordsError, RegistryError, Scope, ScoreError, MAX_PAGE_LIMIT,
};
use ehr_vault::client::{VaultClient, VaultError};

/// Where the chain, the contracts and the vault are.
#[derive(Debug, Clone)]
pub struct Endpoints {
    /// The node's URL.
    pub node: String,
    /// The deployment file (`ai-oracle deploy` writes it).
    pub deployment: PathBuf,
    /// Folder of the contracts' `.contract` bundles.
    pub artifacts: PathBuf,
    /// The vault's base URL.
    pub vault: String,
}

/// A user connected to the chain and the vault, signing with their account.
pub struct Session {
    /// The node.
    pub node: Node,
    /// The records contract.
    pub records: ContractRef,
    /// The provider registry.
    pub registry: ContractRef,
    /// The risk-scores contract.
    pub scores: ContractRef,
    /// The vault.
    pub vault: VaultClient,
    /// The user's chain account.
    pub signer: Keypair,
    /// Its account id.
    pub account: AccountId,
}

/// A sealed score, opened and checked: commitment opened, signature verified.
#[derive(Debug, Clone)]
pub struct CheckedScore {
    /// The score as stored on chain.
    pub stored: StoredScore,
    /// The opened report.
    pub report: OpenedReport,
}

/// A record sealed and stored: its id on chain, its envelope hash and who can open it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    /// The record's id in the patient's chart.
    pub id: RecordId,
    /// SHA-256 of its envelope (anchored on chain).
    pub content_hash: [u8; 32],
    /// Accounts its data key is wrapped for.
    pub recipients: Vec<AccountId>,
    /// Readers with consent that published no encryption key, left out.
    pub skipped: Vec<AccountId>,
}

/// One entry of a patient's audit trail, from the chain's events.
#[derive(Debug, Clone)]
pub struct TrailEntry {
    /// Block of the event.
    pub block: u32,
    /// The event.
    pub event: EhrEvent,
}

/// Parses a category name: `LabResult`, `lab-result`, `lab_result` or `labresult`.
pub fn parse_category(text: &str) -> Result<RecordCategory> {
    parse_variant(text, &RecordCategory::ALL, "record category")
}

/// Parses a name of one of `all`'s variants, in any case, ignoring `-` and `_`; else an error
/// naming `what` and listing the names.
pub fn parse_variant<T: Copy + std::fmt::Debug>(text: &str, all: &[T], what: &str) -> Result<T> {
    let wanted: String =
        text.trim().chars().filter(|c| *c != '-' && *c != '_').collect::<String>().to_lowercase();
    all.iter().copied().find(|v| format!("{v:?}").to_lowercase() == wanted).ok_or_else(|| {
        let names: Vec<String> = all.iter().map(|v| format!("{v:?}")).collect();
        anyhow!("unknown {what} {text:?}; one of: {}", names.join(", "))
    })
}

/// Parses a provider role name: `Doctor`, `Lab`, `Pharmacy`, `Insurer`, `Analytics` or
/// `Auditor` (any case).
pub fn parse_role(text: &str) -> Result<ProviderRole> {
    parse_variant(text, &ProviderRole::ALL, "provider role")
}

/// Parses an HL7 purpose of use of emergency access: `ETREAT` or `BTG` (any case).
pub fn parse_purpose(text: &str) -> Result<EmergencyPurpose> {
    parse_variant(text, &[EmergencyPurpose::Etreat, EmergencyPurpose::Btg], "purpose of use")
}

/// Parses a review verdict: `accepted` or `flagged`.
pub fn parse_verdict(text: &str) -> Result<ReviewVerdict> {
    parse_variant(text, &[ReviewVerdict::Accepted, ReviewVerdict::Flagged], "verdict")
}

/// Parses a review reason code (e.g. `emergency-documented`, `no-care-relationship`).
pub fn parse_review_reason(text: &str) -> Result<ReviewReason> {
    const ALL: [ReviewReason; 6] = [
        ReviewReason::EmergencyDocumented,
        ReviewReason::ConsentUnobtainable,
        ReviewReason::NoEmergencyDocumented,
        ReviewReason::NoCareRelationship,
        ReviewReason::ExcessiveAccess,
        ReviewReason::Other,
    ];
    parse_variant(text, &ALL, "review reason")
}

/// The contract's answer, or an error naming the message and the contract's typed error.
fn accepted<T: Clone, E: Clone + std::fmt::Debug>(
    what: &str,
    submitted: &Submitted<Result<T, E>>,
) -> Result<T> {
    submitted.value().clone().map_err(|e| anyhow!("{what} refused by the contract: {e:?}"))
}

fn locator_of(hash: &[u8; 32]) -> Vec<u8> {
    format!("vault://{}", hex::encode(hash)).into_bytes()
}

impl Session {
    /// Connects to the node and the contracts of `endpoints`, as `signer`.
    pub async fn connect(endpoints: &Endpoints, signer: Keypair) -> Result<Session> {
        let node = Node::connect(&endpoints.node).await?;
        let deployment = Deployment::load(&endpoints.deployment)?;
        let records = deployment.contract(&endpoints.artifacts, "patient_records")?;
        let registry = deployment.contract(&endpoints.artifacts, "provider_registry")?;
        let scores = deployment.contract(&endpoints.artifacts, "risk_scores")?;
        let account = account_of(&signer);
        Ok(Session {
            node,
            records,
            registry,
            scores,
            vault: VaultClient::new(&endpoints.vault),
            signer,
            account,
        })
    }

    // ---- both roles ---------------------------------------------------------------------

    /// The encryption key `account` published: in the records contract for a patient, in the
    /// registry for a provider.
    pub async fn published_key(&self, account: &AccountId, patient: bool) -> Result<Option<PublicKey>> {
        let contract = if patient { &self.records } else { &self.registry };
        Ok(self.node.encryption_key(contract, account).await?.map(PublicKey))
    }

    /// One record of `patient`. Records are public chain state; the dry-run asks as the patient
    /// so that any user (an auditor, a provider about to request access) can read its metadata.
    pub async fn record(&self, patient: &AccountId, id: RecordId) -> Result<Record> {
        let record: Result<Record, RecordsError> =
            self.node.dry_run(&self.records, patient, "record", &(*patient, id)).await?.value;
        record.map_err(|e| anyhow!("record {id} of {}: {e:?}", ss58(patient)))
    }

    /// The report record of `patient`'s latest score of each model the oracle ships (report
    /// records are not in the chart's pages), as far as this account may read them.
    pub async fn latest_reports_of(&self, patient: &AccountId) -> Result<Vec<Record>> {
        let mut reports = Vec::new();
        for model in ai_oracle::models() {
            if let Ok(Some(stored)) = self.latest_score(patient, &model.model_hash()).await? {
                reports.push(self.record(patient, stored.report_record).await?);
            }
        }
        Ok(reports)
    }

    /// `patient`'s latest sealed score of the model `model_hash` as this account may read it
    /// (`latest_score`: the contract's refusal inside).
    pub async fn latest_score(
        &self,
        patient: &AccountId,
        model_hash: &ContentHash,
    ) -> Result<Result<Option<StoredScore>, ScoreError>> {
        Ok(self
            .node
            .dry_run(&self.scores, &self.account, "latest_score", &(*patient, *model_hash))
            .await?
            .value)
    }

    /// Every record of `patient`'s chart, page by page.
    pub async fn records_of(&self, patient: &AccountId) -> Result<Vec<Record>> {
        let mut all = Vec::new();
        let mut from = 0;
        loop {
            let page: Result<Page<Record>, RecordsError> = self
                .node
                .dry_run(&self.records, patient, "records", &(*patient, from, MAX_PAGE_LIMIT))
                .await?
                .value;
            let page = page.map_err(|e| anyhow!("records of {}: {e:?}", ss58(patient)))?;
            all.extend(page.items);
            match page.next {
                Some(next) => from = next,
                None => return Ok(all),
            }
        }
    }

    /// Every grant `patient` has given, page by page.
    pub async fn grants_of(&self, patient: &AccountId) -> Result<Vec<(AccountId, Grant)>> {
        self.node.grants_of(&self.records, patient).await
    }

    /// The accounts that may open a new `category` record of `patient` now, with the key each
    /// is sealed for: the patient, and every provider whose grant lets it read the category
    /// now (the records contract's own decision). Readers that published no key are returned
    /// apart.
    pub async fn readers(
        &self,
        patient: &AccountId,
        category: RecordCategory,
    ) -> Result<(Vec<(AccountId, PublicKey)>, Vec<AccountId>)> {
        let found = self.node.readers(&self.records, &self.registry, patient, category).await?;
        let own = found.patient_key.ok_or_else(|| {
            anyhow!("{} has published no encryption key: `ehr patient publish-key` first", ss58(patient))
        })?;
        let mut readers = vec![(*patient, PublicKey(own))];
        readers.extend(found.providers.into_iter().map(|(provider, key)| (provider, PublicKey(key))));
        if let Some(key) = self.emergency_key_of(patient).await? {
            readers.push((self.records.address, key));
        }
        Ok((readers, found.without_key))
    }

    /// The institution's emergency key, when `patient` opted in to it and it is published: a
    /// record of the patient is also wrapped for it, kept in the vault under the records
    /// contract's account.
    pub async fn emergency_key_of(&self, patient: &AccountId) -> Result<Option<PublicKey>> {
        let opted_in: bool =
            self.node.dry_run(&self.records, patient, "emergency_opt_in", &(*patient,)).await?.value;
        if !opted_in {
            return Ok(None);
        }
        let key: Option<[u8; 32]> =
            self.node.dry_run(&self.records, patient, "emergency_key", &()).await?.value;
        Ok(key.map(PublicKey))
    }

    /// Seals `document` as a `category` record of `patient` for its readers, anchors it (as
    /// the caller: the patient, or a provider with a write grant, audited) and uploads it.
    pub async fn add_record(
        &self,
        patient: &AccountId,
        category: RecordCategory,
        document: &[u8],
    ) -> Result<Stored> {
        let (readers, skipped) = self.readers(patient, category).await?;
        let keys: Vec<PublicKey> = readers.iter().map(|(_, key)| *key).collect();
        let pid: &[u8; 32] = patient.as_ref();
        let (envelope, wrapped) = Envelope::seal_for(document, pid, &keys)?;
        let hash = envelope.content_hash();
        let args = (*patient, category, hash, locator_of(&hash), None::<RecordId>);
        let submitted: Submitted<Result<AddRecordOutcome, RecordsError>> =
            self.node.submit(&self.records, &self.signer, "add_record", &args).await?;
        let id = match accepted("add_record", &submitted)? {
            AddRecordOutcome::Added(id) => id,
            AddRecordOutcome::Denied(reason) => {
                bail!("add_record denied: {reason:?} (the attempt is audited on chain)")
            }
            AddRecordOutcome::Rejected(error) => bail!("add_record rejected: {error:?}"),
        };
        let recipients: Vec<AccountId> = readers.iter().map(|(account, _)| *account).collect();
        let pairs: Vec<(AccountId, WrappedKey)> = recipients.iter().copied().zip(wrapped).collect();
        self.vault.upload(&self.signer, patient, &envelope, &pairs).await.with_context(|| {
            format!(
                "record {id} is anchored, but its envelope did not reach the vault at {}",
                self.vault.url()
            )
        })?;
        Ok(Stored { id, content_hash: hash, recipients, skipped })
    }

    /// Reads `patient`'s record `id` and opens it with `keys`. A provider's read is audited
    /// first: its `request_access` is on chain, granted or denied, before anything is fetched.
    pub async fn read_record(&self, patient: &AccountId, id: RecordId, keys: &KeyPair) -> Result<Vec<u8>> {
        let record = self.record(patient, id).await?;
        if let Some(block) = record.erased_at {
            bail!("record {id} was erased by the patient in block {block}");
        }
        if self.account != *patient {
            let submitted: Submitted<Result<AccessDecision, RecordsError>> = self
                .node
                .submit(&self.records, &self.signer, "request_access", &(*patient, record.category))
                .await?;
            if let AccessDecision::Denied(reason) = accepted("request_access", &submitted)? {
                bail!(
                    "access to {}'s {:?} records denied: {reason:?} (the denied request is on chain)",
                    ss58(patient),
                    record.category
                );
            }
        }
        let (envelope, key) = self.vault.fetch(&self.signer, patient, &record.content_hash).await?;
        let pid: &[u8; 32] = patient.as_ref();
        envelope.open_with(&key, keys, pid).map_err(|e| {
            anyhow!("cannot open record {id} with this encryption key file ({e}); is it the key this account published?")
        })
    }

    /// Reads and checks `patient`'s latest sealed score of the model `model_hash`: the stored
    /// score (the caller must be the patient or allowed to read its `RiskAssessment` records),
    /// the report record read like any record (a provider's request is audited first) and
    /// opened with `keys`, its result opening the on-chain commitment, and the oracle's
    /// ed25519 signature over the batch that carried it, taken from the accepting
    /// transaction's call data.
    pub async fn read_score(
        &self,
        patient: &AccountId,
        model_hash: &ContentHash,
        keys: &KeyPair,
    ) -> Result<CheckedScore> {
        let stored = self
            .latest_score(patient, model_hash)
            .await?
            .map_err(|e| anyhow!("the score of {} is not readable by this account: {e:?}", ss58(patient)))?
            .ok_or_else(|| {
                anyhow!("{} has no score of model 0x{}", ss58(patient), hex::encode(model_hash))
            })?;
        let record = self.record(patient, stored.report_record).await?;
        if record.content_hash != stored.report_hash || record.category != RecordCategory::RiskAssessment {
            bail!("record {} is not the score's report", stored.report_record);
        }
        let document = self.read_record(patient, stored.report_record, keys).await?;
        let report = OpenedReport::parse(&document)?;
        report.check(patient, model_hash, &stored)?;
        let block = self
            .node
            .block_hash(stored.accepted_at)
            .await?
            .ok_or_else(|| anyhow!("block {} is not known to the node", stored.accepted_at))?;
        let (signer, nonce) = (stored.signer, stored.nonce);
        let calls = self
            .node
            .call_data_of_events(block, &self.scores.address, |event| {
                matches!(event, EhrEvent::ScoresAccepted(e)
                    if e.signer == signer && e.scores.iter().any(|s| s.nonce == nonce))
            })
            .await?;
        let call = calls
            .first()
            .ok_or_else(|| anyhow!("no transaction in block {} accepted the score", stored.accepted_at))?;
        let (batch, signature) = report::decode_submission(call)?;
        let genesis = self.node.genesis_hash();
        report.check_signed(&batch, &signature, &stored, (&self.scores.address, &genesis))?;
        Ok(CheckedScore { stored, report })
    }

    // ---- the registry's admin -------------------------------------------------------------

    /// Deletes the scores storage versions 1–2 of the risk-scores contract kept in the clear:
    /// finds their keys in its `ScoreAccepted` events of blocks `from..=to` (default: to the
    /// best block) and purges them [`MAX_PURGE`] at a time. Anyone may; returns how many keys
    /// were found and how many entries deleted.
    pub async fn purge_legacy_scores(&self, from: u32, to: Option<u32>) -> Result<(usize, u32)> {
        purge_legacy_scores(&self.node, &self.scores, &self.signer, from, to).await
    }

    /// Registers `provider` with `role` (the registry's admin only).
    pub async fn register_provider(&self, provider: &AccountId, role: ProviderRole) -> Result<()> {
        let s: Submitted<Result<(), RegistryError>> =
            self.node.submit(&self.registry, &self.signer, "register_provider", &(*provider, role)).await?;
        accepted("register_provider", &s)
    }

    /// Suspends (`suspend` true) or reinstates `provider` (the registry's admin only).
    pub async fn set_provider_suspended(&self, provider: &AccountId, suspend: bool) -> Result<()> {
        let message = if suspend { "suspend_provider" } else { "reinstate_provider" };
        let s: Submitted<Result<(), RegistryError>> =
            self.node.submit(&self.registry, &self.signer, message, &(*provider,)).await?;
        accepted(message, &s)
    }

    // ---- the patient --------------------------------------------------------------------

    /// Registers the caller as a patient.
    pub async fn register_patient(&self) -> Result<()> {
        let submitted: Submitted<Result<(), RecordsError>> =
            self.node.submit(&self.records, &self.signer, "register_patient", &()).await?;
        accepted("register_patient", &submitted)
    }

    /// Publishes (or rotates) the caller's encryption key: as a patient in the records
    /// contract, as a provider in the registry.
    pub async fn publish_key(&self, keys: &KeyPair, patient: bool) -> Result<()> {
        let key = (keys.public().0,);
        if patient {
            let s: Submitted<Result<(), RecordsError>> =
                self.node.submit(&self.records, &self.signer, "set_encryption_key", &key).await?;
            accepted("set_encryption_key", &s)
        } else {
            let s: Submitted<Result<(), RegistryError>> =
                self.node.submit(&self.registry, &self.signer, "set_encryption_key", &key).await?;
            accepted("set_encryption_key", &s)
        }
    }

    /// Grants `provider` `scope` until `expires_at`, then re-wraps, for the provider's
    /// published key, the data keys of the caller's records its read scope covers (unwrapped
    /// with the patient's `keys`). Returns how many records were shared.
    pub async fn grant(
        &self,
        provider: &AccountId,
        scope: Scope,
        expires_at: Option<u32>,
        keys: &KeyPair,
    ) -> Result<usize> {
        let submitted: Submitted<Result<(), RecordsError>> = self
            .node
            .submit(&self.records, &self.signer, "grant_access", &(*provider, scope, expires_at))
            .await?;
        accepted("grant_access", &submitted)?;
        if scope.read.is_empty() {
            return Ok(0);
        }
        let Some(reader_key) = self.published_key(provider, false).await? else {
            bail!(
                "granted on chain, but {} has published no encryption key: nothing could be shared with it; \
                 grant again once it has (`ehr provider publish-key`)",
                ss58(provider)
            );
        };
        self.share_records(provider, &reader_key, scope.read, keys).await
    }

    /// Re-wraps, for `reader_key` of `reader`, the data keys of the caller's records of the
    /// categories `categories` (unwrapped with the patient's `keys`); returns how many.
    async fn share_records(
        &self,
        reader: &AccountId,
        reader_key: &PublicKey,
        categories: ehr_types::CategorySet,
        keys: &KeyPair,
    ) -> Result<usize> {
        let mut shared = 0;
        // The chart's records, and the latest risk report of each model (reports are not in
        // the chart's pages; earlier reports stay with the readers they were sealed for).
        let mut records = self.records_of(&self.account).await?;
        records.extend(self.latest_reports_of(&self.account).await?);
        for record in records {
            if record.is_erased() || !categories.contains(record.category) {
                continue;
            }
            let (_, own) = match self.vault.fetch(&self.signer, &self.account, &record.content_hash).await {
                Ok(found) => found,
                // Anchored elsewhere (another store) or never uploaded: nothing to re-wrap here.
                Err(VaultError::Refused { status: 404, .. }) => continue,
                Err(err) => return Err(err).context(format!("fetching record {}", record.id)),
            };
            let data_key = own.unwrap(keys, &record.content_hash).map_err(|e| {
                anyhow!("cannot unwrap record {} with this encryption key file: {e}", record.id)
            })?;
            let wrapped = data_key.wrap_for(reader_key, &record.content_hash)?;
            self.vault
                .share(&self.signer, &self.account, &record.content_hash, reader, &wrapped)
                .await
                .with_context(|| format!("sharing record {}", record.id))?;
            shared += 1;
        }
        Ok(shared)
    }

    /// Opts the caller in to (or out of) the institution's emergency key. Opting in wraps every
    /// record of the chart (and the latest risk reports) for the emergency key too (unwrapped
    /// with the patient's `keys`), so that a Doctor under open, audited emergency access can
    /// read them; opting out deletes those keys in the vault. Returns how many keys were
    /// shared or deleted.
    pub async fn set_emergency_opt_in(&self, opted_in: bool, keys: &KeyPair) -> Result<u64> {
        if opted_in {
            let published: Option<[u8; 32]> =
                self.node.dry_run(&self.records, &self.account, "emergency_key", &()).await?.value;
            if published.is_none() {
                bail!("the institution has published no emergency key yet (`ehr admin emergency-key`)");
            }
        }
        let submitted: Submitted<Result<(), RecordsError>> =
            self.node.submit(&self.records, &self.signer, "set_emergency_opt_in", &(opted_in,)).await?;
        accepted("set_emergency_opt_in", &submitted)?;
        let holder = self.records.address;
        if opted_in {
            let key = self.emergency_key_of(&self.account).await?.context("the emergency key")?;
            let shared = self.share_records(&holder, &key, ehr_types::CategorySet::all(), keys).await?;
            Ok(shared as u64)
        } else {
            self.vault
                .revoke(&self.signer, &self.account, &holder)
                .await
                .context("opted out on chain, but the vault did not delete the emergency keys; run it again")
        }
    }

    // ---- emergency access, audit ----------------------------------------------------------

    /// Opens emergency access to `patient` for `blocks` blocks (the caller must be an active
    /// Doctor); returns the case.
    pub async fn open_emergency(
        &self,
        patient: &AccountId,
        purpose: EmergencyPurpose,
        blocks: u32,
    ) -> Result<EmergencyId> {
        let submitted: Submitted<Result<EmergencyOutcome, RecordsError>> = self
            .node
            .submit(&self.records, &self.signer, "open_emergency", &(*patient, purpose, blocks))
            .await?;
        match accepted("open_emergency", &submitted)? {
            EmergencyOutcome::Opened(case) => Ok(case),
            EmergencyOutcome::Denied(reason) => {
                bail!("emergency access denied: {reason:?} (the attempt is audited on chain)")
            }
        }
    }

    /// Closes the caller's emergency case `case` now.
    pub async fn close_emergency(&self, case: EmergencyId) -> Result<()> {
        let submitted: Submitted<Result<(), RecordsError>> =
            self.node.submit(&self.records, &self.signer, "close_emergency", &(case,)).await?;
        accepted("close_emergency", &submitted)
    }

    /// Reviews emergency case `case` (the caller must be an active Auditor).
    pub async fn review_emergency(
        &self,
        case: EmergencyId,
        verdict: ReviewVerdict,
        reason: ReviewReason,
    ) -> Result<()> {
        let submitted: Submitted<Result<(), RecordsError>> = self
            .node
            .submit(&self.records, &self.signer, "review_emergency", &(case, verdict, reason))
            .await?;
        accepted("review_emergency", &submitted)
    }

    /// Raises the overdue reviews (see [`Node::raise_overdue`]); returns how many were raised.
    pub async fn raise_overdue(&self) -> Result<u32> {
        self.node.raise_overdue(&self.records, &self.signer).await
    }

    /// Every emergency case (with `unreviewed_only`, the unreviewed ones), oldest first.
    pub async fn emergencies(&self, unreviewed_only: bool) -> Result<Vec<(EmergencyId, EmergencyCase)>> {
        let mut all = Vec::new();
        let mut from: EmergencyId = 0;
        loop {
            let page: Result<Page<(EmergencyId, EmergencyCase)>, RecordsError> = self
                .node
                .dry_run(
                    &self.records,
                    &self.account,
                    "emergencies",
                    &(from, MAX_PAGE_LIMIT, unreviewed_only),
                )
                .await?
                .value;
            let page = page.map_err(|e| anyhow!("emergencies: {e:?}"))?;
            all.extend(page.items);
            match page.next {
                Some(next) => from = next,
                None => return Ok(all),
            }
        }
    }

    /// Every audit alert (with `unacknowledged_only`, the unacknowledged ones), oldest first.
    pub async fn alerts(&self, unacknowledged_only: bool) -> Result<Vec<(AlertId, StoredAlert)>> {
        let mut all = Vec::new();
        let mut from: AlertId = 0;
        loop {
            let page: Result<Page<(AlertId, StoredAlert)>, ScoreError> = self
                .node
                .dry_run(&self.scores, &self.account, "alerts", &(from, MAX_PAGE_LIMIT, unacknowledged_only))
                .await?
                .value;
            let page = page.map_err(|e| anyhow!("alerts: {e:?}"))?;
            all.extend(page.items);
            match page.next {
                Some(next) => from = next,
                None => return Ok(all),
            }
        }
    }

    /// Acknowledges alert `id` (the caller must be an active Auditor).
    pub async fn acknowledge_alert(&self, id: AlertId) -> Result<()> {
        let submitted: Submitted<Result<(), ScoreError>> =
            self.node.submit(&self.scores, &self.signer, "acknowledge_alert", &(id,)).await?;
        accepted("acknowledge_alert", &submitted)
    }

    /// Sets the emergency-access policy (the registry's admin only).
    pub async fn set_emergency_policy(&self, policy: EmergencyPolicy) -> Result<()> {
        let submitted: Submitted<Result<(), RecordsError>> =
            self.node.submit(&self.records, &self.signer, "set_emergency_policy", &(policy,)).await?;
        accepted("set_emergency_policy", &submitted)
    }

    /// Publishes the institution's emergency public key (the registry's admin only).
    pub async fn set_emergency_key(&self, key: &PublicKey) -> Result<()> {
        let submitted: Submitted<Result<(), RecordsError>> =
            self.node.submit(&self.records, &self.signer, "set_emergency_key", &(key.0,)).await?;
        accepted("set_emergency_key", &submitted)
    }

    /// Revokes `provider`'s grant on chain and deletes its wrapped keys in the vault; returns
    /// how many keys were deleted.
    pub async fn revoke(&self, provider: &AccountId) -> Result<u64> {
        let submitted: Submitted<Result<(), RecordsError>> =
            self.node.submit(&self.records, &self.signer, "revoke_access", &(*provider,)).await?;
        accepted("revoke_access", &submitted)?;
        self.vault
            .revoke(&self.signer, &self.account, provider)
            .await
            .context("revoked on chain, but the vault did not delete the reader's keys; run revoke again")
    }

    /// Erases the caller's record `id`: tombstoned on chain (`RecordErased`), then its envelope
    /// and keys destroyed in the vault.
    pub async fn erase(&self, id: RecordId) -> Result<()> {
        let record = self.record(&self.account, id).await?;
        let submitted: Submitted<Result<(), RecordsError>> =
            self.node.submit(&self.records, &self.signer, "erase_record", &(id,)).await?;
        accepted("erase_record", &submitted)?;
        match self.vault.erase(&self.signer, &self.account, &record.content_hash).await {
            Ok(()) | Err(VaultError::Refused { status: 404 | 410, .. }) => Ok(()),
            Err(err) => Err(err).context(
                "erased on chain; the vault destroys the envelope at its next request for it, or run erase again",
            ),
        }
    }

    /// `patient`'s audit trail between blocks `from` and `to` (default: the best block): every
    /// access decision on its chart, grants, revocations, records added and erased, oldest
    /// first.
    pub async fn audit_trail(
        &self,
        patient: &AccountId,
        from: u32,
        to: Option<u32>,
    ) -> Result<Vec<TrailEntry>> {
        let to = match to {
            Some(to) => to,
            None => self.node.best_block().await?.0,
        };
        let mut trail = Vec::new();
        for number in from..=to {
            let contracts = [self.records.address, self.scores.address];
            let Some((_, events)) = self.node.block_events_of(number, &contracts).await? else { continue };
            for raw in events {
                let Ok(Some(event)) = EhrEvent::decode(&raw) else { continue };
                let about = match &event {
                    EhrEvent::AccessRequested(e) => e.patient,
                    EhrEvent::LegacyAccessRequested(e) => e.patient,
                    EhrEvent::EmergencyOpened(e) => e.patient,
                    EhrEvent::EmergencyDenied(e) => e.patient,
                    EhrEvent::EmergencyClosed(e) => e.patient,
                    EhrEvent::EmergencyReviewed(e) => e.patient,
                    EhrEvent::EmergencyReviewOverdue(e) => e.patient,
                    EhrEvent::EmergencyKeyOptIn(e) => e.patient,
                    EhrEvent::AccessGranted(e) => e.patient,
                    EhrEvent::AccessRevoked(e) => e.patient,
                    EhrEvent::RecordAdded(e) => e.patient,
                    EhrEvent::RecordErased(e) => e.patient,
                    EhrEvent::PatientRegistered(e) => e.patient,
                    // A batch's scores: the patient's, each with its report record.
                    EhrEvent::ScoresAccepted(e) => {
                        for score in e.scores.iter().filter(|s| s.patient == *patient) {
                            trail.push(TrailEntry {
                                block: number,
                                event: EhrEvent::ScoresAccepted(ehr_types::events::ScoresAccepted {
                                    signer: e.signer,
                                    scores: vec![score.clone()],
                                }),
                            });
                        }
                        continue;
                    }
                    _ => continue,
                };
                if about == *patient {
                    trail.push(TrailEntry { block: number, event });
                }
            }
        }
        Ok(trail)
    }
}

/// One line of the audit trail, with full SS58 accounts.
pub fn describe_entry(entry: &TrailEntry) -> String {
    let line = match &entry.event {
        EhrEvent::AccessRequested(e) => format!(
            "{} {:?} {:?} by {}: {}{}",
            if e.decision == AccessDecision::Granted { "GRANTED" } else { "DENIED " },
            e.mode,
            e.category,
            ss58(&e.accessor),
            match e.decision {
                AccessDecision::Granted => "allowed".to_string(),
                AccessDecision::Denied(reason) => format!("{reason:?}"),
            },
            if e.emergency { " UNDER EMERGENCY ACCESS" } else { "" }
        ),
        EhrEvent::EmergencyOpened(e) => format!(
            "EMERGENCY access {} opened by {} ({:?}) until block {}; an auditor reviews it by block {}",
            e.case,
            ss58(&e.clinician),
            e.purpose,
            e.expires_at,
            e.review_due
        ),
        EhrEvent::EmergencyDenied(e) => {
            format!("EMERGENCY access refused to {}: {:?}", ss58(&e.clinician), e.reason)
        }
        EhrEvent::EmergencyReviewed(e) => format!(
            "EMERGENCY access {} reviewed by {}: {:?} ({:?})",
            e.case,
            ss58(&e.auditor),
            e.verdict,
            e.reason
        ),
        EhrEvent::EmergencyReviewOverdue(e) => format!(
            "EMERGENCY access {} by {} was not reviewed by block {}",
            e.case,
            ss58(&e.clinician),
            e.review_due
        ),
        EhrEvent::AccessGranted(e) => format!(
            "consent  to {}: read {:?} write {:?}, {}",
            ss58(&e.provider),
            e.scope.read.categories(),
            e.scope.write.categories(),
            e.expires_at.map(|b| format!("until block {b}")).unwrap_or_else(|| "until revoked".into())
        ),
        EhrEvent::AccessRevoked(e) => format!("revoked  {}", ss58(&e.provider)),
        EhrEvent::RecordAdded(e) => format!(
            "record   {} {:?} added by {} (envelope sha256 0x{})",
            e.record_id,
            e.category,
            ss58(&e.author),
            hex::encode(e.content_hash)
        ),
        EhrEvent::RecordErased(e) => format!("erased   record {}", e.record_id),
        EhrEvent::ScoresAccepted(e) => e
            .scores
            .iter()
            .map(|s| {
                format!(
                    "record   {} RiskAssessment added by the oracle (key 0x{}): sealed score of model 0x{}",
                    s.report_record,
                    hex::encode(e.signer),
                    hex::encode(s.model_hash)
                )
            })
            .collect::<Vec<_>>()
            .join("; "),
        EhrEvent::PatientRegistered(e) => format!("registered as a patient: {}", ss58(&e.patient)),
        other => other.summary(),
    };
    format!("block {:>6}  {line}", entry.block)
}

/// [`Session::purge_legacy_scores`] against the risk-scores contract `scores`, signed by
/// `signer`.
pub async fn purge_legacy_scores(
    node: &Node,
    scores: &ContractRef,
    signer: &Keypair,
    from: u32,
    to: Option<u32>,
) -> Result<(usize, u32)> {
    let to = match to {
        Some(to) => to,
        None => node.best_block().await?.0,
    };
    let mut keys: Vec<(AccountId, ContentHash)> = Vec::new();
    for number in from..=to {
        let Some((_, events)) = node.block_events_of(number, &[scores.address]).await? else { continue };
        for raw in events {
            if let Ok(Some(EhrEvent::ScoreAccepted(e))) = EhrEvent::decode(&raw) {
                if !keys.contains(&(e.patient, e.model_hash)) {
                    keys.push((e.patient, e.model_hash));
                }
            }
        }
    }
    let mut deleted = 0u32;
    for chunk in keys.chunks(MAX_PURGE as usize) {
        let submitted: Submitted<Result<u32, ScoreError>> =
            node.submit(scores, signer, "purge_legacy_scores", &(chunk.to_vec(),)).await?;
        deleted = deleted.saturating_add(accepted("purge_legacy_scores", &submitted)?);
    }
    Ok((keys.len(), deleted))
}
