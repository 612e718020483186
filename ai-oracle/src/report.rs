//! The explained score report: what a sealed score says, for the eyes of its readers only.
//!
//! The chain never sees a risk. For each score the oracle writes a FHIR R4 `RiskAssessment`
//! (the risk, its band, every term's contribution, the model's id, version and hash, the scored
//! document's hash and each input's source resource) and a fresh random 32-byte salt; the signed
//! attestation carries only the commitment `SHA-256(context ‖ salt ‖ SCALE(risk_ppm, band))`
//! ([`ScoreResult::commitment`]) and the SHA-256 of the report's envelope. The report is sealed
//! like any record (`ehr-envelope`) for the patient and the providers the patient lets read
//! `RiskAssessment` records, anchored by the `risk_scores` contract when it accepts the
//! attestation, and stored in the record vault.
//!
//! A reader who opened the envelope checks it with [`OpenedReport::check`] against the score
//! stored on chain (the commitment opens, the input and time match) and, to check the oracle's
//! signature itself, with [`OpenedReport::check_signed`] against the signed batch that carried
//! the attestation (the call data of the transaction whose `ScoresAccepted` names it).
//!
//! The report's own fields (`extension` URLs under [`EXTENSION_BASE`]):
//! `score-result` (`riskPpm`, `band`, `salt`), `model-hash`, `computed-at`, `contribution`
//! (one per term: `term`, `coefficient`, `value`, `contribution`).

use ed25519_dalek::{Signature as Ed25519Signature, VerifyingKey};
use ehr_types::{
    scores::{AttestationBatch, ScoreBand, ScoreResult, Signature, StoredScore},
    AccountId, ContentHash,
};
use serde_json::{json, Value};

use crate::{
    fhir::Source,
    model::{RiskBand, RiskModel, RiskScore},
};

/// Base of the report's extension URLs.
pub const EXTENSION_BASE: &str = "https://ehr-on-ink.dev/fhir/StructureDefinition/";
/// Identifier system of on-chain accounts (hex account ids).
pub const ACCOUNT_SYSTEM: &str = "urn:ehr-on-ink:account";
/// Identifier system of anchored documents (hex SHA-256 of the envelope).
pub const RECORD_SYSTEM: &str = "urn:ehr-on-ink:record-sha256";
/// Code system of the oracle's models.
pub const MODEL_SYSTEM: &str = "urn:ehr-on-ink:model";

/// Why a report does not check out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReportError {
    /// Not a report this oracle writes.
    #[error("not a score report: {0}")]
    Malformed(String),
    /// The report's result and salt do not open the on-chain commitment.
    #[error(
        "the report's result does not open the on-chain commitment: it was altered or is another score's"
    )]
    CommitmentMismatch,
    /// The report is about another patient, input, model or time than the on-chain score.
    #[error("the report's {0} differs from the on-chain score's")]
    Mismatch(&'static str),
    /// The batch's signature does not verify, or the batch does not hold this attestation.
    #[error("signature check failed: {0}")]
    Signature(String),
}

/// The signed batch and signature of a `submit_scores` / `submit_score` call, from the call's
/// input data (4-byte selector, then the SCALE arguments).
pub fn decode_submission(call_data: &[u8]) -> Result<(AttestationBatch, Signature), ReportError> {
    let mut args = call_data.get(4..).unwrap_or_default();
    <(AttestationBatch, Signature) as ink::scale::Decode>::decode(&mut args)
        .map_err(|e| ReportError::Signature(format!("the call's arguments are not a signed batch: {e}")))
}

/// A freshly written report, before sealing.
#[derive(Debug, Clone)]
pub struct Report {
    /// The FHIR `RiskAssessment` JSON.
    pub document: Vec<u8>,
    /// The result the commitment hides.
    pub result: ScoreResult,
    /// The commitment's salt (also in the document).
    pub salt: [u8; 32],
}

impl Report {
    /// The commitment the attestation carries.
    pub fn commitment(&self) -> ContentHash {
        self.result.commitment(&self.salt)
    }
}

/// The on-chain band of a model band.
pub fn score_band(band: RiskBand) -> ScoreBand {
    match band {
        RiskBand::Low => ScoreBand::Low,
        RiskBand::Borderline => ScoreBand::Borderline,
        RiskBand::Intermediate => ScoreBand::Intermediate,
        RiskBand::High => ScoreBand::High,
    }
}

fn band_code(band: ScoreBand) -> &'static str {
    match band {
        ScoreBand::Low => "low",
        ScoreBand::Borderline => "borderline",
        ScoreBand::Intermediate => "intermediate",
        ScoreBand::High => "high",
    }
}

fn band_of(code: &str) -> Option<ScoreBand> {
    [ScoreBand::Low, ScoreBand::Borderline, ScoreBand::Intermediate, ScoreBand::High]
        .into_iter()
        .find(|b| band_code(*b) == code)
}

fn hex0x(bytes: &[u8]) -> String {
    format!("0x{}", hex::encode(bytes))
}

fn rfc3339(ms: u64) -> String {
    chrono::DateTime::from_timestamp_millis(i64::try_from(ms).unwrap_or(i64::MAX))
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_default()
}

/// Writes the report of `score` (computed by `model` at `computed_at_ms` from `patient`'s
/// document whose envelope hashes to `input_hash`, with the inputs from `sources`) under a fresh
/// random salt.
pub fn write(
    model: &dyn RiskModel,
    score: &RiskScore,
    sources: &[Source],
    patient: &AccountId,
    input_hash: &ContentHash,
    computed_at_ms: u64,
) -> Result<Report, getrandom::Error> {
    let mut salt = [0u8; 32];
    getrandom::getrandom(&mut salt)?;
    let result = ScoreResult { risk_ppm: score.risk_ppm(), band: score_band(score.band) };
    let ext = |name: &str| format!("{EXTENSION_BASE}{name}");
    let mut basis = vec![json!({
        "identifier": { "system": RECORD_SYSTEM, "value": hex0x(input_hash) },
        "display": "the scored document (FHIR Bundle)"
    })];
    basis.extend(sources.iter().map(|s| {
        json!({
            "reference": s.resource,
            "display": format!("{}: {} ({}{})", s.input, s.original, s.code,
                s.date.map(|d| format!(", {d}")).unwrap_or_default())
        })
    }));
    let mut extension = vec![
        json!({
            "url": ext("score-result"),
            "extension": [
                { "url": "riskPpm", "valueInteger": result.risk_ppm },
                { "url": "band", "valueCode": band_code(result.band) },
                { "url": "salt", "valueString": hex0x(&salt) }
            ]
        }),
        json!({ "url": ext("model-hash"), "valueString": hex0x(&model.model_hash()) }),
        json!({ "url": ext("computed-at"), "valueInteger64": computed_at_ms.to_string() }),
        json!({ "url": ext("equation"), "valueString": score.equation }),
    ];
    extension.extend(score.contributions.iter().map(|c| {
        json!({
            "url": ext("contribution"),
            "extension": [
                { "url": "term", "valueString": c.term },
                { "url": "coefficient", "valueDecimal": c.coefficient },
                { "url": "value", "valueDecimal": c.value },
                { "url": "contribution", "valueDecimal": c.contribution }
            ]
        })
    }));
    let document = json!({
        "resourceType": "RiskAssessment",
        "status": "final",
        "subject": { "identifier": { "system": ACCOUNT_SYSTEM, "value": hex0x(patient.as_ref()) } },
        "occurrenceDateTime": rfc3339(computed_at_ms),
        "method": {
            "coding": [{ "system": MODEL_SYSTEM, "code": model.id(), "version": model.version().to_string() }],
            "text": model.description()
        },
        "basis": basis,
        "prediction": [{
            "probabilityDecimal": score.risk,
            "qualitativeRisk": { "coding": [{ "system": format!("{EXTENSION_BASE}risk-band"), "code": band_code(result.band) }] },
            "whenRange": { "high": { "value": 10, "unit": "a", "system": "http://unitsofmeasure.org", "code": "a" } }
        }],
        "extension": extension
    });
    let document = serde_json::to_vec_pretty(&document).unwrap_or_default();
    Ok(Report { document, result, salt })
}

/// One term's share of the linear predictor, as the report states it.
#[derive(Debug, Clone, PartialEq)]
pub struct Term {
    /// The term.
    pub term: String,
    /// Its coefficient.
    pub coefficient: f64,
    /// The transformed input value.
    pub value: f64,
    /// coefficient × value.
    pub contribution: f64,
}

/// A report as its reader opened it.
#[derive(Debug, Clone, PartialEq)]
pub struct OpenedReport {
    /// The patient (from `subject`).
    pub patient: AccountId,
    /// The result.
    pub result: ScoreResult,
    /// The commitment's salt.
    pub salt: [u8; 32],
    /// The model's id.
    pub model_id: String,
    /// The model's hash.
    pub model_hash: ContentHash,
    /// The scored document's envelope hash.
    pub input_hash: ContentHash,
    /// When the score was computed (Unix ms).
    pub computed_at: u64,
    /// Each term's contribution.
    pub terms: Vec<Term>,
    /// The source resources of the inputs (`Observation/…`, `Patient/…`).
    pub sources: Vec<String>,
}

fn malformed(what: &str) -> ReportError {
    ReportError::Malformed(format!("missing or invalid {what}"))
}

fn hex32(text: Option<&str>, what: &str) -> Result<[u8; 32], ReportError> {
    let text = text.ok_or_else(|| malformed(what))?;
    let bytes = hex::decode(text.trim_start_matches("0x")).map_err(|_| malformed(what))?;
    bytes.try_into().map_err(|_| malformed(what))
}

fn extension<'a>(value: &'a Value, name: &str) -> impl Iterator<Item = &'a Value> + 'a {
    let url = format!("{EXTENSION_BASE}{name}");
    value["extension"].as_array().into_iter().flatten().filter(move |e| e["url"] == url.as_str())
}

fn sub<'a>(value: &'a Value, name: &str) -> Option<&'a Value> {
    value["extension"].as_array()?.iter().find(|e| e["url"] == name)
}

impl OpenedReport {
    /// Parses the plaintext of a report envelope.
    pub fn parse(document: &[u8]) -> Result<OpenedReport, ReportError> {
        let value: Value =
            serde_json::from_slice(document).map_err(|e| ReportError::Malformed(format!("not JSON: {e}")))?;
        if value["resourceType"] != "RiskAssessment" {
            return Err(ReportError::Malformed("not a FHIR RiskAssessment".into()));
        }
        let result = extension(&value, "score-result").next().ok_or_else(|| malformed("score-result"))?;
        let risk_ppm = sub(result, "riskPpm")
            .and_then(|v| v["valueInteger"].as_u64())
            .and_then(|v| u32::try_from(v).ok())
            .filter(|ppm| *ppm <= ehr_types::scores::PPM)
            .ok_or_else(|| malformed("riskPpm (0–1 000 000)"))?;
        let band = sub(result, "band")
            .and_then(|v| v["valueCode"].as_str())
            .and_then(band_of)
            .ok_or_else(|| malformed("band"))?;
        let salt = hex32(sub(result, "salt").and_then(|v| v["valueString"].as_str()), "salt")?;
        let model_hash = hex32(
            extension(&value, "model-hash").next().and_then(|v| v["valueString"].as_str()),
            "model-hash",
        )?;
        let computed_at = extension(&value, "computed-at")
            .next()
            .and_then(|v| v["valueInteger64"].as_str())
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| malformed("computed-at"))?;
        let patient = AccountId::from(hex32(value["subject"]["identifier"]["value"].as_str(), "subject")?);
        let basis = value["basis"].as_array().ok_or_else(|| malformed("basis"))?;
        let input_hash = hex32(
            basis
                .iter()
                .find(|b| b["identifier"]["system"] == RECORD_SYSTEM)
                .and_then(|b| b["identifier"]["value"].as_str()),
            "basis (scored document)",
        )?;
        let sources = basis.iter().filter_map(|b| b["reference"].as_str()).map(str::to_string).collect();
        let number = |e: &Value, name: &str| sub(e, name).and_then(|v| v["valueDecimal"].as_f64());
        let terms = extension(&value, "contribution")
            .map(|e| {
                Some(Term {
                    term: sub(e, "term")?["valueString"].as_str()?.to_string(),
                    coefficient: number(e, "coefficient")?,
                    value: number(e, "value")?,
                    contribution: number(e, "contribution")?,
                })
            })
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| malformed("contribution"))?;
        let model_id = value["method"]["coding"][0]["code"].as_str().ok_or_else(|| malformed("method"))?;
        Ok(OpenedReport {
            patient,
            result: ScoreResult { risk_ppm, band },
            salt,
            model_id: model_id.to_string(),
            model_hash,
            input_hash,
            computed_at,
            terms,
            sources,
        })
    }

    /// The risk as a fraction.
    pub fn risk(&self) -> f64 {
        f64::from(self.result.risk_ppm) / 1_000_000.0
    }

    /// Checks the report against `patient`'s latest score for `model_hash` as stored on chain:
    /// same patient, model, input and time, and its result and salt open the commitment.
    pub fn check(
        &self,
        patient: &AccountId,
        model_hash: &ContentHash,
        stored: &StoredScore,
    ) -> Result<(), ReportError> {
        if self.patient != *patient {
            return Err(ReportError::Mismatch("patient"));
        }
        if self.model_hash != *model_hash {
            return Err(ReportError::Mismatch("model"));
        }
        if self.input_hash != stored.input_hash {
            return Err(ReportError::Mismatch("scored document"));
        }
        if self.computed_at != stored.computed_at {
            return Err(ReportError::Mismatch("computation time"));
        }
        if self.result.commitment(&self.salt) != stored.commitment {
            return Err(ReportError::CommitmentMismatch);
        }
        Ok(())
    }

    /// Checks the oracle's signature: `batch` is for the risk-scores contract and chain of
    /// `domain` and signed by the score's signer, `signature` verifies over it, and it holds the
    /// score's attestation (its nonce, this report's envelope hash) whose commitment this
    /// report opens.
    pub fn check_signed(
        &self,
        batch: &AttestationBatch,
        signature: &Signature,
        stored: &StoredScore,
        domain: (&AccountId, &[u8; 32]),
    ) -> Result<(), ReportError> {
        if batch.signer != stored.signer {
            return Err(ReportError::Signature("the batch is signed by another key than the score's".into()));
        }
        if (&batch.contract, &batch.chain) != domain {
            return Err(ReportError::Signature("the batch is for another contract or chain".into()));
        }
        let (nonce, report_hash) = (stored.nonce, &stored.report_hash);
        let key = VerifyingKey::from_bytes(&batch.signer)
            .map_err(|e| ReportError::Signature(format!("signer key: {e}")))?;
        key.verify_strict(&batch.signing_message(), &Ed25519Signature::from_bytes(signature))
            .map_err(|_| ReportError::Signature("the signature does not verify over the batch".into()))?;
        let attestation = batch
            .attestations
            .iter()
            .find(|a| a.nonce == nonce)
            .ok_or_else(|| ReportError::Signature(format!("the batch has no attestation {nonce}")))?;
        if attestation.report_hash != *report_hash {
            return Err(ReportError::Signature("the attestation names another report".into()));
        }
        if attestation.patient != self.patient
            || attestation.model_hash != self.model_hash
            || attestation.input_hash != self.input_hash
            || attestation.computed_at != self.computed_at
        {
            return Err(ReportError::Mismatch("signed attestation"));
        }
        if attestation.commitment != self.result.commitment(&self.salt) {
            return Err(ReportError::CommitmentMismatch);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{fhir, pce::PooledCohortEquations};
    use ehr_types::scores::ScoreAttestation;

    const BUNDLE: &[u8] = include_bytes!("../fixtures/patient-b-african-american-male.json");

    fn sample() -> (Report, RiskScore) {
        let extract = fhir::extract_json(BUNDLE, fhir::ExtractOptions::default()).unwrap();
        let model = PooledCohortEquations;
        let score = model.score(&extract.inputs).unwrap();
        let report =
            write(&model, &score, &extract.sources, &AccountId::from([7; 32]), &[9; 32], 1_700_000_000_000)
                .unwrap();
        (report, score)
    }

    #[test]
    fn a_report_opens_its_commitment_and_nothing_else_does() {
        let (report, score) = sample();
        let opened = OpenedReport::parse(&report.document).unwrap();
        assert_eq!(opened.result.risk_ppm, score.risk_ppm());
        assert_eq!(opened.terms.len(), score.contributions.len());
        assert!(!opened.sources.is_empty(), "each input's source resource is named");
        let stored = StoredScore {
            commitment: report.commitment(),
            report_hash: [1; 32],
            report_record: 3,
            input_hash: [9; 32],
            computed_at: 1_700_000_000_000,
            signer: [2; 32],
            nonce: 5,
            accepted_at: 10,
        };
        let model_hash = PooledCohortEquations.model_hash();
        let patient = AccountId::from([7; 32]);
        assert_eq!(opened.check(&patient, &model_hash, &stored), Ok(()));
        let mut forged = opened.clone();
        forged.result.risk_ppm += 1;
        assert_eq!(forged.check(&patient, &model_hash, &stored), Err(ReportError::CommitmentMismatch));
        assert_eq!(
            opened.check(&AccountId::from([8; 32]), &model_hash, &stored),
            Err(ReportError::Mismatch("patient"))
        );
        let (other, _) = sample();
        assert_ne!(other.commitment(), report.commitment(), "a fresh salt every time");
        assert!(OpenedReport::parse(b"{\"resourceType\":\"Patient\"}").is_err());
    }

    #[test]
    fn the_signature_check_covers_the_attestation_of_this_report() {
        let (report, _) = sample();
        let opened = OpenedReport::parse(&report.document).unwrap();
        let key = crate::attest::OracleKey::from_seed([4; 32]);
        let attestation = ScoreAttestation {
            patient: opened.patient,
            model_hash: opened.model_hash,
            input_hash: opened.input_hash,
            commitment: report.commitment(),
            report_hash: [6; 32],
            computed_at: opened.computed_at,
            nonce: 11,
        };
        let batch = AttestationBatch {
            contract: AccountId::from([1; 32]),
            chain: [2; 32],
            signer: key.public(),
            attestations: vec![attestation],
        };
        let signature = key.sign(&batch);
        let stored = StoredScore {
            commitment: report.commitment(),
            report_hash: [6; 32],
            report_record: 1,
            input_hash: opened.input_hash,
            computed_at: opened.computed_at,
            signer: key.public(),
            nonce: 11,
            accepted_at: 3,
        };
        let domain = (&batch.contract, &batch.chain);
        assert_eq!(opened.check_signed(&batch, &signature, &stored, domain), Ok(()));
        let other_report = StoredScore { report_hash: [7; 32], ..stored };
        assert!(opened.check_signed(&batch, &signature, &other_report, domain).is_err());
        let other_nonce = StoredScore { nonce: 12, ..stored };
        assert!(opened.check_signed(&batch, &signature, &other_nonce, domain).is_err());
        let mut bad = signature;
        bad[0] ^= 1;
        assert!(opened.check_signed(&batch, &bad, &stored, domain).is_err());
        // A batch signed with another key that copies the public fields does not pass.
        let forger = crate::attest::OracleKey::from_seed([5; 32]);
        let forged = AttestationBatch { signer: forger.public(), ..batch.clone() };
        assert!(opened.check_signed(&forged, &forger.sign(&forged), &stored, domain).is_err());
        assert!(opened
            .check_signed(&batch, &signature, &stored, (&AccountId::from([9; 32]), &[2; 32]))
            .is_err());
    }
}
