//! A standard client with our metadata: `cargo contract instantiate` and `cargo contract call`.

use std::process::Command;

use ehr_client::{ss58, ContractRef};
use ehr_types::{ProviderInfo, ProviderRole};

use crate::{id, start_node, work_dir, Cast};

fn cargo_contract(args: &[&str]) -> String {
    let output = Command::new("cargo").arg("contract").args(args).output().expect("running cargo contract");
    let text =
        format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "cargo contract {}: {text}", args.join(" "));
    text
}

#[tokio::test(flavor = "multi_thread")]
async fn cargo_contract_cli_instantiates_and_calls_the_registry() {
    let dir = work_dir("cargo-contract");
    let (dev_node, node) = start_node(&dir).await;
    let url = dev_node.url().to_string();
    let bundle = ehr_sandbox::artifacts_dir().join("provider_registry.contract");
    let bundle = bundle.to_str().unwrap();

    let out = cargo_contract(&[
        "instantiate",
        bundle,
        "--constructor",
        "new",
        "--args",
        "14400",
        "--suri",
        "//Alice",
        "--url",
        &url,
        "--execute",
        "--skip-confirm",
        "--output-json",
    ]);
    let json_start = out.find('{').expect("JSON output");
    let value: serde_json::Value =
        serde_json::from_str(&out[json_start..]).unwrap_or_else(|e| panic!("{e}: {out}"));
    let address = value["contract"].as_str().expect("the contract address").to_string();

    let doctor = ss58(&id(&Cast::dev().doctor));
    cargo_contract(&[
        "call",
        bundle,
        "--contract",
        &address,
        "--message",
        "register_provider",
        "--args",
        &doctor,
        "Doctor",
        "--suri",
        "//Alice",
        "--url",
        &url,
        "--execute",
        "--skip-confirm",
    ]);
    let out = cargo_contract(&[
        "call",
        bundle,
        "--contract",
        &address,
        "--message",
        "ProviderDirectory::provider",
        "--args",
        &doctor,
        "--suri",
        "//Bob",
        "--url",
        &url,
    ]);
    assert!(out.contains("Doctor") && out.contains("Active"), "{out}");

    // Our client reads the same state.
    let registry = ContractRef::load(
        &ehr_sandbox::artifacts_dir(),
        "provider_registry",
        ehr_client::parse_account(&address).unwrap(),
    )
    .unwrap();
    let info: Option<ProviderInfo> = node
        .dry_run(
            &registry,
            &id(&Cast::dev().patient),
            "ProviderDirectory::provider",
            &(id(&Cast::dev().doctor),),
        )
        .await
        .unwrap()
        .value;
    assert_eq!(info.map(|i| i.role), Some(ProviderRole::Doctor));
}
