//! The off-chain AI risk oracle: reads FHIR R4 clinical data, computes validated disease-risk
//! scores and posts ed25519-signed attestations to the chain.
//!
//! Not implemented yet: this crate reserves its place in the workspace and shares the contracts'
//! SCALE types through [`ehr_types`].

pub use ehr_types;
