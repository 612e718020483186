//! Framingham general cardiovascular disease risk, 10 years (D'Agostino RB Sr et al., General
//! Cardiovascular Risk Profile for Use in Primary Care, Circulation 2008;117:743–753).

use crate::model::{
    check_ranges, flag, score_terms, Bands, Canonical, Field, ModelError, Range, RiskBand, RiskInputs,
    RiskModel, RiskScore, Sex, Survival,
};

/// Coefficients of one sex's equation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Equation {
    /// `female` or `male`.
    pub name: &'static str,
    /// ln age.
    pub ln_age: f64,
    /// ln total cholesterol.
    pub ln_tc: f64,
    /// ln HDL.
    pub ln_hdl: f64,
    /// ln systolic BP, untreated.
    pub ln_untreated_sbp: f64,
    /// ln systolic BP, treated.
    pub ln_treated_sbp: f64,
    /// Smoker (0/1).
    pub smoker: f64,
    /// Diabetes (0/1).
    pub diabetes: f64,
    /// Mean of the linear predictor.
    pub mean: f64,
    /// Baseline 10-year survival.
    pub baseline_survival: f64,
}

/// Women.
pub const FEMALE: Equation = Equation {
    name: "female",
    ln_age: 2.32888,
    ln_tc: 1.20904,
    ln_hdl: -0.70833,
    ln_untreated_sbp: 2.76157,
    ln_treated_sbp: 2.82263,
    smoker: 0.52873,
    diabetes: 0.69154,
    mean: 26.1931,
    baseline_survival: 0.95012,
};

/// Men.
pub const MALE: Equation = Equation {
    name: "male",
    ln_age: 3.06117,
    ln_tc: 1.12370,
    ln_hdl: -0.93263,
    ln_untreated_sbp: 1.93303,
    ln_treated_sbp: 1.99881,
    smoker: 0.65451,
    diabetes: 0.57367,
    mean: 23.9802,
    baseline_survival: 0.88936,
};

/// Validated ranges: the derivation cohort's ages (30–74, from the reference); the lipid and
/// blood-pressure ranges are the Pooled Cohort Equations' estimator ranges, a deliberately
/// conservative choice of this project (the reference gives none for Framingham).
pub const RANGES: [Range; 4] = [
    Range { field: Field::Age, min: 30.0, max: 74.0 },
    crate::pce::RANGES[1],
    crate::pce::RANGES[2],
    crate::pce::RANGES[3],
];

/// The Framingham 2008 general CVD model.
#[derive(Debug, Clone, Copy, Default)]
pub struct Framingham2008;

impl Framingham2008 {
    /// Model id.
    pub const ID: &'static str = "framingham-general-cvd-2008";

    /// The equation for a sex.
    pub fn equation(sex: Sex) -> &'static Equation {
        match sex {
            Sex::Female => &FEMALE,
            Sex::Male => &MALE,
        }
    }

    /// Framingham's customary bands: < 10 % low, 10–20 % intermediate, ≥ 20 % high.
    pub const BANDS: Bands =
        Bands(&[(0.0, RiskBand::Low), (0.10, RiskBand::Intermediate), (0.20, RiskBand::High)]);

    /// The band of `risk`.
    pub fn band(risk: f64) -> RiskBand {
        Self::BANDS.band(risk)
    }
}

impl RiskModel for Framingham2008 {
    fn id(&self) -> &'static str {
        Self::ID
    }

    fn version(&self) -> u32 {
        1
    }

    fn description(&self) -> &'static str {
        "Framingham general cardiovascular disease, 10-year risk (D'Agostino et al., Circulation 2008)"
    }

    fn canonical_parameters(&self) -> Vec<u8> {
        [FEMALE, MALE]
            .iter()
            .fold(Canonical::default().str(Self::ID).u32(self.version()), |c, eq| {
                c.str(eq.name).f64s(&[
                    eq.ln_age,
                    eq.ln_tc,
                    eq.ln_hdl,
                    eq.ln_untreated_sbp,
                    eq.ln_treated_sbp,
                    eq.smoker,
                    eq.diabetes,
                    eq.mean,
                    eq.baseline_survival,
                ])
            })
            .ranges(&RANGES)
            .bands(&Self::BANDS)
            .finish()
    }

    fn score(&self, inputs: &RiskInputs) -> Result<RiskScore, ModelError> {
        check_ranges(Self::ID, &RANGES, inputs)?;
        let eq = Self::equation(inputs.sex);
        let ln_sbp = inputs.systolic_bp_mm_hg.ln();
        let terms = [
            ("ln_age", eq.ln_age, inputs.age_years.ln()),
            ("ln_total_cholesterol", eq.ln_tc, inputs.total_cholesterol_mg_dl.ln()),
            ("ln_hdl", eq.ln_hdl, inputs.hdl_cholesterol_mg_dl.ln()),
            if inputs.bp_treated {
                ("ln_treated_sbp", eq.ln_treated_sbp, ln_sbp)
            } else {
                ("ln_untreated_sbp", eq.ln_untreated_sbp, ln_sbp)
            },
            ("smoker", eq.smoker, flag(inputs.smoker)),
            ("diabetes", eq.diabetes, flag(inputs.diabetic)),
        ];
        let survival = Survival { equation: eq.name, mean: eq.mean, baseline_survival: eq.baseline_survival };
        Ok(score_terms(self, survival, &terms, Self::band))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Race;

    #[allow(clippy::too_many_arguments)]
    fn person(
        sex: Sex,
        age: f64,
        tc: f64,
        hdl: f64,
        sbp: f64,
        treated: bool,
        smoker: bool,
        diabetic: bool,
    ) -> RiskInputs {
        RiskInputs {
            sex,
            race: Race::Other,
            age_years: age,
            total_cholesterol_mg_dl: tc,
            hdl_cholesterol_mg_dl: hdl,
            systolic_bp_mm_hg: sbp,
            bp_treated: treated,
            smoker,
            diabetic,
        }
    }

    /// The worked examples of D'Agostino et al. 2008: a 61-year-old woman (TC 180, HDL 47,
    /// untreated SBP 124, smoker, not diabetic) at 10.48 %, and a 53-year-old man (TC 161,
    /// HDL 55, treated SBP 125, non-smoker, diabetic) at 15.62 %.
    #[test]
    fn published_worked_examples() {
        let woman = person(Sex::Female, 61.0, 180.0, 47.0, 124.0, false, true, false);
        let man = person(Sex::Male, 53.0, 161.0, 55.0, 125.0, true, false, true);
        for (inputs, expected) in [(woman, 10.48), (man, 15.62)] {
            let got = Framingham2008.score(&inputs).unwrap().risk * 100.0;
            assert!((got - expected).abs() < 0.01, "{got:.4} % vs {expected} %");
        }
    }

    /// The formula, evaluated by hand for one person of each sex.
    #[test]
    fn matches_the_published_formula() {
        let woman = person(Sex::Female, 61.0, 180.0, 47.0, 124.0, false, true, false);
        let lp = 2.32888 * 61f64.ln() + 1.20904 * 180f64.ln() - 0.70833 * 47f64.ln()
            + 2.76157 * 124f64.ln()
            + 0.52873;
        let expected = 1.0 - 0.95012f64.powf((lp - 26.1931).exp());
        let got = Framingham2008.score(&woman).unwrap();
        assert!((got.risk - expected).abs() < 1e-12);
        assert!((got.linear_predictor - lp).abs() < 1e-12);

        let man = person(Sex::Male, 53.0, 161.0, 55.0, 125.0, true, false, true);
        let lp = 3.06117 * 53f64.ln() + 1.12370 * 161f64.ln() - 0.93263 * 55f64.ln()
            + 1.99881 * 125f64.ln()
            + 0.57367;
        let expected = 1.0 - 0.88936f64.powf((lp - 23.9802).exp());
        assert!((Framingham2008.score(&man).unwrap().risk - expected).abs() < 1e-12);
    }

    #[test]
    fn age_range_is_the_derivation_cohorts() {
        let at = |age| person(Sex::Male, age, 200.0, 50.0, 130.0, false, false, false);
        assert!(Framingham2008.score(&at(30.0)).is_ok());
        assert!(Framingham2008.score(&at(74.0)).is_ok());
        for age in [29.9, 74.1] {
            assert!(matches!(
                Framingham2008.score(&at(age)),
                Err(ModelError::OutOfRange { field: Field::Age, .. })
            ));
        }
    }

    #[test]
    fn every_range_boundary_is_accepted_and_just_outside_is_refused() {
        let base = person(Sex::Female, 50.0, 200.0, 50.0, 130.0, false, false, false);
        for range in RANGES {
            let set = |value: f64| {
                let mut inputs = base;
                match range.field {
                    Field::Age => inputs.age_years = value,
                    Field::TotalCholesterol => inputs.total_cholesterol_mg_dl = value,
                    Field::HdlCholesterol => inputs.hdl_cholesterol_mg_dl = value,
                    Field::SystolicBp => inputs.systolic_bp_mm_hg = value,
                }
                inputs
            };
            assert!(
                Framingham2008.score(&set(range.min)).is_ok()
                    && Framingham2008.score(&set(range.max)).is_ok()
            );
            for outside in [range.min - 0.01, range.max + 0.01] {
                assert_eq!(
                    Framingham2008.score(&set(outside)),
                    Err(ModelError::OutOfRange {
                        model: Framingham2008::ID,
                        field: range.field,
                        value: outside,
                        min: range.min,
                        max: range.max
                    })
                );
            }
        }
    }

    #[test]
    fn hash_differs_from_the_pooled_cohort_equations() {
        assert_ne!(Framingham2008.model_hash(), crate::pce::PooledCohortEquations.model_hash());
    }
}
