//! The detector's flagged accessors as signed, PHI-free alerts on the `risk_scores` contract
//! (`submit_alerts`): accessor, window, score bucket and reason codes, one ed25519 signature per
//! batch by the oracle's key; and `audit watch`, which follows the chain, scores the trail as it
//! grows and posts each accessor's new flagged window once.

use std::time::Duration;

use anyhow::{anyhow, Context, Result};
use ehr_audit::{line::read_numbered_lines, AccessorReport, AuditLine, DetectorConfig};
use ehr_client::{ss58, ContractRef, Keypair, Node, Submitted};
use ehr_types::{
    alerts::{AlertBatch, AlertId, AlertReason, AlertReasons, AuditAlert, StoredAlert, MAX_ALERTS},
    AccountId, Page, ScoreError, MAX_PAGE_LIMIT,
};

use crate::{
    attest::OracleKey,
    audit_export::{export, refresh_reviews},
    node::Follow,
};

/// The alert reason code of a detector feature's name.
pub fn reason_of(feature: &str) -> Option<AlertReason> {
    AlertReason::ALL.into_iter().find(|reason| reason.code() == feature)
}

/// The alerts of a report: one per window scoring at least the threshold (every window the
/// detector reported with `all_windows`, else the accessor's most suspicious one), with the
/// window's score in tenths (rounded up, 1–10) and the features with a z of at least
/// `reason_z` as its reasons (the one with the highest z when none reaches it).
///
/// # Errors
/// The accessor is not an SS58 address.
pub fn alerts_of(report: &AccessorReport, config: &DetectorConfig) -> Result<Vec<AuditAlert>> {
    let accessor = ehr_types::ss58::decode(&report.accessor).with_context(|| report.accessor.clone())?;
    let best = [ehr_audit::detect::WindowScore {
        window: report.window,
        score: report.score,
        features: report.features.clone(),
    }];
    let windows = if report.windows.is_empty() { &best[..] } else { &report.windows[..] };
    Ok(windows
        .iter()
        .filter(|w| w.score >= config.threshold)
        .map(|w| {
            // The report's own reasons for its worst window; the features' for the others.
            let mut reasons: Vec<AlertReason> = if report.windows.is_empty() {
                report.reason_codes.iter().filter_map(|code| reason_of(code)).collect()
            } else {
                w.features
                    .iter()
                    .filter(|f| f.z >= config.reason_z)
                    .filter_map(|f| reason_of(f.name))
                    .collect()
            };
            if reasons.is_empty() {
                let top = w.features.iter().max_by(|a, b| a.z.total_cmp(&b.z));
                reasons.extend(top.and_then(|f| reason_of(f.name)));
            }
            if reasons.is_empty() {
                reasons.push(AlertReason::Change);
            }
            AuditAlert {
                accessor,
                window_start_ms: w.window.from_ms,
                window_end_ms: w.window.to_ms.saturating_add(1),
                score_bucket: (w.score * 10.0).ceil().clamp(1.0, 10.0) as u8,
                reasons: AlertReasons::of(&reasons),
            }
        })
        .collect())
}

/// The alerts of `reports` to post: every flagged window ([`alerts_of`]) that does not overlap
/// an alert already raised for the same accessor (`posted`).
///
/// # Errors
/// An accessor is not an SS58 address.
pub fn new_alerts(
    reports: &[AccessorReport],
    posted: &[AuditAlert],
    config: &DetectorConfig,
) -> Result<Vec<AuditAlert>> {
    let mut alerts: Vec<AuditAlert> = Vec::new();
    for report in reports {
        for alert in alerts_of(report, config)? {
            let known = posted.iter().chain(&alerts).any(|p| {
                p.accessor == alert.accessor
                    && p.window_start_ms < alert.window_end_ms
                    && alert.window_start_ms < p.window_end_ms
            });
            if !known {
                alerts.push(alert);
            }
        }
    }
    Ok(alerts)
}

/// Every alert raised on `scores` so far, oldest first.
///
/// # Errors
/// The node could not be asked, or refused the query.
pub async fn raised_alerts(
    node: &Node,
    scores: &ContractRef,
    caller: &AccountId,
) -> Result<Vec<StoredAlert>> {
    let mut alerts = Vec::new();
    let mut from: AlertId = 0;
    loop {
        let page: Result<Page<(AlertId, StoredAlert)>, ScoreError> =
            node.dry_run(scores, caller, "alerts", &(from, MAX_PAGE_LIMIT, false)).await?.value;
        let page = page.map_err(|e| anyhow!("alerts: {e:?}"))?;
        alerts.extend(page.items.into_iter().map(|(_, alert)| alert));
        match page.next {
            Some(next) => from = next,
            None => return Ok(alerts),
        }
    }
}

/// Signs and submits `alerts` (at most `MAX_ALERTS`) under the next alert nonce of `key`.
///
/// # Errors
/// The node could not be asked or the transaction failed; the contract's refusal is in the
/// returned value.
pub async fn post_alerts(
    node: &Node,
    scores: &ContractRef,
    key: &OracleKey,
    account: &Keypair,
    alerts: Vec<AuditAlert>,
) -> Result<Submitted<Result<AlertId, ScoreError>>> {
    let caller = ehr_client::account_of(account);
    let nonce: u64 = node.dry_run(scores, &caller, "alert_nonce", &(key.public(),)).await?.value;
    let batch = AlertBatch {
        contract: scores.address,
        chain: node.genesis_hash(),
        signer: key.public(),
        nonce: nonce.checked_add(1).context("the signer's alert nonces are used up")?,
        alerts,
    };
    let signature = key.sign_alerts(&batch);
    node.submit(scores, account, "submit_alerts", &(batch, signature)).await
}

/// Posts `alerts` in batches of `MAX_ALERTS`; returns the ids raised.
///
/// # Errors
/// As [`post_alerts`], and a batch the contract refused.
pub async fn post_all(
    node: &Node,
    scores: &ContractRef,
    key: &OracleKey,
    account: &Keypair,
    alerts: &[AuditAlert],
) -> Result<Vec<AlertId>> {
    let mut ids = Vec::new();
    for chunk in alerts.chunks(MAX_ALERTS as usize) {
        let submitted = post_alerts(node, scores, key, account, chunk.to_vec()).await?;
        let first =
            submitted.value().map_err(|e| anyhow!("the risk-scores contract refused the alerts: {e:?}"))?;
        if submitted.included.is_none() {
            return Err(anyhow!("the alerts were not submitted"));
        }
        ids.extend((first..).take(chunk.len()));
    }
    Ok(ids)
}

/// One line of what was posted, for logs and the CLI.
pub fn describe(id: AlertId, alert: &AuditAlert) -> String {
    format!(
        "alert {id}: {} score ≤ {}/10 for {:?}, window {}..{} ms",
        ss58(&alert.accessor),
        alert.score_bucket,
        alert.reasons.reasons(),
        alert.window_start_ms,
        alert.window_end_ms
    )
}

/// How `audit watch` runs.
pub struct WatchOptions {
    /// First block to read.
    pub from: u32,
    /// Exit once this block has been read and scored.
    pub until_block: Option<u32>,
    /// Which head to follow.
    pub follow: Follow,
    /// Time between looks for new blocks.
    pub poll: Duration,
    /// The detector's settings.
    pub config: DetectorConfig,
    /// Decisions older than this (before the newest one) are dropped from the history scored.
    pub history_ms: u64,
    /// Post flagged accessors (else only report them).
    pub post: bool,
}

/// The accounts and contracts `audit watch` uses.
pub struct Watcher<'a> {
    /// The node.
    pub node: &'a Node,
    /// The records contract (the trail).
    pub records: &'a ContractRef,
    /// The registry (accessors' roles).
    pub registry: &'a ContractRef,
    /// The risk-scores contract (alerts).
    pub scores: &'a ContractRef,
    /// The oracle's signing key.
    pub key: &'a OracleKey,
    /// The account that submits.
    pub account: &'a Keypair,
}

/// Follows the chain: reads each new block's access decisions, scores the trail, and posts each
/// accessor's flagged window once (alerts already on chain count as posted, so a restart posts
/// nothing twice); when posting, it also raises the emergency cases unreviewed past their
/// deadline. Returns the ids posted when `until_block` is reached.
///
/// # Errors
/// The node failed, or refused alerts.
pub async fn watch(w: Watcher<'_>, options: WatchOptions) -> Result<Vec<AlertId>> {
    let caller = ehr_client::account_of(w.account);
    let mut posted: Vec<AuditAlert> =
        raised_alerts(w.node, w.scores, &caller).await?.into_iter().map(|stored| stored.alert).collect();
    let mut history: Vec<AuditLine> = Vec::new();
    let mut cursor = options.from;
    // Every window of every accessor, on windows that stay put as old decisions are dropped.
    let mut config = DetectorConfig { all_windows: true, ..options.config.clone() };
    let mut ids = Vec::new();
    loop {
        let head = match options.follow {
            Follow::Best => w.node.best_block().await?.0,
            Follow::Finalized => w.node.finalized_block().await?.0,
        };
        let head = options.until_block.map_or(head, |until| head.min(until));
        if head >= cursor {
            let mut buffer = Vec::new();
            let exported = export(w.node, w.records, w.registry, cursor, Some(head), &mut buffer).await?;
            cursor = head.saturating_add(1);
            if exported.lines > 0 {
                history.extend(read_numbered_lines(buffer.as_slice())?.into_iter().map(|(_, line)| line));
                config.origin_ms = config.origin_ms.or(history.first().map(|line| line.time_ms));
                let newest = history.last().map_or(0, |line| line.time_ms);
                history.retain(|line| newest.saturating_sub(line.time_ms) <= options.history_ms);
                // Emergency reads reviewed since they were read count as reviewed now.
                refresh_reviews(w.node, w.records, &mut history, head).await?;
                let reports = ehr_audit::detect(&history, &config);
                let alerts = new_alerts(&reports, &posted, &config)?;
                tracing::info!(
                    blocks = exported.blocks,
                    decisions = exported.lines,
                    scored = history.len(),
                    flagged = reports.iter().filter(|r| r.flagged).count(),
                    new = alerts.len(),
                    "scored the trail up to block {head}"
                );
                if options.post && !alerts.is_empty() {
                    let raised = post_all(w.node, w.scores, w.key, w.account, &alerts).await?;
                    for (id, alert) in raised.iter().zip(&alerts) {
                        tracing::info!("{}", describe(*id, alert));
                    }
                    ids.extend(raised);
                    posted.extend(alerts);
                } else {
                    for alert in &alerts {
                        tracing::info!("flagged (not posted): {}", describe(0, alert));
                    }
                    posted.extend(alerts);
                }
            }
        }
        if options.post {
            let raised = w.node.raise_overdue(w.records, w.account).await?;
            if raised > 0 {
                tracing::info!("raised {raised} emergency case(s) unreviewed past their deadline");
            }
        }
        if options.until_block.is_some_and(|until| cursor > until) {
            return Ok(ids);
        }
        tokio::time::sleep(options.poll).await;
    }
}

#[cfg(test)]
mod tests {
    use ehr_audit::detect::{FeatureScore, Window};

    use super::*;

    fn report(accessor: &AccountId, score: f64, codes: &[&str], from_ms: u64) -> AccessorReport {
        AccessorReport {
            accessor: ss58(accessor),
            role: "Doctor".into(),
            score,
            flagged: score >= 0.35,
            window: Window { from_block: 1, to_block: 9, from_ms, to_ms: from_ms + 1_000 },
            reasons: Vec::new(),
            reason_codes: codes.iter().map(|c| c.to_string()).collect(),
            requests: 10,
            features: vec![FeatureScore { name: "denied", value: 5.0, median: 0.0, z: 2.0 }],
            windows: Vec::new(),
        }
    }

    #[test]
    fn a_flagged_report_becomes_a_valid_alert_with_its_reason_codes() {
        let a = AccountId::from([1; 32]);
        let config = DetectorConfig::default();
        let alert =
            alerts_of(&report(&a, 0.71, &["outsiders", "patients"], 5_000), &config).unwrap().remove(0);
        assert_eq!(alert.accessor, a);
        assert_eq!((alert.window_start_ms, alert.window_end_ms, alert.score_bucket), (5_000, 6_001, 8));
        assert_eq!(alert.reasons.reasons(), vec![AlertReason::Patients, AlertReason::Outsiders]);
        assert!(alert.is_valid());
        // No named reason: the feature with the highest z.
        let alert = alerts_of(&report(&a, 0.36, &[], 5_000), &config).unwrap().remove(0);
        assert_eq!(alert.reasons.reasons(), vec![AlertReason::Denied]);
        assert_eq!(alert.score_bucket, 4);
        for reason in AlertReason::ALL {
            assert_eq!(reason_of(reason.code()), Some(reason));
        }
    }

    #[test]
    fn each_accessors_window_is_posted_once() {
        let (a, b) = (AccountId::from([1; 32]), AccountId::from([2; 32]));
        let reports = vec![report(&a, 0.8, &["patients"], 5_000), report(&b, 0.2, &["patients"], 5_000)];
        let config = DetectorConfig::default();
        let first = new_alerts(&reports, &[], &config).unwrap();
        assert_eq!(first.iter().map(|x| x.accessor).collect::<Vec<_>>(), vec![a], "flagged only");
        assert!(new_alerts(&reports, &first, &config).unwrap().is_empty(), "the same window again");
        let later = vec![report(&a, 0.8, &["patients"], 900_000)];
        assert_eq!(new_alerts(&later, &first, &config).unwrap().len(), 1, "a later window");
        // With every window reported, a lower but flagged later window is posted too.
        let mut both = report(&a, 0.8, &["patients"], 5_000);
        let window = |from_ms, score| ehr_audit::detect::WindowScore {
            window: Window { from_block: 1, to_block: 2, from_ms, to_ms: from_ms + 1_000 },
            score,
            features: vec![FeatureScore { name: "outsiders", value: 9.0, median: 0.0, z: 6.0 }],
        };
        both.windows = vec![window(5_000, 0.8), window(900_000, 0.4), window(1_800_000, 0.1)];
        let alerts = new_alerts(&[both], &first, &config).unwrap();
        assert_eq!(alerts.iter().map(|x| x.window_start_ms).collect::<Vec<_>>(), vec![900_000]);
        assert_eq!(alerts[0].reasons.reasons(), vec![AlertReason::Outsiders]);
    }
}
