//! The vault's release rule against a real node: consent at the best block and an audited,
//! granted `request_access` within the audit window — each refusal with its reason.

use ehr_types::{
    AccessDecision, DenialReason, ProviderRole, RecordCategory, RecordsError, RegistryError, Scope,
};
use ehr_vault::release::{Refusal, Release, ReleaseRule};

use crate::{id, work_dir, Suite};

/// A fresh suite with the cast's two doctors registered and its patient registered.
async fn deploy_with_two_doctors_and_a_patient(dir: &std::path::Path) -> Suite {
    let s = Suite::deploy(dir).await;
    let c = &s.cast;
    for provider in [id(&c.doctor), id(&c.other_doctor)] {
        let r: ehr_client::Submitted<Result<(), RegistryError>> =
            s.submit(&s.registry, &c.admin, "register_provider", (provider, ProviderRole::Doctor)).await;
        assert_eq!(r.value(), &Ok(()));
    }
    let r: ehr_client::Submitted<Result<(), RecordsError>> =
        s.submit(&s.records, &c.patient, "register_patient", ()).await;
    assert_eq!(r.value(), &Ok(()));
    s
}

#[tokio::test(flavor = "multi_thread")]
async fn release_needs_consent_now_and_an_audited_request_within_the_window() {
    let dir = work_dir("vault-release");
    let s = deploy_with_two_doctors_and_a_patient(&dir).await;
    let c = &s.cast;
    let (patient, doctor, other) = (id(&c.patient), id(&c.doctor), id(&c.other_doctor));
    let node = ehr_client::Node::connect(s.dev_node.url()).await.unwrap();
    let rule = ReleaseRule::new(std::sync::Arc::new(node), s.records.clone(), 2);
    let labs = RecordCategory::LabResult;
    let check = |caller| {
        let rule = &rule;
        async move { rule.check(&caller, &patient, labs).await.expect("the node answers") }
    };

    assert_eq!(check(patient).await, Ok(Release::Patient));
    assert_eq!(check(doctor).await, Err(Refusal::Denied { category: labs, reason: DenialReason::NoGrant }));

    let (best, _) = s.node.best_block().await.unwrap();
    let grant: ehr_client::Submitted<Result<(), RecordsError>> = s
        .submit(&s.records, &c.patient, "grant_access", (doctor, Scope::read(&[labs]), Some(best + 8)))
        .await;
    assert_eq!(grant.value(), &Ok(()));
    assert_eq!(
        check(doctor).await,
        Err(Refusal::NotAudited { category: labs, window: 2 }),
        "consent alone is not enough"
    );

    let request: ehr_client::Submitted<Result<AccessDecision, RecordsError>> =
        s.submit(&s.records, &c.doctor, "request_access", (patient, labs)).await;
    assert_eq!(request.value(), &Ok(AccessDecision::Granted));
    let audited_in = request.included.as_ref().unwrap().block_number;
    assert_eq!(check(doctor).await, Ok(Release::Reader { audited_in_block: audited_in, emergency: false }));
    // Another category is out of the grant's scope, audited or not.
    assert_eq!(
        rule.check(&doctor, &patient, RecordCategory::Vitals).await.unwrap(),
        Err(Refusal::Denied { category: RecordCategory::Vitals, reason: DenialReason::OutOfScope })
    );

    // The audit window passes: a new request is needed.
    for _ in 0..2 {
        s.node.transfer(&c.admin, &other, 1_000_000_000).await.unwrap();
    }
    assert_eq!(check(doctor).await, Err(Refusal::NotAudited { category: labs, window: 2 }));

    // A denied request does not count once consent is given later.
    let denied: ehr_client::Submitted<Result<AccessDecision, RecordsError>> =
        s.submit(&s.records, &c.other_doctor, "request_access", (patient, labs)).await;
    assert_eq!(denied.value(), &Ok(AccessDecision::Denied(DenialReason::NoGrant)));
    let grant: ehr_client::Submitted<Result<(), RecordsError>> =
        s.submit(&s.records, &c.patient, "grant_access", (other, Scope::read(&[labs]), None::<u32>)).await;
    assert_eq!(grant.value(), &Ok(()));
    assert_eq!(check(other).await, Err(Refusal::NotAudited { category: labs, window: 2 }));

    // Revoked, a fresh audited request is still refused; an expired grant too.
    let request: ehr_client::Submitted<Result<AccessDecision, RecordsError>> =
        s.submit(&s.records, &c.other_doctor, "request_access", (patient, labs)).await;
    assert_eq!(request.value(), &Ok(AccessDecision::Granted));
    let revoke: ehr_client::Submitted<Result<(), RecordsError>> =
        s.submit(&s.records, &c.patient, "revoke_access", (other,)).await;
    assert_eq!(revoke.value(), &Ok(()));
    assert_eq!(check(other).await, Err(Refusal::Denied { category: labs, reason: DenialReason::NoGrant }));
    while s.node.best_block().await.unwrap().0 < best + 8 {
        s.node.transfer(&c.admin, &other, 1_000_000_000).await.unwrap();
    }
    assert_eq!(
        check(doctor).await,
        Err(Refusal::Denied { category: labs, reason: DenialReason::GrantExpired })
    );
}

/// The `ehr-vault` binary beside the test binaries.
fn vault_bin() -> std::path::PathBuf {
    let path = ehr_sandbox::artifacts_dir().join("..").join("debug").join("ehr-vault");
    assert!(path.exists(), "{} is missing: build it with `cargo build -p ehr-vault`", path.display());
    path
}

/// A running vault process on a free loopback port.
pub(crate) struct VaultProcess {
    child: std::process::Child,
    pub(crate) url: String,
}

impl VaultProcess {
    /// Starts `ehr-vault` for the deployment in `dir` (data and log there too).
    pub(crate) fn start(dir: &std::path::Path, node: &str) -> VaultProcess {
        Self::start_with(dir, node, &[])
    }

    /// [`VaultProcess::start`] with more arguments.
    pub(crate) fn start_with(dir: &std::path::Path, node: &str, extra: &[&str]) -> VaultProcess {
        use std::io::BufRead;
        let log = std::fs::File::create(dir.join("vault.log")).unwrap();
        let mut child = std::process::Command::new(vault_bin())
            .args([
                "--listen",
                "127.0.0.1:0",
                "--node",
                node,
                "--audit-window",
                "3",
                "--max-body-bytes",
                "65536",
            ])
            .arg("--deployment")
            .arg(dir.join("deployment.json"))
            .arg("--artifacts")
            .arg(ehr_sandbox::artifacts_dir())
            .arg("--data")
            .arg(dir.join("vault-data"))
            .args(extra)
            .stdout(std::process::Stdio::piped())
            .stderr(log)
            .spawn()
            .expect("starting ehr-vault");
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let addr = line.trim().strip_prefix("listening on ").unwrap_or_else(|| {
            panic!(
                "ehr-vault did not start: {line}\n{}",
                std::fs::read_to_string(dir.join("vault.log")).unwrap()
            )
        });
        VaultProcess { url: format!("http://{addr}"), child }
    }
}

impl Drop for VaultProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One signed request; returns the status and the body.
fn call(
    vault: &VaultProcess,
    signer: &ehr_client::Keypair,
    method: &str,
    path: &str,
    body: &[u8],
    tamper: impl FnOnce(&mut [(&'static str, String); 4]),
) -> (u16, String) {
    let mut headers = ehr_vault::auth::sign(signer, method, path, body, ehr_vault::server::now_ms());
    tamper(&mut headers);
    send(vault, method, path, body, &headers)
}

fn send(
    vault: &VaultProcess,
    method: &str,
    path: &str,
    body: &[u8],
    headers: &[(&'static str, String); 4],
) -> (u16, String) {
    let mut request = ureq::request(method, &format!("{}{path}", vault.url));
    for (name, value) in headers {
        request = request.set(name, value);
    }
    let response = if body.is_empty() { request.call() } else { request.send_bytes(body) };
    match response {
        Ok(r) => (r.status(), r.into_string().unwrap_or_default()),
        Err(ureq::Error::Status(code, r)) => (code, r.into_string().unwrap_or_default()),
        Err(err) => panic!("{method} {path}: {err}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn vault_releases_an_encrypted_record_only_on_audited_consent() {
    use ehr_envelope::{Envelope, KeyPair, WrappedKey};
    use ehr_vault::server::{Fetched, KeyJson, Upload};

    let dir = work_dir("vault-e2e");
    let s = deploy_with_two_doctors_and_a_patient(&dir).await;
    let c = &s.cast;
    let (patient, doctor, other) = (id(&c.patient), id(&c.doctor), id(&c.other_doctor));
    // Keys: generated off-chain, public halves published on-chain.
    let (patient_keys, doctor_keys) = (KeyPair::generate(), KeyPair::generate());
    let r: ehr_client::Submitted<Result<(), RecordsError>> =
        s.submit(&s.records, &c.patient, "set_encryption_key", (patient_keys.public().0,)).await;
    assert_eq!(r.value(), &Ok(()));
    let r: ehr_client::Submitted<Result<(), RegistryError>> =
        s.submit(&s.registry, &c.doctor, "set_encryption_key", (doctor_keys.public().0,)).await;
    assert_eq!(r.value(), &Ok(()));
    let labs = RecordCategory::LabResult;
    let r: ehr_client::Submitted<Result<(), RecordsError>> =
        s.submit(&s.records, &c.patient, "grant_access", (doctor, Scope::read(&[labs]), None::<u32>)).await;
    assert_eq!(r.value(), &Ok(()));

    // The patient seals the document for itself and the doctor, anchors the envelope's hash.
    let document = br#"{"resourceType":"Observation","code":{"text":"HbA1c"},"valueQuantity":{"value":6.1}}"#;
    let pid: &[u8; 32] = AsRef::<[u8; 32]>::as_ref(&patient);
    let (envelope, wrapped) =
        Envelope::seal_for(document, pid, &[patient_keys.public(), doctor_keys.public()]).unwrap();
    let hash = envelope.content_hash();
    let vault = VaultProcess::start(&dir, s.dev_node.url());
    let path = format!("/v1/records/{}/0x{}", ehr_client::ss58(&patient), hex::encode(hash));
    let key_json = |recipient: &AccountIdOf, key: &WrappedKey| KeyJson {
        recipient: Some(ehr_client::ss58(recipient)),
        public_key: key.recipient.to_string(),
        wrapped: format!("0x{}", hex::encode(key.as_bytes())),
    };
    let upload = Upload {
        envelope: format!("0x{}", hex::encode(envelope.as_bytes())),
        keys: vec![key_json(&patient, &wrapped[0]), key_json(&doctor, &wrapped[1])],
    };
    let body = serde_json::to_vec(&upload).unwrap();
    // Upload before anchoring fails safely: nothing stored, the reason says what to do.
    let (status, text) = call(&vault, &c.patient, "PUT", &path, &body, |_| {});
    assert!(status == 409 && text.contains("anchor it with add_record first"), "{status} {text}");
    assert_eq!(call(&vault, &c.patient, "GET", &path, b"", |_| {}).0, 404);
    let locator = format!("vault://{}", hex::encode(hash)).into_bytes();
    let r: ehr_client::Submitted<Result<ehr_types::AddRecordOutcome, RecordsError>> =
        s.submit(&s.records, &c.patient, "add_record", (patient, labs, hash, locator, None::<u32>)).await;
    assert_eq!(r.value(), &Ok(ehr_types::AddRecordOutcome::Added(0)));
    // Uploaded by someone who did not anchor it: refused.
    let (status, text) = call(&vault, &c.doctor, "PUT", &path, &body, |_| {});
    assert_eq!(status, 403, "{text}");
    let (status, text) = call(&vault, &c.patient, "PUT", &path, &body, |_| {});
    assert_eq!(status, 201, "{text}");

    // The doctor holds a grant but made no audited request: refused.
    let (status, text) = call(&vault, &c.doctor, "GET", &path, b"", |_| {});
    assert!(status == 403 && text.contains("no audited request"), "{status} {text}");
    let request: ehr_client::Submitted<Result<AccessDecision, RecordsError>> =
        s.submit(&s.records, &c.doctor, "request_access", (patient, labs)).await;
    assert_eq!(request.value(), &Ok(AccessDecision::Granted));
    let mut replayable = ehr_vault::auth::sign(&c.doctor, "GET", &path, b"", ehr_vault::server::now_ms());
    let (status, text) = send(&vault, "GET", &path, b"", &replayable);
    assert_eq!(status, 200, "{text}");
    let fetched: Fetched = serde_json::from_str(&text).unwrap();
    let stored = Envelope::from_bytes(hex::decode(&fetched.envelope[2..]).unwrap()).unwrap();
    let key = WrappedKey::from_bytes(doctor_keys.public(), &hex::decode(&fetched.key.wrapped[2..]).unwrap())
        .unwrap();
    assert_eq!(stored.open_with(&key, &doctor_keys, pid).unwrap(), document, "the doctor decrypts");

    // A provider with a write grant adds a record sealed for the patient and itself.
    let r: ehr_client::Submitted<Result<(), RecordsError>> = s
        .submit(&s.records, &c.patient, "grant_access", (doctor, Scope::read_write(&[labs]), None::<u32>))
        .await;
    assert_eq!(r.value(), &Ok(()));
    let result = b"HbA1c 6.3 % (repeat)";
    let (by_doctor, doctor_wrapped) =
        Envelope::seal_for(result, pid, &[patient_keys.public(), doctor_keys.public()]).unwrap();
    let doctor_hash = by_doctor.content_hash();
    let locator = format!("vault://{}", hex::encode(doctor_hash)).into_bytes();
    let r: ehr_client::Submitted<Result<ehr_types::AddRecordOutcome, RecordsError>> = s
        .submit(&s.records, &c.doctor, "add_record", (patient, labs, doctor_hash, locator, None::<u32>))
        .await;
    assert_eq!(r.value(), &Ok(ehr_types::AddRecordOutcome::Added(1)));
    let doctor_path = format!("/v1/records/{}/0x{}", ehr_client::ss58(&patient), hex::encode(doctor_hash));
    let doctor_upload = Upload {
        envelope: format!("0x{}", hex::encode(by_doctor.as_bytes())),
        keys: vec![key_json(&patient, &doctor_wrapped[0]), key_json(&doctor, &doctor_wrapped[1])],
    };
    let (status, text) =
        call(&vault, &c.doctor, "PUT", &doctor_path, &serde_json::to_vec(&doctor_upload).unwrap(), |_| {});
    assert_eq!(status, 201, "{text}");
    let (status, text) = call(&vault, &c.patient, "GET", &doctor_path, b"", |_| {});
    assert_eq!(status, 200, "{text}");
    let fetched: Fetched = serde_json::from_str(&text).unwrap();
    let stored = Envelope::from_bytes(hex::decode(&fetched.envelope[2..]).unwrap()).unwrap();
    let key = WrappedKey::from_bytes(patient_keys.public(), &hex::decode(&fetched.key.wrapped[2..]).unwrap())
        .unwrap();
    assert_eq!(
        stored.open_with(&key, &patient_keys, pid).unwrap(),
        result,
        "the patient decrypts the doctor's record"
    );

    // Replayed, stale and forged requests are refused.
    let (status, text) = send(&vault, "GET", &path, b"", &replayable);
    assert!(status == 401 && text.contains("replayed"), "{status} {text}");
    replayable[1].1 = (ehr_vault::server::now_ms() - 120_000).to_string();
    assert_eq!(send(&vault, "GET", &path, b"", &replayable).0, 401, "stale");
    let (status, text) =
        call(&vault, &c.other_doctor, "GET", &path, b"", |h| h[0].1 = ehr_client::ss58(&doctor));
    assert!(status == 401 && text.contains("signature"), "forged: {status} {text}");

    // A doctor without a grant: its request is a denied AccessRequested on chain, and 403.
    let denied: ehr_client::Submitted<Result<AccessDecision, RecordsError>> =
        s.submit(&s.records, &c.other_doctor, "request_access", (patient, labs)).await;
    assert_eq!(denied.value(), &Ok(AccessDecision::Denied(DenialReason::NoGrant)));
    assert!(denied
        .events()
        .iter()
        .any(|e| matches!(e, ehr_client::EhrEvent::AccessRequested(r) if r.accessor == other)));
    let (status, text) = call(&vault, &c.other_doctor, "GET", &path, b"", |_| {});
    assert!(status == 403 && text.contains("NoGrant"), "{status} {text}");

    // Bad input: a tampered envelope (hash mismatch), garbage, an oversized body, an unknown record.
    let mut tampered = upload.clone();
    tampered.envelope.replace_range(100..102, "00");
    let (status, text) =
        call(&vault, &c.patient, "PUT", &path, &serde_json::to_vec(&tampered).unwrap(), |_| {});
    assert!(status == 400 && text.contains("SHA-256"), "{status} {text}");
    let (status, _) =
        call(&vault, &c.patient, "PUT", &path, b"{\"envelope\":\"0x1234\",\"keys\":[]}", |_| {});
    assert_eq!(status, 400);
    let (status, _) = call(&vault, &c.patient, "PUT", &path, &vec![b'x'; 70_000], |_| {});
    assert_eq!(status, 413);
    let unknown = format!("/v1/records/{}/0x{}", ehr_client::ss58(&patient), "ab".repeat(32));
    assert_eq!(call(&vault, &c.patient, "GET", &unknown, b"", |_| {}).0, 404);

    // Killed and restarted: nothing lost.
    drop(vault);
    let vault = VaultProcess::start(&dir, s.dev_node.url());
    let (status, text) = call(&vault, &c.patient, "GET", &path, b"", |_| {});
    assert_eq!(status, 200, "{text}");

    // Revoked: on chain and in the vault; the doctor gets nothing.
    let r: ehr_client::Submitted<Result<(), RecordsError>> =
        s.submit(&s.records, &c.patient, "revoke_access", (doctor,)).await;
    assert_eq!(r.value(), &Ok(()));
    let keys_path = format!("/v1/records/{}/keys/{}", ehr_client::ss58(&patient), ehr_client::ss58(&doctor));
    let (status, text) = call(&vault, &c.patient, "DELETE", &keys_path, b"", |_| {});
    assert!(status == 200 && text.contains("\"removed\":2"), "{status} {text}");
    let (status, _) = call(&vault, &c.doctor, "GET", &path, b"", |_| {});
    assert_eq!(status, 403);
    // A record added after the revocation is never wrapped for the revoked doctor.
    let later = b"a later note";
    let (envelope2, wrapped2) =
        Envelope::seal_for(later, pid, &[patient_keys.public(), doctor_keys.public()]).unwrap();
    let hash2 = envelope2.content_hash();
    let locator2 = format!("vault://{}", hex::encode(hash2)).into_bytes();
    let r: ehr_client::Submitted<Result<ehr_types::AddRecordOutcome, RecordsError>> =
        s.submit(&s.records, &c.patient, "add_record", (patient, labs, hash2, locator2, None::<u32>)).await;
    assert_eq!(r.value(), &Ok(ehr_types::AddRecordOutcome::Added(2)));
    let path2 = format!("/v1/records/{}/0x{}", ehr_client::ss58(&patient), hex::encode(hash2));
    let mut upload2 = Upload {
        envelope: format!("0x{}", hex::encode(envelope2.as_bytes())),
        keys: vec![key_json(&patient, &wrapped2[0]), key_json(&doctor, &wrapped2[1])],
    };
    let (status, text) =
        call(&vault, &c.patient, "PUT", &path2, &serde_json::to_vec(&upload2).unwrap(), |_| {});
    assert!(status == 403 && text.contains("may not read"), "{status} {text}");
    upload2.keys.truncate(1);
    let (status, text) =
        call(&vault, &c.patient, "PUT", &path2, &serde_json::to_vec(&upload2).unwrap(), |_| {});
    assert_eq!(status, 201, "{text}");
    let (status, _) = call(&vault, &c.doctor, "GET", &path2, b"", |_| {});
    assert_eq!(status, 403, "nothing for the revoked doctor");

    // Erased: 410, and no key is left.
    assert_eq!(call(&vault, &c.patient, "DELETE", &path, b"", |_| {}).0, 204);
    let (status, text) = call(&vault, &c.patient, "GET", &path, b"", |_| {});
    assert!(status == 410 && text.contains("erased"), "{status} {text}");
    // Erased on chain only (the vault was not told): the vault answers 410 and shreds it then.
    let r: ehr_client::Submitted<Result<(), RecordsError>> =
        s.submit(&s.records, &c.patient, "erase_record", (2u32,)).await;
    assert_eq!(r.value(), &Ok(()));
    let (status, text) = call(&vault, &c.patient, "GET", &path2, b"", |_| {});
    assert!(status == 410 && text.contains("erased by the patient on chain"), "{status} {text}");
    drop(vault);
    let store = ehr_vault::store::Store::open_local(&dir.join("vault-data")).unwrap();
    for erased in [hash, hash2] {
        assert_eq!(store.key_count(&patient, &erased).await.unwrap(), 0, "no key is left");
        assert!(matches!(
            store.entry(&patient, &erased).await,
            Err(ehr_vault::store::StoreError::Erased { .. })
        ));
    }
    // Every release and refusal is in the vault's log, with the caller and the reason.
    let log = std::fs::read_to_string(dir.join("vault.log")).unwrap();
    assert!(log.contains("released") && log.contains(&ehr_client::ss58(&doctor)), "{log}");
    assert!(log.contains("refused") && log.contains("NoGrant") && log.contains("410 Gone"), "{log}");
}

type AccountIdOf = ehr_types::AccountId;
