//! Audit intelligence over the EHR contracts' audit trail.
//!
//! - [`line`]: the export format, JSON Lines with one access decision a line, which
//!   `ai-oracle audit export` writes and everything here reads.
//! - [`chain`]: verifies the per-patient audit hash chains of an export (complete, unaltered).
//! - [`detect`]: the detector. Per accessor and time window it computes behavioural features
//!   (volume, distinct patients, denials and their reasons, off-hours and never-before-seen
//!   hours, categories unusual for the role, patients outside the accessor's care community,
//!   emergency accesses and their reviews, change against the accessor's own history), turns
//!   each into a robust z-score against the accessor's role peers, and combines them into a
//!   score in [0, 1] with the reasons a reviewer can check.
//! - [`sim`]: a seeded synthetic hospital (departments, shifts, care teams, referrals, labs,
//!   pharmacies, insurers, the oracle, emergencies) with injected attacks, for evaluation.
//! - [`eval`]: ROC AUC, precision at k and recall at a false-positive rate.
//!
//! Nothing here knows about ink! or the chain: it reads lines.

pub mod chain;
pub mod detect;
pub mod eval;
pub mod line;
pub mod sim;

pub use detect::{detect, AccessorReport, DetectorConfig};
pub use line::{read_lines, AuditLine, Decision, LineError, Mode, Review};
