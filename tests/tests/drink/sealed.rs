//! Sealed scores: an accepted attestation leaves a commitment and a report anchored in the
//! patient's chart, never the risk; only the risk-scores contract the governance named anchors
//! reports; a report that cannot be anchored is refused with its nonce consumed; and reading a
//! score takes the consent to read `RiskAssessment` records.

use ehr_sandbox::{
    ehr::{commitment, doc_hash, report_hash, sign_batch},
    Call, Ehr, EhrEvent,
};
use ehr_types::{
    events::*,
    scores::{ScoreBand, ScoreResult},
    AddRecordOutcome, DenialReason, ProviderRole, Record, RecordCategory, RecordId, RecordsError, Scope,
    ScoreError, FIRST_REPORT_ID,
};
use ink::scale::Encode;

use crate::{
    assert_err, assert_ok, assert_refused,
    scores::{Fixture, LOCATOR, MODEL},
};

/// `ReportAnchor::anchor_reports(author, items)` of the records contract, called directly.
fn anchor_reports(
    f: &mut Fixture,
    caller: ink::primitives::AccountId,
    items: Vec<(ink::primitives::AccountId, [u8; 32])>,
) -> Call<Result<Vec<Result<RecordId, RecordsError>>, RecordsError>> {
    let records = f.ehr.records.clone();
    f.ehr.chain.call(&records, caller, "ReportAnchor::anchor_reports", (caller, items))
}

#[test]
fn an_accepted_score_leaves_no_risk_or_band_on_chain() {
    const RISK_PPM: u32 = 734_219;
    let mut f = Fixture::new();
    let (patient, relayer, oracle) = (f.ehr.patient, f.ehr.stranger, f.oracle);
    let salt = [7; 32];
    let result = ScoreResult { risk_ppm: RISK_PPM, band: ScoreBand::High };
    let mut attestation = f.attestation(patient, 1, 1);
    attestation.commitment = result.commitment(&salt);
    let batch = f.ehr.batch(f.signer(), vec![attestation.clone()]);
    let signature = sign_batch(&f.key, &batch);
    let call = f.ehr.submit_score(relayer, &batch, signature);
    assert_ok(&call, Ok(()), vec![f.accepted(&[(&attestation, FIRST_REPORT_ID)])]);

    // The risk's bytes appear nowhere: not in the call data, not in any event's topics or data.
    let risk = RISK_PPM.to_le_bytes();
    let holds_risk = |bytes: &[u8]| bytes.windows(risk.len()).any(|window| window == risk);
    assert!(holds_risk(&result.encode()), "the search finds the risk where it is");
    assert!(!holds_risk(&(&batch, signature).encode()), "the call data holds no risk");
    assert_eq!(call.raw_events.len(), 1, "one event: the batch's ScoresAccepted");
    for event in &call.raw_events {
        assert!(!holds_risk(&event.data), "event data {:?}", event.data);
        assert!(event.topics.iter().all(|topic| !holds_risk(topic)), "event topics {:?}", event.topics);
    }

    // Stored: the commitment and the report, anchored as the patient's `RiskAssessment` record
    // authored by the oracle, at the vault's locator of its hash.
    let stored = f.ehr.latest_score(patient, patient, MODEL).value.ok().flatten().expect("a stored score");
    assert_eq!(
        (stored.commitment, stored.report_hash, stored.report_record),
        (result.commitment(&salt), attestation.report_hash, FIRST_REPORT_ID)
    );
    assert!(!holds_risk(&stored.encode()), "the stored score holds no risk");
    let block = f.ehr.chain.block_number();
    assert_eq!(
        f.ehr.record(patient, patient, FIRST_REPORT_ID).value,
        Ok(Record {
            id: FIRST_REPORT_ID,
            category: RecordCategory::RiskAssessment,
            content_hash: attestation.report_hash,
            locator: format!("vault://{}", hex::encode(attestation.report_hash)).into_bytes(),
            author: oracle,
            added_at: block,
            supersedes: None,
            superseded_by: None,
            erased_at: None,
        })
    );
    assert_eq!(f.ehr.anchored_record(patient, attestation.report_hash), Some(FIRST_REPORT_ID));

    // The report's readers open the commitment with the salt; no other result opens it.
    assert_eq!(
        ScoreResult { risk_ppm: RISK_PPM, band: ScoreBand::High }.commitment(&salt),
        stored.commitment
    );
    for other in [
        ScoreResult { risk_ppm: RISK_PPM + 1, band: ScoreBand::High },
        ScoreResult { risk_ppm: RISK_PPM, band: ScoreBand::Intermediate },
    ] {
        assert_ne!(other.commitment(&salt), stored.commitment, "{other:?}");
    }
    assert_ne!(result.commitment(&[8; 32]), stored.commitment, "another salt");
}

#[test]
fn only_the_named_score_contract_anchors_reports() {
    let mut f = Fixture::new();
    let (admin, patient, stranger, oracle) = (f.ehr.admin, f.ehr.patient, f.ehr.stranger, f.oracle);
    let scores = f.ehr.scores.address;
    let records = f.ehr.records.clone();
    let score_contract = |f: &mut Fixture| {
        f.ehr.chain.call::<_, Option<ink::primitives::AccountId>>(&records, stranger, "score_contract", ())
    };
    assert_eq!(score_contract(&mut f).value, Some(scores), "named when the suite was deployed");

    // Nobody else anchors a report directly: not a stranger, the admin, the oracle or the patient.
    for caller in [stranger, admin, oracle, patient] {
        assert_err(
            &anchor_reports(&mut f, caller, vec![(patient, report_hash(1))]),
            RecordsError::NotScoreContract,
        );
    }
    assert_eq!(f.ehr.anchored_record(patient, report_hash(1)), None);

    // Only the registry's admin names the score contract, and only once.
    for caller in [stranger, patient, oracle] {
        assert_err(&f.ehr.set_score_contract(caller, caller), RecordsError::NoAccess);
    }
    let elsewhere = f.ehr.registry.address;
    assert_err(&f.ehr.set_score_contract(admin, elsewhere), RecordsError::ScoreContractAlreadySet);
    assert_err(&f.ehr.set_score_contract(admin, scores), RecordsError::ScoreContractAlreadySet);
    assert_eq!(score_contract(&mut f).value, Some(scores));

    // A suite whose records contract names no score contract yet: a plain account cannot be
    // named; until the risk-scores contract is, its batches fail as a whole, nothing consumed.
    let mut ehr = Ehr::deploy_unnamed();
    let (admin, stranger) = (ehr.admin, ehr.stranger);
    assert_err(&ehr.set_score_contract(admin, stranger), RecordsError::NotAContract);
    let oracle = ehr.chain.account("oracle");
    let key = ed25519_dalek::SigningKey::from_bytes(&[42; 32]);
    ehr.register_provider(admin, oracle, ProviderRole::Analytics).value.unwrap();
    ehr.add_signer(admin, key.verifying_key().to_bytes(), oracle).value.unwrap();
    ehr.approve_model(admin, MODEL).value.unwrap();
    ehr.register_patient(patient).value.unwrap();
    ehr.add_record(patient, patient, RecordCategory::Summary, doc_hash(1), LOCATOR, None).value.unwrap();
    ehr.grant_access(patient, oracle, Scope::read(&[RecordCategory::Summary]), None).value.unwrap();
    let attestation = f.attestation(patient, 1, 1);
    let batch = ehr.batch(key.verifying_key().to_bytes(), vec![attestation.clone()]);
    let signature = sign_batch(&key, &batch);
    assert_err(&ehr.submit_scores(stranger, &batch, signature), ScoreError::ReportNotAnchored);
    assert_eq!(ehr.signer_info(key.verifying_key().to_bytes()).map(|s| s.last_nonce), Some(0));
    // Named, the same signed batch lands.
    let scores = ehr.scores.address;
    let call = ehr.set_score_contract(admin, scores);
    assert_ok(&call, (), vec![EhrEvent::ScoreContractSet(ScoreContractSet { contract: scores })]);
    let call = ehr.submit_scores(stranger, &batch, signature);
    assert_eq!(call.value, Ok(vec![Ok(())]));
    assert_err(
        &anchor_reports(&mut f, stranger, vec![(patient, report_hash(1))]),
        RecordsError::NotScoreContract,
    );
}

#[test]
fn a_report_hash_already_anchored_is_refused_and_its_nonce_consumed() {
    let mut f = Fixture::new();
    let (patient, relayer) = (f.ehr.patient, f.ehr.stranger);
    let call =
        f.ehr.add_record(patient, patient, RecordCategory::ClinicalNote, report_hash(1), LOCATOR, None);
    assert_eq!(call.value, Ok(ehr_types::AddRecordOutcome::Added(1)));

    let mut attestation = f.attestation(patient, 1, 1);
    attestation.report_hash = report_hash(1);
    let batch = f.ehr.batch(f.signer(), vec![attestation]);
    let signature = sign_batch(&f.key, &batch);
    assert_refused(&f.ehr.submit_score(relayer, &batch, signature), ScoreError::ReportNotAnchored);
    assert_eq!(f.ehr.signer_info(f.signer()).map(|s| s.last_nonce), Some(1), "the nonce is consumed");
    assert_eq!(f.ehr.latest_score(patient, patient, MODEL).value, Ok(None), "no score stored");
    let record = f.ehr.record(patient, patient, 1).value;
    assert_eq!(
        record.map(|r| (r.category, r.author)),
        Ok((RecordCategory::ClinicalNote, patient)),
        "the patient's record is left as it was"
    );
    assert_eq!(
        f.ehr.record(patient, patient, FIRST_REPORT_ID).value,
        Err(RecordsError::RecordNotFound),
        "no report anchored"
    );

    // The same signed batch cannot land later; the oracle goes on with its next nonce.
    assert_refused(&f.ehr.submit_score(relayer, &batch, signature), ScoreError::StaleNonce);
    assert_eq!(f.submit(f.attestation(patient, 1, 2)).value, Ok(Ok(())));
}

#[test]
fn latest_score_needs_a_risk_assessment_read_grant() {
    let mut f = Fixture::new();
    let (patient, doctor, oracle) = (f.ehr.patient, f.ehr.doctor, f.oracle);
    assert_eq!(f.submit(f.attestation(patient, 1, 1)).value, Ok(Ok(())));
    let stored = f.ehr.latest_score(patient, patient, MODEL).value;
    assert!(matches!(stored, Ok(Some(_))), "{stored:?}");

    let out_of_scope = ScoreError::NoConsent(DenialReason::OutOfScope);
    f.ehr.grant_access(patient, doctor, Scope::read(&[RecordCategory::Summary]), None).value.unwrap();
    assert_err(&f.ehr.latest_score(doctor, patient, MODEL), out_of_scope);
    // The oracle, which may read the patient's summary, reads no score either.
    assert_err(&f.ehr.latest_score(oracle, patient, MODEL), out_of_scope);

    f.ehr.grant_access(patient, doctor, Scope::read(&[RecordCategory::RiskAssessment]), None).value.unwrap();
    assert_eq!(f.ehr.latest_score(doctor, patient, MODEL).value, stored);
    let report = f.ehr.record(doctor, patient, FIRST_REPORT_ID).value;
    assert_eq!(report.map(|r| r.category), Ok(RecordCategory::RiskAssessment), "and the report's record");
}

#[test]
fn a_batch_with_two_scores_of_one_patient_keeps_the_newer() {
    let mut f = Fixture::new();
    let (patient, relayer) = (f.ehr.patient, f.ehr.stranger);
    let mut newer = f.attestation(patient, 1, 1);
    newer.computed_at += 60_000;
    newer.commitment = commitment(70_000, 1);
    let older = f.attestation(patient, 1, 2);
    let batch = f.ehr.batch(f.signer(), vec![newer.clone(), older.clone()]);
    let call = f.ehr.submit_scores(relayer, &batch, sign_batch(&f.key, &batch));
    assert_ok(
        &call,
        vec![Ok(()), Err(ScoreError::OlderThanLatest)],
        vec![
            EhrEvent::ScoreRefused(ScoreRefused {
                signer: f.signer(),
                nonce: 2,
                reason: ScoreError::OlderThanLatest,
            }),
            f.accepted(&[(&newer, FIRST_REPORT_ID)]),
        ],
    );
    let latest = f.ehr.latest_score(patient, patient, MODEL).value;
    assert_eq!(
        latest.map(|s| s.map(|s| (s.commitment, s.report_record, s.nonce))),
        Ok(Some((commitment(70_000, 1), FIRST_REPORT_ID, 1)))
    );
    assert_eq!(
        f.ehr.anchored_record(patient, older.report_hash),
        None,
        "the older one's report is not anchored"
    );
    assert_eq!(
        f.ehr.record(patient, patient, FIRST_REPORT_ID + 1).value,
        Err(RecordsError::RecordNotFound),
        "one report"
    );
    assert_eq!(f.ehr.signer_info(f.signer()).map(|s| s.last_nonce), Some(2));
}

#[test]
fn reports_take_ids_of_their_own_and_leave_the_charts_pages_and_entries_as_they_were() {
    let mut f = Fixture::new();
    let (patient, relayer) = (f.ehr.patient, f.ehr.stranger);
    // A second consenting patient with one record, so one batch scores two charts.
    let other = f.ehr.chain.account("other patient");
    f.ehr.register_patient(other).value.unwrap();
    f.ehr.add_record(other, other, RecordCategory::Summary, doc_hash(2), LOCATOR, None).value.unwrap();
    f.ehr.grant_access(other, f.oracle, Scope::read(&[RecordCategory::Summary]), None).value.unwrap();
    let entries = |f: &mut Fixture| (f.ehr.patient_entry(patient), f.ehr.patient_entry(other));
    let before = entries(&mut f);

    let (first, second) = (f.attestation(patient, 1, 1), f.attestation(other, 2, 2));
    let batch = f.ehr.batch(f.signer(), vec![first.clone(), second.clone()]);
    let signature = sign_batch(&f.key, &batch);
    let call = f.ehr.submit_scores(relayer, &batch, signature);
    assert_ok(
        &call,
        vec![Ok(()), Ok(())],
        vec![f.accepted(&[(&first, FIRST_REPORT_ID), (&second, FIRST_REPORT_ID + 1)])],
    );
    // Numbered across patients in the order anchored; no patient's entry written.
    assert_eq!(f.ehr.anchored_record(patient, first.report_hash), Some(FIRST_REPORT_ID));
    assert_eq!(f.ehr.anchored_record(other, second.report_hash), Some(FIRST_REPORT_ID + 1));
    assert_eq!(entries(&mut f), before, "the patients' entries are untouched");
    let record = f.ehr.record(other, other, FIRST_REPORT_ID + 1).value;
    assert_eq!(record.map(|r| (r.category, r.author)), Ok((RecordCategory::RiskAssessment, f.oracle)));

    // The chart's pages are the chart's records; its next record takes the next chart id.
    let page = f.ehr.records_page(patient, patient, 0, 50).value.expect("a page");
    assert_eq!(page.items.iter().map(|r| r.id).collect::<Vec<_>>(), vec![0], "the summary alone");
    assert_eq!(page.next, None);
    let call = f.ehr.add_record(patient, patient, RecordCategory::LabResult, doc_hash(3), LOCATOR, None);
    assert_eq!(call.value, Ok(AddRecordOutcome::Added(1)));

    // A report is erased like any record of the chart.
    let call = f.ehr.erase_record(patient, FIRST_REPORT_ID);
    assert!(call.value.is_ok(), "{:?}", call.value);
    let erased = f.ehr.record(patient, patient, FIRST_REPORT_ID).value.map(|r| r.erased_at.is_some());
    assert_eq!(erased, Ok(true));
}
