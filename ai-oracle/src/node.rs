//! The oracle on a real chain, on the private path: it reads documents like any provider — its
//! own audited `request_access` on chain, then the envelope and its wrapped key from the record
//! vault, opened with its own X25519 key — scores them, and posts signed batches (`post`, and
//! the operator's `run`).
//!
//! `run` follows the chain's finalized blocks (or the best block, `--follow best`) and queues
//! every `RecordAdded` of the records
//! contract in its persisted [`Queue`](crate::queue::Queue) (the cursor moves in the same
//! transaction). Each pass works the records that are due: a patient who has not consented is
//! asked again later (one audited, denied request on the first attempt, then free dry-runs), a
//! document not yet in the vault is fetched again later, both on the queue's bounded policy; a
//! record the oracle may read is fetched — the vault asks for the oracle's audited request, made
//! then, once per patient and category in a pass, so a document not uploaded yet costs none —
//! checked against its on-chain hash, decrypted and scored. The pass's scores are signed as one batch whose nonces are
//! allocated in the transaction that stores it as in flight; it is submitted, and its outcome
//! settled. After a crash at any point the in-flight batch is submitted again exactly as signed
//! before anything else: each record is scored exactly once.
//!
//! Test hook: `AI_ORACLE_KILL_AT=after-read|after-sign|after-submit` makes the process exit at
//! that point of the first pass that reaches it (the crash tests).

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

use anyhow::{anyhow, bail, Result};
use ehr_client::{account_of, deploy::Deployment, ss58, ContractRef, EhrEvent, Keypair, Node, Submitted};
use ehr_envelope::{Envelope, KeyPair, PublicKey, WrappedKey};
use ehr_types::{
    decode::short_hex,
    scores::{AttestationBatch, ScoreAttestation, Signature, SignerInfo, MAX_BATCH},
    AccessDecision, AccessMode, AccountId, ContentHash, Record, RecordCategory, RecordId, RecordsError,
    ScoreError,
};
use ehr_vault::client::{VaultClient, VaultError};
use ink::scale::{Decode, Encode};

use crate::{
    attest::{self, OracleKey},
    fhir::{self, ExtractOptions},
    metrics::Metrics,
    model::RiskModel,
    queue::{Item, Outcome, Queue},
    report::{self, Report},
};

/// What `submit_scores` returns.
pub type BatchResult = Result<Vec<Result<(), ScoreError>>, ScoreError>;

/// The oracle connected to a deployed suite.
pub struct Oracle {
    /// The node connection.
    pub node: Node,
    /// The suite.
    pub deployment: Deployment,
    /// Where the `.contract` bundles are (for message selectors).
    pub artifacts: PathBuf,
    /// The records contract.
    pub records: ContractRef,
    /// The risk-scores contract.
    pub scores: ContractRef,
    /// The ed25519 key attestations are signed with.
    pub key: OracleKey,
    /// The sr25519 account that submits batches (bound to `key` on chain).
    pub account: Keypair,
    /// The model scores are computed with.
    pub model: Box<dyn RiskModel>,
    /// FHIR extraction options.
    pub options: ExtractOptions,
    /// The record vault the documents come from.
    pub vault: VaultClient,
    /// The oracle's X25519 key pair, whose public half it published in the registry.
    pub encryption: KeyPair,
}

/// The oracle's keys.
pub struct OracleKeys {
    /// The ed25519 key attestations are signed with.
    pub signing: OracleKey,
    /// The sr25519 account that submits batches (bound to `signing` on chain).
    pub account: Keypair,
    /// The X25519 key pair documents are sealed for (published in the registry).
    pub encryption: KeyPair,
}

/// Why a document could not be read (yet).
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The patient has not let the oracle read the category: its request is on chain, denied.
    #[error("no consent ({0:?})")]
    NoConsent(ehr_types::DenialReason),
    /// The record is anchored but its envelope is not in the vault (yet).
    #[error("the document is not in the vault yet")]
    NotUploaded,
    /// The vault refuses, with its reason (e.g. no key wrapped for the oracle yet).
    #[error("the vault refuses: {0}")]
    Refused(String),
    /// The patient erased the record.
    #[error("the record was erased")]
    Erased,
    /// The vault's envelope does not match the on-chain hash, or does not open with the
    /// oracle's key: never scored.
    #[error("{0}")]
    Altered(String),
    /// The node or the vault cannot be reached: retry the whole pass.
    #[error(transparent)]
    Unavailable(#[from] anyhow::Error),
}

/// Why the vault did not take a report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadRefusal {
    /// The vault's answer.
    pub reason: String,
    /// Whether no retry can change it (`400`, `410`).
    pub lasting: bool,
}

/// A scored document, ready to attest.
pub struct ScoredDocument {
    /// SHA-256 of the document's envelope (its anchored hash).
    pub input_hash: ContentHash,
    /// The score.
    pub score: crate::RiskScore,
    /// Where each input came from.
    pub sources: Vec<fhir::Source>,
    /// The scoring time (Unix ms): the attestation's `computed_at`.
    pub computed_at: u64,
}

/// A score's explained report, sealed for its readers; it goes to the vault once the chain has
/// anchored it (when the attestation is accepted).
pub struct SealedReport {
    /// The report (its result and salt open the attestation's commitment).
    pub report: Report,
    /// The sealed report: its SHA-256 is the attestation's `report_hash`.
    pub envelope: Envelope,
    /// The data key wrapped for the patient and each provider that may read the patient's
    /// `RiskAssessment` records.
    pub keys: Vec<(AccountId, WrappedKey)>,
}

/// The wrapped keys of a report, as the queue keeps them (SCALE: recipient, public key,
/// wrapped bytes).
pub fn encode_keys(keys: &[(AccountId, WrappedKey)]) -> Vec<u8> {
    let rows: Vec<(AccountId, [u8; 32], Vec<u8>)> =
        keys.iter().map(|(account, key)| (*account, key.recipient.0, key.as_bytes().to_vec())).collect();
    rows.encode()
}

/// The inverse of [`encode_keys`].
pub fn decode_keys(bytes: &[u8]) -> Result<Vec<(AccountId, WrappedKey)>> {
    let rows = <Vec<(AccountId, [u8; 32], Vec<u8>)>>::decode(&mut &bytes[..])
        .map_err(|e| anyhow!("a queued report's keys do not decode: {e}"))?;
    rows.into_iter()
        .map(|(account, public, wrapped)| Ok((account, WrappedKey::from_bytes(PublicKey(public), &wrapped)?)))
        .collect()
}

impl Oracle {
    /// Connects to `url` and checks that `deployment` is live there and that the oracle's key
    /// is registered to `account`.
    pub async fn connect(
        url: &str,
        deployment: Deployment,
        artifacts: &Path,
        keys: OracleKeys,
        model: Box<dyn RiskModel>,
        options: ExtractOptions,
        vault: VaultClient,
    ) -> Result<Self> {
        let OracleKeys { signing: key, account, encryption } = keys;
        let node = Node::connect(url).await?;
        if deployment.chain_id()? != node.genesis_hash() {
            bail!(
                "the deployment is for chain {} but {url} is chain 0x{}",
                deployment.chain,
                hex::encode(node.genesis_hash())
            );
        }
        let records = deployment.contract(artifacts, "patient_records")?;
        let scores = deployment.contract(artifacts, "risk_scores")?;
        let oracle = Oracle {
            node,
            deployment,
            artifacts: artifacts.to_path_buf(),
            records,
            scores,
            key,
            account,
            model,
            options,
            vault,
            encryption,
        };
        let published = oracle.node.encryption_key(&oracle.registry()?, &oracle.account_id()).await?;
        if published != Some(oracle.encryption.public().0) {
            bail!(
                "the oracle's encryption key {} is not the one {} published in the registry; \
                 run `ai-oracle deploy --encryption-key FILE` with this key",
                oracle.encryption.public(),
                ss58(&oracle.account_id())
            );
        }
        match oracle.signer_info().await? {
            None => bail!(
                "signer key 0x{} is not registered; run `ai-oracle deploy` first",
                hex::encode(oracle.key.public())
            ),
            Some(info) if info.retired => {
                bail!("signer key 0x{} is retired", hex::encode(oracle.key.public()))
            }
            Some(info) if info.account != account_of(&oracle.account) => bail!(
                "signer key 0x{} is bound to {}, not to the submitting account {}",
                hex::encode(oracle.key.public()),
                ss58(&info.account),
                ss58(&account_of(&oracle.account))
            ),
            Some(_) => {}
        }
        Ok(oracle)
    }

    /// Reconnects to the node (after an outage).
    pub async fn reconnect(&mut self) -> Result<()> {
        self.node = Node::connect(self.node.url()).await?;
        Ok(())
    }

    /// The oracle's submitting account.
    pub fn account_id(&self) -> AccountId {
        account_of(&self.account)
    }

    /// The signer's on-chain entry (last accepted nonce).
    pub async fn signer_info(&self) -> Result<Option<SignerInfo>> {
        Ok(self.node.dry_run(&self.scores, &self.account_id(), "signer", &(self.key.public(),)).await?.value)
    }

    /// The provider registry.
    fn registry(&self) -> Result<ContractRef> {
        self.deployment.contract(&self.artifacts, "provider_registry")
    }

    /// Extracts and scores a FHIR document, the plaintext of the envelope whose SHA-256 (the
    /// anchored hash) is `input_hash`.
    pub fn score_document(&self, document: &[u8], input_hash: ContentHash) -> Result<ScoredDocument> {
        // Staleness is judged against the scoring time, unless a date was fixed (`--as-of`).
        let today = chrono::DateTime::from_timestamp_millis(now_ms() as i64).map(|t| t.date_naive());
        let options = ExtractOptions { as_of: self.options.as_of.or(today), ..self.options };
        let computed_at = now_ms();
        let extract = fhir::extract_json(document, options)?;
        let score = self.model.score(&extract.inputs)?;
        Ok(ScoredDocument { input_hash, score, sources: extract.sources, computed_at })
    }

    /// Writes the explained report of `scored` and seals it for `patient` and the providers
    /// that may read `patient`'s `RiskAssessment` records now. `Ok(Err(reason))` when it cannot
    /// be sealed for the patient (no published key).
    pub async fn seal_report(
        &self,
        patient: &AccountId,
        scored: &ScoredDocument,
    ) -> Result<Result<SealedReport, String>> {
        let registry = self.registry()?;
        let readers =
            self.node.readers(&self.records, &registry, patient, RecordCategory::RiskAssessment).await?;
        let Some(own) = readers.patient_key else {
            return Ok(Err("the patient has published no encryption key for the report".into()));
        };
        let mut recipients = vec![(*patient, PublicKey(own))];
        recipients.extend(readers.providers.into_iter().map(|(p, key)| (p, PublicKey(key))));
        let report = report::write(
            self.model.as_ref(),
            &scored.score,
            &scored.sources,
            patient,
            &scored.input_hash,
            scored.computed_at,
        )
        .map_err(|e| anyhow!("no randomness from the OS: {e}"))?;
        let keys: Vec<PublicKey> = recipients.iter().map(|(_, key)| *key).collect();
        let (envelope, wrapped) = Envelope::seal_for(&report.document, patient.as_ref(), &keys)?;
        let keys = recipients.iter().map(|(account, _)| *account).zip(wrapped).collect();
        Ok(Ok(SealedReport { report, envelope, keys }))
    }

    /// Uploads an accepted score's report to the vault (the chain anchored it with the oracle
    /// as author), with the keys of the recipients that may still read it and whose published
    /// key it was wrapped for. `Ok(Err(refusal))` when the vault refuses it, for good or for now.
    pub async fn upload_report(
        &self,
        patient: &AccountId,
        envelope: &Envelope,
        keys: Vec<(AccountId, WrappedKey)>,
    ) -> Result<Result<(), UploadRefusal>> {
        let registry = self.registry()?;
        let mut current = Vec::new();
        for (recipient, key) in keys {
            let (contract, reads) = if recipient == *patient {
                (&self.records, true)
            } else {
                let decision = self
                    .node
                    .access_decision(
                        &self.records,
                        patient,
                        &recipient,
                        RecordCategory::RiskAssessment,
                        AccessMode::Read,
                    )
                    .await?;
                (&registry, decision == AccessDecision::Granted)
            };
            if reads && self.node.encryption_key(contract, &recipient).await? == Some(key.recipient.0) {
                current.push((recipient, key));
            }
        }
        match self.vault.upload(&self.account, patient, envelope, &current).await {
            Ok(()) => Ok(Ok(())),
            Err(err @ VaultError::Unreachable { .. }) => Err(err.into()),
            // Malformed (a bug of ours) or erased by the patient: no retry changes that.
            Err(err @ VaultError::Refused { status: 400 | 410, .. }) => {
                Ok(Err(UploadRefusal { reason: err.to_string(), lasting: true }))
            }
            // Not anchored yet at the vault's node, a vault or store failure, a recipient's
            // access changing, clock skew: try again later.
            Err(err) => Ok(Err(UploadRefusal { reason: err.to_string(), lasting: false })),
        }
    }

    /// `patient`'s record `id`, read as the patient (records are public chain state): `Err`
    /// when the node cannot be asked, `Ok(Err)` with the contract's answer otherwise.
    pub async fn record(&self, patient: &AccountId, id: RecordId) -> Result<Result<Record, RecordsError>> {
        Ok(self.node.dry_run(&self.records, patient, "record", &(*patient, id)).await?.value)
    }

    /// The oracle's audited request for `patient`'s `category` records: `Ok(())` when granted;
    /// a denial is on chain too.
    pub async fn request_access(
        &self,
        patient: &AccountId,
        category: RecordCategory,
    ) -> Result<Result<(), ReadError>> {
        let submitted: Submitted<Result<AccessDecision, RecordsError>> =
            self.node.submit(&self.records, &self.account, "request_access", &(*patient, category)).await?;
        match submitted.value() {
            Ok(AccessDecision::Granted) => Ok(Ok(())),
            Ok(AccessDecision::Denied(reason)) => Ok(Err(ReadError::NoConsent(*reason))),
            Err(err) => bail!("request_access: {err:?}"),
        }
    }

    /// Fetches `record` of `patient` from the vault (after a granted request) and opens it.
    pub async fn fetch_document(&self, patient: &AccountId, record: &Record) -> Result<Vec<u8>, ReadError> {
        if record.is_erased() {
            return Err(ReadError::Erased);
        }
        let (envelope, key) = match self.vault.fetch(&self.account, patient, &record.content_hash).await {
            Ok(found) => found,
            Err(VaultError::Refused { status: 404, .. }) => return Err(ReadError::NotUploaded),
            Err(VaultError::Refused { status: 410, .. }) => return Err(ReadError::Erased),
            Err(VaultError::Refused { reason, .. }) => return Err(ReadError::Refused(reason)),
            Err(VaultError::Malformed(reason)) => return Err(ReadError::Altered(reason)),
            Err(err @ VaultError::Unreachable { .. }) => return Err(ReadError::Unavailable(err.into())),
        };
        envelope
            .open_with(&key, &self.encryption, patient.as_ref())
            .map_err(|e| ReadError::Altered(format!("the envelope does not open with the oracle's key: {e}")))
    }

    /// The attestation of a scored document for `patient`, whose report is `sealed`, with
    /// `nonce`.
    pub fn attestation(
        &self,
        patient: AccountId,
        scored: &ScoredDocument,
        sealed: &SealedReport,
        nonce: u64,
    ) -> ScoreAttestation {
        attest::attestation(
            self.model.as_ref(),
            &sealed.report,
            patient,
            scored.input_hash,
            sealed.envelope.content_hash(),
            scored.computed_at,
            nonce,
        )
    }

    /// Signs `attestations` as one batch; returns the SCALE-encoded `(batch, signature)` call.
    pub fn sign(&self, attestations: Vec<ScoreAttestation>) -> Vec<u8> {
        let batch = AttestationBatch {
            contract: self.scores.address,
            chain: self.node.genesis_hash(),
            signer: self.key.public(),
            attestations,
        };
        let signature = self.key.sign(&batch);
        (batch, signature).encode()
    }

    /// Submits a signed call made by [`Oracle::sign`].
    pub async fn submit_signed(&self, call: &[u8]) -> Result<(AttestationBatch, Submitted<BatchResult>)> {
        let (batch, signature) = <(AttestationBatch, Signature)>::decode(&mut &call[..])
            .map_err(|e| anyhow!("the signed batch in flight does not decode: {e}"))?;
        let submitted =
            self.node.submit(&self.scores, &self.account, "submit_scores", &(&batch, signature)).await?;
        Ok((batch, submitted))
    }

    /// `ai-oracle post`: reads `patient`'s record `id` through the vault (an audited request
    /// first), scores it, seals the report, signs the attestation with the signer's next nonce,
    /// submits it and, once accepted, uploads the report. (`run` keeps the sealed report in its
    /// queue until it is uploaded; `post` does not survive a crash in between.)
    pub async fn post(&self, patient: AccountId, id: RecordId) -> Result<Submitted<BatchResult>> {
        let record = self.record(&patient, id).await?.map_err(|e| anyhow!("record {id}: {e:?}"))?;
        if let Err(denied) = self.request_access(&patient, record.category).await? {
            bail!("the patient has not let the oracle read record {id}: {denied} (the denied request is on chain)");
        }
        let document =
            self.fetch_document(&patient, &record).await.map_err(|e| anyhow!("record {id}: {e}"))?;
        let scored = self.score_document(&document, record.content_hash)?;
        let sealed =
            self.seal_report(&patient, &scored).await?.map_err(|reason| anyhow!("record {id}: {reason}"))?;
        let last = self.signer_info().await?.map(|s| s.last_nonce).unwrap_or(0);
        let nonce = last.checked_add(1).ok_or_else(|| anyhow!("nonce space exhausted"))?;
        let call = self.sign(vec![self.attestation(patient, &scored, &sealed, nonce)]);
        let (_, submitted) = self.submit_signed(&call).await?;
        let accepted = matches!(submitted.value(), Ok(results) if results.iter().all(|r| r.is_ok()));
        if accepted && submitted.included.is_some() {
            self.upload_report(&patient, &sealed.envelope, sealed.keys).await?.map_err(|refusal| {
                anyhow!(
                    "the score is accepted and its report anchored, but the vault refused the report: {}",
                    refusal.reason
                )
            })?;
        }
        Ok(submitted)
    }
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

// ---- run mode ----------------------------------------------------------------------------

/// Options of `run`.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// The queue's database file.
    pub state: PathBuf,
    /// How often to look for new blocks and due records.
    pub poll: Duration,
    /// Consecutive failures (node or vault down) tolerated before giving up.
    pub max_retries: u32,
    /// Stop once this block has been followed and nothing is due (tests, catch-up jobs);
    /// `None` runs forever.
    pub until_block: Option<u32>,
    /// Which head to follow.
    pub follow: Follow,
    /// Where to serve `/metrics` and `/health`, if anywhere.
    pub metrics_listen: Option<std::net::SocketAddr>,
}

/// Which blocks `run` queues records from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Follow {
    /// Finalized blocks only: a record is queued once no reorg can drop it.
    Finalized,
    /// The best block: no finality lag.
    Best,
}

/// The retry policy for node and vault failures (`backon`): 1 s, 2 s, 4 s … at most 30 s
/// between attempts, at most `max_retries` retries.
pub fn retry_policy(max_retries: u32) -> backon::ExponentialBuilder {
    backon::ExponentialBuilder::default()
        .with_min_delay(Duration::from_secs(1))
        .with_max_delay(Duration::from_secs(30))
        .with_factor(2.0)
        .with_max_times(max_retries as usize)
}

/// Resolves on SIGTERM or Ctrl-C.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Where the crash tests stop the process (`AI_ORACLE_KILL_AT`).
fn kill_point(point: &str) {
    if std::env::var("AI_ORACLE_KILL_AT").is_ok_and(|at| at == point) {
        tracing::warn!(point, "AI_ORACLE_KILL_AT: exiting here");
        std::process::exit(137);
    }
}

/// A short, non-identifying name of a record in logs: its envelope hash prefix and id.
fn record_tag(item: &Item) -> String {
    format!("{}#{}", short_hex(&item.content_hash), item.record_id)
}

/// Runs the oracle until `until_block` (or forever, or SIGTERM), resuming from the queue. On
/// SIGTERM the pass in progress is abandoned at its next await: every change is already
/// committed, and a signed batch stays in flight for the next start.
pub async fn run(oracle: &mut Oracle, options: &RunOptions) -> Result<()> {
    let mut queue = Queue::open(
        &options.state,
        &oracle.deployment.chain,
        &oracle.deployment.risk_scores.address,
        oracle.deployment.deployed_at_block,
    )?;
    let metrics = std::sync::Arc::new(Metrics::new());
    if let Some(listen) = options.metrics_listen {
        let addr = crate::metrics::serve(listen, metrics.clone()).await?;
        tracing::info!(%addr, "metrics on http://{addr}/metrics, health on http://{addr}/health");
    }
    let shutdown = shutdown_signal();
    tokio::pin!(shutdown);
    let policy = retry_policy(options.max_retries);
    let mut retries = backon::BackoffBuilder::build(policy);
    let mut failures = 0u32;
    loop {
        let step = async {
            let signer = oracle.signer_info().await?.map(|s| s.last_nonce).unwrap_or(0);
            queue.raise_nonce(signer)?;
            settle_inflight(oracle, &mut queue, &metrics).await?;
            upload_reports(oracle, &mut queue, &metrics).await?;
            let followed = follow(oracle, &mut queue, options.follow, options.until_block, &metrics).await?;
            let worked = work(oracle, &mut queue, &metrics).await?;
            metrics.pending.set(queue.counts()?.pending as i64);
            Ok::<_, anyhow::Error>((followed, worked))
        };
        let outcome = tokio::select! {
            _ = &mut shutdown => None,
            outcome = step => Some(outcome),
        };
        let Some(outcome) = outcome else {
            tracing::info!("SIGTERM: stopping; the queue and any signed batch resume at the next start");
            return Ok(());
        };
        match outcome {
            Ok((followed, worked)) => {
                failures = 0;
                retries = backon::BackoffBuilder::build(policy);
                let caught_up =
                    options.until_block.is_some_and(|until| queue.last_block().is_ok_and(|b| b >= until));
                if caught_up && !worked && queue.due(now_ms(), 1)?.is_empty() {
                    let counts = queue.counts()?;
                    tracing::info!(
                        last_block = queue.last_block()?,
                        scored = counts.scored,
                        pending = counts.pending,
                        "caught up; stopping"
                    );
                    return Ok(());
                }
                if !followed && !worked {
                    tokio::select! {
                        _ = &mut shutdown => {
                            tracing::info!("SIGTERM: stopping between passes");
                            return Ok(());
                        }
                        _ = tokio::time::sleep(options.poll) => {}
                    }
                }
            }
            Err(err) => {
                failures = failures.saturating_add(1);
                let Some(wait) = retries.next() else {
                    return Err(
                        err.context(format!("giving up after {} consecutive failures", options.max_retries))
                    );
                };
                tracing::warn!(
                    attempt = failures,
                    max = options.max_retries,
                    ?wait,
                    "node error: {err:#}; retrying"
                );
                tokio::time::sleep(wait).await;
                if let Err(err) = oracle.reconnect().await {
                    tracing::warn!("reconnect failed: {err:#}");
                }
            }
        }
    }
}

/// Queues the records of the blocks after the cursor up to the followed head (or `until`);
/// whether any block was followed.
async fn follow(
    oracle: &Oracle,
    queue: &mut Queue,
    head: Follow,
    until: Option<u32>,
    metrics: &Metrics,
) -> Result<bool> {
    let (head, _) = match head {
        Follow::Finalized => oracle.node.finalized_block().await?,
        Follow::Best => oracle.node.best_block().await?,
    };
    let last = until.map_or(head, |until| head.min(until));
    let mut followed = false;
    for number in queue.last_block()?.saturating_add(1)..=last {
        let hash =
            oracle.node.block_hash(number).await?.ok_or_else(|| anyhow!("block {number} is not known"))?;
        let mut items = Vec::new();
        for raw in oracle.node.contract_events_at(hash).await? {
            if raw.contract != oracle.records.address {
                continue;
            }
            if let Some(EhrEvent::RecordAdded(added)) = EhrEvent::decode(&raw)? {
                // Score reports are the oracle's output, never its input.
                if added.category == RecordCategory::RiskAssessment {
                    continue;
                }
                items.push(Item {
                    patient: added.patient,
                    record_id: added.record_id,
                    category: added.category,
                    content_hash: added.content_hash,
                    attempts: 0,
                });
            }
        }
        queue.enqueue_block(number, &items)?;
        metrics.seen.inc_by(items.len() as u64);
        metrics.last_block.set(i64::from(number));
        if !items.is_empty() {
            tracing::info!(block = number, records = items.len(), "queued");
        }
        followed = true;
    }
    Ok(followed)
}

/// Settles the batch in flight, if any.
///
/// - Never sent (the process stopped between signing and submitting): its records are queued
///   again, to be signed with fresh nonces.
/// - Landed (its events are in the blocks after its first submission): each attestation ends as
///   its entry in a `ScoresAccepted`, or its `ScoreRefused`, says.
/// - Not landed (yet): the identical signed batch is submitted again; the contract's nonces make
///   a second copy harmless, and its events are read the same way.
///
/// An attestation with no event (its nonce taken by another submission of the same key) goes
/// back to the queue; so does a batch the contract refuses as a whole for good (a retired or
/// unknown signer), while a passing refusal (`RecordsUnavailable`) is retried.
async fn settle_inflight(oracle: &Oracle, queue: &mut Queue, metrics: &Metrics) -> Result<()> {
    let Some(inflight) = queue.inflight()? else { return Ok(()) };
    let Ok((batch, _)) = <(AttestationBatch, Signature)>::decode(&mut &inflight.call[..]) else {
        // Signed by an oracle before sealed scores (another attestation layout), which the
        // upgraded contract refuses anyway: its records are scored again, sealed.
        tracing::warn!(
            records = inflight.members.len(),
            "the batch in flight was signed in an older layout; its records are queued again"
        );
        queue.settle_batch(&[], &inflight.members)?;
        return Ok(());
    };
    let Some(from) = inflight.submitted_after else {
        queue.settle_batch(&[], &inflight.members)?;
        tracing::info!(records = inflight.members.len(), "the signed batch was never sent; queued again");
        return Ok(());
    };
    let started = Instant::now();
    let mut found = landed_outcomes(oracle, &batch, from).await?;
    let mut block = None;
    if found.iter().all(Option::is_none) {
        let (_, submitted) = oracle.submit_signed(&inflight.call).await?;
        kill_point("after-submit");
        match (&submitted.included, submitted.value()) {
            (Some(included), _) => block = Some(included.block_number),
            (None, Err(ScoreError::RecordsUnavailable)) => {
                bail!("the records contract is unavailable; retrying")
            }
            (None, refusal) => {
                // E.g. a retired key, or a scores contract not yet named in the records
                // contract after an upgrade: not retried at once, on the bounded policy.
                tracing::warn!(
                    ?refusal,
                    "the signed batch is refused as a whole; its records are queued again, later"
                );
                queue.requeue_batch_later(&inflight.members, now_ms(), &format!("{refusal:?}"))?;
                return Ok(());
            }
        }
        found = landed_outcomes(oracle, &batch, from).await?;
    }
    let mut settled = Vec::new();
    let mut requeued = Vec::new();
    for ((member, attestation), result) in inflight.members.iter().zip(&batch.attestations).zip(found) {
        let (outcome, reason) = match result {
            Some(Ok(())) => {
                metrics.scored.inc();
                (Outcome::Scored, String::new())
            }
            Some(Err(ScoreError::ReportNotAnchored)) => {
                // The report's hash was taken in the patient's chart before the batch landed:
                // score again, sealed afresh (a new envelope has a new hash).
                Metrics::count(&metrics.refused, "ReportNotAnchored");
                tracing::warn!(nonce = attestation.nonce, "the report's hash was taken; queued again");
                requeued.push(*member);
                continue;
            }
            Some(Err(err)) => {
                let reason = format!("{err:?}");
                Metrics::count(&metrics.refused, &reason);
                (Outcome::Refused, reason)
            }
            None => {
                tracing::warn!(nonce = attestation.nonce, "no outcome on chain (nonce taken); queued again");
                requeued.push(*member);
                continue;
            }
        };
        tracing::info!(nonce = attestation.nonce, ?outcome, reason, "settled");
        settled.push((*member, outcome, reason));
    }
    queue.settle_batch(&settled, &requeued)?;
    metrics.batch_latency.observe(started.elapsed().as_secs_f64());
    tracing::info!(
        scores = settled.len(),
        block,
        latency_ms = started.elapsed().as_millis() as u64,
        "batch settled"
    );
    Ok(())
}

/// The outcome on chain of each attestation of `batch` in the blocks after `from`: the
/// contract's `ScoresAccepted` (an entry matching signer, nonce, patient, model and input) or
/// `ScoreRefused` (signer, nonce); `None` where there is neither.
async fn landed_outcomes(
    oracle: &Oracle,
    batch: &AttestationBatch,
    from: u32,
) -> Result<Vec<Option<Result<(), ScoreError>>>> {
    let mut found: BTreeMap<u64, Result<(), ScoreError>> = BTreeMap::new();
    let ours: BTreeMap<u64, &ScoreAttestation> = batch.attestations.iter().map(|a| (a.nonce, a)).collect();
    let (best, _) = oracle.node.best_block().await?;
    for number in from.saturating_add(1)..=best {
        let Some((_, events)) = oracle.node.block_events_of(number, &[oracle.scores.address]).await? else {
            continue;
        };
        for raw in events {
            match EhrEvent::decode(&raw)? {
                Some(EhrEvent::ScoresAccepted(e)) if e.signer == batch.signer => {
                    for score in e.scores {
                        let matches = ours.get(&score.nonce).is_some_and(|a| {
                            a.patient == score.patient
                                && a.input_hash == score.input_hash
                                && a.model_hash == score.model_hash
                        });
                        if matches {
                            found.insert(score.nonce, Ok(()));
                        }
                    }
                }
                Some(EhrEvent::ScoreRefused(e))
                    if e.signer == batch.signer && ours.contains_key(&e.nonce) =>
                {
                    found.insert(e.nonce, Err(e.reason));
                }
                _ => {}
            }
        }
    }
    Ok(batch.attestations.iter().map(|a| found.remove(&a.nonce)).collect())
}

/// Works the records that are due: consent, audited request, fetch, score; then signs the
/// pass's scores as one batch (in flight) and settles it. Whether anything was done.
async fn work(oracle: &Oracle, queue: &mut Queue, metrics: &Metrics) -> Result<bool> {
    let due = queue.due(now_ms(), MAX_BATCH)?;
    if due.is_empty() {
        return Ok(false);
    }
    let me = oracle.account_id();
    // Grouped by (patient, category) for one audited request each; signed in the queue's
    // order (oldest record first), so a patient's newest record gets the highest nonce.
    let mut groups: BTreeMap<(AccountId, u8), Vec<(usize, Item)>> = BTreeMap::new();
    for (order, item) in due.into_iter().enumerate() {
        groups.entry((item.patient, item.category as u8)).or_default().push((order, item));
    }
    let mut scored = Vec::new();
    for ((patient, _), items) in groups {
        let category = items[0].1.category;
        let decision =
            oracle.node.access_decision(&oracle.records, &patient, &me, category, AccessMode::Read).await?;
        // With consent, the audited request is made when the vault asks for it (below), so a
        // document still waiting for its upload costs no request. Without consent, the first
        // attempt is on chain as a denied request; asking again later is free.
        let mut audited = false;
        let requested = match decision {
            AccessDecision::Granted => Ok(()),
            AccessDecision::Denied(reason) if items.iter().all(|(_, i)| i.attempts > 0) => {
                Err(ReadError::NoConsent(reason))
            }
            AccessDecision::Denied(_) => {
                let requested = oracle.request_access(&patient, category).await?;
                audited = requested.is_ok();
                requested
            }
        };
        if let Err(denied) = requested {
            for (_, item) in &items {
                Metrics::count(&metrics.waiting, "no consent");
                let abandoned = queue.retry_later(item, now_ms(), &denied.to_string())?;
                tracing::info!(record = record_tag(item), abandoned, "waiting: {denied}");
            }
            continue;
        }
        for (order, item) in items {
            let record = match oracle.record(&patient, item.record_id).await? {
                Ok(record) => record,
                Err(err) => {
                    queue.finish(&item, Outcome::Skipped, &format!("{err:?}"))?;
                    tracing::warn!(record = record_tag(&item), "not scored: {err:?}");
                    continue;
                }
            };
            let mut fetched = oracle.fetch_document(&patient, &record).await;
            if matches!(fetched, Err(ReadError::Refused(_))) && !audited {
                // The vault releases only after an audited request: make it, then fetch again.
                fetched = match oracle.request_access(&patient, category).await? {
                    Ok(()) => {
                        audited = true;
                        oracle.fetch_document(&patient, &record).await
                    }
                    Err(denied) => Err(denied),
                };
            }
            let document = match fetched {
                Ok(document) => document,
                Err(ReadError::Unavailable(err)) => return Err(err),
                Err(err @ (ReadError::NotUploaded | ReadError::Refused(_) | ReadError::NoConsent(_))) => {
                    let label = match &err {
                        ReadError::NotUploaded => "document not in the vault",
                        ReadError::NoConsent(_) => "no consent",
                        _ => "vault refused",
                    };
                    Metrics::count(&metrics.waiting, label);
                    let abandoned = queue.retry_later(&item, now_ms(), &err.to_string())?;
                    tracing::info!(record = record_tag(&item), abandoned, "waiting: {err}");
                    continue;
                }
                Err(err @ (ReadError::Erased | ReadError::Altered(_))) => {
                    queue.finish(&item, Outcome::Skipped, &err.to_string())?;
                    tracing::warn!(record = record_tag(&item), "not scored: {err}");
                    continue;
                }
            };
            kill_point("after-read");
            let scored_document = match oracle.score_document(&document, record.content_hash) {
                Ok(scored_document) => scored_document,
                Err(err) => {
                    queue.finish(&item, Outcome::Skipped, &format!("{err:#}"))?;
                    tracing::warn!(record = record_tag(&item), "not scored: {err:#}");
                    continue;
                }
            };
            scored.push((order, item, scored_document));
        }
    }
    // In the queue's order, with scoring times that rise with the nonces (the contract ranks
    // a patient's scores by time first), each report sealed with its final time.
    scored.sort_by_key(|(order, ..)| *order);
    let mut sealed_scores = Vec::new();
    let mut last_time = 0u64;
    for (order, item, mut scored_document) in scored {
        scored_document.computed_at = scored_document.computed_at.max(last_time.saturating_add(1));
        last_time = scored_document.computed_at;
        match oracle.seal_report(&item.patient, &scored_document).await? {
            Ok(sealed) => sealed_scores.push((order, item, scored_document, sealed)),
            Err(reason) => {
                Metrics::count(&metrics.waiting, "no patient key");
                let abandoned = queue.retry_later(&item, now_ms(), &reason)?;
                tracing::info!(record = record_tag(&item), abandoned, "waiting: {reason}");
            }
        }
    }
    let scored = sealed_scores;
    if scored.is_empty() {
        return Ok(true);
    }
    let first = queue.next_nonces(scored.len())?;
    let mut attestations = Vec::new();
    let mut members = Vec::new();
    let mut reports = Vec::new();
    for (offset, (_, item, scored_document, sealed)) in scored.iter().enumerate() {
        let nonce = first + offset as u64;
        attestations.push(oracle.attestation(item.patient, scored_document, sealed, nonce));
        members.push((item.patient, item.record_id));
        reports.push((sealed.envelope.as_bytes().to_vec(), encode_keys(&sealed.keys)));
        tracing::info!(record = record_tag(item), nonce, "scored, report sealed, signed");
    }
    let last = first + scored.len() as u64 - 1;
    queue.sign_batch(&oracle.sign(attestations), &members, last, &reports)?;
    kill_point("after-sign");
    queue.submitting(oracle.node.best_block().await?.0)?;
    settle_inflight(oracle, queue, metrics).await?;
    upload_reports(oracle, queue, metrics).await?;
    Ok(true)
}

/// Uploads the reports of accepted scores that are due (anchored on chain by the accepting
/// call, so the vault takes them from their author, the oracle). A report the vault refuses
/// for now is tried again on the queue's bounded policy, one it refuses for good (malformed,
/// erased) is dropped with a warning; an unreachable vault fails the pass (retried).
async fn upload_reports(oracle: &Oracle, queue: &mut Queue, metrics: &Metrics) -> Result<()> {
    for report in queue.reports_to_upload(now_ms())? {
        let envelope = Envelope::from_bytes(report.envelope.clone())
            .map_err(|e| anyhow!("a queued report's envelope does not decode: {e}"))?;
        let keys = decode_keys(&report.keys)?;
        let (tag, record_id, recipients) =
            (short_hex(&envelope.content_hash()), report.record_id, keys.len());
        match oracle.upload_report(&report.patient, &envelope, keys).await? {
            Ok(()) => {
                metrics.reports_uploaded.inc();
                tracing::info!(report = %tag, record_id, recipients, "report stored in the vault");
                queue.report_done(&report.patient, record_id)?;
            }
            Err(UploadRefusal { reason, lasting: true }) => {
                Metrics::count(&metrics.refused, "report refused by the vault");
                tracing::warn!(report = %tag, record_id, "the vault refused the report for good: {reason}");
                queue.report_done(&report.patient, record_id)?;
            }
            Err(UploadRefusal { reason, lasting: false }) => {
                Metrics::count(&metrics.waiting, "report upload");
                let abandoned = queue.report_retry_later(&report, now_ms(), &reason)?;
                tracing::warn!(report = %tag, record_id, abandoned, "report upload to retry: {reason}");
            }
        }
    }
    Ok(())
}
