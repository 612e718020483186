//! Storage stays flat: a message's weight does not grow with the number of patients, records
//! or grants already on chain.

use ehr_sandbox::{ehr::doc_hash, Ehr};
use ehr_types::{ProviderRole, RecordCategory, Scope};
use ink::primitives::AccountId;

const LOCATOR: &[u8] = b"ipfs://bafkreid7qoywk77r7rj3slobqfekdvs57qwuwh5d2z3sqsw52iabe3mqne";

/// ref_time and proof_size of the per-item messages, for the patient/doctor pair of `ehr`.
fn weights(ehr: &mut Ehr, n: u32) -> Vec<(&'static str, u64, u64)> {
    let (patient, doctor, admin) = (ehr.patient, ehr.doctor, ehr.admin);
    let fresh_provider = ehr.chain.account(&format!("fresh provider {n}"));
    let fresh_patient = ehr.chain.account(&format!("fresh patient {n}"));
    let calls = vec![
        (
            "register_provider",
            ehr.register_provider(admin, fresh_provider, ProviderRole::Doctor).gas_consumed,
        ),
        ("register_patient", ehr.register_patient(fresh_patient).gas_consumed),
        (
            "add_record",
            ehr.add_record(
                patient,
                patient,
                RecordCategory::LabResult,
                doc_hash(1_000_000 + n),
                LOCATOR,
                None,
            )
            .gas_consumed,
        ),
        (
            "add_record (provider)",
            ehr.add_record(
                doctor,
                patient,
                RecordCategory::LabResult,
                doc_hash(2_000_000 + n),
                LOCATOR,
                None,
            )
            .gas_consumed,
        ),
        (
            "grant_access",
            ehr.grant_access(patient, fresh_provider, Scope::read(&[RecordCategory::LabResult]), None)
                .gas_consumed,
        ),
        ("request_access", ehr.request_access(doctor, patient, RecordCategory::LabResult).gas_consumed),
        ("records (page of 10)", ehr.records_page(doctor, patient, 0, 10).gas_consumed),
        ("revoke_access", ehr.revoke_access(patient, fresh_provider).gas_consumed),
    ];
    calls.into_iter().map(|(name, w)| (name, w.ref_time(), w.proof_size())).collect()
}

fn populate(ehr: &mut Ehr, round: u32, patients: u32, records: u32, grants: u32) {
    let (admin, patient) = (ehr.admin, ehr.patient);
    for i in 0..patients {
        let other: AccountId = ehr.chain.account(&format!("crowd patient {round}/{i}"));
        ehr.register_patient(other).value.unwrap();
    }
    for i in 0..records {
        ehr.add_record(
            patient,
            patient,
            RecordCategory::LabResult,
            doc_hash(round * 100_000 + i),
            LOCATOR,
            None,
        )
        .value
        .unwrap();
    }
    for i in 0..grants {
        let provider = ehr.chain.account(&format!("crowd provider {round}/{i}"));
        ehr.register_provider(admin, provider, ProviderRole::Lab).value.unwrap();
        ehr.grant_access(patient, provider, Scope::read(&[RecordCategory::LabResult]), None).value.unwrap();
    }
}

#[test]
fn message_weights_do_not_grow_with_patients_records_or_grants() {
    let mut ehr = Ehr::with_cast();
    let (patient, doctor) = (ehr.patient, ehr.doctor);
    ehr.grant_access(patient, doctor, Scope::read_write(&[RecordCategory::LabResult]), None).value.unwrap();
    populate(&mut ehr, 1, 2, 10, 2);
    let small = weights(&mut ehr, 1);
    populate(&mut ehr, 2, 60, 120, 60);
    let large = weights(&mut ehr, 2);
    for ((name, ref_small, proof_small), (_, ref_large, proof_large)) in small.iter().zip(&large) {
        println!("{name:24} ref_time {ref_small:>13} -> {ref_large:>13}   proof_size {proof_small:>7} -> {proof_large:>7}");
        // Identical code paths read and write the same number of entries of the same size;
        // allow 1% for SCALE compact encodings of larger counters.
        assert!(
            (*ref_large as f64) <= (*ref_small as f64) * 1.01,
            "{name}: ref_time grew from {ref_small} to {ref_large}"
        );
        assert!(
            (*proof_large as f64) <= (*proof_small as f64) * 1.01,
            "{name}: proof_size grew from {proof_small} to {proof_large}"
        );
    }
}
