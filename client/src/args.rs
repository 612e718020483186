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
