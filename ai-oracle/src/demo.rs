//! `ai-oracle demo`: the whole system on an in-process drink chain running the release contract
//! artifacts. No node needed.

use ai_oracle::{
    attest::{self, OracleKey},
    fhir::{self, ExtractOptions},
    model::RiskModel,
    pce::PooledCohortEquations,
};
use anyhow::{bail, Context, Result};
use ehr_sandbox::{
    ehr::{ScoreResult, SANDBOX_CHAIN},
    short_account, short_hex, Call, Ehr,
};
use ehr_types::{
    scores::{AttestationBatch, Signature},
    AccessDecision, AddRecordOutcome, ProviderRole, RecordCategory, Scope,
};

/// The sample record: a FHIR R4 bundle, anchored on-chain by its SHA-256.
const SAMPLE: &[u8] = include_bytes!("../fixtures/patient-a-white-female.json");
const SAMPLE_LOCATOR: &[u8] = b"ipfs://bafkreipatientawhitefemalefhirbundle";

fn step(title: &str) {
    println!("\n== {title}");
}

fn show<R: std::fmt::Debug>(what: &str, call: &Call<R>) {
    println!("  {what}: {:?}{}", call.value, if call.reverted { "  (reverted)" } else { "" });
    for event in &call.events {
        println!("    event {}", event.summary());
    }
}

/// Runs the demo.
pub fn run() -> Result<()> {
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

    step("Patient registers and anchors a FHIR bundle (only its SHA-256 and locator go on-chain)");
    let input_hash = attest::input_hash(SAMPLE);
    show("register_patient", &ehr.register_patient(patient));
    let added = ehr.add_record(patient, patient, RecordCategory::Summary, input_hash, SAMPLE_LOCATOR, None);
    show("add_record(Summary)", &added);
    if added.value != Ok(AddRecordOutcome::Added(0)) {
        bail!("the sample record was not anchored: {:?}", added.value);
    }

    step("The oracle fetches the document, checks it against the chain, and scores it");
    let document = SAMPLE;
    let anchored = ehr.anchored_record(patient, attest::input_hash(document));
    println!("  sha256 {} anchored as record {:?}", short_hex(&attest::input_hash(document)), anchored);
    if anchored.is_none() {
        bail!("document does not match the chain: refusing to score");
    }
    let extract = fhir::extract_json(document, ExtractOptions::default()).context("sample bundle")?;
    let score = model.score(&extract.inputs)?;
    println!(
        "  {} ({} equation): 10-year ASCVD risk {:.2} % ({:?}), {} ppm",
        model.id(),
        score.equation,
        score.risk * 100.0,
        score.band,
        score.risk_ppm()
    );
    for c in &score.contributions {
        println!("    {:<32} {:>10.4}", c.term, c.contribution);
    }

    let mut nonce = 0;
    let mut signed = |ehr: &Ehr, key: &OracleKey| -> (AttestationBatch, Signature) {
        nonce += 1;
        let attestation = attest::attestation(&model, &score, patient, input_hash, 1_718_150_400_000, nonce);
        let batch = AttestationBatch {
            contract: ehr.scores.address,
            chain: SANDBOX_CHAIN,
            signer: key.public(),
            attestations: vec![attestation],
        };
        let signature = key.sign(&batch);
        (batch, signature)
    };

    step("Refused: the oracle posts before the patient consented (kept on chain, nonce consumed)");
    let (early_batch, early_signature) = signed(&ehr, &key);
    let refused: Call<ScoreResult<ScoreResult<()>>> = ehr.submit_score(oracle, &early_batch, early_signature);
    show("submit_score", &refused);

    step("The patient grants the oracle (and the doctor) read access to summaries");
    show(
        "grant_access(oracle, read Summary)",
        &ehr.grant_access(patient, oracle, Scope::read(&[RecordCategory::Summary]), None),
    );
    show(
        "grant_access(doctor, read Summary)",
        &ehr.grant_access(patient, doctor, Scope::read(&[RecordCategory::Summary]), None),
    );

    step("The oracle posts the signed score: verified on-chain (ed25519) and stored");
    let (batch, signature) = signed(&ehr, &key);
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

    step("Refused: the early batch replayed now that consent exists, a tampered signature, a replay");
    show("submit_score(early batch replayed)", &ehr.submit_score(oracle, &early_batch, early_signature));
    let mut tampered = signature;
    tampered[10] ^= 0x80;
    let (fresh, _) = signed(&ehr, &key);
    show("submit_score(tampered signature)", &ehr.submit_score(oracle, &fresh, tampered));
    show("submit_score(replayed batch)", &ehr.submit_score(oracle, &batch, signature));

    step("On-chain result, as the patient and the doctor read it");
    let stored = ehr.latest_score(patient, patient, model.model_hash());
    if let Ok(Some(s)) = &stored.value {
        println!(
            "  latest score: {} ppm ({:.2} %), {:?}, input {} signed by {} nonce {} at block {}",
            s.risk_ppm,
            f64::from(s.risk_ppm) / 10_000.0,
            s.band,
            short_hex(&s.input_hash),
            short_hex(&s.signer),
            s.nonce,
            s.accepted_at
        );
    }
    let as_doctor = ehr.latest_score(doctor, patient, model.model_hash());
    println!(
        "  doctor reads it: {}",
        if matches!(as_doctor.value, Ok(Some(_))) { "allowed (holds a Summary grant)" } else { "refused" }
    );
    let stranger = ehr.stranger;
    println!(
        "  stranger reads it: {:?}",
        ehr.latest_score(stranger, patient, model.model_hash()).value.map(|_| ())
    );

    step("Audit: the doctor requests the record; a stranger is denied, and both are on the record");
    let granted = ehr.request_access(doctor, patient, RecordCategory::Summary);
    show("request_access(doctor)", &granted);
    let denied = ehr.request_access(stranger, patient, RecordCategory::Summary);
    show("request_access(stranger)", &denied);
    if granted.value != Ok(AccessDecision::Granted) {
        bail!("the doctor should have been granted access");
    }
    println!("\nDone: every score verified on-chain, every access decision audited.");
    Ok(())
}
