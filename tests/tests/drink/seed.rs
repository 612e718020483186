//! The seed paper's algorithm ("Algorithm", steps 1–6), one test per outcome, named after the
//! message the paper prints. Each outcome is a typed error variant or a decoded event.

use ehr_sandbox::{ehr::doc_hash, Ehr, EhrEvent};
use ehr_types::{
    events::*, AccessDecision, AccessMode, AddRecordOutcome, DenialReason, ProviderRole, RecordCategory,
    RecordsError, RegistryError, Scope,
};

use crate::{assert_err, assert_ok};

const LOCATOR: &[u8] = b"ipfs://bafybeihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku";

// Step 1: register a patient.

#[test]
fn patient_registered_successfully() {
    let mut ehr = Ehr::deploy();
    let patient = ehr.patient;
    let call = ehr.register_patient(patient);
    assert_ok(&call, (), vec![EhrEvent::PatientRegistered(PatientRegistered { patient })]);
    let entry = ehr.patient_entry(patient).expect("registered");
    assert_eq!((entry.record_count, entry.grant_count, entry.profile_commitment), (0, 0, None));
    assert_eq!(ehr.patient_count(), 1);
}

#[test]
fn patient_already_exists() {
    let mut ehr = Ehr::deploy();
    let patient = ehr.patient;
    ehr.register_patient(patient).value.unwrap();
    assert_err(&ehr.register_patient(patient), RecordsError::PatientAlreadyExists);
    assert_eq!(ehr.patient_count(), 1);
}

// Step 2: register a doctor (admin only).

#[test]
fn doctor_registered_successfully() {
    let mut ehr = Ehr::deploy();
    let (admin, doctor) = (ehr.admin, ehr.doctor);
    let call = ehr.register_provider(admin, doctor, ProviderRole::Doctor);
    assert_ok(
        &call,
        (),
        vec![EhrEvent::ProviderRegistered(ProviderRegistered {
            provider: doctor,
            role: ProviderRole::Doctor,
        })],
    );
    assert!(ehr.is_active_provider(doctor, ProviderRole::Doctor));
}

#[test]
fn doctor_is_already_registered() {
    let mut ehr = Ehr::deploy();
    let (admin, doctor) = (ehr.admin, ehr.doctor);
    ehr.register_provider(admin, doctor, ProviderRole::Doctor).value.unwrap();
    assert_err(
        &ehr.register_provider(admin, doctor, ProviderRole::Lab),
        RegistryError::ProviderAlreadyRegistered,
    );
    assert_eq!(ehr.provider(doctor).unwrap().role, ProviderRole::Doctor);
}

#[test]
fn access_denied_only_admin_can_register_doctors() {
    let mut ehr = Ehr::deploy();
    let (doctor, stranger) = (ehr.doctor, ehr.stranger);
    assert_err(&ehr.register_provider(stranger, doctor, ProviderRole::Doctor), RegistryError::NotAdmin);
    assert_err(&ehr.register_provider(doctor, doctor, ProviderRole::Doctor), RegistryError::NotAdmin);
    assert_eq!(ehr.provider(doctor), None);
}

// Step 3: add a medical record (only a registered patient; providers need a write grant).

#[test]
fn medical_record_added_successfully() {
    let mut ehr = Ehr::with_cast();
    let patient = ehr.patient;
    let call = ehr.add_record(patient, patient, RecordCategory::LabResult, doc_hash(1), LOCATOR, None);
    assert_ok(
        &call,
        AddRecordOutcome::Added(0),
        vec![EhrEvent::RecordAdded(RecordAdded {
            patient,
            author: patient,
            record_id: 0,
            category: RecordCategory::LabResult,
            content_hash: doc_hash(1),
            supersedes: None,
        })],
    );
    let record = ehr.record(patient, patient, 0).value.unwrap();
    assert_eq!(record.locator, LOCATOR);
    assert_eq!(record.author, patient);
    assert_eq!(ehr.patient_entry(patient).unwrap().record_count, 1);
}

#[test]
fn only_registered_patients_can_add_records() {
    let mut ehr = Ehr::with_cast();
    let stranger = ehr.stranger;
    let call = ehr.add_record(stranger, stranger, RecordCategory::LabResult, doc_hash(1), LOCATOR, None);
    assert_err(&call, RecordsError::PatientNotRegistered);
}

// Step 4: grant access to a doctor.

#[test]
fn access_granted_to_doctor() {
    let mut ehr = Ehr::with_cast();
    let (patient, doctor) = (ehr.patient, ehr.doctor);
    let scope = Scope::read(&[RecordCategory::LabResult]);
    let call = ehr.grant_access(patient, doctor, scope, None);
    assert_ok(
        &call,
        (),
        vec![EhrEvent::AccessGranted(AccessGranted { patient, provider: doctor, scope, expires_at: None })],
    );
    let grant = ehr.grant_of(patient, patient, doctor).value.unwrap();
    assert_eq!((grant.scope, grant.expires_at), (scope, None));
}

#[test]
fn doctor_is_not_registered() {
    let mut ehr = Ehr::with_cast();
    let (patient, stranger) = (ehr.patient, ehr.stranger);
    let call = ehr.grant_access(patient, stranger, Scope::read(&[RecordCategory::LabResult]), None);
    assert_err(&call, RecordsError::ProviderNotRegistered);
}

#[test]
fn only_patients_can_grant_access() {
    let mut ehr = Ehr::with_cast();
    let (doctor, other_doctor) = (ehr.doctor, ehr.other_doctor);
    let call = ehr.grant_access(other_doctor, doctor, Scope::read(&[RecordCategory::LabResult]), None);
    assert_err(&call, RecordsError::PatientNotRegistered);
}

// Step 5: revoke access from a doctor.

#[test]
fn access_revoked_from_doctor() {
    let mut ehr = Ehr::with_cast();
    let (patient, doctor) = (ehr.patient, ehr.doctor);
    ehr.grant_access(patient, doctor, Scope::read(&[RecordCategory::LabResult]), None).value.unwrap();
    let call = ehr.revoke_access(patient, doctor);
    assert_ok(&call, (), vec![EhrEvent::AccessRevoked(AccessRevoked { patient, provider: doctor })]);
    assert_err(&ehr.grant_of(patient, patient, doctor), RecordsError::NoAccess);
    let decision = ehr.request_access(doctor, patient, RecordCategory::LabResult).value.unwrap();
    assert_eq!(decision, AccessDecision::Denied(DenialReason::NoGrant));
}

#[test]
fn doctor_does_not_have_access() {
    let mut ehr = Ehr::with_cast();
    let (patient, doctor) = (ehr.patient, ehr.doctor);
    assert_err(&ehr.revoke_access(patient, doctor), RecordsError::NoAccess);
}

#[test]
fn only_patients_can_revoke_access() {
    let mut ehr = Ehr::with_cast();
    let (doctor, other_doctor) = (ehr.doctor, ehr.other_doctor);
    assert_err(&ehr.revoke_access(other_doctor, doctor), RecordsError::PatientNotRegistered);
}

// Step 6: view patient records.

#[test]
fn patient_views_own_records() {
    let mut ehr = Ehr::with_cast();
    let patient = ehr.patient;
    ehr.add_record(patient, patient, RecordCategory::Vitals, doc_hash(1), LOCATOR, None).value.unwrap();
    let page = ehr.records_page(patient, patient, 0, 10).value.unwrap();
    assert_eq!(page.items.len(), 1);
    let expected = ehr.expected_access(
        patient,
        patient,
        RecordCategory::Vitals,
        AccessMode::Read,
        AccessDecision::Granted,
    );
    let call = ehr.request_access(patient, patient, RecordCategory::Vitals);
    assert_ok(&call, AccessDecision::Granted, vec![EhrEvent::AccessRequested(expected)]);
}

#[test]
fn doctor_with_access_views_records() {
    let mut ehr = Ehr::with_cast();
    let (patient, doctor) = (ehr.patient, ehr.doctor);
    ehr.add_record(patient, patient, RecordCategory::LabResult, doc_hash(1), LOCATOR, None).value.unwrap();
    ehr.grant_access(patient, doctor, Scope::read(&[RecordCategory::LabResult]), None).value.unwrap();
    let page = ehr.records_page(doctor, patient, 0, 10).value.unwrap();
    assert_eq!(page.items.iter().map(|r| r.content_hash).collect::<Vec<_>>(), vec![doc_hash(1)]);
    let expected = ehr.expected_access(
        patient,
        doctor,
        RecordCategory::LabResult,
        AccessMode::Read,
        AccessDecision::Granted,
    );
    let call = ehr.request_access(doctor, patient, RecordCategory::LabResult);
    assert_ok(&call, AccessDecision::Granted, vec![EhrEvent::AccessRequested(expected)]);
}

#[test]
fn access_denied_you_do_not_have_permission() {
    let mut ehr = Ehr::with_cast();
    let (patient, doctor) = (ehr.patient, ehr.doctor);
    ehr.add_record(patient, patient, RecordCategory::LabResult, doc_hash(1), LOCATOR, None).value.unwrap();
    // The audited path: a denial is an Ok outcome, and its audit event survives.
    let denied = AccessDecision::Denied(DenialReason::NoGrant);
    let expected = ehr.expected_access(patient, doctor, RecordCategory::LabResult, AccessMode::Read, denied);
    let call = ehr.request_access(doctor, patient, RecordCategory::LabResult);
    assert_ok(&call, denied, vec![EhrEvent::AccessRequested(expected)]);
    // The read-only queries refuse with the same reason.
    assert_err(&ehr.records_page(doctor, patient, 0, 10), RecordsError::AccessDenied(DenialReason::NoGrant));
    assert_err(&ehr.record(doctor, patient, 0), RecordsError::AccessDenied(DenialReason::NoGrant));
}
