//! Emergency ("break-glass") access: a Doctor opens bounded read access to a patient who gave
//! it no grant; every read under it is audited as an emergency; it never extends; an Auditor
//! reviews each case once; an unreviewed case is raised as overdue by anyone.

use ehr_sandbox::{ehr::doc_hash, Ehr, EhrEvent};
use ehr_types::{
    emergency::{EmergencyOutcome, EmergencyPolicy, EmergencyPurpose, ReviewReason, ReviewVerdict},
    events::*,
    AccessDecision, AccessMode, AddRecordOutcome, DenialReason, ProviderRole, RecordCategory, RecordsError,
};

use crate::{assert_err, assert_ok};

const LOCATOR: &[u8] = b"vault://0001";

/// The cast with an Auditor, and a record in the patient's chart.
fn ehr_with_auditor() -> Ehr {
    let mut ehr = Ehr::with_cast();
    let (admin, auditor, patient) = (ehr.admin, ehr.auditor, ehr.patient);
    ehr.register_provider(admin, auditor, ProviderRole::Auditor).value.unwrap();
    ehr.add_record(patient, patient, RecordCategory::Allergy, doc_hash(1), LOCATOR, None).value.unwrap();
    ehr
}

#[test]
fn a_doctor_opens_emergency_access_reads_under_it_and_it_expires() {
    let mut ehr = ehr_with_auditor();
    let (patient, doctor) = (ehr.patient, ehr.doctor);
    let allergy = RecordCategory::Allergy;
    let denied = AccessDecision::Denied(DenialReason::NoGrant);
    assert_eq!(ehr.request_access(doctor, patient, allergy).value, Ok(denied), "no grant, no emergency");

    let now = ehr.chain.block_number();
    let policy = ehr.emergency_policy();
    assert_eq!(policy, EmergencyPolicy::DEFAULT);
    let call = ehr.open_emergency(doctor, patient, EmergencyPurpose::Etreat, 10);
    let (expires_at, review_due) = (now + 10, now + 10 + policy.review_blocks);
    assert_ok(
        &call,
        EmergencyOutcome::Opened(0),
        vec![EhrEvent::EmergencyOpened(EmergencyOpened {
            case: 0,
            patient,
            clinician: doctor,
            purpose: EmergencyPurpose::Etreat,
            expires_at,
            review_due,
        })],
    );
    assert_eq!(ehr.open_emergency_of(patient, doctor), Some(0));
    let case = ehr.emergency(0).unwrap();
    assert_eq!(
        (case.opened_at, case.expires_at, case.review_due, case.review),
        (now, expires_at, review_due, None)
    );

    // Reads are granted and audited as emergency reads, in the patient's audit chain.
    let mut expected =
        ehr.expected_access(patient, doctor, allergy, AccessMode::Read, AccessDecision::Granted);
    expected.emergency = true;
    let call = ehr.request_access(doctor, patient, allergy);
    assert_ok(&call, AccessDecision::Granted, vec![EhrEvent::AccessRequested(expected.clone())]);
    let block = ehr.chain.block_number();
    assert_eq!(ehr.audit_head(patient), expected.entry(block).head());
    let page = ehr.records_page(doctor, patient, 0, 10).value.expect("the chart is readable");
    assert_eq!(page.items.len(), 1);
    assert!(ehr.record(doctor, patient, 0).value.is_ok());
    // Emergency access never writes.
    let expected =
        ehr.expected_access(patient, doctor, RecordCategory::ClinicalNote, AccessMode::Write, denied);
    let call = ehr.add_record(doctor, patient, RecordCategory::ClinicalNote, doc_hash(2), LOCATOR, None);
    assert_ok(
        &call,
        AddRecordOutcome::Denied(DenialReason::NoGrant),
        vec![EhrEvent::AccessRequested(expected)],
    );
    // It is never extended: opening again while open is refused.
    assert_err(
        &ehr.open_emergency(doctor, patient, EmergencyPurpose::Btg, 10),
        RecordsError::EmergencyAlreadyOpen,
    );
    // Another doctor is not covered by it.
    let other = ehr.other_doctor;
    assert_eq!(ehr.request_access(other, patient, allergy).value, Ok(denied));

    // At its expiry block it grants nothing any more.
    ehr.chain.advance_blocks(10);
    let expected = ehr.expected_access(patient, doctor, allergy, AccessMode::Read, denied);
    let call = ehr.request_access(doctor, patient, allergy);
    assert_ok(&call, denied, vec![EhrEvent::AccessRequested(expected)]);
    assert_err(&ehr.records_page(doctor, patient, 0, 10), RecordsError::AccessDenied(DenialReason::NoGrant));
    assert_eq!(ehr.open_emergency_of(patient, doctor), None);
    // A new case can be opened after it ended, with a new id.
    let call = ehr.open_emergency(doctor, patient, EmergencyPurpose::Btg, 1);
    assert_eq!(call.value, Ok(EmergencyOutcome::Opened(1)));
}

#[test]
fn who_may_open_emergency_access_and_for_how_long() {
    let mut ehr = ehr_with_auditor();
    let (admin, patient, doctor, lab, stranger, auditor) =
        (ehr.admin, ehr.patient, ehr.doctor, ehr.lab, ehr.stranger, ehr.auditor);
    let etreat = EmergencyPurpose::Etreat;
    let max = EmergencyPolicy::DEFAULT.max_blocks;
    // Too long, or empty: a typed error, whoever asks.
    assert_err(&ehr.open_emergency(doctor, patient, etreat, max + 1), RecordsError::EmergencyDurationInvalid);
    assert_err(&ehr.open_emergency(doctor, patient, etreat, 0), RecordsError::EmergencyDurationInvalid);
    // Who the caller or the patient is: an audited denial, not a revert.
    let denied = |ehr: &mut Ehr, clinician, patient, reason| {
        let call = ehr.open_emergency(clinician, patient, etreat, max);
        assert_ok(
            &call,
            EmergencyOutcome::Denied(reason),
            vec![EhrEvent::EmergencyDenied(EmergencyDenied { patient, clinician, reason })],
        );
    };
    denied(&mut ehr, lab, patient, DenialReason::RoleNotPermitted);
    denied(&mut ehr, auditor, patient, DenialReason::RoleNotPermitted);
    denied(&mut ehr, stranger, patient, DenialReason::ProviderNotRegistered);
    denied(&mut ehr, doctor, stranger, DenialReason::PatientNotRegistered);
    ehr.suspend_provider(admin, doctor).value.unwrap();
    denied(&mut ehr, doctor, patient, DenialReason::ProviderSuspended);
    assert_eq!(ehr.emergencies(0, 10, false).unwrap().items, vec![], "no case was opened");

    // The longest allowed access opens.
    let other = ehr.other_doctor;
    assert_eq!(ehr.open_emergency(other, patient, etreat, max).value, Ok(EmergencyOutcome::Opened(0)));
    // A doctor suspended while its case is open reads nothing under it (still an emergency
    // attempt in the audit chain).
    ehr.suspend_provider(admin, other).value.unwrap();
    let mut expected = ehr.expected_access(
        patient,
        other,
        RecordCategory::Allergy,
        AccessMode::Read,
        AccessDecision::Denied(DenialReason::ProviderSuspended),
    );
    expected.emergency = true;
    let call = ehr.request_access(other, patient, RecordCategory::Allergy);
    assert_eq!(call.events, vec![EhrEvent::AccessRequested(expected)]);
    assert_err(
        &ehr.records_page(other, patient, 0, 10),
        RecordsError::AccessDenied(DenialReason::ProviderSuspended),
    );
}

#[test]
fn an_auditor_reviews_each_case_once() {
    let mut ehr = ehr_with_auditor();
    let (admin, patient, doctor, other, lab, stranger, auditor) =
        (ehr.admin, ehr.patient, ehr.doctor, ehr.other_doctor, ehr.lab, ehr.stranger, ehr.auditor);
    ehr.open_emergency(doctor, patient, EmergencyPurpose::Etreat, 5).value.unwrap();
    ehr.open_emergency(other, patient, EmergencyPurpose::Btg, 5).value.unwrap();
    let (accepted, flagged) = (ReviewVerdict::Accepted, ReviewVerdict::Flagged);
    let documented = ReviewReason::EmergencyDocumented;
    // Only an active Auditor reviews.
    for reviewer in [doctor, lab, stranger, patient, admin] {
        assert_err(&ehr.review_emergency(reviewer, 0, accepted, documented), RecordsError::NotAuditor);
    }
    assert_err(&ehr.review_emergency(auditor, 7, accepted, documented), RecordsError::EmergencyNotFound);
    // Also while the case is still open.
    let call = ehr.review_emergency(auditor, 0, accepted, documented);
    assert_ok(
        &call,
        (),
        vec![EhrEvent::EmergencyReviewed(EmergencyReviewed {
            case: 0,
            patient,
            auditor,
            verdict: accepted,
            reason: documented,
        })],
    );
    let review = ehr.emergency(0).unwrap().review.unwrap();
    assert_eq!((review.auditor, review.verdict, review.reason), (auditor, accepted, documented));
    // A review is final.
    assert_err(
        &ehr.review_emergency(auditor, 0, flagged, ReviewReason::NoCareRelationship),
        RecordsError::AlreadyReviewed,
    );
    // A suspended Auditor reviews nothing; reinstated, it flags the other case.
    ehr.suspend_provider(admin, auditor).value.unwrap();
    assert_err(
        &ehr.review_emergency(auditor, 1, flagged, ReviewReason::NoEmergencyDocumented),
        RecordsError::ProviderSuspended,
    );
    ehr.reinstate_provider(admin, auditor).value.unwrap();
    assert_eq!(ehr.review_emergency(auditor, 1, flagged, ReviewReason::NoEmergencyDocumented).value, Ok(()));
    assert_eq!(ehr.emergency(1).unwrap().review.unwrap().verdict, flagged);
    assert_eq!(ehr.emergencies(0, 10, true).unwrap().items, vec![], "nothing left to review");
}

#[test]
fn unreviewed_cases_are_raised_after_their_deadline_by_anyone() {
    let mut ehr = ehr_with_auditor();
    let (admin, patient, doctor, other, stranger, auditor) =
        (ehr.admin, ehr.patient, ehr.doctor, ehr.other_doctor, ehr.stranger, ehr.auditor);
    // The governance sets the policy; bounds are checked.
    let policy = EmergencyPolicy { max_blocks: 5, review_blocks: 3 };
    assert_err(&ehr.set_emergency_policy(doctor, policy), RecordsError::NoAccess);
    for bad in [
        EmergencyPolicy { max_blocks: 0, review_blocks: 3 },
        EmergencyPolicy { max_blocks: 14_401, review_blocks: 3 },
        EmergencyPolicy { max_blocks: 5, review_blocks: 0 },
        EmergencyPolicy { max_blocks: 5, review_blocks: 432_001 },
    ] {
        assert_err(&ehr.set_emergency_policy(admin, bad), RecordsError::InvalidEmergencyPolicy);
    }
    assert_ok(
        &ehr.set_emergency_policy(admin, policy),
        (),
        vec![EhrEvent::EmergencyPolicySet(EmergencyPolicySet { policy })],
    );
    assert_err(
        &ehr.open_emergency(doctor, patient, EmergencyPurpose::Etreat, 6),
        RecordsError::EmergencyDurationInvalid,
    );

    let now = ehr.chain.block_number();
    ehr.open_emergency(doctor, patient, EmergencyPurpose::Etreat, 2).value.unwrap();
    ehr.open_emergency(other, patient, EmergencyPurpose::Etreat, 5).value.unwrap();
    // The clinician may close early; nobody else, and only once.
    assert_err(&ehr.close_emergency(other, 0), RecordsError::NotEmergencyClinician);
    assert_err(&ehr.close_emergency(doctor, 9), RecordsError::EmergencyNotFound);
    assert_ok(
        &ehr.close_emergency(other, 1),
        (),
        vec![EhrEvent::EmergencyClosed(EmergencyClosed { case: 1, patient })],
    );
    assert_err(&ehr.close_emergency(other, 1), RecordsError::EmergencyNotOpen);
    assert_eq!(ehr.emergency(1).unwrap().expires_at, now);
    assert_eq!(ehr.open_emergency_of(patient, other), None);
    ehr.review_emergency(auditor, 1, ReviewVerdict::Accepted, ReviewReason::ConsentUnobtainable)
        .value
        .unwrap();

    assert_err(&ehr.raise_overdue(stranger, 0), RecordsError::InvalidStepLimit);
    assert_err(&ehr.raise_overdue(stranger, 33), RecordsError::InvalidStepLimit);
    // Before case 0's deadline (opened + 2 + 3): nothing to raise, and the cursor stays at
    // case 0, which is not done.
    assert_ok(&ehr.raise_overdue(stranger, 32), (0, 0), vec![]);
    ehr.chain.advance_blocks(5);
    assert_eq!(
        ehr.emergencies(0, 10, true).unwrap().items.iter().map(|(id, _)| *id).collect::<Vec<_>>(),
        vec![0]
    );
    // Case 0 raised, case 1 reviewed: the cursor passes both.
    assert_ok(
        &ehr.raise_overdue(stranger, 32),
        (1, 2),
        vec![EhrEvent::EmergencyReviewOverdue(EmergencyReviewOverdue {
            case: 0,
            patient,
            clinician: doctor,
            review_due: now + 5,
        })],
    );
    assert!(ehr.emergency(0).unwrap().overdue_raised);
    // Raised once; a late review is still taken.
    assert_ok(&ehr.raise_overdue(stranger, 32), (0, 2), vec![]);
    assert_eq!(ehr.overdue_cursor(), 2);
    ehr.review_emergency(auditor, 0, ReviewVerdict::Flagged, ReviewReason::ExcessiveAccess).value.unwrap();
}

#[test]
fn raising_overdue_cases_is_bounded_work_per_call() {
    let mut ehr = ehr_with_auditor();
    let (admin, patient, doctor, stranger) = (ehr.admin, ehr.patient, ehr.doctor, ehr.stranger);
    ehr.set_emergency_policy(admin, EmergencyPolicy { max_blocks: 1, review_blocks: 1 }).value.unwrap();
    for _ in 0..5 {
        ehr.open_emergency(doctor, patient, EmergencyPurpose::Etreat, 1).value.unwrap();
        ehr.chain.advance_blocks(1);
    }
    ehr.chain.advance_blocks(2);
    assert_eq!(ehr.raise_overdue(stranger, 2).value, Ok((2, 2)));
    assert_eq!(ehr.raise_overdue(stranger, 2).value, Ok((2, 4)));
    assert_eq!(ehr.raise_overdue(stranger, 2).value, Ok((1, 5)));
    assert_eq!(ehr.raise_overdue(stranger, 2).value, Ok((0, 5)));
    assert!((0..5).all(|id| ehr.emergency(id).unwrap().overdue_raised));
}

#[test]
fn a_long_case_does_not_hold_up_the_shorter_ones_behind_it() {
    let mut ehr = ehr_with_auditor();
    let (admin, patient, doctor, other, stranger) =
        (ehr.admin, ehr.patient, ehr.doctor, ehr.other_doctor, ehr.stranger);
    ehr.set_emergency_policy(admin, EmergencyPolicy { max_blocks: 10, review_blocks: 1 }).value.unwrap();
    ehr.open_emergency(doctor, patient, EmergencyPurpose::Etreat, 10).value.unwrap();
    ehr.open_emergency(other, patient, EmergencyPurpose::Etreat, 1).value.unwrap();
    assert_eq!(ehr.latest_emergency_of(patient, other), Some(1));
    ehr.chain.advance_blocks(3);
    // Case 1 is due, case 0 is not: case 1 is raised, the cursor waits at case 0.
    assert_eq!(ehr.raise_overdue(stranger, 32).value, Ok((1, 0)));
    assert_eq!(ehr.raise_overdue(stranger, 32).value, Ok((0, 0)), "raised once");
    ehr.chain.advance_blocks(9);
    assert_eq!(ehr.raise_overdue(stranger, 32).value, Ok((1, 2)));
}

#[test]
fn a_doctor_with_a_narrower_grant_reads_every_category_under_emergency_access() {
    let mut ehr = ehr_with_auditor();
    let (patient, doctor) = (ehr.patient, ehr.doctor);
    ehr.add_record(patient, patient, RecordCategory::LabResult, doc_hash(9), LOCATOR, None).value.unwrap();
    let labs = ehr_types::Scope::read(&[RecordCategory::LabResult]);
    ehr.grant_access(patient, doctor, labs, None).value.unwrap();
    let page = ehr.records_page(doctor, patient, 0, 10).value.unwrap();
    assert_eq!(page.items.len(), 1, "the grant's category only");
    ehr.open_emergency(doctor, patient, EmergencyPurpose::Etreat, 5).value.unwrap();
    let page = ehr.records_page(doctor, patient, 0, 10).value.unwrap();
    assert_eq!(page.items.len(), 2, "every category, as request_access decides");
    assert_eq!(
        ehr.request_access(doctor, patient, RecordCategory::Allergy).value,
        Ok(AccessDecision::Granted)
    );
}

#[test]
fn the_emergency_key_is_published_by_the_governance_and_patients_opt_in() {
    let mut ehr = ehr_with_auditor();
    let (admin, patient, doctor, stranger) = (ehr.admin, ehr.patient, ehr.doctor, ehr.stranger);
    assert_eq!(ehr.emergency_key(), None);
    assert_err(&ehr.set_emergency_key(doctor, [7; 32]), RecordsError::NoAccess);
    assert_err(&ehr.set_emergency_key(admin, [0; 32]), RecordsError::InvalidEncryptionKey);
    assert_ok(
        &ehr.set_emergency_key(admin, [7; 32]),
        (),
        vec![EhrEvent::EmergencyKeySet(EmergencyKeySet { key: [7; 32] })],
    );
    assert_eq!(ehr.emergency_key(), Some([7; 32]));

    assert!(!ehr.emergency_opt_in(patient));
    assert_err(&ehr.set_emergency_opt_in(stranger, true), RecordsError::PatientNotRegistered);
    assert_ok(
        &ehr.set_emergency_opt_in(patient, true),
        (),
        vec![EhrEvent::EmergencyKeyOptIn(EmergencyKeyOptIn { patient, opted_in: true })],
    );
    assert!(ehr.emergency_opt_in(patient));
    assert_ok(
        &ehr.set_emergency_opt_in(patient, false),
        (),
        vec![EhrEvent::EmergencyKeyOptIn(EmergencyKeyOptIn { patient, opted_in: false })],
    );
    assert!(!ehr.emergency_opt_in(patient));
}
