//! Disease-risk models behind one trait, with validated inputs and explainable outputs.
//!
//! Every model refuses inputs outside the ranges it was validated on (never extrapolates),
//! returns each term's contribution to its linear predictor, and is identified on-chain by a
//! **model hash**: the SHA-256 of a canonical encoding of its parameters, so a changed
//! coefficient is a different model.

use serde::Serialize;
use sha2::{Digest, Sha256};

/// Biological sex, as the published equations use it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Sex {
    /// Female.
    Female,
    /// Male.
    Male,
}

/// The race categories the Pooled Cohort Equations distinguish.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Race {
    /// Black or African American (OMB 2054-5): the African-American equations.
    AfricanAmerican,
    /// White.
    White,
    /// Any other or unknown race: the guideline uses the white equations.
    Other,
}

/// One person's risk-factor values, in the units the equations use.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RiskInputs {
    /// Sex.
    pub sex: Sex,
    /// Race.
    pub race: Race,
    /// Age in years.
    pub age_years: f64,
    /// Total cholesterol, mg/dL.
    pub total_cholesterol_mg_dl: f64,
    /// HDL cholesterol, mg/dL.
    pub hdl_cholesterol_mg_dl: f64,
    /// Systolic blood pressure, mmHg.
    pub systolic_bp_mm_hg: f64,
    /// Whether the person takes blood-pressure medication.
    pub bp_treated: bool,
    /// Current smoker.
    pub smoker: bool,
    /// Has diabetes.
    pub diabetic: bool,
}

/// A named input of a model, for error messages and contributions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    /// Age, years.
    Age,
    /// Total cholesterol, mg/dL.
    TotalCholesterol,
    /// HDL cholesterol, mg/dL.
    HdlCholesterol,
    /// Systolic blood pressure, mmHg.
    SystolicBp,
}

impl Field {
    /// Name and unit.
    pub fn describe(self) -> &'static str {
        match self {
            Field::Age => "age (years)",
            Field::TotalCholesterol => "total cholesterol (mg/dL)",
            Field::HdlCholesterol => "HDL cholesterol (mg/dL)",
            Field::SystolicBp => "systolic blood pressure (mmHg)",
        }
    }
}

/// Why a model refused to score.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ModelError {
    /// An input lies outside the range the model was validated on.
    #[error("{} = {value} is outside the validated range {min}–{max} of {model}", field.describe())]
    OutOfRange {
        /// The model.
        model: &'static str,
        /// The input.
        field: Field,
        /// Its value.
        value: f64,
        /// Lowest validated value.
        min: f64,
        /// Highest validated value.
        max: f64,
    },
    /// An input is not a finite number.
    #[error("{} is not a finite number ({value})", field.describe())]
    NotFinite {
        /// The input.
        field: Field,
        /// Its value.
        value: f64,
    },
}

/// A validated range of one input, inclusive.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Range {
    /// The input.
    pub field: Field,
    /// Lowest accepted value.
    pub min: f64,
    /// Highest accepted value.
    pub max: f64,
}

impl Range {
    /// Checks `value` against the range.
    pub fn check(&self, model: &'static str, value: f64) -> Result<(), ModelError> {
        if !value.is_finite() {
            return Err(ModelError::NotFinite { field: self.field, value });
        }
        if value < self.min || value > self.max {
            return Err(ModelError::OutOfRange {
                model,
                field: self.field,
                value,
                min: self.min,
                max: self.max,
            });
        }
        Ok(())
    }
}

/// Risk bands used to act on a score.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RiskBand {
    /// Low risk.
    Low,
    /// Borderline risk (ACC/AHA 5–7.5 %).
    Borderline,
    /// Intermediate risk.
    Intermediate,
    /// High risk.
    High,
}

/// A model's risk bands: each band starts at its cut point (inclusive) and ends at the next;
/// the first starts at 0. Part of the model's identity: a changed cut point changes its hash.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bands(pub &'static [(f64, RiskBand)]);

impl Bands {
    /// The band of `risk`.
    pub fn band(&self, risk: f64) -> RiskBand {
        self.0
            .iter()
            .rev()
            .find(|(cut, _)| risk >= *cut)
            .or(self.0.first())
            .map_or(RiskBand::Low, |(_, b)| *b)
    }
}

/// One term of a model's linear predictor.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Contribution {
    /// The term, e.g. `ln_age_x_ln_hdl`.
    pub term: &'static str,
    /// Its coefficient.
    pub coefficient: f64,
    /// The transformed input value (e.g. ln of the age), 0/1 for flags.
    pub value: f64,
    /// coefficient × value.
    pub contribution: f64,
}

/// A model's result for one person.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RiskScore {
    /// The model's id.
    pub model_id: &'static str,
    /// The model's version.
    pub model_version: u32,
    /// Which equation of the model applied (e.g. `white-female`).
    pub equation: &'static str,
    /// 10-year risk, as a fraction in [0, 1].
    pub risk: f64,
    /// The band the risk falls in.
    pub band: RiskBand,
    /// Σ coefficient × value.
    pub linear_predictor: f64,
    /// The equation's mean linear predictor.
    pub mean_linear_predictor: f64,
    /// The equation's baseline 10-year survival.
    pub baseline_survival: f64,
    /// Each term's contribution to the linear predictor (terms with a zero coefficient left out).
    pub contributions: Vec<Contribution>,
}

impl RiskScore {
    /// The risk in parts per million, as posted on-chain.
    pub fn risk_ppm(&self) -> u32 {
        // risk is in [0, 1], so this is in [0, 1_000_000].
        (self.risk * 1_000_000.0).round().clamp(0.0, 1_000_000.0) as u32
    }
}

/// A disease-risk model.
pub trait RiskModel: Send + Sync {
    /// Stable identifier, e.g. `acc-aha-pce-2013`.
    fn id(&self) -> &'static str;
    /// Version of this implementation's parameters.
    fn version(&self) -> u32;
    /// Human-readable name and source.
    fn description(&self) -> &'static str;
    /// Canonical encoding of every parameter (coefficients, means, baseline survivals,
    /// validated ranges, band cut points).
    fn canonical_parameters(&self) -> Vec<u8>;
    /// Scores one person, or refuses with the input that is out of range.
    fn score(&self, inputs: &RiskInputs) -> Result<RiskScore, ModelError>;

    /// The model's on-chain identity: SHA-256 of its canonical parameters followed by the FHIR
    /// extraction rules' ([`crate::fhir::RULES`]), so that neither a coefficient, a range, a
    /// band cut point, nor a code, unit, conversion or staleness limit of the extraction can
    /// change while the approved hash stays the same.
    fn model_hash(&self) -> [u8; 32] {
        model_hash_of(&self.canonical_parameters(), &crate::fhir::RULES)
    }
}

/// The hash of a model with `parameters` (its canonical encoding) under the extraction `rules`.
pub fn model_hash_of(parameters: &[u8], rules: &crate::fhir::ExtractionRules) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(parameters);
    hasher.update(rules.canonical());
    hasher.finalize().into()
}

/// Canonical encoding helper: length-prefixed strings and little-endian IEEE-754 numbers.
#[derive(Default)]
pub(crate) struct Canonical(Vec<u8>);

impl Canonical {
    pub(crate) fn str(mut self, s: &str) -> Self {
        self.0.extend_from_slice(&(s.len() as u32).to_le_bytes());
        self.0.extend_from_slice(s.as_bytes());
        self
    }
    pub(crate) fn u32(mut self, n: u32) -> Self {
        self.0.extend_from_slice(&n.to_le_bytes());
        self
    }
    pub(crate) fn f64(mut self, x: f64) -> Self {
        self.0.extend_from_slice(&x.to_le_bytes());
        self
    }
    pub(crate) fn f64s(self, xs: &[f64]) -> Self {
        xs.iter().fold(self, |c, x| c.f64(*x))
    }
    pub(crate) fn ranges(self, ranges: &[Range]) -> Self {
        ranges.iter().fold(self, |c, r| c.str(r.field.describe()).f64(r.min).f64(r.max))
    }
    pub(crate) fn bands(self, bands: &Bands) -> Self {
        bands.0.iter().fold(self.str("bands"), |c, (cut, band)| c.f64(*cut).str(&format!("{band:?}")))
    }
    pub(crate) fn strs(self, items: &[&str]) -> Self {
        items.iter().fold(self.u32(items.len() as u32), |c, s| c.str(s))
    }
    pub(crate) fn finish(self) -> Vec<u8> {
        self.0
    }
}

/// Checks the four measured inputs against a model's ranges (in the order age, total
/// cholesterol, HDL, SBP).
pub(crate) fn check_ranges(
    model: &'static str,
    ranges: &[Range; 4],
    inputs: &RiskInputs,
) -> Result<(), ModelError> {
    let values = [
        inputs.age_years,
        inputs.total_cholesterol_mg_dl,
        inputs.hdl_cholesterol_mg_dl,
        inputs.systolic_bp_mm_hg,
    ];
    ranges.iter().zip(values).try_for_each(|(range, value)| range.check(model, value))
}

/// The parts of a proportional-hazards equation `risk = 1 − S0 ^ exp(Σβx − mean)`.
pub(crate) struct Survival {
    /// Name of the equation (e.g. `white-female`).
    pub equation: &'static str,
    /// Mean linear predictor.
    pub mean: f64,
    /// Baseline 10-year survival.
    pub baseline_survival: f64,
}

/// Scores `terms` (name, coefficient, value) with an equation of `model`.
pub(crate) fn score_terms(
    model: &dyn RiskModel,
    survival: Survival,
    terms: &[(&'static str, f64, f64)],
    band: fn(f64) -> RiskBand,
) -> RiskScore {
    let (lp, contributions) = linear_predictor(terms);
    let risk = ten_year_risk(survival.baseline_survival, lp, survival.mean);
    RiskScore {
        model_id: model.id(),
        model_version: model.version(),
        equation: survival.equation,
        risk,
        band: band(risk),
        linear_predictor: lp,
        mean_linear_predictor: survival.mean,
        baseline_survival: survival.baseline_survival,
        contributions,
    }
}

/// `1 − S0 ^ exp(lp − mean)`, clamped to [0, 1].
fn ten_year_risk(baseline_survival: f64, linear_predictor: f64, mean: f64) -> f64 {
    (1.0 - baseline_survival.powf((linear_predictor - mean).exp())).clamp(0.0, 1.0)
}

/// Sums terms, keeping those with a non-zero coefficient as contributions.
fn linear_predictor(terms: &[(&'static str, f64, f64)]) -> (f64, Vec<Contribution>) {
    let contributions: Vec<Contribution> = terms
        .iter()
        .filter(|(_, coefficient, _)| *coefficient != 0.0)
        .map(|&(term, coefficient, value)| Contribution {
            term,
            coefficient,
            value,
            contribution: coefficient * value,
        })
        .collect();
    (contributions.iter().map(|c| c.contribution).sum(), contributions)
}

/// 1.0 for true, 0.0 for false.
pub(crate) fn flag(b: bool) -> f64 {
    if b {
        1.0
    } else {
        0.0
    }
}
