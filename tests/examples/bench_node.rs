//! Prints, for every state-changing message, the weight its dry-run on a real
//! substrate-contracts-node requires (ref_time, proof_size), its storage deposit, the fee the
//! node estimated for the signed extrinsic and the fee actually paid; then the oracle's batches
//! of 1, 10 and 100 scores against the chain's block and extrinsic weight limits.
//! Run through `scripts/bench-node.sh` (a node is started, or `EHR_NODE_URL` is used).

use ehr_client::{
    account_of,
    deploy::{self, OracleSetup},
    dev_node::DevNode,
    keypair, Keypair, Node, Submitted,
};
use ehr_sandbox::ehr::{commitment, doc_hash, report_hash, sign_batch};
use ehr_types::{
    scores::{AttestationBatch, ScoreAttestation},
    AccountId, ProviderRole, RecordCategory, Scope,
};
use ink::scale::{Decode, Encode};

struct Bench {
    node: Node,
    rows: Vec<String>,
    queries: Vec<String>,
}

/// One query's dry-run weight, as a table row.
async fn query<A: Encode, R: Decode>(
    node: &Node,
    contract: &ehr_client::ContractRef,
    caller: &Keypair,
    message: &str,
    args: A,
) -> String {
    let dry = node.dry_run::<A, R>(contract, &account_of(caller), message, &args).await.expect(message);
    let label = match message {
        "records" => {
            format!("records ({} items)", if args.encode().ends_with(&10u32.to_le_bytes()) { 10 } else { 50 })
        }
        "ConsentCheck::check_inputs" => "check_inputs (100 items)".to_string(),
        "ConsentCheck::access_decision" => "access_decision".to_string(),
        other => other.to_string(),
    };
    format!(
        "{:<9} {:<30} {:>13} {:>9}",
        contract.name.split('_').next_back().unwrap_or_default(),
        label,
        dry.gas_required.ref_time(),
        dry.gas_required.proof_size()
    )
}

const LOCATOR: &[u8] = b"ipfs://bafybeihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku";

impl Bench {
    async fn call<A: Encode, R: Decode + std::fmt::Debug>(
        &mut self,
        contract: &ehr_client::ContractRef,
        signer: &Keypair,
        label: &str,
        message: &str,
        args: A,
    ) -> Submitted<R> {
        let call: Submitted<R> = self
            .node
            .submit(contract, signer, message, &args)
            .await
            .unwrap_or_else(|err| panic!("{label}: {err:#}"));
        let included =
            call.included.as_ref().unwrap_or_else(|| panic!("{label} reverted: {:?}", call.value()));
        self.rows.push(format!(
            "{:<9} {:<30} {:>13} {:>9} {:>14} {:>14} {:>14}",
            contract.name.split('_').next_back().unwrap_or_default(),
            label,
            call.dry_run.gas_required.ref_time(),
            call.dry_run.gas_required.proof_size(),
            call.dry_run.storage_deposit,
            included.fee_estimate,
            included.fee_paid
        ));
        call
    }
}

fn constant_weight(node: &Node, path: &[&str]) -> (u64, u64) {
    use subxt_value_at::*;
    let value = node
        .client()
        .constants()
        .at(&subxt::dynamic::constant("System", "BlockWeights"))
        .expect("System::BlockWeights")
        .to_value()
        .expect("decodable BlockWeights");
    let mut v = &value;
    for step in path {
        v = v.at(*step).unwrap_or_else(|| panic!("BlockWeights has no {step}"));
    }
    // `max_extrinsic` is an `Option<Weight>`: step into `Some`.
    if v.at("ref_time").is_none() {
        v = v.at(0).unwrap_or(v);
    }
    let get = |name: &str| v.at(name).and_then(|x| x.as_u128()).map(|x| x as u64).unwrap_or_default();
    (get("ref_time"), get("proof_size"))
}

mod subxt_value_at {
    pub use subxt::ext::scale_value::At;
}

#[tokio::main]
async fn main() {
    let log_dir = ehr_sandbox::artifacts_dir().join("..").join("e2e");
    let dev_node = DevNode::start(&log_dir).expect("starting a node");
    let node = Node::connect(dev_node.url()).await.expect("connecting");
    let artifacts = ehr_sandbox::artifacts_dir();
    let (admin, patient, doctor, lab, oracle) = (
        keypair("//Alice").unwrap(),
        keypair("//Bob").unwrap(),
        keypair("//Charlie").unwrap(),
        keypair("//Dave").unwrap(),
        keypair("//Eve").unwrap(),
    );
    let id = account_of;
    let (deployment, _) =
        deploy::deploy_suite(&node, &artifacts, &admin, ehr_types::api::DEFAULT_UPGRADE_DELAY)
            .await
            .expect("deploying");
    let registry = deployment.contract(&artifacts, "provider_registry").unwrap();
    let records = deployment.contract(&artifacts, "patient_records").unwrap();
    let scores = deployment.contract(&artifacts, "risk_scores").unwrap();
    let mut b = Bench { node: node.clone(), rows: Vec::new(), queries: Vec::new() };
    type R<T, E> = Result<T, E>;
    use ehr_types::{
        AccessDecision as D, AddRecordOutcome as O, RecordsError as Re, RegistryError as Rg, ScoreError as Se,
    };

    b.call::<_, R<(), Rg>>(
        &registry,
        &admin,
        "register_provider",
        "register_provider",
        (id(&doctor), ProviderRole::Doctor),
    )
    .await;
    b.call::<_, R<(), Rg>>(
        &registry,
        &admin,
        "register_provider (lab)",
        "register_provider",
        (id(&lab), ProviderRole::Lab),
    )
    .await;
    b.call::<_, R<(), Rg>>(&registry, &admin, "suspend_provider", "suspend_provider", (id(&lab),)).await;
    b.call::<_, R<(), Rg>>(&registry, &admin, "reinstate_provider", "reinstate_provider", (id(&lab),)).await;
    b.call::<_, R<(), Rg>>(&registry, &admin, "propose_admin", "propose_admin", (id(&lab),)).await;
    b.call::<_, R<(), Rg>>(&registry, &admin, "cancel_admin_proposal", "cancel_admin_proposal", ()).await;
    b.call::<_, R<(), Rg>>(&registry, &doctor, "set_encryption_key", "set_encryption_key", ([1u8; 32],))
        .await;

    b.call::<_, R<(), Re>>(&records, &patient, "register_patient", "register_patient", ()).await;
    b.call::<_, R<(), Re>>(
        &records,
        &patient,
        "set_profile_commitment",
        "set_profile_commitment",
        (Some([9u8; 32]),),
    )
    .await;
    b.call::<_, R<(), Re>>(&records, &patient, "set_encryption_key", "set_encryption_key", ([2u8; 32],))
        .await;
    let add = |n: u32, supersedes: Option<u32>| {
        (id(&patient), RecordCategory::Summary, doc_hash(n), LOCATOR.to_vec(), supersedes)
    };
    b.call::<_, R<O, Re>>(&records, &patient, "add_record (patient)", "add_record", add(0, None)).await;
    b.call::<_, R<O, Re>>(&records, &patient, "add_record (correction)", "add_record", add(1, Some(0))).await;
    let scope = Scope::read_write(&[RecordCategory::Summary, RecordCategory::LabResult]);
    b.call::<_, R<(), Re>>(
        &records,
        &patient,
        "grant_access (new)",
        "grant_access",
        (id(&doctor), scope, None::<u32>),
    )
    .await;
    b.call::<_, R<(), Re>>(
        &records,
        &patient,
        "grant_access (replace)",
        "grant_access",
        (id(&doctor), scope, Some(1_000_000u32)),
    )
    .await;
    b.call::<_, R<O, Re>>(&records, &doctor, "add_record (provider)", "add_record", add(2, None)).await;
    b.call::<_, R<O, Re>>(&records, &lab, "add_record (denied, audited)", "add_record", add(3, None)).await;
    b.call::<_, R<D, Re>>(
        &records,
        &doctor,
        "request_access (granted)",
        "request_access",
        (id(&patient), RecordCategory::Summary),
    )
    .await;
    b.call::<_, R<D, Re>>(
        &records,
        &lab,
        "request_access (denied)",
        "request_access",
        (id(&patient), RecordCategory::Summary),
    )
    .await;
    b.call::<_, R<(), Re>>(&records, &patient, "revoke_access", "revoke_access", (id(&doctor),)).await;

    // The oracle: registration, then batches of 1, 10 and 100 scores of anchored records.
    let key = ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]);
    let model = [42u8; 32];
    let setup =
        OracleSetup { signer_key: key.verifying_key().to_bytes(), account: id(&oracle), models: vec![] };
    let mut d = deployment.clone();
    deploy::register_oracle(&node, &mut d, &artifacts, &admin, &setup, &mut Vec::new())
        .await
        .expect("oracle");
    b.call::<_, R<(), Se>>(&scores, &admin, "approve_model", "approve_model", (model,)).await;
    b.call::<_, R<(), Se>>(&scores, &admin, "add_signer", "add_signer", ([8u8; 32], id(&lab))).await;
    b.call::<_, R<(), Se>>(&scores, &admin, "retire_signer", "retire_signer", ([8u8; 32],)).await;
    let scope = Scope::read(&[RecordCategory::Summary]);
    b.call::<_, R<(), Re>>(
        &records,
        &patient,
        "grant_access (oracle)",
        "grant_access",
        (id(&oracle), scope, None::<u32>),
    )
    .await;
    for n in 10..121 {
        let call: Submitted<R<O, Re>> =
            node.submit(&records, &patient, "add_record", &add(n, None)).await.unwrap();
        assert!(matches!(call.value(), Ok(O::Added(_))), "anchoring {n}: {:?}", call.value());
    }
    let signed = |attestations| {
        let batch = AttestationBatch {
            contract: scores.address,
            chain: node.genesis_hash(),
            signer: key.verifying_key().to_bytes(),
            attestations,
        };
        let signature = sign_batch(&key, &batch);
        (batch, signature)
    };
    let mut nonce = 0u64;
    let mut first = 10u32;
    for size in [1u32, 10, 100] {
        let attestations = (first..first + size)
            .map(|n| {
                nonce += 1;
                ScoreAttestation {
                    patient: id(&patient),
                    model_hash: model,
                    input_hash: doc_hash(n),
                    commitment: commitment(20_544, n as u8),
                    report_hash: report_hash(n),
                    computed_at: 1,
                    nonce,
                }
            })
            .collect();
        first += size;
        let (batch, signature) = signed(attestations);
        let label = format!("submit_scores ({size})");
        let call = b
            .call::<_, R<Vec<R<(), Se>>, Se>>(&scores, &oracle, &label, "submit_scores", (batch, signature))
            .await;
        let accepted = call.value().as_ref().map(|r| r.iter().filter(|x| x.is_ok()).count()).unwrap_or(0);
        assert_eq!(accepted, size as usize, "{:?}", call.value());
    }
    // A batch of 100 scores of 100 different patients, the worst case of a full batch: each
    // patient's input, grant and latest score are read in it.
    let full_batch;
    {
        let mut attestations = Vec::new();
        for n in 0..100u32 {
            let p = keypair(&format!("//BenchPatient{n}")).unwrap();
            node.transfer(&admin, &id(&p), 1_000_000_000_000_000).await.expect("funding a patient");
            let call: Submitted<R<(), Re>> =
                node.submit(&records, &p, "register_patient", &()).await.unwrap();
            assert_eq!(call.value(), &Ok(()));
            let call: Submitted<R<(), Re>> = node
                .submit(
                    &records,
                    &p,
                    "grant_access",
                    &(id(&oracle), Scope::read(&[RecordCategory::Summary]), None::<u32>),
                )
                .await
                .unwrap();
            assert_eq!(call.value(), &Ok(()));
            let input = doc_hash(1_000 + n);
            let call: Submitted<R<O, Re>> = node
                .submit(
                    &records,
                    &p,
                    "add_record",
                    &(id(&p), RecordCategory::Summary, input, LOCATOR.to_vec(), None::<u32>),
                )
                .await
                .unwrap();
            assert!(matches!(call.value(), Ok(O::Added(0))), "{:?}", call.value());
            nonce += 1;
            attestations.push(ScoreAttestation {
                patient: id(&p),
                model_hash: model,
                input_hash: input,
                commitment: commitment(20_544, n as u8),
                report_hash: report_hash(1_000 + n),
                computed_at: 1,
                nonce,
            });
        }
        let (batch, signature) = signed(attestations);
        let call = b
            .call::<_, R<Vec<R<(), Se>>, Se>>(
                &scores,
                &oracle,
                "submit_scores (100 patients)",
                "submit_scores",
                (batch, signature),
            )
            .await;
        let accepted = call.value().as_ref().map(|r| r.iter().filter(|x| x.is_ok()).count()).unwrap_or(0);
        assert_eq!(accepted, 100, "{:?}", call.value());
        full_batch = call.dry_run.gas_required;
    }
    // The one-score form, with a fresh nonce, on an approved model.
    {
        let attestation = ScoreAttestation {
            patient: id(&patient),
            model_hash: model,
            input_hash: doc_hash(120),
            commitment: commitment(20_544, 120),
            report_hash: report_hash(120),
            computed_at: 1,
            nonce: nonce + 1,
        };
        let batch = AttestationBatch {
            contract: scores.address,
            chain: node.genesis_hash(),
            signer: key.verifying_key().to_bytes(),
            attestations: vec![attestation],
        };
        let signature = sign_batch(&key, &batch);
        b.call::<_, R<R<(), Se>, Se>>(&scores, &oracle, "submit_score", "submit_score", (batch, signature))
            .await;
    }
    b.call::<_, R<(), Se>>(&scores, &admin, "retire_model", "retire_model", (model,)).await;
    b.call::<_, R<(), Se>>(&scores, &admin, "propose_admin", "propose_admin", (id(&lab),)).await;
    b.call::<_, R<(), Se>>(&scores, &lab, "accept_admin", "accept_admin", ()).await;
    // Upgrades: scheduling and cancelling (per contract), and an idempotent migrate.
    use ehr_types::api::{MigrationStatus, UpgradeError as Ue};
    for (contract, governance) in [(&registry, &admin), (&records, &admin), (&scores, &lab)] {
        let code_hash: ink::primitives::Hash =
            node.contract_code_hash(&contract.address).await.expect("code hash").expect("a contract").into();
        b.call::<_, R<u32, Ue>>(
            contract,
            governance,
            "schedule_upgrade",
            "Upgradeable::schedule_upgrade",
            (code_hash,),
        )
        .await;
        b.call::<_, R<(), Ue>>(contract, governance, "cancel_upgrade", "Upgradeable::cancel_upgrade", ())
            .await;
        b.call::<_, R<MigrationStatus, Ue>>(contract, &patient, "migrate", "Upgradeable::migrate", (1u32,))
            .await;
    }
    b.call::<_, R<(), Rg>>(&registry, &admin, "propose_admin (again)", "propose_admin", (id(&lab),)).await;
    b.call::<_, R<(), Rg>>(&registry, &lab, "accept_admin", "accept_admin", ()).await;

    // Queries: dry-run weight only (no transaction, no fee).
    let p = id(&patient);
    let q = &mut b.queries;
    q.push(
        query::<_, Option<ehr_types::ProviderInfo>>(
            &node,
            &registry,
            &admin,
            "ProviderDirectory::provider",
            (id(&doctor),),
        )
        .await,
    );
    q.push(
        query::<_, bool>(&node, &registry, &admin, "is_active_provider", (id(&doctor), ProviderRole::Doctor))
            .await,
    );
    q.push(query::<_, AccountId>(&node, &registry, &admin, "ProviderDirectory::admin", ()).await);
    q.push(query::<_, Option<AccountId>>(&node, &registry, &admin, "pending_admin", ()).await);
    q.push(query::<_, u32>(&node, &registry, &admin, "provider_count", ()).await);
    q.push(query::<_, Option<ehr_types::Patient>>(&node, &records, &patient, "patient", (p,)).await);
    q.push(query::<_, u32>(&node, &records, &patient, "patient_count", ()).await);
    q.push(query::<_, AccountId>(&node, &records, &patient, "registry", ()).await);
    q.push(
        query::<_, R<ehr_types::Page<ehr_types::Record>, Re>>(
            &node,
            &records,
            &patient,
            "records",
            (p, 0u32, 10u32),
        )
        .await,
    );
    q.push(
        query::<_, R<ehr_types::Page<ehr_types::Record>, Re>>(
            &node,
            &records,
            &patient,
            "records",
            (p, 0u32, 50u32),
        )
        .await,
    );
    q.push(query::<_, R<ehr_types::Record, Re>>(&node, &records, &patient, "record", (p, 0u32)).await);
    q.push(query::<_, Option<u32>>(&node, &records, &patient, "anchored_record", (p, doc_hash(0))).await);
    q.push(
        query::<_, D>(
            &node,
            &records,
            &patient,
            "ConsentCheck::access_decision",
            (p, id(&oracle), RecordCategory::Summary, ehr_types::AccessMode::Read),
        )
        .await,
    );
    let items: Vec<(AccountId, [u8; 32])> = (10..110).map(|n| (p, doc_hash(n))).collect();
    q.push(
        query::<_, R<Vec<ehr_types::scores::InputCheck>, Re>>(
            &node,
            &records,
            &patient,
            "ConsentCheck::check_inputs",
            (id(&oracle), ProviderRole::Analytics, items),
        )
        .await,
    );
    q.push(
        query::<_, R<ehr_types::Grant, Re>>(&node, &records, &patient, "grant_of", (p, id(&oracle))).await,
    );
    q.push(
        query::<_, R<ehr_types::Page<(AccountId, ehr_types::Grant)>, Re>>(
            &node,
            &records,
            &patient,
            "grants",
            (0u32, 10u32),
        )
        .await,
    );
    q.push(
        query::<_, R<Option<ehr_types::scores::StoredScore>, Se>>(
            &node,
            &scores,
            &patient,
            "latest_score",
            (p, model),
        )
        .await,
    );
    q.push(
        query::<_, Option<ehr_types::scores::SignerInfo>>(
            &node,
            &scores,
            &admin,
            "signer",
            (key.verifying_key().to_bytes(),),
        )
        .await,
    );
    q.push(query::<_, bool>(&node, &scores, &admin, "is_model_approved", (model,)).await);
    q.push(query::<_, (AccountId, AccountId, [u8; 32])>(&node, &scores, &admin, "domain", ()).await);

    let version = std::process::Command::new(
        std::env::var("CONTRACTS_NODE").unwrap_or("substrate-contracts-node".into()),
    )
    .arg("--version")
    .output()
    .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    .unwrap_or_default();
    println!("Measured on {version} at {} (dry-run weights; fees in the chain's smallest unit)", node.url());
    println!(
        "{:<9} {:<30} {:>13} {:>9} {:>14} {:>14} {:>14}",
        "contract", "message", "ref_time", "proof", "deposit", "fee estimate", "fee paid"
    );
    for row in &b.rows {
        println!("{row}");
    }
    println!();
    println!("{:<9} {:<30} {:>13} {:>9}", "contract", "query (dry-run)", "ref_time", "proof");
    for row in &b.queries {
        println!("{row}");
    }
    println!();
    let (block_ref, block_proof) = constant_weight(&node, &["max_block"]);
    let (ext_ref, ext_proof) = constant_weight(&node, &["per_class", "normal", "max_extrinsic"]);
    println!("block weight limit:            ref_time {block_ref:>15}  proof_size {block_proof:>9}");
    println!("normal extrinsic weight limit: ref_time {ext_ref:>15}  proof_size {ext_proof:>9}");
    // The budget the oracle's batches are held to: 100 sealed scores of 100 patients within 5 %
    // of the block's ref_time.
    let share = full_batch.ref_time() as f64 * 100.0 / block_ref as f64;
    println!(
        "submit_scores (100 patients):  ref_time {:>15} = {share:.2} % of the block  proof_size {:>9}",
        full_batch.ref_time(),
        full_batch.proof_size()
    );
    assert!(
        share <= 5.0,
        "a batch of 100 sealed scores takes {share:.2} % of the block's ref_time (budget 5 %)"
    );
    let _: AccountId = id(&admin);
    drop(dev_node);
}
