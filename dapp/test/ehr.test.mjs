// The typed layer (src/ehr.ts, built to dist/) against the contracts' own metadata: the
// category order is the contracts', errors in both JSON shapes become one with their doc text,
// locators are text, events have their short names.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Abi } from '@polkadot/api-contract';
import {
  RECORD_CATEGORIES,
  categorySet,
  categoriesOf,
  scopeBits,
  namedScope,
  locatorBytes,
  locatorArg,
  locatorString,
  contractError,
  namedEvent,
  messageErrorPath,
  EhrInputError,
} from '../dist/ehr.js';

const DIR = process.env.CONTRACTS_DIR ?? fileURLToPath(new URL('../../target/contracts', import.meta.url));
const abiOf = (name) => new Abi(JSON.parse(readFileSync(`${DIR}/${name}.json`, 'utf8')));
const records = abiOf('patient_records');

test('the categories are the contracts\', in their order', () => {
  const type = records.json.types.find((t) => (t.type.path ?? []).join('::') === 'ehr_types::RecordCategory').type;
  assert.deepEqual(type.def.variant.variants.map((v) => v.name), [...RECORD_CATEGORIES]);
  assert.deepEqual(type.def.variant.variants.map((v) => v.index), RECORD_CATEGORIES.map((_, i) => i));
});

test('category names and bit sets', () => {
  assert.equal(categorySet(['ClinicalNote']), 1);
  assert.equal(categorySet(['LabResult', 'RiskAssessment']), 2 | 1024);
  assert.deepEqual(categoriesOf(2 | 1024), ['LabResult', 'RiskAssessment']);
  assert.deepEqual(namedScope(scopeBits({ read: ['Vitals'], write: [] })), { read: ['Vitals'], write: [] });
  assert.throws(() => categorySet(['Gossip']), (e) => e instanceof EhrInputError && /Gossip.*ClinicalNote/.test(e.message));
  assert.throws(() => categoriesOf(1 << 11), /not a set of record categories/);
  // The bits encode as the contract's Scope and decode back by name.
  const entry = records.json.types.find((t) => (t.type.path ?? []).join('::') === 'ehr_types::Scope');
  const Scope = records.registry.lookup.getTypeDef(entry.id).lookupName;
  const scope = records.registry.createType(Scope, scopeBits({ read: ['LabResult'], write: ['Vitals'] }));
  assert.equal(scope.toHex(), '0x02000400');
  assert.deepEqual(namedScope(scope.toJSON()), { read: ['LabResult'], write: ['Vitals'] });
});

test('locators are text, checked as the contract checks them', () => {
  assert.equal(locatorString(locatorBytes('vault://0x12ab')), 'vault://0x12ab');
  assert.equal(locatorString('0x7661756c743a2f2f6162'), 'vault://ab', 'hex from JSON is decoded');
  const codec = records.registry.createType('Vec<u8>', Array.from(locatorBytes('ipfs://bafy')));
  assert.equal(locatorString(codec), 'ipfs://bafy');
  // As add_record's argument: the text's bytes, not read as SCALE or hex.
  const add = records.messages.find((m) => m.identifier === 'add_record');
  const args = [new Uint8Array(32), 'Summary', new Uint8Array(32), locatorArg('vault://0x12'), null];
  const decoded = records.decodeMessage(add.toU8a(args));
  assert.equal(locatorString(decoded.args[3]), 'vault://0x12');
  for (const [bad, why] of [
    ['', /empty/],
    ['file:///etc/passwd', /scheme "file" is not allowed/],
    ['vault://a b', /printable ASCII/],
    [`ipfs://${'x'.repeat(128)}`, /at most 128/],
    ['no-scheme', /scheme:\/\//],
  ]) {
    assert.throws(() => locatorBytes(bad), why, bad);
  }
});

test('errors in either JSON shape become one, with their doc text', () => {
  const registry = abiOf('provider_registry');
  const notAdmin = contractError(registry, 'ehr_types::errors::RegistryError', 'NotAdmin');
  assert.equal(notAdmin.variant, 'NotAdmin');
  assert.match(notAdmin.docs, /not the admin/);
  const exists = contractError(records, 'ehr_types::errors::RecordsError', { patientAlreadyExists: null });
  assert.deepEqual([exists.type, exists.variant, exists.data], ['RecordsError', 'PatientAlreadyExists', null]);
  assert.match(exists.docs, /already a registered patient/);
  const denied = contractError(records, 'ehr_types::errors::RecordsError', { accessDenied: 'NoGrant' });
  assert.deepEqual([denied.variant, denied.data], ['AccessDenied', 'NoGrant']);
  assert.throws(() => contractError(records, 'ehr_types::errors::RecordsError', 'Nonsense'), /not a variant/);
});

test('events by their short name', () => {
  const event = records.events.find((e) => e.identifier.endsWith('::RecordErased'));
  const values = event.args.map((a) => records.registry.createType(a.type.lookupName || a.type.type));
  const data = Uint8Array.from(Buffer.concat(values.map((v) => v.toU8a())));
  const contract = records.registry.createType('AccountId', new Uint8Array(32));
  const named = namedEvent(records, { event: { data: [contract, data] }, topics: [records.registry.createType('Hash', event.signatureTopic)] });
  assert.equal(named.name, 'RecordErased');
  assert.deepEqual(Object.keys(named.args), ['patient', 'recordId', 'contentHash']);
});

test('each message\'s error type, for contractError', () => {
  const registry = abiOf('provider_registry');
  const scores = abiOf('risk_scores');
  assert.equal(messageErrorPath(records, 'grant_access'), 'ehr_types::errors::RecordsError');
  assert.equal(messageErrorPath(registry, 'register_provider'), 'ehr_types::errors::RegistryError');
  assert.equal(messageErrorPath(scores, 'latest_score'), 'ehr_types::errors::ScoreError');
  assert.equal(messageErrorPath(records, 'Upgradeable::apply_upgrade'), 'ehr_types::api::UpgradeError');
  // Queries that cannot fail: no error type.
  assert.equal(messageErrorPath(records, 'patient'), undefined);
  assert.equal(messageErrorPath(records, 'emergency_opt_in'), undefined);
  assert.throws(() => messageErrorPath(records, 'steal_records'), /no message steal_records/);
  // Every message's error type is an enum contractError reads.
  for (const abi of [records, registry, scores]) {
    for (const m of abi.json.spec.messages) {
      const path = messageErrorPath(abi, m.label);
      if (path) assert.ok(contractError(abi, path, abi.json.types.find((t) => (t.type.path ?? []).join('::') === path).type.def.variant.variants[0].name).docs.length > 0, `${m.label}: ${path}`);
    }
  }
});
