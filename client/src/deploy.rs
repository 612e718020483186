//! Deploying the suite to a node and the deployment file every other command reads.
//!
//! Code upload and instantiation go through `contract-extrinsics` (the library behind
//! `cargo contract upload/instantiate`). The contracts are wired at construction: the registry's
//! address goes into the records contract, the records contract's address and the chain's
//! genesis hash into the risk-scores contract, and the registry's admin names the risk-scores
//! contract as the one that anchors score reports in the records contract. The deployment file is written only once the
//! whole suite is instantiated, so a failed deployment never leaves a file naming a half-built
//! suite; running the deployment again against an existing file verifies that suite and reuses
//! it, completing the oracle registration if that is what was missing.

use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};
use contract_extrinsics::{ExtrinsicOptsBuilder, InstantiateCommandBuilder, UploadCommandBuilder};
use ehr_types::{
    scores::{SignerInfo, SignerKey},
    ContentHash, ProviderInfo, ProviderRole, RecordsError, RegistryError, ScoreError,
};
use ink::{env::DefaultEnvironment, primitives::AccountId};
use serde::{Deserialize, Serialize};

use crate::{account_of, parse_account, ss58, to_account, ContractRef, Keypair, Node, NodeConfig};

/// The suite's contracts, in deployment order.
pub const SUITE: [&str; 3] = ["provider_registry", "patient_records", "risk_scores"];

/// One deployed contract.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeployedContract {
    /// Address (SS58).
    pub address: String,
    /// Code hash (`0x` hex).
    pub code_hash: String,
}

/// The oracle registered with the risk-scores contract.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OracleRegistration {
    /// The oracle's ed25519 signer key (`0x` hex).
    pub signer_key: String,
    /// The account that submits the oracle's batches (SS58).
    pub account: String,
    /// Approved model hashes (`0x` hex).
    pub models: Vec<String>,
}

/// What `deploy` wrote: everything the oracle and the tests need to find the suite.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deployment {
    /// The node the suite was deployed through.
    pub node_url: String,
    /// The chain's genesis hash (`0x` hex): the chain id the risk-scores contract checks.
    pub chain: String,
    /// Best block when the deployment finished.
    pub deployed_at_block: u32,
    /// The admin of the registry and the risk-scores contract (SS58).
    pub admin: String,
    /// The provider registry.
    pub provider_registry: DeployedContract,
    /// The patient records contract.
    pub patient_records: DeployedContract,
    /// The risk-scores contract.
    pub risk_scores: DeployedContract,
    /// The registered oracle, if any.
    pub oracle: Option<OracleRegistration>,
}

/// The oracle to register: its signer key, its submitting account and its model hashes.
#[derive(Debug, Clone)]
pub struct OracleSetup {
    /// ed25519 public key the oracle signs batches with.
    pub signer_key: SignerKey,
    /// The account that submits the batches.
    pub account: AccountId,
    /// Model hashes to approve.
    pub models: Vec<ContentHash>,
}

fn hex32(text: &str, what: &str) -> Result<[u8; 32]> {
    text.strip_prefix("0x")
        .and_then(|h| hex::decode(h).ok())
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| anyhow!("{what} '{text}' is not 0x-prefixed 32-byte hex"))
}

fn to_hex(bytes: &[u8]) -> String {
    format!("0x{}", hex::encode(bytes))
}

impl DeployedContract {
    /// The contract's address.
    pub fn address(&self) -> Result<AccountId> {
        parse_account(&self.address)
    }
}

impl Deployment {
    /// Reads a deployment file.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading the deployment file {}", path.display()))?;
        serde_json::from_str(&text).with_context(|| format!("{} is not a deployment file", path.display()))
    }

    /// Writes the deployment file atomically (a temporary file renamed into place).
    pub fn save(&self, path: &Path) -> Result<()> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        let tmp = PathBuf::from(format!("{}.tmp", path.display()));
        std::fs::write(&tmp, serde_json::to_string_pretty(self)? + "\n")
            .with_context(|| format!("writing {}", tmp.display()))?;
        std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))
    }

    /// The chain id (genesis hash).
    pub fn chain_id(&self) -> Result<[u8; 32]> {
        hex32(&self.chain, "chain")
    }

    /// The deployed contract named `name` (one of [`SUITE`]).
    pub fn deployed(&self, name: &str) -> Result<&DeployedContract> {
        match name {
            "provider_registry" => Ok(&self.provider_registry),
            "patient_records" => Ok(&self.patient_records),
            "risk_scores" => Ok(&self.risk_scores),
            other => bail!("no contract named {other} in the suite"),
        }
    }

    /// A handle on contract `name`, with the messages of its bundle in `artifacts`.
    pub fn contract(&self, artifacts: &Path, name: &str) -> Result<ContractRef> {
        ContractRef::load(artifacts, name, self.deployed(name)?.address()?)
    }

    /// Checks that this deployment lives on `node`'s chain: same genesis, every contract
    /// present with its recorded code hash, and wired to the others.
    pub async fn verify(&self, node: &Node, artifacts: &Path) -> Result<()> {
        let genesis = node.genesis_hash();
        if self.chain_id()? != genesis {
            bail!(
                "the deployment is for chain {} but the node at {} is chain {}",
                self.chain,
                node.url(),
                to_hex(&genesis)
            );
        }
        for name in SUITE {
            let deployed = self.deployed(name)?;
            match node.contract_code_hash(&deployed.address()?).await? {
                None => bail!("{name} is not on chain at {} (was the chain reset?)", deployed.address),
                Some(hash) if to_hex(&hash) != deployed.code_hash => bail!(
                    "{name} at {} runs code {} instead of {}",
                    deployed.address,
                    to_hex(&hash),
                    deployed.code_hash
                ),
                Some(_) => {}
            }
        }
        let admin = parse_account(&self.admin)?;
        let records = self.contract(artifacts, "patient_records")?;
        let registry: AccountId = node.dry_run(&records, &admin, "registry", &()).await?.value;
        if registry != self.provider_registry.address()? {
            bail!(
                "patient_records is wired to registry {} instead of {}",
                ss58(&registry),
                self.provider_registry.address
            );
        }
        let scores = self.contract(artifacts, "risk_scores")?;
        let (_, scores_records, chain): (AccountId, AccountId, [u8; 32]) =
            node.dry_run(&scores, &admin, "domain", &()).await?.value;
        if scores_records != records.address || chain != genesis {
            bail!("risk_scores is wired to records {} on chain {}", ss58(&scores_records), to_hex(&chain));
        }
        let reports: Option<AccountId> = node.dry_run(&records, &admin, "score_contract", &()).await?.value;
        if reports != Some(scores.address) {
            bail!(
                "patient_records anchors score reports for {} instead of risk_scores {}",
                reports.map(|a| ss58(&a)).unwrap_or_else(|| "no contract".into()),
                self.risk_scores.address
            );
        }
        Ok(())
    }
}

/// Uploads (if needed) and instantiates contract `name` from `artifacts/NAME.contract` with
/// `constructor` and its arguments in cargo-contract's text form; returns address and code hash.
pub async fn instantiate(
    node: &Node,
    artifacts: &Path,
    admin: &Keypair,
    name: &str,
    args: Vec<String>,
    salt: &[u8],
    log: &mut Vec<String>,
) -> Result<DeployedContract> {
    let code_hash = upload(node, artifacts, admin, name, log).await?;
    let bundle = artifacts.join(format!("{name}.contract"));
    let exec = InstantiateCommandBuilder::new(extrinsic_opts(node, admin, &bundle))
        .constructor("new")
        .args(args)
        .salt(Some(salt.to_vec().into()))
        .done()
        .await
        .with_context(|| format!("preparing the instantiation of {name}"))?;
    let result = exec.instantiate(None).await.map_err(|err| anyhow!("instantiating {name}: {err}"))?;
    let address = to_account(&result.contract_address);
    log.push(format!("{name}: instantiated at {}", ss58(&address)));
    Ok(DeployedContract { address: ss58(&address), code_hash: to_hex(&code_hash) })
}

/// Uploads the code of `artifacts/NAME.contract` unless the chain has it; returns its hash.
pub async fn upload(
    node: &Node,
    artifacts: &Path,
    signer: &Keypair,
    name: &str,
    log: &mut Vec<String>,
) -> Result<[u8; 32]> {
    let bundle = artifacts.join(format!("{name}.contract"));
    if !bundle.exists() {
        bail!("{} is missing; build the contracts first (scripts/build-contracts.sh)", bundle.display());
    }
    let upload = UploadCommandBuilder::new(extrinsic_opts(node, signer, &bundle))
        .done()
        .await
        .with_context(|| format!("preparing the upload of {name}"))?;
    let code_hash = upload.code().code_hash();
    if node_has_code(node, code_hash).await? {
        log.push(format!("{name}: code 0x{} already on chain", hex::encode(code_hash)));
    } else {
        upload.upload_code().await.map_err(|err| anyhow!("uploading {name}: {err}"))?;
        log.push(format!("{name}: uploaded code 0x{}", hex::encode(code_hash)));
    }
    Ok(code_hash)
}

fn extrinsic_opts(
    node: &Node,
    signer: &Keypair,
    bundle: &Path,
) -> contract_extrinsics::extrinsic_opts::ExtrinsicOpts<NodeConfig, DefaultEnvironment, Keypair> {
    ExtrinsicOptsBuilder::<NodeConfig, DefaultEnvironment, Keypair>::new(signer.clone())
        .file(Some(bundle.to_path_buf()))
        .url(url_of(node))
        .done()
}

fn url_of(node: &Node) -> url::Url {
    // Node::connect accepted this URL, so it parses.
    url::Url::parse(node.url())
        .unwrap_or_else(|_| url::Url::parse("ws://127.0.0.1:9944").expect("static URL"))
}

async fn node_has_code(node: &Node, code_hash: [u8; 32]) -> Result<bool> {
    let query = subxt::dynamic::storage(
        "Contracts",
        "PristineCode",
        vec![subxt::dynamic::Value::from_bytes(code_hash)],
    );
    Ok(node.storage_at_best(&query).await?.is_some())
}

/// Deploys a fresh suite signed by `admin`, each contract with the upgrade time-lock
/// `upgrade_delay` (blocks), and returns its description (not yet saved).
pub async fn deploy_suite(
    node: &Node,
    artifacts: &Path,
    admin: &Keypair,
    upgrade_delay: u32,
) -> Result<(Deployment, Vec<String>)> {
    let mut log = Vec::new();
    // A fresh salt, so a deployment never collides with an earlier (possibly half-finished) one.
    let (block, _) = node.best_block().await?;
    let mut salt = block.to_le_bytes().to_vec();
    salt.extend_from_slice(
        &std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_nanos().to_le_bytes(),
    );
    let delay = upgrade_delay.to_string();
    let registry =
        instantiate(node, artifacts, admin, "provider_registry", vec![delay.clone()], &salt, &mut log)
            .await?;
    let records = instantiate(
        node,
        artifacts,
        admin,
        "patient_records",
        vec![registry.address.clone(), delay.clone()],
        &salt,
        &mut log,
    )
    .await?;
    let chain = to_hex(&node.genesis_hash());
    let scores = instantiate(
        node,
        artifacts,
        admin,
        "risk_scores",
        vec![records.address.clone(), chain.clone(), delay],
        &salt,
        &mut log,
    )
    .await?;
    let (deployed_at_block, _) = node.best_block().await?;
    let records_ref = ContractRef::load(artifacts, "patient_records", parse_account(&records.address)?)?;
    let wired = node
        .submit::<_, Result<(), RecordsError>>(
            &records_ref,
            admin,
            "set_score_contract",
            &(parse_account(&scores.address)?,),
        )
        .await?;
    wired.dry_run.value.map_err(|err| anyhow!("set_score_contract refused: {err:?}"))?;
    log.push(format!("patient_records: reports are anchored by risk_scores {}", scores.address));
    Ok((
        Deployment {
            node_url: node.url().to_string(),
            chain,
            deployed_at_block,
            admin: ss58(&account_of(admin)),
            provider_registry: registry,
            patient_records: records,
            risk_scores: scores,
            oracle: None,
        },
        log,
    ))
}

/// Registers the oracle's signer key (bound to its account) and approves its models, skipping
/// what is already in place. Fails when the key is registered to another account or retired.
pub async fn register_oracle(
    node: &Node,
    deployment: &mut Deployment,
    artifacts: &Path,
    admin: &Keypair,
    oracle: &OracleSetup,
    log: &mut Vec<String>,
) -> Result<()> {
    let scores = deployment.contract(artifacts, "risk_scores")?;
    let registry = deployment.contract(artifacts, "provider_registry")?;
    let admin_account = account_of(admin);
    // The oracle reads records as a provider: an active Analytics provider in the registry.
    let provider: Option<ProviderInfo> = node
        .dry_run(&registry, &admin_account, "ProviderDirectory::provider", &(oracle.account,))
        .await?
        .value;
    match provider {
        Some(info) => {
            log.push(format!("oracle account already a provider ({:?}, {:?})", info.role, info.status))
        }
        None => {
            let call = node
                .submit::<_, Result<(), RegistryError>>(
                    &registry,
                    admin,
                    "register_provider",
                    &(oracle.account, ProviderRole::Analytics),
                )
                .await?;
            call.dry_run.value.map_err(|err| anyhow!("register_provider(oracle) refused: {err:?}"))?;
            log.push(format!("oracle account {} registered as an Analytics provider", ss58(&oracle.account)));
        }
    }
    let existing: Option<SignerInfo> =
        node.dry_run(&scores, &admin_account, "signer", &(oracle.signer_key,)).await?.value;
    match existing {
        Some(info) if info.retired => {
            bail!("signer key {} is retired; generate a new key", to_hex(&oracle.signer_key))
        }
        Some(info) if info.account != oracle.account => bail!(
            "signer key {} is registered to account {}, not {}",
            to_hex(&oracle.signer_key),
            ss58(&info.account),
            ss58(&oracle.account)
        ),
        Some(_) => log.push(format!("signer key {} already registered", to_hex(&oracle.signer_key))),
        None => {
            let call = node
                .submit::<_, Result<(), ScoreError>>(
                    &scores,
                    admin,
                    "add_signer",
                    &(oracle.signer_key, oracle.account),
                )
                .await?;
            call.dry_run.value.map_err(|err| anyhow!("add_signer refused: {err:?}"))?;
            log.push(format!(
                "signer key {} registered for {}",
                to_hex(&oracle.signer_key),
                ss58(&oracle.account)
            ));
        }
    }
    for model in &oracle.models {
        let approved: bool =
            node.dry_run(&scores, &admin_account, "is_model_approved", &(*model,)).await?.value;
        if approved {
            log.push(format!("model {} already approved", to_hex(model)));
            continue;
        }
        let call =
            node.submit::<_, Result<(), ScoreError>>(&scores, admin, "approve_model", &(*model,)).await?;
        call.dry_run.value.map_err(|err| anyhow!("approve_model {} refused: {err:?}", to_hex(model)))?;
        log.push(format!("model {} approved", to_hex(model)));
    }
    let mut models: Vec<String> = deployment.oracle.as_ref().map(|o| o.models.clone()).unwrap_or_default();
    for model in &oracle.models {
        let model = to_hex(model);
        if !models.contains(&model) {
            models.push(model);
        }
    }
    deployment.oracle = Some(OracleRegistration {
        signer_key: to_hex(&oracle.signer_key),
        account: ss58(&oracle.account),
        models,
    });
    Ok(())
}

/// Deploys the suite and registers the oracle, or, when `path` already names a deployment,
/// verifies it on `node` and completes what is missing. Writes `path` at the end. A fresh
/// suite gets the upgrade time-lock `upgrade_delay` (blocks).
pub async fn deploy_or_reuse(
    node: &Node,
    artifacts: &Path,
    admin: &Keypair,
    path: &Path,
    upgrade_delay: u32,
    oracle: Option<&OracleSetup>,
) -> Result<(Deployment, Vec<String>)> {
    let (mut deployment, mut log) = if path.exists() {
        let deployment = Deployment::load(path)?;
        deployment.verify(node, artifacts).await.with_context(|| {
            format!(
                "{} names a suite that is not usable on {}; move the file away to deploy afresh",
                path.display(),
                node.url()
            )
        })?;
        if parse_account(&deployment.admin)? != account_of(admin) {
            bail!("{} was deployed by {}, not by the given admin", path.display(), deployment.admin);
        }
        (deployment, vec![format!("reusing the suite of {}", path.display())])
    } else {
        let (deployment, log) = deploy_suite(node, artifacts, admin, upgrade_delay).await?;
        // Saved before the oracle registration, so a failure there is completed by a rerun.
        deployment.save(path)?;
        (deployment, log)
    };
    if let Some(oracle) = oracle {
        register_oracle(node, &mut deployment, artifacts, admin, oracle, &mut log).await?;
    }
    deployment.save(path)?;
    Ok((deployment, log))
}
