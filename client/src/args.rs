//! The command-line options every binary of the project shares (`ai-oracle`, `ehr`,
//! `ehr-vault`): where the chain and the deployed contracts are.

use std::path::PathBuf;

/// Where the chain and the deployed contracts are.
#[derive(Debug, Clone, clap::Args)]
pub struct ChainArgs {
    /// The node's RPC URL.
    #[arg(long, env = "EHR_NODE_URL", default_value = "ws://127.0.0.1:9944")]
    pub node: String,
    /// The deployment file of the contracts (`ai-oracle deploy` writes it).
    #[arg(long, env = "EHR_DEPLOYMENT", default_value = "deployment.json")]
    pub deployment: PathBuf,
    /// Folder of the contracts' release `.contract` bundles (scripts/build-contracts.sh).
    #[arg(long, env = "EHR_ARTIFACTS_DIR", default_value = "target/contracts")]
    pub artifacts: PathBuf,
}

/// A range of blocks to read events from.
#[derive(Debug, Clone, Copy, clap::Args)]
pub struct BlockRange {
    /// First block to read (e.g. the deployment's block).
    #[arg(long, default_value_t = 0)]
    pub from: u32,
    /// Last block to read (default: the best block).
    #[arg(long)]
    pub to: Option<u32>,
}
