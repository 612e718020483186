//! The `ai-oracle` command line, run as a user runs it.

use std::{path::PathBuf, process::Command};

fn oracle(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_ai-oracle")).args(args).output().expect("run ai-oracle");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn fixture(name: &str) -> String {
    format!("{}/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ai-oracle-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn score_prints_risk_band_contributions_and_hashes() {
    let (ok, out, err) = oracle(&["score", &fixture("patient-a-white-female.json")]);
    assert!(ok, "{err}");
    assert!(out.contains("10-year risk   2.05 %  (Low)"), "{out}");
    assert!(out.contains("white-female equation") && out.contains("ln_age_x_ln_hdl"), "{out}");
    assert!(out.contains("model hash     0x") && out.contains("input sha256   0x"), "{out}");
}

#[test]
fn score_json_is_machine_readable() {
    let (ok, out, err) = oracle(&["score", &fixture("patient-b-african-american-male.json"), "--json"]);
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["equation"], "african-american-male");
    assert_eq!(v["band"], "high");
    assert!(v["risk_ppm"].as_u64().unwrap() > 200_000);
    assert_eq!(
        v["contributions"].as_array().unwrap().len(),
        6,
        "ln age, TC, HDL, treated SBP, smoker, diabetes"
    );
    assert!(v["model_hash"].as_str().unwrap().starts_with("0x"));
    let framingham = oracle(&[
        "score",
        &fixture("patient-b-african-american-male.json"),
        "--json",
        "--model",
        "framingham-general-cvd-2008",
    ]);
    assert!(framingham.0, "{}", framingham.2);
}

#[test]
fn bad_input_is_refused_with_a_clear_message_and_exit_code() {
    for (args, expected) in [
        (vec!["score".to_string(), fixture("malformed.json")], "not valid JSON"),
        (vec!["score".into(), fixture("wrong-units.json")], "expected mg/dL or mmol/L"),
        (vec!["score".into(), fixture("missing-hdl.json")], "LOINC 2085-9"),
        (vec!["score".into(), "/no/such/file.json".into()], "reading /no/such/file.json"),
        (
            vec!["score".into(), fixture("patient-a-white-female.json"), "--model".into(), "nope".into()],
            "unknown model \"nope\"",
        ),
        (
            vec![
                "score".into(),
                fixture("patient-a-white-female.json"),
                "--as-of".into(),
                "2030-01-01".into(),
            ],
            "stale input",
        ),
    ] {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (ok, _, err) = oracle(&args);
        assert!(!ok, "{args:?} should fail");
        assert!(err.starts_with("error: ") && err.contains(expected), "{args:?}: {err}");
    }
}

#[test]
fn keygen_writes_a_private_key_file() {
    let dir = temp_dir("keygen");
    let key = dir.join("oracle.key");
    let key = key.to_str().unwrap();
    let (ok, out, err) = oracle(&["keygen", "--out", key]);
    assert!(ok, "{err}");
    assert!(
        out.contains("public key 0x") && !out.contains("secret"),
        "the secret is not printed unless asked: {out}"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(key).unwrap().permissions().mode() & 0o777, 0o600);
    }
    let (ok, _, err) = oracle(&["keygen", "--out", key]);
    assert!(!ok && err.contains("already exists"), "{err}");

    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn models_lists_ids_and_hashes() {
    let (ok, out, _) = oracle(&["models"]);
    assert!(ok);
    assert!(
        out.contains("acc-aha-pce-2013 v1  model hash 0x") && out.contains("framingham-general-cvd-2008 v1"),
        "{out}"
    );
}

#[test]
fn run_reads_a_toml_config_that_the_command_line_overrides() {
    let dir = std::env::temp_dir().join(format!("ai-oracle-config-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("oracle.toml");
    std::fs::write(&config, "nodes = \"ws://x\"\n").unwrap();
    let (ok, _, err) = oracle(&["run", "--config", config.to_str().unwrap()]);
    assert!(!ok && err.contains("unknown field `nodes`"), "{err}");
    // The file's settings apply: no retries, and a deployment file that is not there.
    let missing = dir.join("missing.json");
    std::fs::write(
        &config,
        format!(
            "max_retries = 0\ndeployment = {:?}\nnode = \"ws://127.0.0.1:1\"\n",
            missing.display().to_string()
        ),
    )
    .unwrap();
    let (ok, _, err) = oracle(&["run", "--config", config.to_str().unwrap()]);
    assert!(
        !ok && err.contains("giving up after 0 consecutive failures") && err.contains("missing.json"),
        "{err}"
    );
    // The command line wins over the file.
    let (ok, _, err) = oracle(&["run", "--config", config.to_str().unwrap(), "--max-retries", "1"]);
    assert!(!ok && err.contains("giving up after 1 consecutive failures"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn audit_simulate_then_detect_flags_injected_attackers_and_bad_lines_are_named() {
    let dir = temp_dir("audit");
    let (trail, labels) = (dir.join("trail.jsonl"), dir.join("labels.json"));
    let (ok, out, err) = oracle(&[
        "audit",
        "simulate",
        "--out",
        trail.to_str().unwrap(),
        "--labels",
        labels.to_str().unwrap(),
        "--patients",
        "600",
        "--departments",
        "4",
        "--doctors",
        "6",
        "--days",
        "60",
        "--attackers",
        "1",
    ]);
    assert!(ok, "{err}");
    assert!(out.contains("5 attackers"), "{out}");
    let (ok, out, err) = oracle(&["audit", "detect", trail.to_str().unwrap(), "--json"]);
    assert!(ok, "{err}");
    let reports: Vec<serde_json::Value> = serde_json::from_str(&out).unwrap();
    let labels: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(&labels).unwrap()).unwrap();
    // The most suspicious accessor is an attacker, with its reasons.
    let top = &reports[0];
    assert!(!labels[top["accessor"].as_str().unwrap()].is_null(), "{top}");
    assert_eq!(top["flagged"], true);
    assert!(!top["reasons"].as_array().unwrap().is_empty(), "{top}");
    for report in &reports {
        let score = report["score"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&score), "{report}");
    }

    // A line that is not an access decision is named by its number and field.
    let bad = dir.join("bad.jsonl");
    let first = std::fs::read_to_string(&trail).unwrap().lines().next().unwrap().to_string();
    std::fs::write(
        &bad,
        format!(
            "{first}\n{}\n",
            first
                .replace("\"mode\":\"Read\"", "\"mode\":\"Peek\"")
                .replace("\"mode\":\"Write\"", "\"mode\":\"Peek\"")
        ),
    )
    .unwrap();
    let (ok, _, err) = oracle(&["audit", "detect", bad.to_str().unwrap()]);
    assert!(!ok);
    assert!(err.contains("line 2") && err.contains("Peek"), "{err}");
}
