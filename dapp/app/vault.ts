/**
 * The record vault's HTTP API, every request signed by the account (the vault's scheme
 * `ehr-vault/v1`: method, path, the body's SHA-256, time and a random nonce, one per line).
 */
import { decodeAddress, encodeAddress, sha256AsU8a } from '@polkadot/util-crypto';
import { hexToU8a, stringToU8a, u8aToHex } from '@polkadot/util';
import { signBytes, type Account } from './wallet';

/** A wrapped key as the vault takes and gives it. */
export interface VaultKey {
  recipient?: string;
  public_key: string;
  wrapped: string;
}

/** A refusal by the vault: its status and reason. */
export class VaultRefusal extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
  ) {
    super(`the vault refused (${status}): ${reason}`);
  }
}

const hex = (bytes: Uint8Array) => u8aToHex(bytes).slice(2);
/** An account as the vault's paths name it (SS58, prefix 42). */
const ss58 = (account: string) => encodeAddress(decodeAddress(account), 42);

/** The vault at `base` (absolute, or a path on this origin). */
export class Vault {
  constructor(readonly base: string) {}

  private async request(account: Account, method: string, path: string, body?: unknown): Promise<Response> {
    try {
      return await this.signedRequest(account, method, path, body);
    } catch (e) {
      // Signed before a wallet's prompt that took longer than the vault allows: sign again.
      if (e instanceof VaultRefusal && e.status === 401 && e.reason.startsWith('stale request')) {
        return this.signedRequest(account, method, path, body);
      }
      throw e;
    }
  }

  private async signedRequest(account: Account, method: string, path: string, body?: unknown): Promise<Response> {
    const bytes = body === undefined ? new Uint8Array() : stringToU8a(JSON.stringify(body));
    const timestamp = Date.now();
    const nonce = crypto.getRandomValues(new Uint8Array(16));
    const payload = ['ehr-vault/v1', method, path, hex(sha256AsU8a(bytes)), String(timestamp), hex(nonce)].join('\n');
    const signature = await signBytes(account, stringToU8a(payload));
    const response = await fetch(`${this.base}${path}`, {
      method,
      headers: {
        'content-type': 'application/json',
        'x-ehr-account': account.address,
        'x-ehr-timestamp': String(timestamp),
        'x-ehr-nonce': hex(nonce),
        'x-ehr-signature': hex(signature),
      },
      body: body === undefined ? undefined : new Blob([bytes as Uint8Array<ArrayBuffer>]),
    });
    if (!response.ok) {
      const text = await response.text();
      let reason = text;
      try {
        reason = (JSON.parse(text) as { error?: string }).error ?? text;
      } catch {
        // Not JSON: a proxy's page, say.
      }
      throw new VaultRefusal(response.status, reason || response.statusText);
    }
    return response;
  }

  private static recordPath(patient: string, hash: Uint8Array): string {
    return `/v1/records/${ss58(patient)}/${u8aToHex(hash)}`;
  }

  /** Stores a record's envelope and its wrapped keys (the record's on-chain author only). */
  async upload(account: Account, patient: string, hash: Uint8Array, envelope: Uint8Array, keys: VaultKey[]): Promise<void> {
    await this.request(account, 'PUT', Vault.recordPath(patient, hash), { envelope: u8aToHex(envelope), keys });
  }

  /** The envelope and the caller's wrapped key (after consent and an audited request). */
  async fetch(account: Account, patient: string, hash: Uint8Array): Promise<{ envelope: Uint8Array; wrapped: Uint8Array; publicKey: Uint8Array }> {
    const response = await this.request(account, 'GET', Vault.recordPath(patient, hash));
    const json = (await response.json()) as { envelope: string; key: VaultKey };
    return { envelope: hexToU8a(json.envelope), wrapped: hexToU8a(json.key.wrapped), publicKey: hexToU8a(json.key.public_key) };
  }

  /** Adds a reader's wrapped key to a record (the patient only, after a grant). */
  async share(account: Account, patient: string, hash: Uint8Array, recipient: string, key: VaultKey): Promise<void> {
    const path = `${Vault.recordPath(patient, hash)}/keys/${ss58(recipient)}`;
    await this.request(account, 'PUT', path, key);
  }

  /** Deletes every key of a revoked reader (the patient only); returns how many. */
  async revoke(account: Account, patient: string, recipient: string): Promise<number> {
    const path = `/v1/records/${ss58(patient)}/keys/${ss58(recipient)}`;
    const response = await this.request(account, 'DELETE', path);
    return ((await response.json()) as { removed: number }).removed;
  }
}
