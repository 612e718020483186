//! The `ehr-vault` binary as an operator runs it: help, and clear errors for bad arguments and
//! an unreachable node.

use std::process::Command;

fn vault(args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_ehr-vault")).args(args).output().expect("running ehr-vault");
    (
        out.status.success(),
        format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)),
    )
}

#[test]
fn help_names_every_setting() {
    let (ok, out) = vault(&["--help"]);
    assert!(ok, "{out}");
    for setting in ["--listen", "--node", "--deployment", "--data", "--audit-window", "--max-body-bytes"] {
        assert!(out.contains(setting), "{setting} missing in:\n{out}");
    }
}

#[test]
fn bad_arguments_and_an_unreachable_node_are_clear_errors() {
    let (ok, out) = vault(&["--listen", "not-an-address"]);
    assert!(!ok && out.contains("--listen"), "{out}");
    let (ok, out) = vault(&["--audit-window", "many"]);
    assert!(!ok && out.contains("--audit-window"), "{out}");
    let (ok, out) = vault(&["--node", "ws://127.0.0.1:1", "--listen", "127.0.0.1:0"]);
    assert!(!ok && out.contains("connecting to the node at ws://127.0.0.1:1"), "{out}");
}
