//! End-to-end tests against a real substrate-contracts-node process.
//!
//! Each test starts its own dev node (`ehr_client::dev_node`; `EHR_NODE_URL` reuses a running
//! one instead), deploys the release artifacts of `target/contracts` and drives them with real
//! signed extrinsics from the dev accounts: Alice is the admin, Bob and Ferdie patients, Charlie
//! a doctor, Dave a second doctor, Eve the oracle's account. The oracle itself runs as the
//! `ai-oracle` binary (built by `cargo build -p ai-oracle`, which `scripts/test.sh` does first).

mod audit;
mod cli;
mod emergency;
mod oracle;
mod roles;
mod seed;
mod upgrade;
mod vault;

use std::{
    path::{Path, PathBuf},
    process::Command,
};

use ehr_client::{
    account_of, deploy::Deployment, dev_node::DevNode, keypair, ContractRef, DryRun, EhrEvent, Keypair, Node,
    Submitted,
};
use ehr_types::AccountId;
use ink::scale::{Decode, Encode};

/// Where the e2e tests write logs, stores, state files and the measured weights.
pub fn work_dir(test: &str) -> PathBuf {
    let dir = ehr_sandbox::artifacts_dir().join("..").join("e2e").join(test);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("creating the e2e work dir");
    dir
}

/// The `ai-oracle` binary: `$AI_ORACLE_BIN`, else `<target>/debug/ai-oracle`.
pub fn oracle_bin() -> PathBuf {
    let path = std::env::var_os("AI_ORACLE_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| ehr_sandbox::artifacts_dir().join("..").join("debug").join("ai-oracle"));
    assert!(path.exists(), "{} is missing: build it with `cargo build -p ai-oracle`", path.display());
    path
}

/// Runs `ai-oracle` with `args` in `dir`; returns (success, stdout + stderr).
pub fn oracle_cli(dir: &Path, args: &[&str]) -> (bool, String) {
    let output = Command::new(oracle_bin())
        .args(args)
        .current_dir(dir)
        .env("EHR_ARTIFACTS_DIR", ehr_sandbox::artifacts_dir())
        .output()
        .expect("running ai-oracle");
    let text =
        format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    (output.status.success(), text)
}

/// The dev accounts of the cast.
pub struct Cast {
    pub admin: Keypair,
    pub patient: Keypair,
    pub other_patient: Keypair,
    pub doctor: Keypair,
    pub other_doctor: Keypair,
    pub oracle: Keypair,
}

impl Cast {
    fn dev() -> Self {
        Cast {
            admin: keypair("//Alice").unwrap(),
            patient: keypair("//Bob").unwrap(),
            other_patient: keypair("//Ferdie").unwrap(),
            doctor: keypair("//Charlie").unwrap(),
            other_doctor: keypair("//Dave").unwrap(),
            oracle: keypair("//Eve").unwrap(),
        }
    }
}

/// A node with the suite deployed on it.
pub struct Suite {
    pub node: Node,
    pub dev_node: DevNode,
    pub deployment: Deployment,
    pub registry: ContractRef,
    pub records: ContractRef,
    pub scores: ContractRef,
    pub cast: Cast,
}

/// Starts a node for `test` (its log in `dir`).
pub async fn start_node(dir: &Path) -> (DevNode, Node) {
    let dev_node = DevNode::start(dir).expect("starting substrate-contracts-node");
    let node =
        Node::connect(dev_node.url()).await.unwrap_or_else(|err| panic!("{err:#}\n{}", dev_node.log_tail()));
    (dev_node, node)
}

/// The upgrade time-lock, in blocks, of the suites the tests deploy.
pub const UPGRADE_DELAY: u32 = 3;

impl Suite {
    /// A fresh node with the suite deployed by the admin through `ehr_client::deploy`.
    pub async fn deploy(dir: &Path) -> Suite {
        let (dev_node, node) = start_node(dir).await;
        let cast = Cast::dev();
        let artifacts = ehr_sandbox::artifacts_dir();
        let (deployment, _) = ehr_client::deploy::deploy_or_reuse(
            &node,
            &artifacts,
            &cast.admin,
            &dir.join("deployment.json"),
            UPGRADE_DELAY,
            None,
        )
        .await
        .unwrap_or_else(|err| panic!("deploying: {err:#}"));
        Suite::open(dev_node, node, deployment, cast)
    }

    /// The suite of an existing deployment.
    pub fn open(dev_node: DevNode, node: Node, deployment: Deployment, cast: Cast) -> Suite {
        let artifacts = ehr_sandbox::artifacts_dir();
        Suite {
            registry: deployment.contract(&artifacts, "provider_registry").unwrap(),
            records: deployment.contract(&artifacts, "patient_records").unwrap(),
            scores: deployment.contract(&artifacts, "risk_scores").unwrap(),
            node,
            dev_node,
            deployment,
            cast,
        }
    }

    /// Submits a state-changing message; panics on a chain-level failure.
    pub async fn submit<A: Encode, R: Decode>(
        &self,
        contract: &ContractRef,
        signer: &Keypair,
        message: &str,
        args: A,
    ) -> Submitted<R> {
        self.node
            .submit(contract, signer, message, &args)
            .await
            .unwrap_or_else(|err| panic!("{}::{message}: {err:#}", contract.name))
    }

    /// Dry-runs a query as `caller`.
    pub async fn query<A: Encode, R: Decode>(
        &self,
        contract: &ContractRef,
        caller: &Keypair,
        message: &str,
        args: A,
    ) -> DryRun<R> {
        self.node
            .dry_run(contract, &account_of(caller), message, &args)
            .await
            .unwrap_or_else(|err| panic!("{}::{message}: {err:#}", contract.name))
    }
}

/// The account of a keypair.
pub fn id(k: &Keypair) -> AccountId {
    account_of(k)
}

/// Asserts that a call was included with `value` and emitted exactly `events`.
#[track_caller]
pub fn assert_included<R: PartialEq + std::fmt::Debug>(call: &Submitted<R>, value: R, events: Vec<EhrEvent>) {
    assert_eq!(call.value(), &value);
    let included = call.included.as_ref().expect("the call was included");
    assert_eq!(included.events, events);
    assert!(included.fee_paid > 0, "a fee was paid");
}

/// Asserts that a call's dry-run reverted with `error` and nothing was sent.
#[track_caller]
pub fn assert_refused<T: PartialEq + std::fmt::Debug, E: PartialEq + std::fmt::Debug>(
    call: &Submitted<Result<T, E>>,
    error: E,
) {
    assert_eq!(call.value().as_ref().err(), Some(&error));
    assert!(call.dry_run.reverted, "an Err reverts");
    assert!(call.included.is_none(), "a reverting call is not sent");
}
