//! Audit trail: every access decision leaves an `AccessRequested` event with its reason, with
//! patient and accessor as topics; events carry ids, never health data.

use drink::session::NO_ARGS;
use ehr_sandbox::{ehr::doc_hash, to_account32, Ehr, EhrEvent};
use ehr_types::{events::*, AccessDecision, AccessMode, DenialReason, RecordCategory, RecordsError, Scope};
use ink::env::Event as _;

#[test]
fn every_denial_reason_is_audited_without_reverting() {
    let mut ehr = Ehr::with_cast();
    let (admin, patient, doctor, other_doctor, stranger) =
        (ehr.admin, ehr.patient, ehr.doctor, ehr.other_doctor, ehr.stranger);
    ehr.grant_access(patient, doctor, Scope::read(&[RecordCategory::LabResult]), None).value.unwrap();
    let expiry = ehr.chain.block_number() + 1;
    ehr.grant_access(patient, other_doctor, Scope::read(&[RecordCategory::Vitals]), Some(expiry))
        .value
        .unwrap();

    let expect = |ehr: &mut Ehr, accessor, patient, category, decision| {
        let expected = ehr.expected_access(patient, accessor, category, AccessMode::Read, decision);
        let call = ehr.request_access(accessor, patient, category);
        assert_eq!(call.value, Ok(decision));
        assert!(!call.reverted);
        assert_eq!(call.events, vec![EhrEvent::AccessRequested(expected)]);
    };
    let denied = AccessDecision::Denied;
    expect(&mut ehr, doctor, stranger, RecordCategory::LabResult, denied(DenialReason::PatientNotRegistered));
    expect(&mut ehr, stranger, patient, RecordCategory::LabResult, denied(DenialReason::NoGrant));
    expect(&mut ehr, doctor, patient, RecordCategory::Imaging, denied(DenialReason::OutOfScope));
    expect(&mut ehr, other_doctor, patient, RecordCategory::Vitals, AccessDecision::Granted);
    ehr.chain.advance_blocks(1);
    expect(&mut ehr, other_doctor, patient, RecordCategory::Vitals, denied(DenialReason::GrantExpired));
    ehr.suspend_provider(admin, doctor).value.unwrap();
    expect(&mut ehr, doctor, patient, RecordCategory::LabResult, denied(DenialReason::ProviderSuspended));
}

#[test]
fn events_carry_patient_and_actor_topics_and_no_health_data() {
    let mut ehr = Ehr::with_cast();
    let (patient, doctor) = (ehr.patient, ehr.doctor);
    let call = ehr.request_access(doctor, patient, RecordCategory::LabResult);
    let raw = &call.raw_events[0];
    assert_eq!(raw.contract, ehr.records.address);
    let account_topic = |a: ink::primitives::AccountId| *AsRef::<[u8; 32]>::as_ref(&a);
    assert_eq!(
        raw.topics,
        vec![AccessRequested::SIGNATURE_TOPIC.unwrap(), account_topic(patient), account_topic(doctor)]
    );
    // Patient (32) + accessor (32) + category, mode, decision and reason (1 byte each) +
    // emergency (1) + the audit chain's seq (8) and previous hash (32): ids and hashes only.
    assert_eq!(raw.data.len(), 32 + 32 + 4 + 1 + 8 + 32);

    let call = ehr.add_record(patient, patient, RecordCategory::LabResult, doc_hash(1), b"ipfs://x1", None);
    let raw = &call.raw_events[0];
    assert_eq!(
        raw.topics,
        vec![RecordAdded::SIGNATURE_TOPIC.unwrap(), account_topic(patient), account_topic(patient)]
    );
    // Ids, category and the document hash; the locator stays in storage, out of the event.
    assert_eq!(raw.data.len(), 32 + 32 + 4 + 1 + 32 + 1);
}

#[test]
fn reverted_calls_drop_their_events_so_denials_are_outcomes() {
    let mut ehr = Ehr::with_cast();
    let patient = ehr.patient;
    let call = ehr.register_patient(patient);
    assert_eq!(call.value, Err(RecordsError::PatientAlreadyExists));
    assert!(call.reverted && call.raw_events.is_empty());
}

#[test]
fn metadata_transcoder_drives_the_contracts_like_a_dapp() {
    // A dApp encodes calls and decodes results and events from the contract metadata (the
    // `.json`), not from our Rust types: the metadata must describe the contract exactly.
    let mut ehr = Ehr::deploy();
    let (patient, records) = (ehr.patient, ehr.records.address);
    let session = ehr.chain.session();
    session.set_actor(to_account32(patient));
    let result = session
        .call_with_address::<_, Result<(), RecordsError>>(
            to_account32(records),
            "register_patient",
            NO_ARGS,
            None,
        )
        .expect("call through the transcoder");
    assert_eq!(result, Ok(Ok(())));
    let again = session.call_with_address::<_, Result<(), RecordsError>>(
        to_account32(records),
        "register_patient",
        NO_ARGS,
        None,
    );
    assert!(again.is_err(), "the duplicate registration reverts");

    let transcoder = ehr_sandbox::load_bundle("patient_records").transcoder;
    let call = ehr.request_access(ehr.doctor, patient, RecordCategory::Summary);
    let raw = &call.raw_events[0];
    let decoded = transcoder
        .decode_contract_event(&raw.topics[0], &mut &*ink::scale::Encode::encode(&raw.data))
        .expect("event decodes from metadata")
        .to_string();
    assert!(decoded.starts_with("AccessRequested"), "{decoded}");
    assert!(decoded.contains("Summary") && decoded.contains("NoGrant"), "{decoded}");
    let returned = transcoder
        .decode_message_return(
            "request_access",
            &mut &*ink::scale::Encode::encode(&ink::MessageResult::Ok(call.value)),
        )
        .expect("return value decodes from metadata")
        .to_string();
    assert!(returned.contains("Denied") && returned.contains("NoGrant"), "{returned}");
}

#[test]
fn every_audited_decision_is_a_link_of_its_patients_hash_chain() {
    use ehr_types::{audit::AuditHead, emergency::EmergencyPurpose};
    let mut ehr = Ehr::with_cast();
    let (patient, other_patient, doctor, lab, stranger) =
        (ehr.patient, ehr.other_patient, ehr.doctor, ehr.lab, ehr.stranger);
    ehr.register_patient(other_patient).value.unwrap();
    assert_eq!(ehr.audit_head(patient), AuditHead::default(), "no decision yet");
    ehr.grant_access(patient, doctor, Scope::read(&[RecordCategory::LabResult]), None).value.unwrap();
    ehr.grant_access(patient, lab, Scope::read_write(&[RecordCategory::LabResult]), None).value.unwrap();

    // Reads and writes, granted and denied, on two charts, in several blocks, one of them
    // under emergency access; and one on an account that is no patient.
    let mut trail = Vec::new();
    let mut keep = |block: u32, events: Vec<EhrEvent>| {
        trail.extend(events.into_iter().filter_map(|event| match event {
            EhrEvent::AccessRequested(e) => Some((block, e)),
            _ => None,
        }))
    };
    let lab_results = RecordCategory::LabResult;
    let block = ehr.chain.block_number();
    keep(block, ehr.request_access(doctor, patient, lab_results).events);
    keep(block, ehr.request_access(doctor, other_patient, lab_results).events);
    let block = ehr.chain.advance_blocks(1);
    keep(block, ehr.add_record(lab, patient, lab_results, doc_hash(1), b"vault://01", None).events);
    keep(block, ehr.request_access(stranger, patient, RecordCategory::Imaging).events);
    keep(block, ehr.request_access(doctor, stranger, lab_results).events);
    ehr.open_emergency(doctor, other_patient, EmergencyPurpose::Etreat, 3).value.unwrap();
    let block = ehr.chain.advance_blocks(1);
    keep(block, ehr.request_access(doctor, other_patient, RecordCategory::Imaging).events);
    keep(block, ehr.request_access(patient, patient, RecordCategory::Imaging).events);
    assert_eq!(trail.len(), 7);

    // Not a patient: in no chain.
    let (_, unchained) = trail.iter().find(|(_, e)| e.patient == stranger).unwrap();
    assert_eq!((unchained.seq, unchained.prev), (0, [0; 32]));
    assert_eq!(ehr.audit_head(stranger), AuditHead::default(), "no storage for a non-patient");
    // Every chart's events link from seq 1 and zeros to the head in storage.
    for (chart, count) in [(patient, 4), (other_patient, 2)] {
        let mut head = AuditHead::default();
        let links: Vec<_> = trail.iter().filter(|(_, e)| e.patient == chart).collect();
        assert_eq!(links.len(), count);
        for (block, event) in links {
            assert_eq!((event.seq, event.prev), (head.seq + 1, head.hash), "{event:?}");
            head = event.entry(*block).head();
        }
        assert_eq!(ehr.audit_head(chart), head);
    }
    let emergency: Vec<_> = trail.iter().filter(|(_, e)| e.emergency).map(|(_, e)| e.patient).collect();
    assert_eq!(emergency, vec![other_patient], "only the read under emergency access is marked");
}
