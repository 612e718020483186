//! Crypto-shredding erasure on chain (GDPR art. 17): the patient erases a record, which stays a
//! tombstone with no locator and a `RecordErased` event, and is never an oracle input again.

use ehr_sandbox::{ehr::doc_hash, EhrEvent};
use ehr_types::{events::RecordErased, RecordCategory, RecordsError, ScoreError};

use crate::{
    assert_err, assert_ok, assert_refused,
    scores::{Fixture, LOCATOR},
};

#[test]
fn the_patient_erases_a_record_which_stays_a_tombstone() {
    // Record 0 of the patient: `doc_hash(1)`, a summary the oracle may read.
    let mut f = Fixture::new();
    let (patient, doctor, other, oracle) = (f.ehr.patient, f.ehr.doctor, f.ehr.other_patient, f.oracle);
    let summary = RecordCategory::Summary;

    // Only the patient: erase_record works on the caller's own chart.
    assert_err(&f.ehr.erase_record(doctor, 0), RecordsError::PatientNotRegistered);
    f.ehr.register_patient(other).value.unwrap();
    assert_err(&f.ehr.erase_record(other, 0), RecordsError::RecordNotFound);
    assert_err(&f.ehr.erase_record(patient, 7), RecordsError::RecordNotFound);
    assert!(f.ehr.record(patient, patient, 0).value.unwrap().erased_at.is_none());

    let call = f.ehr.erase_record(patient, 0);
    assert_ok(
        &call,
        (),
        vec![EhrEvent::RecordErased(RecordErased { patient, record_id: 0, content_hash: doc_hash(1) })],
    );
    let tombstone = f.ehr.record(patient, patient, 0).value.unwrap();
    assert_eq!(tombstone.erased_at, Some(f.ehr.chain.block_number()));
    assert!(tombstone.locator.is_empty(), "no locator is left");
    assert_eq!((tombstone.id, tombstone.category, tombstone.content_hash), (0, summary, doc_hash(1)));
    assert_eq!(f.ehr.anchored_record(patient, doc_hash(1)), Some(0), "the envelope's hash stays anchored");
    assert_err(&f.ehr.erase_record(patient, 0), RecordsError::RecordErased);

    // Never an oracle input again, though the oracle still holds its grant.
    assert_refused(&f.submit(f.attestation(patient, 1, 1)), ScoreError::InputErased);
    assert!(f.ehr.grant_of(patient, patient, oracle).value.is_ok());
    // Neither corrected nor anchored again under the same hash; a new record is fine.
    assert_err(
        &f.ehr.add_record(patient, patient, summary, doc_hash(9), LOCATOR, Some(0)),
        RecordsError::RecordErased,
    );
    assert_err(
        &f.ehr.add_record(patient, patient, summary, doc_hash(1), LOCATOR, None),
        RecordsError::DuplicateContentHash,
    );
    f.ehr.add_record(patient, patient, summary, doc_hash(9), LOCATOR, None).value.unwrap();
    assert_eq!(f.submit(f.attestation(patient, 9, 2)).value, Ok(Ok(())), "the refusal consumed nonce 1");
}

#[test]
fn a_corrected_record_can_be_erased_and_its_correction_stays() {
    let mut f = Fixture::new();
    let patient = f.ehr.patient;
    let summary = RecordCategory::Summary;
    f.ehr.add_record(patient, patient, summary, doc_hash(2), LOCATOR, Some(0)).value.unwrap();
    f.ehr.erase_record(patient, 0).value.unwrap();
    let correction = f.ehr.record(patient, patient, 1).value.unwrap();
    assert_eq!((correction.supersedes, correction.erased_at), (Some(0), None));
    assert_refused(&f.submit(f.attestation(patient, 1, 1)), ScoreError::InputErased);
    assert_eq!(f.submit(f.attestation(patient, 2, 2)).value, Ok(Ok(())));
}
