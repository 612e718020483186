//! The audit trail out of a real node: `ai-oracle audit export` writes every access decision of
//! the records contract as JSON Lines, granted and denied, with the accessor's role and the
//! block's time; the export goes straight into `ai-oracle audit detect`; `ai-oracle audit
//! verify` proves the trail's per-patient hash chains complete and unaltered, and names the
//! line where one was cut or changed.

use ehr_audit::{AuditLine, Decision, Review};
use ehr_client::{ss58, Submitted};
use ehr_types::{
    emergency::{EmergencyOutcome, EmergencyPurpose},
    AccessDecision, ProviderRole, RecordCategory, RecordsError, RegistryError, Scope,
};

use crate::{id, oracle_cli, start_node, work_dir, Cast, Suite};

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

#[tokio::test(flavor = "multi_thread")]
async fn verify_proves_the_trail_complete_and_names_a_removed_or_altered_line() {
    let dir = work_dir("audit-verify");
    let s = Suite::deploy(&dir).await;
    let c = &s.cast;
    let patient = id(&c.patient);
    for doctor in [&c.doctor, &c.other_doctor] {
        let r: Submitted<Result<(), RegistryError>> =
            s.submit(&s.registry, &c.admin, "register_provider", (id(doctor), ProviderRole::Doctor)).await;
        assert_eq!(r.value(), &Ok(()));
    }
    let r: Submitted<Result<(), RecordsError>> =
        s.submit(&s.records, &c.patient, "register_patient", ()).await;
    assert_eq!(r.value(), &Ok(()));
    let scope = Scope::read(&[RecordCategory::Summary]);
    let r: Submitted<Result<(), RecordsError>> =
        s.submit(&s.records, &c.patient, "grant_access", (id(&c.doctor), scope, None::<u32>)).await;
    assert_eq!(r.value(), &Ok(()));
    // The other doctor has no grant: denied; then it opens emergency access and reads.
    let request = |who| s.submit(&s.records, who, "request_access", (patient, RecordCategory::Allergy));
    let r: Submitted<Result<AccessDecision, RecordsError>> = request(&c.other_doctor).await;
    assert!(!r.value().as_ref().unwrap().is_granted());
    let r: Submitted<Result<EmergencyOutcome, RecordsError>> = s
        .submit(&s.records, &c.other_doctor, "open_emergency", (patient, EmergencyPurpose::Etreat, 20u32))
        .await;
    assert_eq!(r.value(), &Ok(EmergencyOutcome::Opened(0)));
    for who in [&c.other_doctor, &c.doctor, &c.patient] {
        let _: Submitted<Result<AccessDecision, RecordsError>> = request(who).await;
    }

    let node = s.dev_node.url().to_string();
    let deployment = dir.join("deployment.json");
    let chain_args = ["--node", node.as_str(), "--deployment", deployment.to_str().unwrap()];
    let cli = |args: &[&str]| oracle_cli(&dir, &[&["audit"][..], args, &chain_args[..]].concat());

    // Straight from the node: 4 links, the last one the head in storage.
    let (ok, text) = cli(&["verify"]);
    assert!(ok, "{text}");
    assert!(
        text.contains("1 patients' audit chains, 4 links: complete and unaltered, 1 ending at the head"),
        "{text}"
    );

    let out = dir.join("trail.jsonl");
    let (ok, text) = cli(&["export", "--out", out.to_str().unwrap()]);
    assert!(ok, "{text}");
    let trail = std::fs::read_to_string(&out).unwrap();
    let lines: Vec<AuditLine> = trail.lines().map(|l| AuditLine::parse(l).unwrap()).collect();
    assert_eq!(lines.iter().map(|l| l.seq).collect::<Vec<_>>(), vec![Some(1), Some(2), Some(3), Some(4)]);
    assert_eq!(lines[0].prev.as_deref(), Some(format!("0x{}", "0".repeat(64)).as_str()));
    assert_eq!(lines.iter().map(|l| l.emergency).collect::<Vec<_>>(), vec![false, true, false, false]);
    // The emergency read carries its case's review as it stands: not reviewed yet.
    assert_eq!(
        lines.iter().map(|l| l.review).collect::<Vec<_>>(),
        vec![None, Some(Review::Pending), None, None]
    );
    assert_eq!(lines.iter().map(|l| l.case).collect::<Vec<_>>(), vec![None, Some(0), None, None]);
    let (ok, text) = cli(&["verify", out.to_str().unwrap()]);
    assert!(ok, "{text}");

    // A line removed: the gap is named at the line after it.
    let edited = |name: &str, lines: Vec<String>| {
        let path = dir.join(name);
        std::fs::write(&path, lines.join("\n") + "\n").unwrap();
        path
    };
    let original: Vec<String> = trail.lines().map(str::to_string).collect();
    let mut removed = original.clone();
    removed.remove(1);
    let path = edited("removed.jsonl", removed);
    let (ok, text) = cli(&["verify", path.to_str().unwrap()]);
    assert!(!ok, "{text}");
    assert!(text.contains("line 2: gap in patient") && text.contains("link 2 is missing"), "{text}");

    // A line altered (the emergency read made to look like a normal one): named.
    let mut altered = original.clone();
    altered[1] = altered[1].replace("\"emergency\":true", "\"emergency\":false");
    assert_ne!(altered[1], original[1]);
    let path = edited("altered.jsonl", altered);
    let (ok, text) = cli(&["verify", path.to_str().unwrap()]);
    assert!(!ok, "{text}");
    assert!(text.contains("line 2: altered"), "{text}");

    // The last line cut off: only the head on the node shows it.
    let mut cut = original.clone();
    cut.pop();
    let path = edited("cut.jsonl", cut);
    let (ok, text) = cli(&["verify", path.to_str().unwrap()]);
    assert!(!ok && text.contains("links 4..=4 are missing at the end"), "{text}");
    let (ok, text) = oracle_cli(&dir, &["audit", "verify", path.to_str().unwrap(), "--offline"]);
    assert!(ok && text.contains("offline"), "{text}");
}

/// A small hospital on the node: 7 honest doctors in care teams, each reading its team's
/// patients, and a snooper every patient's grant also covers (an on-call pool), which reads
/// every chart. `ai-oracle audit watch` flags the snooper alone and posts its alert on chain.
#[tokio::test(flavor = "multi_thread")]
async fn a_snooper_on_the_node_is_flagged_and_its_alert_is_on_chain() {
    use ehr_client::keypair;
    use ehr_types::alerts::{AlertReason, StoredAlert};
    use futures::future::join_all;

    let dir = work_dir("audit-snooper");
    let (dev_node, node) = start_node(&dir).await;
    let (ok, out) = oracle_cli(&dir, &["keygen"]);
    assert!(ok, "{out}");
    let (ok, out) = oracle_cli(&dir, &["deploy", "--node", dev_node.url()]);
    assert!(ok, "ai-oracle deploy: {out}");
    let deployment = ehr_client::deploy::Deployment::load(&dir.join("deployment.json")).unwrap();
    let s = Suite::open(dev_node, node, deployment, Cast::dev());
    let c = &s.cast;

    let doctors: Vec<_> = (0..8).map(|i| keypair(&format!("//Hospital/doctor/{i}")).unwrap()).collect();
    let patients: Vec<_> = (0..12).map(|i| keypair(&format!("//Hospital/patient/{i}")).unwrap()).collect();
    let snooper = &doctors[7];
    for account in doctors.iter().chain(&patients) {
        s.node.transfer(&c.admin, &id(account), 10u128.pow(16)).await.unwrap();
    }
    for doctor in &doctors {
        let r: Submitted<Result<(), RegistryError>> =
            s.submit(&s.registry, &c.admin, "register_provider", (id(doctor), ProviderRole::Doctor)).await;
        assert_eq!(r.value(), &Ok(()));
    }
    // Care teams {0,1}, {2,3}, {4,5}, {6}: patient p is treated by team p % 4.
    let team = |p: usize| match p % 4 {
        3 => vec![6],
        t => vec![2 * t, 2 * t + 1],
    };
    let scope = Scope::read(&[RecordCategory::Summary, RecordCategory::LabResult]);
    join_all(patients.iter().enumerate().map(|(p, patient)| {
        let s = &s;
        let grantees: Vec<_> = team(p).into_iter().chain([7]).map(|d| id(&doctors[d])).collect();
        async move {
            let r: Submitted<Result<(), RecordsError>> =
                s.submit(&s.records, patient, "register_patient", ()).await;
            assert_eq!(r.value(), &Ok(()));
            for grantee in grantees {
                let r: Submitted<Result<(), RecordsError>> =
                    s.submit(&s.records, patient, "grant_access", (grantee, scope, None::<u32>)).await;
                assert_eq!(r.value(), &Ok(()));
            }
        }
    }))
    .await;
    // Each honest doctor reads its team's patients twice; the snooper reads every chart.
    join_all(doctors.iter().enumerate().map(|(d, doctor)| {
        let s = &s;
        let charts: Vec<_> = (0..patients.len())
            .filter(|&p| d == 7 || team(p).contains(&d))
            .flat_map(|p| [(p, RecordCategory::Summary), (p, RecordCategory::LabResult)])
            .map(|(p, category)| (id(&patients[p]), category))
            .collect();
        async move {
            for (patient, category) in charts {
                let r: Submitted<Result<AccessDecision, RecordsError>> =
                    s.submit(&s.records, doctor, "request_access", (patient, category)).await;
                assert!(r.value().as_ref().unwrap().is_granted());
            }
        }
    }))
    .await;

    let best = s.node.best_block().await.unwrap().0;
    let node = s.dev_node.url().to_string();
    let (ok, text) = oracle_cli(
        &dir,
        &[
            "audit",
            "watch",
            "--node",
            &node,
            "--follow",
            "best",
            "--until-block",
            &best.to_string(),
            "--poll-ms",
            "200",
        ],
    );
    assert!(ok, "{text}");
    assert!(text.contains("posted 1 alerts"), "{text}");
    let alert: Option<StoredAlert> = s.query(&s.scores, &c.admin, "alert", (0u32,)).await.value;
    let alert = alert.expect("alert 0 is on chain");
    assert_eq!(alert.alert.accessor, id(snooper), "{text}");
    assert!(alert.alert.reasons.contains(AlertReason::Patients), "{:?}", alert.alert.reasons.reasons());
    assert!(alert.alert.score_bucket >= 4 && alert.acknowledged.is_none());
    assert!(text.contains(&ss58(&id(snooper))), "{text}");

    // Watching again posts nothing twice: the alert on chain counts.
    let (ok, text) = oracle_cli(
        &dir,
        &["audit", "watch", "--node", &node, "--follow", "best", "--until-block", &best.to_string()],
    );
    assert!(ok && text.contains("posted 0 alerts"), "{text}");
}
