//! The operator's view of `run`: Prometheus metrics (`prometheus-client`, OpenMetrics text) and
//! a health check, served over HTTP (axum) on `--metrics-listen`.
//!
//! | metric | kind | what |
//! |---|---|---|
//! | `oracle_records_seen_total` | counter | records queued from the chain |
//! | `oracle_records_scored_total` | counter | scores accepted on chain |
//! | `oracle_records_refused_total{reason}` | counter | attestations the contract refused, by reason |
//! | `oracle_records_waiting_total{reason}` | counter | retries scheduled (no consent, no document, …) |
//! | `oracle_records_pending` | gauge | records waiting in the queue |
//! | `oracle_batch_latency_seconds` | histogram | submit-to-settled time of a batch |
//! | `oracle_last_block` | gauge | the last block followed |
//!
//! Labels carry reasons only: never a patient, a record or a score.

use std::{net::SocketAddr, sync::Arc};

use anyhow::{Context, Result};
use axum::{extract::State, http::header, response::IntoResponse, routing::get, Router};
use prometheus_client::{
    encoding::{text::encode, EncodeLabelSet},
    metrics::{counter::Counter, family::Family, gauge::Gauge, histogram::Histogram},
    registry::Registry,
};

/// A reason label.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Reason {
    /// Why (the contract's error, or what the record waits for).
    pub reason: String,
}

/// The oracle's metrics.
pub struct Metrics {
    registry: Registry,
    /// Records queued from the chain.
    pub seen: Counter,
    /// Scores accepted on chain.
    pub scored: Counter,
    /// Attestations refused by the contract, by reason.
    pub refused: Family<Reason, Counter>,
    /// Retries scheduled, by reason.
    pub waiting: Family<Reason, Counter>,
    /// Records waiting in the queue.
    pub pending: Gauge,
    /// Submit-to-settled time of a batch, seconds.
    pub batch_latency: Histogram,
    /// The last block followed.
    pub last_block: Gauge,
    /// Sealed reports of accepted scores stored in the vault.
    pub reports_uploaded: Counter,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Fresh metrics, registered.
    pub fn new() -> Self {
        let mut registry = Registry::default();
        let (seen, scored, pending, last_block) =
            (Counter::default(), Counter::default(), Gauge::default(), Gauge::default());
        let refused = Family::<Reason, Counter>::default();
        let waiting = Family::<Reason, Counter>::default();
        let batch_latency = Histogram::new([0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0]);
        registry.register("oracle_records_seen", "Records queued from the chain", seen.clone());
        registry.register("oracle_records_scored", "Scores accepted on chain", scored.clone());
        registry.register(
            "oracle_records_refused",
            "Attestations the contract refused, by reason",
            refused.clone(),
        );
        registry.register("oracle_records_waiting", "Retries scheduled, by reason", waiting.clone());
        registry.register("oracle_records_pending", "Records waiting in the queue", pending.clone());
        registry.register(
            "oracle_batch_latency_seconds",
            "Submit-to-settled time of a signed batch",
            batch_latency.clone(),
        );
        registry.register("oracle_last_block", "The last block followed", last_block.clone());
        let reports_uploaded = Counter::default();
        registry.register(
            "oracle_reports_uploaded",
            "Sealed reports of accepted scores stored in the vault",
            reports_uploaded.clone(),
        );
        Metrics {
            registry,
            seen,
            scored,
            refused,
            waiting,
            pending,
            batch_latency,
            last_block,
            reports_uploaded,
        }
    }

    /// The metrics in the OpenMetrics text format.
    pub fn encode(&self) -> String {
        let mut text = String::new();
        // Writing to a String cannot fail.
        let _ = encode(&mut text, &self.registry);
        text
    }

    /// Counts a reason in `family`.
    pub fn count(family: &Family<Reason, Counter>, reason: &str) {
        family.get_or_create(&Reason { reason: reason.to_string() }).inc();
    }
}

async fn metrics_text(State(metrics): State<Arc<Metrics>>) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")], metrics.encode())
}

async fn health(State(metrics): State<Arc<Metrics>>) -> impl IntoResponse {
    axum::Json(serde_json::json!({ "status": "ok", "last_block": metrics.last_block.get() }))
}

/// Serves `/metrics` and `/health` on `listen` in the background; returns the bound address.
pub async fn serve(listen: SocketAddr, metrics: Arc<Metrics>) -> Result<SocketAddr> {
    let listener =
        tokio::net::TcpListener::bind(listen).await.with_context(|| format!("binding {listen}"))?;
    let addr = listener.local_addr()?;
    let app =
        Router::new().route("/metrics", get(metrics_text)).route("/health", get(health)).with_state(metrics);
    tokio::spawn(async move {
        if let Err(err) = axum::serve(listener, app).await {
            tracing::error!("the metrics server stopped: {err}");
        }
    });
    Ok(addr)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_encode_with_reasons_only() {
        let m = Metrics::new();
        m.seen.inc_by(3);
        m.scored.inc();
        Metrics::count(&m.refused, "StaleNonce");
        m.last_block.set(42);
        let text = m.encode();
        assert!(text.contains("oracle_records_seen_total 3"), "{text}");
        assert!(text.contains("oracle_records_scored_total 1"), "{text}");
        assert!(text.contains("oracle_records_refused_total{reason=\"StaleNonce\"} 1"), "{text}");
        assert!(text.contains("oracle_last_block 42"), "{text}");
    }
}
