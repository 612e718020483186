/**
 * A small typed layer over the EHR contracts' metadata, for dApps built on
 * `@polkadot/api-contract`: record categories as names instead of bit sets, locators as
 * strings, one error shape with the variant's doc text, and events by their short name.
 *
 * The category order and the locator rules are the contracts' (`ehr_types`); the tests check
 * them against the metadata the contracts were built with.
 */
import type { Abi } from '@polkadot/api-contract';
import type { Codec } from '@polkadot/types/types';
import { hexToU8a, isHex, u8aToString, stringToU8a } from '@polkadot/util';

/** The record categories, in `ehr_types::RecordCategory` order: bit `i` of a set is the `i`th. */
export const RECORD_CATEGORIES = [
  'ClinicalNote',
  'LabResult',
  'Vitals',
  'Medication',
  'Condition',
  'Imaging',
  'Immunization',
  'Allergy',
  'Billing',
  'Summary',
  'RiskAssessment',
] as const;

/** A record category by name. */
export type RecordCategory = (typeof RECORD_CATEGORIES)[number];

/** What a grant allows, by category name: what a patient chooses in a dApp. */
export interface NamedScope {
  /** Categories the grantee may read. */
  read: RecordCategory[];
  /** Categories the grantee may add records to. */
  write: RecordCategory[];
}

/** A `Scope` as the contracts take it: two bit sets over {@link RECORD_CATEGORIES}. */
export interface ScopeBits {
  read: number;
  write: number;
}

/** A bad input, saying what was wrong. */
export class EhrInputError extends Error {}

/** The bit set of `categories`; throws {@link EhrInputError} naming an unknown category. */
export function categorySet(categories: readonly string[]): number {
  return categories.reduce((bits, name) => {
    const index = RECORD_CATEGORIES.indexOf(name as RecordCategory);
    if (index < 0) {
      throw new EhrInputError(`unknown record category "${name}"; one of: ${RECORD_CATEGORIES.join(', ')}`);
    }
    return bits | (1 << index);
  }, 0);
}

/** The category names of a bit set; throws {@link EhrInputError} on bits that name no category. */
export function categoriesOf(bits: number): RecordCategory[] {
  if (!Number.isInteger(bits) || bits < 0 || bits >= 1 << RECORD_CATEGORIES.length) {
    throw new EhrInputError(`${bits} is not a set of record categories (bits 0-${RECORD_CATEGORIES.length - 1})`);
  }
  return RECORD_CATEGORIES.filter((_, i) => bits & (1 << i));
}

/** A named scope as the contracts' `Scope`. */
export function scopeBits(scope: NamedScope): ScopeBits {
  return { read: categorySet(scope.read), write: categorySet(scope.write) };
}

/** A contract's `Scope` (as decoded, e.g. `{read: 2, write: 0}`) by category name. */
export function namedScope(scope: ScopeBits): NamedScope {
  return { read: categoriesOf(Number(scope.read)), write: categoriesOf(Number(scope.write)) };
}

/** The longest locator the contracts accept, in bytes. */
export const MAX_LOCATOR_LEN = 128;
/** The locator schemes the contracts accept. */
export const LOCATOR_SCHEMES = ['ipfs', 'https', 'ar', 's3', 'vault'] as const;

/**
 * A locator (`vault://…`, `ipfs://…`) as the bytes `add_record` takes, checked as the contract
 * checks it; throws {@link EhrInputError} saying what is wrong. A string is always taken as
 * text, never as hex (a locator may start with `0x`).
 */
export function locatorBytes(locator: string): Uint8Array {
  const bytes = stringToU8a(locator);
  if (bytes.length === 0) throw new EhrInputError('the locator is empty');
  if (bytes.length > MAX_LOCATOR_LEN) {
    throw new EhrInputError(`the locator is ${bytes.length} bytes long; at most ${MAX_LOCATOR_LEN}`);
  }
  if (![...bytes].every((b) => b > 0x20 && b < 0x7f)) {
    throw new EhrInputError('the locator must be printable ASCII without spaces');
  }
  const at = locator.indexOf('://');
  if (at < 0 || at + 3 >= locator.length) throw new EhrInputError('the locator must be scheme://…');
  const scheme = locator.slice(0, at);
  if (!(LOCATOR_SCHEMES as readonly string[]).includes(scheme)) {
    throw new EhrInputError(`locator scheme "${scheme}" is not allowed; one of: ${LOCATOR_SCHEMES.join(', ')}`);
  }
  return bytes;
}

/**
 * A locator as the `add_record` argument: its bytes as a plain array, which polkadot-js encodes
 * as they are. (Given a `Uint8Array`, polkadot-js reads a `Vec<u8>` as already SCALE-encoded,
 * its length prefix included, and a hex string as bytes: neither is the locator's text.)
 */
export function locatorArg(locator: string): number[] {
  return Array.from(locatorBytes(locator));
}

/** A locator as read from a contract (a `Vec<u8>` codec, its hex or its bytes) as text. */
export function locatorString(locator: Codec | Uint8Array | string): string {
  if (typeof locator === 'string') return u8aToString(isHex(locator) ? hexToU8a(locator) : stringToU8a(locator));
  if (locator instanceof Uint8Array) return u8aToString(locator);
  return u8aToString(locator.toU8a(true));
}

/** A contract's typed error, whichever JSON shape polkadot-js gave it. */
export interface ContractError {
  /** The error enum (`RecordsError`, `RegistryError`, `ScoreError`, `UpgradeError`, …). */
  type: string;
  /** The variant's name as in the contract (`PatientAlreadyExists`, `AccessDenied`). */
  variant: string;
  /** The variant's data, if it carries some (e.g. the `DenialReason` of `AccessDenied`). */
  data: unknown;
  /** The variant's doc comment from the metadata: what was wrong, in words. */
  docs: string;
}

/** A type of the metadata's registry, as far as this layer reads it. */
interface MetadataType {
  type: {
    path?: string[];
    def: { variant?: { variants: { name: string; docs?: string[] }[] } };
  };
}

const pascal = (name: string) => name.charAt(0).toUpperCase() + name.slice(1);

/**
 * The error `err` of the contract type at `path` (e.g. `ehr_types::errors::RecordsError`) in one
 * shape: polkadot-js gives a unit-only enum as a string (`"NotAdmin"`) and an enum with any
 * data-carrying variant as an object (`{patientAlreadyExists: null}`, `{accessDenied: "NoGrant"}`).
 */
export function contractError(abi: Abi, path: string, err: unknown): ContractError {
  const types = (abi.json as { types: MetadataType[] }).types;
  const type = types.find((t) => (t.type.path ?? []).join('::') === path)?.type;
  if (!type?.def?.variant) throw new EhrInputError(`${path} is not an enum of this contract's metadata`);
  let variant: string;
  let data: unknown = null;
  if (typeof err === 'string') {
    variant = err;
  } else if (err && typeof err === 'object' && Object.keys(err).length === 1) {
    const [key, value] = Object.entries(err)[0];
    variant = pascal(key);
    data = value;
  } else {
    throw new EhrInputError(`not an error of ${path}: ${JSON.stringify(err)}`);
  }
  const found = type.def.variant.variants.find((v) => v.name === variant);
  if (!found) throw new EhrInputError(`${variant} is not a variant of ${path}`);
  return { type: path.split('::').pop() ?? path, variant, data, docs: (found.docs ?? []).join(' ').trim() };
}

/** An event of the contracts, by its short name (`RecordAdded`, not `ehr_types::events::RecordAdded`). */
export interface NamedEvent {
  /** `RecordAdded`, `AccessRequested`, … */
  name: string;
  /** The event's fields by name, as JSON. */
  args: Record<string, unknown>;
}

/** Decodes a contract event (topics and data, as `Abi.decodeEvent` takes it) by its short name. */
export function namedEvent(abi: Abi, record: Parameters<Abi['decodeEvent']>[0]): NamedEvent {
  const decoded = abi.decodeEvent(record);
  const name = decoded.event.identifier.split('::').pop() ?? decoded.event.identifier;
  const args: Record<string, unknown> = {};
  decoded.event.args.forEach((arg, i) => {
    args[arg.name] = decoded.args[i].toJSON();
  });
  return { name, args };
}

/** A metadata type, as far as {@link messageErrorPath} walks it. */
interface WalkedType {
  id: number;
  type: {
    path?: string[];
    def: { variant?: { variants: { name: string; fields?: { type: number }[] }[] } };
  };
}

/**
 * The path of the error type of message `label`'s `Result<T, E>` (e.g.
 * `ehr_types::errors::RecordsError`), to pass to {@link contractError}; `undefined` when the
 * message does not return a `Result`. The outer `Result<_, LangError>` every ink! message has is
 * looked through.
 */
export function messageErrorPath(abi: Abi, label: string): string | undefined {
  const json = abi.json as { spec: { messages: { label: string; returnType: { type: number } }[] }; types: WalkedType[] };
  const message = json.spec.messages.find((m) => m.label === label);
  if (!message) throw new EhrInputError(`no message ${label} in this contract's metadata`);
  const byId = (id: number) => json.types.find((t) => t.id === id)?.type;
  const variantField = (id: number, name: string) =>
    byId(id)?.def.variant?.variants.find((v) => v.name === name)?.fields?.[0]?.type;
  const isResult = (id: number) => (byId(id)?.path ?? []).join('::') === 'Result';
  const outer = message.returnType.type;
  const inner = isResult(outer) ? variantField(outer, 'Ok') : outer;
  if (inner === undefined || !isResult(inner)) return undefined;
  const err = variantField(inner, 'Err');
  return err === undefined ? undefined : (byId(err)?.path ?? []).join('::');
}
