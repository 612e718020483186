//! Prints, for every contract message, the weight it consumed (ref_time, proof_size) and the
//! storage deposit it charged, measured in drink against the release artifacts; then each
//! contract's wasm size. Run through `scripts/bench-contracts.sh`.

use ehr_tests::{artifacts_dir, ehr::doc_hash, Call, Ehr};
use ehr_types::{ProviderRole, RecordCategory, Scope};

struct Row {
    contract: &'static str,
    message: &'static str,
    ref_time: u64,
    proof_size: u64,
    deposit: i128,
}

struct Bench {
    ehr: Ehr,
    rows: Vec<Row>,
}

impl Bench {
    fn row<R: std::fmt::Debug>(&mut self, contract: &'static str, message: &'static str, call: Call<R>) -> R {
        assert!(!call.reverted, "{message} reverted: {:?}", call.value);
        self.rows.push(Row {
            contract,
            message,
            ref_time: call.gas_consumed.ref_time(),
            proof_size: call.gas_consumed.proof_size(),
            deposit: call.storage_deposit,
        });
        call.value
    }
}

const LOCATOR: &[u8] = b"ipfs://bafybeihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku";

fn main() {
    let ehr = Ehr::deploy();
    let mut b = Bench { ehr, rows: Vec::new() };
    let (admin, patient, doctor, lab, stranger) =
        (b.ehr.admin, b.ehr.patient, b.ehr.doctor, b.ehr.lab, b.ehr.stranger);
    let (registry, records) = (b.ehr.registry.clone(), b.ehr.records.clone());
    let r = "registry";
    let p = "records";

    // Provider registry.
    let call = b.ehr.register_provider(admin, doctor, ProviderRole::Doctor);
    b.row(r, "register_provider", call).unwrap();
    b.ehr.register_provider(admin, lab, ProviderRole::Lab).value.unwrap();
    let call = b.ehr.suspend_provider(admin, lab);
    b.row(r, "suspend_provider", call).unwrap();
    let call = b.ehr.reinstate_provider(admin, lab);
    b.row(r, "reinstate_provider", call).unwrap();
    let call = b.ehr.propose_admin(admin, stranger);
    b.row(r, "propose_admin", call).unwrap();
    let call = b.ehr.cancel_admin_proposal(admin);
    b.row(r, "cancel_admin_proposal", call).unwrap();
    b.ehr.propose_admin(admin, stranger).value.unwrap();
    let call = b.ehr.accept_admin(stranger);
    b.row(r, "accept_admin", call).unwrap();
    let call =
        b.ehr.chain.call::<_, Option<ehr_types::ProviderInfo>>(&registry, stranger, "provider", doctor);
    b.row(r, "provider", call);
    let call = b.ehr.chain.call::<_, bool>(
        &registry,
        stranger,
        "is_active_provider",
        (doctor, ProviderRole::Doctor),
    );
    b.row(r, "is_active_provider", call);
    let call = b.ehr.chain.call::<_, ink::primitives::AccountId>(&registry, stranger, "admin", ());
    b.row(r, "admin", call);
    let call = b.ehr.chain.call::<_, u32>(&registry, stranger, "provider_count", ());
    b.row(r, "provider_count", call);

    // Patient records.
    let call = b.ehr.register_patient(patient);
    b.row(p, "register_patient", call).unwrap();
    let call = b.ehr.set_profile_commitment(patient, Some(doc_hash(99)));
    b.row(p, "set_profile_commitment", call).unwrap();
    let call = b.ehr.add_record(patient, patient, RecordCategory::LabResult, doc_hash(1), LOCATOR, None);
    b.row(p, "add_record (patient)", call).unwrap();
    let call = b.ehr.add_record(patient, patient, RecordCategory::LabResult, doc_hash(2), LOCATOR, Some(0));
    b.row(p, "add_record (correction)", call).unwrap();
    let call = b.ehr.grant_access(patient, doctor, Scope::read(&[RecordCategory::LabResult]), None);
    b.row(p, "grant_access (new)", call).unwrap();
    let call =
        b.ehr.grant_access(patient, doctor, Scope::read_write(&[RecordCategory::LabResult]), Some(1_000));
    b.row(p, "grant_access (replace)", call).unwrap();
    let call = b.ehr.add_record(doctor, patient, RecordCategory::LabResult, doc_hash(3), LOCATOR, None);
    b.row(p, "add_record (provider)", call).unwrap();
    let call = b.ehr.add_record(lab, patient, RecordCategory::LabResult, doc_hash(4), LOCATOR, None);
    b.row(p, "add_record (denied, audited)", call).unwrap();
    let call = b.ehr.request_access(doctor, patient, RecordCategory::LabResult);
    b.row(p, "request_access (granted)", call).unwrap();
    let call = b.ehr.request_access(lab, patient, RecordCategory::LabResult);
    b.row(p, "request_access (denied)", call).unwrap();
    for n in 10..60 {
        b.ehr
            .add_record(patient, patient, RecordCategory::LabResult, doc_hash(n), LOCATOR, None)
            .value
            .unwrap();
    }
    let call = b.ehr.records_page(doctor, patient, 0, 10);
    b.row(p, "records (provider, 10)", call).unwrap();
    let call = b.ehr.records_page(doctor, patient, 0, 50);
    b.row(p, "records (provider, 50)", call).unwrap();
    let call = b.ehr.record(doctor, patient, 0);
    b.row(p, "record", call).unwrap();
    let call =
        b.ehr.chain.call::<_, Option<u32>>(&records, stranger, "anchored_record", (patient, doc_hash(1)));
    b.row(p, "anchored_record", call);
    let call = b.ehr.grant_of(doctor, patient, doctor);
    b.row(p, "grant_of", call).unwrap();
    let call = b.ehr.grants_page(patient, 0, 10);
    b.row(p, "grants (1 of 10)", call).unwrap();
    let call = b.ehr.revoke_access(patient, doctor);
    b.row(p, "revoke_access", call).unwrap();
    let call = b.ehr.chain.call::<_, Option<ehr_types::Patient>>(&records, stranger, "patient", patient);
    b.row(p, "patient", call);
    let call = b.ehr.chain.call::<_, u32>(&records, stranger, "patient_count", ());
    b.row(p, "patient_count", call);

    println!("Gas per message, measured in drink (pallet-contracts 31) against the release artifacts");
    println!("{:<9} {:<30} {:>15} {:>11} {:>9}", "contract", "message", "ref_time", "proof_size", "deposit");
    for row in &b.rows {
        println!(
            "{:<9} {:<30} {:>15} {:>11} {:>9}",
            row.contract, row.message, row.ref_time, row.proof_size, row.deposit
        );
    }
    println!();
    println!("Wasm size (bytes), {}", artifacts_dir().display());
    for name in ["provider_registry", "patient_records"] {
        let path = artifacts_dir().join(format!("{name}.wasm"));
        let size = std::fs::metadata(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())).len();
        println!("{name:<20} {size:>8}");
    }
}
