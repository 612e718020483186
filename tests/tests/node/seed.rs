//! The seed paper's six steps on a real node, with the weight and fee of every message.

use std::fmt::Write as _;

use ehr_client::Submitted;

use ehr_sandbox::ehr::doc_hash;
use ehr_types::{
    events::*, AccessDecision, AccessMode, AddRecordOutcome, DenialReason, Grant, Page, Patient,
    ProviderInfo, ProviderRole, ProviderStatus, Record, RecordCategory, RecordsError, RegistryError, Scope,
};

use crate::{assert_included, assert_refused, id, work_dir, EhrEvent, Suite};

const LOCATOR: &[u8] = b"vault://0001";

/// One measured call: what the dry-run asked for and what the inclusion cost.
struct Measured {
    contract: &'static str,
    message: &'static str,
    ref_time: u64,
    proof_size: u64,
    deposit: i128,
    fee_estimate: u128,
    fee_paid: u128,
}

fn measure<R>(table: &mut Vec<Measured>, contract: &'static str, message: &'static str, call: &Submitted<R>) {
    let included = call.included.as_ref().expect("measured calls are included");
    table.push(Measured {
        contract,
        message,
        ref_time: call.dry_run.gas_required.ref_time(),
        proof_size: call.dry_run.gas_required.proof_size(),
        deposit: call.dry_run.storage_deposit,
        fee_estimate: included.fee_estimate,
        fee_paid: included.fee_paid,
    });
}

#[tokio::test(flavor = "multi_thread")]
async fn seed_steps_with_signed_extrinsics_from_dev_accounts() {
    let dir = work_dir("seed");
    let s = Suite::deploy(&dir).await;
    let c = &s.cast;
    let (patient, doctor, other_doctor) = (id(&c.patient), id(&c.doctor), id(&c.other_doctor));
    let mut table = Vec::new();

    // 1. Register the patient (once).
    let call = s.submit(&s.records, &c.patient, "register_patient", ()).await;
    assert_included(
        &call,
        Ok::<(), RecordsError>(()),
        vec![EhrEvent::PatientRegistered(PatientRegistered { patient })],
    );
    measure(&mut table, "records", "register_patient", &call);
    let again = s.submit::<_, Result<(), RecordsError>>(&s.records, &c.patient, "register_patient", ()).await;
    assert_refused(&again, RecordsError::PatientAlreadyExists);
    let entry: Option<Patient> = s.query(&s.records, &c.patient, "patient", (patient,)).await.value;
    assert_eq!(entry.map(|p| p.record_count), Some(0));

    // 2. Register the doctor: the admin only.
    let refused = s
        .submit::<_, Result<(), RegistryError>>(
            &s.registry,
            &c.patient,
            "register_provider",
            (doctor, ProviderRole::Doctor),
        )
        .await;
    assert_refused(&refused, RegistryError::NotAdmin);
    let call = s.submit(&s.registry, &c.admin, "register_provider", (doctor, ProviderRole::Doctor)).await;
    assert_included(
        &call,
        Ok::<(), RegistryError>(()),
        vec![EhrEvent::ProviderRegistered(ProviderRegistered {
            provider: doctor,
            role: ProviderRole::Doctor,
        })],
    );
    measure(&mut table, "registry", "register_provider", &call);
    let info: Option<ProviderInfo> =
        s.query(&s.registry, &c.admin, "ProviderDirectory::provider", (doctor,)).await.value;
    assert_eq!(info.map(|i| (i.role, i.status)), Some((ProviderRole::Doctor, ProviderStatus::Active)));

    // 3. Add a medical record: only a registered patient (or a provider with write access).
    let refused = s
        .submit::<_, Result<AddRecordOutcome, RecordsError>>(
            &s.records,
            &c.other_patient,
            "add_record",
            (id(&c.other_patient), RecordCategory::LabResult, doc_hash(1), LOCATOR.to_vec(), None::<u32>),
        )
        .await;
    assert_refused(&refused, RecordsError::PatientNotRegistered);
    let call = s
        .submit(
            &s.records,
            &c.patient,
            "add_record",
            (patient, RecordCategory::LabResult, doc_hash(1), LOCATOR.to_vec(), None::<u32>),
        )
        .await;
    assert_included(
        &call,
        Ok::<_, RecordsError>(AddRecordOutcome::Added(0)),
        vec![EhrEvent::RecordAdded(RecordAdded {
            patient,
            record_id: 0,
            category: RecordCategory::LabResult,
            content_hash: doc_hash(1),
            author: patient,
            supersedes: None,
        })],
    );
    measure(&mut table, "records", "add_record (patient)", &call);

    // A doctor without a grant: denied, and the denial is audited on chain.
    let call = s.submit(&s.records, &c.doctor, "request_access", (patient, RecordCategory::LabResult)).await;
    let denied = AccessDecision::Denied(DenialReason::NoGrant);
    assert_included(
        &call,
        Ok::<_, RecordsError>(denied),
        vec![EhrEvent::AccessRequested(AccessRequested {
            patient,
            accessor: doctor,
            category: RecordCategory::LabResult,
            mode: AccessMode::Read,
            decision: denied,
            emergency: false,
            // The chart's first audited decision.
            seq: 1,
            prev: [0; 32],
        })],
    );
    measure(&mut table, "records", "request_access (denied, audited)", &call);

    // 4. Grant access: the patient to a registered doctor only.
    let scope = Scope::read_write(&[RecordCategory::LabResult]);
    let refused = s
        .submit::<_, Result<(), RecordsError>>(
            &s.records,
            &c.patient,
            "grant_access",
            (other_doctor, scope, None::<u32>),
        )
        .await;
    assert_refused(&refused, RecordsError::ProviderNotRegistered);
    let call: Submitted<Result<(), RecordsError>> =
        s.submit(&s.records, &c.patient, "grant_access", (doctor, scope, None::<u32>)).await;
    assert_eq!(call.value(), &Ok::<(), RecordsError>(()));
    assert!(
        matches!(call.events(), [EhrEvent::AccessGranted(g)] if g.patient == patient && g.provider == doctor)
    );
    measure(&mut table, "records", "grant_access", &call);
    let grant: Result<Grant, RecordsError> =
        s.query(&s.records, &c.patient, "grant_of", (patient, doctor)).await.value;
    assert_eq!(grant.map(|g| g.scope), Ok(scope));

    let call: Submitted<Result<AccessDecision, RecordsError>> =
        s.submit(&s.records, &c.doctor, "request_access", (patient, RecordCategory::LabResult)).await;
    assert_eq!(call.value(), &Ok::<_, RecordsError>(AccessDecision::Granted));
    measure(&mut table, "records", "request_access (granted)", &call);
    let call: Submitted<Result<AddRecordOutcome, RecordsError>> = s
        .submit(
            &s.records,
            &c.doctor,
            "add_record",
            (patient, RecordCategory::LabResult, doc_hash(2), LOCATOR.to_vec(), None::<u32>),
        )
        .await;
    assert_eq!(call.value(), &Ok::<_, RecordsError>(AddRecordOutcome::Added(1)));
    assert_eq!(call.events().len(), 2, "the provider write is audited: {:?}", call.events());
    measure(&mut table, "records", "add_record (provider)", &call);

    // 5. View records: the patient and the granted doctor; not the other doctor.
    let page: Result<Page<Record>, RecordsError> =
        s.query(&s.records, &c.doctor, "records", (patient, 0u32, 10u32)).await.value;
    let hashes: Vec<_> = page.unwrap().items.iter().map(|r| r.content_hash).collect();
    assert_eq!(hashes, vec![doc_hash(1), doc_hash(2)]);
    let page: Result<Page<Record>, RecordsError> =
        s.query(&s.records, &c.other_doctor, "records", (patient, 0u32, 10u32)).await.value;
    assert_eq!(page.err(), Some(RecordsError::AccessDenied(DenialReason::NoGrant)));

    // 6. Revoke access: afterwards the doctor is denied (audited).
    let call = s.submit(&s.records, &c.patient, "revoke_access", (doctor,)).await;
    assert_included(
        &call,
        Ok::<(), RecordsError>(()),
        vec![EhrEvent::AccessRevoked(AccessRevoked { patient, provider: doctor })],
    );
    measure(&mut table, "records", "revoke_access", &call);
    let again =
        s.submit::<_, Result<(), RecordsError>>(&s.records, &c.patient, "revoke_access", (doctor,)).await;
    assert_refused(&again, RecordsError::NoAccess);
    let call: Submitted<Result<AccessDecision, RecordsError>> =
        s.submit(&s.records, &c.doctor, "request_access", (patient, RecordCategory::LabResult)).await;
    assert_eq!(call.value(), &Ok::<_, RecordsError>(AccessDecision::Denied(DenialReason::NoGrant)));

    // Suspension reaches the records contract at once.
    let call: Submitted<Result<(), RegistryError>> =
        s.submit(&s.registry, &c.admin, "suspend_provider", (doctor,)).await;
    assert_eq!(call.value(), &Ok::<(), RegistryError>(()));
    measure(&mut table, "registry", "suspend_provider", &call);

    write_table(&s, &table);
}

fn write_table(s: &Suite, table: &[Measured]) {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Measured on substrate-contracts-node ({}), dry-run weight; fee in plancks:",
        s.node.url()
    );
    let _ = writeln!(
        out,
        "{:<9} {:<34} {:>13} {:>10} {:>8} {:>16} {:>16}",
        "contract", "message", "ref_time", "proof", "deposit", "fee estimate", "fee paid"
    );
    for m in table {
        let _ = writeln!(
            out,
            "{:<9} {:<34} {:>13} {:>10} {:>8} {:>16} {:>16}",
            m.contract, m.message, m.ref_time, m.proof_size, m.deposit, m.fee_estimate, m.fee_paid
        );
    }
    let path = ehr_sandbox::artifacts_dir().join("..").join("e2e").join("node-weights-seed.txt");
    std::fs::write(&path, out).expect("writing the weight table");
}
