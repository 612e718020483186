//! The audit export: a node's access decisions on the records contract as JSON Lines, one
//! decision a line (`ehr_audit::line`), oldest first — what `ai-oracle audit detect` reads.

use std::{collections::HashMap, io::Write};

use anyhow::{Context, Result};
use ehr_audit::{AuditLine, Decision, Mode};
use ehr_client::{ss58, ContractRef, EhrEvent, Node};
use ehr_types::{AccessDecision, AccessMode, AccountId, ProviderInfo};

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
/// has it now (`Patient` for a patient's own access).
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
    let to = match to {
        Some(to) => to,
        None => node.best_block().await?.0,
    };
    let mut roles: HashMap<AccountId, String> = HashMap::new();
    let mut lines = 0;
    for number in from..=to {
        let Some(hash) = node.block_hash(number).await? else { continue };
        let events = node.contract_events_at(hash).await?;
        let mut time_ms = None;
        for raw in events.iter().filter(|raw| raw.contract == records.address) {
            // An event of ours that does not decode is an error, not a gap in the export.
            let event = match EhrEvent::decode(raw) {
                Ok(Some(EhrEvent::AccessRequested(event))) => event,
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
                emergency: false,
                review: None,
            };
            writeln!(out, "{}", line.to_json()).context("writing the export")?;
            lines += 1;
        }
    }
    Ok(Exported { lines, blocks: to.saturating_sub(from).saturating_add(1), to })
}
