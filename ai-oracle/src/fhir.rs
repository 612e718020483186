//! FHIR R4 input: extracts a person's risk-factor values from a `Bundle` (or a JSON array of
//! resources, or a single resource) using US Core conventions and the codes of
//! `shared/reference/risk-models.md`.
//!
//! For each measurement the most recent usable value wins; units are converted to the models'
//! units (mmol/L × 38.67 → mg/dL for cholesterol) and anything else is refused. A missing,
//! stale or malformed input is an error that names the code, never a silent default. The one
//! inference made is FHIR's own: no active diabetes `Condition` means no diabetes, and no active
//! antihypertensive medication means untreated blood pressure.

use chrono::NaiveDate;
use serde::Serialize;
use serde_json::Value;

use crate::model::{Race, RiskInputs, Sex};

/// LOINC total cholesterol [mass/volume].
pub const LOINC_TOTAL_CHOLESTEROL: &str = "2093-3";
/// LOINC HDL cholesterol.
pub const LOINC_HDL: &str = "2085-9";
/// LOINC systolic blood pressure.
pub const LOINC_SYSTOLIC_BP: &str = "8480-6";
/// LOINC blood-pressure panel whose components carry the systolic value.
pub const LOINC_BP_PANEL: &str = "85354-9";
/// LOINC tobacco smoking status.
pub const LOINC_SMOKING_STATUS: &str = "72166-2";

const LOINC: &str = "http://loinc.org";
const SNOMED: &str = "http://snomed.info/sct";
const UCUM: &str = "http://unitsofmeasure.org";
const US_CORE_RACE: &str = "http://hl7.org/fhir/us/core/StructureDefinition/us-core-race";
const OMB_BLACK: &str = "2054-5";
const OMB_WHITE: &str = "2106-3";
/// SNOMED codes of current smokers: every day, some days, smoker.
const CURRENT_SMOKER: [&str; 3] = ["449868002", "428041000124106", "77176002"];
/// SNOMED codes of diabetes: type 2, type 1, diabetes mellitus.
const DIABETES_SNOMED: [&str; 3] = ["44054006", "46635009", "73211009"];
/// ICD-10 diabetes categories.
const DIABETES_ICD10: [&str; 5] = ["E10", "E11", "E12", "E13", "E14"];
/// ATC antihypertensive groups.
const ANTIHYPERTENSIVE_ATC: [&str; 5] = ["C02", "C03", "C07", "C08", "C09"];
/// mg/dL per mmol/L of cholesterol.
pub const CHOLESTEROL_MG_DL_PER_MMOL_L: f64 = 38.67;
/// Measurements older than this many days before the scoring date are refused.
pub const MAX_AGE_DAYS: i64 = 730;

/// The extraction rules as data: what the code below applies. They are part of every model's
/// identity ([`crate::model::RiskModel::model_hash`]): a changed code, unit, conversion factor or
/// staleness limit changes the hash the chain approves. `version` is bumped with any change of
/// the rules' logic that the fields do not capture.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ExtractionRules {
    /// Version of the extraction logic.
    pub version: u32,
    /// LOINC codes: total cholesterol, HDL, systolic BP, BP panel, smoking status.
    pub loinc: [&'static str; 5],
    /// SNOMED codes of current smokers.
    pub current_smoker: &'static [&'static str],
    /// SNOMED codes of diabetes.
    pub diabetes_snomed: &'static [&'static str],
    /// ICD-10 diabetes categories.
    pub diabetes_icd10: &'static [&'static str],
    /// ATC antihypertensive groups.
    pub antihypertensive_atc: &'static [&'static str],
    /// US Core / OMB race codes: Black or African American, White.
    pub race: [&'static str; 2],
    /// Accepted units per measurement (UCUM code, factor to the model's unit).
    pub units: [&'static [(&'static str, f64)]; 3],
    /// mg/dL per mmol/L of cholesterol.
    pub cholesterol_mg_dl_per_mmol_l: f64,
    /// The staleness limit, in days before the scoring date.
    pub max_age_days: i64,
}

/// The rules this code applies.
pub const RULES: ExtractionRules = ExtractionRules {
    version: 1,
    loinc: [LOINC_TOTAL_CHOLESTEROL, LOINC_HDL, LOINC_SYSTOLIC_BP, LOINC_BP_PANEL, LOINC_SMOKING_STATUS],
    current_smoker: &CURRENT_SMOKER,
    diabetes_snomed: &DIABETES_SNOMED,
    diabetes_icd10: &DIABETES_ICD10,
    antihypertensive_atc: &ANTIHYPERTENSIVE_ATC,
    race: [OMB_BLACK, OMB_WHITE],
    units: [TOTAL_CHOLESTEROL.units, HDL.units, SYSTOLIC_BP.units],
    cholesterol_mg_dl_per_mmol_l: CHOLESTEROL_MG_DL_PER_MMOL_L,
    max_age_days: MAX_AGE_DAYS,
};

impl ExtractionRules {
    /// Canonical encoding (length-prefixed strings, little-endian numbers), hashed into every
    /// model's identity.
    pub fn canonical(&self) -> Vec<u8> {
        let c = crate::model::Canonical::default()
            .str("fhir-extraction-rules")
            .u32(self.version)
            .strs(&self.loinc)
            .strs(self.current_smoker)
            .strs(self.diabetes_snomed)
            .strs(self.diabetes_icd10)
            .strs(self.antihypertensive_atc)
            .strs(&self.race);
        self.units
            .iter()
            .fold(c, |c, units| units.iter().fold(c.u32(units.len() as u32), |c, (u, f)| c.str(u).f64(*f)))
            .f64(self.cholesterol_mg_dl_per_mmol_l)
            .str(&self.max_age_days.to_string())
            .finish()
    }
}

/// Why clinical data could not be turned into model inputs.
#[derive(Debug, thiserror::Error)]
pub enum FhirError {
    /// Not JSON.
    #[error("not valid JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// JSON, but not FHIR resources.
    #[error("not a FHIR resource, Bundle or array of resources: {0}")]
    NotFhir(String),
    /// No Patient resource.
    #[error("no Patient resource in the input")]
    NoPatient,
    /// More than one Patient.
    #[error("{0} Patient resources in the input; expected exactly one")]
    SeveralPatients(usize),
    /// A required element is absent or has the wrong type.
    #[error("{resource}: {element} is missing or malformed")]
    Malformed {
        /// Resource type and id.
        resource: String,
        /// The element, e.g. `birthDate`.
        element: &'static str,
    },
    /// Patient.gender is neither male nor female.
    #[error("Patient.gender is {0:?}; the models are defined for male and female only")]
    UnsupportedGender(String),
    /// A required measurement is absent.
    #[error("missing input: no usable Observation with LOINC {code} ({name})")]
    Missing {
        /// The LOINC code.
        code: &'static str,
        /// What it measures.
        name: &'static str,
    },
    /// A measurement in a unit the oracle does not convert.
    #[error("{resource}: LOINC {code} ({name}) has unit {unit:?}; expected {expected}")]
    WrongUnit {
        /// Observation id.
        resource: String,
        /// LOINC code.
        code: &'static str,
        /// What it measures.
        name: &'static str,
        /// The unit found.
        unit: String,
        /// Accepted units.
        expected: &'static str,
    },
    /// The most recent value is too old to score on.
    #[error(
        "stale input: LOINC {code} ({name}) is from {date}, more than {max_age_days} days before {as_of}"
    )]
    Stale {
        /// LOINC code.
        code: &'static str,
        /// What it measures.
        name: &'static str,
        /// When it was measured.
        date: NaiveDate,
        /// The scoring date.
        as_of: NaiveDate,
        /// The limit.
        max_age_days: i64,
    },
}

/// Options of the extraction.
#[derive(Debug, Clone, Copy)]
pub struct ExtractOptions {
    /// Measurements older than this many days before the scoring date are refused.
    pub max_age_days: i64,
    /// The scoring date; default: the date of the most recent required measurement.
    pub as_of: Option<NaiveDate>,
}

impl Default for ExtractOptions {
    fn default() -> Self {
        ExtractOptions { max_age_days: MAX_AGE_DAYS, as_of: None }
    }
}

/// Where one input came from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Source {
    /// The input, e.g. `total_cholesterol_mg_dl`.
    pub input: &'static str,
    /// The code that supplied it (`LOINC 2093-3`, `SNOMED 44054006`, …) or the element.
    pub code: String,
    /// Resource type and id, e.g. `Observation/chol-2024`.
    pub resource: String,
    /// Effective date, if any.
    pub date: Option<NaiveDate>,
    /// The value as found (with its unit), before conversion.
    pub original: String,
}

/// Model inputs with their provenance.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClinicalExtract {
    /// The model inputs.
    pub inputs: RiskInputs,
    /// The date the inputs describe (age is computed at it).
    pub as_of: NaiveDate,
    /// Provenance of every input.
    pub sources: Vec<Source>,
}

/// A measurement found in an Observation (or a component of one).
struct Measurement {
    resource: String,
    date: Option<NaiveDate>,
    value: f64,
    unit: String,
    /// Whether the unit is UCUM (or has no system).
    ucum: bool,
}

struct Spec {
    code: &'static str,
    name: &'static str,
    input: &'static str,
    /// (UCUM code, factor to the model's unit).
    units: &'static [(&'static str, f64)],
    expected: &'static str,
}

const TOTAL_CHOLESTEROL: Spec = Spec {
    code: LOINC_TOTAL_CHOLESTEROL,
    name: "total cholesterol",
    input: "total_cholesterol_mg_dl",
    units: &[("mg/dL", 1.0), ("mmol/L", CHOLESTEROL_MG_DL_PER_MMOL_L)],
    expected: "mg/dL or mmol/L",
};
const HDL: Spec = Spec {
    code: LOINC_HDL,
    name: "HDL cholesterol",
    input: "hdl_cholesterol_mg_dl",
    units: &[("mg/dL", 1.0), ("mmol/L", CHOLESTEROL_MG_DL_PER_MMOL_L)],
    expected: "mg/dL or mmol/L",
};
const SYSTOLIC_BP: Spec = Spec {
    code: LOINC_SYSTOLIC_BP,
    name: "systolic blood pressure",
    input: "systolic_bp_mm_hg",
    units: &[("mm[Hg]", 1.0), ("mmHg", 1.0)],
    expected: "mm[Hg]",
};

/// Parses FHIR JSON and extracts the model inputs.
pub fn extract_json(json: &[u8], options: ExtractOptions) -> Result<ClinicalExtract, FhirError> {
    let value: Value = serde_json::from_slice(json)?;
    extract(&value, options)
}

/// Extracts the model inputs from parsed FHIR JSON.
pub fn extract(value: &Value, options: ExtractOptions) -> Result<ClinicalExtract, FhirError> {
    let resources = resources(value)?;
    let patients: Vec<&Value> = resources.iter().copied().filter(|r| kind(r) == "Patient").collect();
    let patient = match patients.as_slice() {
        [] => return Err(FhirError::NoPatient),
        [one] => *one,
        many => return Err(FhirError::SeveralPatients(many.len())),
    };
    let mut sources = Vec::new();

    let patient_ref = reference(patient);
    let gender = patient
        .get("gender")
        .and_then(Value::as_str)
        .ok_or_else(|| FhirError::Malformed { resource: patient_ref.clone(), element: "gender" })?;
    let sex = match gender {
        "female" => Sex::Female,
        "male" => Sex::Male,
        other => return Err(FhirError::UnsupportedGender(other.to_string())),
    };
    sources.push(Source {
        input: "sex",
        code: "Patient.gender".into(),
        resource: patient_ref.clone(),
        date: None,
        original: gender.into(),
    });
    let birth_date = patient
        .get("birthDate")
        .and_then(Value::as_str)
        .and_then(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
        .ok_or_else(|| FhirError::Malformed {
            resource: patient_ref.clone(),
            element: "birthDate (YYYY-MM-DD)",
        })?;
    let (race, race_code) = race(patient);
    sources.push(Source {
        input: "race",
        code: format!("us-core-race {race_code}"),
        resource: patient_ref.clone(),
        date: None,
        original: race_code,
    });

    let observations: Vec<&Value> =
        resources.iter().copied().filter(|r| kind(r) == "Observation" && usable_observation(r)).collect();
    let tc = latest(&observations, &TOTAL_CHOLESTEROL)?;
    let hdl = latest(&observations, &HDL)?;
    let sbp = latest(&observations, &SYSTOLIC_BP)?;
    let smoking = latest_smoking_status(&observations)?;

    let as_of = options
        .as_of
        .or_else(|| [tc.1.date, hdl.1.date, sbp.1.date, smoking.date].into_iter().flatten().max())
        .ok_or_else(|| FhirError::Malformed {
            resource: tc.1.resource.clone(),
            element: "effectiveDateTime",
        })?;
    for (spec, (_, m)) in [(&TOTAL_CHOLESTEROL, &tc), (&HDL, &hdl), (&SYSTOLIC_BP, &sbp)] {
        let date = m.date.ok_or_else(|| FhirError::Malformed {
            resource: m.resource.clone(),
            element: "effectiveDateTime",
        })?;
        if (as_of - date).num_days() > options.max_age_days {
            return Err(FhirError::Stale {
                code: spec.code,
                name: spec.name,
                date,
                as_of,
                max_age_days: options.max_age_days,
            });
        }
        sources.push(Source {
            input: spec.input,
            code: format!("LOINC {}", spec.code),
            resource: m.resource.clone(),
            date: m.date,
            original: format!("{} {}", m.value, m.unit),
        });
    }
    sources.push(Source {
        input: "smoker",
        code: format!("LOINC {LOINC_SMOKING_STATUS}"),
        resource: smoking.resource.clone(),
        date: smoking.date,
        original: format!("SNOMED {}", smoking.code),
    });

    let diabetes = resources.iter().copied().find(|r| kind(r) == "Condition" && is_active_diabetes(r));
    if let Some(condition) = diabetes {
        sources.push(Source {
            input: "diabetic",
            code: "Condition (diabetes)".into(),
            resource: reference(condition),
            date: None,
            original: "active".into(),
        });
    }
    let treatment = resources.iter().copied().find(|r| {
        matches!(kind(r), "MedicationStatement" | "MedicationRequest") && is_active_antihypertensive(r)
    });
    if let Some(medication) = treatment {
        sources.push(Source {
            input: "bp_treated",
            code: "ATC C02/C03/C07/C08/C09".into(),
            resource: reference(medication),
            date: None,
            original: "active".into(),
        });
    }

    let inputs = RiskInputs {
        sex,
        race,
        age_years: age_at(birth_date, as_of),
        total_cholesterol_mg_dl: tc.0,
        hdl_cholesterol_mg_dl: hdl.0,
        systolic_bp_mm_hg: sbp.0,
        bp_treated: treatment.is_some(),
        smoker: CURRENT_SMOKER.contains(&smoking.code.as_str()),
        diabetic: diabetes.is_some(),
    };
    Ok(ClinicalExtract { inputs, as_of, sources })
}

/// Whole years between `birth` and `date`.
pub fn age_at(birth: NaiveDate, date: NaiveDate) -> f64 {
    f64::from(date.years_since(birth).unwrap_or(0))
}

fn resources(value: &Value) -> Result<Vec<&Value>, FhirError> {
    match value {
        Value::Array(items) => Ok(items.iter().collect()),
        Value::Object(_) if kind(value) == "Bundle" => Ok(value
            .get("entry")
            .and_then(Value::as_array)
            .map(|entries| entries.iter().filter_map(|e| e.get("resource")).collect())
            .unwrap_or_default()),
        Value::Object(_) if !kind(value).is_empty() => Ok(vec![value]),
        _ => Err(FhirError::NotFhir("expected an object with a resourceType".into())),
    }
}

fn kind(resource: &Value) -> &str {
    resource.get("resourceType").and_then(Value::as_str).unwrap_or("")
}

fn reference(resource: &Value) -> String {
    format!("{}/{}", kind(resource), resource.get("id").and_then(Value::as_str).unwrap_or("?"))
}

fn codings(concept: Option<&Value>) -> impl Iterator<Item = (&str, &str)> {
    concept.and_then(|c| c.get("coding")).and_then(Value::as_array).into_iter().flatten().map(|c| {
        (
            c.get("system").and_then(Value::as_str).unwrap_or(""),
            c.get("code").and_then(Value::as_str).unwrap_or(""),
        )
    })
}

fn has_code(concept: Option<&Value>, system: &str, code: &str) -> bool {
    codings(concept).any(|(s, c)| s == system && c == code)
}

fn status_code(concept: Option<&Value>) -> Option<&str> {
    codings(concept).map(|(_, code)| code).next()
}

fn usable_observation(observation: &Value) -> bool {
    matches!(observation.get("status").and_then(Value::as_str), Some("final" | "amended" | "corrected"))
}

fn effective_date(observation: &Value) -> Option<NaiveDate> {
    let text = observation
        .get("effectiveDateTime")
        .or_else(|| observation.get("effectivePeriod").and_then(|p| p.get("start")))
        .or_else(|| observation.get("issued"))
        .and_then(Value::as_str)?;
    NaiveDate::parse_from_str(text.get(..10)?, "%Y-%m-%d").ok()
}

/// The quantity of LOINC `code` in an observation, either its own value or a component's.
fn quantity<'a>(observation: &'a Value, code: &str) -> Option<&'a Value> {
    if has_code(observation.get("code"), LOINC, code) {
        return observation.get("valueQuantity");
    }
    observation
        .get("component")
        .and_then(Value::as_array)?
        .iter()
        .find(|c| has_code(c.get("code"), LOINC, code))
        .and_then(|c| c.get("valueQuantity"))
}

/// The most recent usable measurement of `spec`, converted to the model's unit.
fn latest(observations: &[&Value], spec: &Spec) -> Result<(f64, Measurement), FhirError> {
    let mut found: Vec<Measurement> = Vec::new();
    for observation in observations {
        let Some(q) = quantity(observation, spec.code) else { continue };
        let resource = reference(observation);
        let value = q.get("value").and_then(Value::as_f64).ok_or_else(|| FhirError::Malformed {
            resource: resource.clone(),
            element: "valueQuantity.value",
        })?;
        let ucum = q.get("system").and_then(Value::as_str).is_none_or(|s| s == UCUM);
        let unit = q.get("code").or_else(|| q.get("unit")).and_then(Value::as_str).unwrap_or("").to_string();
        found.push(Measurement { resource, date: effective_date(observation), value, unit, ucum });
    }
    let newest = found
        .into_iter()
        .max_by_key(|m| m.date)
        .ok_or(FhirError::Missing { code: spec.code, name: spec.name })?;
    let factor = spec
        .units
        .iter()
        .find(|(unit, _)| newest.ucum && *unit == newest.unit)
        .map(|(_, factor)| *factor)
        .ok_or_else(|| FhirError::WrongUnit {
            resource: newest.resource.clone(),
            code: spec.code,
            name: spec.name,
            unit: newest.unit.clone(),
            expected: spec.expected,
        })?;
    Ok((newest.value * factor, newest))
}

struct SmokingStatus {
    resource: String,
    date: Option<NaiveDate>,
    code: String,
}

fn latest_smoking_status(observations: &[&Value]) -> Result<SmokingStatus, FhirError> {
    observations
        .iter()
        .filter(|o| has_code(o.get("code"), LOINC, LOINC_SMOKING_STATUS))
        .map(|o| {
            let code = codings(o.get("valueCodeableConcept"))
                .find(|(system, _)| *system == SNOMED)
                .map(|(_, code)| code.to_string())
                .ok_or_else(|| FhirError::Malformed {
                    resource: reference(o),
                    element: "valueCodeableConcept (SNOMED)",
                })?;
            Ok::<_, FhirError>(SmokingStatus { resource: reference(o), date: effective_date(o), code })
        })
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .max_by_key(|s| s.date)
        .ok_or(FhirError::Missing { code: LOINC_SMOKING_STATUS, name: "tobacco smoking status" })
}

fn race(patient: &Value) -> (Race, String) {
    let omb = patient
        .get("extension")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|e| e.get("url").and_then(Value::as_str) == Some(US_CORE_RACE))
        .flat_map(|e| e.get("extension").and_then(Value::as_array).into_iter().flatten())
        .filter(|e| e.get("url").and_then(Value::as_str) == Some("ombCategory"))
        .filter_map(|e| e.get("valueCoding").and_then(|c| c.get("code")).and_then(Value::as_str))
        .collect::<Vec<_>>();
    if omb.contains(&OMB_BLACK) {
        (Race::AfricanAmerican, OMB_BLACK.into())
    } else if omb.contains(&OMB_WHITE) {
        (Race::White, OMB_WHITE.into())
    } else {
        (Race::Other, omb.first().map_or_else(|| "absent".into(), |c| c.to_string()))
    }
}

fn is_active_diabetes(condition: &Value) -> bool {
    let active =
        matches!(status_code(condition.get("clinicalStatus")), Some("active" | "recurrence" | "relapse"));
    let refuted =
        matches!(status_code(condition.get("verificationStatus")), Some("refuted" | "entered-in-error"));
    let diabetes = codings(condition.get("code")).any(|(system, code)| {
        (system == SNOMED && DIABETES_SNOMED.contains(&code))
            || (system.contains("icd-10") && DIABETES_ICD10.iter().any(|prefix| code.starts_with(prefix)))
    });
    active && !refuted && diabetes
}

fn is_active_antihypertensive(medication: &Value) -> bool {
    let active = medication.get("status").and_then(Value::as_str) == Some("active");
    let atc = codings(medication.get("medicationCodeableConcept")).any(|(system, code)| {
        system == "http://www.whocc.no/atc"
            && ANTIHYPERTENSIVE_ATC.iter().any(|group| code.starts_with(group))
    });
    active && atc
}
