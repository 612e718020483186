//! Upgrades in place on a real node: the first release (`tests/fixtures/v1`) deployed, filled
//! and upgraded by the chain's root (`Sudo::sudo(Contracts::set_code)`), then migrated; and the
//! current release's own time-locked upgrade, with a downgrade refused.

use ed25519_dalek::SigningKey;
use ehr_client::{deploy, ContractRef, Keypair, Node};
use ehr_sandbox::{
    ehr::{commitment, doc_hash, report_hash, sign_batch},
    v1,
};
use ehr_types::{
    api::{MigrationStatus, UpgradeError},
    events::*,
    scores::{AttestationBatch, LegacyScore, ScoreAttestation, SignerInfo, StoredScore},
    AccessDecision, AddRecordOutcome, Grant, ProviderRole, Record, RecordCategory, RecordsError, Scope,
    ScoreError,
};
use ink::primitives::Hash;

use crate::{id, start_node, work_dir, Cast, Suite, UPGRADE_DELAY};

const MODEL: [u8; 32] = [0x3c; 32];
const LOCATOR: &[u8] = b"ipfs://bafkreiupgrade";

fn now_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as u64
}

async fn submit<A: ink::scale::Encode, R: ink::scale::Decode>(
    node: &Node,
    contract: &ContractRef,
    signer: &Keypair,
    message: &str,
    args: A,
) -> ehr_client::Submitted<R> {
    node.submit(contract, signer, message, &args)
        .await
        .unwrap_or_else(|err| panic!("{}::{message}: {err:#}", contract.name))
}

async fn query<A: ink::scale::Encode, R: ink::scale::Decode>(
    node: &Node,
    contract: &ContractRef,
    caller: &Keypair,
    message: &str,
    args: A,
) -> R {
    node.dry_run(contract, &id(caller), message, &args)
        .await
        .unwrap_or_else(|err| panic!("{}::{message}: {err:#}", contract.name))
        .value
}

/// What the patient, its doctor and the oracle put on chain, read back.
#[derive(Debug, PartialEq)]
struct Snapshot {
    records: Vec<Result<Record, RecordsError>>,
    grant: Result<Grant, RecordsError>,
    signer: Option<SignerInfo>,
}

async fn snapshot(
    node: &Node,
    c: &Cast,
    records: &ContractRef,
    scores: &ContractRef,
    key: &SigningKey,
) -> Snapshot {
    let patient = id(&c.patient);
    Snapshot {
        // One record at a time: a page of first-release records has no erasure field to decode.
        records: {
            let mut all = Vec::new();
            for id in 0..4u32 {
                all.push(query(node, records, &c.patient, "record", (patient, id)).await);
            }
            all
        },
        grant: query(node, records, &c.patient, "grant_of", (patient, id(&c.doctor))).await,
        signer: query(node, scores, &c.patient, "signer", (key.verifying_key().to_bytes(),)).await,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn first_release_on_a_node_is_upgraded_in_place_by_root_and_keeps_everything() {
    let dir = work_dir("upgrade-v1");
    let (_dev_node, node) = start_node(&dir).await;
    let c = Cast::dev();
    let v1 = ehr_sandbox::v1_fixtures_dir();
    let mut log = Vec::new();
    let salt = b"first release".to_vec();
    let registry = deploy::instantiate(&node, &v1, &c.admin, "provider_registry", vec![], &salt, &mut log)
        .await
        .expect("registry v1");
    let records = deploy::instantiate(
        &node,
        &v1,
        &c.admin,
        "patient_records",
        vec![registry.address.clone()],
        &salt,
        &mut log,
    )
    .await
    .expect("records v1");
    let chain = format!("0x{}", hex::encode(node.genesis_hash()));
    let scores = deploy::instantiate(
        &node,
        &v1,
        &c.admin,
        "risk_scores",
        vec![records.address.clone(), chain],
        &salt,
        &mut log,
    )
    .await
    .expect("scores v1");
    let load = |dir: &std::path::Path, name: &str, address: &str| {
        ContractRef::load(dir, name, ehr_client::parse_account(address).unwrap()).unwrap()
    };
    let (registry, records, scores) = (
        load(&v1, "provider_registry", &registry.address),
        load(&v1, "patient_records", &records.address),
        load(&v1, "risk_scores", &scores.address),
    );

    // Fill it with the first release's own messages.
    let (patient, doctor, oracle) = (id(&c.patient), id(&c.doctor), id(&c.oracle));
    let ok = |r: &Result<(), ehr_types::RegistryError>| assert_eq!(r, &Ok(()));
    ok(submit(&node, &registry, &c.admin, "register_provider", (doctor, ProviderRole::Doctor)).await.value());
    ok(submit(&node, &registry, &c.admin, "register_provider", (oracle, ProviderRole::Analytics))
        .await
        .value());
    let r: ehr_client::Submitted<Result<(), RecordsError>> =
        submit(&node, &records, &c.patient, "register_patient", ()).await;
    assert_eq!(r.value(), &Ok(()));
    for (n, category, supersedes) in [
        (1, RecordCategory::Summary, None),
        (2, RecordCategory::LabResult, None),
        (3, RecordCategory::LabResult, Some(1u32)),
    ] {
        let r: ehr_client::Submitted<Result<AddRecordOutcome, RecordsError>> = submit(
            &node,
            &records,
            &c.patient,
            "add_record",
            (patient, category, doc_hash(n), LOCATOR.to_vec(), supersedes),
        )
        .await;
        assert!(matches!(r.value(), Ok(AddRecordOutcome::Added(_))), "{:?}", r.value());
    }
    for (provider, scope) in [
        (doctor, Scope::read(&[RecordCategory::Summary, RecordCategory::LabResult])),
        (oracle, Scope::read(&[RecordCategory::Summary])),
    ] {
        let r: ehr_client::Submitted<Result<(), RecordsError>> =
            submit(&node, &records, &c.patient, "grant_access", (provider, scope, None::<u32>)).await;
        assert_eq!(r.value(), &Ok(()));
    }
    let key = SigningKey::from_bytes(&[42; 32]);
    let r: ehr_client::Submitted<Result<(), ScoreError>> =
        submit(&node, &scores, &c.admin, "add_signer", (key.verifying_key().to_bytes(), oracle)).await;
    assert_eq!(r.value(), &Ok(()));
    let r: ehr_client::Submitted<Result<(), ScoreError>> =
        submit(&node, &scores, &c.admin, "approve_model", (MODEL,)).await;
    assert_eq!(r.value(), &Ok(()));
    // The first release's score: the risk in the clear, signed under its own domain tag.
    let first = v1::Batch::one_score(
        (scores.address, node.genesis_hash()),
        key.verifying_key().to_bytes(),
        (patient, MODEL, doc_hash(1)),
        now_ms(),
        5,
    );
    let r: ehr_client::Submitted<Result<Vec<Result<(), ScoreError>>, ScoreError>> =
        submit(&node, &scores, &c.oracle, "submit_scores", (first.clone(), v1::sign(&key, &first))).await;
    assert_eq!(r.value(), &Ok(vec![Ok(())]));
    let legacy: Result<Option<LegacyScore>, ScoreError> =
        query(&node, &scores, &c.patient, "latest_score", (patient, MODEL)).await;
    assert_eq!(legacy.unwrap().map(|l| l.risk_ppm), Some(81_000), "the first release keeps it in the clear");
    let before = snapshot(&node, &c, &records, &scores, &key).await;
    assert_eq!(before.records.iter().filter(|r| r.is_ok()).count(), 3);

    // Only the chain's root can switch a first-release contract's code.
    let current = ehr_sandbox::artifacts_dir();
    let registry_code =
        deploy::upload(&node, &current, &c.admin, "provider_registry", &mut log).await.unwrap();
    let refused = node.signed_set_code(&c.admin, &registry.address, registry_code).await;
    let refusal = format!("{:#}", refused.expect_err("a signed set_code is refused"));
    assert!(refusal.contains("Bad origin"), "{refusal}");

    let mut upgraded = Vec::new();
    for contract in [&registry, &records, &scores] {
        let code = deploy::upload(&node, &current, &c.admin, &contract.name, &mut log).await.unwrap();
        node.sudo_set_code(&c.admin, &contract.address, code).await.expect("sudo set_code");
        let contract = ContractRef::load(&current, &contract.name, contract.address).unwrap();
        let migrated: ehr_client::Submitted<Result<MigrationStatus, UpgradeError>> =
            submit(&node, &contract, &c.other_patient, "Upgradeable::migrate", (1u32,)).await;
        // The scores' storage is sealed from version 3 on and holds alerts from 4; the records'
        // has the audit chain and emergency access from 3; the registry's layout stays at 2.
        let to = match contract.name.as_str() {
            "risk_scores" => 4,
            "patient_records" => 3,
            _ => 2,
        };
        assert_eq!(migrated.value(), &Ok(MigrationStatus { from: 1, to, done: true }));
        assert_eq!(
            migrated.events(),
            &[ehr_client::EhrEvent::StorageMigrated(StorageMigrated { from_version: 1, to_version: to })]
        );
        let state: ehr_types::api::UpgradeState =
            query(&node, &contract, &c.patient, "Upgradeable::upgrade_state", ()).await;
        assert_eq!(state, ehr_types::api::UpgradeState::new(to, ehr_types::api::DEFAULT_UPGRADE_DELAY));
        upgraded.push(contract);
    }
    let (registry, records, scores) = (upgraded[0].clone(), upgraded[1].clone(), upgraded[2].clone());
    assert_eq!(snapshot(&node, &c, &records, &scores, &key).await, before, "everything is still there");

    // The clear-text score is no longer readable, and anyone purges it from the current state.
    let sealed: Result<Option<StoredScore>, ScoreError> =
        query(&node, &scores, &c.patient, "latest_score", (patient, MODEL)).await;
    assert_eq!(sealed, Ok(None));
    // The keys come from the first release's `ScoreAccepted` events (`ehr admin purge-legacy-scores`).
    let purged = ehr_cli::purge_legacy_scores(&node, &scores, &c.other_patient, 0, None).await.unwrap();
    assert_eq!(purged, (1, 1), "one key found in the old events, one clear-text score deleted");
    let again = ehr_cli::purge_legacy_scores(&node, &scores, &c.other_patient, 0, None).await.unwrap();
    assert_eq!(again, (1, 0), "nothing left");
    // Sealed scores need the records contract to know the scores contract.
    let named: ehr_client::Submitted<Result<(), RecordsError>> =
        submit(&node, &records, &c.admin, "set_score_contract", (scores.address,)).await;
    assert_eq!(named.value(), &Ok(()));

    // Every kind of message works on the old data.
    let decision: ehr_client::Submitted<Result<AccessDecision, RecordsError>> =
        submit(&node, &records, &c.doctor, "request_access", (patient, RecordCategory::LabResult)).await;
    assert_eq!(decision.value(), &Ok(AccessDecision::Granted));
    let r: ehr_client::Submitted<Result<AddRecordOutcome, RecordsError>> = submit(
        &node,
        &records,
        &c.patient,
        "add_record",
        (patient, RecordCategory::Summary, doc_hash(4), LOCATOR.to_vec(), Some(0u32)),
    )
    .await;
    assert_eq!(r.value(), &Ok(AddRecordOutcome::Added(3)));
    let second = AttestationBatch {
        contract: scores.address,
        chain: node.genesis_hash(),
        signer: key.verifying_key().to_bytes(),
        attestations: vec![ScoreAttestation {
            patient,
            model_hash: MODEL,
            input_hash: doc_hash(4),
            commitment: commitment(81_000, 6),
            report_hash: report_hash(6),
            computed_at: now_ms(),
            nonce: 6,
        }],
    };
    let r: ehr_client::Submitted<Result<Result<(), ScoreError>, ScoreError>> =
        submit(&node, &scores, &c.oracle, "submit_score", (second.clone(), sign_batch(&key, &second))).await;
    assert_eq!(r.value(), &Ok(Ok(())));
    // The doctor's first-release grant covers no `RiskAssessment`: the score is the patient's.
    let latest: Result<Option<StoredScore>, ScoreError> =
        query(&node, &scores, &c.doctor, "latest_score", (patient, MODEL)).await;
    assert_eq!(latest, Err(ScoreError::NoConsent(ehr_types::DenialReason::OutOfScope)));
    let latest: Result<Option<StoredScore>, ScoreError> =
        query(&node, &scores, &c.patient, "latest_score", (patient, MODEL)).await;
    let latest = latest.unwrap().unwrap();
    assert_eq!(
        (latest.input_hash, latest.report_record),
        (doc_hash(4), ehr_types::FIRST_REPORT_ID),
        "sealed, its report anchored"
    );
    let info: Option<ehr_types::ProviderInfo> =
        query(&node, &registry, &c.patient, "ProviderDirectory::provider", (doctor,)).await;
    assert_eq!(info.map(|i| (i.role, i.suspended_at)), Some((ProviderRole::Doctor, None)));
    // From now on upgrades go through governance: anyone else is refused.
    for contract in [&registry, &records, &scores] {
        let refused: ehr_client::Submitted<Result<u32, UpgradeError>> =
            submit(&node, contract, &c.patient, "Upgradeable::schedule_upgrade", (Hash::from([1; 32]),))
                .await;
        assert_eq!(refused.value(), &Err(UpgradeError::NotGovernance));
        assert!(refused.included.is_none());
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn current_release_upgrades_itself_after_its_time_lock_and_refuses_a_downgrade() {
    let dir = work_dir("upgrade-v2");
    let s = Suite::deploy(&dir).await;
    let c = &s.cast;
    let mut log = Vec::new();
    let v1_registry =
        deploy::upload(&s.node, &ehr_sandbox::v1_fixtures_dir(), &c.admin, "provider_registry", &mut log)
            .await
            .unwrap();
    let current = s.node.contract_code_hash(&s.registry.address).await.unwrap().unwrap();

    let scheduled: ehr_client::Submitted<Result<u32, UpgradeError>> =
        s.submit(&s.registry, &c.admin, "Upgradeable::schedule_upgrade", (Hash::from(current),)).await;
    let not_before = match scheduled.events() {
        [ehr_client::EhrEvent::UpgradeScheduled(e)] => e.not_before,
        other => panic!("expected UpgradeScheduled, got {other:?}"),
    };
    let early: ehr_client::Submitted<Result<MigrationStatus, UpgradeError>> =
        s.submit(&s.registry, &c.admin, "Upgradeable::apply_upgrade", ()).await;
    assert_eq!(early.value(), &Err(UpgradeError::TimeLocked(not_before)));
    next_blocks(&s, UPGRADE_DELAY).await;
    let applied: ehr_client::Submitted<Result<MigrationStatus, UpgradeError>> =
        s.submit(&s.registry, &c.admin, "Upgradeable::apply_upgrade", ()).await;
    assert_eq!(applied.value(), &Ok(MigrationStatus { from: 2, to: 2, done: true }));
    assert!(applied.events().iter().any(|e| matches!(e, ehr_client::EhrEvent::UpgradeApplied(_))));

    // A downgrade to the first release is refused by the chain as a whole.
    let scheduled: ehr_client::Submitted<Result<u32, UpgradeError>> =
        s.submit(&s.registry, &c.admin, "Upgradeable::schedule_upgrade", (Hash::from(v1_registry),)).await;
    assert!(scheduled.value().is_ok());
    next_blocks(&s, UPGRADE_DELAY).await;
    let refused: ehr_client::Submitted<Result<MigrationStatus, UpgradeError>> =
        s.submit(&s.registry, &c.admin, "Upgradeable::apply_upgrade", ()).await;
    assert_eq!(refused.value(), &Err(UpgradeError::NewCodeRefused));
    assert!(refused.included.is_none());
    assert_eq!(s.node.contract_code_hash(&s.registry.address).await.unwrap(), Some(current));
    let info: Option<ehr_types::ProviderInfo> =
        s.query(&s.registry, &c.patient, "ProviderDirectory::provider", (id(&c.admin),)).await.value;
    assert_eq!(info, None, "the registry still answers");
}

/// Seals `n` blocks (the dev node seals one per transaction).
async fn next_blocks(s: &Suite, n: u32) {
    for _ in 0..n {
        s.node.transfer(&s.cast.admin, &id(&s.cast.other_patient), 1_000_000_000).await.unwrap();
    }
}
