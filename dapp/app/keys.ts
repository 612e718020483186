/**
 * The account's X25519 encryption key: records are sealed for its public half (published on
 * chain), and only its secret opens them. The secret stays in this browser (its local storage,
 * per account), and the user can save it as a key file in the CLI's format (64 hex digits) or
 * load one the CLI made (`ehr keygen`). Any script running on this origin could read local
 * storage: serve the app from an origin of its own.
 */
import { hexToU8a, u8aToHex } from '@polkadot/util';
import { envelopeModule } from './envelope';

const slot = (address: string) => `ehr-encryption-key:${address}`;

/** The account's secret key in this browser, if any. */
export function storedSecret(address: string): Uint8Array | undefined {
  const hex = localStorage.getItem(slot(address));
  return hex ? hexToU8a(hex) : undefined;
}

/** Keeps `secret` as the account's key in this browser. */
export function storeSecret(address: string, secret: Uint8Array): void {
  localStorage.setItem(slot(address), u8aToHex(secret));
}

/** A fresh key, kept for the account; returns its public key. */
export async function generateKey(address: string): Promise<Uint8Array> {
  const env = await envelopeModule();
  const secret = env.generateSecret();
  storeSecret(address, secret);
  return env.publicKeyOf(secret);
}

/** Loads a key file's text as the account's key; returns its public key. */
export async function importKeyFile(address: string, text: string): Promise<Uint8Array> {
  const env = await envelopeModule();
  const secret = env.secretFromKeyFile(text);
  storeSecret(address, secret);
  return env.publicKeyOf(secret);
}

/** The key file text of the account's key. */
export async function keyFileText(address: string): Promise<string> {
  const secret = storedSecret(address);
  if (!secret) throw new Error('no encryption key in this browser for this account');
  return (await envelopeModule()).keyFileOf(secret);
}

/** The public key of the account's key in this browser. */
export async function localPublicKey(address: string): Promise<Uint8Array | undefined> {
  const secret = storedSecret(address);
  return secret ? (await envelopeModule()).publicKeyOf(secret) : undefined;
}
