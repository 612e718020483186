//! Drink harness for the EHR contracts.
//!
//! Loads the release `.contract` bundles built by `scripts/build-contracts.sh` into an
//! in-process chain (drink's `MinimalSandbox`, pallet-contracts 31) and calls them with typed
//! SCALE: arguments are encoded and results decoded with the types of `ehr-types`, the very
//! types the contracts use, and message selectors come from each bundle's own metadata. Every
//! contract event a call emits is decoded into [`EhrEvent`]; gas and storage deposit are kept
//! for the benchmarks.

pub mod ehr;
pub mod v1;

use std::{collections::HashMap, fmt, path::PathBuf};

use drink::{
    minimal::{MinimalSandbox, RuntimeEvent},
    pallet_contracts::{self, Determinism, StorageDeposit},
    sandbox_api::prelude::*,
    session::{ContractBundle, Session},
    AccountId32, Sandbox, Weight,
};
pub use ehr_types::decode::{short_account, short_hex, EhrEvent, RawEvent};
use ink::{
    primitives::AccountId,
    scale::{Decode, DecodeAll, Encode},
    MessageResult,
};

pub use ehr::Ehr;

/// Balance every test account starts with.
const ACCOUNT_FUNDS: u128 = 1_000_000_000_000_000;

/// Folder with the release artifacts (`NAME.contract`, `NAME.wasm`, `NAME.json`):
/// `$EHR_ARTIFACTS_DIR`, else `$CARGO_TARGET_DIR/contracts`, else `<workspace>/target/contracts`.
pub fn artifacts_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("EHR_ARTIFACTS_DIR") {
        return PathBuf::from(dir);
    }
    let target = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| {
        let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
        workspace.canonicalize().unwrap_or(workspace).join("target")
    });
    target.join("contracts")
}

/// Folder of the first release's bundles (storage version 1), kept as test fixtures for the
/// upgrade tests: `tests/fixtures/v1` (its README names the source commit and code hashes).
pub fn v1_fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures").join("v1")
}

/// Loads the bundle of contract `name` from [`artifacts_dir`].
pub fn load_bundle(name: &str) -> ContractBundle {
    load_bundle_from(&artifacts_dir().join(format!("{name}.contract")))
}

/// Loads the bundle at `path`.
pub fn load_bundle_from(path: &std::path::Path) -> ContractBundle {
    ContractBundle::load(path).unwrap_or_else(|err| {
        panic!(
            "cannot load {}: {err:?}\nbuild the contracts first: scripts/build-contracts.sh",
            path.display()
        )
    })
}

/// The drink account of an ink! account id.
pub fn to_account32(account: AccountId) -> AccountId32 {
    AccountId32::new(*AsRef::<[u8; 32]>::as_ref(&account))
}

/// The ink! account id of a drink account.
pub fn to_account(account: &AccountId32) -> AccountId {
    AccountId::from(*AsRef::<[u8; 32]>::as_ref(account))
}

/// A deployed contract: its address and its messages' selectors, read from its metadata.
#[derive(Clone)]
pub struct Contract {
    /// Contract name (the bundle's file stem).
    pub name: String,
    /// On-chain address.
    pub address: AccountId,
    selectors: HashMap<String, [u8; 4]>,
}

impl Contract {
    /// The contract `name` at `address`, with the messages of `bundle`.
    pub fn from_bundle(name: &str, address: AccountId, bundle: &ContractBundle) -> Contract {
        let selectors = bundle
            .transcoder
            .metadata()
            .spec()
            .messages()
            .iter()
            .map(|m| {
                let selector: [u8; 4] = m.selector().to_bytes().try_into().expect("4-byte selector");
                (m.label().clone(), selector)
            })
            .collect();
        Contract { name: name.to_string(), address, selectors }
    }

    /// The same contract seen through the current release's metadata (after an upgrade).
    pub fn current(&self) -> Contract {
        Contract::from_bundle(&self.name, self.address, &load_bundle(&self.name))
    }

    /// The selector of `message`, as the contract's metadata gives it.
    pub fn selector(&self, message: &str) -> [u8; 4] {
        *self
            .selectors
            .get(message)
            .unwrap_or_else(|| panic!("{} has no message `{message}` in its metadata", self.name))
    }
}

/// The result of one contract call.
#[derive(Debug, Clone)]
pub struct Call<R> {
    /// The message's decoded return value.
    pub value: R,
    /// Whether the contract reverted its state changes (ink! does so on `Err`).
    pub reverted: bool,
    /// Decoded events, in emission order. Empty when reverted: a revert drops events.
    pub events: Vec<EhrEvent>,
    /// The same events as they appeared on chain (topics and data).
    pub raw_events: Vec<RawEvent>,
    /// Weight the call consumed.
    pub gas_consumed: Weight,
    /// Weight the call needs as its gas limit.
    pub gas_required: Weight,
    /// Storage deposit charged (positive) or refunded (negative).
    pub storage_deposit: i128,
}

/// A call that failed at the chain level (trap, out of gas, no such contract): never a
/// legitimate outcome of a message, whatever its input.
#[derive(Debug)]
pub struct CallFailed {
    /// The message.
    pub message: String,
    /// The dispatch error.
    pub error: String,
    /// The contract's debug buffer (panic messages).
    pub debug: String,
}

impl fmt::Display for CallFailed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}` failed: {} (debug: {})", self.message, self.error, self.debug)
    }
}

/// An in-process chain with the contracts deployed on it.
pub struct Chain {
    session: Session<MinimalSandbox>,
    deployments: u32,
}

impl Default for Chain {
    fn default() -> Self {
        Self::new()
    }
}

impl Chain {
    /// A fresh chain at block 1.
    pub fn new() -> Self {
        let mut chain = Chain { session: Session::default(), deployments: 0 };
        chain.sync_clock();
        chain
    }

    /// Sets the block's timestamp to the wall clock in milliseconds, as a real chain has it (the
    /// sandbox sets seconds at every block).
    fn sync_clock(&mut self) {
        let now_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or_default();
        self.session.sandbox().set_timestamp(now_ms);
    }

    /// The current block's timestamp (ms).
    pub fn timestamp(&mut self) -> u64 {
        self.session.sandbox().get_timestamp()
    }

    /// The drink session, for what the harness does not wrap.
    pub fn session(&mut self) -> &mut Session<MinimalSandbox> {
        &mut self.session
    }

    /// A funded account derived from `name`.
    pub fn account(&mut self, name: &str) -> AccountId {
        let mut seed = [0u8; 32];
        ink::env::hash_bytes::<ink::env::hash::Blake2x256>(name.as_bytes(), &mut seed);
        let account = AccountId32::new(seed);
        self.session.sandbox().mint_into(&account, ACCOUNT_FUNDS).expect("minting test funds");
        to_account(&account)
    }

    /// Deploys the release bundle of contract `name` with `constructor` and its arguments
    /// (in the metadata transcoder's text form), signed by `deployer`.
    pub fn deploy(
        &mut self,
        name: &str,
        constructor: &str,
        args: &[String],
        deployer: AccountId,
    ) -> Contract {
        self.deploy_bundle(name, load_bundle(name), constructor, args, deployer)
    }

    /// Deploys `bundle` (of contract `name`) with `constructor` and its arguments.
    pub fn deploy_bundle(
        &mut self,
        name: &str,
        bundle: ContractBundle,
        constructor: &str,
        args: &[String],
        deployer: AccountId,
    ) -> Contract {
        self.deployments += 1;
        let salt = self.deployments.to_le_bytes().to_vec();
        self.session.set_actor(to_account32(deployer));
        let template = Contract::from_bundle(name, AccountId::from([0; 32]), &bundle);
        let address = self
            .session
            .deploy_bundle(bundle, constructor, args, salt, None)
            .unwrap_or_else(|err| panic!("deploying {name}: {err:?}"));
        Contract { address: to_account(&address), ..template }
    }

    /// Uploads the current release's code of contract `name`, signed by `uploader`; returns
    /// its code hash.
    pub fn upload(&mut self, name: &str, uploader: AccountId) -> [u8; 32] {
        self.upload_wasm(load_bundle(name).wasm, uploader)
    }

    /// Uploads `wasm`; returns its code hash.
    pub fn upload_wasm(&mut self, wasm: Vec<u8>, uploader: AccountId) -> [u8; 32] {
        self.session.set_actor(to_account32(uploader));
        let hash = self.session.upload(wasm).unwrap_or_else(|err| panic!("uploading code: {err:?}"));
        hash.0
    }

    /// The code hash `contract` runs.
    pub fn code_hash_of(&mut self, contract: &Contract) -> [u8; 32] {
        let address = to_account32(contract.address);
        self.session.sandbox().execute_with(|| {
            pallet_contracts::Pallet::<drink::minimal::MinimalSandboxRuntime>::code_hash(&address)
                .expect("a contract")
                .0
        })
    }

    /// What the chain's root (sudo, governance) can do to any contract: switch its code with
    /// `Contracts::set_code`. The only way to upgrade a first-release contract, which has no
    /// upgrade message.
    pub fn root_set_code(&mut self, contract: &Contract, code_hash: [u8; 32]) -> Result<(), String> {
        self.set_code_as(None, contract, code_hash)
    }

    /// `Contracts::set_code` dispatched by `origin` (`None`: the chain's root).
    pub fn set_code_as(
        &mut self,
        origin: Option<AccountId>,
        contract: &Contract,
        code_hash: [u8; 32],
    ) -> Result<(), String> {
        let address = to_account32(contract.address);
        let origin = match origin {
            None => drink::minimal::RuntimeOrigin::root(),
            Some(account) => drink::minimal::RuntimeOrigin::signed(to_account32(account)),
        };
        self.session.sandbox().execute_with(|| {
            pallet_contracts::Pallet::<drink::minimal::MinimalSandboxRuntime>::set_code(
                origin,
                address.into(),
                code_hash.into(),
            )
            .map_err(|err| format!("{err:?}"))
        })
    }

    /// Calls `message` of `contract` as `caller` with SCALE-encoded `args` (a tuple of the
    /// message's parameters, or `()`), and decodes its return value as `R`.
    pub fn try_call<A: Encode, R: Decode>(
        &mut self,
        contract: &Contract,
        caller: AccountId,
        message: &str,
        args: A,
    ) -> Result<Call<R>, CallFailed> {
        let mut input = contract.selector(message).to_vec();
        args.encode_to(&mut input);
        let gas_limit = self.session.get_gas_limit();
        // Events accumulate per block; this call's are those appended during it.
        let events_before = self.session.sandbox().events().len();
        let result = self.session.sandbox().call_contract(
            to_account32(contract.address),
            0,
            input,
            to_account32(caller),
            gas_limit,
            None,
            Determinism::Enforced,
        );
        let debug = String::from_utf8_lossy(&result.debug_message).into_owned();
        let exec = result.result.map_err(|err| CallFailed {
            message: message.to_string(),
            error: format!("{err:?}"),
            debug: debug.clone(),
        })?;
        let value = MessageResult::<R>::decode_all(&mut &exec.data[..])
            .map_err(|err| CallFailed {
                message: message.to_string(),
                error: format!("undecodable return value: {err}"),
                debug: debug.clone(),
            })?
            .map_err(|lang| CallFailed {
                message: message.to_string(),
                error: format!("ink! language error {lang:?}"),
                debug: debug.clone(),
            })?;
        let raw_events: Vec<RawEvent> = self.session.sandbox().events()[events_before..]
            .iter()
            .cloned()
            .filter_map(|record| match record.event {
                RuntimeEvent::Contracts(pallet_contracts::Event::ContractEmitted { contract, data }) => {
                    Some(RawEvent {
                        contract: to_account(&contract),
                        topics: record.topics.iter().map(|t| t.0).collect(),
                        data,
                    })
                }
                _ => None,
            })
            .collect();
        let events = raw_events
            .iter()
            .filter_map(|raw| EhrEvent::decode(raw).unwrap_or_else(|err| panic!("{err}")))
            .collect();
        let storage_deposit = match result.storage_deposit {
            StorageDeposit::Charge(amount) => amount as i128,
            StorageDeposit::Refund(amount) => -(amount as i128),
        };
        Ok(Call {
            value,
            reverted: exec.did_revert(),
            events,
            raw_events,
            gas_consumed: result.gas_consumed,
            gas_required: result.gas_required,
            storage_deposit,
        })
    }

    /// [`Chain::try_call`], failing the test when the call fails at the chain level.
    pub fn call<A: Encode, R: Decode>(
        &mut self,
        contract: &Contract,
        caller: AccountId,
        message: &str,
        args: A,
    ) -> Call<R> {
        self.try_call(contract, caller, message, args).unwrap_or_else(|err| panic!("{err}"))
    }

    /// The current block number.
    pub fn block_number(&mut self) -> u32 {
        self.session.sandbox().block_number()
    }

    /// Builds `n` blocks; returns the new block number.
    pub fn advance_blocks(&mut self, n: u32) -> u32 {
        let block = self.session.sandbox().build_blocks(n);
        self.sync_clock();
        block
    }
}
