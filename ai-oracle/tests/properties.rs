//! Property tests of the risk models over their whole validated input space.

use ai_oracle::{
    framingham::Framingham2008,
    model::{Race, RiskInputs, RiskModel, Sex},
    pce::{self, PooledCohortEquations},
};
use proptest::prelude::*;

fn sex() -> impl Strategy<Value = Sex> {
    prop_oneof![Just(Sex::Female), Just(Sex::Male)]
}

fn race() -> impl Strategy<Value = Race> {
    prop_oneof![Just(Race::White), Just(Race::AfricanAmerican), Just(Race::Other)]
}

prop_compose! {
    /// Any person inside the validated ranges of `age` (min, max).
    fn person(age_min: f64, age_max: f64)(
        sex in sex(), race in race(), age in age_min..=age_max, tc in 130.0..=320.0f64,
        hdl in 20.0..=100.0f64, sbp in 90.0..=200.0f64, bp_treated: bool, smoker: bool, diabetic: bool,
    ) -> RiskInputs {
        RiskInputs { sex, race, age_years: age, total_cholesterol_mg_dl: tc, hdl_cholesterol_mg_dl: hdl,
            systolic_bp_mm_hg: sbp, bp_treated, smoker, diabetic }
    }
}

/// ∂(linear predictor)/∂(ln x) of the PCE at `inputs`' age, for total cholesterol and SBP.
fn pce_effective(inputs: &RiskInputs) -> (f64, f64) {
    let eq = PooledCohortEquations::equation(inputs.sex, inputs.race);
    let ln_age = inputs.age_years.ln();
    let tc = eq.ln_tc + eq.ln_age_x_ln_tc * ln_age;
    let sbp = if inputs.bp_treated {
        eq.ln_treated_sbp + eq.ln_age_x_ln_treated_sbp * ln_age
    } else {
        eq.ln_untreated_sbp + eq.ln_age_x_ln_untreated_sbp * ln_age
    };
    (tc, sbp)
}

/// Asserts risk moves with `x` in the direction of `slope` (non-strictly: rounding at the ends).
fn assert_direction(low: f64, high: f64, slope: f64) -> Result<(), TestCaseError> {
    if slope > 0.0 {
        prop_assert!(high >= low, "risk fell from {low} to {high} though the slope is {slope}");
    } else if slope < 0.0 {
        prop_assert!(high <= low, "risk rose from {low} to {high} though the slope is {slope}");
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn risk_is_a_probability(inputs in person(40.0, 79.0), fram in person(30.0, 74.0)) {
        for (model, inputs) in [(&PooledCohortEquations as &dyn RiskModel, inputs), (&Framingham2008, fram)] {
            let score = model.score(&inputs).unwrap();
            prop_assert!((0.0..=1.0).contains(&score.risk));
            prop_assert!(score.risk_ppm() <= 1_000_000);
            let sum: f64 = score.contributions.iter().map(|c| c.contribution).sum();
            prop_assert!((sum - score.linear_predictor).abs() < 1e-9);
        }
    }

    /// SBP: every PCE equation is increasing in SBP over the validated ages (its effective
    /// slope stays positive), and so is Framingham.
    #[test]
    fn monotone_in_systolic_bp(inputs in person(40.0, 74.0), a in 90.0..=200.0f64, b in 90.0..=200.0f64) {
        let (lo, hi) = (a.min(b), a.max(b));
        let (_, slope) = pce_effective(&inputs);
        prop_assert!(slope > 0.0);
        for model in [&PooledCohortEquations as &dyn RiskModel, &Framingham2008] {
            let at = |sbp| model.score(&RiskInputs { systolic_bp_mm_hg: sbp, ..inputs }).unwrap().risk;
            assert_direction(at(lo), at(hi), 1.0)?;
        }
    }

    /// Total cholesterol: the PCE moves with the sign of its effective slope, which for white
    /// women turns negative above age ≈77.3 (13.540 − 3.114·ln age); Framingham always rises.
    #[test]
    fn monotone_in_total_cholesterol(inputs in person(40.0, 79.0), a in 130.0..=320.0f64, b in 130.0..=320.0f64) {
        let (lo, hi) = (a.min(b), a.max(b));
        let (slope, _) = pce_effective(&inputs);
        let at = |tc| PooledCohortEquations.score(&RiskInputs { total_cholesterol_mg_dl: tc, ..inputs }).unwrap().risk;
        assert_direction(at(lo), at(hi), slope)?;
        if inputs.age_years <= 74.0 {
            let at = |tc| Framingham2008.score(&RiskInputs { total_cholesterol_mg_dl: tc, ..inputs }).unwrap().risk;
            assert_direction(at(lo), at(hi), 1.0)?;
        }
    }

    /// Age: the men's PCE equations and Framingham rise with age everywhere in range (the
    /// women's PCE equations do not: their age interactions can make the slope negative).
    #[test]
    fn monotone_in_age(inputs in person(40.0, 74.0), a in 40.0..=74.0f64, b in 40.0..=74.0f64) {
        let (lo, hi) = (a.min(b), a.max(b));
        let at = |model: &dyn RiskModel, age| model.score(&RiskInputs { age_years: age, ..inputs }).unwrap().risk;
        assert_direction(at(&Framingham2008, lo), at(&Framingham2008, hi), 1.0)?;
        if inputs.sex == Sex::Male {
            assert_direction(at(&PooledCohortEquations, lo), at(&PooledCohortEquations, hi), 1.0)?;
        }
    }
}

#[test]
fn white_women_pce_really_is_not_monotone_in_cholesterol_at_79() {
    // Documents why the cholesterol property is conditional.
    let inputs = RiskInputs {
        sex: Sex::Female,
        race: Race::White,
        age_years: 79.0,
        total_cholesterol_mg_dl: 130.0,
        hdl_cholesterol_mg_dl: 50.0,
        systolic_bp_mm_hg: 120.0,
        bp_treated: false,
        smoker: false,
        diabetic: false,
    };
    let low = PooledCohortEquations.score(&inputs).unwrap().risk;
    let high =
        PooledCohortEquations.score(&RiskInputs { total_cholesterol_mg_dl: 320.0, ..inputs }).unwrap().risk;
    assert!(high < low);
    assert!(pce::WHITE_FEMALE.ln_tc + pce::WHITE_FEMALE.ln_age_x_ln_tc * 79f64.ln() < 0.0);
}
