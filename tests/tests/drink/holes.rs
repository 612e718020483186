//! One test per hole the adversarial review of the first release found (issue "Contracts v2").
//! Each fails on the first release (`tests/fixtures/v1`) and passes on the current code.

use ed25519_dalek::SigningKey;
use ehr_sandbox::{
    ehr::{commitment, doc_hash, sign_batch},
    Ehr, EhrEvent,
};
use ehr_types::{
    events::*,
    scores::{MAX_CLOCK_SKEW_MS, MAX_NONCE_STEP},
    AccessDecision, AccessMode, AddRecordOutcome, DenialReason, ProviderRole, RecordCategory, RecordsError,
    Scope, ScoreError,
};

use crate::{
    assert_err, assert_ok, assert_refused,
    scores::{Fixture, LOCATOR, MODEL},
};

/// 1. A refused single score is kept on chain with its nonce consumed: once the cause is gone
///    (consent given), the same signed batch cannot be landed.
#[test]
fn hole_1_a_refused_single_score_cannot_be_replayed_later() {
    let mut f = Fixture::new();
    let (patient, other, oracle, relayer) = (f.ehr.patient, f.ehr.other_patient, f.oracle, f.ehr.stranger);
    f.ehr.register_patient(other).value.unwrap();
    f.ehr.add_record(other, other, RecordCategory::Summary, doc_hash(2), LOCATOR, None).value.unwrap();
    let batch = f.ehr.batch(f.signer(), vec![f.attestation(other, 2, 1)]);
    let signature = sign_batch(&f.key, &batch);
    assert_refused(
        &f.ehr.submit_score(relayer, &batch, signature),
        ScoreError::NoConsent(DenialReason::NoGrant),
    );
    assert_eq!(f.ehr.signer_info(f.signer()).unwrap().last_nonce, 1, "the refusal consumed the nonce");

    f.ehr.grant_access(other, oracle, Scope::read(&[RecordCategory::Summary]), None).value.unwrap();
    assert_refused(&f.ehr.submit_score(relayer, &batch, signature), ScoreError::StaleNonce);
    assert_eq!(f.ehr.latest_score(other, other, MODEL).value, Ok(None));
    // The oracle goes on with its next nonce.
    assert_eq!(f.submit(f.attestation(patient, 1, 2)).value, Ok(Ok(())));
}

/// 2. One attestation with nonce `u64::MAX` does not end the signer: a nonce may step at most
///    2^48 above the last.
#[test]
fn hole_2_a_huge_nonce_cannot_exhaust_a_signer() {
    let mut f = Fixture::new();
    let patient = f.ehr.patient;
    assert_refused(&f.submit(f.attestation(patient, 1, u64::MAX)), ScoreError::NonceTooFar);
    assert_refused(&f.submit(f.attestation(patient, 1, MAX_NONCE_STEP + 1)), ScoreError::NonceTooFar);
    assert_eq!(f.ehr.signer_info(f.signer()).unwrap().last_nonce, 0, "nothing consumed");
    assert_eq!(f.submit(f.attestation(patient, 1, MAX_NONCE_STEP)).value, Ok(Ok(())), "the largest step");
    assert_eq!(f.submit(f.attestation(patient, 1, MAX_NONCE_STEP + 1)).value, Ok(Ok(())));
}

/// 3. The latest score is the newest by `computed_at` (ties: signer key, then nonce), never
///    one of a superseded document, whatever the order of submission.
#[test]
fn hole_3_latest_score_is_the_newest_and_of_a_current_document() {
    let mut f = Fixture::new();
    let (admin, patient, oracle) = (f.ehr.admin, f.ehr.patient, f.oracle);
    let latest_commitment =
        |f: &mut Fixture| f.ehr.latest_score(patient, patient, MODEL).value.map(|s| s.map(|s| s.commitment));
    let mut newer = f.attestation(patient, 1, 1);
    newer.computed_at += 60_000;
    newer.commitment = commitment(70_000, 1);
    assert_eq!(f.submit(newer.clone()).value, Ok(Ok(())));
    // Signed later (higher nonce) but computed earlier: refused, the newer one stays.
    assert_refused(&f.submit(f.attestation(patient, 1, 2)), ScoreError::OlderThanLatest);
    assert_eq!(latest_commitment(&mut f), Ok(Some(commitment(70_000, 1))));

    // A second key of the same oracle, same computed_at: the higher key wins in either order.
    let second = SigningKey::from_bytes(&[43; 32]);
    f.ehr.add_signer(admin, second.verifying_key().to_bytes(), oracle).value.unwrap();
    let mut tie = f.attestation(patient, 1, 1);
    tie.computed_at = newer.computed_at;
    tie.commitment = commitment(71_000, 1);
    let batch = f.ehr.batch(second.verifying_key().to_bytes(), vec![tie]);
    let second_wins = second.verifying_key().to_bytes() > f.signer();
    let call = f.ehr.submit_score(f.ehr.stranger, &batch, sign_batch(&second, &batch));
    let latest = latest_commitment(&mut f);
    if second_wins {
        assert_eq!((call.value, latest), (Ok(Ok(())), Ok(Some(commitment(71_000, 1)))));
    } else {
        assert_eq!(
            (call.value, latest),
            (Ok(Err(ScoreError::OlderThanLatest)), Ok(Some(commitment(70_000, 1))))
        );
    }

    // The patient corrects the document: scores of the superseded one are refused.
    f.ehr.add_record(patient, patient, RecordCategory::Summary, doc_hash(5), LOCATOR, Some(0)).value.unwrap();
    let mut stale_input = f.attestation(patient, 1, 3);
    stale_input.computed_at = newer.computed_at + 120_000;
    assert_refused(&f.submit(stale_input), ScoreError::InputSuperseded);
    let mut current = f.attestation(patient, 5, 4);
    current.computed_at = newer.computed_at + 120_000;
    assert_eq!(f.submit(current).value, Ok(Ok(())));
    assert_eq!(f.ehr.latest_score(patient, patient, MODEL).value.unwrap().unwrap().input_hash, doc_hash(5));

    // A time in the future cannot pin "latest" for ever.
    let mut future = f.attestation(patient, 5, 5);
    future.computed_at = f.ehr.chain.timestamp() + MAX_CLOCK_SKEW_MS + 1;
    assert_refused(&f.submit(future), ScoreError::ComputedInFuture);
}

/// 4. A key bound to an account that is not an `Analytics` provider cannot post.
#[test]
fn hole_4_a_key_bound_to_a_doctor_cannot_post() {
    let mut f = Fixture::new();
    let (admin, patient, doctor, relayer) = (f.ehr.admin, f.ehr.patient, f.ehr.doctor, f.ehr.stranger);
    f.ehr.grant_access(patient, doctor, Scope::read(&[RecordCategory::Summary]), None).value.unwrap();
    let doctors_key = SigningKey::from_bytes(&[44; 32]);
    f.ehr.add_signer(admin, doctors_key.verifying_key().to_bytes(), doctor).value.unwrap();
    let batch = f.ehr.batch(doctors_key.verifying_key().to_bytes(), vec![f.attestation(patient, 1, 1)]);
    assert_refused(
        &f.ehr.submit_score(relayer, &batch, sign_batch(&doctors_key, &batch)),
        ScoreError::NoConsent(DenialReason::RoleNotPermitted),
    );
    assert_eq!(f.ehr.latest_score(patient, patient, MODEL).value, Ok(None));
}

/// 5. `risk_scores` hands its admin over in two steps, like the registry.
#[test]
fn hole_5_risk_scores_admin_hands_over_in_two_steps() {
    let mut f = Fixture::new();
    let (admin, stranger, doctor) = (f.ehr.admin, f.ehr.stranger, f.ehr.doctor);
    assert_err(&f.ehr.scores_admin_call(stranger, "propose_admin", Some(doctor)), ScoreError::NotAdmin);
    assert_err(&f.ehr.scores_admin_call(admin, "propose_admin", Some(admin)), ScoreError::AlreadyAdmin);
    assert_err(&f.ehr.scores_admin_call(admin, "cancel_admin_proposal", None), ScoreError::NoPendingAdmin);
    assert_err(&f.ehr.scores_admin_call(doctor, "accept_admin", None), ScoreError::NoPendingAdmin);
    let call = f.ehr.scores_admin_call(admin, "propose_admin", Some(doctor));
    assert_ok(
        &call,
        (),
        vec![EhrEvent::AdminTransferProposed(AdminTransferProposed { admin, candidate: Some(doctor) })],
    );
    assert_eq!(f.ehr.scores_pending_admin(), Some(doctor));
    assert_err(&f.ehr.scores_admin_call(stranger, "accept_admin", None), ScoreError::NotPendingAdmin);
    let call = f.ehr.scores_admin_call(doctor, "accept_admin", None);
    assert_ok(
        &call,
        (),
        vec![EhrEvent::AdminTransferred(AdminTransferred { previous: admin, admin: doctor })],
    );
    assert_eq!((f.ehr.scores_admin(), f.ehr.scores_pending_admin()), (doctor, None));
    assert_err(&f.ehr.approve_model(admin, [9; 32]), ScoreError::NotAdmin);
    assert_eq!(f.ehr.approve_model(doctor, [9; 32]).value, Ok(()));
    // A proposal can be withdrawn.
    f.ehr.scores_admin_call(doctor, "propose_admin", Some(stranger)).value.unwrap();
    assert_eq!(f.ehr.scores_admin_call(doctor, "cancel_admin_proposal", None).value, Ok(()));
    assert_err(&f.ehr.scores_admin_call(stranger, "accept_admin", None), ScoreError::NoPendingAdmin);
}

/// 6. A provider may correct only the records it wrote; the patient may correct any, and the
///    author keeps the right to correct its own.
#[test]
fn hole_6_a_provider_supersedes_only_its_own_records() {
    let mut ehr = Ehr::with_cast();
    let (patient, lab) = (ehr.patient, ehr.lab);
    let lab_results = [RecordCategory::LabResult];
    ehr.grant_access(
        patient,
        lab,
        Scope { read: Default::default(), write: Scope::read(&lab_results).read },
        None,
    )
    .value
    .unwrap();
    ehr.add_record(patient, patient, RecordCategory::LabResult, doc_hash(1), LOCATOR, None).value.unwrap();
    let denied = AccessDecision::Denied(DenialReason::NotRecordAuthor);
    let expected = ehr.expected_access(patient, lab, RecordCategory::LabResult, AccessMode::Write, denied);
    let call = ehr.add_record(lab, patient, RecordCategory::LabResult, doc_hash(2), LOCATOR, Some(0));
    assert_ok(
        &call,
        AddRecordOutcome::Denied(DenialReason::NotRecordAuthor),
        vec![EhrEvent::AccessRequested(expected)],
    );
    assert_eq!(ehr.record(patient, patient, 0).value.unwrap().superseded_by, None);
    // Its own record it may correct, and the patient may correct the lab's.
    assert_eq!(
        ehr.add_record(lab, patient, RecordCategory::LabResult, doc_hash(3), LOCATOR, None).value,
        Ok(AddRecordOutcome::Added(1))
    );
    assert_eq!(
        ehr.add_record(lab, patient, RecordCategory::LabResult, doc_hash(4), LOCATOR, Some(1)).value,
        Ok(AddRecordOutcome::Added(2))
    );
    assert_eq!(
        ehr.add_record(patient, patient, RecordCategory::LabResult, doc_hash(5), LOCATOR, Some(2)).value,
        Ok(AddRecordOutcome::Added(3))
    );
}

/// 7. Only allow-listed locator schemes are anchored.
#[test]
fn hole_7_locator_schemes_are_allow_listed() {
    let mut ehr = Ehr::with_cast();
    let patient = ehr.patient;
    for bad in [
        &b"javascript://alert(document.cookie)"[..],
        b"file:///etc/passwd",
        b"data://text/html,x",
        b"http://x.example/a",
    ] {
        let call = ehr.add_record(patient, patient, RecordCategory::Imaging, doc_hash(1), bad, None);
        assert_err(&call, RecordsError::LocatorSchemeNotAllowed);
    }
    for (n, good) in
        [&b"ipfs://bafy"[..], b"https://x.example/a", b"ar://tx", b"s3://bucket/key", b"vault://ab"]
            .into_iter()
            .enumerate()
    {
        let call = ehr.add_record(patient, patient, RecordCategory::Imaging, doc_hash(n as u32), good, None);
        assert_eq!(call.value, Ok(AddRecordOutcome::Added(n as u32)));
    }
}

/// 8. A reinstatement revives no grant (write access included) until the patient grants
///    again; while the provider is suspended the patient may narrow its grant.
#[test]
fn hole_8_reinstatement_revives_no_grant_and_a_suspended_grant_can_be_narrowed() {
    let mut ehr = Ehr::with_cast();
    let (admin, patient, doctor, other_patient) = (ehr.admin, ehr.patient, ehr.doctor, ehr.other_patient);
    let both = [RecordCategory::ClinicalNote, RecordCategory::LabResult];
    let expiry = ehr.chain.block_number() + 1_000;
    ehr.grant_access(patient, doctor, Scope::read_write(&both), Some(expiry)).value.unwrap();
    ehr.suspend_provider(admin, doctor).value.unwrap();

    // Narrowing is allowed, widening or a later expiry is not.
    let narrow = Scope::read_write(&[RecordCategory::ClinicalNote]);
    assert_eq!(ehr.grant_access(patient, doctor, narrow, Some(expiry - 1)).value, Ok(()));
    assert_err(
        &ehr.grant_access(patient, doctor, Scope::read_write(&both), Some(expiry - 1)),
        RecordsError::GrantWouldWiden,
    );
    assert_err(&ehr.grant_access(patient, doctor, narrow, None), RecordsError::GrantWouldWiden);
    ehr.register_patient(other_patient).value.unwrap();
    assert_err(&ehr.grant_access(other_patient, doctor, narrow, None), RecordsError::ProviderSuspended);

    ehr.reinstate_provider(admin, doctor).value.unwrap();
    let void = AddRecordOutcome::Denied(DenialReason::SuspendedSinceGrant);
    let write = ehr.add_record(doctor, patient, RecordCategory::ClinicalNote, doc_hash(1), LOCATOR, None);
    assert_eq!(write.value, Ok(void), "no silent write access after reinstatement");
    assert_eq!(
        ehr.request_access(doctor, patient, RecordCategory::ClinicalNote).value,
        Ok(AccessDecision::Denied(DenialReason::SuspendedSinceGrant))
    );
    assert_eq!(ehr.grant_of(patient, patient, doctor).value.unwrap().scope, narrow, "the narrowed grant");
    // A grant given after the suspension works (a block later: within the suspension's block
    // the order is unknown, so it counts as before).
    ehr.chain.advance_blocks(1);
    ehr.grant_access(patient, doctor, Scope::read_write(&both), None).value.unwrap();
    let write = ehr.add_record(doctor, patient, RecordCategory::ClinicalNote, doc_hash(1), LOCATOR, None);
    assert_eq!(write.value, Ok(AddRecordOutcome::Added(0)));
}

/// 9. A provider's `add_record` is audited before any input error can revert it.
#[test]
fn hole_9_provider_attempts_are_audited_before_input_errors() {
    let mut ehr = Ehr::with_cast();
    let (patient, doctor, stranger) = (ehr.patient, ehr.doctor, ehr.stranger);
    let notes = RecordCategory::ClinicalNote;
    let audit = |ehr: &mut Ehr, patient, decision| {
        EhrEvent::AccessRequested(ehr.expected_access(patient, doctor, notes, AccessMode::Write, decision))
    };
    let expected = audit(&mut ehr, stranger, AccessDecision::Denied(DenialReason::PatientNotRegistered));
    let call = ehr.add_record(doctor, stranger, notes, doc_hash(1), LOCATOR, None);
    assert_ok(&call, AddRecordOutcome::Denied(DenialReason::PatientNotRegistered), vec![expected]);
    let expected = audit(&mut ehr, patient, AccessDecision::Denied(DenialReason::NoGrant));
    let call = ehr.add_record(doctor, patient, notes, doc_hash(1), b"javascript://x", None);
    assert_ok(&call, AddRecordOutcome::Denied(DenialReason::NoGrant), vec![expected]);
    ehr.grant_access(patient, doctor, Scope::read_write(&[notes]), None).value.unwrap();
    for (hash, locator, error) in [
        (doc_hash(1), &b"javascript://x"[..], RecordsError::LocatorSchemeNotAllowed),
        (doc_hash(1), b"", RecordsError::LocatorEmpty),
        ([0; 32], LOCATOR, RecordsError::InvalidContentHash),
    ] {
        let expected = audit(&mut ehr, patient, AccessDecision::Granted);
        let call = ehr.add_record(doctor, patient, notes, hash, locator, None);
        assert_ok(&call, AddRecordOutcome::Rejected(error), vec![expected]);
    }
    let expected = audit(&mut ehr, patient, AccessDecision::Granted);
    let call = ehr.add_record(doctor, patient, notes, doc_hash(1), LOCATOR, Some(7));
    assert_ok(&call, AddRecordOutcome::Rejected(RecordsError::SupersededRecordNotFound), vec![expected]);
    assert_eq!(ehr.patient_entry(patient).unwrap().record_count, 0, "nothing anchored");
}

/// 10. Grant state is public chain state, and the API says so: anyone may read a grant;
///     events carry only the two accounts as topics, never scope or expiry.
#[test]
fn hole_10_grant_state_is_public_and_the_api_is_honest_about_it() {
    let mut ehr = Ehr::with_cast();
    let (patient, doctor, stranger) = (ehr.patient, ehr.doctor, ehr.stranger);
    let scope = Scope::read(&[RecordCategory::LabResult]);
    let call = ehr.grant_access(patient, doctor, scope, Some(500));
    let topics = &call.raw_events[0].topics;
    assert_eq!(topics.len(), 3, "signature topic, patient and provider only");
    let to_topic = |a: ink::primitives::AccountId| *AsRef::<[u8; 32]>::as_ref(&a);
    assert_eq!(topics[1..], [to_topic(patient), to_topic(doctor)]);
    let grant = ehr.grant_of(stranger, patient, doctor).value.expect("anyone may read a grant");
    assert_eq!((grant.scope, grant.expires_at), (scope, Some(500)));
    let _ = ProviderRole::Doctor;
}
