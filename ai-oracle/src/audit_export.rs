//! The audit export: a node's access decisions on the records contract as JSON Lines, one
//! decision a line (`ehr_audit::line`), oldest first — what `ai-oracle audit detect` reads.

use std::{
    collections::{BTreeMap, HashMap},
    io::Write,
};

use anyhow::{Context, Result};
use ehr_audit::{line::hash_hex, AuditLine, Decision, Mode, Review};
use ehr_client::{ss58, ContractRef, EhrEvent, Node};
use ehr_types::{
    audit::AuditHead,
    emergency::{EmergencyCase, EmergencyId, ReviewVerdict},
    AccessDecision, AccessMode, AccountId, ContentHash, ProviderInfo, RecordCategory,
};

/// An audited decision as either shape of `AccessRequested` carries it.
struct Decided {
    patient: AccountId,
    accessor: AccountId,
    category: RecordCategory,
    mode: AccessMode,
    decision: AccessDecision,
    emergency: bool,
    /// `(seq, prev)`; `None` for the legacy shape (before the audit chain).
    link: Option<(u64, ContentHash)>,
}

/// What an export wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exported {
    /// Access decisions written.
    pub lines: usize,
    /// Blocks read.
    pub blocks: u32,
    /// The last block read.
    pub to: u32,
}

/// Writes every `AccessRequested` of the records contract `records` in blocks `from..=to`
/// (default: to the best block) to `out`, with each accessor's role as the registry `registry`
/// has it now (`Patient` for a patient's own access) and, for a decision under emergency access
/// whose case was opened within the range, the case's review as the contract has it now
/// (`Accepted`, `Flagged`, `Overdue` past its deadline, else `Pending`).
///
/// # Errors
/// The node could not be read, an event of the records contract does not decode, or `out`
/// could not be written.
pub async fn export(
    node: &Node,
    records: &ContractRef,
    registry: &ContractRef,
    from: u32,
    to: Option<u32>,
    out: &mut impl Write,
) -> Result<Exported> {
    let (best, _) = node.best_block().await?;
    let to = to.unwrap_or(best);
    let mut roles: HashMap<AccountId, String> = HashMap::new();
    // The latest emergency case of (patient, clinician), from `EmergencyOpened` in the range.
    let mut cases: HashMap<(AccountId, AccountId), EmergencyId> = HashMap::new();
    let mut lines: Vec<(AuditLine, Option<EmergencyId>)> = Vec::new();
    for number in from..=to {
        let Some((hash, events)) = node.block_events_of(number, &[records.address]).await? else { continue };
        let mut time_ms = None;
        for raw in &events {
            // An event of ours that does not decode is an error, not a gap in the export.
            let event = match EhrEvent::decode(raw) {
                Ok(Some(EhrEvent::AccessRequested(e))) => Decided {
                    patient: e.patient,
                    accessor: e.accessor,
                    category: e.category,
                    mode: e.mode,
                    decision: e.decision,
                    emergency: e.emergency,
                    link: Some((e.seq, e.prev)),
                },
                Ok(Some(EhrEvent::LegacyAccessRequested(e))) => Decided {
                    patient: e.patient,
                    accessor: e.accessor,
                    category: e.category,
                    mode: e.mode,
                    decision: e.decision,
                    emergency: false,
                    link: None,
                },
                Ok(Some(EhrEvent::EmergencyOpened(e))) => {
                    cases.insert((e.patient, e.clinician), e.case);
                    continue;
                }
                Ok(_) => continue,
                Err(err) => {
                    anyhow::bail!("block {number}: an event of the records contract does not decode: {err:?}")
                }
            };
            let time_ms = match time_ms {
                Some(time) => time,
                None => *time_ms.insert(node.timestamp_at(hash).await?),
            };
            let role = if event.accessor == event.patient {
                ehr_audit::line::PATIENT_ROLE.to_string()
            } else if let Some(role) = roles.get(&event.accessor) {
                role.clone()
            } else {
                let info: Option<ProviderInfo> = node
                    .dry_run(registry, &event.accessor, "ProviderDirectory::provider", &(event.accessor,))
                    .await
                    .context("asking the registry for an accessor's role")?
                    .value;
                // An account the registry does not know: its requests were denied
                // (`ProviderNotRegistered`), and it has no role.
                let role = info.map_or(ehr_audit::line::UNREGISTERED_ROLE.to_string(), |info| {
                    format!("{:?}", info.role)
                });
                roles.insert(event.accessor, role.clone());
                role
            };
            let (decision, reason) = match event.decision {
                AccessDecision::Granted => (Decision::Granted, None),
                AccessDecision::Denied(reason) => (Decision::Denied, Some(format!("{reason:?}"))),
            };
            let case =
                if event.emergency { cases.get(&(event.patient, event.accessor)).copied() } else { None };
            let line = AuditLine {
                block: number,
                time_ms,
                patient: ss58(&event.patient),
                accessor: ss58(&event.accessor),
                role,
                category: format!("{:?}", event.category),
                mode: match event.mode {
                    AccessMode::Read => Mode::Read,
                    AccessMode::Write => Mode::Write,
                },
                decision,
                reason,
                emergency: event.emergency,
                review: None,
                seq: event.link.map(|(seq, _)| seq),
                prev: event.link.map(|(_, prev)| hash_hex(&prev)),
            };
            lines.push((line, case));
        }
    }
    // Where each emergency case's review stands now.
    let mut reviews: HashMap<EmergencyId, Review> = HashMap::new();
    for (line, case) in &mut lines {
        let Some(case) = *case else { continue };
        if let std::collections::hash_map::Entry::Vacant(slot) = reviews.entry(case) {
            let found: Option<EmergencyCase> =
                node.dry_run(records, &records.address, "emergency", &(case,)).await?.value;
            slot.insert(match found {
                Some(EmergencyCase { review: Some(r), .. }) if r.verdict == ReviewVerdict::Accepted => {
                    Review::Accepted
                }
                Some(EmergencyCase { review: Some(_), .. }) => Review::Flagged,
                Some(c) if c.is_overdue(best) => Review::Overdue,
                _ => Review::Pending,
            });
        }
        line.review = reviews.get(&case).copied();
    }
    for (line, _) in &lines {
        writeln!(out, "{}", line.to_json()).context("writing the export")?;
    }
    Ok(Exported { lines: lines.len(), blocks: to.saturating_sub(from).saturating_add(1), to })
}

/// The audit chain's head on the node of each patient named in `lines` (`audit_head`).
///
/// # Errors
/// A patient is not an SS58 address, or the node could not be asked.
pub async fn audit_heads(
    node: &Node,
    records: &ContractRef,
    lines: &[(usize, AuditLine)],
) -> Result<BTreeMap<String, AuditHead>> {
    let mut heads = BTreeMap::new();
    for (number, line) in lines {
        if line.seq.is_none_or(|seq| seq == 0) || heads.contains_key(&line.patient) {
            continue;
        }
        let patient = ehr_types::ss58::decode(&line.patient)
            .with_context(|| format!("line {number}: patient {}", line.patient))?;
        let head: AuditHead = node
            .dry_run(records, &patient, "audit_head", &(patient,))
            .await
            .context("asking the records contract for an audit chain's head")?
            .value;
        heads.insert(line.patient.clone(), head);
    }
    Ok(heads)
}
