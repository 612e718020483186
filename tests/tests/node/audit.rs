//! The audit trail out of a real node: `ai-oracle audit export` writes every access decision of
//! the records contract as JSON Lines, granted and denied, with the accessor's role and the
//! block's time; the export goes straight into `ai-oracle audit detect`.

use ehr_audit::{AuditLine, Decision};
use ehr_client::{ss58, Submitted};
use ehr_types::{AccessDecision, ProviderRole, RecordCategory, RecordsError, RegistryError, Scope};

use crate::{id, oracle_cli, work_dir, Suite};

#[tokio::test(flavor = "multi_thread")]
async fn the_export_holds_every_access_decision_and_round_trips_through_detect() {
    let dir = work_dir("audit-export");
    let s = Suite::deploy(&dir).await;
    let c = &s.cast;
    let (patient, doctor, stranger) = (id(&c.patient), id(&c.doctor), id(&c.other_doctor));
    let r: Submitted<Result<(), RegistryError>> =
        s.submit(&s.registry, &c.admin, "register_provider", (doctor, ProviderRole::Doctor)).await;
    assert_eq!(r.value(), &Ok(()));
    let r: Submitted<Result<(), RecordsError>> =
        s.submit(&s.records, &c.patient, "register_patient", ()).await;
    assert_eq!(r.value(), &Ok(()));
    let scope = Scope::read(&[RecordCategory::Summary]);
    let r: Submitted<Result<(), RecordsError>> =
        s.submit(&s.records, &c.patient, "grant_access", (doctor, scope, None::<u32>)).await;
    assert_eq!(r.value(), &Ok(()));
    // Granted, denied out of scope, denied to an account the registry does not know, and the
    // patient's own request.
    let requests = [
        (&c.doctor, RecordCategory::Summary),
        (&c.doctor, RecordCategory::Medication),
        (&c.other_doctor, RecordCategory::Summary),
        (&c.patient, RecordCategory::Summary),
    ];
    let mut decisions = Vec::new();
    for (who, category) in requests {
        let r: Submitted<Result<AccessDecision, RecordsError>> =
            s.submit(&s.records, who, "request_access", (patient, category)).await;
        decisions.push(*r.value().as_ref().unwrap());
    }
    assert!(decisions[0].is_granted() && !decisions[1].is_granted() && !decisions[2].is_granted());

    let out = dir.join("trail.jsonl");
    let node = s.dev_node.url().to_string();
    let deployment = dir.join("deployment.json");
    let (ok, text) = oracle_cli(
        &dir,
        &[
            "audit",
            "export",
            "--node",
            &node,
            "--deployment",
            deployment.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert!(ok, "{text}");
    assert!(text.contains("exported 4 access decisions"), "{text}");
    let lines =
        ehr_audit::read_lines(std::fs::File::open(&out).map(std::io::BufReader::new).unwrap()).unwrap();
    let summary: Vec<(String, &str, &str, Decision, Option<&str>)> = lines
        .iter()
        .map(|l: &AuditLine| {
            (l.accessor.clone(), l.role.as_str(), l.category.as_str(), l.decision, l.reason.as_deref())
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            (ss58(&doctor), "Doctor", "Summary", Decision::Granted, None),
            (ss58(&doctor), "Doctor", "Medication", Decision::Denied, Some("OutOfScope")),
            (ss58(&stranger), "Unregistered", "Summary", Decision::Denied, Some("NoGrant")),
            (ss58(&patient), "Patient", "Summary", Decision::Granted, None),
        ]
    );
    for line in &lines {
        assert_eq!(line.patient, ss58(&patient));
        assert!(!line.emergency);
        assert!(line.time_ms > 1_600_000_000_000, "a block timestamp: {}", line.time_ms);
    }
    assert!(lines.windows(2).all(|w| w[0].block <= w[1].block), "oldest first");

    // The export is the detector's input as it is.
    let (ok, text) = oracle_cli(&dir, &["audit", "detect", out.to_str().unwrap(), "--json"]);
    assert!(ok, "{text}");
    let reports: Vec<serde_json::Value> = serde_json::from_str(&text).unwrap();
    assert_eq!(reports.len(), 3, "three accessors: {text}");
}
