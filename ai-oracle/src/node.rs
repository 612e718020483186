//! The oracle on a real chain: scoring, signing and posting over RPC (`post`), and the
//! long-running operator mode (`run`) that follows the chain and scores new records.
//!
//! `run` processes blocks in order. For each `RecordAdded` of the records contract whose patient
//! lets the oracle read the record's category, it fetches the document from its `vault://`
//! locator in a local content-addressed store, checks its SHA-256 against the on-chain hash
//! (a mismatch is refused and logged, never posted), scores it, and posts all of a block's scores
//! in one signed batch. Each attestation's nonce is its position on chain,
//! `block << 16 | event index`, so nonces rise with the chain and re-processing a block after a
//! restart re-signs the same nonces, which the contract refuses as stale: a record is scored at
//! most once, and since the last processed block is saved only after its batch landed, at least
//! once. Node outages are retried with exponential backoff, a bounded number of times.

use std::{
    io::Write,
    path::{Path, PathBuf},
    time::Duration,
};

use anyhow::{anyhow, bail, Context, Result};
use ehr_client::{account_of, deploy::Deployment, ss58, ContractRef, EhrEvent, Keypair, Node, Submitted};
use ehr_types::{
    decode::short_hex,
    scores::{AttestationBatch, ScoreAttestation, SignerInfo, MAX_BATCH},
    AccessDecision, AccessMode, AccountId, ContentHash, Record, RecordsError, ScoreError,
};
use serde::{Deserialize, Serialize};

use crate::{
    attest::{self, OracleKey},
    fhir::{self, ExtractOptions},
    model::RiskModel,
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
}

/// A scored document, ready to attest.
pub struct ScoredDocument {
    /// SHA-256 of the document.
    pub input_hash: ContentHash,
    /// The score.
    pub score: crate::RiskScore,
}

impl Oracle {
    /// Connects to `url` and checks that `deployment` is live there and that the oracle's key
    /// is registered to `account`.
    pub async fn connect(
        url: &str,
        deployment: Deployment,
        artifacts: &Path,
        key: OracleKey,
        account: Keypair,
        model: Box<dyn RiskModel>,
        options: ExtractOptions,
    ) -> Result<Self> {
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
        };
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

    /// Extracts and scores a FHIR document.
    pub fn score_document(&self, document: &[u8]) -> Result<ScoredDocument> {
        let extract = fhir::extract_json(document, self.options)?;
        let score = self.model.score(&extract.inputs)?;
        Ok(ScoredDocument { input_hash: attest::input_hash(document), score })
    }

    /// The attestation of a scored document for `patient` with `nonce`.
    pub fn attestation(&self, patient: AccountId, scored: &ScoredDocument, nonce: u64) -> ScoreAttestation {
        attest::attestation(self.model.as_ref(), &scored.score, patient, scored.input_hash, now_ms(), nonce)
    }

    /// Signs `attestations` as one batch for this deployment and submits it.
    pub async fn submit(&self, attestations: Vec<ScoreAttestation>) -> Result<Submitted<BatchResult>> {
        let batch = AttestationBatch {
            contract: self.scores.address,
            chain: self.node.genesis_hash(),
            signer: self.key.public(),
            attestations,
        };
        let signature = self.key.sign(&batch);
        self.node.submit(&self.scores, &self.account, "submit_scores", &(batch, signature)).await
    }

    /// `ai-oracle post`: scores `document`, checks it is anchored for `patient` and readable by
    /// the oracle, signs it with the signer's next nonce and submits it.
    pub async fn post(&self, patient: AccountId, document: &[u8]) -> Result<Submitted<BatchResult>> {
        let scored = self.score_document(document)?;
        let me = self.account_id();
        let anchored: Option<u32> = self
            .node
            .dry_run(&self.records, &me, "anchored_record", &(patient, scored.input_hash))
            .await?
            .value;
        let Some(record_id) = anchored else {
            bail!(
                "document sha256 0x{} is not anchored for patient {}: add it with add_record first",
                hex::encode(scored.input_hash),
                ss58(&patient)
            );
        };
        let record: Result<Record, RecordsError> =
            self.node.dry_run(&self.records, &me, "record", &(patient, record_id)).await?.value;
        if let Ok(record) = &record {
            let decision: AccessDecision = self
                .node
                .dry_run(
                    &self.records,
                    &me,
                    "ConsentCheck::access_decision",
                    &(patient, me, record.category, AccessMode::Read),
                )
                .await?
                .value;
            if let AccessDecision::Denied(reason) = decision {
                bail!(
                    "patient {} has not let the oracle read record {record_id}: {reason:?}",
                    ss58(&patient)
                );
            }
        }
        let last = self.signer_info().await?.map(|s| s.last_nonce).unwrap_or(0);
        let nonce = last.checked_add(1).ok_or_else(|| anyhow!("nonce space exhausted"))?;
        self.submit(vec![self.attestation(patient, &scored, nonce)]).await
    }
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

// ---- the content-addressed document store ---------------------------------------------------

/// Puts `document` into the store at `dir` under its SHA-256; returns its locator
/// (`vault://<sha256 hex>`, the scheme the records contract allows for the record vault).
pub fn store_put(dir: &Path, document: &[u8]) -> Result<String> {
    let name = hex::encode(attest::input_hash(document));
    std::fs::create_dir_all(dir).with_context(|| format!("creating the store {}", dir.display()))?;
    std::fs::write(dir.join(&name), document)
        .with_context(|| format!("writing {}", dir.join(&name).display()))?;
    Ok(format!("{VAULT_SCHEME}{name}"))
}

/// The locator prefix of documents in the store.
pub const VAULT_SCHEME: &str = "vault://";

/// Reads the document a `vault://<sha256 hex>` locator names inside the store at `dir`. Any
/// other locator (another scheme, a path, anything but 64 hex digits) is refused.
pub fn store_get(dir: &Path, locator: &[u8]) -> Result<Vec<u8>> {
    let locator = std::str::from_utf8(locator).map_err(|_| anyhow!("locator is not UTF-8"))?;
    let Some(name) = locator.strip_prefix(VAULT_SCHEME) else {
        bail!("locator {locator:?}: only {VAULT_SCHEME} locators are supported");
    };
    if name.len() != 64 || !name.bytes().all(|b| b.is_ascii_hexdigit()) {
        bail!("locator {locator:?} does not name a document of the store ({VAULT_SCHEME}<sha256 hex>)");
    }
    std::fs::read(dir.join(name)).with_context(|| format!("fetching {locator} from {}", dir.display()))
}

// ---- run mode ----------------------------------------------------------------------------

/// What `run` keeps between restarts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunState {
    /// The chain (genesis hash, hex) this state belongs to.
    pub chain: String,
    /// The risk-scores contract (SS58) this state belongs to.
    pub scores_contract: String,
    /// The last block whose records were all handled.
    pub last_block: u32,
    /// The last nonce signed.
    pub last_nonce: u64,
}

impl RunState {
    fn load(path: &Path) -> Result<Option<Self>> {
        match std::fs::read_to_string(path) {
            Ok(text) => Ok(Some(
                serde_json::from_str(&text)
                    .with_context(|| format!("{} is not a run state file", path.display()))?,
            )),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(err) => Err(err).with_context(|| format!("reading {}", path.display())),
        }
    }

    fn save(&self, path: &Path) -> Result<()> {
        let tmp = PathBuf::from(format!("{}.tmp", path.display()));
        std::fs::write(&tmp, serde_json::to_string_pretty(self)?)
            .with_context(|| format!("writing {}", tmp.display()))?;
        std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))
    }
}

/// Options of `run`.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// The content-addressed document store.
    pub store: PathBuf,
    /// The state file.
    pub state: PathBuf,
    /// How often to look for new blocks.
    pub poll: Duration,
    /// Consecutive failures (node down) tolerated before giving up.
    pub max_retries: u32,
    /// Stop once this block has been processed (tests, catch-up jobs); `None` runs forever.
    pub until_block: Option<u32>,
}

/// The position nonce of the `index`-th contract event of block `block`.
pub fn position_nonce(block: u32, index: usize) -> Result<u64> {
    let index = u64::try_from(index)
        .ok()
        .filter(|i| *i < 1 << 16)
        .ok_or_else(|| anyhow!("too many events in block {block}"))?;
    Ok((u64::from(block) << 16) | index)
}

fn log(line: String) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

/// The wait after the `failures`-th consecutive failure: 1 s, 2 s, 4 s, … at most 30 s.
pub fn backoff(failures: u32) -> Duration {
    Duration::from_millis(500u64.saturating_mul(1 << failures.min(6))).min(Duration::from_secs(30))
}

/// Runs the oracle until `until_block` (or forever), resuming from the state file.
pub async fn run(oracle: &mut Oracle, options: &RunOptions) -> Result<()> {
    let chain = oracle.deployment.chain.clone();
    let scores_contract = oracle.deployment.risk_scores.address.clone();
    let mut state = match RunState::load(&options.state)? {
        Some(state) if state.chain != chain || state.scores_contract != scores_contract => bail!(
            "{} belongs to chain {} / contract {}, not to this deployment; use another --state file",
            options.state.display(),
            state.chain,
            state.scores_contract
        ),
        Some(state) => {
            log(format!("resuming after block {} (last nonce {})", state.last_block, state.last_nonce));
            state
        }
        None => {
            let start = oracle.deployment.deployed_at_block;
            log(format!("starting at block {} (the deployment's)", start.saturating_add(1)));
            RunState { chain, scores_contract, last_block: start, last_nonce: 0 }
        }
    };
    let mut failures = 0u32;
    loop {
        if options.until_block.is_some_and(|until| state.last_block >= until) {
            log(format!("processed up to block {}; stopping", state.last_block));
            return Ok(());
        }
        match step(oracle, options, &mut state).await {
            Ok(progressed) => {
                failures = 0;
                if !progressed {
                    tokio::time::sleep(options.poll).await;
                }
            }
            Err(err) => {
                failures = failures.saturating_add(1);
                if failures > options.max_retries {
                    return Err(
                        err.context(format!("giving up after {} consecutive failures", options.max_retries))
                    );
                }
                let backoff = Duration::from_millis(500u64.saturating_mul(1 << failures.min(6)))
                    .min(Duration::from_secs(30));
                log(format!(
                    "node error (attempt {failures}/{}): {err:#}; retrying in {backoff:?}",
                    options.max_retries
                ));
                tokio::time::sleep(backoff).await;
                if let Err(err) = oracle.reconnect().await {
                    log(format!("reconnect failed: {err:#}"));
                }
            }
        }
    }
}

/// Processes the blocks after `state.last_block` up to the best block; whether any was.
async fn step(oracle: &Oracle, options: &RunOptions, state: &mut RunState) -> Result<bool> {
    let (best, _) = oracle.node.best_block().await?;
    let last = options.until_block.map_or(best, |until| best.min(until));
    let mut progressed = false;
    for number in state.last_block.saturating_add(1)..=last {
        process_block(oracle, options, state, number).await?;
        state.last_block = number;
        state.save(&options.state)?;
        progressed = true;
    }
    Ok(progressed)
}

async fn process_block(
    oracle: &Oracle,
    options: &RunOptions,
    state: &mut RunState,
    number: u32,
) -> Result<()> {
    let hash = oracle.node.block_hash(number).await?.ok_or_else(|| anyhow!("block {number} is not known"))?;
    let events = oracle.node.contract_events_at(hash).await?;
    let me = oracle.account_id();
    let mut attestations = Vec::new();
    for (index, raw) in events.iter().enumerate() {
        if raw.contract != oracle.records.address {
            continue;
        }
        let Some(EhrEvent::RecordAdded(added)) = EhrEvent::decode(raw)? else { continue };
        let what = format!("block {number}: record {} of patient {}", added.record_id, ss58(&added.patient));
        let decision: AccessDecision = oracle
            .node
            .dry_run(
                &oracle.records,
                &me,
                "ConsentCheck::access_decision",
                &(added.patient, me, added.category, AccessMode::Read),
            )
            .await?
            .value;
        if let AccessDecision::Denied(reason) = decision {
            log(format!("{what}: skipped, no consent ({reason:?})"));
            continue;
        }
        let record: Result<Record, RecordsError> = oracle
            .node
            .dry_run(&oracle.records, &me, "record", &(added.patient, added.record_id))
            .await?
            .value;
        let record = match record {
            Ok(record) => record,
            Err(err) => {
                log(format!("{what}: skipped, record not readable ({err:?})"));
                continue;
            }
        };
        let document = match store_get(&options.store, &record.locator) {
            Ok(document) => document,
            Err(err) => {
                log(format!("{what}: REFUSED, document unavailable: {err:#}"));
                continue;
            }
        };
        let actual = attest::input_hash(&document);
        if actual != record.content_hash {
            log(format!(
                "{what}: REFUSED, document sha256 0x{} does not match the on-chain 0x{}; not posting",
                hex::encode(actual),
                hex::encode(record.content_hash)
            ));
            continue;
        }
        let scored = match oracle.score_document(&document) {
            Ok(scored) => scored,
            Err(err) => {
                log(format!("{what}: not scored: {err:#}"));
                continue;
            }
        };
        let nonce = position_nonce(number, index)?;
        log(format!(
            "{what}: sha256 {} verified, risk {:.2} % ({:?}), nonce {nonce}",
            short_hex(&actual),
            scored.score.risk * 100.0,
            scored.score.band
        ));
        attestations.push(oracle.attestation(added.patient, &scored, nonce));
    }
    for chunk in attestations.chunks(MAX_BATCH as usize) {
        let nonces: Vec<u64> = chunk.iter().map(|a| a.nonce).collect();
        let submitted = oracle.submit(chunk.to_vec()).await?;
        let results = match submitted.value() {
            Ok(results) => results.clone(),
            Err(err) => bail!("block {number}: batch refused as a whole: {err:?}"),
        };
        let included = submitted.included.as_ref().map(|i| i.block_number).unwrap_or_default();
        for (nonce, result) in nonces.iter().zip(results) {
            match result {
                Ok(()) => log(format!("posted nonce {nonce} in block {included}")),
                Err(ScoreError::StaleNonce) => log(format!(
                    "nonce {nonce} already used on chain (posted before a restart); not posted again"
                )),
                Err(err) => log(format!("nonce {nonce} refused by the contract: {err:?}")),
            }
            state.last_nonce = state.last_nonce.max(*nonce);
        }
    }
    Ok(())
}
