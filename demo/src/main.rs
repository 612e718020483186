//! `ehr-demo`, the README's main demo (`scripts/demo.sh`): the whole system on an in-process
//! drink chain running the release contract artifacts, with the record vault's embedded store (files + SQLite) and its release rule. No
//! node needed. The document is sealed for its readers before anything is stored; the chain
//! anchors the envelope's hash; the oracle, a reader like any provider, gets the envelope and
//! its wrapped key only after its own audited `request_access`, decrypts and scores. The score
//! is sealed: the chain gets a commitment and the hash of an encrypted, explained report that
//! only the patient and the doctor can open and check.

use ai_oracle::{
    attest::{self, OracleKey},
    fhir::{self, ExtractOptions},
    model::RiskModel,
    pce::PooledCohortEquations,
    report::{self, OpenedReport, Report},
};
use anyhow::{bail, Context, Result};
use ehr_envelope::{Envelope, KeyPair};
use ehr_sandbox::{
    ehr::{ScoreResult, SANDBOX_CHAIN},
    short_account, short_hex, Call, Ehr,
};
use ehr_types::{
    scores::{AttestationBatch, Signature},
    AccountId, AddRecordOutcome, ProviderRole, RecordCategory, Scope,
};
use ehr_vault::{release, store::Store};

/// The sample record: a FHIR R4 bundle, sealed before it is stored; the chain anchors the
/// SHA-256 of its envelope.
const SAMPLE: &[u8] = include_bytes!("../../ai-oracle/fixtures/patient-a-white-female.json");
/// The vault's audit window in the demo, in blocks.
const AUDIT_WINDOW: u32 = 10;

/// The vault's release, against the in-process chain: the caller's audited `request_access`
/// (on chain, granted or denied), the vault's rule over its decision, then the envelope and the
/// caller's wrapped key from the embedded store, opened with the caller's key.
fn fetch(
    ehr: &mut Ehr,
    (vault, runtime): (&Store, &tokio::runtime::Runtime),
    (caller, keys): (AccountId, &KeyPair),
    patient: AccountId,
    category: RecordCategory,
    content_hash: [u8; 32],
) -> Result<Vec<u8>> {
    let request = ehr.request_access(caller, patient, category);
    show("request_access", &request);
    let decision = request.value.map_err(|e| anyhow::anyhow!("request_access: {e:?}"))?;
    let audited =
        decision.is_granted().then(|| release::Audited { block: ehr.chain.block_number(), emergency: false });
    let release = release::decide(&caller, &patient, category, decision, audited, AUDIT_WINDOW);
    println!("  vault release rule: {release:?}");
    if let Err(refusal) = release {
        bail!("403 {refusal}");
    }
    let (bytes, key) = runtime.block_on(vault.get(&patient, &content_hash, &caller))?;
    let key = key.context("no data key is wrapped for the caller")?;
    let envelope = Envelope::from_bytes(bytes)?;
    if envelope.content_hash() != content_hash {
        bail!("the vault's envelope does not match the chain: refusing it");
    }
    Ok(envelope.open_with(&key, keys, patient.as_ref())?)
}

fn step(title: &str) {
    println!("\n== {title}");
}

fn show<R: std::fmt::Debug>(what: &str, call: &Call<R>) {
    println!("  {what}: {:?}{}", call.value, if call.reverted { "  (reverted)" } else { "" });
    for event in &call.events {
        println!("    event {}", event.summary());
    }
}

fn main() -> Result<()> {
    println!("EHR contracts + AI risk oracle on an in-process chain (drink, release artifacts)");
    let mut ehr = Ehr::deploy();
    let (admin, patient, doctor) = (ehr.admin, ehr.patient, ehr.doctor);
    let oracle = ehr.chain.account("oracle");
    println!(
        "  contracts: registry {}  records {}  risk scores {}",
        short_account(&ehr.registry.address),
        short_account(&ehr.records.address),
        short_account(&ehr.scores.address)
    );
    println!(
        "  accounts:  admin {}  patient {}  doctor {}  oracle {}",
        short_account(&admin),
        short_account(&patient),
        short_account(&doctor),
        short_account(&oracle)
    );

    step("Admin registers the doctor and the oracle as providers");
    show("register_provider(doctor, Doctor)", &ehr.register_provider(admin, doctor, ProviderRole::Doctor));
    show(
        "register_provider(oracle, Analytics)",
        &ehr.register_provider(admin, oracle, ProviderRole::Analytics),
    );

    step("Oracle key and model: the admin registers the signer key and approves the model hash");
    let key = OracleKey::generate().map_err(|e| anyhow::anyhow!("no randomness from the OS: {e}"))?;
    let model = PooledCohortEquations;
    println!("  signer public key 0x{}", hex::encode(key.public()));
    println!("  model {} v{} hash 0x{}", model.id(), model.version(), hex::encode(model.model_hash()));
    show("add_signer", &ehr.add_signer(admin, key.public(), oracle));
    show("approve_model", &ehr.approve_model(admin, model.model_hash()));

    step("Encryption keys: each user's X25519 key pair; the public halves go on chain");
    let (patient_keys, doctor_keys, oracle_keys) =
        (KeyPair::generate(), KeyPair::generate(), KeyPair::generate());
    show("register_patient", &ehr.register_patient(patient));
    show("set_encryption_key(patient)", &ehr.set_patient_key(patient, patient_keys.public().0));
    show("set_encryption_key(doctor)", &ehr.set_provider_key(doctor, doctor_keys.public().0));
    show("set_encryption_key(oracle)", &ehr.set_provider_key(oracle, oracle_keys.public().0));

    step("The patient grants the oracle read access to summaries, the doctor to summaries and risk reports");
    show(
        "grant_access(oracle, read Summary)",
        &ehr.grant_access(patient, oracle, Scope::read(&[RecordCategory::Summary]), None),
    );
    show(
        "grant_access(doctor, read Summary + RiskAssessment)",
        &ehr.grant_access(
            patient,
            doctor,
            Scope::read(&[RecordCategory::Summary, RecordCategory::RiskAssessment]),
            None,
        ),
    );

    step("The patient seals the FHIR bundle for its readers, anchors the envelope's hash, stores it");
    let (envelope, wrapped) = Envelope::seal_for(
        SAMPLE,
        patient.as_ref(),
        &[patient_keys.public(), oracle_keys.public(), doctor_keys.public()],
    )?;
    let input_hash = envelope.content_hash();
    let locator = format!("vault://{}", hex::encode(input_hash));
    println!(
        "  envelope: {} bytes of XChaCha20-Poly1305 ciphertext; data key wrapped (HPKE) for 3 readers",
        envelope.as_bytes().len()
    );
    println!("  on chain: sha256 of the envelope {} and {locator}", short_hex(&input_hash));
    let added =
        ehr.add_record(patient, patient, RecordCategory::Summary, input_hash, locator.as_bytes(), None);
    show("add_record(Summary)", &added);
    if added.value != Ok(AddRecordOutcome::Added(0)) {
        bail!("the sample record was not anchored: {:?}", added.value);
    }
    let runtime = tokio::runtime::Runtime::new()?;
    let vault_dir = std::env::temp_dir().join(format!("ehr-demo-vault-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&vault_dir);
    let vault = Store::open_local(&vault_dir)?;
    let keys =
        vec![(patient, wrapped[0].clone()), (oracle, wrapped[1].clone()), (doctor, wrapped[2].clone())];
    runtime.block_on(vault.put(&patient, &patient, &envelope, &keys))?;
    println!(
        "  the vault's embedded store (files + SQLite) holds the envelope and 3 wrapped keys, no secret"
    );

    step("The oracle requests the record (audited), the vault releases it, the oracle decrypts and scores");
    let document = fetch(
        &mut ehr,
        (&vault, &runtime),
        (oracle, &oracle_keys),
        patient,
        RecordCategory::Summary,
        input_hash,
    )?;
    println!("  decrypted {} bytes of FHIR", document.len());
    let extract = fhir::extract_json(&document, ExtractOptions::default()).context("sample bundle")?;
    let score = model.score(&extract.inputs)?;
    println!(
        "  {} ({} equation) scored the bundle; the result goes into a sealed report, not on chain",
        model.id(),
        score.equation
    );

    step("The oracle seals the explained report for the patient and the doctor (RiskAssessment readers)");
    let computed_at = ehr.chain.timestamp();
    let write = |patient: AccountId, input_hash: [u8; 32]| -> Result<Report> {
        report::write(&model, &score, &extract.sources, &patient, &input_hash, computed_at)
            .map_err(|e| anyhow::anyhow!("no randomness from the OS: {e}"))
    };
    let report = write(patient, input_hash)?;
    let (report_envelope, report_keys) = Envelope::seal_for(
        &report.document,
        patient.as_ref(),
        &[patient_keys.public(), doctor_keys.public()],
    )?;
    let report_hash = report_envelope.content_hash();
    println!(
        "  report: FHIR RiskAssessment, {} bytes sealed; attestation carries commitment {} and report {}",
        report_envelope.as_bytes().len(),
        short_hex(&report.commitment()),
        short_hex(&report_hash)
    );

    let mut nonce = 0;
    let mut signed = |ehr: &Ehr, patient, input_hash, report: &Report, report_hash| {
        nonce += 1;
        let attestation =
            attest::attestation(&model, report, patient, input_hash, report_hash, computed_at, nonce);
        let batch = AttestationBatch {
            contract: ehr.scores.address,
            chain: SANDBOX_CHAIN,
            signer: key.public(),
            attestations: vec![attestation],
        };
        let signature: Signature = key.sign(&batch);
        (batch, signature)
    };

    step("Refused: a score for a patient who gave the oracle no consent (kept on chain, nonce consumed)");
    let other = ehr.other_patient;
    show("register_patient(other)", &ehr.register_patient(other));
    let (other_envelope, _) = Envelope::seal(b"another patient's document", other.as_ref());
    let other_doc = other_envelope.content_hash();
    let other_locator = format!("vault://{}", hex::encode(other_doc));
    show(
        "add_record(other, Summary)",
        &ehr.add_record(other, other, RecordCategory::Summary, other_doc, other_locator.as_bytes(), None),
    );
    let other_report = write(other, other_doc)?;
    let other_report_hash = Envelope::seal(&other_report.document, other.as_ref()).0.content_hash();
    let (early_batch, early_signature) = signed(&ehr, other, other_doc, &other_report, other_report_hash);
    let refused: Call<ScoreResult<ScoreResult<()>>> = ehr.submit_score(oracle, &early_batch, early_signature);
    show("submit_score", &refused);

    step("The oracle posts the signed attestation: verified on-chain (ed25519), report anchored, stored sealed");
    let (batch, signature) = signed(&ehr, patient, input_hash, &report, report_hash);
    let accepted = ehr.submit_score(oracle, &batch, signature);
    show("submit_score", &accepted);
    println!(
        "  gas consumed: ref_time {} proof_size {}",
        accepted.gas_consumed.ref_time(),
        accepted.gas_consumed.proof_size()
    );
    if accepted.value != Ok(Ok(())) {
        bail!("the signed score was refused: {:?}", accepted.value);
    }
    let keys = vec![(patient, report_keys[0].clone()), (doctor, report_keys[1].clone())];
    runtime.block_on(vault.put(&patient, &oracle, &report_envelope, &keys))?;
    println!("  the oracle stores the sealed report in the vault (after the chain anchored it)");

    step("Refused: the refused batch replayed after consent, a tampered signature, a replay");
    show(
        "grant_access(other -> oracle, read Summary)",
        &ehr.grant_access(other, oracle, Scope::read(&[RecordCategory::Summary]), None),
    );
    show("submit_score(refused batch replayed)", &ehr.submit_score(oracle, &early_batch, early_signature));
    let mut tampered = signature;
    tampered[10] ^= 0x80;
    let (fresh, _) = signed(&ehr, patient, input_hash, &report, report_hash);
    show("submit_score(tampered signature)", &ehr.submit_score(oracle, &fresh, tampered));
    show("submit_score(replayed batch)", &ehr.submit_score(oracle, &batch, signature));

    step("On chain: a commitment and the report's record, no risk");
    let stored = ehr.latest_score(patient, patient, model.model_hash());
    let Ok(Some(stored)) = stored.value else { bail!("no stored score: {:?}", stored.value) };
    println!(
        "  latest score: commitment {}, report record {} ({}), input {} signed by {} nonce {} at block {}",
        short_hex(&stored.commitment),
        stored.report_record,
        short_hex(&stored.report_hash),
        short_hex(&stored.input_hash),
        short_hex(&stored.signer),
        stored.nonce,
        stored.accepted_at
    );

    step("The doctor opens the sealed report (audited) and checks it: commitment and signature");
    let opened_bytes = fetch(
        &mut ehr,
        (&vault, &runtime),
        (doctor, &doctor_keys),
        patient,
        RecordCategory::RiskAssessment,
        stored.report_hash,
    )?;
    let opened = OpenedReport::parse(&opened_bytes)?;
    opened.check(&patient, &model.model_hash(), &stored)?;
    opened.check_signed(&batch, &signature, &stored, (&ehr.scores.address, &SANDBOX_CHAIN))?;
    println!(
        "  the commitment opens and the oracle's signature verifies: 10-year ASCVD risk {:.2} % ({:?}), {} ppm",
        opened.risk() * 100.0,
        opened.result.band,
        opened.result.risk_ppm
    );
    for term in &opened.terms {
        println!("    {:<32} {:>10.4}", term.term, term.contribution);
    }
    let stranger = ehr.stranger;
    println!(
        "  stranger asks the chain for the score: {:?}",
        ehr.latest_score(stranger, patient, model.model_hash()).value.map(|_| ())
    );

    step("The doctor reads the record through the vault; a stranger is denied, both on the record");
    let read = fetch(
        &mut ehr,
        (&vault, &runtime),
        (doctor, &doctor_keys),
        patient,
        RecordCategory::Summary,
        input_hash,
    )?;
    println!("  the doctor decrypted the bundle: {}", if read == SAMPLE { "identical" } else { "DIFFERENT" });
    let stranger_keys = KeyPair::generate();
    match fetch(
        &mut ehr,
        (&vault, &runtime),
        (stranger, &stranger_keys),
        patient,
        RecordCategory::Summary,
        input_hash,
    ) {
        Ok(_) => bail!("the stranger must not get the record"),
        Err(refused) => println!("  stranger: {refused}; nothing released"),
    }

    step("The patient erases the record: tombstone on chain, envelope and keys destroyed (crypto-shredding)");
    show("erase_record(0)", &ehr.erase_record(patient, 0));
    runtime.block_on(vault.erase(&patient, &input_hash))?;
    println!(
        "  vault: {:?}, keys left {}",
        runtime.block_on(vault.get(&patient, &input_hash, &patient)).err().map(|e| e.to_string()),
        runtime.block_on(vault.key_count(&patient, &input_hash))?
    );
    let late_report = write(patient, input_hash)?;
    let late_hash = Envelope::seal(&late_report.document, patient.as_ref()).0.content_hash();
    let (late, _) = signed(&ehr, patient, input_hash, &late_report, late_hash);
    show("submit_score(score of the erased record)", &ehr.submit_score(oracle, &late, key.sign(&late)));
    let _ = std::fs::remove_dir_all(&vault_dir);
    if read != SAMPLE {
        bail!("the doctor's copy differs from the document");
    }
    println!(
        "\nDone: documents sealed before storage, every release audited on chain, every score verified on-chain and sealed."
    );
    Ok(())
}
