/**
 * The chain: the node over WebSocket (`@polkadot/api`), the suite's contracts
 * (`@polkadot/api-contract` with their metadata), queries as dry-runs and transactions with
 * their states (signing, pending, in block, failed with the contract's typed error in words).
 */
import { ApiPromise, WsProvider } from '@polkadot/api';
import { Abi, ContractPromise } from '@polkadot/api-contract';
import type { EventRecord } from '@polkadot/types/interfaces';
import type { Codec } from '@polkadot/types/types';
import { BN, BN_ZERO } from '@polkadot/util';
import { contractError, messageErrorPath, namedEvent, type ContractError, type NamedEvent } from '../src/ehr';
import { CONTRACT_NAMES, sameAccount, type AppConfig, type ContractName } from './config';
import type { Account } from './wallet';

/** A refusal by a contract: its typed error, with the variant's doc text. */
export class ContractFailure extends Error {
  constructor(
    readonly error: ContractError,
    readonly message_: string,
  ) {
    super(`${message_} refused: ${error.variant}${error.data ? ` (${JSON.stringify(error.data)})` : ''}: ${error.docs}`);
  }
}

/** Where a transaction is. */
export type TxState =
  | { state: 'checking' }
  | { state: 'signing' }
  | { state: 'pending' }
  | { state: 'in-block'; block: string }
  | { state: 'failed'; reason: string };

/** A transaction that made it into a block. */
export interface Included {
  /** The block's hash. */
  block: string;
  /** The suite's events it emitted, by short name. */
  events: NamedEvent[];
}

/** The result type of `contract.query[label]`. */
type QueryResult = Awaited<ReturnType<ContractPromise['query'][string]>>;

/** A dry-run's result codec, unwrapped of ink!'s `Result<_, LangError>`. */
interface ResultCodec extends Codec {
  isOk: boolean;
  isErr: boolean;
  asOk: Codec;
  asErr: Codec;
}

const isResult = (codec: Codec): codec is ResultCodec =>
  typeof (codec as Partial<ResultCodec>).isErr === 'boolean' && 'asOk' in codec;

/** The node and the suite's contracts. */
export class Chain {
  private constructor(
    readonly api: ApiPromise,
    readonly config: AppConfig,
    readonly contracts: Record<ContractName, ContractPromise>,
  ) {}

  /** Connects to the node and loads each contract's metadata from `contracts/<name>.json`. */
  static async connect(config: AppConfig): Promise<Chain> {
    const api = await ApiPromise.create({ provider: new WsProvider(config.node, 2_500), throwOnConnect: true, noInitWarn: true });
    const entries = await Promise.all(
      CONTRACT_NAMES.map(async (name) => {
        const response = await fetch(`contracts/${name}.json`);
        if (!response.ok) throw new Error(`contracts/${name}.json: HTTP ${response.status}`);
        const abi = new Abi(await response.json(), api.registry.getChainProperties());
        return [name, new ContractPromise(api, abi, config.contracts[name])] as const;
      }),
    );
    return new Chain(api, config, Object.fromEntries(entries) as Record<ContractName, ContractPromise>);
  }

  /** The node's genesis hash. */
  get genesis(): string {
    return this.api.genesisHash.toHex();
  }

  /** Whether the node is the chain the suite was deployed on. */
  get rightChain(): boolean {
    return this.genesis === this.config.chain;
  }

  /** The best block's number. */
  async bestBlock(): Promise<number> {
    return (await this.api.rpc.chain.getHeader()).number.toNumber();
  }

  private gasLimit() {
    return this.api.registry.createType('WeightV2', {
      refTime: new BN('50000000000'),
      proofSize: new BN('5000000'),
    }) as unknown as Codec;
  }

  private async dryRun(name: ContractName, label: string, caller: string, args: unknown[]): Promise<QueryResult> {
    const contract = this.contracts[name];
    const query = contract.query[methodOf(contract, label)];
    return query(caller, { gasLimit: this.gasLimit() as never, storageDepositLimit: null }, ...(args as never[]));
  }

  /** Unwraps a dry-run's output: the message's value, or its typed error thrown. */
  private unwrap(name: ContractName, label: string, result: QueryResult): Codec {
    if (result.result.isErr) {
      const err = result.result.asErr;
      const reason = err.isModule ? this.describeModuleError(err) : err.toString();
      throw new Error(`${label}: the call failed on chain: ${reason}`);
    }
    const output = result.output;
    if (!output) throw new Error(`${label}: no output`);
    if (!isResult(output)) return output;
    if (output.isErr) throw new Error(`${label}: the contract did not run it: ${output.asErr.toString()}`);
    const value = output.asOk;
    if (isResult(value) && value.isErr) {
      const abi = this.contracts[name].abi;
      const path = messageErrorPath(abi, label);
      const json = value.asErr.toJSON();
      if (path) throw new ContractFailure(contractError(abi, path, json), label);
      throw new Error(`${label} refused: ${JSON.stringify(json)}`);
    }
    return isResult(value) ? value.asOk : value;
  }

  private describeModuleError(err: { asModule: Parameters<ApiPromise['registry']['findMetaError']>[0] }): string {
    const { section, name, docs } = this.api.registry.findMetaError(err.asModule);
    return `${section}.${name}: ${docs.join(' ')}`;
  }

  /** A query (a dry-run as `caller`): its value, or its typed error thrown as {@link ContractFailure}. */
  async query(name: ContractName, label: string, caller: string, ...args: unknown[]): Promise<Codec> {
    return this.unwrap(name, label, await this.dryRun(name, label, caller, args));
  }

  /**
   * Sends message `label` of contract `name` signed by `account`: dry-runs it first (a refusal
   * is thrown as {@link ContractFailure} and nothing is sent), then submits it with the
   * dry-run's weight plus 10 % and reports each state to `onState` until it is in a block.
   * Returns the dry-run's value and the transaction's events.
   */
  async send(
    name: ContractName,
    label: string,
    account: Account,
    args: unknown[],
    onState: (state: TxState) => void = () => {},
  ): Promise<Included & { value: Codec }> {
    let dry: QueryResult;
    let value: Codec;
    onState({ state: 'checking' });
    try {
      dry = await this.dryRun(name, label, account.address, args);
      value = this.unwrap(name, label, dry);
    } catch (e) {
      onState({ state: 'failed', reason: (e as Error).message });
      throw e;
    }
    const withMargin = (v: BN) => v.muln(11).divn(10).add(new BN(1));
    const gasLimit = this.api.registry.createType('WeightV2', {
      refTime: withMargin(dry.gasRequired.refTime.toBn()),
      proofSize: withMargin(dry.gasRequired.proofSize.toBn()),
    });
    const deposit = dry.storageDeposit.isCharge ? dry.storageDeposit.asCharge.toBn() : BN_ZERO;
    const contract = this.contracts[name];
    const tx = contract.tx[methodOf(contract, label)](
      { gasLimit: gasLimit as never, storageDepositLimit: deposit.isZero() ? null : withMargin(deposit) },
      ...(args as never[]),
    );
    onState({ state: 'signing' });
    const included = await new Promise<Included>((resolve, reject) => {
      // One outcome per transaction; the subscription ends at the first of in block or failed.
      let closed = false;
      let settled = false;
      let unsub: (() => void) | undefined;
      const finish = () => {
        closed = true;
        unsub?.();
      };
      const fail = (reason: string) => {
        finish();
        if (settled) return;
        settled = true;
        onState({ state: 'failed', reason });
        reject(new Error(reason));
      };
      const signer = account.pair ?? account.address;
      const options = account.pair ? {} : { signer: account.signer };
      tx.signAndSend(signer as never, options, (result) => {
        if (closed) return;
        try {
          const { status } = result;
          if (status.isReady || status.isBroadcast) onState({ state: 'pending' });
          if (result.dispatchError) {
            const e = result.dispatchError;
            const module = e.isModule ? this.api.registry.findMetaError(e.asModule) : undefined;
            if (module?.name === 'ContractReverted') {
              // State moved between the dry-run and the block: the dry-run again says why.
              finish();
              return void this.dryRun(name, label, account.address, args)
                .then((again) => this.unwrap(name, label, again))
                .then(
                  () => fail(`${label} reverted in its block (the chain's state changed since the check)`),
                  (why: Error) => fail(`${label} reverted in its block: ${why.message}`),
                );
            }
            return fail(`${label} failed in block: ${module ? `${module.section}.${module.name}: ${module.docs.join(' ')}` : e.toString()}`);
          }
          if (status.isInBlock || status.isFinalized) {
            const block = (status.isInBlock ? status.asInBlock : status.asFinalized).toHex();
            const events = this.suiteEvents(result.events as unknown as EventRecord[]);
            finish();
            settled = true;
            onState({ state: 'in-block', block });
            resolve({ block, events });
            return;
          }
          if (status.isDropped || status.isInvalid || status.isUsurped || status.isFinalityTimeout) {
            fail(`${label}: the transaction was ${status.type.toLowerCase()}`);
          }
        } catch (e) {
          fail(`${label}: ${(e as Error).message}`);
        }
      })
        .then((u) => {
          unsub = u;
          if (closed) u();
        })
        .catch((e: Error) => fail(`${label}: ${e.message.includes('Cancelled') ? 'signing cancelled in the wallet' : e.message}`));
    });
    return { ...included, value };
  }

  /** The suite's contract events among a block's (or an extrinsic's) event records, by short name. */
  suiteEvents(records: Iterable<EventRecord>): NamedEvent[] {
    const out: NamedEvent[] = [];
    for (const record of records) {
      const { event } = record;
      if (event.section !== 'contracts' || event.method !== 'ContractEmitted') continue;
      const contract = event.data[0].toString();
      const name = CONTRACT_NAMES.find((n) => sameAccount(this.config.contracts[n], contract));
      if (!name) continue;
      try {
        out.push(namedEvent(this.contracts[name].abi, record as never));
      } catch {
        // An event this metadata does not know (another code version's): not ours to read.
      }
    }
    return out;
  }

  /** The suite's events of block `number`, and the block's time (Unix ms). */
  async blockEvents(number: number): Promise<{ events: NamedEvent[]; time: number }> {
    const hash = await this.api.rpc.chain.getBlockHash(number);
    const at = await this.api.at(hash);
    const [records, now] = await Promise.all([at.query.system.events(), at.query.timestamp.now()]);
    return { events: this.suiteEvents(records as unknown as EventRecord[]), time: Number(now.toString()) };
  }
}

/** polkadot-js's name of message `label` (`grant_access` → `grantAccess`). */
function methodOf(contract: ContractPromise, label: string): string {
  const message = contract.abi.messages.find((m) => m.identifier === label);
  if (!message) throw new Error(`the contract's metadata has no message ${label}`);
  return message.method;
}
