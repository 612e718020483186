//! Risk scores: the oracle's signed attestations, verified on-chain (ed25519), checked against
//! the patient's anchored records and consent, stored sealed (a commitment and the report's
//! record, never the risk) and announced; every refusal typed.

use std::cell::Cell;

use ed25519_dalek::SigningKey;
use ehr_sandbox::{
    ehr::{commitment, doc_hash, report_hash, sign_batch, ScoreResult, SANDBOX_CHAIN},
    Ehr, EhrEvent,
};
use ehr_types::{
    events::*,
    scores::{AttestationBatch, ScoreAttestation, Signature, SignerInfo, StoredScore, MAX_BATCH},
    DenialReason, ProviderRole, RecordCategory, Scope, ScoreError, FIRST_REPORT_ID,
};
use ink::primitives::AccountId;

use crate::{assert_err, assert_ok, assert_refused};

pub(crate) const MODEL: [u8; 32] = [0x3c; 32];
pub(crate) const LOCATOR: &[u8] = b"vault://fhir-bundle";
/// The risk the fixture's attestations commit to (salt `[1; 32]`).
pub(crate) const RISK_PPM: u32 = 53_800;

/// The suite with an oracle (Analytics provider with a signer key), an approved model, and the
/// patient's FHIR summary anchored and readable by the oracle.
pub(crate) struct Fixture {
    pub(crate) ehr: Ehr,
    pub(crate) key: SigningKey,
    pub(crate) oracle: AccountId,
    /// The last report number handed out by [`Fixture::attestation`].
    reports: Cell<u32>,
}

impl Fixture {
    pub(crate) fn new() -> Self {
        let mut ehr = Ehr::with_cast();
        let (admin, patient) = (ehr.admin, ehr.patient);
        let oracle = ehr.chain.account("oracle");
        ehr.register_provider(admin, oracle, ProviderRole::Analytics).value.unwrap();
        let key = SigningKey::from_bytes(&[42; 32]);
        ehr.add_signer(admin, key.verifying_key().to_bytes(), oracle).value.unwrap();
        ehr.approve_model(admin, MODEL).value.unwrap();
        ehr.add_record(patient, patient, RecordCategory::Summary, doc_hash(1), LOCATOR, None).value.unwrap();
        ehr.grant_access(patient, oracle, Scope::read(&[RecordCategory::Summary]), None).value.unwrap();
        Fixture { ehr, key, oracle, reports: Cell::new(1_000) }
    }

    pub(crate) fn signer(&self) -> [u8; 32] {
        self.key.verifying_key().to_bytes()
    }

    /// An attestation of [`MODEL`] on `doc_hash(input)`, committing to [`RISK_PPM`], with a
    /// report hash no other attestation of this fixture has.
    pub(crate) fn attestation(&self, patient: AccountId, input: u32, nonce: u64) -> ScoreAttestation {
        let report = self.reports.get() + 1;
        self.reports.set(report);
        ScoreAttestation {
            patient,
            model_hash: MODEL,
            input_hash: doc_hash(input),
            commitment: commitment(RISK_PPM, 1),
            report_hash: report_hash(report),
            computed_at: 1_718_000_000_000,
            nonce,
        }
    }

    /// The `ScoresAccepted` event of a batch whose accepted attestations' reports are the
    /// records given.
    pub(crate) fn accepted(&self, scores: &[(&ScoreAttestation, u32)]) -> EhrEvent {
        EhrEvent::ScoresAccepted(ScoresAccepted {
            signer: self.signer(),
            scores: scores
                .iter()
                .map(|(a, id)| AcceptedScore {
                    patient: a.patient,
                    model_hash: a.model_hash,
                    input_hash: a.input_hash,
                    nonce: a.nonce,
                    report_record: *id,
                })
                .collect(),
        })
    }

    /// Signs and submits one attestation through `submit_score`.
    pub(crate) fn submit(
        &mut self,
        attestation: ScoreAttestation,
    ) -> ehr_sandbox::Call<Result<Result<(), ScoreError>, ScoreError>> {
        let batch = self.ehr.batch(self.signer(), vec![attestation]);
        let signature = sign_batch(&self.key, &batch);
        let relayer = self.ehr.stranger;
        self.ehr.submit_score(relayer, &batch, signature)
    }
}

#[test]
fn signed_score_is_accepted_stored_and_announced() {
    let mut f = Fixture::new();
    let patient = f.ehr.patient;
    let attestation = f.attestation(patient, 1, 1);
    let call = f.submit(attestation.clone());
    // The report is anchored (the first report record) before the score is announced.
    assert_ok(&call, Ok(()), vec![f.accepted(&[(&attestation, FIRST_REPORT_ID)])]);
    let accepted_at = f.ehr.chain.block_number();
    assert_eq!(
        f.ehr.latest_score(patient, patient, MODEL).value,
        Ok(Some(StoredScore {
            commitment: commitment(RISK_PPM, 1),
            report_hash: attestation.report_hash,
            report_record: FIRST_REPORT_ID,
            input_hash: doc_hash(1),
            computed_at: attestation.computed_at,
            signer: f.signer(),
            nonce: 1,
            accepted_at,
        }))
    );
    assert_eq!(
        f.ehr.signer_info(f.signer()),
        Some(SignerInfo { account: f.oracle, last_nonce: 1, retired: false })
    );

    // A newer score replaces it as the latest; its report is the next report record.
    let mut newer = f.attestation(patient, 1, 2);
    newer.commitment = commitment(61_000, 2);
    let call = f.submit(newer.clone());
    assert_eq!(call.events, vec![f.accepted(&[(&newer, FIRST_REPORT_ID + 1)])]);
    let latest = f.ehr.latest_score(patient, patient, MODEL).value;
    assert_eq!(
        latest.map(|s| s.map(|s| (s.commitment, s.report_hash, s.report_record))),
        Ok(Some((commitment(61_000, 2), newer.report_hash, FIRST_REPORT_ID + 1)))
    );
}

#[test]
fn scores_are_readable_by_the_patient_and_whom_it_lets_read_its_risk_assessments() {
    let mut f = Fixture::new();
    let (patient, doctor) = (f.ehr.patient, f.ehr.doctor);
    f.submit(f.attestation(patient, 1, 1)).value.unwrap().unwrap();
    assert_err(&f.ehr.latest_score(doctor, patient, MODEL), ScoreError::NoConsent(DenialReason::NoGrant));
    f.ehr.grant_access(patient, doctor, Scope::read(&[RecordCategory::RiskAssessment]), None).value.unwrap();
    assert!(f.ehr.latest_score(doctor, patient, MODEL).value.unwrap().is_some());
    assert_eq!(f.ehr.latest_score(patient, patient, [9; 32]).value, Ok(None));
}

#[test]
fn forged_or_tampered_signatures_are_refused() {
    let mut f = Fixture::new();
    let patient = f.ehr.patient;
    let relayer = f.ehr.stranger;
    let batch = f.ehr.batch(f.signer(), vec![f.attestation(patient, 1, 1)]);
    let mut signature = sign_batch(&f.key, &batch);
    signature[0] ^= 1;
    assert_err(&f.ehr.submit_score(relayer, &batch, signature), ScoreError::BadSignature);

    // Signed, then the commitment or the report changed in transit.
    let signature = sign_batch(&f.key, &batch);
    let mut tampered = batch.clone();
    tampered.attestations[0].commitment = commitment(1, 1);
    assert_err(&f.ehr.submit_score(relayer, &tampered, signature), ScoreError::BadSignature);
    let mut tampered = batch.clone();
    tampered.attestations[0].report_hash = report_hash(1);
    assert_err(&f.ehr.submit_score(relayer, &tampered, signature), ScoreError::BadSignature);

    // Signed by another key than the one the batch names.
    let other = SigningKey::from_bytes(&[7; 32]);
    assert_err(&f.ehr.submit_score(relayer, &batch, sign_batch(&other, &batch)), ScoreError::BadSignature);
    assert_eq!(f.ehr.signer_info(f.signer()).unwrap().last_nonce, 0, "nothing consumed");
}

#[test]
fn unknown_and_retired_signers_are_refused() {
    let mut f = Fixture::new();
    let (admin, patient, relayer) = (f.ehr.admin, f.ehr.patient, f.ehr.stranger);
    let stranger_key = SigningKey::from_bytes(&[9; 32]);
    let batch = f.ehr.batch(stranger_key.verifying_key().to_bytes(), vec![f.attestation(patient, 1, 1)]);
    assert_err(
        &f.ehr.submit_score(relayer, &batch, sign_batch(&stranger_key, &batch)),
        ScoreError::UnknownSigner,
    );

    let call = f.ehr.retire_signer(admin, f.signer());
    assert_ok(&call, (), vec![EhrEvent::SignerRetired(SignerRetired { signer: f.signer() })]);
    assert_err(&f.submit(f.attestation(patient, 1, 1)), ScoreError::SignerRetired);
}

#[test]
fn replayed_and_out_of_order_nonces_are_refused() {
    let mut f = Fixture::new();
    let (patient, relayer) = (f.ehr.patient, f.ehr.stranger);
    let batch = f.ehr.batch(f.signer(), vec![f.attestation(patient, 1, 5)]);
    let signature = sign_batch(&f.key, &batch);
    f.ehr.submit_score(relayer, &batch, signature).value.unwrap().unwrap();
    assert_refused(&f.ehr.submit_score(relayer, &batch, signature), ScoreError::StaleNonce);
    assert_refused(&f.submit(f.attestation(patient, 1, 4)), ScoreError::StaleNonce);
    assert_refused(&f.submit(f.attestation(patient, 1, 5)), ScoreError::StaleNonce);
    assert_eq!(
        f.submit(f.attestation(patient, 1, 9)).value,
        Ok(Ok(())),
        "gaps are allowed, going back is not"
    );
}

#[test]
fn attestations_for_another_contract_or_chain_are_refused() {
    let mut f = Fixture::new();
    let (patient, relayer) = (f.ehr.patient, f.ehr.stranger);
    let mut batch = f.ehr.batch(f.signer(), vec![f.attestation(patient, 1, 1)]);
    batch.contract = f.ehr.records.address;
    assert_refused(&f.ehr.submit_score(relayer, &batch, sign_batch(&f.key, &batch)), ScoreError::WrongDomain);
    let mut batch = f.ehr.batch(f.signer(), vec![f.attestation(patient, 1, 1)]);
    batch.chain = [0; 32];
    assert_ne!(batch.chain, SANDBOX_CHAIN);
    assert_refused(&f.ehr.submit_score(relayer, &batch, sign_batch(&f.key, &batch)), ScoreError::WrongDomain);
}

#[test]
fn unapproved_and_retired_models_are_refused() {
    let mut f = Fixture::new();
    let (admin, patient) = (f.ehr.admin, f.ehr.patient);
    let mut unknown = f.attestation(patient, 1, 1);
    unknown.model_hash = [1; 32];
    assert_refused(&f.submit(unknown), ScoreError::ModelNotApproved);
    let call = f.ehr.retire_model(admin, MODEL);
    assert_ok(&call, (), vec![EhrEvent::ModelRetired(ModelRetired { model_hash: MODEL })]);
    assert!(!f.ehr.is_model_approved(MODEL));
    assert_refused(&f.submit(f.attestation(patient, 1, 2)), ScoreError::ModelNotApproved);
}

#[test]
fn scores_without_consent_or_anchored_input_are_refused() {
    let mut f = Fixture::new();
    let (admin, patient, other_patient, oracle) = (f.ehr.admin, f.ehr.patient, f.ehr.other_patient, f.oracle);
    // Not an anchored record of the patient.
    assert_refused(&f.submit(f.attestation(patient, 77, 1)), ScoreError::InputNotAnchored);
    // Another patient who anchored a record but never consented.
    f.ehr.register_patient(other_patient).value.unwrap();
    f.ehr
        .add_record(other_patient, other_patient, RecordCategory::Summary, doc_hash(2), LOCATOR, None)
        .value
        .unwrap();
    assert_refused(
        &f.submit(f.attestation(other_patient, 2, 2)),
        ScoreError::NoConsent(DenialReason::NoGrant),
    );
    // Consent for another category only.
    f.ehr.grant_access(other_patient, oracle, Scope::read(&[RecordCategory::Vitals]), None).value.unwrap();
    assert_refused(
        &f.submit(f.attestation(other_patient, 2, 3)),
        ScoreError::NoConsent(DenialReason::OutOfScope),
    );
    // Consent that expired.
    let expiry = f.ehr.chain.block_number() + 1;
    f.ehr
        .grant_access(other_patient, oracle, Scope::read(&[RecordCategory::Summary]), Some(expiry))
        .value
        .unwrap();
    f.ehr.chain.advance_blocks(1);
    assert_refused(
        &f.submit(f.attestation(other_patient, 2, 4)),
        ScoreError::NoConsent(DenialReason::GrantExpired),
    );
    // The oracle's provider account suspended.
    f.ehr.suspend_provider(admin, oracle).value.unwrap();
    assert_refused(
        &f.submit(f.attestation(patient, 1, 5)),
        ScoreError::NoConsent(DenialReason::ProviderSuspended),
    );
}

#[test]
fn malformed_batches_are_refused() {
    let mut f = Fixture::new();
    let (patient, relayer) = (f.ehr.patient, f.ehr.stranger);
    let empty = f.ehr.batch(f.signer(), vec![]);
    let signature = sign_batch(&f.key, &empty);
    assert_err(&f.ehr.submit_score(relayer, &empty, signature), ScoreError::EmptyBatch);
    assert_err(&f.ehr.submit_scores(relayer, &empty, signature), ScoreError::EmptyBatch);

    let two = f.ehr.batch(f.signer(), vec![f.attestation(patient, 1, 1), f.attestation(patient, 1, 2)]);
    let signature = sign_batch(&f.key, &two);
    assert_err(&f.ehr.submit_score(relayer, &two, signature), ScoreError::BatchTooLarge);
}

#[test]
fn a_batch_reports_each_attestations_outcome_and_consumes_their_nonces() {
    let mut f = Fixture::new();
    let (patient, relayer) = (f.ehr.patient, f.ehr.stranger);
    let mut unapproved = f.attestation(patient, 1, 3);
    unapproved.model_hash = [5; 32];
    let attestations = vec![
        f.attestation(patient, 1, 1),
        f.attestation(patient, 99, 2),
        unapproved,
        f.attestation(patient, 1, 3),
        f.attestation(patient, 1, 4),
    ];
    let batch = f.ehr.batch(f.signer(), attestations.clone());
    let call = f.ehr.submit_scores(relayer, &batch, sign_batch(&f.key, &batch));
    assert_eq!(
        call.value,
        Ok(vec![
            Ok(()),
            Err(ScoreError::InputNotAnchored),
            Err(ScoreError::ModelNotApproved),
            Err(ScoreError::StaleNonce),
            Ok(()),
        ])
    );
    assert!(!call.reverted);
    let refused = |nonce, reason| EhrEvent::ScoreRefused(ScoreRefused { signer: f.signer(), nonce, reason });
    // Each refusal in order (the stale nonce 3 emits nothing), then one event for the accepted
    // ones, whose reports were anchored in one call.
    assert_eq!(
        call.events,
        vec![
            refused(2, ScoreError::InputNotAnchored),
            refused(3, ScoreError::ModelNotApproved),
            f.accepted(&[(&attestations[0], FIRST_REPORT_ID), (&attestations[4], FIRST_REPORT_ID + 1)]),
        ]
    );
    assert_eq!(f.ehr.signer_info(f.signer()).unwrap().last_nonce, 4);
    assert_eq!(f.ehr.latest_score(patient, patient, MODEL).value.unwrap().unwrap().nonce, 4);
}

#[test]
fn admin_messages_are_admin_only_and_typed() {
    let mut f = Fixture::new();
    let (admin, stranger, oracle) = (f.ehr.admin, f.ehr.stranger, f.oracle);
    let key = SigningKey::from_bytes(&[11; 32]).verifying_key().to_bytes();
    assert_err(&f.ehr.add_signer(stranger, key, oracle), ScoreError::NotAdmin);
    assert_err(&f.ehr.retire_signer(stranger, f.signer()), ScoreError::NotAdmin);
    assert_err(&f.ehr.approve_model(stranger, [2; 32]), ScoreError::NotAdmin);
    assert_err(&f.ehr.retire_model(stranger, MODEL), ScoreError::NotAdmin);
    assert_err(&f.ehr.add_signer(admin, f.signer(), oracle), ScoreError::SignerAlreadyRegistered);
    assert_err(&f.ehr.approve_model(admin, MODEL), ScoreError::ModelAlreadyApproved);
    assert_err(&f.ehr.retire_signer(admin, key), ScoreError::UnknownSigner);
    assert_err(&f.ehr.retire_model(admin, [2; 32]), ScoreError::ModelNotApproved);
    let call = f.ehr.add_signer(admin, key, oracle);
    assert_ok(&call, (), vec![EhrEvent::SignerAdded(SignerAdded { account: oracle, signer: key })]);
    let call = f.ehr.approve_model(admin, [2; 32]);
    assert_ok(&call, (), vec![EhrEvent::ModelApproved(ModelApproved { model_hash: [2; 32] })]);
    f.ehr.retire_signer(admin, key).value.unwrap();
    assert_err(&f.ehr.retire_signer(admin, key), ScoreError::SignerRetired);
}

/// `n` registered patients, each with a summary (`doc_hash(1_000 + i)`) the oracle may read:
/// the patient and the input number of each.
fn scored_patients(f: &mut Fixture, n: u32) -> Vec<(AccountId, u32)> {
    let oracle = f.oracle;
    (0..n)
        .map(|i| {
            let patient = f.ehr.chain.account(&format!("scored patient {i}"));
            f.ehr.register_patient(patient).value.unwrap();
            f.ehr
                .add_record(patient, patient, RecordCategory::Summary, doc_hash(1_000 + i), LOCATOR, None)
                .value
                .unwrap();
            f.ehr.grant_access(patient, oracle, Scope::read(&[RecordCategory::Summary]), None).value.unwrap();
            (patient, 1_000 + i)
        })
        .collect()
}

/// A block's ref_time and a proof size no batch reaches: the budget assertions, not drink's
/// default call limit, decide.
const BLOCK_REF_TIME: u64 = 2_000_000_000_000;
const LARGE_PROOF: u64 = 16 * 1024 * 1024;

/// One signature and one event per batch: the verifier's and the event's costs are paid once,
/// the per-score cost is storage and two shared cross-contract calls (the inputs' check, the
/// reports' anchoring), and no patient's entry is written (reports take ids of their own).
/// Budget: 100 scores of 100 patients ≤ 5 % of a 2·10¹² block (100·10⁹ ref_time) in drink,
/// which charges ≈ 10 % more than a real node (`scripts/bench-node.sh` holds the node to it).
#[test]
fn batch_gas_stays_within_budget() {
    let mut f = Fixture::new();
    let relayer = f.ehr.stranger;
    let patients = scored_patients(&mut f, 100);
    f.ehr.set_gas_limit(BLOCK_REF_TIME, LARGE_PROOF);
    let mut nonce = 0;
    for size in [1usize, 10, 100] {
        let attestations = patients[..size]
            .iter()
            .map(|(patient, input)| {
                nonce += 1;
                f.attestation(*patient, *input, nonce)
            })
            .collect();
        let batch = f.ehr.batch(f.signer(), attestations);
        let call = f.ehr.submit_scores(relayer, &batch, sign_batch(&f.key, &batch));
        assert!(call.value.as_ref().is_ok_and(|o| o.iter().all(|o| o.is_ok())), "{:?}", call.value);
        let (ref_time, proof) = (call.gas_consumed.ref_time(), call.gas_consumed.proof_size());
        println!("submit_scores batch of {size:>3}: ref_time {ref_time:>14}  proof_size {proof:>8}");
        if size == 100 {
            assert!(ref_time <= BLOCK_REF_TIME / 20, "a batch of 100 costs {ref_time} ref_time in drink");
        }
    }
}

/// `submit_scores`, with a chain-level failure (a trap) as an `Err` instead of a panic.
fn try_submit_scores(
    f: &mut Fixture,
    batch: &AttestationBatch,
    signature: Signature,
) -> Result<ehr_sandbox::Call<ScoreResult<Vec<ScoreResult<()>>>>, ehr_sandbox::CallFailed> {
    let (scores, relayer) = (f.ehr.scores.clone(), f.ehr.stranger);
    f.ehr.chain.try_call(&scores, relayer, "submit_scores", (batch, signature))
}

/// A batch of `MAX_BATCH` attestations lands in one call; one more is refused as a whole.
#[test]
fn a_full_batch_lands_and_a_larger_one_is_refused() {
    let mut f = Fixture::new();
    let patient = f.ehr.patient;
    f.ehr.set_gas_limit(BLOCK_REF_TIME, LARGE_PROOF);
    let many = (1..=u64::from(MAX_BATCH) + 1).map(|n| f.attestation(patient, 1, n)).collect();
    let many = f.ehr.batch(f.signer(), many);
    let signature = sign_batch(&f.key, &many);
    let call = try_submit_scores(&mut f, &many, signature);
    assert!(matches!(&call, Ok(call) if call.value == Err(ScoreError::BatchTooLarge)), "{call:?}");

    let mut full = many;
    full.attestations.truncate(MAX_BATCH as usize);
    let signature = sign_batch(&f.key, &full);
    let call = try_submit_scores(&mut f, &full, signature);
    let outcomes = call.map(|call| call.value);
    assert!(
        matches!(&outcomes, Ok(Ok(o)) if o.len() == MAX_BATCH as usize && o.iter().all(|o| o.is_ok())),
        "{outcomes:?}"
    );
}
