//! The off-chain AI risk oracle: reads FHIR R4 clinical data, computes validated disease-risk
//! scores and signs them (ed25519) for the `risk_scores` contract.
//!
//! - [`model`]: the [`RiskModel`] trait, inputs, explainable scores, model hashes.
//! - [`pce`]: ACC/AHA 2013 Pooled Cohort Equations (10-year ASCVD risk).
//! - [`attest`]: oracle keys (0600 key files) and ed25519-signed attestation batches.
//! - [`report`]: the sealed, explained score report (FHIR `RiskAssessment`) and its checks.
//! - [`fhir`]: FHIR R4 extraction of the model inputs, with provenance.
//! - [`framingham`]: Framingham 2008 general CVD risk.
//! - `node` (feature `node`): reading records through the vault, posting to a real chain over
//!   RPC, and the operator's `run` mode; `queue`: its persisted work queue; `audit_export`:
//!   the node's access decisions as the audit trail's JSON Lines; `alerts`: the detector's
//!   flagged accessors as signed alerts on chain, and `audit watch`.

#[cfg(feature = "node")]
pub mod alerts;
pub mod attest;
#[cfg(feature = "node")]
pub mod audit_export;
pub mod fhir;
pub mod framingham;
#[cfg(feature = "node")]
pub mod metrics;
pub mod model;
#[cfg(feature = "node")]
pub mod node;
pub mod pce;
#[cfg(feature = "node")]
pub mod queue;
pub mod report;

pub use ehr_types;
pub use model::{RiskInputs, RiskModel, RiskScore};

/// Every model the oracle ships, in a stable order.
pub fn models() -> Vec<Box<dyn RiskModel>> {
    vec![Box::new(pce::PooledCohortEquations), Box::new(framingham::Framingham2008)]
}

/// The model with id `id`, if the oracle ships it.
pub fn model(id: &str) -> Option<Box<dyn RiskModel>> {
    models().into_iter().find(|m| m.id() == id)
}
