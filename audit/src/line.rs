//! The audit export format: JSON Lines, one access decision a line, oldest first.
//!
//! ```json
//! {"block":1204,"time_ms":1767232824000,"patient":"5F…","accessor":"5G…","role":"Doctor","category":"Summary","mode":"Read","decision":"Denied","reason":"NoGrant","emergency":false}
//! ```
//!
//! - `block` (u32) and `time_ms` (u64, the block's timestamp);
//! - `patient` and `accessor` (SS58 addresses);
//! - `role`: the accessor's provider role (`ProviderRole` variant name: `Doctor`, `Lab`,
//!   `Pharmacy`, `Insurer`, `Analytics`, …), `Patient` for the patient's own access, or
//!   `Unregistered` for an account the registry does not know;
//! - `category` (`RecordCategory` variant name), `mode` (`Read` | `Write`);
//! - `decision` (`Granted` | `Denied`) and `reason` (a `DenialReason` variant name when denied,
//!   else null);
//! - `emergency` (bool): decided under the accessor's open break-glass emergency access.
//!
//! Optional:
//! - `seq` (u64) and `prev` (`0x` and 64 hex digits): the decision's place in its patient's
//!   audit hash chain (`ehr_types::audit`), which `ai-oracle audit verify` checks; absent on
//!   decisions taken before the chain existed (storage versions 1–2 of the records contract),
//!   `seq` 0 on decisions about an account that is no patient;
//! - `case` (u32), the emergency case a decision under emergency access was taken in, and
//!   `review` (`Pending` | `Accepted` | `Flagged` | `Overdue`), where that case's review stands.
//!
//! Readers ignore fields they do not know, so exports may carry more.

use std::io::BufRead;

use ehr_types::{DenialReason, ProviderRole, RecordCategory};
use serde::{Deserialize, Serialize};

/// Read or write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Mode {
    /// A read.
    Read,
    /// A write.
    Write,
}

/// The access decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Decision {
    /// Granted.
    Granted,
    /// Denied (`reason` says why).
    Denied,
}

/// Where an emergency access's review stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Review {
    /// Not reviewed yet, still within its deadline.
    Pending,
    /// An auditor accepted it.
    Accepted,
    /// An auditor flagged it.
    Flagged,
    /// Not reviewed by its deadline.
    Overdue,
}

/// One access decision of the audit trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditLine {
    /// Block of the decision.
    pub block: u32,
    /// The block's timestamp, in milliseconds since the Unix epoch.
    pub time_ms: u64,
    /// The patient (SS58).
    pub patient: String,
    /// Who asked (SS58).
    pub accessor: String,
    /// The accessor's role: a `ProviderRole` variant name, or `Patient`.
    pub role: String,
    /// The record category (`RecordCategory` variant name).
    pub category: String,
    /// Read or write.
    pub mode: Mode,
    /// Granted or denied.
    pub decision: Decision,
    /// The `DenialReason` variant name of a denial; null when granted.
    pub reason: Option<String>,
    /// Granted under break-glass emergency access.
    pub emergency: bool,
    /// The review of an emergency access, when the exporter knows it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub review: Option<Review>,
    /// The emergency case of a decision under emergency access, when the exporter knows it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case: Option<u32>,
    /// Its sequence number in the patient's audit chain (0: in no chain).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seq: Option<u64>,
    /// The previous link's hash, `0x` and 64 hex digits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prev: Option<String>,
}

/// The role name of a patient's access to its own chart.
pub const PATIENT_ROLE: &str = "Patient";
/// The role name of an accessor the provider registry does not know (its requests are denied).
pub const UNREGISTERED_ROLE: &str = "Unregistered";

/// A line that is not an access decision of this format.
#[derive(Debug, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct LineError {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong with it.
    pub message: String,
}

impl AuditLine {
    /// Parses and checks one line.
    ///
    /// # Errors
    /// A message naming the bad field.
    pub fn parse(text: &str) -> Result<Self, String> {
        let line: AuditLine = serde_json::from_str(text).map_err(|e| e.to_string())?;
        line.check()?;
        Ok(line)
    }

    /// Checks the names and the decision/reason pairing.
    ///
    /// # Errors
    /// A message naming the bad field.
    pub fn check(&self) -> Result<(), String> {
        let roles: Vec<String> = ProviderRole::ALL.iter().map(|r| format!("{r:?}")).collect();
        if self.role != PATIENT_ROLE && self.role != UNREGISTERED_ROLE && !roles.contains(&self.role) {
            return Err(format!(
                "role '{}' is none of {}, {PATIENT_ROLE} or {UNREGISTERED_ROLE}",
                self.role,
                roles.join(", ")
            ));
        }
        if !RecordCategory::ALL.iter().any(|c| format!("{c:?}") == self.category) {
            return Err(format!("category '{}' is not a RecordCategory", self.category));
        }
        match (self.decision, &self.reason) {
            (Decision::Granted, None) => {}
            (Decision::Granted, Some(reason)) => {
                return Err(format!("a granted decision has no reason (got '{reason}')"));
            }
            (Decision::Denied, None) => return Err("a denied decision needs its reason".into()),
            (Decision::Denied, Some(reason)) => {
                if !DenialReason::ALL.iter().any(|r| format!("{r:?}") == *reason) {
                    return Err(format!("reason '{reason}' is not a DenialReason"));
                }
            }
        }
        if let Some(prev) = &self.prev {
            if self.seq.is_none() {
                return Err("prev without seq".into());
            }
            if parse_hash(prev).is_none() {
                return Err(format!("prev '{prev}' is not 0x and 64 hex digits"));
            }
        } else if self.seq.is_some() {
            return Err("seq without prev".into());
        }
        if self.patient.is_empty() || self.accessor.is_empty() {
            return Err("patient and accessor are required".into());
        }
        Ok(())
    }

    /// The line as one JSON object (no newline).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// `0x` and 64 hex digits as 32 bytes.
pub fn parse_hash(text: &str) -> Option<[u8; 32]> {
    let digits = text.strip_prefix("0x")?;
    if digits.len() != 64 {
        return None;
    }
    let mut hash = [0u8; 32];
    for (byte, pair) in hash.iter_mut().zip(digits.as_bytes().chunks(2)) {
        *byte = u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok()?;
    }
    Some(hash)
}

/// 32 bytes as `0x` and 64 lowercase hex digits.
pub fn hash_hex(hash: &[u8; 32]) -> String {
    let mut text = String::with_capacity(66);
    text.push_str("0x");
    for byte in hash {
        text.push_str(&format!("{byte:02x}"));
    }
    text
}

/// Reads every line of `reader`, skipping blank ones.
///
/// # Errors
/// The first line that is not an access decision of this format, by number; or a read error.
pub fn read_lines(reader: impl BufRead) -> Result<Vec<AuditLine>, LineError> {
    Ok(read_numbered_lines(reader)?.into_iter().map(|(_, line)| line).collect())
}

/// [`read_lines`], with each line's 1-based number in the file.
///
/// # Errors
/// As [`read_lines`].
pub fn read_numbered_lines(reader: impl BufRead) -> Result<Vec<(usize, AuditLine)>, LineError> {
    let mut lines = Vec::new();
    for (index, text) in reader.lines().enumerate() {
        let number = index + 1;
        let text = text.map_err(|e| LineError { line: number, message: e.to_string() })?;
        if text.trim().is_empty() {
            continue;
        }
        let line = AuditLine::parse(&text).map_err(|message| LineError { line: number, message })?;
        lines.push((number, line));
    }
    Ok(lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LINE: &str = r#"{"block":7,"time_ms":1767225642000,"patient":"5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty","accessor":"5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY","role":"Doctor","category":"Summary","mode":"Read","decision":"Denied","reason":"NoGrant","emergency":false}"#;

    #[test]
    fn a_line_round_trips_and_unknown_fields_are_ignored() {
        let line = AuditLine::parse(LINE).unwrap();
        assert_eq!(
            (line.block, line.decision, line.reason.as_deref()),
            (7, Decision::Denied, Some("NoGrant"))
        );
        assert_eq!(AuditLine::parse(&line.to_json()).unwrap(), line);
        let extra = LINE.replacen('{', r#"{"checked_by":"x","#, 1);
        assert_eq!(AuditLine::parse(&extra).unwrap(), line);
        let prev = format!("0x{}", "ab".repeat(32));
        let chained = LINE.replacen('{', &format!(r#"{{"seq":3,"prev":"{prev}","#), 1);
        let chained = AuditLine::parse(&chained).unwrap();
        assert_eq!((chained.seq, chained.prev.as_deref()), (Some(3), Some(prev.as_str())));
        assert_eq!(AuditLine::parse(&chained.to_json()).unwrap(), chained);
        assert_eq!(parse_hash(&prev).map(|h| hash_hex(&h)), Some(prev));
        let short = LINE.replacen('{', r#"{"seq":3,"prev":"0x00","#, 1);
        assert!(AuditLine::parse(&short).unwrap_err().contains("64 hex"));
    }

    #[test]
    fn bad_lines_are_named() {
        let err =
            read_lines(format!("{LINE}\n\n{}\n", LINE.replace("Summary", "Gossip")).as_bytes()).unwrap_err();
        assert_eq!(err.line, 3);
        assert!(err.message.contains("Gossip"), "{err}");
        let granted_with_reason = LINE.replace("\"Denied\"", "\"Granted\"");
        assert!(AuditLine::parse(&granted_with_reason).unwrap_err().contains("no reason"));
        let unknown_role = LINE.replace("Doctor", "Janitor");
        assert!(AuditLine::parse(&unknown_role).unwrap_err().contains("Janitor"));
        assert!(AuditLine::parse("{").is_err());
    }
}
