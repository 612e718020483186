//! The oracle on a real node: `ai-oracle deploy`, `post`, refused tampered documents and
//! replayed attestations, and `run` killed mid-way and restarted.

use std::{
    collections::HashMap,
    io::Read,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use ehr_client::{deploy::Deployment, EhrEvent};
use ehr_sandbox::ehr::sign_batch;
use ehr_types::{
    scores::{AttestationBatch, ScoreAttestation, ScoreBand, StoredScore},
    AddRecordOutcome, ContentHash, RecordCategory, RecordsError, Scope, ScoreError,
};
use sha2::{Digest, Sha256};

use crate::{id, oracle_bin, oracle_cli, start_node, work_dir, Cast, Suite};

fn fixture(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../ai-oracle/fixtures").join(name);
    std::fs::read(&path).unwrap_or_else(|err| panic!("{}: {err}", path.display()))
}

/// A distinct, scoreable document: the sample bundle with `n` trailing newlines.
fn document(n: usize) -> Vec<u8> {
    let mut doc = fixture("patient-a-white-female.json");
    doc.extend(std::iter::repeat_n(b'\n', n));
    doc
}

fn sha256(bytes: &[u8]) -> ContentHash {
    Sha256::digest(bytes).into()
}

/// A node, an oracle key, and the suite deployed by `ai-oracle deploy` (the CLI).
async fn deployed_by_cli(dir: &Path) -> Suite {
    let (dev_node, node) = start_node(dir).await;
    let (ok, out) = oracle_cli(dir, &["keygen"]);
    assert!(ok, "{out}");
    let (ok, out) = oracle_cli(dir, &["deploy", "--node", dev_node.url()]);
    assert!(ok, "ai-oracle deploy: {out}");
    let (ok, again) = oracle_cli(dir, &["deploy", "--node", dev_node.url()]);
    assert!(ok && again.contains("reusing the suite") && again.contains("already approved"), "{again}");
    let deployment = Deployment::load(&dir.join("deployment.json")).unwrap();
    Suite::open(dev_node, node, deployment, Cast::dev())
}

/// Registers `patient`, stores `doc` in `dir/store` and anchors it as a Summary record.
async fn anchor(s: &Suite, dir: &Path, patient: &ehr_client::Keypair, doc: &[u8]) -> u32 {
    let locator = ai_store_put(dir, doc);
    let call: ehr_client::Submitted<Result<AddRecordOutcome, RecordsError>> = s
        .submit(
            &s.records,
            patient,
            "add_record",
            (id(patient), RecordCategory::Summary, sha256(doc), locator, None::<u32>),
        )
        .await;
    match call.value() {
        Ok(AddRecordOutcome::Added(record)) => *record,
        other => panic!("anchoring: {other:?}"),
    }
}

fn ai_store_put(dir: &Path, doc: &[u8]) -> Vec<u8> {
    let file = dir.join("incoming.json");
    std::fs::write(&file, doc).unwrap();
    let (ok, out) = oracle_cli(dir, &["store", "incoming.json"]);
    assert!(ok, "{out}");
    let locator = out.lines().find_map(|l| l.strip_prefix("locator ")).expect("a locator line");
    locator.trim().as_bytes().to_vec()
}

async fn register_and_consent(s: &Suite, patient: &ehr_client::Keypair, consent: bool) {
    let call = s.submit::<_, Result<(), RecordsError>>(&s.records, patient, "register_patient", ()).await;
    assert_eq!(call.value(), &Ok(()));
    if consent {
        let scope = Scope::read(&[RecordCategory::Summary]);
        let call = s
            .submit::<_, Result<(), RecordsError>>(
                &s.records,
                patient,
                "grant_access",
                (id(&s.cast.oracle), scope, None::<u32>),
            )
            .await;
        assert_eq!(call.value(), &Ok(()));
    }
}

fn oracle_key(dir: &Path) -> ed25519_dalek::SigningKey {
    let text = std::fs::read_to_string(dir.join("oracle.key")).unwrap();
    let seed: [u8; 32] = hex::decode(text.trim()).unwrap().try_into().unwrap();
    ed25519_dalek::SigningKey::from_bytes(&seed)
}

#[tokio::test(flavor = "multi_thread")]
async fn oracle_posts_a_signed_score_and_refuses_tampered_documents_and_replays() {
    let dir = work_dir("oracle-post");
    let s = deployed_by_cli(&dir).await;
    let c = &s.cast;
    let patient = id(&c.patient);
    register_and_consent(&s, &c.patient, true).await;
    let doc = fixture("patient-a-white-female.json");
    anchor(&s, &dir, &c.patient, &doc).await;
    std::fs::write(dir.join("sample.json"), &doc).unwrap();

    // The oracle scores, signs and posts; the score lands and the patient can read it.
    let patient_ss58 = ehr_client::ss58(&patient);
    let url = s.dev_node.url().to_string();
    let (ok, out) = oracle_cli(&dir, &["post", "sample.json", "--patient", &patient_ss58, "--node", &url]);
    assert!(ok, "ai-oracle post: {out}");
    assert!(out.contains("attestation 0: accepted") && out.contains("event ScoreAccepted"), "{out}");
    let model_hash: ContentHash = {
        let hex_hash = &s.deployment.oracle.as_ref().unwrap().models[0];
        hex::decode(&hex_hash[2..]).unwrap().try_into().unwrap()
    };
    let stored: Result<Option<StoredScore>, ScoreError> =
        s.query(&s.scores, &c.patient, "latest_score", (patient, model_hash)).await.value;
    let stored = stored.unwrap().expect("a stored score");
    assert_eq!(
        (stored.risk_ppm, stored.band, stored.input_hash, stored.nonce),
        (20_544, ScoreBand::Low, sha256(&doc), 1)
    );

    // A tampered document (one byte changed) is not anchored: the oracle refuses to post it.
    let mut tampered = doc.clone();
    let at = tampered.iter().position(|&b| b == b'7').expect("a digit to change");
    tampered[at] = b'8';
    std::fs::write(dir.join("tampered.json"), &tampered).unwrap();
    let (ok, out) = oracle_cli(&dir, &["post", "tampered.json", "--patient", &patient_ss58, "--node", &url]);
    assert!(!ok && out.contains("is not anchored"), "{out}");

    // A replayed attestation is refused, as is a batch whose signature does not match.
    let key = oracle_key(&dir);
    let batch = AttestationBatch {
        contract: s.scores.address,
        chain: s.node.genesis_hash(),
        signer: key.verifying_key().to_bytes(),
        attestations: vec![ScoreAttestation {
            patient,
            model_hash,
            input_hash: sha256(&doc),
            risk_ppm: 20_544,
            band: ScoreBand::Low,
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
    forged.attestations[0].risk_ppm = 990_000;
    forged.attestations[0].nonce = 3;
    let forged: ehr_client::Submitted<Batch> =
        s.submit(&s.scores, &c.oracle, "submit_scores", (forged, signature)).await;
    assert_eq!(forged.value(), &Err(ScoreError::BadSignature));
    assert!(forged.included.is_none());
}

/// The `ai-oracle run` process, its output going to a file.
fn spawn_run(dir: &Path, url: &str, log: &str, until: Option<u32>) -> Child {
    let out = std::fs::File::create(dir.join(log)).unwrap();
    let mut cmd = Command::new(oracle_bin());
    cmd.args(["run", "--node", url, "--store", "store", "--state", "state.json", "--poll-ms", "200"])
        .current_dir(dir)
        .env("EHR_ARTIFACTS_DIR", ehr_sandbox::artifacts_dir())
        .stdout(Stdio::from(out.try_clone().unwrap()))
        .stderr(Stdio::from(out));
    if let Some(until) = until {
        cmd.args(["--until-block", &until.to_string()]);
    }
    cmd.spawn().expect("starting ai-oracle run")
}

fn read(dir: &Path, log: &str) -> String {
    let mut text = String::new();
    if let Ok(mut f) = std::fs::File::open(dir.join(log)) {
        let _ = f.read_to_string(&mut text);
    }
    text
}

/// Every `ScoreAccepted` of the scores contract from block `from` to the best block.
async fn accepted_scores(s: &Suite, from: u32) -> Vec<ContentHash> {
    let (best, _) = s.node.best_block().await.unwrap();
    let mut hashes = Vec::new();
    for n in from..=best {
        let hash = s.node.block_hash(n).await.unwrap().unwrap();
        for raw in s.node.contract_events_at(hash).await.unwrap() {
            if raw.contract == s.scores.address {
                if let Ok(Some(EhrEvent::ScoreAccepted(e))) = EhrEvent::decode(&raw) {
                    hashes.push(e.input_hash);
                }
            }
        }
    }
    hashes
}

#[tokio::test(flavor = "multi_thread")]
async fn run_mode_killed_and_restarted_scores_every_record_exactly_once() {
    let dir = work_dir("oracle-run");
    let s = deployed_by_cli(&dir).await;
    let c = &s.cast;
    let url = s.dev_node.url().to_string();
    let start = s.deployment.deployed_at_block;
    register_and_consent(&s, &c.patient, true).await;
    register_and_consent(&s, &c.other_patient, false).await;

    // Three records, then the oracle starts; it is killed once it has posted one.
    let mut expected: Vec<ContentHash> = Vec::new();
    for n in 1..=3 {
        anchor(&s, &dir, &c.patient, &document(n)).await;
        expected.push(sha256(&document(n)));
    }
    let mut first = spawn_run(&dir, &url, "run-1.log", None);
    let deadline = Instant::now() + Duration::from_secs(120);
    while !read(&dir, "run-1.log").contains("posted nonce") {
        assert!(Instant::now() < deadline, "the oracle posted nothing:\n{}", read(&dir, "run-1.log"));
        assert!(first.try_wait().unwrap().is_none(), "the oracle exited:\n{}", read(&dir, "run-1.log"));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    first.kill().unwrap();
    first.wait().unwrap();

    // While it is down: three more records, one whose stored document was tampered with after
    // anchoring, and one of a patient who did not consent.
    for n in 4..=6 {
        anchor(&s, &dir, &c.patient, &document(n)).await;
        expected.push(sha256(&document(n)));
    }
    let tampered = document(7);
    anchor(&s, &dir, &c.patient, &tampered).await;
    let stored = dir.join("store").join(hex::encode(sha256(&tampered)));
    std::fs::write(&stored, document(8)).unwrap();
    anchor(&s, &dir, &c.other_patient, &document(9)).await;

    // The worst crash: everything posted but the state file not yet saved.
    let state_path = dir.join("state.json");
    let state = std::fs::read_to_string(&state_path).expect("the first run saved its state");
    let rewound =
        state
            .lines()
            .map(|l| {
                if l.contains("\"last_block\"") {
                    format!("  \"last_block\": {start},")
                } else {
                    l.to_string()
                }
            })
            .collect::<Vec<_>>()
            .join("\n");
    std::fs::write(&state_path, rewound).unwrap();

    let (until, _) = s.node.best_block().await.unwrap();
    let mut second = spawn_run(&dir, &url, "run-2.log", Some(until));
    let deadline = Instant::now() + Duration::from_secs(180);
    let status = loop {
        if let Some(status) = second.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "the restarted oracle did not finish:\n{}",
            read(&dir, "run-2.log")
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let log = read(&dir, "run-2.log");
    assert!(status.success(), "{log}");
    assert!(log.contains("already used on chain"), "re-processed records are not posted again:\n{log}");
    assert!(log.contains("REFUSED, document sha256"), "the tampered document is refused:\n{log}");
    assert!(log.contains("skipped, no consent"), "the non-consenting patient is skipped:\n{log}");

    let accepted = accepted_scores(&s, start).await;
    let mut counts: HashMap<ContentHash, usize> = HashMap::new();
    for hash in &accepted {
        *counts.entry(*hash).or_default() += 1;
    }
    for (n, hash) in expected.iter().enumerate() {
        assert_eq!(counts.get(hash), Some(&1), "record {} scored exactly once", n + 1);
    }
    assert_eq!(accepted.len(), expected.len(), "nothing else was scored");
    let summary = format!(
        "run-mode restart test: {} records scored exactly once across a kill and a rewound state; \
         tampered document refused; non-consenting patient skipped\n",
        expected.len()
    );
    std::fs::write(ehr_sandbox::artifacts_dir().join("..").join("e2e").join("restart-test.txt"), summary)
        .unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn run_mode_retries_a_down_node_with_backoff_then_gives_up() {
    let dir = work_dir("oracle-down");
    let mut s = deployed_by_cli(&dir).await;
    let url = s.dev_node.url().to_string();
    s.dev_node.stop();
    let started = Instant::now();
    let (ok, out) = oracle_cli(
        &dir,
        &["run", "--node", &url, "--max-retries", "2", "--store", "store", "--state", "state.json"],
    );
    assert!(!ok, "{out}");
    assert!(out.contains("giving up after 2 consecutive failures"), "{out}");
    assert_eq!(out.matches("retrying in").count(), 2, "{out}");
    assert!(started.elapsed() >= Duration::from_secs(3), "backoff of 1 s then 2 s");
}
