//! The EHR contracts on a real Substrate node, over RPC.
//!
//! Built on the ecosystem's own client stack of the cargo-contract 5.0.3 era: [`subxt`] 0.38 for
//! the connection, signing (sr25519 via `subxt-signer`), submission and block/event access, and
//! `contract-extrinsics` 5.0.3 for code upload and instantiation, the `Contracts::call` payload,
//! the pallet's dry-run result types and the decoding of dispatch errors against the node's
//! metadata. Message selectors come from each contract's `.contract` metadata; arguments and
//! return values are SCALE-encoded with the very types of `ehr-types` that the contracts use;
//! contract events are decoded into [`EhrEvent`].
//!
//! Every state-changing call is dry-run first (`ContractsApi_call`) for its weight, storage
//! deposit and return value. A call whose dry-run reverts (an ink! message returning `Err`) is
//! not sent: it would revert on chain too, and its typed error is returned instead.

pub mod args;
pub mod deploy;
pub mod dev_node;

use std::{collections::HashMap, fmt, path::Path};

use anyhow::{anyhow, bail, Context, Result};
use contract_extrinsics::{
    extrinsic_calls::Call as CallPayload,
    pallet_contracts_primitives::{ContractExecResult, StorageDeposit},
    ContractArtifacts, ErrorVariant,
};
pub use ehr_types::decode::{EhrEvent, RawEvent};
use ehr_types::{
    AccessDecision, AccessMode, EncryptionKey, Grant, Page, RecordCategory, RecordsError, MAX_PAGE_LIMIT,
};
use ink::{
    primitives::AccountId,
    scale::{Compact, Decode, DecodeAll, Encode},
    MessageResult,
};
pub use sp_weights::Weight;
use subxt::{
    backend::{legacy::LegacyRpcMethods, rpc::RpcClient},
    blocks::ExtrinsicEvents,
    error::DispatchError,
    events::StaticEvent,
    ext::scale_decode,
    ext::scale_value::At,
    tx::TxStatus,
    utils::{AccountId32, MultiAddress},
    OnlineClient, SubstrateConfig,
};
pub use subxt_signer::{sr25519::Keypair, SecretUri};

/// The node's runtime configuration (substrate-contracts-node: standard Substrate types).
pub type NodeConfig = SubstrateConfig;
/// Balance type of the chain.
pub type Balance = u128;

/// How long to wait for a submitted transaction to be included before giving up.
const INCLUSION_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// The sr25519 keypair of a secret URI: a dev account (`//Alice`), a derivation, or a mnemonic.
pub fn keypair(suri: &str) -> Result<Keypair> {
    let uri: SecretUri = suri.parse().map_err(|err| anyhow!("not a secret URI ({err:?})"))?;
    Keypair::from_uri(&uri).map_err(|err| anyhow!("no keypair from this secret URI: {err:?}"))
}

/// The ink! account id of a keypair.
pub fn account_of(signer: &Keypair) -> AccountId {
    AccountId::from(signer.public_key().0)
}

/// A subxt account id from an ink! one.
pub fn to_account32(account: AccountId) -> AccountId32 {
    AccountId32(*AsRef::<[u8; 32]>::as_ref(&account))
}

/// An ink! account id from a subxt one.
pub fn to_account(account: &AccountId32) -> AccountId {
    AccountId::from(account.0)
}

/// Parses an SS58 address or a `0x`-prefixed 32-byte hex account id.
pub fn parse_account(text: &str) -> Result<AccountId> {
    if let Some(hex_text) = text.strip_prefix("0x") {
        let bytes: [u8; 32] = hex::decode(hex_text)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| anyhow!("'{text}' is not a 32-byte hex account id"))?;
        return Ok(AccountId::from(bytes));
    }
    ehr_types::ss58::decode(text).map_err(|err| anyhow!("{err}"))
}

/// The SS58 form (generic substrate prefix 42) of an account id (`ehr_types::ss58`, the one
/// encoder every off-chain part uses).
pub fn ss58(account: &AccountId) -> String {
    ehr_types::ss58::encode(account)
}

/// A deployed contract: its name, address and the selectors of its messages (from metadata).
#[derive(Debug, Clone)]
pub struct ContractRef {
    /// Contract name (the `.contract` bundle's file stem).
    pub name: String,
    /// On-chain address.
    pub address: AccountId,
    messages: HashMap<String, MessageInfo>,
}

#[derive(Debug, Clone, Copy)]
struct MessageInfo {
    selector: [u8; 4],
    mutates: bool,
}

impl ContractRef {
    /// The contract `name` at `address`, with the messages of `artifacts/NAME.contract`.
    pub fn load(artifacts: &Path, name: &str, address: AccountId) -> Result<Self> {
        let path = artifacts.join(format!("{name}.contract"));
        let transcoder = ContractArtifacts::from_manifest_or_file(None, Some(&path))
            .and_then(|artifacts| artifacts.contract_transcoder())
            .with_context(|| format!("loading the metadata of {}", path.display()))?;
        let messages = transcoder
            .metadata()
            .spec()
            .messages()
            .iter()
            .map(|m| {
                let selector: [u8; 4] = m.selector().to_bytes().try_into().unwrap_or_default();
                (m.label().clone(), MessageInfo { selector, mutates: m.mutates() })
            })
            .collect();
        Ok(ContractRef { name: name.to_string(), address, messages })
    }

    fn message(&self, message: &str) -> Result<MessageInfo> {
        self.messages.get(message).copied().ok_or_else(|| anyhow!("{} has no message `{message}`", self.name))
    }

    /// The call data of `message` with SCALE-encoded `args` (a tuple of its parameters, or `()`).
    pub fn call_data<A: Encode>(&self, message: &str, args: &A) -> Result<Vec<u8>> {
        let mut input = self.message(message)?.selector.to_vec();
        args.encode_to(&mut input);
        Ok(input)
    }
}

/// A dry-run's outcome: the message's return value and what executing it costs.
#[derive(Debug, Clone)]
pub struct DryRun<R> {
    /// The message's decoded return value.
    pub value: R,
    /// Whether the contract reverted its state changes (ink! does so when a message returns `Err`).
    pub reverted: bool,
    /// Weight the call consumed.
    pub gas_consumed: Weight,
    /// Weight the call needs as its gas limit.
    pub gas_required: Weight,
    /// Storage deposit charged (positive) or refunded (negative).
    pub storage_deposit: i128,
}

/// A transaction included in a block, with what it emitted and what it cost.
#[derive(Debug, Clone)]
pub struct Included {
    /// Hash of the including block.
    pub block_hash: [u8; 32],
    /// Number of the including block.
    pub block_number: u32,
    /// The EHR contract events the call emitted, decoded, in emission order.
    pub events: Vec<EhrEvent>,
    /// The same events as emitted (contract, topics, data).
    pub raw_events: Vec<RawEvent>,
    /// The fee the signer paid (`TransactionPayment::TransactionFeePaid`).
    pub fee_paid: Balance,
    /// The fee estimated before submission (`payment_queryInfo` of the signed extrinsic).
    pub fee_estimate: Balance,
}

/// A state-changing call: its dry-run and, unless the dry-run reverted, its inclusion.
#[derive(Debug, Clone)]
pub struct Submitted<R> {
    /// The dry-run, whose return value is the message's (extrinsics return no values).
    pub dry_run: DryRun<R>,
    /// The inclusion; `None` when the dry-run reverted and nothing was sent.
    pub included: Option<Included>,
}

impl<R> Submitted<R> {
    /// The message's return value.
    pub fn value(&self) -> &R {
        &self.dry_run.value
    }

    /// The decoded events of the included call (none when it was not sent).
    pub fn events(&self) -> &[EhrEvent] {
        self.included.as_ref().map(|i| i.events.as_slice()).unwrap_or_default()
    }
}

/// The share, in percent, added to a dry-run's required weight (ref_time and proof size) to
/// make a transaction's gas limit.
pub const GAS_MARGIN_PERCENT: u64 = 10;

/// `weight` plus [`GAS_MARGIN_PERCENT`] of each of its parts.
pub fn with_margin(weight: Weight) -> Weight {
    let grow = |part: u64| part.saturating_add(part / 100 * GAS_MARGIN_PERCENT);
    Weight::from_parts(grow(weight.ref_time()), grow(weight.proof_size()))
}

/// `TransactionPayment::TransactionFeePaid`: the fee a transaction's signer paid.
#[derive(Debug, scale_decode::DecodeAsType)]
#[decode_as_type(crate_path = "subxt::ext::scale_decode")]
struct TransactionFeePaid {
    #[allow(dead_code)]
    who: AccountId32,
    actual_fee: u128,
    tip: u128,
}

impl StaticEvent for TransactionFeePaid {
    const PALLET: &'static str = "TransactionPayment";
    const EVENT: &'static str = "TransactionFeePaid";
}

/// `pallet-contracts-rpc-runtime-api`'s call request (as `contract-extrinsics` encodes it).
#[derive(Encode)]
#[codec(crate = ink::scale)]
struct CallRequest {
    origin: AccountId32,
    dest: AccountId32,
    value: Balance,
    gas_limit: Option<Weight>,
    storage_deposit_limit: Option<Balance>,
    input_data: Vec<u8>,
}

/// The `Contracts::ContractEmitted` events among `events`, with their topics.
fn contract_events<E: std::error::Error + Send + Sync + 'static>(
    events: impl Iterator<Item = Result<subxt::events::EventDetails<NodeConfig>, E>>,
) -> Result<Vec<RawEvent>> {
    let mut raw = Vec::new();
    for event in events {
        let event = event?;
        if let Some(emitted) =
            event.as_event::<contract_extrinsics::events::ContractEmitted<AccountId32>>()?
        {
            raw.push(RawEvent {
                contract: to_account(&emitted.contract),
                topics: event.topics().iter().map(|t| t.0).collect(),
                data: emitted.data,
            });
        }
    }
    Ok(raw)
}

/// A contract's whole storage, as [`Node::contract_storage`] reads it.
#[derive(Debug, Clone)]
pub struct ContractStorageDump {
    /// Every entry: key, SCALE value.
    pub raw: Vec<(Vec<u8>, Vec<u8>)>,
    /// The entries decoded with the contract's storage layout.
    pub decoded: serde_json::Value,
}

/// The readers of a patient's records of one category, as [`Node::readers`] finds them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Readers {
    /// The patient's published key, if any.
    pub patient_key: Option<EncryptionKey>,
    /// Providers that may read the category now, with their published keys.
    pub providers: Vec<(AccountId, EncryptionKey)>,
    /// Providers that may read it but published no key.
    pub without_key: Vec<AccountId>,
}

/// A connection to a node.
#[derive(Clone)]
pub struct Node {
    url: String,
    client: OnlineClient<NodeConfig>,
    rpc: LegacyRpcMethods<NodeConfig>,
}

impl fmt::Debug for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Node").field("url", &self.url).finish()
    }
}

impl Node {
    /// Connects to the node at `url` (`ws://…` or `http://…`) and reads its metadata.
    pub async fn connect(url: &str) -> Result<Self> {
        let rpc_client =
            RpcClient::from_url(url).await.with_context(|| format!("connecting to the node at {url}"))?;
        let client = OnlineClient::<NodeConfig>::from_rpc_client(rpc_client.clone())
            .await
            .with_context(|| format!("reading the runtime metadata of {url}"))?;
        if client.metadata().pallet_by_name("Contracts").is_none() {
            bail!("the node at {url} has no Contracts pallet");
        }
        Ok(Node { url: url.to_string(), client, rpc: LegacyRpcMethods::new(rpc_client) })
    }

    /// The URL this connection was made to.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The subxt client, for what this type does not wrap.
    pub fn client(&self) -> &OnlineClient<NodeConfig> {
        &self.client
    }

    /// The chain's genesis hash: the chain id the risk-scores contract is bound to.
    pub fn genesis_hash(&self) -> [u8; 32] {
        self.client.genesis_hash().0
    }

    /// Hash of the best block. (subxt's `at_latest` is the latest *finalized* block, which on
    /// a dev node lags behind the blocks transactions land in.)
    async fn best_hash(&self) -> Result<subxt::utils::H256> {
        self.rpc
            .chain_get_block_hash(None)
            .await
            .context("reading the best block")?
            .ok_or_else(|| anyhow!("the node has no best block"))
    }

    /// Number and hash of the best block.
    pub async fn best_block(&self) -> Result<(u32, [u8; 32])> {
        let hash = self.best_hash().await?;
        let block = self.client.blocks().at(hash).await.context("reading the best block")?;
        Ok((block.number(), hash.0))
    }

    /// Reads `query` from storage at the best block.
    pub async fn storage_at_best<Q: subxt::storage::Address<IsFetchable = subxt::utils::Yes>>(
        &self,
        query: &Q,
    ) -> Result<Option<Q::Target>> {
        let hash = self.best_hash().await?;
        Ok(self.client.storage().at(hash).fetch(query).await?)
    }

    /// Number and hash of the latest finalized block.
    pub async fn finalized_block(&self) -> Result<(u32, [u8; 32])> {
        let hash = self.rpc.chain_get_finalized_head().await.context("reading the finalized head")?;
        let block = self.client.blocks().at(hash).await.context("reading the finalized block")?;
        Ok((block.number(), hash.0))
    }

    /// Hash of block `number`, if the node has it.
    pub async fn block_hash(&self, number: u32) -> Result<Option<[u8; 32]>> {
        let hash = self
            .rpc
            .chain_get_block_hash(Some(number.into()))
            .await
            .with_context(|| format!("reading the hash of block {number}"))?;
        Ok(hash.map(|h| h.0))
    }

    /// The timestamp (ms since the Unix epoch) of block `hash` (`Timestamp::Now` there).
    pub async fn timestamp_at(&self, hash: [u8; 32]) -> Result<u64> {
        let query = subxt::dynamic::storage("Timestamp", "Now", Vec::<subxt::dynamic::Value>::new());
        let value = self
            .client
            .storage()
            .at(subxt::utils::H256(hash))
            .fetch(&query)
            .await
            .with_context(|| format!("reading the timestamp of block 0x{}", hex::encode(hash)))?
            .ok_or_else(|| anyhow!("block 0x{} has no timestamp", hex::encode(hash)))?;
        let now = value.to_value()?.as_u128().ok_or_else(|| anyhow!("unexpected Timestamp::Now layout"))?;
        u64::try_from(now).context("Timestamp::Now beyond u64")
    }

    /// The contract events emitted in block `hash`, in order.
    pub async fn contract_events_at(&self, hash: [u8; 32]) -> Result<Vec<RawEvent>> {
        let events = self
            .client
            .events()
            .at(subxt::utils::H256(hash))
            .await
            .with_context(|| format!("reading the events of block 0x{}", hex::encode(hash)))?;
        contract_events(events.iter())
    }

    /// Raises the emergency cases of the records contract `records` left unreviewed past their
    /// deadline (`raise_overdue`, 32 cases per transaction, signed by `signer`), submitting only
    /// while a dry-run finds progress to make (a case to raise, or the contract's cursor to move
    /// past reviewed cases); returns how many were raised.
    pub async fn raise_overdue(&self, records: &ContractRef, signer: &Keypair) -> Result<u32> {
        let caller = account_of(signer);
        let step = (ehr_types::emergency::MAX_OVERDUE_STEP,);
        let mut raised = 0u32;
        loop {
            let cursor: u32 = self.dry_run(records, &caller, "overdue_cursor", &()).await?.value;
            let dry: Result<(u32, u32), RecordsError> =
                self.dry_run(records, &caller, "raise_overdue", &step).await?.value;
            let (would_raise, next) = dry.map_err(|err| anyhow!("raise_overdue: {err:?}"))?;
            if would_raise == 0 && next == cursor {
                return Ok(raised);
            }
            let submitted: Submitted<Result<(u32, u32), RecordsError>> =
                self.submit(records, signer, "raise_overdue", &step).await?;
            match submitted.value() {
                Ok((count, _)) if submitted.included.is_some() => raised = raised.saturating_add(*count),
                Ok(_) => return Ok(raised),
                Err(err) => bail!("raise_overdue refused by the contract: {err:?}"),
            }
        }
    }

    /// The events `contracts` emitted in block `number` of the best chain, in order, with the
    /// block's hash; `None` when the chain has no such block (yet). The one way the tools walk
    /// a range of blocks for a contract's events (audit trails, exports, the vault's window).
    pub async fn block_events_of(
        &self,
        number: u32,
        contracts: &[AccountId],
    ) -> Result<Option<([u8; 32], Vec<RawEvent>)>> {
        let Some(hash) = self.block_hash(number).await? else { return Ok(None) };
        let mut events = self.contract_events_at(hash).await?;
        events.retain(|raw| contracts.contains(&raw.contract));
        Ok(Some((hash, events)))
    }

    /// The direct calls of `contract` in block `hash` whose extrinsic emitted an event of
    /// `contract` for which `matches` holds: each call's input data (selector and SCALE
    /// arguments), in
    /// block order. How a reader gets the exact arguments a transaction passed, e.g. the
    /// signed batch behind a `ScoresAccepted`, to check them itself.
    pub async fn call_data_of_events(
        &self,
        hash: [u8; 32],
        contract: &AccountId,
        matches: impl Fn(&EhrEvent) -> bool,
    ) -> Result<Vec<Vec<u8>>> {
        let at = subxt::utils::H256(hash);
        let events = self.client.events().at(at).await?;
        let mut indexes = Vec::new();
        for event in events.iter() {
            let event = event?;
            let Some(emitted) =
                event.as_event::<contract_extrinsics::events::ContractEmitted<AccountId32>>()?
            else {
                continue;
            };
            let raw = RawEvent {
                contract: to_account(&emitted.contract),
                topics: event.topics().iter().map(|t| t.0).collect(),
                data: emitted.data,
            };
            if raw.contract != *contract || !EhrEvent::decode(&raw)?.as_ref().is_some_and(&matches) {
                continue;
            }
            if let subxt::events::Phase::ApplyExtrinsic(index) = event.phase() {
                if !indexes.contains(&index) {
                    indexes.push(index);
                }
            }
        }
        let extrinsics = self.client.blocks().at(at).await?.extrinsics().await?;
        let mut calls = Vec::new();
        for extrinsic in extrinsics.iter().filter(|e| indexes.contains(&e.index())) {
            if extrinsic.pallet_name()? != "Contracts" || extrinsic.variant_name()? != "call" {
                continue;
            }
            // `Contracts::call(dest, #[compact] value, gas_limit, storage_deposit_limit, data)`.
            type CallArgs =
                (MultiAddress<AccountId32, ()>, Compact<Balance>, Weight, Option<Compact<Balance>>, Vec<u8>);
            let (dest, _, _, _, data) = CallArgs::decode(&mut extrinsic.field_bytes()).map_err(|e| {
                anyhow!("a Contracts::call in block 0x{} does not decode: {e}", hex::encode(hash))
            })?;
            // Only direct calls of the contract (a call through another contract names that one).
            if matches!(dest, MultiAddress::Id(id) if to_account(&id) == *contract) {
                calls.push(data);
            }
        }
        Ok(calls)
    }

    /// Every storage entry of the contract `contract`, read from its child trie at the best
    /// block: the raw entries (key, value) and the same entries decoded with the storage layout
    /// of `artifacts/NAME.contract` (contract-extrinsics' `ContractStorageLayout`, as JSON).
    pub async fn contract_storage(
        &self,
        artifacts: &Path,
        contract: &ContractRef,
    ) -> Result<ContractStorageDump> {
        let url = url::Url::parse(&self.url).with_context(|| format!("node URL {}", self.url))?;
        let rpc = contract_extrinsics::ContractStorageRpc::<NodeConfig>::new(&url).await?;
        let storage =
            contract_extrinsics::ContractStorage::<NodeConfig, ink::env::DefaultEnvironment>::new(rpc);
        let account = to_account32(contract.address);
        let data = storage.load_contract_storage_data(&account).await?;
        let raw = match serde_json::to_value(&data)? {
            serde_json::Value::Object(entries) => entries
                .into_iter()
                .map(|(key, value)| {
                    let unhex = |text: &str| hex::decode(text.trim_start_matches("0x"));
                    Ok((unhex(&key)?, unhex(value.as_str().unwrap_or_default())?))
                })
                .collect::<Result<Vec<_>, hex::FromHexError>>()?,
            other => bail!("unexpected contract storage dump: {other}"),
        };
        let bundle = artifacts.join(format!("{}.contract", contract.name));
        let transcoder =
            ContractArtifacts::from_manifest_or_file(None, Some(&bundle))?.contract_transcoder()?;
        let layout = storage.load_contract_storage_with_layout(&account, &transcoder).await?;
        Ok(ContractStorageDump { raw, decoded: serde_json::to_value(&layout)? })
    }

    /// The free balance of `account`.
    pub async fn free_balance(&self, account: &AccountId) -> Result<Balance> {
        let query = subxt::dynamic::storage(
            "System",
            "Account",
            vec![subxt::dynamic::Value::from_bytes(AsRef::<[u8; 32]>::as_ref(account))],
        );
        let Some(info) = self.storage_at_best(&query).await? else { return Ok(0) };
        let value = info.to_value()?;
        let free = value
            .at("data")
            .and_then(|d| d.at("free"))
            .and_then(|f| f.as_u128())
            .ok_or_else(|| anyhow!("unexpected System.Account layout"))?;
        Ok(free)
    }

    /// Whether a contract lives at `address` (`Contracts.ContractInfoOf`), with its code hash.
    pub async fn contract_code_hash(&self, address: &AccountId) -> Result<Option<[u8; 32]>> {
        let info = contract_extrinsics::fetch_contract_info::<NodeConfig, ink::env::DefaultEnvironment>(
            &to_account32(*address),
            &self.rpc,
            &self.client,
        )
        .await;
        match info {
            Ok(info) => Ok(Some(info.code_hash().0)),
            Err(err) if err.to_string().contains("No contract") => Ok(None),
            Err(err) => Err(err),
        }
    }

    /// Dry-runs `message` of `contract` as `caller` with SCALE-encoded `args` and decodes its
    /// return value as `R`. Fails when the call fails at the chain level (trap, out of gas, no
    /// such contract), which is never a legitimate outcome of a message.
    pub async fn dry_run<A: Encode, R: Decode>(
        &self,
        contract: &ContractRef,
        caller: &AccountId,
        message: &str,
        args: &A,
    ) -> Result<DryRun<R>> {
        self.dry_run_at(None, contract, caller, message, args).await
    }

    /// [`Node::dry_run`] on the state of block `at` (`None`: the best block), e.g. a query as
    /// of the last block an export read.
    pub async fn dry_run_at<A: Encode, R: Decode>(
        &self,
        at: Option<[u8; 32]>,
        contract: &ContractRef,
        caller: &AccountId,
        message: &str,
        args: &A,
    ) -> Result<DryRun<R>> {
        let request = CallRequest {
            origin: to_account32(*caller),
            dest: to_account32(contract.address),
            value: 0,
            gas_limit: None,
            storage_deposit_limit: None,
            input_data: contract.call_data(message, args)?,
        };
        let bytes = self
            .rpc
            .state_call("ContractsApi_call", Some(&request.encode()), at.map(subxt::utils::H256))
            .await
            .with_context(|| format!("dry-running {}::{message}", contract.name))?;
        let result = ContractExecResult::<Balance>::decode(&mut &bytes[..])
            .with_context(|| format!("decoding the dry-run of {}::{message}", contract.name))?;
        let exec = match result.result {
            Ok(exec) => exec,
            Err(err) => {
                let error = ErrorVariant::from_dispatch_error(&err, &self.client.metadata())
                    .map(|e| e.to_string())
                    .unwrap_or_else(|_| format!("{err:?}"));
                bail!(
                    "{}::{message} failed on chain: {error} (debug: {})",
                    contract.name,
                    String::from_utf8_lossy(&result.debug_message)
                );
            }
        };
        let value = MessageResult::<R>::decode_all(&mut &exec.data[..])
            .with_context(|| format!("undecodable return value of {}::{message}", contract.name))?
            .map_err(|lang| anyhow!("{}::{message}: ink! language error {lang:?}", contract.name))?;
        let storage_deposit = match result.storage_deposit {
            StorageDeposit::Charge(amount) => i128::try_from(amount).unwrap_or(i128::MAX),
            StorageDeposit::Refund(amount) => i128::try_from(amount).map(|a| -a).unwrap_or(i128::MIN),
        };
        Ok(DryRun {
            value,
            reverted: exec.did_revert(),
            gas_consumed: result.gas_consumed,
            gas_required: result.gas_required,
            storage_deposit,
        })
    }

    /// The records contract's decision on `accessor` reading or writing `patient`'s `category`
    /// records now (`ConsentCheck::access_decision`: the decision `request_access` would take,
    /// not audited), at the best block.
    pub async fn access_decision(
        &self,
        records: &ContractRef,
        patient: &AccountId,
        accessor: &AccountId,
        category: RecordCategory,
        mode: AccessMode,
    ) -> Result<AccessDecision> {
        let args = (*patient, *accessor, category, mode);
        Ok(self.dry_run(records, accessor, "ConsentCheck::access_decision", &args).await?.value)
    }

    /// The X25519 encryption key `account` published in `contract` (the records contract for a
    /// patient, the provider registry for a provider), if any.
    pub async fn encryption_key(
        &self,
        contract: &ContractRef,
        account: &AccountId,
    ) -> Result<Option<[u8; 32]>> {
        Ok(self.dry_run(contract, account, "encryption_key", &(*account,)).await?.value)
    }

    /// Every grant `patient` has given, page by page (read as the patient: grants are public
    /// chain state).
    pub async fn grants_of(
        &self,
        records: &ContractRef,
        patient: &AccountId,
    ) -> Result<Vec<(AccountId, Grant)>> {
        let mut all = Vec::new();
        let mut from = 0;
        loop {
            let page: Result<Page<(AccountId, Grant)>, RecordsError> =
                self.dry_run(records, patient, "grants", &(from, MAX_PAGE_LIMIT)).await?.value;
            let page = page.map_err(|e| anyhow!("grants of {}: {e:?}", ss58(patient)))?;
            all.extend(page.items);
            match page.next {
                Some(next) => from = next,
                None => return Ok(all),
            }
        }
    }

    /// Who may open a new `category` record of `patient` now, with the key each is sealed for:
    /// the patient (`None` when it published no key), and every provider whose grant lets it
    /// read the category now (the records contract's own decision), apart from those that
    /// published no key.
    pub async fn readers(
        &self,
        records: &ContractRef,
        registry: &ContractRef,
        patient: &AccountId,
        category: RecordCategory,
    ) -> Result<Readers> {
        let mut readers = Readers {
            patient_key: self.encryption_key(records, patient).await?,
            providers: Vec::new(),
            without_key: Vec::new(),
        };
        for (provider, _) in self.grants_of(records, patient).await? {
            let decision =
                self.access_decision(records, patient, &provider, category, AccessMode::Read).await?;
            if decision != AccessDecision::Granted {
                continue;
            }
            match self.encryption_key(registry, &provider).await? {
                Some(key) => readers.providers.push((provider, key)),
                None => readers.without_key.push(provider),
            }
        }
        Ok(readers)
    }

    /// Calls `message` of `contract`, signed by `signer`: dry-runs it, and unless the dry-run
    /// reverts, submits it with the dry-run's required weight plus [`GAS_MARGIN_PERCENT`] as
    /// gas limit and waits until it is in a block. Fails when the message is a query, or the
    /// transaction is refused.
    ///
    /// The margin covers state that moves between the dry-run and the block: two clinicians
    /// reading one chart at once both dry-run against the same audit-chain head, and the second
    /// one in the block reads and writes an entry the first just created. Only the weight used
    /// is charged.
    pub async fn submit<A: Encode, R: Decode>(
        &self,
        contract: &ContractRef,
        signer: &Keypair,
        message: &str,
        args: &A,
    ) -> Result<Submitted<R>> {
        if !contract.message(message)?.mutates {
            bail!("{}::{message} is a query; dry-run it instead", contract.name);
        }
        let caller = account_of(signer);
        let dry_run = self.dry_run::<A, R>(contract, &caller, message, args).await?;
        if dry_run.reverted {
            return Ok(Submitted { dry_run, included: None });
        }
        let payload = CallPayload::new(
            MultiAddress::Id(to_account32(contract.address)),
            0,
            with_margin(dry_run.gas_required),
            None,
            contract.call_data(message, args)?,
        )
        .build();
        let what = format!("{}::{message}", contract.name);
        let included = self.sign_and_watch(&payload, signer, &what).await?;
        Ok(Submitted { dry_run, included: Some(included) })
    }

    /// Signs `payload`, estimates its fee, submits it and waits for its block and events.
    async fn sign_and_watch<P: subxt::tx::Payload>(
        &self,
        payload: &P,
        signer: &Keypair,
        what: &str,
    ) -> Result<Included> {
        // The nonce at the best block, as contract-extrinsics does.
        let best = self.best_hash().await?;
        let nonce =
            self.client.blocks().at(best).await?.account_nonce(&signer.public_key().to_account_id()).await?;
        let params = subxt::config::DefaultExtrinsicParamsBuilder::<NodeConfig>::new().nonce(nonce).build();
        let tx = self
            .client
            .tx()
            .create_signed(payload, signer, params)
            .await
            .with_context(|| format!("signing {what}"))?;
        let fee_estimate =
            tx.partial_fee_estimate().await.with_context(|| format!("estimating the fee of {what}"))?;
        let mut progress = tx.submit_and_watch().await.with_context(|| format!("submitting {what}"))?;
        let in_block = tokio::time::timeout(INCLUSION_TIMEOUT, async {
            while let Some(status) = progress.next().await {
                match status.with_context(|| format!("watching {what}"))? {
                    TxStatus::InBestBlock(b) | TxStatus::InFinalizedBlock(b) => return Ok(b),
                    TxStatus::Error { message }
                    | TxStatus::Invalid { message }
                    | TxStatus::Dropped { message } => {
                        bail!("{what} was refused by the node: {message}")
                    }
                    _ => {}
                }
            }
            bail!("{what}: the node closed the subscription before inclusion")
        })
        .await
        .map_err(|_| anyhow!("{what} was not included within {INCLUSION_TIMEOUT:?}"))??;
        let block_hash = in_block.block_hash().0;
        let events = in_block.wait_for_success().await.map_err(|err| match err {
            subxt::Error::Runtime(DispatchError::Module(module)) => anyhow!(
                "{what} failed in block 0x{}: {}",
                hex::encode(block_hash),
                module
                    .details()
                    .map(|d| format!("{}::{}", d.pallet.name(), d.variant.name))
                    .unwrap_or_default()
            ),
            other => anyhow!("{what} failed in block 0x{}: {other}", hex::encode(block_hash)),
        })?;
        let block_number = self.client.blocks().at(in_block.block_hash()).await?.number();
        self.included(block_hash, block_number, &events, fee_estimate)
    }

    fn included(
        &self,
        block_hash: [u8; 32],
        block_number: u32,
        events: &ExtrinsicEvents<NodeConfig>,
        fee_estimate: Balance,
    ) -> Result<Included> {
        let raw_events = contract_events(events.iter())?;
        let decoded: Result<Vec<Option<EhrEvent>>, _> = raw_events.iter().map(EhrEvent::decode).collect();
        let fee_paid =
            events.find_first::<TransactionFeePaid>()?.map(|f| f.actual_fee + f.tip).unwrap_or_default();
        Ok(Included {
            block_hash,
            block_number,
            events: decoded?.into_iter().flatten().collect(),
            raw_events,
            fee_paid,
            fee_estimate,
        })
    }

    /// Switches the code of the contract at `contract` to `code_hash` as the chain's root:
    /// `Sudo::sudo(Contracts::set_code)` signed by the sudo key (dev chains: //Alice). The way a
    /// contract without an upgrade message of its own (the first release) is upgraded; on a
    /// chain without sudo, the same call goes through governance. Checks that the code changed.
    pub async fn sudo_set_code(
        &self,
        sudo: &Keypair,
        contract: &AccountId,
        code_hash: [u8; 32],
    ) -> Result<Included> {
        use subxt::dynamic::Value;
        let set_code = Value::unnamed_variant(
            "Contracts",
            [Value::named_variant(
                "set_code",
                [
                    (
                        "dest",
                        Value::unnamed_variant(
                            "Id",
                            [Value::from_bytes(AsRef::<[u8; 32]>::as_ref(contract))],
                        ),
                    ),
                    ("code_hash", Value::from_bytes(code_hash)),
                ],
            )],
        );
        let payload = subxt::dynamic::tx("Sudo", "sudo", vec![set_code]);
        let included = self.sign_and_watch(&payload, sudo, "Sudo::sudo(Contracts::set_code)").await?;
        match self.contract_code_hash(contract).await? {
            Some(now) if now == code_hash => Ok(included),
            other => bail!(
                "Contracts::set_code did not take effect (the signer is not the sudo key?); the contract runs {:?}",
                other.map(hex::encode)
            ),
        }
    }

    /// `Contracts::set_code` signed by `signer` itself, not root: the chain refuses it
    /// (`BadOrigin`). Only for showing that refusal.
    pub async fn signed_set_code(
        &self,
        signer: &Keypair,
        contract: &AccountId,
        code_hash: [u8; 32],
    ) -> Result<Included> {
        use subxt::dynamic::Value;
        let payload = subxt::dynamic::tx(
            "Contracts",
            "set_code",
            vec![
                Value::unnamed_variant("Id", [Value::from_bytes(AsRef::<[u8; 32]>::as_ref(contract))]),
                Value::from_bytes(code_hash),
            ],
        );
        self.sign_and_watch(&payload, signer, "Contracts::set_code").await
    }

    /// Transfers `amount` from `signer` to `dest` (funding an oracle or test account).
    pub async fn transfer(&self, signer: &Keypair, dest: &AccountId, amount: Balance) -> Result<Included> {
        let payload = subxt::dynamic::tx(
            "Balances",
            "transfer_keep_alive",
            vec![
                subxt::dynamic::Value::unnamed_variant(
                    "Id",
                    [subxt::dynamic::Value::from_bytes(AsRef::<[u8; 32]>::as_ref(dest))],
                ),
                subxt::dynamic::Value::u128(amount),
            ],
        );
        self.sign_and_watch(&payload, signer, "Balances::transfer_keep_alive").await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ss58_is_subxts_and_parses_back() {
        for seed in [0u8, 1, 42, 255] {
            let account = AccountId::from([seed; 32]);
            let address = ss58(&account);
            assert_eq!(address, to_account32(account).to_string());
            assert_eq!(parse_account(&address).unwrap(), account);
        }
        let err = parse_account("5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQZ").unwrap_err();
        assert!(err.to_string().contains("checksum"), "{err}");
    }
}
