//! Encryption keys on-chain (public keys only): providers publish and rotate theirs in the
//! registry, patients in the records contract; typed errors and events.

use ehr_sandbox::{Ehr, EhrEvent};
use ehr_types::{events::EncryptionKeySet, RecordsError, RegistryError};

use crate::{assert_err, assert_ok};

#[test]
fn providers_publish_and_rotate_their_encryption_keys() {
    let mut ehr = Ehr::with_cast();
    let (admin, doctor, stranger) = (ehr.admin, ehr.doctor, ehr.stranger);
    assert_eq!(ehr.provider_key(doctor), None);
    let call = ehr.set_provider_key(doctor, [1; 32]);
    assert_ok(
        &call,
        (),
        vec![EhrEvent::EncryptionKeySet(EncryptionKeySet { account: doctor, key: [1; 32] })],
    );
    assert_eq!(ehr.provider_key(doctor), Some([1; 32]));
    ehr.set_provider_key(doctor, [2; 32]).value.unwrap();
    assert_eq!(ehr.provider_key(doctor), Some([2; 32]), "rotated");
    // A suspended provider may still rotate (e.g. after a key compromise).
    ehr.suspend_provider(admin, doctor).value.unwrap();
    assert_eq!(ehr.set_provider_key(doctor, [3; 32]).value, Ok(()));
    assert_err(&ehr.set_provider_key(stranger, [1; 32]), RegistryError::ProviderNotFound);
    assert_err(&ehr.set_provider_key(doctor, [0; 32]), RegistryError::InvalidEncryptionKey);
    assert_eq!(ehr.provider_key(stranger), None);
}

#[test]
fn patients_publish_and_rotate_their_encryption_keys() {
    let mut ehr = Ehr::with_cast();
    let (patient, stranger, doctor) = (ehr.patient, ehr.stranger, ehr.doctor);
    let call = ehr.set_patient_key(patient, [4; 32]);
    assert_ok(
        &call,
        (),
        vec![EhrEvent::EncryptionKeySet(EncryptionKeySet { account: patient, key: [4; 32] })],
    );
    ehr.set_patient_key(patient, [5; 32]).value.unwrap();
    assert_eq!(ehr.patient_key(patient), Some([5; 32]));
    assert_err(&ehr.set_patient_key(stranger, [4; 32]), RecordsError::PatientNotRegistered);
    assert_err(&ehr.set_patient_key(doctor, [4; 32]), RecordsError::PatientNotRegistered);
    assert_err(&ehr.set_patient_key(patient, [0; 32]), RecordsError::InvalidEncryptionKey);
    assert_eq!(ehr.patient_key(stranger), None);
}
