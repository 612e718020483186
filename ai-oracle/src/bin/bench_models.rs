//! Scores per second on one core: each model on a fixed set of valid inputs, and the whole
//! pipeline (FHIR parse + extract + score + SHA-256 of the document), and with the sealed score's
//! report and commitment. Run through
//! `scripts/bench-oracle.sh` (release build).

use std::{hint::black_box, time::Instant};

use ai_oracle::{
    attest,
    fhir::{extract_json, ExtractOptions},
    model::{Race, RiskInputs, Sex},
    report,
};

const SAMPLE: &[u8] = include_bytes!("../../fixtures/patient-b-african-american-male.json");

fn inputs() -> Vec<RiskInputs> {
    // A deterministic spread over the validated ranges (ages 40–74 suit both models).
    (0..1024u32)
        .map(|i| RiskInputs {
            sex: if i % 2 == 0 { Sex::Female } else { Sex::Male },
            race: [Race::White, Race::AfricanAmerican, Race::Other][(i % 3) as usize],
            age_years: 40.0 + f64::from(i % 35),
            total_cholesterol_mg_dl: 130.0 + f64::from(i * 7 % 191),
            hdl_cholesterol_mg_dl: 20.0 + f64::from(i * 3 % 81),
            systolic_bp_mm_hg: 90.0 + f64::from(i * 11 % 111),
            bp_treated: i % 5 == 0,
            smoker: i % 7 == 0,
            diabetic: i % 11 == 0,
        })
        .collect()
}

fn rate(label: &str, n: u64, run: impl Fn()) {
    run(); // warm up
    let start = Instant::now();
    run();
    let secs = start.elapsed().as_secs_f64();
    println!("{label:<48} {:>12.0} scores/s  ({n} in {:.3} s)", n as f64 / secs, secs);
}

fn main() {
    let inputs = inputs();
    println!("one core, release build");
    for model in ai_oracle::models() {
        let rounds = 2_000u64;
        rate(&format!("{} v{}", model.id(), model.version()), rounds * inputs.len() as u64, || {
            for _ in 0..rounds {
                for i in &inputs {
                    black_box(model.score(black_box(i)).expect("valid input"));
                }
            }
        });
    }
    let model = ai_oracle::model(ai_oracle::pce::PooledCohortEquations::ID).expect("pce");
    let n = 20_000u64;
    rate("FHIR bundle -> extract -> PCE score -> sha256", n, || {
        for _ in 0..n {
            let extract = extract_json(black_box(SAMPLE), ExtractOptions::default()).expect("sample");
            black_box(model.score(&extract.inputs).expect("valid"));
            black_box(attest::input_hash(SAMPLE));
        }
    });
    // The sealed path adds the explained report and its commitment (sealing it for its readers
    // is `scripts/bench-vault.sh`'s HPKE wrap rate per reader).
    let patient = ai_oracle::ehr_types::AccountId::from([7; 32]);
    rate("... + FHIR RiskAssessment report + commitment", n, || {
        for _ in 0..n {
            let extract = extract_json(black_box(SAMPLE), ExtractOptions::default()).expect("sample");
            let score = model.score(&extract.inputs).expect("valid");
            let report = report::write(model.as_ref(), &score, &extract.sources, &patient, &[1; 32], 1)
                .expect("randomness");
            black_box(report.commitment());
        }
    });
}
