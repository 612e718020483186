//! The commands that talk to a real node: `deploy`, `post`, `run`.

use ai_oracle::{
    attest::OracleKey,
    fhir::ExtractOptions,
    node::{self, Oracle, RunOptions},
};
use anyhow::{anyhow, Context, Result};
use ehr_client::{
    account_of,
    deploy::{self, Deployment, OracleSetup},
    keypair, ss58, Node, Submitted,
};

use backon::Retryable;
use ehr_client::args::ChainArgs;

use crate::{OracleArgs, ScoreOptions};
use ehr_client::parse_account;

fn model(options: &ScoreOptions) -> Result<Box<dyn ai_oracle::RiskModel>> {
    ai_oracle::model(&options.model).ok_or_else(|| {
        let ids: Vec<_> = ai_oracle::models().iter().map(|m| m.id()).collect();
        anyhow!("unknown model {:?}; known models: {}", options.model, ids.join(", "))
    })
}

/// `ai-oracle deploy`.
pub async fn deploy(
    chain: ChainArgs,
    admin: String,
    oracle: OracleArgs,
    models: Vec<String>,
    upgrade_delay: u32,
) -> Result<()> {
    let node = Node::connect(&chain.node).await?;
    let admin = keypair(&admin).context("--admin")?;
    let key = OracleKey::load(&oracle.key)?;
    let account = account_of(&keypair(&oracle.account).context("--oracle-account")?);
    let models = if models.is_empty() {
        ai_oracle::models().iter().map(|m| m.model_hash()).collect()
    } else {
        models
            .iter()
            .map(|id| {
                ai_oracle::model(id).map(|m| m.model_hash()).ok_or_else(|| anyhow!("unknown model {id:?}"))
            })
            .collect::<Result<_>>()?
    };
    let setup = OracleSetup { signer_key: key.public(), account, models };
    let (deployment, log) = deploy::deploy_or_reuse(
        &node,
        &chain.artifacts,
        &admin,
        &chain.deployment,
        upgrade_delay,
        Some(&setup),
    )
    .await?;
    for line in log {
        println!("  {line}");
    }
    // The oracle reads like any provider: its encryption key, published in the registry.
    let encryption = match ehr_envelope::keyfile::read(&oracle.encryption_key) {
        Ok(keys) => keys,
        Err(ehr_envelope::keyfile::KeyFileError::Io { source, .. })
            if source.kind() == std::io::ErrorKind::NotFound =>
        {
            let keys = ehr_envelope::KeyPair::generate();
            ehr_envelope::keyfile::write(&oracle.encryption_key, &keys)?;
            println!("  wrote {} (mode 0600)", oracle.encryption_key.display());
            keys
        }
        Err(err) => return Err(err.into()),
    };
    let registry = deployment.contract(&chain.artifacts, "provider_registry")?;
    let oracle_signer = keypair(&oracle.account).context("--oracle-account")?;
    if node.encryption_key(&registry, &account).await? != Some(encryption.public().0) {
        let set: Submitted<Result<(), ehr_types::RegistryError>> =
            node.submit(&registry, &oracle_signer, "set_encryption_key", &(encryption.public().0,)).await?;
        set.value().map_err(|e| anyhow!("publishing the oracle's encryption key: {e:?}"))?;
        println!("  published the oracle's encryption key {}", encryption.public());
    } else {
        println!("  the oracle's encryption key {} is published", encryption.public());
    }
    println!("chain             {}", deployment.chain);
    println!(
        "provider_registry {}  code {}",
        deployment.provider_registry.address, deployment.provider_registry.code_hash
    );
    println!(
        "patient_records   {}  code {}",
        deployment.patient_records.address, deployment.patient_records.code_hash
    );
    println!(
        "risk_scores       {}  code {}",
        deployment.risk_scores.address, deployment.risk_scores.code_hash
    );
    println!("wrote {}", chain.deployment.display());
    Ok(())
}

async fn connect(chain: &ChainArgs, oracle: &OracleArgs, options: &ScoreOptions) -> Result<Oracle> {
    let deployment = Deployment::load(&chain.deployment)?;
    let key = OracleKey::load(&oracle.key)?;
    let account = keypair(&oracle.account).context("--oracle-account")?;
    let extract = ExtractOptions { as_of: options.as_of, ..ExtractOptions::default() };
    let encryption = ehr_envelope::keyfile::read(&oracle.encryption_key)?;
    let vault = ehr_vault::client::VaultClient::new(&oracle.vault);
    let keys = node::OracleKeys { signing: key, account, encryption };
    Oracle::connect(&chain.node, deployment, &chain.artifacts, keys, model(options)?, extract, vault).await
}

/// Prints a submitted batch: per-item results, events, weight and fee.
pub fn print_submitted(submitted: &Submitted<node::BatchResult>) {
    let d = &submitted.dry_run;
    println!(
        "dry-run: ref_time {} proof_size {} storage deposit {}",
        d.gas_required.ref_time(),
        d.gas_required.proof_size(),
        d.storage_deposit
    );
    match submitted.value() {
        Ok(results) => {
            for (i, result) in results.iter().enumerate() {
                println!(
                    "attestation {i}: {}",
                    result
                        .as_ref()
                        .map(|_| "accepted".to_string())
                        .unwrap_or_else(|e| format!("refused: {e:?}"))
                );
            }
        }
        Err(err) => println!("batch refused: {err:?}"),
    }
    match &submitted.included {
        Some(included) => {
            println!(
                "included in block {} (0x{}), fee paid {} (estimated {})",
                included.block_number,
                hex::encode(included.block_hash),
                included.fee_paid,
                included.fee_estimate
            );
            for event in &included.events {
                println!("  event {}", event.summary());
            }
        }
        None => println!("not submitted: the dry-run reverted"),
    }
}

/// `ai-oracle post`.
pub async fn post(
    patient: String,
    record: u32,
    chain: ChainArgs,
    oracle: OracleArgs,
    options: ScoreOptions,
) -> Result<()> {
    let patient = parse_account(&patient).context("--patient")?;
    let oracle = connect(&chain, &oracle, &options).await?;
    println!(
        "oracle {} posting for patient {} to {}",
        ss58(&oracle.account_id()),
        ss58(&patient),
        chain.node
    );
    let submitted = oracle.post(patient, record).await?;
    print_submitted(&submitted);
    let accepted = matches!(submitted.value(), Ok(results) if results.iter().all(|r| r.is_ok()));
    if !accepted {
        return Err(anyhow!("the contract refused the score"));
    }
    Ok(())
}

/// `ai-oracle run`.
pub async fn run(
    chain: ChainArgs,
    oracle_args: OracleArgs,
    options: ScoreOptions,
    run: RunOptions,
) -> Result<()> {
    // The node may be down when the operator starts: the same retry policy as in the loop.
    let mut failures = 0u32;
    let mut oracle = (|| connect(&chain, &oracle_args, &options))
        .retry(node::retry_policy(run.max_retries))
        .notify(|err, backoff| {
            failures = failures.saturating_add(1);
            tracing::warn!(
                attempt = failures,
                max = run.max_retries,
                ?backoff,
                "cannot start: {err:#}; retrying"
            );
        })
        .await
        .map_err(|err| err.context(format!("giving up after {} consecutive failures", run.max_retries)))?;
    tracing::info!(
        oracle = %ss58(&oracle.account_id()),
        node = %chain.node,
        vault = %oracle.vault.url(),
        state = %run.state.display(),
        "following the chain"
    );
    node::run(&mut oracle, &run).await
}
