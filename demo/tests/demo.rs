//! The README's main demo (`scripts/demo.sh`), end to end, as a user runs it. Needs the release
//! artifacts (`scripts/build-contracts.sh`).

use std::process::Command;

/// The README's main demo, end to end (needs the release artifacts: scripts/build-contracts.sh).
#[test]
fn demo_runs_the_whole_system_on_an_in_process_chain() {
    let output = Command::new(env!("CARGO_BIN_EXE_ehr-demo")).output().expect("running ehr-demo");
    let (ok, out, err) = (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    );
    assert!(ok, "{out}\n{err}");
    for expected in [
        "submit_score: Ok(Err(NoConsent(NoGrant)))",
        "event ScoreRefused",
        "event ScoresAccepted",
        "submit_score(refused batch replayed): Ok(Err(StaleNonce))",
        "submit_score(tampered signature): Err(BadSignature)",
        "submit_score(replayed batch): Ok(Err(StaleNonce))",
        // Sealed: the chain holds a commitment; the doctor opens the report and checks it.
        "latest score: commitment",
        "the commitment opens and the oracle's signature verifies: 10-year ASCVD risk 2.05 % (Low), 20544 ppm",
        "Read RiskAssessment -> Granted",
        "stranger asks the chain for the score: Err(NoConsent(NoGrant))",
        // The encrypted path: sealed, released on an audited request, decrypted, erased.
        "bytes of XChaCha20-Poly1305 ciphertext",
        "vault release rule: Ok(Reader",
        "the doctor decrypted the bundle: identical",
        "Read Summary -> Denied(NoGrant)",
        "vault release rule: Err(Denied { category: Summary, reason: NoGrant })",
        "event RecordErased",
        "keys left 0",
        "submit_score(score of the erased record): Ok(Err(InputErased))",
    ] {
        assert!(out.contains(expected), "missing {expected:?} in:\n{out}");
    }
    // The chain anchors the envelope's hash, never the plaintext's.
    let plaintext = hex::encode(ai_oracle::attest::input_hash(include_bytes!(
        "../../ai-oracle/fixtures/patient-a-white-female.json"
    )));
    assert!(!out.contains(&plaintext[..8]), "the plaintext's hash appears:\n{out}");
}
