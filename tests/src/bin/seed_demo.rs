//! Walks the seed paper's algorithm (register patient, admin registers doctor, add record,
//! grant, view, revoke, view again) on an in-process drink chain running the release artifacts,
//! printing each outcome and the events the contracts emitted. Run through `scripts/demo.sh`.

use ehr_tests::{ehr::doc_hash, short_account as short, Call, Ehr};
use ehr_types::{ProviderRole, RecordCategory, Scope};

fn show<R: std::fmt::Debug>(step: &str, call: Call<R>) -> R {
    println!("\n{step}");
    println!("  -> {:?}{}", call.value, if call.reverted { "  (reverted, no events)" } else { "" });
    for event in &call.events {
        println!("  event: {}", event.summary());
    }
    call.value
}

fn main() {
    let mut ehr = Ehr::deploy();
    let (admin, patient, doctor, stranger) = (ehr.admin, ehr.patient, ehr.doctor, ehr.stranger);
    println!("EHR contracts on an in-process chain (drink), release artifacts");
    println!("  provider registry {}", short(&ehr.registry.address));
    println!("  patient records   {}", short(&ehr.records.address));
    println!(
        "  admin {}  patient {}  doctor {}  stranger {}",
        short(&admin),
        short(&patient),
        short(&doctor),
        short(&stranger)
    );

    let _ = show("Step 1: patient registers", ehr.register_patient(patient));
    let _ = show("Step 1: patient registers again", ehr.register_patient(patient));
    let _ = show(
        "Step 2: stranger tries to register a doctor",
        ehr.register_provider(stranger, doctor, ProviderRole::Doctor),
    );
    let _ = show(
        "Step 2: admin registers the doctor",
        ehr.register_provider(admin, doctor, ProviderRole::Doctor),
    );
    let document = doc_hash(2024);
    println!("\n(the lab report is encrypted and stored off-chain; only its sha-256 goes on-chain)");
    let _ = show(
        "Step 3: patient anchors a lab report",
        ehr.add_record(
            patient,
            patient,
            RecordCategory::LabResult,
            document,
            b"ipfs://bafkreilabreport",
            None,
        ),
    );
    let _ = show(
        "Step 6: doctor asks to read lab results, without consent",
        ehr.request_access(doctor, patient, RecordCategory::LabResult),
    );
    let _ = show(
        "Step 4: patient grants the doctor read access to lab results",
        ehr.grant_access(patient, doctor, Scope::read(&[RecordCategory::LabResult]), None),
    );
    let _ = show("Step 6: doctor asks again", ehr.request_access(doctor, patient, RecordCategory::LabResult));
    let _ = show(
        "Step 6: doctor asks for imaging (outside the grant)",
        ehr.request_access(doctor, patient, RecordCategory::Imaging),
    );
    println!("\nStep 6: doctor lists the records (a read-only query)");
    if let Ok(page) = ehr.records_page(doctor, patient, 0, 10).value {
        for record in page.items {
            println!(
                "  record {} {:?} sha256 {} at {} by {} in block {}",
                record.id,
                record.category,
                ehr_tests::short_hex(&record.content_hash),
                String::from_utf8_lossy(&record.locator),
                short(&record.author),
                record.added_at
            );
        }
    }
    let _ = show("Step 5: patient revokes the doctor", ehr.revoke_access(patient, doctor));
    let _ = show("Step 5: patient revokes again", ehr.revoke_access(patient, doctor));
    let _ = show(
        "Step 6: doctor asks after revocation",
        ehr.request_access(doctor, patient, RecordCategory::LabResult),
    );
    println!("\nEvery access decision above left an AccessRequested audit event, denials included.");
}
