//! The oracle on a real node, on the private path: `ai-oracle deploy` (which publishes the
//! oracle's encryption key), `post` and `run` reading documents through a real vault process
//! after their own audited requests; tampered envelopes, replayed and forged attestations
//! refused; `run` killed at each of its kill points and restarted, consent given late and a
//! document uploaded late — every record scored exactly once, counted on chain.

use std::{
    collections::HashMap,
    io::Read,
    path::Path,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use ehr_client::{deploy::Deployment, EhrEvent, Keypair};
use ehr_envelope::Envelope;
use ehr_sandbox::ehr::sign_batch;
use ehr_types::{
    scores::{AttestationBatch, ScoreAttestation, ScoreBand, ScoreResult},
    AccessDecision, AccountId, AddRecordOutcome, ContentHash, ProviderRole, RecordCategory, RecordsError,
    RegistryError, Scope, ScoreError,
};

use crate::{id, oracle_bin, oracle_cli, start_node, vault::VaultProcess, work_dir, Cast, Suite};

fn fixture(name: &str) -> Vec<u8> {
    let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../ai-oracle/fixtures").join(name);
    std::fs::read(&path).unwrap_or_else(|err| panic!("{}: {err}", path.display()))
}

/// The date `days` days ago, `YYYY-MM-DD`.
fn days_ago(days: i64) -> String {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    chrono::DateTime::from_timestamp(now - days * 86_400, 0).unwrap().date_naive().to_string()
}

/// The sample bundle measured recently (the oracle judges staleness at the scoring time).
fn recent_sample() -> Vec<u8> {
    let text = String::from_utf8(fixture("patient-a-white-female.json")).unwrap();
    text.replace("2024-06-10", &days_ago(20)).replace("2024-06-12", &days_ago(18)).into_bytes()
}

/// A distinct, scoreable document: the recent sample with `n` trailing newlines.
fn document(n: usize) -> Vec<u8> {
    let mut doc = recent_sample();
    doc.extend(std::iter::repeat_n(b'\n', n));
    doc
}

/// A node, the suite deployed by `ai-oracle deploy` (the CLI; it also publishes the oracle's
/// encryption key), and a vault process.
async fn deployed_by_cli(dir: &Path) -> (Suite, VaultProcess) {
    let (dev_node, node) = start_node(dir).await;
    let (ok, out) = oracle_cli(dir, &["keygen"]);
    assert!(ok, "{out}");
    let (ok, out) = oracle_cli(dir, &["deploy", "--node", dev_node.url()]);
    assert!(ok && out.contains("published the oracle's encryption key"), "ai-oracle deploy: {out}");
    let (ok, again) = oracle_cli(dir, &["deploy", "--node", dev_node.url()]);
    assert!(ok && again.contains("reusing the suite") && again.contains("already approved"), "{again}");
    assert!(again.contains("encryption key") && again.contains("is published"), "{again}");
    let deployment = Deployment::load(&dir.join("deployment.json")).unwrap();
    let vault = VaultProcess::start(dir, dev_node.url());
    (Suite::open(dev_node, node, deployment, Cast::dev()), vault)
}

/// The patient's session of the `ehr` library against the suite and the vault.
async fn session(s: &Suite, dir: &Path, vault: &VaultProcess, who: &Keypair) -> ehr_cli::Session {
    let endpoints = ehr_cli::Endpoints {
        node: s.dev_node.url().to_string(),
        deployment: dir.join("deployment.json"),
        artifacts: ehr_sandbox::artifacts_dir(),
        vault: vault.url.clone(),
    };
    ehr_cli::Session::connect(&endpoints, who.clone()).await.unwrap()
}

/// Registers `patient` with a fresh encryption key (returned), consenting to the oracle
/// reading its summaries or not.
async fn register(s: &Suite, p: &ehr_cli::Session, consent: bool) -> ehr_envelope::KeyPair {
    let keys = ehr_envelope::KeyPair::generate();
    p.register_patient().await.unwrap();
    p.publish_key(&keys, true).await.unwrap();
    if consent {
        p.grant(&id(&s.cast.oracle), Scope::read(&[RecordCategory::Summary]), None, &keys).await.unwrap();
    }
    keys
}

/// The patient seals `doc` for its readers, anchors and uploads it; returns the envelope hash.
async fn upload(p: &ehr_cli::Session, doc: &[u8]) -> ContentHash {
    p.add_record(&p.account, RecordCategory::Summary, doc).await.unwrap().content_hash
}

/// Anchors a sealed `doc` without uploading it; returns the upload to do later.
async fn anchor_only(
    s: &Suite,
    p: &ehr_cli::Session,
    doc: &[u8],
) -> (ehr_envelope::Envelope, Vec<(AccountId, ehr_envelope::WrappedKey)>) {
    let (readers, _) = p.readers(&p.account, RecordCategory::Summary).await.unwrap();
    let keys: Vec<_> = readers.iter().map(|(_, k)| *k).collect();
    let (envelope, wrapped) = Envelope::seal_for(doc, p.account.as_ref(), &keys).unwrap();
    let hash = envelope.content_hash();
    let locator = format!("vault://{}", hex::encode(hash)).into_bytes();
    let call: ehr_client::Submitted<Result<AddRecordOutcome, RecordsError>> = s
        .node
        .submit(
            &s.records,
            &p.signer,
            "add_record",
            &(p.account, RecordCategory::Summary, hash, locator, None::<u32>),
        )
        .await
        .unwrap();
    assert!(matches!(call.value(), Ok(AddRecordOutcome::Added(_))), "{:?}", call.value());
    (envelope, readers.iter().map(|(a, _)| *a).zip(wrapped).collect())
}

/// The hash of the model `ai-oracle deploy` approved.
fn model_hash(s: &Suite) -> ContentHash {
    let hex_hash = &s.deployment.oracle.as_ref().unwrap().models[0];
    hex::decode(&hex_hash[2..]).unwrap().try_into().unwrap()
}

fn oracle_key(dir: &Path) -> ed25519_dalek::SigningKey {
    let text = std::fs::read_to_string(dir.join("oracle.key")).unwrap();
    let seed: [u8; 32] = hex::decode(text.trim()).unwrap().try_into().unwrap();
    ed25519_dalek::SigningKey::from_bytes(&seed)
}

/// The oracle's own `AccessRequested` events on `patient`'s chart from block `from`.
async fn oracle_requests(s: &Suite, patient: &AccountId, from: u32) -> Vec<AccessDecision> {
    let oracle = id(&s.cast.oracle);
    let (best, _) = s.node.best_block().await.unwrap();
    let mut decisions = Vec::new();
    for n in from..=best {
        let hash = s.node.block_hash(n).await.unwrap().unwrap();
        for raw in s.node.contract_events_at(hash).await.unwrap() {
            if let Ok(Some(EhrEvent::AccessRequested(e))) = EhrEvent::decode(&raw) {
                if e.accessor == oracle && e.patient == *patient {
                    decisions.push(e.decision);
                }
            }
        }
    }
    decisions
}

#[tokio::test(flavor = "multi_thread")]
async fn oracle_posts_through_the_vault_and_refuses_tampered_envelopes_and_replays() {
    let dir = work_dir("oracle-post");
    let (s, vault) = deployed_by_cli(&dir).await;
    let c = &s.cast;
    let patient = id(&c.patient);
    let p = session(&s, &dir, &vault, &c.patient).await;
    let patient_keys = register(&s, &p, true).await;
    // Two doctors: the patient lets one read its risk reports, the other only its summaries.
    let doctor_keys = ehr_envelope::KeyPair::generate();
    let other_doctor_keys = ehr_envelope::KeyPair::generate();
    for (who, keys, categories) in [
        (&c.doctor, &doctor_keys, vec![RecordCategory::Summary, RecordCategory::RiskAssessment]),
        (&c.other_doctor, &other_doctor_keys, vec![RecordCategory::Summary]),
    ] {
        let r: ehr_client::Submitted<Result<(), RegistryError>> =
            s.submit(&s.registry, &c.admin, "register_provider", (id(who), ProviderRole::Doctor)).await;
        assert_eq!(r.value(), &Ok(()));
        session(&s, &dir, &vault, who).await.publish_key(keys, false).await.unwrap();
        p.grant(&id(who), Scope::read(&categories), None, &patient_keys).await.unwrap();
    }
    let doc = recent_sample();
    let envelope_hash = upload(&p, &doc).await;
    // What the oracle should find: the model's score as of today.
    std::fs::write(dir.join("sample.json"), &doc).unwrap();
    let (ok, out) = oracle_cli(&dir, &["score", "sample.json", "--as-of", &days_ago(0), "--json"]);
    assert!(ok, "{out}");
    let expected: serde_json::Value = serde_json::from_str(&out).unwrap();
    let expected_ppm = expected["risk_ppm"].as_u64().unwrap() as u32;
    let expected_band = expected["band"].as_str().unwrap().to_string();
    let start = s.node.best_block().await.unwrap().0;

    // The oracle requests (audited), fetches, decrypts, scores, seals the report, signs, posts
    // and, once the score is accepted, stores the report in the vault.
    let patient_ss58 = ehr_client::ss58(&patient);
    let url = s.dev_node.url().to_string();
    let post = |record: &str| {
        oracle_cli(
            &dir,
            &["post", "--patient", &patient_ss58, "--record", record, "--node", &url, "--vault", &vault.url],
        )
    };
    let (ok, out) = post("0");
    assert!(ok, "ai-oracle post: {out}");
    assert!(out.contains("attestation 0: accepted") && out.contains("event ScoresAccepted"), "{out}");
    assert_eq!(
        oracle_requests(&s, &patient, start).await,
        vec![AccessDecision::Granted],
        "the read is audited"
    );
    let model_hash = model_hash(&s);

    // The patient opens the sealed report and checks it: commitment and signature.
    let checked = p.read_score(&patient, &model_hash, &patient_keys).await.unwrap();
    assert_eq!(
        (checked.report.result.risk_ppm, checked.stored.input_hash, checked.stored.nonce),
        (expected_ppm, envelope_hash, 1),
        "the score is today's, of the anchored envelope"
    );
    assert_eq!(format!("{:?}", checked.report.result.band).to_lowercase(), expected_band);
    assert_ne!(expected_ppm, 20_544, "age is judged at the scoring time, not at the measurement");
    assert!(!checked.report.terms.is_empty() && !checked.report.sources.is_empty());
    // The same with the `ehr` CLI, the patient's key in a key file.
    ehr_envelope::keyfile::write(&dir.join("bob.key"), &patient_keys).unwrap();
    let (ok, out, err) = crate::roles::ehr(
        &dir,
        &url,
        &vault.url,
        &["patient", "score", "--suri", "//Bob", "--key", "bob.key"],
    );
    assert!(ok, "{out}{err}");
    assert!(
        out.contains(&format!("{expected_ppm} ppm")) && out.contains("opened; signature of oracle key"),
        "{out}"
    );
    let report = p.record(&patient, checked.stored.report_record).await.unwrap();
    assert_eq!(
        (report.category, report.author, report.content_hash),
        (RecordCategory::RiskAssessment, id(&c.oracle), checked.stored.report_hash),
        "the report is a record of the patient, anchored with the oracle as author"
    );
    // The doctor allowed to read risk reports opens it too; the other doctor cannot.
    let doctor = session(&s, &dir, &vault, &c.doctor).await;
    let by_doctor = doctor.read_score(&patient, &model_hash, &doctor_keys).await.unwrap();
    assert_eq!(by_doctor.report.result, checked.report.result);
    let other_doctor = session(&s, &dir, &vault, &c.other_doctor).await;
    let refused = other_doctor.read_score(&patient, &model_hash, &other_doctor_keys).await.unwrap_err();
    assert!(format!("{refused:#}").contains("NoConsent(OutOfScope)"), "{refused:#}");
    let refused = other_doctor
        .read_record(&patient, checked.stored.report_record, &other_doctor_keys)
        .await
        .unwrap_err();
    assert!(format!("{refused:#}").contains("denied: OutOfScope"), "{refused:#}");
    // Once the patient lets it read risk reports, the grant shares the latest report with it.
    let shared = p
        .grant(
            &id(&c.other_doctor),
            Scope::read(&[RecordCategory::Summary, RecordCategory::RiskAssessment]),
            None,
            &patient_keys,
        )
        .await
        .unwrap();
    assert_eq!(shared, 2, "the summary and the report");
    let by_other = other_doctor.read_score(&patient, &model_hash, &other_doctor_keys).await.unwrap();
    assert_eq!(by_other.report.result, checked.report.result);

    // No storage item, event or call argument on chain holds the risk or the band.
    no_score_on_chain(&s, start, checked.report.result).await;
    // The patient's audit trail shows the oracle's report record.
    let trail = p.audit_trail(&patient, start, None).await.unwrap();
    let line = format!("record   {} RiskAssessment added by the oracle", checked.stored.report_record);
    assert!(trail.iter().map(ehr_cli::describe_entry).any(|entry| entry.contains(&line)), "{trail:?}");

    // An envelope altered in the vault's store is refused by its hash, never scored.
    let upload2 = upload(&p, &document(1)).await;
    let blob = dir
        .join("vault-data/blobs/envelopes")
        .join(hex::encode(AsRef::<[u8; 32]>::as_ref(&patient)))
        .join(hex::encode(upload2));
    let mut altered = std::fs::read(&blob).unwrap();
    let last = altered.len() - 1;
    altered[last] ^= 1;
    std::fs::write(&blob, altered).unwrap();
    // (The score's report took a report id, not the chart's next one.)
    let (ok, out) = post("1");
    assert!(!ok && out.contains("it was altered"), "{out}");

    // A patient who did not consent: the oracle's attempt is a denied request on chain.
    let other = id(&c.other_patient);
    let q = session(&s, &dir, &vault, &c.other_patient).await;
    register(&s, &q, false).await;
    upload(&q, &document(2)).await;
    let (ok, out) = oracle_cli(
        &dir,
        &[
            "post",
            "--patient",
            &ehr_client::ss58(&other),
            "--record",
            "0",
            "--node",
            &url,
            "--vault",
            &vault.url,
        ],
    );
    assert!(!ok && out.contains("has not let the oracle read record 0"), "{out}");
    assert_eq!(
        oracle_requests(&s, &other, start).await,
        vec![AccessDecision::Denied(ehr_types::DenialReason::NoGrant)]
    );

    // A replayed attestation is refused, as is a batch whose signature does not match.
    let key = oracle_key(&dir);
    let batch = AttestationBatch {
        contract: s.scores.address,
        chain: s.node.genesis_hash(),
        signer: key.verifying_key().to_bytes(),
        attestations: vec![ScoreAttestation {
            patient,
            model_hash,
            input_hash: envelope_hash,
            commitment: ScoreResult { risk_ppm: 20_544, band: ScoreBand::Low }.commitment(&[5; 32]),
            report_hash: [0x7e; 32],
            // Newer than the score `post` landed: the contract keeps the newest.
            computed_at: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_millis() as u64,
            nonce: 2,
        }],
    };
    let signature = sign_batch(&key, &batch);
    type Batch = Result<Vec<Result<(), ScoreError>>, ScoreError>;
    let first: ehr_client::Submitted<Batch> =
        s.submit(&s.scores, &c.oracle, "submit_scores", (batch.clone(), signature)).await;
    assert_eq!(first.value(), &Ok(vec![Ok(())]));
    let replay: ehr_client::Submitted<Batch> =
        s.submit(&s.scores, &c.oracle, "submit_scores", (batch.clone(), signature)).await;
    assert_eq!(replay.value(), &Ok(vec![Err(ScoreError::StaleNonce)]));
    assert!(replay.events().is_empty(), "a replay stores nothing");
    let mut forged = batch.clone();
    forged.attestations[0].commitment =
        ScoreResult { risk_ppm: 990_000, band: ScoreBand::High }.commitment(&[5; 32]);
    forged.attestations[0].nonce = 3;
    let forged: ehr_client::Submitted<Batch> =
        s.submit(&s.scores, &c.oracle, "submit_scores", (forged, signature)).await;
    assert_eq!(forged.value(), &Err(ScoreError::BadSignature));
    assert!(forged.included.is_none());
}

/// Asserts that nothing on chain from block `from` holds `result`: not the raw bytes of the risk
/// (u32 LE) nor of the SCALE `(risk, band)` in any contract event's data, any contract call's
/// input data, or any storage entry of the three contracts; and that the storage, decoded
/// with each contract's layout, has no risk or band field with a value.
async fn no_score_on_chain(s: &Suite, from: u32, result: ScoreResult) {
    use ink::scale::Encode;
    let risk = result.risk_ppm.to_le_bytes();
    let sealed = result.encode();
    let holds = |bytes: &[u8]| bytes.windows(4).any(|w| w == risk) || bytes.windows(5).any(|w| w == sealed);
    let (best, _) = s.node.best_block().await.unwrap();
    let mut events = 0;
    let mut calls = 0;
    for n in from..=best {
        let hash = s.node.block_hash(n).await.unwrap().unwrap();
        for raw in s.node.contract_events_at(hash).await.unwrap() {
            // Every event of ours decodes with the shared types, none of which has a score field.
            EhrEvent::decode(&raw).unwrap().expect("an EHR event");
            assert!(!holds(&raw.data), "block {n}: an event holds the risk: {:?}", EhrEvent::decode(&raw));
            events += 1;
        }
        for contract in [&s.registry, &s.records, &s.scores] {
            for data in s.node.call_data_of_events(hash, &contract.address, |_| true).await.unwrap() {
                assert!(!holds(&data), "block {n}: a call to {} carries the risk", contract.name);
                calls += 1;
            }
        }
    }
    assert!(events > 0 && calls > 0, "the blocks were read: {events} events, {calls} calls");
    for contract in [&s.registry, &s.records, &s.scores] {
        let storage = s.node.contract_storage(&ehr_sandbox::artifacts_dir(), contract).await.unwrap();
        assert!(!storage.raw.is_empty());
        for (key, value) in &storage.raw {
            assert!(!holds(value), "{}: storage entry 0x{} holds the risk", contract.name, hex::encode(key));
        }
        let decoded = storage.decoded.to_string();
        assert!(
            !decoded.contains("risk_ppm") && !decoded.contains("\"band\""),
            "{}: {decoded}",
            contract.name
        );
    }
}

/// Runs `ai-oracle run` to completion (`--until-block`), optionally killed at `kill_at`;
/// returns whether it succeeded and its log.
fn run_once(
    dir: &Path,
    url: &str,
    vault: &str,
    log: &str,
    until: u32,
    kill_at: Option<&str>,
) -> (bool, String) {
    let out = std::fs::File::create(dir.join(log)).unwrap();
    let mut cmd = Command::new(oracle_bin());
    cmd.args(["run", "--node", url, "--vault", vault, "--state", "state.sqlite3", "--poll-ms", "200"])
        .args(["--until-block", &until.to_string()])
        .current_dir(dir)
        .env("EHR_ARTIFACTS_DIR", ehr_sandbox::artifacts_dir())
        .stdout(Stdio::from(out.try_clone().unwrap()))
        .stderr(Stdio::from(out));
    if let Some(point) = kill_at {
        cmd.env("AI_ORACLE_KILL_AT", point);
    }
    let mut child: Child = cmd.spawn().expect("starting ai-oracle run");
    let deadline = Instant::now() + Duration::from_secs(180);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("ai-oracle run did not finish:\n{}", read(dir, log));
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    (status.success(), read(dir, log))
}

fn read(dir: &Path, log: &str) -> String {
    let mut text = String::new();
    if let Ok(mut f) = std::fs::File::open(dir.join(log)) {
        let _ = f.read_to_string(&mut text);
    }
    text
}

/// The input of every score the scores contract accepted from block `from` to the best block.
async fn accepted_scores(s: &Suite, from: u32) -> Vec<ContentHash> {
    let (best, _) = s.node.best_block().await.unwrap();
    let mut hashes = Vec::new();
    for n in from..=best {
        let hash = s.node.block_hash(n).await.unwrap().unwrap();
        for raw in s.node.contract_events_at(hash).await.unwrap() {
            if raw.contract == s.scores.address {
                if let Ok(Some(EhrEvent::ScoresAccepted(e))) = EhrEvent::decode(&raw) {
                    hashes.extend(e.scores.iter().map(|s| s.input_hash));
                }
            }
        }
    }
    hashes
}

#[tokio::test(flavor = "multi_thread")]
async fn run_mode_killed_at_every_point_scores_every_record_exactly_once() {
    let dir = work_dir("oracle-run");
    let (s, vault) = deployed_by_cli(&dir).await;
    let c = &s.cast;
    let url = s.dev_node.url().to_string();
    let start = s.deployment.deployed_at_block;
    let p = session(&s, &dir, &vault, &c.patient).await;
    let q = session(&s, &dir, &vault, &c.other_patient).await;
    let patient_keys = register(&s, &p, true).await;
    let other_keys = register(&s, &q, false).await;

    // Three records of a consenting patient; one of a patient who consents only later.
    let mut expected = Vec::new();
    for n in 1..=3 {
        expected.push(upload(&p, &document(n)).await);
    }
    let late_consent = upload(&q, &document(10)).await;
    let best = || async { s.node.best_block().await.unwrap().0 };

    // Killed after reading the first document, after signing the batch, after submitting it.
    for (n, point) in ["after-read", "after-sign", "after-submit"].iter().enumerate() {
        let until = best().await;
        let (ok, log) = run_once(&dir, &url, &vault.url, &format!("run-kill-{n}.log"), until, Some(point));
        assert!(!ok && log.contains("AI_ORACLE_KILL_AT"), "killed {point}:\n{log}");
    }
    // A record whose document is anchored now but uploaded only later.
    let (late_envelope, late_keys) = anchor_only(&s, &p, &document(4)).await;
    expected.push(late_envelope.content_hash());
    let until = best().await;
    let (ok, log) = run_once(&dir, &url, &vault.url, "run-1.log", until, None);
    assert!(ok, "{log}");
    assert!(log.contains("batch settled"), "the landed batch is settled after the restart:\n{log}");
    assert!(log.contains("waiting: the document is not in the vault yet"), "{log}");
    let all_logs: String =
        (0..3).map(|n| read(&dir, &format!("run-kill-{n}.log"))).collect::<String>() + &log;
    assert!(all_logs.contains("waiting: no consent"), "{all_logs}");
    assert_eq!(accepted_scores(&s, start).await.len(), 3, "the killed batch landed exactly once");

    // The document arrives, the other patient consents (its record is re-wrapped for the
    // oracle); after the retry delay both are scored once.
    let client = ehr_vault::client::VaultClient::new(&vault.url);
    client.upload(&c.patient, &p.account, &late_envelope, &late_keys).await.unwrap();
    q.grant(&id(&c.oracle), Scope::read(&[RecordCategory::Summary]), None, &other_keys).await.unwrap();
    expected.push(late_consent);
    let mut accepted = accepted_scores(&s, start).await;
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut round = 0;
    while accepted.len() < expected.len() {
        assert!(Instant::now() < deadline, "not all scored: {accepted:?}");
        tokio::time::sleep(Duration::from_secs(2)).await;
        let until = best().await;
        let (ok, log) = run_once(&dir, &url, &vault.url, &format!("run-retry-{round}.log"), until, None);
        assert!(ok, "{log}");
        round += 1;
        accepted = accepted_scores(&s, start).await;
    }

    let mut counts: HashMap<ContentHash, usize> = HashMap::new();
    for hash in &accepted {
        *counts.entry(*hash).or_default() += 1;
    }
    for (n, hash) in expected.iter().enumerate() {
        assert_eq!(counts.get(hash), Some(&1), "record {} scored exactly once", n + 1);
    }
    assert_eq!(accepted.len(), expected.len(), "nothing else was scored");
    // Every read is on chain: the oracle's requests, the first of the late consent denied.
    let requests = oracle_requests(&s, &q.account, start).await;
    assert_eq!(
        requests.first(),
        Some(&AccessDecision::Denied(ehr_types::DenialReason::NoGrant)),
        "{requests:?}"
    );
    assert_eq!(requests.last(), Some(&AccessDecision::Granted));
    assert!(!oracle_requests(&s, &p.account, start).await.is_empty());
    // The reports reached the vault despite the kills: each patient opens and checks its latest.
    for (session, keys) in [(&p, &patient_keys), (&q, &other_keys)] {
        let checked = session.read_score(&session.account, &model_hash(&s), keys).await.unwrap();
        assert!(checked.report.result.risk_ppm > 0);
    }
    let summary = format!(
        "run-mode crash test: {} records scored exactly once across kills after read, after sign and \
         after submit; a late upload and a late consent scored once each, every read audited\n",
        expected.len()
    );
    std::fs::write(ehr_sandbox::artifacts_dir().join("..").join("e2e").join("restart-test.txt"), summary)
        .unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn run_mode_retries_a_down_node_with_backoff_then_gives_up() {
    let dir = work_dir("oracle-down");
    let (mut s, vault) = deployed_by_cli(&dir).await;
    let url = s.dev_node.url().to_string();
    s.dev_node.stop();
    let started = Instant::now();
    let (ok, out) = oracle_cli(
        &dir,
        &["run", "--node", &url, "--vault", &vault.url, "--max-retries", "2", "--state", "state.sqlite3"],
    );
    assert!(!ok, "{out}");
    assert!(out.contains("giving up after 2 consecutive failures"), "{out}");
    assert_eq!(out.matches("retrying").count(), 2, "{out}");
    assert!(started.elapsed() >= Duration::from_secs(3), "backoff of 1 s then 2 s");
}

#[tokio::test(flavor = "multi_thread")]
async fn run_mode_serves_metrics_and_stops_on_sigterm() {
    let dir = work_dir("oracle-metrics");
    let (s, vault) = deployed_by_cli(&dir).await;
    let c = &s.cast;
    let p = session(&s, &dir, &vault, &c.patient).await;
    register(&s, &p, true).await;
    upload(&p, &document(1)).await;
    let url = s.dev_node.url().to_string();
    let log = "run-metrics.log";
    let out = std::fs::File::create(dir.join(log)).unwrap();
    let mut child = Running(
        Command::new(oracle_bin())
            .args([
                "run",
                "--node",
                &url,
                "--vault",
                &vault.url,
                "--state",
                "state.sqlite3",
                "--poll-ms",
                "200",
            ])
            .args(["--metrics-listen", "127.0.0.1:0"])
            .current_dir(&dir)
            .env("EHR_ARTIFACTS_DIR", ehr_sandbox::artifacts_dir())
            .stdout(Stdio::from(out.try_clone().unwrap()))
            .stderr(Stdio::from(out))
            .spawn()
            .unwrap(),
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    let addr = loop {
        let text = read(&dir, log);
        if let Some(at) = text.find("metrics on http://") {
            let rest = &text[at + "metrics on http://".len()..];
            break rest[..rest.find('/').unwrap()].to_string();
        }
        assert!(Instant::now() < deadline, "no metrics address:\n{text}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let get = |path: &str| ureq::get(&format!("http://{addr}{path}")).call().unwrap().into_string().unwrap();
    // The counters move as the oracle works: one record scored, then a second.
    let wait_for = |needle: &'static str| {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let metrics = get("/metrics");
            if metrics.contains(needle) {
                return metrics;
            }
            assert!(Instant::now() < deadline, "{needle} never appeared:\n{metrics}\n{}", read(&dir, log));
            std::thread::sleep(Duration::from_millis(200));
        }
    };
    let metrics = wait_for("oracle_records_scored_total 1");
    assert!(
        metrics.contains("oracle_records_seen_total 1")
            && metrics.contains("oracle_batch_latency_seconds_count 1"),
        "{metrics}"
    );
    assert!(get("/health").contains("\"status\":\"ok\""));
    upload(&p, &document(2)).await;
    let metrics = wait_for("oracle_records_scored_total 2");
    assert!(metrics.contains("oracle_last_block"), "{metrics}");
    assert!(!metrics.contains(&ehr_client::ss58(&p.account)), "no patient in the metrics");

    // SIGTERM: the daemon stops cleanly.
    let status = Command::new("kill").args(["-TERM", &child.0.id().to_string()]).status().unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.0.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "did not stop on SIGTERM:\n{}", read(&dir, log));
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let text = read(&dir, log);
    assert!(status.success() && text.contains("SIGTERM"), "{status:?}\n{text}");
    assert!(!text.contains(&ehr_client::ss58(&p.account)), "no patient account in the daemon's log:\n{text}");
}

/// A child process killed and reaped when dropped (a failing test leaves none behind).
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
