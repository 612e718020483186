//! Upgrades in place: the first release (`tests/fixtures/v1`, storage version 1) deployed and
//! filled, upgraded to the current code by the chain's root, migrated; every record and grant
//! still there and every message working, the first release's clear-text score no longer
//! readable and purged. Then the current code's own time-locked upgrade path: governance only,
//! the time-lock, cancellation, and a downgrade refused.

use ed25519_dalek::SigningKey;
use ehr_sandbox::{
    ehr::{commitment, doc_hash, report_hash, sign_batch, SANDBOX_CHAIN, UPGRADE_DELAY},
    v1, Contract, Ehr, EhrEvent,
};
use ehr_types::{
    api::{MigrationStatus, UpgradeError, UpgradeState, DEFAULT_UPGRADE_DELAY},
    events::*,
    scores::{LegacyScore, ScoreAttestation, ScoreBand, SignerInfo},
    AccessDecision, AddRecordOutcome, DenialReason, Grant, Page, Patient, ProviderInfo, ProviderRole, Record,
    RecordCategory, RecordsError, Scope, ScoreError, FIRST_REPORT_ID,
};
use ink::primitives::{AccountId, Hash};

const MODEL: [u8; 32] = [0x3c; 32];
const LOCATOR: &[u8] = b"ipfs://bafkreiupgrade";
/// When the first release's score was computed (Unix ms).
const V1_COMPUTED_AT: u64 = 1_718_000_000_000;

/// The storage version each contract's current code migrates to: registry, records, scores.
fn current_version(name: &str) -> u16 {
    match name {
        "risk_scores" => 4,
        "patient_records" => 3,
        _ => 2,
    }
}

/// Everything a user put into the suite, read back through queries both releases share.
#[derive(Debug, PartialEq)]
struct Snapshot {
    patient: Option<Patient>,
    records: Vec<Result<Record, RecordsError>>,
    grants: Result<Page<(AccountId, Grant)>, RecordsError>,
    doctor_grant: Result<Grant, RecordsError>,
    doctor_reads: Vec<Result<Record, RecordsError>>,
    signer: Option<SignerInfo>,
    doctor: Option<ProviderInfo>,
    counts: (u32, u32),
    model_approved: bool,
}

struct Cast {
    oracle: AccountId,
    key: SigningKey,
}

/// A sealed attestation of the current release, its report numbered by its nonce.
fn attestation(patient: AccountId, input: u32, nonce: u64, computed_at: u64) -> ScoreAttestation {
    ScoreAttestation {
        patient,
        model_hash: MODEL,
        input_hash: doc_hash(input),
        commitment: commitment(81_000, 1),
        report_hash: report_hash(nonce as u32),
        computed_at,
        nonce,
    }
}

/// Fills a suite with providers, patients, records (a correction and a provider's record),
/// grants and an accepted score, using only messages the first release has.
fn fill(ehr: &mut Ehr) -> Cast {
    let (admin, patient, other, doctor, lab) =
        (ehr.admin, ehr.patient, ehr.other_patient, ehr.doctor, ehr.lab);
    let oracle = ehr.chain.account("oracle");
    ehr.register_provider(admin, doctor, ProviderRole::Doctor).value.unwrap();
    ehr.register_provider(admin, lab, ProviderRole::Lab).value.unwrap();
    ehr.register_provider(admin, oracle, ProviderRole::Analytics).value.unwrap();
    ehr.register_patient(patient).value.unwrap();
    ehr.register_patient(other).value.unwrap();
    ehr.add_record(patient, patient, RecordCategory::Summary, doc_hash(1), LOCATOR, None).value.unwrap();
    ehr.add_record(patient, patient, RecordCategory::LabResult, doc_hash(2), LOCATOR, None).value.unwrap();
    ehr.add_record(patient, patient, RecordCategory::LabResult, doc_hash(3), LOCATOR, Some(1)).value.unwrap();
    ehr.grant_access(
        patient,
        doctor,
        Scope::read(&[RecordCategory::LabResult, RecordCategory::Summary]),
        Some(10_000),
    )
    .value
    .unwrap();
    ehr.grant_access(patient, lab, Scope::read_write(&[RecordCategory::LabResult]), None).value.unwrap();
    ehr.grant_access(patient, oracle, Scope::read(&[RecordCategory::Summary]), None).value.unwrap();
    let call = ehr.add_record(lab, patient, RecordCategory::LabResult, doc_hash(4), LOCATOR, None);
    assert_eq!(call.value, Ok(AddRecordOutcome::Added(3)));
    let key = SigningKey::from_bytes(&[42; 32]);
    ehr.add_signer(admin, key.verifying_key().to_bytes(), oracle).value.unwrap();
    ehr.approve_model(admin, MODEL).value.unwrap();
    let batch = v1::Batch::one_score(
        (ehr.scores.address, SANDBOX_CHAIN),
        key.verifying_key().to_bytes(),
        (patient, MODEL, doc_hash(1)),
        V1_COMPUTED_AT,
        7,
    );
    let (relayer, scores) = (ehr.stranger, ehr.scores.clone());
    let call: ehr_sandbox::Call<Result<Vec<Result<(), ScoreError>>, ScoreError>> =
        ehr.chain.call(&scores, relayer, "submit_scores", (&batch, v1::sign(&key, &batch)));
    assert_eq!(call.value, Ok(vec![Ok(())]));
    Cast { oracle, key }
}

/// The first release's `latest_score`: the score in the clear.
fn v1_latest_score(ehr: &mut Ehr) -> Result<Option<LegacyScore>, ScoreError> {
    let (patient, scores) = (ehr.patient, ehr.scores.clone());
    ehr.chain.call(&scores, patient, "latest_score", (patient, MODEL)).value
}

fn snapshot(ehr: &mut Ehr) -> Snapshot {
    let (patient, doctor, stranger) = (ehr.patient, ehr.doctor, ehr.stranger);
    let (registry, records) = (ehr.registry.clone(), ehr.records.clone());
    Snapshot {
        patient: ehr.patient_entry(patient),
        // One record at a time: a page of first-release records has no erasure field to decode.
        records: (0..5).map(|id| ehr.record(patient, patient, id).value).collect(),
        grants: ehr.grants_page(patient, 0, 50).value,
        doctor_grant: ehr.grant_of(doctor, patient, doctor).value,
        doctor_reads: (0..5).map(|id| ehr.record(doctor, patient, id).value).collect(),
        signer: ehr.signer_info(SigningKey::from_bytes(&[42; 32]).verifying_key().to_bytes()),
        doctor: ehr.chain.call(&registry, stranger, provider_label(&registry), doctor).value,
        counts: (ehr.chain.call(&records, stranger, "patient_count", ()).value, ehr.provider_count()),
        model_approved: ehr.is_model_approved(MODEL),
    }
}

/// The label of the registry's provider query: `provider` in the first release, a
/// `ProviderDirectory` trait message since.
fn provider_label(registry: &Contract) -> &'static str {
    if std::panic::catch_unwind(|| registry.selector("provider")).is_ok() {
        "provider"
    } else {
        "ProviderDirectory::provider"
    }
}

#[test]
fn first_release_is_upgraded_in_place_and_keeps_every_record_and_grant_but_no_clear_score() {
    let mut ehr = Ehr::deploy_v1();
    let cast = fill(&mut ehr);
    let (patient, stranger) = (ehr.patient, ehr.stranger);
    let before = snapshot(&mut ehr);
    assert_eq!(before.records.iter().filter(|r| r.is_ok()).count(), 4);
    assert_eq!(before.grants.as_ref().unwrap().items.len(), 3);
    let signer = cast.key.verifying_key().to_bytes();
    let v1_score = v1_latest_score(&mut ehr);
    assert!(
        matches!(
            v1_score,
            Ok(Some(LegacyScore { risk_ppm: 81_000, band: ScoreBand::Intermediate, nonce: 7, .. }))
        ),
        "{v1_score:?}"
    );
    assert_eq!(
        v1_score.ok().flatten().map(|s| (s.input_hash, s.computed_at, s.signer)),
        Some((doc_hash(1), V1_COMPUTED_AT, signer))
    );
    // The first release's audit events decode, as the legacy shape, under their own topic.
    let doctor = ehr.doctor;
    let v1_audit = ehr.request_access(doctor, patient, RecordCategory::LabResult).events;
    assert!(
        matches!(v1_audit.as_slice(), [EhrEvent::LegacyAccessRequested(e)] if e.accessor == doctor),
        "{v1_audit:?}"
    );
    let v1_codes: Vec<[u8; 32]> = [&ehr.registry, &ehr.records, &ehr.scores]
        .map(|c| c.clone())
        .iter()
        .map(|c| ehr.chain.code_hash_of(c))
        .collect();

    // The first release has no upgrade message: only the chain's root can switch its code.
    let current_registry = ehr.chain.upload("provider_registry", ehr.admin);
    let registry = ehr.registry.clone();
    let refused = ehr.chain.set_code_as(Some(ehr.admin), &registry, current_registry);
    assert!(refused.unwrap_err().contains("BadOrigin"), "a signed origin cannot set code");

    let migrations = ehr.upgrade_by_root();
    let contracts = [ehr.registry.clone(), ehr.records.clone(), ehr.scores.clone()];
    assert_eq!(migrations.len(), contracts.len());
    for (call, contract) in migrations.iter().zip(&contracts) {
        let to = current_version(&contract.name);
        assert_ok(call, MigrationStatus { from: 1, to, done: true });
        assert_eq!(
            call.events,
            vec![EhrEvent::StorageMigrated(StorageMigrated { from_version: 1, to_version: to })],
            "{}",
            contract.name
        );
    }
    for contract in &contracts {
        let version = current_version(&contract.name);
        assert_eq!(ehr.storage_version(contract), version, "{}", contract.name);
        assert_eq!(ehr.upgrade_state(contract), UpgradeState::new(version, DEFAULT_UPGRADE_DELAY));
        assert!(!v1_codes.contains(&ehr.chain.code_hash_of(contract)), "{} runs the new code", contract.name);
    }
    // Migrating again is a no-op.
    let (registry, scores) = (ehr.registry.clone(), ehr.scores.clone());
    assert_eq!(ehr.migrate(&registry, stranger, 1).value, Ok(MigrationStatus { from: 2, to: 2, done: true }));
    let call = ehr.migrate(&scores, stranger, 1);
    assert_eq!(call.value, Ok(MigrationStatus { from: 4, to: 4, done: true }));
    assert!(call.events.is_empty());

    let after = snapshot(&mut ehr);
    assert_eq!(after, before, "every record and grant is still there");

    // The clear-text score is never read again, and anyone may delete it.
    assert_eq!(ehr.latest_score(patient, patient, MODEL).value, Ok(None));
    crate::assert_err(
        &ehr.purge_legacy_scores(stranger, vec![(patient, MODEL); 65]),
        ScoreError::TooManyKeys,
    );
    let call = ehr.purge_legacy_scores(stranger, vec![(patient, MODEL), (ehr.other_patient, MODEL)]);
    crate::assert_ok(&call, 1, vec![EhrEvent::LegacyScoresPurged(LegacyScoresPurged { count: 1 })]);
    let call = ehr.purge_legacy_scores(stranger, vec![(patient, MODEL)]);
    crate::assert_ok(&call, 0, vec![]);

    every_message_works(&mut ehr, &cast);
}

/// After the upgrade every message of every contract works on the old data.
fn every_message_works(ehr: &mut Ehr, cast: &Cast) {
    let (admin, patient, doctor, lab, stranger, other) =
        (ehr.admin, ehr.patient, ehr.doctor, ehr.lab, ehr.stranger, ehr.other_patient);
    // Registry.
    let newcomer = ehr.chain.account("newcomer");
    assert_eq!(ehr.register_provider(admin, newcomer, ProviderRole::Pharmacy).value, Ok(()));
    assert_eq!(ehr.suspend_provider(admin, newcomer).value, Ok(()));
    assert_eq!(ehr.reinstate_provider(admin, newcomer).value, Ok(()));
    assert_eq!(ehr.provider(doctor).unwrap().suspended_at, None, "first-release entries decode");
    assert_eq!(ehr.registry_admin(), admin);
    // Records: old grants and records in use.
    // The audit chain starts at the upgrade: the first decision after it is link 1.
    let call = ehr.request_access(doctor, patient, RecordCategory::LabResult);
    assert_eq!(call.value, Ok(AccessDecision::Granted));
    assert!(
        matches!(call.events.as_slice(), [EhrEvent::AccessRequested(e)] if e.seq == 1 && e.prev == [0; 32]),
        "{:?}",
        call.events
    );
    assert_eq!(
        ehr.add_record(lab, patient, RecordCategory::LabResult, doc_hash(5), LOCATOR, Some(3)).value,
        Ok(AddRecordOutcome::Added(4)),
        "the lab corrects its own first-release record"
    );
    assert_eq!(
        ehr.add_record(patient, patient, RecordCategory::Summary, doc_hash(6), LOCATOR, None).value,
        Ok(AddRecordOutcome::Added(5))
    );
    assert_eq!(ehr.grant_access(other, doctor, Scope::read(&[RecordCategory::Vitals]), None).value, Ok(()));
    assert_eq!(ehr.revoke_access(patient, lab).value, Ok(()));
    assert_eq!(ehr.grants_page(patient, 0, 50).value.unwrap().items.len(), 2);
    assert_eq!(ehr.grant_of(stranger, patient, doctor).value.unwrap().expires_at, Some(10_000));
    // Scores: the signer's nonce carried over.
    let signer = cast.key.verifying_key().to_bytes();
    let now = ehr.chain.timestamp();
    let batch = ehr.batch(signer, vec![attestation(patient, 7, 7, now)]);
    assert_eq!(
        ehr.submit_score(stranger, &batch, sign_batch(&cast.key, &batch)).value,
        Ok(Err(ScoreError::StaleNonce))
    );
    assert_eq!(
        ehr.add_record(patient, patient, RecordCategory::Summary, doc_hash(7), LOCATOR, None).value,
        Ok(AddRecordOutcome::Added(6))
    );
    // Until the governance names the risk-scores contract, the records contract anchors none of
    // its reports: the whole batch fails and nothing is consumed.
    let batch = ehr.batch(signer, vec![attestation(patient, 7, 8, now)]);
    let signature = sign_batch(&cast.key, &batch);
    let call = ehr.submit_score(stranger, &batch, signature);
    assert_eq!(call.value, Err(ScoreError::ReportNotAnchored));
    assert!(call.reverted);
    assert_eq!(ehr.signer_info(signer).map(|s| s.last_nonce), Some(7), "nothing consumed");
    let scores = ehr.scores.address;
    let call = ehr.set_score_contract(admin, scores);
    crate::assert_ok(&call, (), vec![EhrEvent::ScoreContractSet(ScoreContractSet { contract: scores })]);
    // A sealed score of the new document, its report anchored as the first report record.
    assert_eq!(ehr.submit_score(stranger, &batch, signature).value, Ok(Ok(())));
    let latest = ehr.latest_score(patient, patient, MODEL).value;
    assert_eq!(
        latest.map(|s| s.map(|s| (s.input_hash, s.commitment, s.report_hash, s.report_record, s.nonce))),
        Ok(Some((doc_hash(7), commitment(81_000, 1), report_hash(8), FIRST_REPORT_ID, 8)))
    );
    assert_eq!(ehr.anchored_record(patient, report_hash(8)), Some(FIRST_REPORT_ID));
    // A first-release grant never covered the new `RiskAssessment` category.
    assert_eq!(
        ehr.latest_score(doctor, patient, MODEL).value,
        Err(ScoreError::NoConsent(DenialReason::OutOfScope))
    );
    assert_eq!(ehr.signer_info(signer).unwrap().account, cast.oracle);
    assert_eq!(ehr.approve_model(admin, [1; 32]).value, Ok(()));
    assert_eq!(ehr.scores_admin_call(admin, "propose_admin", Some(doctor)).value, Ok(()));
    assert_eq!(ehr.scores_admin_call(doctor, "accept_admin", None).value, Ok(()));
    assert_eq!(ehr.scores_admin(), doctor);
}

/// The current code's own path: governance only, time-locked, cancellable; a downgrade (here
/// to the first release, which has no `migrate`) is refused and leaves the code as it was.
#[test]
fn upgrades_are_governed_time_locked_and_refuse_a_downgrade() {
    let mut ehr = Ehr::with_cast();
    let (admin, stranger, doctor) = (ehr.admin, ehr.stranger, ehr.doctor);
    let v1_registry = {
        let wasm =
            ehr_sandbox::load_bundle_from(&ehr_sandbox::v1_fixtures_dir().join("provider_registry.contract"))
                .wasm;
        ehr.chain.upload_wasm(wasm, admin)
    };
    for name in ["provider_registry", "patient_records", "risk_scores"] {
        let contract = ehr.contract(name);
        let current = ehr.chain.code_hash_of(&contract);
        let version = current_version(name);
        assert_eq!(ehr.storage_version(&contract), version);
        assert_eq!(ehr.upgrade_state(&contract), UpgradeState::new(version, UPGRADE_DELAY));
        // Governance only (for the records contract: the registry's admin).
        for outsider in [stranger, doctor] {
            let call = ehr.schedule_upgrade(&contract, outsider, current);
            assert_eq!(call.value, Err(UpgradeError::NotGovernance), "{name}");
            assert_eq!(ehr.apply_upgrade(&contract, outsider).value, Err(UpgradeError::NotGovernance));
            assert_eq!(ehr.cancel_upgrade(&contract, outsider).value, Err(UpgradeError::NotGovernance));
        }
        assert_eq!(ehr.apply_upgrade(&contract, admin).value, Err(UpgradeError::NoUpgradeScheduled));
        assert_eq!(ehr.cancel_upgrade(&contract, admin).value, Err(UpgradeError::NoUpgradeScheduled));

        // Scheduled, announced, cancelled.
        let now = ehr.chain.block_number();
        let call = ehr.schedule_upgrade(&contract, admin, current);
        let not_before = now + UPGRADE_DELAY;
        assert_eq!(call.value, Ok(not_before));
        assert_eq!(
            call.events,
            vec![EhrEvent::UpgradeScheduled(UpgradeScheduled { code_hash: Hash::from(current), not_before })]
        );
        assert_eq!(
            ehr.schedule_upgrade(&contract, admin, current).value,
            Err(UpgradeError::UpgradeAlreadyScheduled)
        );
        let call = ehr.cancel_upgrade(&contract, admin);
        assert_eq!(
            call.events,
            vec![EhrEvent::UpgradeCancelled(UpgradeCancelled { code_hash: Hash::from(current) })]
        );

        // Re-applying the current code: waits for the time-lock, then switches and migrates.
        let not_before = ehr.schedule_upgrade(&contract, admin, current).value.unwrap();
        assert_eq!(ehr.apply_upgrade(&contract, admin).value, Err(UpgradeError::TimeLocked(not_before)));
        ehr.chain.advance_blocks(UPGRADE_DELAY);
        let call = ehr.apply_upgrade(&contract, admin);
        assert_eq!(call.value, Ok(MigrationStatus { from: version, to: version, done: true }), "{name}");
        assert!(call.events.contains(&EhrEvent::UpgradeApplied(UpgradeApplied {
            code_hash: Hash::from(current),
            from_version: version,
            to_version: version
        })));

        // A downgrade to the first release's code is refused as a whole.
        let v1 = match name {
            "provider_registry" => v1_registry,
            _ => {
                let fixture = ehr_sandbox::v1_fixtures_dir().join(format!("{name}.contract"));
                let wasm = ehr_sandbox::load_bundle_from(&fixture).wasm;
                ehr.chain.upload_wasm(wasm, admin)
            }
        };
        ehr.schedule_upgrade(&contract, admin, v1).value.unwrap();
        ehr.chain.advance_blocks(UPGRADE_DELAY);
        let call = ehr.apply_upgrade(&contract, admin);
        assert_eq!(call.value, Err(UpgradeError::NewCodeRefused), "{name}");
        assert!(call.reverted);
        assert_eq!(ehr.chain.code_hash_of(&contract), current, "{name} still runs the current code");
        assert_eq!(
            ehr.upgrade_state(&contract).pending.map(|p| p.code_hash),
            Some(Hash::from(v1)),
            "still scheduled"
        );
        ehr.cancel_upgrade(&contract, admin).value.unwrap();
    }
    // Everything still works after the refused downgrades.
    let patient = ehr.patient;
    assert_eq!(
        ehr.add_record(patient, patient, RecordCategory::Vitals, doc_hash(1), LOCATOR, None).value,
        Ok(AddRecordOutcome::Added(0))
    );
    assert_eq!(ehr.provider(doctor).unwrap().role, ProviderRole::Doctor);
}

#[track_caller]
fn assert_ok<T: std::fmt::Debug + PartialEq>(call: &ehr_sandbox::Call<Result<T, UpgradeError>>, value: T) {
    assert_eq!(call.value.as_ref().ok(), Some(&value), "{:?}", call.value);
    assert!(!call.reverted);
}
