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
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exported {
    /// Access decisions written.
    pub lines: usize,
    /// Blocks read.
    pub blocks: u32,
    /// The last block read.
    pub to: u32,
    /// The patients registered in the blocks read (`PatientRegistered`).
    pub registered: Vec<AccountId>,
}

/// Writes every `AccessRequested` of the records contract `records` in blocks `from..=to`
/// (default: to the best block) to `out`, with each accessor's role as the registry `registry`
/// has it now (`Patient` for a patient's own access) and, for a decision under emergency access,
/// its case (opened within the range, else the accessor's latest case on the patient if it was
/// opened by then) and the case's review as the contract has it now ([`review_of`]).
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
    let mut lines: Vec<AuditLine> = Vec::new();
    let mut registered = Vec::new();
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
                Ok(Some(EhrEvent::PatientRegistered(e))) => {
                    registered.push(e.patient);
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
            let case = match (event.emergency, cases.get(&(event.patient, event.accessor))) {
                (false, _) => None,
                (true, Some(case)) => Some(*case),
                // Opened before the range: the accessor's latest case, if opened by then.
                (true, None) => {
                    let latest: Option<EmergencyId> = node
                        .dry_run(
                            records,
                            &records.address,
                            "latest_emergency_of",
                            &(event.patient, event.accessor),
                        )
                        .await?
                        .value;
                    match latest {
                        Some(id) => {
                            let case: Option<EmergencyCase> =
                                node.dry_run(records, &records.address, "emergency", &(id,)).await?.value;
                            let found = case.filter(|c| c.opened_at <= number).map(|_| id);
                            // Later reads of the same case in this export need not ask again.
                            if let Some(id) = found {
                                cases.insert((event.patient, event.accessor), id);
                            }
                            found
                        }
                        None => None,
                    }
                }
            };
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
                case,
                seq: event.link.map(|(seq, _)| seq),
                prev: event.link.map(|(_, prev)| hash_hex(&prev)),
            };
            lines.push(line);
        }
    }
    refresh_reviews(node, records, &mut lines, best).await?;
    for line in &lines {
        writeln!(out, "{}", line.to_json()).context("writing the export")?;
    }
    Ok(Exported { lines: lines.len(), blocks: to.saturating_sub(from).saturating_add(1), to, registered })
}

/// Where emergency case `case`'s review stands at block `now`: `Accepted` or `Flagged` once
/// reviewed, `Overdue` past its deadline, else `Pending`.
///
/// # Errors
/// The node could not be asked.
pub async fn review_of(node: &Node, records: &ContractRef, case: EmergencyId, now: u32) -> Result<Review> {
    let found: Option<EmergencyCase> =
        node.dry_run(records, &records.address, "emergency", &(case,)).await?.value;
    Ok(match found {
        Some(EmergencyCase { review: Some(r), .. }) if r.verdict == ReviewVerdict::Accepted => {
            Review::Accepted
        }
        Some(EmergencyCase { review: Some(_), .. }) => Review::Flagged,
        Some(c) if c.is_overdue(now) => Review::Overdue,
        _ => Review::Pending,
    })
}

/// Sets the `review` of every line with an emergency `case` whose review is not final yet
/// (none, `Pending` or `Overdue`) to where it stands at block `now`: one query per case.
///
/// # Errors
/// The node could not be asked.
pub async fn refresh_reviews(
    node: &Node,
    records: &ContractRef,
    lines: &mut [AuditLine],
    now: u32,
) -> Result<()> {
    let mut reviews: HashMap<EmergencyId, Review> = HashMap::new();
    for line in lines.iter_mut() {
        let Some(case) = line.case else { continue };
        if matches!(line.review, Some(Review::Accepted | Review::Flagged)) {
            continue;
        }
        if let std::collections::hash_map::Entry::Vacant(slot) = reviews.entry(case) {
            slot.insert(review_of(node, records, case, now).await?);
        }
        line.review = reviews.get(&case).copied();
    }
    Ok(())
}

/// The audit chain's head of each of `patients` (SS58) as of block `at` (`None`: the best
/// block): what a trail read up to that block must end with.
///
/// # Errors
/// A patient is not an SS58 address, or the node could not be asked.
pub async fn audit_heads(
    node: &Node,
    records: &ContractRef,
    patients: impl IntoIterator<Item = String>,
    at: Option<[u8; 32]>,
) -> Result<BTreeMap<String, AuditHead>> {
    let mut heads = BTreeMap::new();
    for patient in patients {
        if heads.contains_key(&patient) {
            continue;
        }
        let account = ehr_types::ss58::decode(&patient).with_context(|| format!("patient {patient}"))?;
        let head: AuditHead = node
            .dry_run_at(at, records, &account, "audit_head", &(account,))
            .await
            .context("asking the records contract for an audit chain's head")?
            .value;
        heads.insert(patient, head);
    }
    Ok(heads)
}
