// The contracts' metadata as a dApp meets it: every bundle loads in @polkadot/api-contract (the
// ecosystem's standard dApp library), and every constructor, message (arguments and return
// value) and event of every contract encodes and decodes through it, offline. The shared types
// carry their doc comments, so a dApp can show what an error or a category means.
//
// Run: `npm test` (CONTRACTS_DIR: the folder of the release `.json` metadata, default
// ../target/contracts, which scripts/build-contracts.sh fills).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Abi } from '@polkadot/api-contract';
import { compactStripLength, u8aToHex } from '@polkadot/util';

const DIR = process.env.CONTRACTS_DIR ?? fileURLToPath(new URL('../../target/contracts', import.meta.url));
const NAMES = ['provider_registry', 'patient_records', 'risk_scores'];
const load = (name) => JSON.parse(readFileSync(`${DIR}/${name}.json`, 'utf8'));
const typeName = (def) => def.lookupName || def.type;
// A default (zero) value of each argument's type, built by the Abi's own registry.
const defaults = (abi, args) => args.map((a) => abi.registry.createType(typeName(a.type)));
// The metadata's type of path `path` (e.g. `ehr_types::errors::RecordsError`).
const typeAt = (json, path) => json.types.find((x) => (x.type.path ?? []).join('::') === path)?.type;

for (const name of NAMES) {
  const json = load(name);
  const abi = new Abi(json);

  test(`${name}: the metadata is ink! v5 and loads`, () => {
    assert.equal(json.version, 5);
    assert.equal(abi.metadata.version.toString(), '5');
    assert.match(json.source.language, /^ink! 5\./);
    assert.ok(abi.constructors.length > 0 && abi.messages.length > 0);
  });

  const roundTrip = (t, list, decode, kind) => {
    for (const m of list) {
      const values = defaults(abi, m.args);
      const data = m.toU8a(values); // compact length, selector, arguments
      const [, body] = compactStripLength(data);
      assert.equal(u8aToHex(body.subarray(0, 4)), m.selector.toHex(), `${kind} ${m.identifier}: selector`);
      const decoded = decode(data);
      assert.equal(decoded.message.identifier, m.identifier);
      assert.equal(decoded.args.length, m.args.length);
      let consumed = 4;
      decoded.args.forEach((v, i) => {
        assert.equal(v.toHex(), values[i].toHex(), `${kind} ${m.identifier}: argument ${m.args[i].name}`);
        consumed += v.encodedLength;
      });
      assert.equal(consumed, body.length, `${kind} ${m.identifier}: all call data consumed`);
      assert.ok(m.docs.length > 0, `${kind} ${m.identifier} has a doc comment`);
    }
    t.diagnostic(`${list.length} ${kind}s round-tripped`);
  };

  test(`${name}: constructors encode and decode`, (t) =>
    roundTrip(t, abi.constructors, (d) => abi.decodeConstructor(d), 'constructor'));

  test(`${name}: messages encode and decode`, (t) =>
    roundTrip(t, abi.messages, (d) => abi.decodeMessage(d), 'message'));

  test(`${name}: every message's return type round-trips`, () => {
    for (const m of abi.messages) {
      assert.ok(m.returnType, `${m.identifier} has a return type`);
      const T = typeName(m.returnType);
      const value = abi.registry.createType(T);
      const back = abi.registry.createType(T, value.toU8a());
      assert.equal(back.toHex(), value.toHex(), `${m.identifier} -> ${T}`);
      assert.equal(back.encodedLength, value.toU8a().length);
    }
  });

  test(`${name}: events are found by their signature topic and decode`, (t) => {
    const contract = abi.registry.createType('AccountId', new Uint8Array(32).fill(7));
    for (const ev of abi.events) {
      assert.match(ev.signatureTopic ?? '', /^0x[0-9a-f]{64}$/, `${ev.identifier} has a signature topic`);
      const values = defaults(abi, ev.args);
      const data = Uint8Array.from(Buffer.concat(values.map((v) => v.toU8a())));
      // The shape Abi#decodeEventV5 reads: topics[0] and the event's data.
      const record = { event: { data: [contract, data] }, topics: [abi.registry.createType('Hash', ev.signatureTopic)] };
      const decoded = abi.decodeEvent(record);
      assert.equal(decoded.event.identifier, ev.identifier);
      decoded.args.forEach((v, i) => assert.equal(v.toHex(), values[i].toHex(), `${ev.identifier}.${ev.args[i].name}`));
      assert.equal(decoded.args.reduce((sum, v) => sum + v.encodedLength, 0), data.length);
    }
    const unknown = { event: { data: [contract, new Uint8Array()] }, topics: [abi.registry.createType('Hash', `0x${'ab'.repeat(32)}`)] };
    assert.throws(() => abi.decodeEvent(unknown), /Unable to determine event/);
    t.diagnostic(`${abi.events.length} events`);
  });

  test(`${name}: the shared types carry their doc comments`, () => {
    for (const path of [
      'ehr_types::RecordCategory',
      'ehr_types::DenialReason',
      'ehr_types::CategorySet',
      'ehr_types::Scope',
      'ehr_types::api::UpgradeError',
    ]) {
      const type = typeAt(json, path);
      if (!type) continue; // not every contract uses every type
      assert.ok(type.docs?.length > 0, `${path} has a doc comment`);
      for (const v of type.def.variant?.variants ?? []) assert.ok(v.docs?.length > 0, `${path}::${v.name} has a doc comment`);
    }
  });
}

test('the contracts\' typed errors say what was wrong, in the metadata', () => {
  for (const [name, path, variant, words] of [
    ['provider_registry', 'ehr_types::errors::RegistryError', 'NotAdmin', /admin/i],
    ['patient_records', 'ehr_types::errors::RecordsError', 'EmergencyAlreadyOpen', /never extended/],
    ['risk_scores', 'ehr_types::errors::ScoreError', 'StaleNonce', /nonce/],
  ]) {
    const type = typeAt(load(name), path);
    const found = type.def.variant.variants.find((v) => v.name === variant);
    assert.match(found.docs.join(' '), words, `${path}::${variant}`);
  }
});

test('risk_scores is constructed with (records, chain, upgrade_delay)', () => {
  const abi = new Abi(load('risk_scores'));
  assert.deepEqual(abi.constructors[0].args.map((a) => a.name), ['records', 'chain', 'upgradeDelay']);
});
