//! Drink harness for the EHR contracts.
//!
//! Loads the release `.contract` bundles built by `scripts/build-contracts.sh` into an
//! in-process chain (drink's `MinimalSandbox`, pallet-contracts 31) and calls them with typed
//! SCALE: arguments are encoded and results decoded with the types of `ehr-types`, the very
//! types the contracts use, and message selectors come from each bundle's own metadata. Every
//! contract event a call emits is decoded into [`EhrEvent`]; gas and storage deposit are kept
//! for the benchmarks.

pub mod ehr;

use std::{collections::HashMap, fmt, path::PathBuf};

use drink::{
    minimal::{MinimalSandbox, RuntimeEvent},
    pallet_contracts::{self, Determinism, StorageDeposit},
    sandbox_api::prelude::*,
    session::{ContractBundle, Session},
    AccountId32, Weight,
};
use ehr_types::events;
use ink::{
    env::Event as _,
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

/// Loads the bundle of contract `name` from [`artifacts_dir`].
pub fn load_bundle(name: &str) -> ContractBundle {
    let path = artifacts_dir().join(format!("{name}.contract"));
    ContractBundle::load(&path).unwrap_or_else(|err| {
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
    /// The selector of `message`, as the contract's metadata gives it.
    pub fn selector(&self, message: &str) -> [u8; 4] {
        *self
            .selectors
            .get(message)
            .unwrap_or_else(|| panic!("{} has no message `{message}` in its metadata", self.name))
    }
}

/// A contract event as it appeared on chain: emitting contract, topics and data.
#[derive(Debug, Clone)]
pub struct RawEvent {
    /// Emitting contract.
    pub contract: AccountId,
    /// Topics; the first is the event's signature topic.
    pub topics: Vec<[u8; 32]>,
    /// SCALE-encoded event.
    pub data: Vec<u8>,
}

macro_rules! ehr_events {
    ($($name:ident),* $(,)?) => {
        /// Every event the EHR contracts emit, decoded with the shared types.
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub enum EhrEvent {
            $(
                #[allow(missing_docs)]
                $name(events::$name),
            )*
        }

        impl EhrEvent {
            /// Decodes a raw contract event by its signature topic; `None` for unknown events.
            pub fn decode(raw: &RawEvent) -> Option<Self> {
                let signature = *raw.topics.first()?;
                $(
                    if Some(signature) == events::$name::SIGNATURE_TOPIC {
                        let event = events::$name::decode_all(&mut &raw.data[..])
                            .unwrap_or_else(|err| panic!("undecodable {} event: {err}", stringify!($name)));
                        return Some(EhrEvent::$name(event));
                    }
                )*
                None
            }
        }
    };
}

ehr_events!(
    ProviderRegistered,
    ProviderSuspended,
    ProviderReinstated,
    AdminTransferProposed,
    AdminTransferred,
    PatientRegistered,
    ProfileCommitmentSet,
    RecordAdded,
    AccessGranted,
    AccessRevoked,
    AccessRequested,
    SignerAdded,
    SignerRetired,
    ModelApproved,
    ModelRetired,
    ScoreAccepted,
);

/// A short form of an account for logs: `0x` and its first four bytes.
pub fn short_account(account: &AccountId) -> String {
    short_hex(AsRef::<[u8; 32]>::as_ref(account))
}

/// A short form of a 32-byte hash for logs: `0x` and its first four bytes.
pub fn short_hex(bytes: &[u8; 32]) -> String {
    format!("0x{}…", bytes[..4].iter().map(|b| format!("{b:02x}")).collect::<String>())
}

impl EhrEvent {
    /// One line describing the event, with short account ids and hashes.
    pub fn summary(&self) -> String {
        let a = short_account;
        match self {
            EhrEvent::ProviderRegistered(e) => {
                format!("ProviderRegistered {} as {:?}", a(&e.provider), e.role)
            }
            EhrEvent::ProviderSuspended(e) => format!("ProviderSuspended {}", a(&e.provider)),
            EhrEvent::ProviderReinstated(e) => format!("ProviderReinstated {}", a(&e.provider)),
            EhrEvent::AdminTransferProposed(e) => {
                format!("AdminTransferProposed by {} to {:?}", a(&e.admin), e.candidate.as_ref().map(a))
            }
            EhrEvent::AdminTransferred(e) => {
                format!("AdminTransferred {} -> {}", a(&e.previous), a(&e.admin))
            }
            EhrEvent::PatientRegistered(e) => format!("PatientRegistered {}", a(&e.patient)),
            EhrEvent::ProfileCommitmentSet(e) => {
                format!("ProfileCommitmentSet {} {:?}", a(&e.patient), e.commitment.as_ref().map(short_hex))
            }
            EhrEvent::RecordAdded(e) => format!(
                "RecordAdded patient {} record {} {:?} sha256 {} by {}{}",
                a(&e.patient),
                e.record_id,
                e.category,
                short_hex(&e.content_hash),
                a(&e.author),
                e.supersedes.map(|id| format!(", supersedes {id}")).unwrap_or_default()
            ),
            EhrEvent::AccessGranted(e) => format!(
                "AccessGranted patient {} -> {} read {:?} write {:?} until {}",
                a(&e.patient),
                a(&e.provider),
                e.scope.read.categories(),
                e.scope.write.categories(),
                e.expires_at.map(|b| format!("block {b}")).unwrap_or_else(|| "revoked".into())
            ),
            EhrEvent::AccessRevoked(e) => {
                format!("AccessRevoked patient {} -> {}", a(&e.patient), a(&e.provider))
            }
            EhrEvent::AccessRequested(e) => format!(
                "AccessRequested patient {} by {}: {:?} {:?} -> {:?}",
                a(&e.patient),
                a(&e.accessor),
                e.mode,
                e.category,
                e.decision
            ),
            EhrEvent::SignerAdded(e) => {
                format!("SignerAdded key {} for oracle {}", short_hex(&e.signer), a(&e.account))
            }
            EhrEvent::SignerRetired(e) => format!("SignerRetired key {}", short_hex(&e.signer)),
            EhrEvent::ModelApproved(e) => format!("ModelApproved {}", short_hex(&e.model_hash)),
            EhrEvent::ModelRetired(e) => format!("ModelRetired {}", short_hex(&e.model_hash)),
            EhrEvent::ScoreAccepted(e) => format!(
                "ScoreAccepted patient {} model {} input sha256 {} signer {} nonce {}",
                a(&e.patient),
                short_hex(&e.model_hash),
                short_hex(&e.input_hash),
                short_hex(&e.signer),
                e.nonce
            ),
        }
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
        Chain { session: Session::default(), deployments: 0 }
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
        let bundle = load_bundle(name);
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
        self.deployments += 1;
        let salt = self.deployments.to_le_bytes().to_vec();
        self.session.set_actor(to_account32(deployer));
        let address = self
            .session
            .deploy_bundle(bundle, constructor, args, salt, None)
            .unwrap_or_else(|err| panic!("deploying {name}: {err:?}"));
        Contract { name: name.to_string(), address: to_account(&address), selectors }
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
        let events = raw_events.iter().filter_map(EhrEvent::decode).collect();
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
        self.session.sandbox().build_blocks(n)
    }
}
