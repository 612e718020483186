//! `ehr-vault`: the encrypted record vault's HTTP service.

use std::{net::SocketAddr, path::PathBuf};

use anyhow::Result;
use clap::Parser;
use ehr_client::args::ChainArgs;
use ehr_vault::server::{serve, Config};

/// The encrypted record vault: stores envelopes and releases them with the caller's wrapped key
/// only to the patient or to a reader with consent now and an audited request on chain.
#[derive(Parser)]
#[command(version)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8470")]
    listen: SocketAddr,
    #[command(flatten)]
    chain: ChainArgs,
    /// Folder of the index and, by default, of the envelopes (created if missing).
    #[arg(long, default_value = "vault-data")]
    data: PathBuf,
    /// Keep envelopes in an S3-compatible bucket, `s3://BUCKET`, instead of DATA/blobs.
    /// Credentials, region and endpoint come from the environment: AWS_ACCESS_KEY_ID,
    /// AWS_SECRET_ACCESS_KEY, AWS_REGION, AWS_ENDPOINT (e.g. a MinIO or Ceph gateway) and
    /// AWS_ALLOW_HTTP=true for a plain-HTTP endpoint.
    #[arg(long, value_name = "URL")]
    blobs: Option<String>,
    /// Blocks within which a reader's granted `request_access` must be.
    #[arg(long, default_value_t = 10)]
    audit_window: u32,
    /// Largest request body, in bytes (an envelope is sent as hex: twice its size).
    #[arg(long, default_value_t = 4 * 1024 * 1024)]
    max_body_bytes: usize,
    /// Largest clock skew of a signed request, in milliseconds.
    #[arg(long, default_value_t = ehr_vault::auth::DEFAULT_MAX_SKEW_MS)]
    max_skew_ms: u64,
    /// The institution's emergency X25519 key file (`ehr keygen --key-out`; its public half
    /// published with `ehr admin emergency-key`): with it, the vault re-wraps the records of
    /// opted-in patients for a Doctor under open, audited emergency access.
    #[arg(long, env = "EHR_VAULT_EMERGENCY_KEY", value_name = "FILE")]
    emergency_key: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    let config = Config {
        node: args.chain.node,
        deployment: args.chain.deployment,
        artifacts: args.chain.artifacts,
        data: args.data,
        blobs: args.blobs,
        audit_window: args.audit_window,
        max_body_bytes: args.max_body_bytes,
        max_skew_ms: args.max_skew_ms,
        emergency_key: args.emergency_key,
    };
    serve(config, args.listen).await
}
