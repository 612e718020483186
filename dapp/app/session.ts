/**
 * What a patient and a clinician do, over the chain, the vault and the envelope: the same
 * steps as the `ehr` CLI (`cli/src/lib.rs`), so that a record sealed here opens there and back.
 */
import type { EventRecord } from '@polkadot/types/interfaces';
import type { Codec } from '@polkadot/types/types';
import { hexToU8a, stringToU8a, u8aConcat, u8aEq, u8aToHex, u8aToString } from '@polkadot/util';
import { blake2AsU8a, decodeAddress, ed25519Verify, encodeAddress, sha256AsU8a } from '@polkadot/util-crypto';
import {
  RECORD_CATEGORIES,
  categoriesOf,
  contractError,
  locatorArg,
  locatorString,
  namedScope,
  scopeBits,
  type NamedEvent,
  type NamedScope,
  type RecordCategory,
} from '../src/ehr';
import { Chain, ContractFailure, type TxState } from './chain';
import { sameAccount } from './config';
import { envelopeModule } from './envelope';
import { storedSecret } from './keys';
import { Vault, VaultRefusal, type VaultKey } from './vault';
import type { Account } from './wallet';

/** A grant as the patient sees it. */
export interface GrantView {
  provider: string;
  role: string | null;
  scope: NamedScope;
  grantedAt: number;
  expiresAt: number | null;
  /** Blocks left before it expires (`null`: until revoked; 0: expired). */
  blocksLeft: number | null;
}

/** A record of the chart. */
export interface RecordView {
  id: number;
  category: RecordCategory;
  contentHash: Uint8Array;
  locator: string;
  author: string;
  addedAt: number;
  erasedAt: number | null;
}

/** One event of a patient's audit trail. */
export interface TrailEntry {
  block: number;
  /** The block's timestamp (Unix ms). */
  time: number;
  event: NamedEvent;
}

/** Why a request was denied, in words. */
export interface Denial {
  reason: string;
  docs: string;
}

/** A checked risk report. */
export interface CheckedReport {
  modelId: string;
  modelHash: string;
  riskPpm: number;
  band: string;
  computedAt: number;
  terms: { term: string; coefficient: number; value: number; contribution: number }[];
  sources: string[];
  /** The checks that passed, in words. */
  checks: string[];
}

const ACCOUNT_SYSTEM = 'urn:ehr-on-ink:account';
const RECORD_SYSTEM = 'urn:ehr-on-ink:record-sha256';
const EXTENSION_BASE = 'https://ehr-on-ink.dev/fhir/StructureDefinition/';
/** `ehr_types::scores::SCORE_COMMITMENT_CONTEXT`. */
const SCORE_COMMITMENT_CONTEXT = stringToU8a('ehr-on-ink/score-commitment/v1');
/** `ehr_types::scores::SCORE_SIGNING_CONTEXT`. */
const SCORE_SIGNING_CONTEXT = stringToU8a('ehr-on-ink/risk-scores/v2');
/** `ehr_types::scores::ScoreBand`, in order. */
const BANDS = ['low', 'borderline', 'intermediate', 'high'];
/** The largest page the contracts' paginated queries give. */
const PAGE = 50;

/** A grant as the contract gives it (`toJSON`). */
interface RawGrant {
  scope: { read: number; write: number };
  grantedAt: number;
  expiresAt: number | null;
}

/** A grant of `provider` as shown, at best block `best`. */
function grantView(provider: string, raw: RawGrant, best: number, role: string | null): GrantView {
  return {
    provider: ss58(provider),
    role,
    scope: namedScope(raw.scope),
    grantedAt: raw.grantedAt,
    expiresAt: raw.expiresAt,
    blocksLeft: raw.expiresAt === null ? null : Math.max(0, raw.expiresAt - best),
  };
}

const ss58 = (account: string | Uint8Array) => encodeAddress(typeof account === 'string' ? decodeAddress(account) : account, 42);
const json = <T = never>(codec: Codec): T => codec.toJSON() as T;

/** A user's session: the chain, the vault, the signing account. */
export class Session {
  constructor(
    readonly chain: Chain,
    readonly vault: Vault,
    readonly account: Account,
  ) {}

  get me(): string {
    return this.account.address;
  }

  /** Every item of a paginated query (`Page { items, next }`), page by page: `query(from, limit)`. */
  private async allPages<T>(query: (from: number, limit: number) => Promise<Codec>): Promise<T[]> {
    const out: T[] = [];
    for (let from: number | null | undefined = 0; from !== null && from !== undefined; ) {
      const page: { items: T[]; next: number | null } = json(await query(from, PAGE));
      out.push(...page.items);
      from = page.next;
    }
    return out;
  }

  /** The grants `patient` has given (the patient's own view: asked as the patient). */
  private rawGrants(patient: string): Promise<[string, RawGrant][]> {
    return this.allPages((from, limit) => this.chain.query('patient_records', 'grants', patient, from, limit));
  }

  private secret(): Uint8Array {
    const secret = storedSecret(this.me);
    if (!secret) throw new Error('this browser holds no encryption key for this account: create or load one first');
    return secret;
  }

  // ---- who is who ---------------------------------------------------------------------------

  /** The patient record of `address`, or `null` if not registered. */
  async patient(address: string): Promise<{ registeredAt: number; recordCount: number; grantCount: number } | null> {
    const found = await this.chain.query('patient_records', 'patient', this.me, address);
    return json(found);
  }

  /** The provider's role and status, or `null` if not registered. */
  async provider(address: string): Promise<{ role: string; status: string } | null> {
    const found = await this.chain.query('provider_registry', 'ProviderDirectory::provider', this.me, address);
    return json(found);
  }

  /** The encryption key `address` published (as a patient, or as a provider). */
  async publishedKey(address: string, asPatient: boolean): Promise<Uint8Array | null> {
    const contract = asPatient ? 'patient_records' : 'provider_registry';
    const key = json<string | null>(await this.chain.query(contract, 'encryption_key', this.me, address));
    return key ? hexToU8a(key) : null;
  }

  /** Registers the account as a patient. */
  async registerPatient(onState?: (s: TxState) => void): Promise<void> {
    await this.chain.send('patient_records', 'register_patient', this.account, [], onState);
  }

  /** Publishes this browser's encryption key (the patient's in the records contract, a provider's in the registry). */
  async publishKey(publicKey: Uint8Array, asPatient: boolean, onState?: (s: TxState) => void): Promise<void> {
    const contract = asPatient ? 'patient_records' : 'provider_registry';
    await this.chain.send(contract, 'set_encryption_key', this.account, [publicKey], onState);
  }

  /** Registers `provider` with `role` (the registry's admin only). */
  async registerProvider(provider: string, role: string, onState?: (s: TxState) => void): Promise<void> {
    await this.chain.send('provider_registry', 'register_provider', this.account, [provider, role], onState);
  }

  // ---- consent ------------------------------------------------------------------------------

  /** Every grant the account (a patient) has given, with the provider's role and time left. */
  async grants(): Promise<GrantView[]> {
    const best = await this.chain.bestBlock();
    const out: GrantView[] = [];
    for (const [provider, grant] of await this.rawGrants(this.me)) {
      out.push(grantView(provider, grant, best, (await this.provider(provider))?.role ?? null));
    }
    return out;
  }

  /**
   * Grants (or re-grants: narrows, widens, extends) `provider` `scope` until block `expiresAt`,
   * then shares with the provider's published key the data keys of the records its read scope
   * covers. Returns how many records were shared.
   */
  async grant(provider: string, scope: NamedScope, expiresAt: number | null, onState?: (s: TxState) => void): Promise<number> {
    // Sharing needs the patient's key here: say so before anything is sent.
    const secret = scope.read.length > 0 ? this.secret() : undefined;
    await this.chain.send('patient_records', 'grant_access', this.account, [provider, scopeBits(scope), expiresAt], onState);
    if (!secret) return 0;
    const key = await this.publishedKey(provider, false);
    if (!key) throw new Error(`granted on chain, but ${ss58(provider)} has published no encryption key: nothing could be shared; grant again once it has`);
    const env = await envelopeModule();
    let shared = 0;
    for (const record of await this.shareable()) {
      if (!scope.read.includes(record.category)) continue;
      try {
        let own;
        try {
          own = await this.vault.fetch(this.account, this.me, record.contentHash);
        } catch (e) {
          if (e instanceof VaultRefusal && e.status === 404) continue; // never uploaded to this vault
          throw e;
        }
        const wrapped = env.rewrap(own.envelope, own.wrapped, secret, key);
        await this.vault.share(this.account, this.me, record.contentHash, provider, { public_key: u8aToHex(key), wrapped: u8aToHex(wrapped) });
      } catch (e) {
        throw new Error(`granted on chain, but sharing record ${record.id} failed after ${shared} shared: ${(e as Error).message}; grant again to retry`);
      }
      shared += 1;
    }
    return shared;
  }

  /** The chart's live records and the latest risk report of each model. */
  private async shareable(): Promise<RecordView[]> {
    const records = (await this.records(this.me)).filter((r) => r.erasedAt === null);
    for (const model of this.chain.config.models) {
      const stored = await this.latestScore(this.me, model.hash).catch(() => null);
      if (stored) records.push(await this.record(this.me, stored.report_record));
    }
    return records;
  }

  /** Revokes `provider`'s grant on chain, then deletes its keys in the vault. Returns how many keys. */
  async revoke(provider: string, onState?: (s: TxState) => void): Promise<number> {
    await this.chain.send('patient_records', 'revoke_access', this.account, [provider], onState);
    return this.vault.revoke(this.account, this.me, provider);
  }

  // ---- records ------------------------------------------------------------------------------

  private recordView(raw: { id: number; category: RecordCategory; contentHash: string; locator: string; author: string; addedAt: number; erasedAt: number | null }): RecordView {
    return {
      id: raw.id,
      category: raw.category,
      contentHash: hexToU8a(raw.contentHash),
      locator: locatorString(raw.locator),
      author: ss58(raw.author),
      addedAt: raw.addedAt,
      erasedAt: raw.erasedAt,
    };
  }

  /** Every record of `patient`'s chart (public chain state: metadata only). */
  async records(patient: string): Promise<RecordView[]> {
    const raw = await this.allPages<never>((from, limit) => this.chain.query('patient_records', 'records', patient, patient, from, limit));
    return raw.map((r) => this.recordView(r));
  }

  /** One record of `patient`. */
  async record(patient: string, id: number): Promise<RecordView> {
    return this.recordView(json(await this.chain.query('patient_records', 'record', patient, patient, id)));
  }

  /**
   * Seals `document` in this browser for the record's readers (the patient, every provider
   * the records contract lets read `category` now, and the emergency key if the patient opted
   * in), anchors the envelope's SHA-256 (as the patient, or as a provider with a write grant:
   * audited) and uploads the envelope and its wrapped keys.
   */
  async addRecord(patient: string, category: RecordCategory, document: Uint8Array, onState?: (s: TxState) => void): Promise<{ id: number; hash: Uint8Array; readers: string[]; withoutKey: string[] }> {
    const { readers, withoutKey } = await this.readers(patient, category);
    const env = await envelopeModule();
    const sealed = env.seal(document, decodeAddress(patient), u8aConcat(...readers.map((r) => r.key)));
    const hash = sealed.contentHash;
    const locator = locatorArg(`vault://${u8aToHex(hash).slice(2)}`);
    const sent = await this.chain.send('patient_records', 'add_record', this.account, [patient, category, hash, locator, null], onState);
    // What happened in the block, from its events (the dry-run's answer may have changed since).
    const added = sent.events.find((e) => e.name === 'RecordAdded' && e.args.contentHash === u8aToHex(hash));
    if (!added) {
      const request = sent.events.find((e) => e.name === 'AccessRequested');
      const [, reason] = Object.entries((request?.args.decision ?? {}) as Record<string, string>)[0] ?? [];
      if (reason) throw new Error(`add_record denied: ${this.denial(reason).reason}: ${this.denial(reason).docs} (the attempt is audited on chain)`);
      throw new Error(`add_record: the block has no RecordAdded for this envelope (${JSON.stringify(json(sent.value))})`);
    }
    const outcome = { added: Number(added.args.recordId) };
    const keys: VaultKey[] = readers.map((r, i) => ({ recipient: r.account, public_key: u8aToHex(r.key), wrapped: u8aToHex(sealed.wrappedKey(i)!) }));
    await this.vault.upload(this.account, patient, hash, sealed.envelope, keys);
    sealed.free();
    return { id: outcome.added, hash, readers: readers.map((r) => r.account), withoutKey };
  }

  /** Who may open a new `category` record of `patient` now, with their published keys. */
  async readers(patient: string, category: RecordCategory): Promise<{ readers: { account: string; key: Uint8Array }[]; withoutKey: string[] }> {
    const own = await this.publishedKey(patient, true);
    if (!own) throw new Error(`${ss58(patient)} has published no encryption key yet: the patient publishes one first`);
    const readers = [{ account: ss58(patient), key: own }];
    const withoutKey: string[] = [];
    for (const [provider] of await this.rawGrants(patient)) {
      const decision = json<{ granted?: null; denied?: string }>(
        await this.chain.query('patient_records', 'ConsentCheck::access_decision', patient, patient, provider, category, 'Read'),
      );
      if (decision.granted === undefined) continue;
      const key = await this.publishedKey(provider, false);
      if (key) readers.push({ account: ss58(provider), key });
      else withoutKey.push(ss58(provider));
    }
    const optedIn = json<boolean>(await this.chain.query('patient_records', 'emergency_opt_in', patient, patient));
    const emergencyKey = optedIn ? json<string | null>(await this.chain.query('patient_records', 'emergency_key', patient)) : null;
    if (emergencyKey) readers.push({ account: this.chain.config.contracts.patient_records, key: hexToU8a(emergencyKey) });
    return { readers, withoutKey };
  }

  /** A denial reason with its doc text from the metadata. */
  denial(reason: string): Denial {
    const abi = this.chain.contracts.patient_records.abi;
    const variant = reason.charAt(0).toUpperCase() + reason.slice(1);
    return { reason: variant, docs: contractError(abi, 'ehr_types::DenialReason', variant).docs };
  }

  /**
   * Asks for access to `patient`'s `category` records: a transaction, so the request and its
   * decision are on chain (audited) whatever the answer. Returns the decision.
   */
  async requestAccess(patient: string, category: RecordCategory, onState?: (s: TxState) => void): Promise<{ granted: true; emergency: boolean } | { granted: false; denial: Denial }> {
    const sent = await this.chain.send('patient_records', 'request_access', this.account, [patient, category], onState);
    const event = sent.events.find((e) => e.name === 'AccessRequested');
    if (!event) throw new Error('request_access: the block has no AccessRequested event for the request');
    const decision = event.args.decision as { granted?: null; denied?: string };
    if (decision.denied !== undefined) return { granted: false, denial: this.denial(decision.denied) };
    return { granted: true, emergency: Boolean(event?.args.emergency) };
  }

  /**
   * Reads and opens `patient`'s record with this browser's key. A provider's read is
   * requested on chain first (audited); the vault then checks consent and that request.
   */
  async readRecord(patient: string, record: RecordView, onState?: (s: TxState) => void): Promise<Uint8Array> {
    if (record.erasedAt !== null) throw new Error(`record ${record.id} was erased by the patient in block ${record.erasedAt}`);
    if (ss58(patient) !== ss58(this.me)) {
      const decision = await this.requestAccess(patient, record.category, onState);
      if (!decision.granted) throw new AccessDenied(decision.denial);
    }
    const { envelope, wrapped } = await this.vault.fetch(this.account, patient, record.contentHash);
    const env = await envelopeModule();
    if (!u8aEq(env.contentHash(envelope), record.contentHash)) throw new Error(`the vault's envelope is not the one anchored as record ${record.id}`);
    return env.open(envelope, wrapped, this.secret(), decodeAddress(patient));
  }

  // ---- the audit trail ------------------------------------------------------------------------

  /** The patient-related events of blocks `from..=to`, newest first. */
  async trail(patient: string, from: number, to: number): Promise<TrailEntry[]> {
    const me = ss58(patient);
    const out: TrailEntry[] = [];
    for (let block = to; block >= from; block -= 1) {
      const { events, time } = await this.chain.blockEvents(block);
      for (const event of events.reverse()) {
        if (event.name === 'ScoresAccepted') {
          const scores = (event.args.scores as { patient: string }[]).filter((s) => ss58(s.patient) === me);
          for (const score of scores) out.push({ block, time, event: { name: event.name, args: { ...event.args, scores: [score] } } });
          continue;
        }
        const about = event.args.patient;
        if (typeof about === 'string' && ss58(about) === me) out.push({ block, time, event });
      }
    }
    return out;
  }

  /**
   * The patients who granted `provider` access at some time (their `AccessGranted` events since
   * the deployment), each with its grant now: `null` once revoked.
   */
  async patientsOf(provider: string): Promise<{ patient: string; grant: GrantView | null }[]> {
    const me = ss58(provider);
    const best = await this.chain.bestBlock();
    const seen = new Set<string>();
    for (let block = this.chain.config.deployedAt; block <= best; block += 1) {
      for (const event of (await this.chain.blockEvents(block)).events) {
        if (event.name === 'AccessGranted' && ss58(event.args.provider as string) === me) seen.add(ss58(event.args.patient as string));
      }
    }
    const out = [];
    for (const patient of seen) {
      let grant: GrantView | null = null;
      try {
        grant = grantView(provider, json(await this.chain.query('patient_records', 'grant_of', this.me, patient, provider)), best, null);
      } catch (e) {
        if (!(e instanceof ContractFailure)) throw e; // the contract's "no grant": revoked since
      }
      out.push({ patient, grant });
    }
    return out;
  }

  // ---- risk reports -----------------------------------------------------------------------

  /** `patient`'s latest sealed score of `modelHash` (commitment, report record, signer; never the risk). */
  async latestScore(patient: string, modelHash: string): Promise<{ commitment: string; report_hash: string; report_record: number; input_hash: string; computed_at: number; signer: string; nonce: number; accepted_at: number } | null> {
    const raw = json<Record<string, unknown> | null>(await this.chain.query('risk_scores', 'latest_score', this.me, patient, modelHash));
    if (!raw) return null;
    return {
      commitment: raw.commitment as string,
      report_hash: raw.reportHash as string,
      report_record: raw.reportRecord as number,
      input_hash: raw.inputHash as string,
      computed_at: Number(raw.computedAt),
      signer: raw.signer as string,
      nonce: Number(raw.nonce),
      accepted_at: raw.acceptedAt as number,
    };
  }

  /**
   * Reads `patient`'s latest report of `modelHash`, opens it here, and checks it: it is the
   * score's report record, its result and salt open the on-chain commitment, its patient,
   * model, input and time are the score's, and the oracle's ed25519 signature verifies over the
   * batch that carried it (from the accepting transaction's call data).
   */
  async readReport(patient: string, modelHash: string, onState?: (s: TxState) => void): Promise<CheckedReport | null> {
    const stored = await this.latestScore(patient, modelHash);
    if (!stored) return null;
    const record = await this.record(patient, stored.report_record);
    if (u8aToHex(record.contentHash) !== stored.report_hash || record.category !== 'RiskAssessment') {
      throw new Error(`record ${stored.report_record} is not the score's report`);
    }
    const document = JSON.parse(u8aToString(await this.readRecord(patient, record, onState))) as FhirReport;
    const report = parseReport(document);
    const checks: string[] = [];
    const fail = (what: string) => {
      throw new Error(`the report does not check out: ${what}`);
    };
    if (report.patient !== u8aToHex(decodeAddress(patient))) fail('it is about another patient');
    if (report.modelHash !== modelHash.toLowerCase()) fail('it is of another model');
    if (report.inputHash !== stored.input_hash) fail('it scored another document than the on-chain score');
    if (report.computedAt !== stored.computed_at) fail('its time differs from the on-chain score');
    const commitment = u8aToHex(sha256AsU8a(u8aConcat(SCORE_COMMITMENT_CONTEXT, hexToU8a(report.salt), scoreResult(report.riskPpm, report.band))));
    if (commitment !== stored.commitment) fail('its result does not open the on-chain commitment');
    checks.push('its risk and band open the on-chain commitment (SHA-256 with its salt)');
    checks.push('patient, model, scored document and time are the on-chain score\'s');
    await this.checkSignature(stored, report, commitment);
    checks.push(`the oracle's ed25519 signature verifies over the batch of block ${stored.accepted_at}`);
    return { ...report, checks };
  }

  private async checkSignature(stored: NonNullable<Awaited<ReturnType<Session['latestScore']>>>, report: ReturnType<typeof parseReport>, commitment: string): Promise<void> {
    const { api, contracts, config } = this.chain;
    const hash = await api.rpc.chain.getBlockHash(stored.accepted_at);
    const [block, at] = await Promise.all([api.rpc.chain.getBlock(hash), api.at(hash)]);
    // The transactions whose ScoresAccepted event names the score: only those carried it.
    const records = (await at.query.system.events()) as unknown as EventRecord[];
    const carriers = new Set<number>();
    for (const record of records) {
      if (!record.phase.isApplyExtrinsic) continue;
      const [event] = this.chain.suiteEvents([record]);
      const scores = (event?.args.scores ?? []) as { nonce: number }[];
      if (event?.name === 'ScoresAccepted' && event.args.signer === stored.signer && scores.some((x) => Number(x.nonce) === stored.nonce)) {
        carriers.add(record.phase.asApplyExtrinsic.toNumber());
      }
    }
    const abi = contracts.risk_scores.abi;
    let refusal = `no transaction in block ${stored.accepted_at} carried the score's signed batch`;
    for (const [index, extrinsic] of block.block.extrinsics.entries()) {
      if (!carriers.has(index)) continue;
      const { section, method, args } = extrinsic.method;
      if (section !== 'contracts' || method !== 'call') continue;
      const dest = args[0] as unknown as { isId?: boolean; asId?: Codec };
      if (!sameAccount((dest.isId ? dest.asId! : args[0]).toString(), config.contracts.risk_scores)) continue;
      const data = args[args.length - 1] as unknown as Codec;
      let decoded;
      try {
        // decodeMessage takes the call data with its compact length prefix, as `Bytes` encodes.
        decoded = abi.decodeMessage(data.toU8a());
      } catch {
        continue;
      }
      if (!['submit_scores', 'submit_score'].includes(decoded.message.identifier)) continue;
      const [batch, signature] = decoded.args;
      const b = batch.toJSON() as { contract: string; chain: string; signer: string; attestations: { nonce: number; reportHash: string; commitment: string; patient: string; modelHash: string; inputHash: string; computedAt: number }[] };
      const attestation = b.attestations.find((a) => Number(a.nonce) === stored.nonce);
      if (b.signer !== stored.signer || !attestation) continue;
      if (!sameAccount(b.contract, config.contracts.risk_scores) || b.chain !== config.chain) {
        refusal = 'the signed batch is for another contract or chain';
      } else if (!ed25519Verify(u8aConcat(SCORE_SIGNING_CONTEXT, blake2AsU8a(batch.toU8a(), 256)), signature.toU8a(), hexToU8a(b.signer))) {
        refusal = 'the oracle\'s signature does not verify over the batch';
      } else if (attestation.reportHash !== stored.report_hash || attestation.commitment !== commitment) {
        refusal = 'the signed attestation names another report or result';
      } else if (u8aToHex(decodeAddress(attestation.patient)) !== report.patient || attestation.modelHash !== report.modelHash || attestation.inputHash !== report.inputHash || Number(attestation.computedAt) !== report.computedAt) {
        refusal = 'the signed attestation differs from the report';
      } else {
        return;
      }
    }
    throw new Error(refusal);
  }
}

/** A denied request, with the reason in words. */
export class AccessDenied extends Error {
  constructor(readonly denial: Denial) {
    super(`access denied: ${denial.reason}: ${denial.docs} (the denied request is on chain)`);
  }
}

/** The FHIR `RiskAssessment` the oracle writes, as far as read here. */
interface FhirReport {
  resourceType: string;
  subject?: { identifier?: { system?: string; value?: string } };
  method?: { coding?: { code?: string }[] };
  basis?: { identifier?: { system?: string; value?: string }; reference?: string }[];
  extension?: FhirExtension[];
}
interface FhirExtension {
  url: string;
  extension?: FhirExtension[];
  valueInteger?: number;
  valueInteger64?: string;
  valueCode?: string;
  valueString?: string;
  valueDecimal?: number;
}

/** SCALE of `ScoreResult { risk_ppm: u32, band: ScoreBand }`. */
function scoreResult(riskPpm: number, band: string): Uint8Array {
  const out = new Uint8Array(5);
  new DataView(out.buffer).setUint32(0, riskPpm, true);
  out[4] = BANDS.indexOf(band);
  return out;
}

/** Reads the oracle's report (`ai-oracle/src/report.rs`); throws saying what is missing. */
function parseReport(doc: FhirReport) {
  const malformed = (what: string): never => {
    throw new Error(`not a score report: missing or invalid ${what}`);
  };
  if (doc.resourceType !== 'RiskAssessment') malformed('resourceType (RiskAssessment)');
  const ext = (list: FhirExtension[] | undefined, name: string) => (list ?? []).filter((e) => e.url === `${EXTENSION_BASE}${name}`);
  const sub = (e: FhirExtension, name: string) => (e.extension ?? []).find((x) => x.url === name);
  const result = ext(doc.extension, 'score-result')[0] ?? malformed('score-result');
  const riskPpm = sub(result, 'riskPpm')?.valueInteger ?? malformed('riskPpm');
  if (!Number.isInteger(riskPpm) || riskPpm < 0 || riskPpm > 1_000_000) malformed('riskPpm (0–1 000 000)');
  const band = sub(result, 'band')?.valueCode ?? malformed('band');
  if (!BANDS.includes(band)) malformed('band');
  const salt = sub(result, 'salt')?.valueString ?? malformed('salt');
  const modelHash = ext(doc.extension, 'model-hash')[0]?.valueString ?? malformed('model-hash');
  const computedAt = Number(ext(doc.extension, 'computed-at')[0]?.valueInteger64 ?? malformed('computed-at'));
  if (doc.subject?.identifier?.system !== ACCOUNT_SYSTEM) malformed('subject');
  const patient = doc.subject?.identifier?.value ?? malformed('subject');
  const inputHash = doc.basis?.find((b) => b.identifier?.system === RECORD_SYSTEM)?.identifier?.value ?? malformed('basis (scored document)');
  const terms = ext(doc.extension, 'contribution').map((e) => ({
    term: sub(e, 'term')?.valueString ?? malformed('contribution term'),
    coefficient: sub(e, 'coefficient')?.valueDecimal ?? malformed('coefficient'),
    value: sub(e, 'value')?.valueDecimal ?? malformed('value'),
    contribution: sub(e, 'contribution')?.valueDecimal ?? malformed('contribution'),
  }));
  const sources = (doc.basis ?? []).flatMap((b) => (b.reference ? [b.reference] : []));
  const modelId = doc.method?.coding?.[0]?.code ?? malformed('method');
  const hex0x = (v: string) => (v.startsWith('0x') ? v : `0x${v}`).toLowerCase();
  return { patient: hex0x(patient), modelId, modelHash: hex0x(modelHash), inputHash: hex0x(inputHash), salt: hex0x(salt), riskPpm, band, computedAt, terms, sources };
}

export { RECORD_CATEGORIES, categoriesOf, ss58 };
