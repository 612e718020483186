//! Prints, for every contract message, the weight it consumed (ref_time, proof_size) and the
//! storage deposit it charged, measured in drink against the release artifacts; then each
//! contract's wasm size. Run through `scripts/bench-contracts.sh`.

use ed25519_dalek::SigningKey;
use ehr_sandbox::{
    artifacts_dir,
    ehr::{commitment, doc_hash, report_hash, sign_batch},
    Call, Ehr,
};
use ehr_types::{scores::ScoreAttestation, ProviderRole, RecordCategory, Scope};

struct Row {
    contract: &'static str,
    message: &'static str,
    ref_time: u64,
    proof_size: u64,
    deposit: i128,
}

struct Bench {
    ehr: Ehr,
    rows: Vec<Row>,
}

impl Bench {
    fn row<R: std::fmt::Debug>(&mut self, contract: &'static str, message: &'static str, call: Call<R>) -> R {
        assert!(!call.reverted, "{message} reverted: {:?}", call.value);
        self.rows.push(Row {
            contract,
            message,
            ref_time: call.gas_consumed.ref_time(),
            proof_size: call.gas_consumed.proof_size(),
            deposit: call.storage_deposit,
        });
        call.value
    }
}

const LOCATOR: &[u8] = b"ipfs://bafybeihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku";

fn main() {
    // Unnamed, so that `set_score_contract` is measured below.
    let ehr = Ehr::deploy_unnamed();
    let mut b = Bench { ehr, rows: Vec::new() };
    let (admin, patient, doctor, lab, stranger) =
        (b.ehr.admin, b.ehr.patient, b.ehr.doctor, b.ehr.lab, b.ehr.stranger);
    let (registry, records) = (b.ehr.registry.clone(), b.ehr.records.clone());
    let r = "registry";
    let p = "records";

    // Provider registry.
    let call = b.ehr.register_provider(admin, doctor, ProviderRole::Doctor);
    b.row(r, "register_provider", call).unwrap();
    b.ehr.register_provider(admin, lab, ProviderRole::Lab).value.unwrap();
    let call = b.ehr.suspend_provider(admin, lab);
    b.row(r, "suspend_provider", call).unwrap();
    let call = b.ehr.reinstate_provider(admin, lab);
    b.row(r, "reinstate_provider", call).unwrap();
    let call = b.ehr.propose_admin(admin, stranger);
    b.row(r, "propose_admin", call).unwrap();
    let call = b.ehr.cancel_admin_proposal(admin);
    b.row(r, "cancel_admin_proposal", call).unwrap();
    b.ehr.propose_admin(admin, stranger).value.unwrap();
    let call = b.ehr.accept_admin(stranger);
    b.row(r, "accept_admin", call).unwrap();
    let call = b.ehr.chain.call::<_, Option<ehr_types::ProviderInfo>>(
        &registry,
        stranger,
        "ProviderDirectory::provider",
        doctor,
    );
    b.row(r, "provider", call);
    let call = b.ehr.chain.call::<_, bool>(
        &registry,
        stranger,
        "is_active_provider",
        (doctor, ProviderRole::Doctor),
    );
    b.row(r, "is_active_provider", call);
    let call = b.ehr.set_provider_key(doctor, [1; 32]);
    b.row(r, "set_encryption_key", call).unwrap();
    let call = b.ehr.chain.call::<_, ink::primitives::AccountId>(
        &registry,
        stranger,
        "ProviderDirectory::admin",
        (),
    );
    b.row(r, "admin", call);
    let call = b.ehr.chain.call::<_, u32>(&registry, stranger, "provider_count", ());
    b.row(r, "provider_count", call);

    // Patient records.
    let call = b.ehr.register_patient(patient);
    b.row(p, "register_patient", call).unwrap();
    let call = b.ehr.set_profile_commitment(patient, Some(doc_hash(99)));
    b.row(p, "set_profile_commitment", call).unwrap();
    let call = b.ehr.set_patient_key(patient, [2; 32]);
    b.row(p, "set_encryption_key", call).unwrap();
    let call = b.ehr.add_record(patient, patient, RecordCategory::LabResult, doc_hash(1), LOCATOR, None);
    b.row(p, "add_record (patient)", call).unwrap();
    let call = b.ehr.add_record(patient, patient, RecordCategory::LabResult, doc_hash(2), LOCATOR, Some(0));
    b.row(p, "add_record (correction)", call).unwrap();
    let call = b.ehr.grant_access(patient, doctor, Scope::read(&[RecordCategory::LabResult]), None);
    b.row(p, "grant_access (new)", call).unwrap();
    let call =
        b.ehr.grant_access(patient, doctor, Scope::read_write(&[RecordCategory::LabResult]), Some(1_000));
    b.row(p, "grant_access (replace)", call).unwrap();
    let call = b.ehr.add_record(doctor, patient, RecordCategory::LabResult, doc_hash(3), LOCATOR, None);
    b.row(p, "add_record (provider)", call).unwrap();
    let call = b.ehr.add_record(lab, patient, RecordCategory::LabResult, doc_hash(4), LOCATOR, None);
    b.row(p, "add_record (denied, audited)", call).unwrap();
    let call = b.ehr.request_access(doctor, patient, RecordCategory::LabResult);
    b.row(p, "request_access (granted)", call).unwrap();
    let call = b.ehr.request_access(lab, patient, RecordCategory::LabResult);
    b.row(p, "request_access (denied)", call).unwrap();
    for n in 10..60 {
        b.ehr
            .add_record(patient, patient, RecordCategory::LabResult, doc_hash(n), LOCATOR, None)
            .value
            .unwrap();
    }
    let call = b.ehr.records_page(doctor, patient, 0, 10);
    b.row(p, "records (provider, 10)", call).unwrap();
    let call = b.ehr.records_page(doctor, patient, 0, 50);
    b.row(p, "records (provider, 50)", call).unwrap();
    let call = b.ehr.record(doctor, patient, 0);
    b.row(p, "record", call).unwrap();
    let call =
        b.ehr.chain.call::<_, Option<u32>>(&records, stranger, "anchored_record", (patient, doc_hash(1)));
    b.row(p, "anchored_record", call);
    let call = b.ehr.grant_of(doctor, patient, doctor);
    b.row(p, "grant_of", call).unwrap();
    let call = b.ehr.grants_page(patient, 0, 10);
    b.row(p, "grants (1 of 10)", call).unwrap();
    let call = b.ehr.revoke_access(patient, doctor);
    b.row(p, "revoke_access", call).unwrap();
    let call = b.ehr.chain.call::<_, Option<ehr_types::Patient>>(&records, stranger, "patient", patient);
    b.row(p, "patient", call);
    let call = b.ehr.chain.call::<_, u32>(&records, stranger, "patient_count", ());
    b.row(p, "patient_count", call);
    let call = b.ehr.chain.call::<_, ehr_types::audit::AuditHead>(&records, stranger, "audit_head", patient);
    b.row(p, "audit_head", call);

    // Emergency access: an auditor, a case, a read under it, a review, 32 overdue cases raised.
    use ehr_types::emergency::{EmergencyPolicy, EmergencyPurpose, ReviewReason, ReviewVerdict};
    let (auditor, admin) = (b.ehr.auditor, b.ehr.registry_admin());
    b.ehr.register_provider(admin, auditor, ProviderRole::Auditor).value.unwrap();
    let call = b.ehr.open_emergency(doctor, patient, EmergencyPurpose::Etreat, 1);
    b.row(p, "open_emergency", call).unwrap();
    let call = b.ehr.request_access(doctor, patient, RecordCategory::Allergy);
    b.row(p, "request_access (emergency)", call).unwrap();
    let call = b.ehr.review_emergency(auditor, 0, ReviewVerdict::Accepted, ReviewReason::EmergencyDocumented);
    b.row(p, "review_emergency", call).unwrap();
    let policy = EmergencyPolicy { max_blocks: 1, review_blocks: 1 };
    let call = b.ehr.set_emergency_policy(admin, policy);
    b.row(p, "set_emergency_policy", call).unwrap();
    for _ in 0..32 {
        b.ehr.chain.advance_blocks(1);
        b.ehr.open_emergency(doctor, patient, EmergencyPurpose::Etreat, 1).value.unwrap();
    }
    b.ehr.chain.advance_blocks(3);
    let call = b.ehr.raise_overdue(stranger, 32);
    // Case 0 is reviewed: 32 cases examined, 31 raised.
    let (raised, _) = b.row(p, "raise_overdue (32 cases)", call).unwrap();
    assert_eq!(raised, 31);
    let call = b.ehr.emergencies(0, 50, true);
    assert!(call.is_ok());

    // Risk scores: an oracle with a key, an approved model, 100 consenting patients.
    let s = "scores";
    let oracle = b.ehr.chain.account("oracle");
    let admin = b.ehr.registry_admin();
    b.ehr.register_provider(admin, oracle, ProviderRole::Analytics).value.unwrap();
    let scores = b.ehr.scores.address;
    let call = b.ehr.set_score_contract(admin, scores);
    b.row(p, "set_score_contract", call).unwrap();
    let call =
        b.ehr.chain.call::<_, Option<ink::primitives::AccountId>>(&records, stranger, "score_contract", ());
    b.row(p, "score_contract", call);
    let key = SigningKey::from_bytes(&[42; 32]);
    let signer = key.verifying_key().to_bytes();
    let score_admin = b.ehr.admin;
    let call = b.ehr.add_signer(score_admin, signer, oracle);
    b.row(s, "add_signer", call).unwrap();
    let model = [0x3c; 32];
    let call = b.ehr.approve_model(score_admin, model);
    b.row(s, "approve_model", call).unwrap();
    let mut patients = Vec::new();
    for i in 0..100u32 {
        let patient = b.ehr.chain.account(&format!("scored patient {i}"));
        b.ehr.register_patient(patient).value.unwrap();
        b.ehr
            .add_record(patient, patient, RecordCategory::Summary, doc_hash(5_000 + i), LOCATOR, None)
            .value
            .unwrap();
        b.ehr.grant_access(patient, oracle, Scope::read(&[RecordCategory::Summary]), None).value.unwrap();
        patients.push((patient, doc_hash(5_000 + i)));
    }
    let mut nonce = 0u64;
    let mut batch_of = |b: &mut Bench, size: usize| {
        let attestations = patients[..size]
            .iter()
            .map(|(patient, input_hash)| {
                nonce += 1;
                ScoreAttestation {
                    patient: *patient,
                    model_hash: model,
                    input_hash: *input_hash,
                    commitment: commitment(53_800, 1),
                    report_hash: report_hash(nonce as u32),
                    computed_at: 1_718_000_000_000,
                    nonce,
                }
            })
            .collect();
        let batch = b.ehr.batch(signer, attestations);
        (sign_batch(&key, &batch), batch)
    };
    let (signature, batch) = batch_of(&mut b, 1);
    let call = b.ehr.submit_score(stranger, &batch, signature);
    b.row(s, "submit_score", call).unwrap().unwrap();
    // Large batches need more than drink's default call limit (100·10⁹ ref_time).
    b.ehr.set_gas_limit(2_000_000_000_000, 16 * 1024 * 1024);
    for (size, label) in [
        (1, "submit_scores (batch of 1)"),
        (10, "submit_scores (batch of 10)"),
        (100, "submit_scores (batch of 100)"),
    ] {
        let (signature, batch) = batch_of(&mut b, size);
        let call = b.ehr.submit_scores(stranger, &batch, signature);
        let outcomes = b.row(s, label, call).unwrap();
        assert!(outcomes.iter().all(|o| o.is_ok()), "{outcomes:?}");
    }
    let first = patients[0].0;
    let call = b.ehr.latest_score(first, first, model);
    b.row(s, "latest_score", call).unwrap();
    let keys = patients[..64].iter().map(|(patient, _)| (*patient, model)).collect();
    let call = b.ehr.purge_legacy_scores(stranger, keys);
    b.row(s, "purge_legacy_scores (64 keys)", call).unwrap();

    // Audit alerts: a batch of 64 under one signature, one acknowledged.
    use ehr_types::alerts::{AlertReason, AlertReasons, AuditAlert};
    let alerts = (0..64u8)
        .map(|i| AuditAlert {
            accessor: ink::primitives::AccountId::from([i; 32]),
            window_start_ms: 1_700_000_000_000,
            window_end_ms: 1_700_604_800_000,
            score_bucket: 7,
            reasons: AlertReasons::of(&[AlertReason::Outsiders]),
        })
        .collect();
    let batch = b.ehr.alert_batch(signer, 1, alerts);
    let call = b.ehr.submit_alerts(stranger, &batch, ehr_sandbox::ehr::sign_alerts(&key, &batch));
    b.row(s, "submit_alerts (64 alerts)", call).unwrap();
    let call = b.ehr.acknowledge_alert(auditor, 0);
    b.row(s, "acknowledge_alert", call).unwrap();

    println!("Gas per message, measured in drink (pallet-contracts 31) against the release artifacts");
    println!("{:<9} {:<30} {:>15} {:>11} {:>9}", "contract", "message", "ref_time", "proof_size", "deposit");
    for row in &b.rows {
        println!(
            "{:<9} {:<30} {:>15} {:>11} {:>9}",
            row.contract, row.message, row.ref_time, row.proof_size, row.deposit
        );
    }
    println!();
    println!("Wasm size (bytes), {}", artifacts_dir().display());
    for name in ["provider_registry", "patient_records", "risk_scores"] {
        let path = artifacts_dir().join(format!("{name}.wasm"));
        let size = std::fs::metadata(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())).len();
        println!("{name:<20} {size:>8}");
    }
}
