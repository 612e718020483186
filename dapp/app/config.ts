/**
 * Where the app finds the chain, the contracts and the vault: `config.json` beside the page,
 * written by `scripts/dapp.sh` from the deployment (`ai-oracle deploy`'s `deployment.json`), or
 * by an operator for their own deployment. The contracts' metadata is read from
 * `contracts/<name>.json` beside it: the metadata the deployed code was built with.
 */
import { u8aEq } from '@polkadot/util';
import { decodeAddress } from '@polkadot/util-crypto';

export const CONTRACT_NAMES = ['provider_registry', 'patient_records', 'risk_scores'] as const;
/** One of the suite's contracts. */
export type ContractName = (typeof CONTRACT_NAMES)[number];

/** A risk model whose sealed scores the patient can read. */
export interface ModelEntry {
  /** The model's hash as approved on chain (`0x` hex). */
  hash: string;
}

/** The app's configuration. */
export interface AppConfig {
  /** The node's WebSocket RPC URL. */
  node: string;
  /**
   * The vault's base URL: a path on this origin such as `/vault`, proxied to the vault (the
   * vault sends no CORS headers, so a page cannot call it on another origin).
   */
  vault: string;
  /** The chain's genesis hash: the app refuses to act on another chain. */
  chain: string;
  /** The block the suite was deployed in: event scans start there. */
  deployedAt: number;
  /** The contracts' addresses (SS58). */
  contracts: Record<ContractName, string>;
  /** The risk models the oracle scores with. */
  models: ModelEntry[];
  /** Whether the dev accounts (//Alice …) may be offered when no wallet is found. */
  devAccounts: boolean;
}

/** Whether two addresses (any SS58 prefix, or hex) are the same account. */
export function sameAccount(a: string, b: string): boolean {
  try {
    return u8aEq(decodeAddress(a), decodeAddress(b));
  } catch {
    return false;
  }
}

/** A configuration that is missing or malformed, saying what is wrong. */
export class ConfigError extends Error {}

/** Loads and checks `config.json`. */
export async function loadConfig(url = 'config.json'): Promise<AppConfig> {
  let response: Response;
  try {
    response = await fetch(url, { cache: 'no-store' });
  } catch (e) {
    throw new ConfigError(`cannot fetch ${url}: ${String(e)}`);
  }
  if (!response.ok) throw new ConfigError(`${url}: HTTP ${response.status}; is the app served by scripts/dapp.sh?`);
  const json = (await response.json()) as Partial<AppConfig>;
  const missing = (['node', 'vault', 'chain', 'contracts'] as const).filter((k) => !json[k]);
  if (missing.length > 0) throw new ConfigError(`${url} lacks ${missing.join(', ')}`);
  for (const name of CONTRACT_NAMES) {
    const address = json.contracts?.[name];
    if (!address) throw new ConfigError(`${url} names no address for ${name}`);
    try {
      decodeAddress(address);
    } catch (e) {
      throw new ConfigError(`${url}: the address of ${name}, ${JSON.stringify(address)}, is not an account: ${(e as Error).message}`);
    }
  }
  return {
    node: json.node!,
    vault: json.vault!.replace(/\/$/, ''),
    chain: json.chain!,
    deployedAt: json.deployedAt ?? 0,
    contracts: json.contracts!,
    models: json.models ?? [],
    devAccounts: json.devAccounts ?? true,
  };
}
