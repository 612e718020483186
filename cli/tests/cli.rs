//! `ehr` as a user runs it without a chain: help for every role, key generation into private
//! files, and clear errors for bad input (unknown category or role, no identity, a key file
//! others may read, an unreachable node).

use std::process::Command;

fn ehr(args: &[&str], dir: &std::path::Path) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_ehr"))
        .args(args)
        .current_dir(dir)
        .env_remove("EHR_SURI")
        .env_remove("EHR_ACCOUNT_FILE")
        .env_remove("EHR_KEY_FILE")
        .output()
        .expect("running ehr");
    (
        out.status.success(),
        format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)),
    )
}

fn dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("ehr-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn help_names_every_role_and_command() {
    let d = dir("help");
    let (ok, out) = ehr(&["--help"], &d);
    assert!(ok, "{out}");
    for command in ["keygen", "patient", "provider", "admin"] {
        assert!(out.contains(command), "{command} missing in:\n{out}");
    }
    let (_, out) = ehr(&["patient", "--help"], &d);
    for command in
        ["register", "publish-key", "upload", "grant", "revoke", "erase", "records", "read", "audit"]
    {
        assert!(out.contains(command), "patient {command} missing in:\n{out}");
    }
    let (_, out) = ehr(&["provider", "--help"], &d);
    for command in ["publish-key", "fetch", "add-record"] {
        assert!(out.contains(command), "provider {command} missing in:\n{out}");
    }
}

#[test]
fn keygen_writes_private_files_and_never_overwrites() {
    let d = dir("keygen");
    let (ok, out) = ehr(&["keygen", "--account-out", "me.account", "--key-out", "me.key"], &d);
    assert!(ok && out.starts_with("account 5") && out.contains("encryption key 0x"), "{out}");
    #[cfg(unix)]
    for file in ["me.account", "me.key"] {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(d.join(file)).unwrap().permissions().mode() & 0o777, 0o600);
    }
    let before = std::fs::read(d.join("me.key")).unwrap();
    let (ok, out) = ehr(&["keygen", "--key-out", "me.key"], &d);
    assert!(!ok && out.contains("already exists"), "{out}");
    assert_eq!(std::fs::read(d.join("me.key")).unwrap(), before, "nothing lost");
    let (ok, out) = ehr(&["keygen"], &d);
    assert!(!ok && out.contains("--account-out"), "{out}");
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn bad_input_is_a_clear_error() {
    let d = dir("errors");
    let (ok, out) = ehr(&["patient", "upload", "--suri", "//Bob", "--category", "xray", "doc.json"], &d);
    assert!(!ok && out.contains("unknown record category \"xray\"") && out.contains("LabResult"), "{out}");
    let (ok, out) =
        ehr(&["admin", "register-provider", "5Grw", "--role", "surgeon", "--suri", "//Alice"], &d);
    assert!(!ok && out.contains("unknown provider role"), "{out}");
    let (ok, out) = ehr(&["patient", "register", "--node", "ws://127.0.0.1:1"], &d);
    assert!(!ok && out.contains("pass --account FILE"), "{out}");
    let (ok, out) = ehr(&["patient", "register", "--account", "missing.account"], &d);
    assert!(!ok && out.contains("missing.account"), "{out}");
    ehr(&["keygen", "--account-out", "open.account"], &d);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(d.join("open.account"), std::fs::Permissions::from_mode(0o644)).unwrap();
        let (ok, out) = ehr(&["patient", "register", "--account", "open.account"], &d);
        assert!(!ok && out.contains("readable by others") && out.contains("chmod 600"), "{out}");
    }
    let (ok, out) = ehr(&["patient", "register", "--suri", "//Bob", "--node", "ws://127.0.0.1:1"], &d);
    assert!(!ok && out.contains("ws://127.0.0.1:1"), "{out}");
    let (ok, out) = ehr(&["provider", "fetch", "5Grw", "0", "--suri", "//Charlie", "--key", "none.key"], &d);
    assert!(!ok && out.contains("none.key"), "{out}");
    ehr(&["keygen", "--key-out", "k.key"], &d);
    let (ok, out) =
        ehr(&["provider", "fetch", "not-an-account", "0", "--suri", "//Charlie", "--key", "k.key"], &d);
    assert!(!ok && out.contains("patient \"not-an-account\""), "{out}");
    std::fs::write(d.join("bad.key"), "zz\n").unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(d.join("bad.key"), std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let (ok, out) = ehr(&["patient", "read", "0", "--suri", "//Bob", "--key", "bad.key"], &d);
    assert!(!ok && out.contains("not an encryption key file"), "{out}");
    std::fs::remove_dir_all(&d).unwrap();
}
