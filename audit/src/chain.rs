//! Verifies the audit hash chains of an exported trail (`ehr_types::audit`): per patient, the
//! links must run from `seq` 1 without a gap, each line must hash to the `prev` the next one
//! names, and, given the chain's heads from the node, the last line must hash to the head.
//!
//! What it proves: a line removed (a gap in `seq`), a line altered (its recomputed hash is not
//! what the next link, or the head, names), lines reordered or duplicated. What it cannot:
//! without the heads, that lines were not cut off at the end of a patient's trail; and a trail
//! that starts after `seq` 1 (an export from a later block) is reported as such, since the
//! links before it cannot be checked.

use std::collections::BTreeMap;

use ehr_types::{
    audit::{AuditEntry, AuditHead},
    ss58, AccessDecision, AccessMode, DenialReason, RecordCategory,
};

use crate::line::{parse_hash, AuditLine, Decision, Mode};

/// Something wrong with a patient's chain, naming the file's line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainProblem {
    /// Links `from..=to` are missing before `line` (removed, or outside the export).
    Gap {
        /// The patient (SS58).
        patient: String,
        /// The line after the gap.
        line: usize,
        /// First missing sequence number.
        from: u64,
        /// Last missing sequence number.
        to: u64,
    },
    /// `line` does not hash to what the next link (or the chain's head) names as its hash:
    /// it, or the `prev` that names it, was altered.
    Altered {
        /// The patient (SS58).
        patient: String,
        /// The altered line.
        line: usize,
        /// Its sequence number.
        seq: u64,
    },
    /// `line` repeats or goes back in the chain's order.
    OutOfOrder {
        /// The patient (SS58).
        patient: String,
        /// The line.
        line: usize,
        /// Its sequence number.
        seq: u64,
        /// The sequence number expected.
        expected: u64,
    },
    /// The chain on the node goes on after the trail's last link of the patient (links were
    /// cut off at the end), or the patient has a head but no line.
    Truncated {
        /// The patient (SS58).
        patient: String,
        /// The last sequence number in the trail (0: none).
        last: u64,
        /// The head's sequence number on the node.
        head: u64,
    },
    /// A decision on a patient's chart that claims to be in no chain: `seq` 0 on anything but a
    /// denial for want of a registered patient, or no `seq` after the patient's chain began.
    OutOfChain {
        /// The patient (SS58).
        patient: String,
        /// The line.
        line: usize,
    },
    /// A line's fields cannot be turned back into the decision the chain hashed.
    Unreadable {
        /// The line.
        line: usize,
        /// What is wrong.
        message: String,
    },
}

impl std::fmt::Display for ChainProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ChainProblem::Gap { patient, line, from, to } if from == to => {
                write!(f, "line {line}: gap in patient {patient}'s trail: link {from} is missing before it")
            }
            ChainProblem::Gap { patient, line, from, to } => {
                write!(f, "line {line}: gap in patient {patient}'s trail: links {from}..={to} are missing before it")
            }
            ChainProblem::Altered { patient, line, seq } => write!(
                f,
                "line {line}: altered: patient {patient}'s link {seq} does not hash to what the chain names next"
            ),
            ChainProblem::OutOfOrder { patient, line, seq, expected } => write!(
                f,
                "line {line}: patient {patient}'s link {seq} repeats or is out of order (expected link {expected})"
            ),
            ChainProblem::Truncated { patient, last, head } => write!(
                f,
                "patient {patient}'s trail ends at link {last}, but the chain's head on the node is link {head}: \
                 links {}..={head} are missing at the end",
                last + 1
            ),
            ChainProblem::OutOfChain { patient, line } => write!(
                f,
                "line {line}: a decision on patient {patient}'s chart outside its audit chain (seq 0 is only for \
                 accounts that are no patient; a line without seq only before the chain began)"
            ),
            ChainProblem::Unreadable { line, message } => write!(f, "line {line}: {message}"),
        }
    }
}

/// The outcome of a verification.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChainReport {
    /// Patients whose chains were checked.
    pub patients: usize,
    /// Links checked.
    pub links: usize,
    /// Lines in no chain: decisions on accounts that are no patient (`seq` 0) and decisions
    /// from before the chain existed (no `seq`).
    pub unchained: usize,
    /// Patients whose last link was checked against the node's head.
    pub heads_checked: usize,
    /// What is wrong, in file order; empty when every chain is complete and unaltered.
    pub problems: Vec<ChainProblem>,
}

impl ChainReport {
    /// Whether every chain checked is complete and unaltered.
    pub fn is_intact(&self) -> bool {
        self.problems.is_empty()
    }
}

/// The chain link a line records.
///
/// # Errors
/// A message when a field does not name what the chain hashed.
pub fn entry_of(line: &AuditLine) -> Result<AuditEntry, String> {
    let account = |text: &str| ss58::decode(text).map_err(|e| format!("{text}: {e}"));
    let category = RecordCategory::ALL
        .into_iter()
        .find(|c| format!("{c:?}") == line.category)
        .ok_or_else(|| format!("category '{}' is not a RecordCategory", line.category))?;
    let decision = match (line.decision, line.reason.as_deref()) {
        (Decision::Granted, _) => AccessDecision::Granted,
        (Decision::Denied, Some(reason)) => AccessDecision::Denied(
            DenialReason::ALL
                .into_iter()
                .find(|r| format!("{r:?}") == reason)
                .ok_or_else(|| format!("reason '{reason}' is not a DenialReason"))?,
        ),
        (Decision::Denied, None) => return Err("a denied decision needs its reason".into()),
    };
    let seq = line.seq.ok_or("no seq")?;
    let prev = line.prev.as_deref().and_then(parse_hash).ok_or("no prev")?;
    Ok(AuditEntry {
        prev,
        seq,
        patient: account(&line.patient)?,
        accessor: account(&line.accessor)?,
        category,
        mode: match line.mode {
            Mode::Read => AccessMode::Read,
            Mode::Write => AccessMode::Write,
        },
        decision,
        emergency: line.emergency,
        block: line.block,
    })
}

/// Verifies every patient's chain in `lines` (numbered as in the file, oldest first). With
/// `heads` (patient → the chain's head on the node), also that each patient's last link is the
/// head, and that patients with a head have their links in the trail.
pub fn verify(lines: &[(usize, AuditLine)], heads: Option<&BTreeMap<String, AuditHead>>) -> ChainReport {
    let mut report = ChainReport::default();
    // Per patient: the last link seen (line, entry).
    let mut last: BTreeMap<String, (usize, AuditEntry)> = BTreeMap::new();
    for (number, line) in lines {
        let out_of_chain = match line.seq {
            // Only a denial for want of a registered patient is in no chain.
            Some(0) => {
                line.decision != Decision::Denied || line.reason.as_deref() != Some("PatientNotRegistered")
            }
            // Before the chain existed (storage versions 1–2); never after a chained line.
            None => last.contains_key(&line.patient),
            Some(_) => false,
        };
        if out_of_chain {
            report.problems.push(ChainProblem::OutOfChain { patient: line.patient.clone(), line: *number });
            continue;
        }
        if matches!(line.seq, None | Some(0)) {
            report.unchained += 1;
            continue;
        }
        let entry = match entry_of(line) {
            Ok(entry) => entry,
            Err(message) => {
                report.problems.push(ChainProblem::Unreadable { line: *number, message });
                continue;
            }
        };
        report.links += 1;
        let patient = line.patient.clone();
        match last.get(&patient) {
            None if entry.seq > 1 => report.problems.push(ChainProblem::Gap {
                patient: patient.clone(),
                line: *number,
                from: 1,
                to: entry.seq - 1,
            }),
            None if entry.prev != [0; 32] => report.problems.push(ChainProblem::Altered {
                patient: patient.clone(),
                line: *number,
                seq: 1,
            }),
            None => {}
            Some((prev_line, prev)) => {
                let Some(expected) = prev.seq.checked_add(1) else {
                    report.problems.push(ChainProblem::Unreadable {
                        line: *number,
                        message: "seq follows the largest sequence number".into(),
                    });
                    continue;
                };
                if entry.seq > expected {
                    report.problems.push(ChainProblem::Gap {
                        patient: patient.clone(),
                        line: *number,
                        from: expected,
                        to: entry.seq - 1,
                    });
                } else if entry.seq < expected {
                    report.problems.push(ChainProblem::OutOfOrder {
                        patient: patient.clone(),
                        line: *number,
                        seq: entry.seq,
                        expected,
                    });
                    continue;
                } else if entry.prev != prev.hash() {
                    report.problems.push(ChainProblem::Altered {
                        patient: patient.clone(),
                        line: *prev_line,
                        seq: prev.seq,
                    });
                }
            }
        }
        last.insert(patient, (*number, entry));
    }
    report.patients = last.len();
    if let Some(heads) = heads {
        for (patient, head) in heads {
            match last.get(patient) {
                Some((line, entry)) if entry.seq == head.seq => {
                    report.heads_checked += 1;
                    if entry.hash() != head.hash {
                        report.problems.push(ChainProblem::Altered {
                            patient: patient.clone(),
                            line: *line,
                            seq: entry.seq,
                        });
                    }
                }
                Some((line, entry)) if entry.seq > head.seq => {
                    report.problems.push(ChainProblem::OutOfOrder {
                        patient: patient.clone(),
                        line: *line,
                        seq: entry.seq,
                        expected: head.seq,
                    })
                }
                Some((_, entry)) => report.problems.push(ChainProblem::Truncated {
                    patient: patient.clone(),
                    last: entry.seq,
                    head: head.seq,
                }),
                None if head.seq > 0 => report.problems.push(ChainProblem::Truncated {
                    patient: patient.clone(),
                    last: 0,
                    head: head.seq,
                }),
                None => {}
            }
        }
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::line::hash_hex;
    use ehr_types::AccountId;

    /// A chain of `n` links on one patient, as an export writes it.
    fn trail(n: u64) -> (Vec<(usize, AuditLine)>, AuditHead) {
        let patient = ss58::encode(&AccountId::from([1; 32]));
        let accessor = ss58::encode(&AccountId::from([2; 32]));
        let mut head = AuditHead::default();
        let mut lines = Vec::new();
        for seq in 1..=n {
            let line = AuditLine {
                block: 10 + seq as u32,
                time_ms: 1_767_225_600_000 + seq * 6_000,
                patient: patient.clone(),
                accessor: accessor.clone(),
                role: "Doctor".into(),
                category: "LabResult".into(),
                mode: Mode::Read,
                decision: if seq % 2 == 0 { Decision::Denied } else { Decision::Granted },
                reason: (seq % 2 == 0).then(|| "NoGrant".to_string()),
                emergency: seq == 3,
                review: None,
                case: None,
                seq: Some(seq),
                prev: Some(hash_hex(&head.hash)),
            };
            head = entry_of(&line).unwrap().head();
            lines.push((seq as usize, line));
        }
        (lines, head)
    }

    fn heads(head: AuditHead) -> BTreeMap<String, AuditHead> {
        BTreeMap::from([(ss58::encode(&AccountId::from([1; 32])), head)])
    }

    #[test]
    fn an_intact_trail_verifies_with_and_without_the_head() {
        let (lines, head) = trail(5);
        let report = verify(&lines, None);
        assert!(report.is_intact(), "{:?}", report.problems);
        assert_eq!((report.patients, report.links), (1, 5));
        let report = verify(&lines, Some(&heads(head)));
        assert!(report.is_intact(), "{:?}", report.problems);
        assert_eq!(report.heads_checked, 1);
    }

    #[test]
    fn a_removed_line_is_a_gap_and_a_changed_one_is_named() {
        let (mut lines, head) = trail(5);
        lines.remove(2);
        let report = verify(&lines, Some(&heads(head)));
        assert_eq!(
            report.problems,
            vec![ChainProblem::Gap {
                patient: ss58::encode(&AccountId::from([1; 32])),
                line: 4,
                from: 3,
                to: 3
            }]
        );
        assert!(report.problems[0].to_string().contains("line 4"), "{}", report.problems[0]);

        for change in [
            |l: &mut AuditLine| l.emergency = !l.emergency,
            |l: &mut AuditLine| l.block += 1,
            |l: &mut AuditLine| l.category = "Imaging".into(),
            |l: &mut AuditLine| {
                l.decision = Decision::Granted;
                l.reason = None
            },
        ] {
            let (mut lines, head) = trail(5);
            change(&mut lines[1].1);
            let report = verify(&lines, Some(&heads(head)));
            assert_eq!(
                report.problems,
                vec![ChainProblem::Altered {
                    patient: ss58::encode(&AccountId::from([1; 32])),
                    line: 2,
                    seq: 2
                }]
            );
        }
        // The last line is checked against the head.
        let (mut lines, head) = trail(5);
        lines[4].1.accessor = ss58::encode(&AccountId::from([3; 32]));
        assert!(verify(&lines, None).is_intact(), "without the head the last link is unchecked");
        let report = verify(&lines, Some(&heads(head)));
        assert_eq!(
            report.problems,
            vec![ChainProblem::Altered { patient: ss58::encode(&AccountId::from([1; 32])), line: 5, seq: 5 }]
        );
    }

    #[test]
    fn cut_off_ends_and_repeats_are_found() {
        let (mut lines, head) = trail(5);
        lines.truncate(3);
        let report = verify(&lines, Some(&heads(head)));
        assert_eq!(
            report.problems,
            vec![ChainProblem::Truncated {
                patient: ss58::encode(&AccountId::from([1; 32])),
                last: 3,
                head: 5
            }]
        );
        let (mut lines, _) = trail(3);
        let repeated = lines[1].clone();
        lines.push((9, repeated.1));
        let report = verify(&lines, None);
        assert!(matches!(
            report.problems.as_slice(),
            [ChainProblem::OutOfOrder { line: 9, seq: 2, expected: 4, .. }]
        ));
        let (lines, head) = trail(4);
        let report = verify(&lines[2..], Some(&heads(head)));
        assert!(matches!(report.problems.as_slice(), [ChainProblem::Gap { from: 1, to: 2, .. }]));
        // A patient with a head on the node but no line at all.
        let report = verify(&[], Some(&heads(head)));
        assert!(matches!(report.problems.as_slice(), [ChainProblem::Truncated { last: 0, head: 4, .. }]));
    }

    #[test]
    fn decisions_claiming_to_be_in_no_chain_are_refused() {
        let (mut lines, _) = trail(3);
        // A made-up granted read with seq 0, or without seq after the chain began.
        let mut forged = lines[1].1.clone();
        forged.seq = Some(0);
        forged.decision = Decision::Granted;
        forged.reason = None;
        lines.push((4, forged.clone()));
        forged.seq = None;
        forged.prev = None;
        lines.push((5, forged));
        let report = verify(&lines, None);
        assert!(
            matches!(
                report.problems.as_slice(),
                [ChainProblem::OutOfChain { line: 4, .. }, ChainProblem::OutOfChain { line: 5, .. }]
            ),
            "{:?}",
            report.problems
        );
        // The legitimate ones: a denial for want of a patient, and legacy lines before the chain.
        let (mut lines, _) = trail(2);
        let mut not_a_patient = lines[1].1.clone();
        not_a_patient.seq = Some(0);
        not_a_patient.reason = Some("PatientNotRegistered".into());
        let mut legacy = lines[0].1.clone();
        legacy.seq = None;
        legacy.prev = None;
        lines.insert(0, (0, legacy));
        lines.push((9, not_a_patient));
        let report = verify(&lines, None);
        assert!(report.is_intact(), "{:?}", report.problems);
        assert_eq!(report.unchained, 2);
        // A crafted sequence number at the end of u64 is a problem, not a panic.
        let (mut lines, _) = trail(2);
        lines[0].1.seq = Some(u64::MAX);
        assert!(!verify(&lines, None).is_intact());
    }
}
