//! Consent: grants with scope and expiry, replacement, revocation, listing, and the registry's
//! say on every decision (suspension, expiry) without the patient acting.

use ehr_sandbox::{ehr::doc_hash, Ehr, EhrEvent};
use ehr_types::{
    events::*, AccessDecision, AddRecordOutcome, CategorySet, DenialReason, Grant, ProviderRole,
    RecordCategory, RecordsError, Scope,
};

use crate::{assert_err, assert_ok};

const LOCATOR: &[u8] = b"https://records.example/doc/1";

fn lab_results() -> Scope {
    Scope::read(&[RecordCategory::LabResult])
}

#[test]
fn grant_is_refused_for_bad_scope_expiry_or_self() {
    let mut ehr = Ehr::with_cast();
    let (patient, doctor) = (ehr.patient, ehr.doctor);
    assert_err(&ehr.grant_access(patient, doctor, Scope::default(), None), RecordsError::EmptyScope);
    let unknown = Scope { read: CategorySet(1 << 15), write: CategorySet::empty() };
    assert_err(&ehr.grant_access(patient, doctor, unknown, None), RecordsError::InvalidScope);
    let unknown_write = Scope { read: CategorySet::all(), write: CategorySet(u16::MAX) };
    assert_err(&ehr.grant_access(patient, doctor, unknown_write, None), RecordsError::InvalidScope);
    let now = ehr.chain.block_number();
    assert_err(&ehr.grant_access(patient, doctor, lab_results(), Some(now)), RecordsError::ExpiryNotInFuture);
    assert_err(&ehr.grant_access(patient, doctor, lab_results(), Some(0)), RecordsError::ExpiryNotInFuture);
    assert_err(&ehr.grant_access(patient, patient, lab_results(), None), RecordsError::CannotGrantSelf);
    assert_eq!(ehr.patient_entry(patient).unwrap().grant_count, 0);
}

#[test]
fn regrant_replaces_the_previous_grant() {
    let mut ehr = Ehr::with_cast();
    let (patient, doctor) = (ehr.patient, ehr.doctor);
    ehr.grant_access(patient, doctor, lab_results(), None).value.unwrap();
    let wider = Scope::read(&[RecordCategory::LabResult, RecordCategory::Imaging]);
    let expiry = ehr.chain.block_number() + 100;
    let call = ehr.grant_access(patient, doctor, wider, Some(expiry));
    assert_ok(
        &call,
        (),
        vec![EhrEvent::AccessGranted(AccessGranted {
            patient,
            provider: doctor,
            scope: wider,
            expires_at: Some(expiry),
        })],
    );
    let grant = ehr.grant_of(doctor, patient, doctor).value.unwrap();
    assert_eq!((grant.scope, grant.expires_at), (wider, Some(expiry)));
    assert_eq!(ehr.patient_entry(patient).unwrap().grant_count, 1, "a re-grant is not a second grant");
    let page = ehr.grants_page(patient, 0, 10).value.unwrap();
    assert_eq!(page.items.len(), 1);
}

#[test]
fn expired_grant_is_denied_everywhere_until_regranted() {
    let mut ehr = Ehr::with_cast();
    let (patient, lab) = (ehr.patient, ehr.lab);
    ehr.add_record(patient, patient, RecordCategory::LabResult, doc_hash(1), LOCATOR, None).value.unwrap();
    let expiry = ehr.chain.block_number() + 5;
    ehr.grant_access(patient, lab, Scope::read_write(&[RecordCategory::LabResult]), Some(expiry))
        .value
        .unwrap();
    assert_eq!(
        ehr.request_access(lab, patient, RecordCategory::LabResult).value,
        Ok(AccessDecision::Granted)
    );

    ehr.chain.advance_blocks(4);
    assert_eq!(
        ehr.request_access(lab, patient, RecordCategory::LabResult).value,
        Ok(AccessDecision::Granted)
    );
    ehr.chain.advance_blocks(1);
    assert_eq!(ehr.chain.block_number(), expiry);

    let expired = DenialReason::GrantExpired;
    assert_eq!(
        ehr.request_access(lab, patient, RecordCategory::LabResult).value,
        Ok(AccessDecision::Denied(expired))
    );
    assert_err(&ehr.records_page(lab, patient, 0, 10), RecordsError::AccessDenied(expired));
    assert_err(&ehr.record(lab, patient, 0), RecordsError::AccessDenied(expired));
    let write = ehr.add_record(lab, patient, RecordCategory::LabResult, doc_hash(2), LOCATOR, None);
    assert_eq!(write.value, Ok(AddRecordOutcome::Denied(expired)));
    // The expired grant is still listed (and can be revoked) until the patient acts.
    assert!(ehr.grant_of(patient, patient, lab).value.unwrap().is_expired(expiry));

    ehr.grant_access(patient, lab, Scope::read(&[RecordCategory::LabResult]), None).value.unwrap();
    assert_eq!(
        ehr.request_access(lab, patient, RecordCategory::LabResult).value,
        Ok(AccessDecision::Granted)
    );
}

#[test]
fn suspended_provider_loses_access_everywhere_and_needs_new_grants_when_reinstated() {
    let mut ehr = Ehr::with_cast();
    let (admin, patient, doctor) = (ehr.admin, ehr.patient, ehr.doctor);
    ehr.add_record(patient, patient, RecordCategory::ClinicalNote, doc_hash(1), LOCATOR, None).value.unwrap();
    ehr.grant_access(patient, doctor, Scope::read_write(&[RecordCategory::ClinicalNote]), None)
        .value
        .unwrap();
    assert_eq!(
        ehr.request_access(doctor, patient, RecordCategory::ClinicalNote).value,
        Ok(AccessDecision::Granted)
    );

    ehr.suspend_provider(admin, doctor).value.unwrap();
    let suspended = DenialReason::ProviderSuspended;
    assert_eq!(
        ehr.request_access(doctor, patient, RecordCategory::ClinicalNote).value,
        Ok(AccessDecision::Denied(suspended))
    );
    assert_err(&ehr.records_page(doctor, patient, 0, 10), RecordsError::AccessDenied(suspended));
    assert_err(&ehr.record(doctor, patient, 0), RecordsError::AccessDenied(suspended));
    let write = ehr.add_record(doctor, patient, RecordCategory::ClinicalNote, doc_hash(2), LOCATOR, None);
    assert_eq!(write.value, Ok(AddRecordOutcome::Denied(suspended)));
    // No new grant for a suspended provider either.
    let other_patient = ehr.other_patient;
    ehr.register_patient(other_patient).value.unwrap();
    assert_err(
        &ehr.grant_access(other_patient, doctor, lab_results(), None),
        RecordsError::ProviderSuspended,
    );

    ehr.reinstate_provider(admin, doctor).value.unwrap();
    let void = DenialReason::SuspendedSinceGrant;
    assert_eq!(
        ehr.request_access(doctor, patient, RecordCategory::ClinicalNote).value,
        Ok(AccessDecision::Denied(void))
    );
    assert_err(&ehr.records_page(doctor, patient, 0, 10), RecordsError::AccessDenied(void));
    // The patient grants again (from the block after the suspension): only then does it work.
    ehr.chain.advance_blocks(1);
    ehr.grant_access(patient, doctor, Scope::read(&[RecordCategory::ClinicalNote]), None).value.unwrap();
    assert_eq!(
        ehr.request_access(doctor, patient, RecordCategory::ClinicalNote).value,
        Ok(AccessDecision::Granted)
    );
    assert_eq!(ehr.records_page(doctor, patient, 0, 10).value.unwrap().items.len(), 1);
}

#[test]
fn grants_are_listed_in_pages_and_revocation_keeps_the_list_dense() {
    let mut ehr = Ehr::with_cast();
    let (admin, patient) = (ehr.admin, ehr.patient);
    let mut providers = Vec::new();
    for i in 0..5 {
        let provider = ehr.chain.account(&format!("pharmacy {i}"));
        ehr.register_provider(admin, provider, ProviderRole::Pharmacy).value.unwrap();
        ehr.grant_access(patient, provider, Scope::read(&[RecordCategory::Medication]), None).value.unwrap();
        providers.push(provider);
    }
    let first = ehr.grants_page(patient, 0, 2).value.unwrap();
    assert_eq!(first.items.iter().map(|(p, _)| *p).collect::<Vec<_>>(), providers[..2]);
    assert_eq!(first.next, Some(2));
    let rest = ehr.grants_page(patient, 2, 50).value.unwrap();
    assert_eq!(rest.items.iter().map(|(p, _)| *p).collect::<Vec<_>>(), providers[2..]);
    assert_eq!(rest.next, None);

    // Revoking the first moves the last into its slot.
    ehr.revoke_access(patient, providers[0]).value.unwrap();
    let all = ehr.grants_page(patient, 0, 50).value.unwrap();
    let listed: Vec<_> = all.items.iter().map(|(p, _)| *p).collect();
    assert_eq!(listed, vec![providers[4], providers[1], providers[2], providers[3]]);
    assert_eq!(ehr.patient_entry(patient).unwrap().grant_count, 4);
    // Revoking the (new) last and a middle one still leaves a consistent list.
    ehr.revoke_access(patient, providers[3]).value.unwrap();
    ehr.revoke_access(patient, providers[4]).value.unwrap();
    let all = ehr.grants_page(patient, 0, 50).value.unwrap();
    let listed: Vec<_> = all.items.iter().map(|(p, _)| *p).collect();
    assert_eq!(listed, vec![providers[2], providers[1]]);
    for (provider, grant) in &all.items {
        assert_eq!(ehr.grant_of(patient, patient, *provider).value.as_ref(), Ok(grant));
    }
    assert_eq!(ehr.grants_page(patient, 7, 10).value.unwrap(), ehr_types::Page { items: vec![], next: None });
}

#[test]
fn grant_queries_follow_their_access_rule() {
    let mut ehr = Ehr::with_cast();
    let (patient, doctor, other_doctor, stranger) = (ehr.patient, ehr.doctor, ehr.other_doctor, ehr.stranger);
    ehr.grant_access(patient, doctor, lab_results(), None).value.unwrap();
    let grant: Grant = ehr.grant_of(patient, patient, doctor).value.unwrap();
    assert_eq!(ehr.grant_of(doctor, patient, doctor).value, Ok(grant), "the grantee may see its grant");
    // Grants are public chain state; the query says so instead of pretending to hide them.
    assert_eq!(ehr.grant_of(other_doctor, patient, doctor).value, Ok(grant));
    assert_err(&ehr.grant_of(other_doctor, patient, other_doctor), RecordsError::NoAccess);
    assert_err(&ehr.grant_of(stranger, stranger, doctor), RecordsError::PatientNotRegistered);
    assert_err(&ehr.grants_page(doctor, 0, 10), RecordsError::PatientNotRegistered);
    assert_err(&ehr.grants_page(patient, 0, 0), RecordsError::InvalidPageLimit);
    assert_err(&ehr.grants_page(patient, 0, 51), RecordsError::InvalidPageLimit);
}

#[test]
fn records_contract_with_an_unreachable_registry_fails_closed() {
    let mut ehr = Ehr::deploy();
    let (admin, patient, doctor, stranger) = (ehr.admin, ehr.patient, ehr.doctor, ehr.stranger);
    ehr.register_provider(admin, doctor, ProviderRole::Doctor).value.unwrap();
    // A records contract wired to an account that is not a registry.
    let bogus = ehr_sandbox::to_account32(stranger).to_string();
    let miswired = ehr.chain.deploy("patient_records", "new", &[bogus, "10".into()], admin);
    ehr.chain.call::<_, Result<(), RecordsError>>(&miswired, patient, "register_patient", ()).value.unwrap();
    let call = ehr.chain.call::<_, Result<(), RecordsError>>(
        &miswired,
        patient,
        "grant_access",
        (doctor, lab_results(), None::<u32>),
    );
    assert_err(&call, RecordsError::RegistryUnavailable);
    // Wired to a contract that has no `provider` message (the records contract itself).
    let records = ehr_sandbox::to_account32(ehr.records.address).to_string();
    let miswired = ehr.chain.deploy("patient_records", "new", &[records, "10".into()], admin);
    ehr.chain.call::<_, Result<(), RecordsError>>(&miswired, patient, "register_patient", ()).value.unwrap();
    let call = ehr.chain.call::<_, Result<(), RecordsError>>(
        &miswired,
        patient,
        "grant_access",
        (doctor, lab_results(), None::<u32>),
    );
    assert_err(&call, RecordsError::RegistryUnavailable);
}
