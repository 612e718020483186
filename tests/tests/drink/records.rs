//! Hash-anchored records: patient and provider writes, corrections, pagination, scope
//! filtering, input bounds, profile commitments.

use ehr_sandbox::{ehr::doc_hash, Ehr, EhrEvent};
use ehr_types::{
    events::*, AccessDecision, AccessMode, AddRecordOutcome, DenialReason, ProviderRole, RecordCategory,
    RecordsError, Scope, MAX_LOCATOR_LEN,
};

use crate::{assert_err, assert_ok};

const LOCATOR: &[u8] = b"ipfs://bafkreib3x";

#[test]
fn provider_with_write_grant_adds_records_and_is_audited() {
    let mut ehr = Ehr::with_cast();
    let (patient, lab) = (ehr.patient, ehr.lab);
    // A lab may deliver results without being able to read the chart.
    let scope =
        Scope { read: Default::default(), write: ehr_types::CategorySet::of(&[RecordCategory::LabResult]) };
    ehr.grant_access(patient, lab, scope, None).value.unwrap();
    let expected = ehr.expected_access(
        patient,
        lab,
        RecordCategory::LabResult,
        AccessMode::Write,
        AccessDecision::Granted,
    );
    let call = ehr.add_record(lab, patient, RecordCategory::LabResult, doc_hash(7), LOCATOR, None);
    assert_ok(
        &call,
        AddRecordOutcome::Added(0),
        vec![
            EhrEvent::AccessRequested(expected),
            EhrEvent::RecordAdded(RecordAdded {
                patient,
                author: lab,
                record_id: 0,
                category: RecordCategory::LabResult,
                content_hash: doc_hash(7),
                supersedes: None,
            }),
        ],
    );
    assert_eq!(ehr.record(patient, patient, 0).value.unwrap().author, lab);
    // Write does not imply read.
    assert_err(&ehr.records_page(lab, patient, 0, 10), RecordsError::AccessDenied(DenialReason::OutOfScope));
}

#[test]
fn provider_write_outside_its_grant_is_an_audited_denial() {
    let mut ehr = Ehr::with_cast();
    let (patient, lab, stranger) = (ehr.patient, ehr.lab, ehr.stranger);
    ehr.grant_access(patient, lab, Scope::read_write(&[RecordCategory::LabResult]), None).value.unwrap();
    for (who, category, reason) in [
        (lab, RecordCategory::Vitals, DenialReason::OutOfScope),
        (stranger, RecordCategory::LabResult, DenialReason::NoGrant),
    ] {
        let expected =
            ehr.expected_access(patient, who, category, AccessMode::Write, AccessDecision::Denied(reason));
        let call = ehr.add_record(who, patient, category, doc_hash(9), LOCATOR, None);
        assert_ok(&call, AddRecordOutcome::Denied(reason), vec![EhrEvent::AccessRequested(expected)]);
    }
    assert_eq!(ehr.patient_entry(patient).unwrap().record_count, 0, "nothing was written");
}

#[test]
fn corrections_supersede_the_record_they_name() {
    let mut ehr = Ehr::with_cast();
    let patient = ehr.patient;
    ehr.add_record(patient, patient, RecordCategory::Condition, doc_hash(1), LOCATOR, None).value.unwrap();
    let call =
        ehr.add_record(patient, patient, RecordCategory::Condition, doc_hash(2), b"ipfs://fixed", Some(0));
    assert_ok(
        &call,
        AddRecordOutcome::Added(1),
        vec![EhrEvent::RecordAdded(RecordAdded {
            patient,
            author: patient,
            record_id: 1,
            category: RecordCategory::Condition,
            content_hash: doc_hash(2),
            supersedes: Some(0),
        })],
    );
    let original = ehr.record(patient, patient, 0).value.unwrap();
    assert_eq!(
        (original.superseded_by, original.content_hash),
        (Some(1), doc_hash(1)),
        "the original stays, linked forward"
    );
    assert_eq!(ehr.record(patient, patient, 1).value.unwrap().supersedes, Some(0));

    let add = |ehr: &mut Ehr, n, category, old| {
        ehr.add_record(patient, patient, category, doc_hash(n), LOCATOR, Some(old))
    };
    assert_err(&add(&mut ehr, 3, RecordCategory::Condition, 0), RecordsError::RecordAlreadySuperseded);
    assert_err(&add(&mut ehr, 3, RecordCategory::Condition, 5), RecordsError::SupersededRecordNotFound);
    assert_err(&add(&mut ehr, 3, RecordCategory::Allergy, 1), RecordsError::SupersedeCategoryMismatch);
    assert_eq!(add(&mut ehr, 3, RecordCategory::Condition, 1).value, Ok(AddRecordOutcome::Added(2)));
}

#[test]
fn bad_record_inputs_are_refused_with_their_reason() {
    let mut ehr = Ehr::with_cast();
    let patient = ehr.patient;
    let mut add =
        |hash, locator: &[u8]| ehr.add_record(patient, patient, RecordCategory::Imaging, hash, locator, None);
    assert_err(&add(doc_hash(1), b""), RecordsError::LocatorEmpty);
    assert_err(&add(doc_hash(1), &[b'a'; MAX_LOCATOR_LEN + 1]), RecordsError::LocatorTooLong);
    assert_err(&add(doc_hash(1), &vec![b'a'; 4 * 1024]), RecordsError::LocatorTooLong);
    assert_err(&add(doc_hash(1), b"just a path"), RecordsError::LocatorInvalid);
    assert_err(&add(doc_hash(1), b"file:///etc/passwd"), RecordsError::LocatorSchemeNotAllowed);
    assert_err(&add(doc_hash(1), b"ipfs://caf\xc3\xa9"), RecordsError::LocatorInvalid);
    assert_err(&add([0; 32], LOCATOR), RecordsError::InvalidContentHash);
    let mut longest = b"https://".to_vec();
    longest.resize(MAX_LOCATOR_LEN, b'x');
    assert_eq!(add(doc_hash(1), &longest).value, Ok(AddRecordOutcome::Added(0)));
    assert_err(&add(doc_hash(1), LOCATOR), RecordsError::DuplicateContentHash);
}

#[test]
fn input_larger_than_the_contract_buffer_is_refused_by_the_chain() {
    // ink! reads a message's input into a static buffer (32 KiB, `INK_STATIC_BUFFER_SIZE` in scripts/build-contracts.sh); a larger input cannot even be
    // decoded, so the chain refuses the call before any contract code runs. Nothing changes.
    let mut ehr = Ehr::with_cast();
    let patient = ehr.patient;
    let huge = (patient, RecordCategory::Imaging, doc_hash(1), vec![b'a'; 32 * 1024], None::<u32>);
    let failed = ehr
        .chain
        .try_call::<_, Result<AddRecordOutcome, RecordsError>>(
            &ehr.records.clone(),
            patient,
            "add_record",
            huge,
        )
        .expect_err("oversize input must not be accepted");
    assert!(failed.error.contains("OutputBufferTooSmall"), "{failed}");
    assert_eq!(ehr.patient_entry(patient).unwrap().record_count, 0);
}

#[test]
fn records_are_paginated_and_filtered_by_the_readers_scope() {
    let mut ehr = Ehr::with_cast();
    let (patient, doctor) = (ehr.patient, ehr.doctor);
    let categories = [RecordCategory::LabResult, RecordCategory::Vitals, RecordCategory::Imaging];
    for n in 0..12u32 {
        let category = categories[n as usize % 3];
        ehr.add_record(patient, patient, category, doc_hash(n), LOCATOR, None).value.unwrap();
    }
    // The patient pages through everything.
    let mut ids = Vec::new();
    let mut from = Some(0);
    while let Some(start) = from {
        let page = ehr.records_page(patient, patient, start, 5).value.unwrap();
        assert!(page.items.len() <= 5);
        ids.extend(page.items.iter().map(|r| r.id));
        from = page.next;
    }
    assert_eq!(ids, (0..12).collect::<Vec<_>>());

    // The doctor sees lab results and imaging only.
    ehr.grant_access(
        patient,
        doctor,
        Scope::read(&[RecordCategory::LabResult, RecordCategory::Imaging]),
        None,
    )
    .value
    .unwrap();
    let page = ehr.records_page(doctor, patient, 0, 50).value.unwrap();
    assert_eq!(page.next, None);
    assert_eq!(page.items.iter().map(|r| r.id).collect::<Vec<_>>(), vec![0, 2, 3, 5, 6, 8, 9, 11]);
    assert_eq!(ehr.record(doctor, patient, 2).value.unwrap().category, RecordCategory::Imaging);
    assert_err(&ehr.record(doctor, patient, 1), RecordsError::AccessDenied(DenialReason::OutOfScope));
    assert_err(&ehr.record(doctor, patient, 12), RecordsError::RecordNotFound);
    assert_err(&ehr.record(patient, patient, 12), RecordsError::RecordNotFound);

    // Limits.
    assert_err(&ehr.records_page(patient, patient, 0, 0), RecordsError::InvalidPageLimit);
    assert_err(&ehr.records_page(patient, patient, 0, 51), RecordsError::InvalidPageLimit);
    assert_eq!(ehr.records_page(patient, patient, 0, 50).value.unwrap().items.len(), 12);
    let past_end = ehr.records_page(patient, patient, u32::MAX, 50).value.unwrap();
    assert_eq!((past_end.items.len(), past_end.next), (0, None));
    let stranger = ehr.stranger;
    assert_err(&ehr.records_page(patient, stranger, 0, 10), RecordsError::PatientNotRegistered);
}

#[test]
fn anchored_documents_can_be_verified_by_anyone() {
    let mut ehr = Ehr::with_cast();
    let patient = ehr.patient;
    ehr.add_record(patient, patient, RecordCategory::Summary, doc_hash(1), LOCATOR, None).value.unwrap();
    ehr.add_record(patient, patient, RecordCategory::Summary, doc_hash(2), LOCATOR, None).value.unwrap();
    assert_eq!(ehr.anchored_record(patient, doc_hash(2)), Some(1));
    assert_eq!(ehr.anchored_record(patient, doc_hash(3)), None);
    let other = ehr.other_patient;
    assert_eq!(ehr.anchored_record(other, doc_hash(1)), None, "anchors are per patient");
}

#[test]
fn profile_commitment_is_set_and_cleared_by_the_patient_only() {
    let mut ehr = Ehr::with_cast();
    let (patient, stranger) = (ehr.patient, ehr.stranger);
    let commitment = doc_hash(42);
    let call = ehr.set_profile_commitment(patient, Some(commitment));
    assert_ok(
        &call,
        (),
        vec![EhrEvent::ProfileCommitmentSet(ProfileCommitmentSet { patient, commitment: Some(commitment) })],
    );
    assert_eq!(ehr.patient_entry(patient).unwrap().profile_commitment, Some(commitment));
    let call = ehr.set_profile_commitment(patient, None);
    assert_ok(
        &call,
        (),
        vec![EhrEvent::ProfileCommitmentSet(ProfileCommitmentSet { patient, commitment: None })],
    );
    assert_eq!(ehr.patient_entry(patient).unwrap().profile_commitment, None);
    assert_err(&ehr.set_profile_commitment(patient, Some([0; 32])), RecordsError::InvalidContentHash);
    assert_err(&ehr.set_profile_commitment(stranger, Some(commitment)), RecordsError::PatientNotRegistered);
}

#[test]
fn unknown_patient_is_refused() {
    let mut ehr = Ehr::with_cast();
    let (doctor, stranger) = (ehr.doctor, ehr.stranger);
    assert_eq!(ehr.patient_entry(stranger), None);
    // A provider's attempt is audited before anything else: a denial, not a revert.
    let call = ehr.add_record(doctor, stranger, RecordCategory::LabResult, doc_hash(1), LOCATOR, None);
    assert_eq!(call.value, Ok(AddRecordOutcome::Denied(DenialReason::PatientNotRegistered)));
    assert!(!call.reverted);
    assert_eq!(call.events.len(), 1, "the AccessRequested event");
    assert_err(&ehr.record(doctor, stranger, 0), RecordsError::PatientNotRegistered);
}

#[test]
fn access_decision_previews_without_auditing() {
    let mut ehr = Ehr::with_cast();
    let (patient, doctor, stranger) = (ehr.patient, ehr.doctor, ehr.stranger);
    ehr.grant_access(patient, doctor, Scope::read(&[RecordCategory::LabResult]), None).value.unwrap();
    let records = ehr.records.clone();
    let decide = |ehr: &mut Ehr, accessor, category, mode| {
        let call: ehr_sandbox::Call<AccessDecision> = ehr.chain.call(
            &records,
            stranger,
            "ConsentCheck::access_decision",
            (patient, accessor, category, mode),
        );
        assert!(call.events.is_empty(), "a preview is not an access and leaves no audit event");
        call.value
    };
    assert_eq!(
        decide(&mut ehr, doctor, RecordCategory::LabResult, AccessMode::Read),
        AccessDecision::Granted
    );
    assert_eq!(
        decide(&mut ehr, doctor, RecordCategory::LabResult, AccessMode::Write),
        AccessDecision::Denied(DenialReason::OutOfScope)
    );
    assert_eq!(
        decide(&mut ehr, stranger, RecordCategory::LabResult, AccessMode::Read),
        AccessDecision::Denied(DenialReason::NoGrant)
    );
    assert_eq!(
        decide(&mut ehr, patient, RecordCategory::Imaging, AccessMode::Write),
        AccessDecision::Granted
    );
}

#[test]
fn check_inputs_reports_anchor_and_consent_per_item() {
    use ehr_types::scores::{InputCheck, MAX_BATCH};
    let mut ehr = Ehr::with_cast();
    let (admin, patient, other_patient, doctor) = (ehr.admin, ehr.patient, ehr.other_patient, ehr.doctor);
    ehr.register_patient(other_patient).value.unwrap();
    ehr.add_record(patient, patient, RecordCategory::Summary, doc_hash(1), LOCATOR, None).value.unwrap();
    ehr.add_record(patient, patient, RecordCategory::Imaging, doc_hash(2), LOCATOR, None).value.unwrap();
    ehr.add_record(other_patient, other_patient, RecordCategory::Summary, doc_hash(3), LOCATOR, None)
        .value
        .unwrap();
    ehr.grant_access(patient, doctor, Scope::read(&[RecordCategory::Summary]), None).value.unwrap();
    let records = ehr.records.clone();
    let items = vec![
        (patient, doc_hash(1)),
        (patient, doc_hash(2)),
        (patient, doc_hash(3)),
        (other_patient, doc_hash(3)),
    ];
    let call: ehr_sandbox::Call<Result<Vec<InputCheck>, RecordsError>> = ehr.chain.call(
        &records,
        doctor,
        "ConsentCheck::check_inputs",
        (doctor, ProviderRole::Doctor, items.clone()),
    );
    assert_eq!(
        call.value,
        Ok(vec![
            InputCheck::Ok,
            InputCheck::Denied(DenialReason::OutOfScope),
            InputCheck::NotAnchored,
            InputCheck::Denied(DenialReason::NoGrant),
        ])
    );
    ehr.suspend_provider(admin, doctor).value.unwrap();
    let call: ehr_sandbox::Call<Result<Vec<InputCheck>, RecordsError>> = ehr.chain.call(
        &records,
        doctor,
        "ConsentCheck::check_inputs",
        (doctor, ProviderRole::Doctor, items[..1].to_vec()),
    );
    assert_eq!(call.value, Ok(vec![InputCheck::Denied(DenialReason::ProviderSuspended)]));
    let too_many = vec![(patient, doc_hash(1)); MAX_BATCH as usize + 1];
    let call: ehr_sandbox::Call<Result<Vec<InputCheck>, RecordsError>> = ehr.chain.call(
        &records,
        doctor,
        "ConsentCheck::check_inputs",
        (doctor, ProviderRole::Doctor, too_many),
    );
    assert_err(&call, RecordsError::BatchTooLarge);
}
