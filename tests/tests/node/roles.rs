//! The `ehr` command line as a patient and providers use it, against a real node and a real
//! vault process: new identities from `ehr keygen` (mode 0600 files), the patient's upload,
//! grant with re-wrap, revoke, erase and audit trail; the providers' audited fetch and
//! add-record; refusals with their reasons, on chain and in the vault.

use std::{path::Path, process::Command};

use ehr_types::{ProviderRole, RegistryError};
use ehr_vault::client::VaultClient;

use crate::{id, vault::VaultProcess, work_dir, Suite};

/// The `ehr` binary beside the test binaries (`cargo build -p ehr-cli`).
fn ehr_bin() -> std::path::PathBuf {
    let path = ehr_sandbox::artifacts_dir().join("..").join("debug").join("ehr");
    assert!(path.exists(), "{} is missing: build it with `cargo build -p ehr-cli`", path.display());
    path
}

/// Runs `ehr args` in `dir` against `node` and `vault`; returns (success, stdout, stderr).
pub(crate) fn ehr(dir: &Path, node: &str, vault: &str, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(ehr_bin())
        .args(args)
        .current_dir(dir)
        .env("EHR_NODE_URL", node)
        .env("EHR_VAULT_URL", vault)
        .env("EHR_DEPLOYMENT", dir.join("deployment.json"))
        .env("EHR_ARTIFACTS_DIR", ehr_sandbox::artifacts_dir())
        .output()
        .expect("running ehr");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn patients_and_providers_use_the_cli_end_to_end() {
    let dir = work_dir("cli-roles");
    let s = Suite::deploy(&dir).await;
    let c = &s.cast;
    let vault = VaultProcess::start(&dir, s.dev_node.url());
    let run = |args: &[&str]| ehr(&dir, s.dev_node.url(), &vault.url, args);
    let ok = |args: &[&str]| {
        let (ok, out, err) = run(args);
        assert!(ok, "ehr {args:?} failed:\n{out}{err}");
        out
    };
    let fails = |args: &[&str]| {
        let (ok, out, err) = run(args);
        assert!(!ok, "ehr {args:?} should fail:\n{out}");
        err
    };

    // New identities: a chain account and an encryption key each, in private files.
    let created = ok(&["keygen", "--account-out", "patient.account", "--key-out", "patient.key"]);
    let patient_ss58 = created.split_whitespace().nth(1).unwrap().trim_end_matches(',').to_string();
    let created = ok(&["keygen", "--account-out", "doctor.account", "--key-out", "doctor.key"]);
    let doctor_ss58 = created.split_whitespace().nth(1).unwrap().trim_end_matches(',').to_string();
    ok(&["keygen", "--key-out", "dave.key"]);
    #[cfg(unix)]
    for file in ["patient.account", "patient.key", "doctor.account", "doctor.key"] {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(dir.join(file)).unwrap().permissions().mode() & 0o777, 0o600, "{file}");
    }
    let err = fails(&["keygen", "--key-out", "patient.key"]);
    assert!(err.contains("already exists"), "{err}");
    let patient = ehr_client::parse_account(&patient_ss58).unwrap();
    let doctor = ehr_client::parse_account(&doctor_ss58).unwrap();
    let dave = id(&c.other_doctor);
    for account in [patient, doctor] {
        s.node.transfer(&c.admin, &account, 10u128.pow(16)).await.unwrap();
    }
    for provider in [doctor, dave] {
        let r: ehr_client::Submitted<Result<(), RegistryError>> =
            s.submit(&s.registry, &c.admin, "register_provider", (provider, ProviderRole::Doctor)).await;
        assert_eq!(r.value(), &Ok(()));
    }
    let as_patient = ["--account", "patient.account"];
    let as_doctor = ["--account", "doctor.account"];
    let as_dave = ["--suri", "//Dave"];
    let with = |base: &[&str], who: &[&str], rest: &[&str]| -> Vec<String> {
        base.iter().chain(who).chain(rest).map(|s| s.to_string()).collect()
    };
    let ok_v = |args: Vec<String>| ok(&args.iter().map(String::as_str).collect::<Vec<_>>());
    let fails_v = |args: Vec<String>| fails(&args.iter().map(String::as_str).collect::<Vec<_>>());

    // The patient registers and publishes its key; the providers publish theirs.
    ok_v(with(&["patient", "register"], &as_patient, &[]));
    ok_v(with(&["patient", "publish-key"], &as_patient, &["--key", "patient.key"]));
    ok_v(with(&["provider", "publish-key"], &as_doctor, &["--key", "doctor.key"]));
    ok_v(with(&["provider", "publish-key"], &as_dave, &["--key", "dave.key"]));

    // Upload: sealed for the patient only (no reader yet), anchored, stored.
    let lab = br#"{"resourceType":"Observation","code":{"text":"LDL"},"valueQuantity":{"value":3.1}}"#;
    std::fs::write(dir.join("lab.json"), lab).unwrap();
    let out = ok_v(with(&["patient", "upload"], &as_patient, &["--category", "lab-result", "lab.json"]));
    assert!(
        out.contains("record 0 stored") && out.contains(&format!("sealed for {patient_ss58}\n")),
        "{out}"
    );

    // Grant: the record in scope is re-wrapped for the doctor, who requests, fetches, decrypts.
    let out = ok_v(with(
        &["patient", "grant", &doctor_ss58],
        &as_patient,
        &["--key", "patient.key", "--read", "lab-result"],
    ));
    assert!(out.contains("1 record(s) shared"), "{out}");
    ok_v(with(
        &["provider", "fetch", &patient_ss58, "0"],
        &as_doctor,
        &["--key", "doctor.key", "--out", "got.json"],
    ));
    assert_eq!(std::fs::read(dir.join("got.json")).unwrap(), lab, "the doctor reads the document");

    // Dave has no grant: denied on chain (audited), nothing fetched.
    let err = fails_v(with(&["provider", "fetch", &patient_ss58, "0"], &as_dave, &["--key", "dave.key"]));
    assert!(err.contains("denied: NoGrant") && err.contains("on chain"), "{err}");

    // With a write grant the doctor adds a record, sealed for the patient and itself.
    ok_v(with(
        &["patient", "grant", &doctor_ss58],
        &as_patient,
        &["--key", "patient.key", "--read", "lab-result", "--write", "lab-result"],
    ));
    std::fs::write(dir.join("note.txt"), "LDL repeat: 2.9 mmol/L").unwrap();
    let out = ok_v(with(
        &["provider", "add-record", &patient_ss58],
        &as_doctor,
        &["--category", "LabResult", "note.txt"],
    ));
    assert!(out.contains("record 1 stored") && out.contains(&doctor_ss58), "{out}");
    let out = ok_v(with(&["patient", "read", "1"], &as_patient, &["--key", "patient.key"]));
    assert_eq!(out, "LDL repeat: 2.9 mmol/L");
    // An envelope altered in the vault's store is detected by its hash, never opened.
    let blobs = dir
        .join("vault-data")
        .join("blobs")
        .join("envelopes")
        .join(hex::encode(AsRef::<[u8; 32]>::as_ref(&patient)));
    let hash1 = {
        let r: Result<ehr_types::Record, ehr_types::RecordsError> =
            s.node.dry_run(&s.records, &patient, "record", &(patient, 1u32)).await.unwrap().value;
        r.unwrap().content_hash
    };
    let blob = blobs.join(hex::encode(hash1));
    let original = std::fs::read(&blob).unwrap();
    let mut altered = original.clone();
    let last = altered.len() - 1;
    altered[last] ^= 1;
    std::fs::write(&blob, &altered).unwrap();
    let err = fails_v(with(&["patient", "read", "1"], &as_patient, &["--key", "patient.key"]));
    assert!(err.contains("it was altered"), "{err}");
    std::fs::write(&blob, &original).unwrap();
    // The wrong key file is a clear error, and so is a key file others may read.
    let err = fails_v(with(&["patient", "read", "1"], &as_patient, &["--key", "dave.key"]));
    assert!(err.contains("cannot open record 1 with this encryption key file"), "{err}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir.join("dave.key"), std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = fails_v(with(&["patient", "read", "1"], &as_patient, &["--key", "dave.key"]));
        assert!(err.contains("readable by others"), "{err}");
        std::fs::set_permissions(dir.join("dave.key"), std::fs::Permissions::from_mode(0o600)).unwrap();
    }

    // An expiring grant for Dave: an audited request while valid, refused by the vault once
    // the grant has expired (403 with the reason).
    let dave_ss58 = ehr_client::ss58(&dave);
    ok_v(with(
        &["patient", "grant", &dave_ss58],
        &as_patient,
        &["--key", "patient.key", "--read", "lab-result", "--expires-in", "4"],
    ));
    ok_v(with(
        &["provider", "fetch", &patient_ss58, "0"],
        &as_dave,
        &["--key", "dave.key", "--out", "dave.json"],
    ));
    let granted_until = s.node.best_block().await.unwrap().0 + 4;
    while s.node.best_block().await.unwrap().0 < granted_until {
        s.node.transfer(&c.admin, &dave, 1_000_000_000).await.unwrap();
    }
    let client = VaultClient::new(&vault.url);
    let hash0 = {
        let r: Result<ehr_types::Record, ehr_types::RecordsError> =
            s.node.dry_run(&s.records, &patient, "record", &(patient, 0u32)).await.unwrap().value;
        r.unwrap().content_hash
    };
    let err = client.fetch(&c.other_doctor, &patient, &hash0).await.unwrap_err();
    assert!(err.status() == Some(403) && err.to_string().contains("GrantExpired"), "{err}");

    // Revoke: on chain and in the vault. The doctor gets nothing, and a record added later is
    // never sealed for it: even with that envelope, its own key opens nothing.
    let out = ok_v(with(&["patient", "revoke", &doctor_ss58], &as_patient, &[]));
    assert!(out.contains("2 key(s) deleted"), "{out}");
    let err = fails_v(with(&["provider", "fetch", &patient_ss58, "0"], &as_doctor, &["--key", "doctor.key"]));
    assert!(err.contains("denied: NoGrant"), "{err}");
    std::fs::write(dir.join("later.json"), b"{\"later\":true}").unwrap();
    let out = ok_v(with(&["patient", "upload"], &as_patient, &["--category", "lab-result", "later.json"]));
    assert!(out.contains("record 2 stored") && !out.contains(&doctor_ss58), "{out}");
    let patient_signer = ehr_cli::identity::read_account_file(&dir.join("patient.account")).unwrap();
    let hash2 = {
        let r: Result<ehr_types::Record, ehr_types::RecordsError> =
            s.node.dry_run(&s.records, &patient, "record", &(patient, 2u32)).await.unwrap().value;
        r.unwrap().content_hash
    };
    let (envelope, patients_key) = client.fetch(&patient_signer, &patient, &hash2).await.unwrap();
    let doctor_keys = ehr_envelope::keyfile::read(&dir.join("doctor.key")).unwrap();
    let pid: &[u8; 32] = patient.as_ref();
    assert!(
        envelope.open_with(&patients_key, &doctor_keys, pid).is_err(),
        "the revoked doctor cannot open it"
    );

    // Erase: tombstoned on chain, 410 from the vault, no key left.
    ok_v(with(&["patient", "erase", "0"], &as_patient, &[]));
    let err = client.fetch(&patient_signer, &patient, &hash0).await.unwrap_err();
    assert_eq!(err.status(), Some(410), "{err}");
    let err = fails_v(with(&["patient", "read", "0"], &as_patient, &["--key", "patient.key"]));
    assert!(err.contains("erased by the patient"), "{err}");
    let out = ok_v(with(&["patient", "records"], &as_patient, &[]));
    assert!(out.lines().next().unwrap().contains("erased in block"), "{out}");

    // The patient's audit trail: every request, granted or denied, and every consent change.
    let trail = ok_v(with(&["patient", "audit"], &as_patient, &[]));
    assert!(trail.contains(&format!("DENIED  Read LabResult by {dave_ss58}: NoGrant")), "{trail}");
    assert!(trail.contains(&format!("GRANTED Read LabResult by {doctor_ss58}")), "{trail}");
    assert!(trail.contains(&format!("GRANTED Write LabResult by {doctor_ss58}")), "{trail}");
    assert!(
        trail.contains(&format!("revoked  {doctor_ss58}")) && trail.contains("erased   record 0"),
        "{trail}"
    );
    drop(vault);
    let store = ehr_vault::store::Store::open_local(&dir.join("vault-data")).unwrap();
    assert_eq!(store.key_count(&patient, &hash0).await.unwrap(), 0, "no key is left of the erased record");
}
