//! Break-glass on a real node, through the `ehr` library and a vault process that holds the
//! institution's emergency key: a Doctor without a grant reads an opted-in patient's record
//! only under open emergency access, audited as such; an Auditor reviews the case; opting out
//! ends it.

use ehr_envelope::KeyPair;
use ehr_types::{
    emergency::{EmergencyPolicy, EmergencyPurpose, ReviewReason, ReviewVerdict},
    ProviderRole, RecordCategory,
};

use crate::{id, vault::VaultProcess, work_dir, EhrEvent, Suite};

#[tokio::test(flavor = "multi_thread")]
async fn a_doctor_reads_an_opted_in_patients_record_only_under_emergency_access() {
    let dir = work_dir("emergency");
    let s = Suite::deploy(&dir).await;
    let c = &s.cast;
    let emergency = KeyPair::generate();
    let key_file = dir.join("emergency.key");
    ehr_envelope::keyfile::write(&key_file, &emergency).unwrap();
    let vault =
        VaultProcess::start_with(&dir, s.dev_node.url(), &["--emergency-key", key_file.to_str().unwrap()]);
    let endpoints = ehr_cli::Endpoints {
        node: s.dev_node.url().to_string(),
        deployment: dir.join("deployment.json"),
        artifacts: ehr_sandbox::artifacts_dir(),
        vault: vault.url.clone(),
    };
    let session = |who: &ehr_client::Keypair| ehr_cli::Session::connect(&endpoints, who.clone());
    let (admin, patient) = (session(&c.admin).await.unwrap(), session(&c.patient).await.unwrap());
    let (doctor, auditor) = (session(&c.doctor).await.unwrap(), session(&c.other_doctor).await.unwrap());
    // Short deadlines, so that an unreviewed case is overdue within the test.
    admin.set_emergency_policy(EmergencyPolicy { max_blocks: 50, review_blocks: 2 }).await.unwrap();
    admin.register_provider(&doctor.account, ProviderRole::Doctor).await.unwrap();
    admin.register_provider(&auditor.account, ProviderRole::Auditor).await.unwrap();
    let (patient_keys, doctor_keys) = (KeyPair::generate(), KeyPair::generate());
    patient.register_patient().await.unwrap();
    patient.publish_key(&patient_keys, true).await.unwrap();
    doctor.publish_key(&doctor_keys, false).await.unwrap();

    // Opting in needs the institution's key on chain first.
    let err = patient.set_emergency_opt_in(true, &patient_keys).await.unwrap_err();
    assert!(format!("{err:#}").contains("no emergency key"), "{err:#}");
    admin.set_emergency_key(&emergency.public()).await.unwrap();
    let document = b"allergy: penicillin (anaphylaxis)".to_vec();
    patient.add_record(&patient.account, RecordCategory::Allergy, &document).await.unwrap();
    // Opting in wraps the existing record for the emergency key; later records are wrapped at
    // upload.
    assert_eq!(patient.set_emergency_opt_in(true, &patient_keys).await.unwrap(), 1);
    let stored =
        patient.add_record(&patient.account, RecordCategory::Allergy, b"second".as_ref()).await.unwrap();
    assert!(stored.recipients.contains(&s.records.address), "{:?}", stored.recipients);

    // No grant: denied, audited.
    let err = doctor.read_record(&patient.account, 0, &doctor_keys).await.unwrap_err();
    assert!(format!("{err:#}").contains("NoGrant"), "{err:#}");
    // Emergency access: the vault re-wraps the record's key from the emergency key.
    let case = doctor.open_emergency(&patient.account, EmergencyPurpose::Etreat, 20).await.unwrap();
    assert_eq!(case, 0);
    assert_eq!(doctor.read_record(&patient.account, 0, &doctor_keys).await.unwrap(), document);
    let log = std::fs::read_to_string(dir.join("vault.log")).unwrap();
    assert!(log.contains("released under emergency access"), "{log}");

    // The patient sees it in its trail; the auditor reviews it.
    let trail = patient.audit_trail(&patient.account, 0, None).await.unwrap();
    assert!(trail
        .iter()
        .any(|e| matches!(&e.event, EhrEvent::EmergencyOpened(o) if o.clinician == doctor.account)));
    assert!(trail.iter().any(
        |e| matches!(&e.event, EhrEvent::AccessRequested(r) if r.accessor == doctor.account && r.emergency && r.decision.is_granted())
    ));
    let cases = auditor.emergencies(true).await.unwrap();
    assert_eq!(cases.iter().map(|(id, _)| *id).collect::<Vec<_>>(), vec![0]);
    let err = doctor
        .review_emergency(0, ReviewVerdict::Accepted, ReviewReason::EmergencyDocumented)
        .await
        .unwrap_err();
    assert!(format!("{err:#}").contains("NotAuditor"), "{err:#}");
    auditor.review_emergency(0, ReviewVerdict::Accepted, ReviewReason::EmergencyDocumented).await.unwrap();
    assert!(auditor.emergencies(true).await.unwrap().is_empty());

    // It is never extended; once closed, its audited request opens nothing more (fetched
    // straight from the vault, within the audit window: the read is not allowed now).
    let err = doctor.open_emergency(&patient.account, EmergencyPurpose::Btg, 1).await.unwrap_err();
    assert!(format!("{err:#}").contains("EmergencyAlreadyOpen"), "never extended: {err:#}");
    doctor.close_emergency(0).await.unwrap();
    let record0 = patient.record(&patient.account, 0).await.unwrap();
    let err = doctor.vault.fetch(&doctor.signer, &patient.account, &record0.content_hash).await.unwrap_err();
    assert!(err.to_string().contains("NoGrant"), "{err}");

    // Opted out: the emergency keys are gone, a new case opens nothing more.
    assert_eq!(doctor.open_emergency(&patient.account, EmergencyPurpose::Btg, 20).await.unwrap(), 1);
    assert_eq!(patient.set_emergency_opt_in(false, &patient_keys).await.unwrap(), 2);
    let err = doctor.read_record(&patient.account, 1, &doctor_keys).await.unwrap_err();
    assert!(format!("{err:#}").contains("not opted in"), "{err:#}");
    doctor.close_emergency(1).await.unwrap();

    // An unreviewed case past its deadline is raised on chain by anyone (here the patient):
    // case 2; case 1, closed early, keeps the deadline it was opened with and is not due yet.
    assert_eq!(doctor.open_emergency(&patient.account, EmergencyPurpose::Btg, 1).await.unwrap(), 2);
    for _ in 0..4 {
        s.node.transfer(&c.admin, &id(&c.other_patient), 1_000_000_000).await.unwrap();
    }
    assert_eq!(patient.raise_overdue().await.unwrap(), 1);
    assert_eq!(patient.raise_overdue().await.unwrap(), 0, "raised once");
    let cases = auditor.emergencies(true).await.unwrap();
    assert!(
        matches!(cases.as_slice(), [(1, one), (2, two)] if !one.overdue_raised && two.overdue_raised),
        "{cases:?}"
    );
    let trail = patient.audit_trail(&patient.account, 0, None).await.unwrap();
    assert!(trail.iter().any(|e| matches!(&e.event, EhrEvent::EmergencyReviewOverdue(o) if o.case == 2)));
    assert_eq!(patient.account, id(&c.patient));
}
