//! The sample FHIR bundles in `fixtures/`, end to end: parse, extract, score.

use ai_oracle::{
    fhir::{extract_json, ExtractOptions, FhirError},
    model::{Race, RiskModel, Sex},
    pce::PooledCohortEquations,
};
use chrono::NaiveDate;

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn table_a_patient_scores_as_published() {
    let extract = extract_json(&fixture("patient-a-white-female.json"), ExtractOptions::default()).unwrap();
    let i = extract.inputs;
    assert_eq!((i.sex, i.race), (Sex::Female, Race::White));
    assert_eq!(extract.as_of, NaiveDate::from_ymd_opt(2024, 6, 12).unwrap());
    assert_eq!(i.age_years, 55.0);
    assert_eq!(i.total_cholesterol_mg_dl, 213.0, "the 2024 value, not the older 241");
    assert_eq!((i.hdl_cholesterol_mg_dl, i.systolic_bp_mm_hg), (50.0, 120.0));
    assert!(!i.bp_treated && !i.smoker && !i.diabetic);
    let score = PooledCohortEquations.score(&i).unwrap();
    assert!((score.risk * 100.0 - 2.05).abs() < 0.01, "{}", score.risk);
    let chol = extract.sources.iter().find(|s| s.input == "total_cholesterol_mg_dl").unwrap();
    assert_eq!((chol.resource.as_str(), chol.original.as_str()), ("Observation/chol-a", "213 mg/dL"));
}

#[test]
fn mmol_units_conditions_medications_and_race_are_read() {
    let extract =
        extract_json(&fixture("patient-b-african-american-male.json"), ExtractOptions::default()).unwrap();
    let i = extract.inputs;
    assert_eq!((i.sex, i.race), (Sex::Male, Race::AfricanAmerican));
    assert_eq!(i.age_years, 61.0);
    assert!((i.total_cholesterol_mg_dl - 5.6 * 38.67).abs() < 1e-9);
    assert!((i.hdl_cholesterol_mg_dl - 1.1 * 38.67).abs() < 1e-9, "the preliminary 0.4 mmol/L is ignored");
    assert_eq!(i.systolic_bp_mm_hg, 138.0, "the latest of the two panels");
    assert!(i.bp_treated && i.smoker && i.diabetic);
    let sources: Vec<_> = extract.sources.iter().map(|s| (s.input, s.resource.as_str())).collect();
    assert!(sources.contains(&("diabetic", "Condition/dm-b")));
    assert!(sources.contains(&("bp_treated", "MedicationStatement/med-b")));
    let score = PooledCohortEquations.score(&i).unwrap();
    assert_eq!(score.equation, "african-american-male");
    assert!(score.risk > 0.20, "{}", score.risk);
}

#[test]
fn wrong_units_are_refused_naming_the_code_and_unit() {
    let err = extract_json(&fixture("wrong-units.json"), ExtractOptions::default()).unwrap_err();
    assert!(matches!(&err, FhirError::WrongUnit { code: "2093-3", unit, .. } if unit == "g/L"), "{err}");
    assert!(err.to_string().contains("2093-3") && err.to_string().contains("g/L"), "{err}");
}

#[test]
fn missing_input_is_refused_naming_the_code() {
    let err = extract_json(&fixture("missing-hdl.json"), ExtractOptions::default()).unwrap_err();
    assert!(matches!(err, FhirError::Missing { code: "2085-9", .. }), "{err}");
    assert_eq!(err.to_string(), "missing input: no usable Observation with LOINC 2085-9 (HDL cholesterol)");
}

#[test]
fn malformed_json_is_refused_with_its_position() {
    let err = extract_json(&fixture("malformed.json"), ExtractOptions::default()).unwrap_err();
    assert!(matches!(err, FhirError::Json(_)), "{err}");
    assert!(err.to_string().contains("line"), "{err}");
}

#[test]
fn stale_measurements_are_refused() {
    let late = ExtractOptions { as_of: NaiveDate::from_ymd_opt(2027, 1, 1), ..Default::default() };
    let err = extract_json(&fixture("patient-a-white-female.json"), late).unwrap_err();
    assert!(matches!(err, FhirError::Stale { code: "2093-3", .. }), "{err}");
}

#[test]
fn inputs_that_are_not_fhir_are_refused() {
    for (json, expected) in [
        (&br#"{"hello": 1}"#[..], "not a FHIR resource"),
        (br#"{"resourceType":"Bundle","entry":[]}"#, "no Patient"),
        (br#"[{"resourceType":"Patient","id":"x","gender":"unknown","birthDate":"1970-01-01"}]"#, "gender"),
        (br#"[{"resourceType":"Patient","id":"x","gender":"male","birthDate":"1970"}]"#, "birthDate"),
        (
            br#"[{"resourceType":"Patient","id":"x","gender":"male"},{"resourceType":"Patient","id":"y"}]"#,
            "2 Patient",
        ),
    ] {
        let err = extract_json(json, ExtractOptions::default()).unwrap_err().to_string();
        assert!(err.contains(expected), "{err}");
    }
}
