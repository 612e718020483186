/**
 * Accounts: a browser wallet's (`@polkadot/extension-dapp`: polkadot{.js}, Talisman,
 * SubWallet), or on a development chain with no wallet, the well-known dev accounts. Every
 * signature a vault request needs is made over the payload wrapped as `<Bytes>…</Bytes>`, as
 * wallets do; the vault accepts that form.
 */
import { web3Accounts, web3Enable } from '@polkadot/extension-dapp';
import type { Signer } from '@polkadot/api/types';
import { Keyring } from '@polkadot/keyring';
import type { KeyringPair } from '@polkadot/keyring/types';
import { hexToU8a, u8aToHex, u8aWrapBytes } from '@polkadot/util';

/** An account that can sign. */
export interface Account {
  /** SS58 address. */
  address: string;
  /** Its name in the wallet (or the dev account's). */
  name: string;
  /** Where it lives. */
  source: 'wallet' | 'dev';
  /** The dev account's key pair. */
  pair?: KeyringPair;
  /** The wallet's signer. */
  signer?: Signer;
}

/** The dev chain's well-known accounts. */
export const DEV_ACCOUNTS = ['Alice', 'Bob', 'Charlie', 'Dave', 'Eve', 'Ferdie'] as const;

/** What the wallet search found. */
export interface Wallets {
  /** Accounts of the wallets the user allowed. */
  accounts: Account[];
  /** Names of the wallets that answered. */
  wallets: string[];
}

/** Asks the installed wallets for their accounts (the user is prompted once per wallet). */
export async function walletAccounts(appName: string): Promise<Wallets> {
  const extensions = await web3Enable(appName);
  if (extensions.length === 0) return { accounts: [], wallets: [] };
  const found = await web3Accounts({ accountType: ['sr25519'] });
  const accounts = found.map((a) => {
    const extension = extensions.find((e) => e.name === a.meta.source);
    return { address: a.address, name: a.meta.name ?? a.address, source: 'wallet' as const, signer: extension?.signer };
  });
  return { accounts, wallets: extensions.map((e) => e.name) };
}

/** The dev accounts (sr25519, `//Alice` …). */
export function devAccounts(): Account[] {
  const keyring = new Keyring({ type: 'sr25519', ss58Format: 42 });
  return DEV_ACCOUNTS.map((name) => {
    const pair = keyring.addFromUri(`//${name}`, { name });
    return { address: pair.address, name: `${name} (dev)`, source: 'dev' as const, pair };
  });
}

/** The account's sr25519 signature over `<Bytes>message</Bytes>`. */
export async function signBytes(account: Account, message: Uint8Array): Promise<Uint8Array> {
  if (account.pair) return account.pair.sign(u8aWrapBytes(message));
  if (!account.signer?.signRaw) throw new Error(`the wallet of ${account.name} cannot sign messages`);
  // Wallets wrap the bytes in <Bytes>…</Bytes> themselves.
  const { signature } = await account.signer.signRaw({ address: account.address, data: u8aToHex(message), type: 'bytes' });
  const bytes = hexToU8a(signature);
  // A wallet may prefix the MultiSignature type (0x01 = sr25519).
  return bytes.length === 65 && bytes[0] === 1 ? bytes.subarray(1) : bytes;
}
