// The web app in Debian's Chromium (headless, playwright-core) against a real
// substrate-contracts-node and a real vault (scripts/dapp.sh): the seed paper's six steps
// clicked through as the admin, a patient and a doctor; the uploaded record round-trips
// encrypted; the oracle's sealed risk report decrypts, checks out and its chart renders; a
// revoked doctor's page shows the denial and the patient's audit view shows that attempt; the
// states a user meets (no wallet, wrong chain, not registered, grant expired, a transaction
// refused with the contract's typed error in words). Screenshots in target/dapp-screenshots.
//
// Run: `npm run e2e` in dapp/ (scripts/test.sh does), after scripts/setup.sh.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { browser, DEV, ROOT, serve, shot } from './harness.mjs';

let server;
let chrome;

before(async () => {
  server = await serve();
  chrome = await browser();
});

after(async () => {
  await chrome?.close();
  await server?.stop();
});

/** The app as `account` in `role`, ready. */
async function open(account, role = 'patient') {
  const page = await chrome.context.newPage();
  page.on('pageerror', (e) => console.error(`[${account}] page error: ${e.message}`));
  await page.goto(`${server.app}?account=${account}&role=${role}`);
  await page.waitForSelector('body[data-ready=true]', { timeout: 60_000 });
  return page;
}

/**
 * Clicks `button` and waits for the transaction it starts to reach a final state (in block, or
 * failed); returns the transaction line's text.
 */
async function settled(page, button, expect = 'in-block') {
  const before = await page.getByTestId('tx').count();
  await button.click();
  await page.waitForFunction((n) => document.querySelectorAll('[data-testid=tx]').length > n, before, { timeout: 60_000 });
  const line = page.getByTestId('tx').first();
  await line.and(page.locator('[data-state=in-block], [data-state=failed]')).waitFor({ timeout: 60_000 });
  const text = await line.innerText();
  assert.equal(await line.getAttribute('data-state'), expect, text);
  return text;
}

/** Creates this account's encryption key in the browser and publishes it. */
async function keyUp(page) {
  await page.getByTestId('key-create').click();
  await settled(page, page.getByTestId('key-publish'));
  await page.getByTestId('key-state').waitFor();
}

/** Every file under `dir`. */
const files = (dir) => readdirSync(dir).flatMap((f) => (statSync(join(dir, f)).isDirectory() ? files(join(dir, f)) : [join(dir, f)]));

/** The oracle's sample FHIR bundle, measured recently (the oracle refuses stale inputs). */
function sample() {
  const day = (n) => new Date(Date.now() - n * 86_400_000).toISOString().slice(0, 10);
  return readFileSync(join(ROOT, 'ai-oracle/fixtures/patient-a-white-female.json'), 'utf8').replaceAll('2024-06-10', day(20)).replaceAll('2024-06-12', day(18));
}

test('the seed paper\'s six steps, an encrypted round trip, a risk report, a revoked doctor denied and audited', async (t) => {
  const document = sample();
  const bob = await open('bob');
  const charlie = await open('charlie', 'clinician');

  await t.test('step 1: the patient registers (and publishes an encryption key made in the browser)', async () => {
    await bob.getByTestId('not-registered').waitFor();
    await settled(bob, bob.getByTestId('register-patient'));
    await bob.getByTestId('patient-state').waitFor();
    await keyUp(bob);
    await shot(bob, '1-patient-registered');
  });

  await t.test('step 2: only the admin registers doctors; the refusal is the typed error in words', async () => {
    const eve = await open('eve', 'admin');
    await eve.getByTestId('provider-account').fill(DEV.dave);
    const refused = await settled(eve, eve.getByTestId('register-provider'), 'failed');
    assert.match(refused, /NotAdmin/);
    assert.match(refused, /admin/i, 'the variant\'s doc text is shown');
    await shot(eve, '2-not-admin-refused');
    await eve.close();

    const alice = await open('alice', 'admin');
    for (const who of [DEV.charlie, DEV.dave]) {
      await alice.getByTestId('provider-account').fill(who);
      await alice.getByTestId('provider-role').selectOption('Doctor');
      await settled(alice, alice.getByTestId('register-provider'));
    }
    await shot(alice, '2-doctors-registered');
    await alice.close();
    await charlie.reload();
    await charlie.waitForSelector('body[data-ready=true]');
    assert.match(await charlie.getByTestId('provider-state').innerText(), /Doctor, active/);
    await keyUp(charlie);
  });

  await t.test('step 3: the patient adds a record, sealed in the browser; the vault holds only ciphertext', async () => {
    await bob.getByTestId('upload-category').selectOption('Summary');
    await bob.getByTestId('upload-text').fill(document);
    await settled(bob, bob.getByTestId('upload'));
    await bob.getByTestId('uploaded').waitFor();
    await bob.getByTestId('record-row').first().waitFor();
    const vault = files(join(server.state, 'vault-data')).map((f) => readFileSync(f));
    assert.equal(vault.filter((b) => b.subarray(0, 4).toString() === 'EHRV').length, 1, 'one envelope in the vault');
    for (const b of vault) assert.ok(!b.includes('resourceType') && !b.includes('Observation'), 'no plaintext FHIR anywhere in the vault\'s files (envelopes and index)');
    // The patient opens it again here: the round trip through the vault.
    await bob.getByTestId('open-record').first().click();
    await assert.doesNotReject(bob.getByTestId('document').first().getByText('"resourceType"').first().waitFor());
    assert.equal((await bob.getByTestId('document').first().innerText()).trim(), document.trim());
  });

  await t.test('step 4: the patient grants the doctor, and the record is shared with the doctor\'s key', async () => {
    await bob.getByTestId('grant-provider').fill(DEV.charlie);
    for (const c of ['Summary', 'RiskAssessment']) await bob.getByTestId('scope-read').getByLabel(c).check();
    await bob.getByTestId('scope-write').getByLabel('ClinicalNote').check();
    await bob.getByTestId('grant-blocks').fill('500');
    await settled(bob, bob.getByTestId('grant-submit'));
    assert.match(await bob.getByTestId('granted').innerText(), /1 record\(s\) shared/);
    const row = bob.locator(`[data-testid=grant-row][data-provider="${DEV.charlie}"]`);
    assert.match(await row.innerText(), /Doctor[\s\S]*Summary, RiskAssessment[\s\S]*ClinicalNote[\s\S]*blocks left/);
    await shot(bob, '4-grant');
  });

  await t.test('step 6: the doctor views the record: the request is audited, the record decrypts in the doctor\'s browser', async () => {
    await charlie.reload();
    await charlie.waitForSelector('body[data-ready=true]');
    const row = charlie.locator(`[data-testid=patient-row][data-patient="${DEV.bob}"]`);
    assert.match(await row.innerText(), /Summary, RiskAssessment/);
    await row.getByTestId('open-chart').click();
    await charlie.getByTestId('request-open').first().click();
    await charlie.getByTestId('access-granted').waitFor({ timeout: 60_000 });
    assert.equal((await charlie.getByTestId('document').first().innerText()).trim(), document.trim());
    // The doctor adds a note with the write grant.
    await charlie.getByTestId('add-category').selectOption('ClinicalNote');
    await charlie.getByTestId('add-text').fill('Seen today; statin discussed.');
    await charlie.getByTestId('add-record').click();
    await charlie.getByTestId('record-added').waitFor({ timeout: 60_000 });
    await shot(charlie, '6-doctor-reads');
  });

  await t.test('one envelope: the browser\'s key file opens with the ehr CLI what a browser sealed, and the browser opens what the CLI sealed', async () => {
    const [download] = await Promise.all([bob.waitForEvent('download'), bob.getByTestId('key-save').click()]);
    const key = join(server.state, 'bob.key');
    await download.saveAs(key);
    chmodSync(key, 0o600);
    assert.match(readFileSync(key, 'utf8'), /^[0-9a-f]{64}\n$/, 'the CLI\'s key file format');
    assert.equal(server.runEhr('patient', 'read', '1', '--suri', '//Bob', '--key', key), 'Seen today; statin discussed.');
    const file = join(server.state, 'vitals.json');
    writeFileSync(file, '{"resourceType":"Observation","code":{"text":"blood pressure"},"valueString":"120/80"}');
    server.runEhr('patient', 'upload', '--suri', '//Bob', '--category', 'vitals', file);
    await bob.reload();
    await bob.waitForSelector('body[data-ready=true]');
    const row = bob.locator('[data-testid=record-row][data-id="2"]');
    await row.getByTestId('open-record').click();
    await bob.getByText('"valueString":"120/80"').waitFor();
  });

  await t.test('a risk report: the oracle scores the record; the patient decrypts it, checks it and sees its chart', async () => {
    await bob.getByTestId('grant-provider').fill(server.oracle);
    await bob.getByTestId('scope-read').getByLabel('Summary').check();
    await bob.getByTestId('grant-blocks').fill('');
    await settled(bob, bob.getByTestId('grant-submit'));
    const out = server.runOracle('post', '--patient', DEV.bob, '--record', '0', '--node', server.node, '--vault', server.vault);
    assert.match(out, /accepted/);
    await bob.reload();
    await bob.waitForSelector('body[data-ready=true]');
    await bob.getByTestId('open-report').first().click();
    await bob.getByTestId('report').or(bob.getByTestId('error')).first().waitFor({ timeout: 60_000 });
    assert.equal(await bob.getByTestId('error').count(), 0, await bob.getByTestId('error').allInnerTexts().then((t) => t.join('\n')));
    const checks = await bob.getByTestId('report-checks').innerText();
    assert.match(checks, /open the on-chain commitment/);
    assert.match(checks, /ed25519 signature verifies/);
    assert.match(await bob.getByTestId('report-risk').innerText(), /^\d+\.\d %$/);
    const bars = await bob.getByTestId('contribution-chart').locator('[data-testid=bar]').count();
    assert.ok(bars >= 5, `one bar per term: ${bars}`);
    await bob.getByTestId('report').scrollIntoViewIfNeeded();
    await shot(bob, 'risk-report');
  });

  await t.test('step 5: the patient revokes the doctor; the doctor\'s page shows the denial; the patient\'s audit view shows it', async () => {
    await settled(bob, bob.locator(`[data-testid=grant-row][data-provider="${DEV.charlie}"]`).getByTestId('revoke'));
    await bob.getByTestId('revoked').waitFor();

    await charlie.reload();
    await charlie.waitForSelector('body[data-ready=true]');
    const row = charlie.locator(`[data-testid=patient-row][data-patient="${DEV.bob}"]`);
    assert.match(await row.getByTestId('patient-grant').innerText(), /revoked/);
    await row.getByTestId('open-chart').click();
    await charlie.getByTestId('request-open').first().click();
    const denied = await charlie.getByTestId('access-denied').innerText({ timeout: 60_000 });
    assert.match(denied, /NoGrant/);
    assert.match(denied, /not granted/i, 'the reason\'s doc text is shown');
    await shot(charlie, '5-revoked-doctor-denied');

    await bob.reload();
    await bob.waitForSelector('body[data-ready=true]');
    const first = bob.getByTestId('trail-row').first();
    assert.equal(await first.getAttribute('data-event'), 'AccessRequested');
    assert.match(await first.getAttribute('class'), /denied/);
    assert.match(await first.innerText(), /read request denied[\s\S]*NoGrant/);
    assert.match(await first.locator('.addr').getAttribute('title'), new RegExp(DEV.charlie));
    // Earlier in the trail: the granted read, the grant, the revocation.
    const events = await bob.getByTestId('trail-row').evaluateAll((rows) => rows.map((r) => r.dataset.event));
    for (const e of ['AccessRevoked', 'AccessGranted', 'RecordAdded', 'PatientRegistered']) assert.ok(events.includes(e), `${e} in ${events}`);
    await bob.getByTestId('trail').scrollIntoViewIfNeeded();
    await shot(bob, '5-patient-audit-shows-denial');
    // The whole patient page, its risk report open (the README's screenshot).
    await bob.getByTestId('open-report').first().click();
    await bob.getByTestId('report').waitFor({ timeout: 60_000 });
    await shot(bob, 'patient-page');
  });
});

test('the states a user meets: a grant expired (then extended), emergency access in the trail, no wallet on a real chain, a wallet without accounts, the wrong chain, the node unreachable', async () => {
  const bob = await open('bob');
  await bob.getByTestId('grant-provider').fill(DEV.dave);
  await bob.getByTestId('scope-read').getByLabel('Vitals').check();
  // A grant that ends before its own block is refused in that block, with the typed error.
  await bob.getByTestId('grant-blocks').fill('1');
  assert.match(await settled(bob, bob.getByTestId('grant-submit'), 'failed'), /reverted in its block: grant_access refused: ExpiryNotInFuture: The expiry block is not in the future/);
  // A grant of 2 blocks is expired by the time anything else happens.
  await bob.getByTestId('grant-blocks').fill('2');
  await settled(bob, bob.getByTestId('grant-submit'));
  await bob.getByTestId('upload-category').selectOption('Vitals');
  await bob.getByTestId('upload-text').fill('{"resourceType":"Observation","code":"bp"}');
  await settled(bob, bob.getByTestId('upload'));
  await bob.reload();
  await bob.waitForSelector('body[data-ready=true]');
  assert.match(await bob.locator(`[data-testid=grant-row][data-provider="${DEV.dave}"]`).getByTestId('grant-expiry').innerText(), /expired at block/);
  const dave = await open('dave', 'clinician');
  assert.match(await dave.locator(`[data-testid=patient-row][data-patient="${DEV.bob}"]`).getByTestId('patient-grant').innerText(), /expired/);
  await dave.getByTestId('key-create').click();
  await dave.getByTestId('open-chart').first().click();
  await dave.locator('[data-testid=chart-row]', { hasText: 'Vitals' }).last().getByTestId('request-open').click();
  assert.match(await dave.getByTestId('access-denied').innerText({ timeout: 60_000 }), /GrantExpired/);
  await shot(dave, 'grant-expired');
  // The patient extends the expired grant ("Change", more blocks): the doctor, whose key is
  // published now, gets the Vitals records' keys and reads.
  await dave.getByTestId('key-publish').click();
  await dave.getByTestId('key-state').waitFor({ timeout: 60_000 });
  await bob.locator(`[data-testid=grant-row][data-provider="${DEV.dave}"]`).getByRole('button', { name: 'Change' }).click();
  assert.equal(await bob.getByTestId('grant-provider').inputValue(), DEV.dave);
  assert.ok(await bob.getByTestId('scope-read').getByLabel('Vitals').isChecked(), 'the form holds the grant');
  await bob.getByTestId('grant-blocks').fill('100');
  await settled(bob, bob.getByTestId('grant-submit'));
  assert.match(await bob.getByTestId('granted').innerText(), /2 record\(s\) shared/);
  assert.match(await bob.locator(`[data-testid=grant-row][data-provider="${DEV.dave}"]`).getByTestId('grant-expiry').innerText(), /blocks left/);
  await dave.reload();
  await dave.waitForSelector('body[data-ready=true]');
  await dave.getByTestId('open-chart').first().click();
  await dave.locator('[data-testid=chart-row]', { hasText: 'Vitals' }).last().getByTestId('request-open').click();
  await dave.getByTestId('access-granted').waitFor({ timeout: 60_000 });
  await dave.getByText('"code":"bp"').waitFor();

  // Emergency access (break-glass) by Charlie, whom the patient revoked: it stands out in the
  // patient's trail, and Charlie's read under it is marked an emergency access.
  server.runEhr('provider', 'emergency', DEV.bob, '--blocks', '20', '--purpose', 'btg', '--suri', '//Charlie');
  const charlie = await open('charlie', 'clinician');
  await charlie.getByTestId('open-chart').first().click();
  await charlie.locator('[data-testid=chart-row]', { hasText: 'Summary' }).first().getByTestId('request-open').click();
  // Granted and audited on chain; the patient did not opt in to the emergency key, so the vault
  // has no key to release to Charlie (his own was deleted at the revocation), and says so.
  assert.match(await charlie.getByTestId('error').innerText({ timeout: 60_000 }), /no data key is wrapped for the caller/);
  await bob.reload();
  await bob.waitForSelector('body[data-ready=true]');
  const emergency = bob.locator('[data-testid=trail-row].emergency');
  assert.match(await emergency.first().innerText(), /read request granted \(EMERGENCY access\)[\s\S]*Summary/);
  assert.match(await bob.locator('[data-testid=trail-row][data-event=EmergencyOpened]').innerText(), /EMERGENCY access opened[\s\S]*case 0, Btg/);
  await bob.getByTestId('trail').scrollIntoViewIfNeeded();
  await shot(bob, 'emergency-in-trail');
  await charlie.close();

  // No wallet where dev accounts are not offered.
  const page = await chrome.context.newPage();
  await page.route('**/config.json', async (route) => {
    const json = await (await route.fetch()).json();
    await route.fulfill({ json: { ...json, devAccounts: false } });
  });
  await page.goto(server.app);
  assert.match(await page.getByTestId('no-wallet').innerText(), /No browser wallet found/);
  // The wrong chain.
  await page.unroute('**/config.json');
  await page.route('**/config.json', async (route) => {
    const json = await (await route.fetch()).json();
    await route.fulfill({ json: { ...json, chain: `0x${'11'.repeat(32)}` } });
  });
  await page.goto(server.app);
  assert.match(await page.getByTestId('wrong-chain').innerText(), /Wrong chain/);
  await shot(page, 'wrong-chain');
  // The node unreachable.
  await page.unroute('**/config.json');
  await page.route('**/config.json', async (route) => {
    const json = await (await route.fetch()).json();
    await route.fulfill({ json: { ...json, node: 'ws://127.0.0.1:9' } });
  });
  await page.goto(server.app);
  assert.match(await page.getByTestId('no-node').innerText({ timeout: 30_000 }), /Cannot reach the node at ws:\/\/127.0.0.1:9/);
  await page.close();
  // A wallet that shares no account with the page.
  const empty = await chrome.context.newPage();
  await empty.addInitScript(() => {
    window.injectedWeb3 = { 'empty-wallet': { version: '1.0.0', enable: async () => ({ accounts: { get: async () => [], subscribe: (cb) => (cb([]), () => {}) }, signer: {} }) } };
  });
  await empty.goto(server.app);
  assert.match(await empty.getByTestId('no-accounts').innerText(), /shares no sr25519 account/);
  await empty.close();
});

test('a browser wallet (the extension interface @polkadot/extension-dapp talks to) signs the transactions and the vault requests', async () => {
  // A wallet as extensions inject it (window.injectedWeb3), whose keys stay in this test
  // process as an extension's stay in the extension: the page asks, the "wallet" signs.
  const { ApiPromise, WsProvider } = await import('@polkadot/api');
  const { Keyring } = await import('@polkadot/keyring');
  const { hexToU8a, u8aToHex, u8aWrapBytes } = await import('@polkadot/util');
  const api = await ApiPromise.create({ provider: new WsProvider(server.node), noInitWarn: true });
  const pair = new Keyring({ type: 'sr25519', ss58Format: 42 }).addFromUri('//Ferdie');
  const signed = { raw: 0, payloads: 0 };
  const page = await chrome.context.newPage();
  await page.exposeFunction('__walletAccounts', () => [{ address: pair.address, name: 'Ferdie (wallet)', type: 'sr25519' }]);
  await page.exposeFunction('__walletSignRaw', (raw) => {
    assert.equal(raw.type, 'bytes');
    signed.raw += 1;
    return u8aToHex(pair.sign(u8aWrapBytes(hexToU8a(raw.data))));
  });
  await page.exposeFunction('__walletSignPayload', (payload) => {
    signed.payloads += 1;
    return api.registry.createType('ExtrinsicPayload', payload, { version: payload.version }).sign(pair).signature;
  });
  await page.addInitScript(() => {
    window.injectedWeb3 = {
      'test-wallet': {
        version: '1.0.0',
        enable: async () => ({
          accounts: {
            get: () => window.__walletAccounts(),
            subscribe: (cb) => {
              window.__walletAccounts().then(cb);
              return () => {};
            },
          },
          signer: {
            signRaw: async (raw) => ({ id: 1, signature: await window.__walletSignRaw(raw) }),
            signPayload: async (payload) => ({ id: 2, signature: await window.__walletSignPayload(payload) }),
          },
        }),
      },
    };
  });
  try {
    await page.goto(server.app);
    await page.waitForSelector('body[data-ready=true]', { timeout: 60_000 });
    assert.equal(await page.getByTestId('no-wallet').count(), 0, 'the wallet was found');
    assert.match(await page.getByTestId('account').innerText(), /Ferdie \(wallet\)/);
    await settled(page, page.getByTestId('register-patient'));
    await keyUp(page);
    await page.getByTestId('upload-category').selectOption('Allergy');
    await page.getByTestId('upload-text').fill('{"resourceType":"AllergyIntolerance","code":{"text":"penicillin"}}');
    await settled(page, page.getByTestId('upload'));
    await page.getByTestId('uploaded').waitFor();
    await page.getByTestId('open-record').first().click();
    await page.getByText('"penicillin"').waitFor();
    assert.equal(signed.payloads, 3, 'register, publish key, add record: signed by the wallet');
    assert.ok(signed.raw >= 2, `the vault's upload and fetch signed by the wallet (${signed.raw})`);
    await shot(page, 'wallet-patient');
  } finally {
    await page.close();
    await api.disconnect();
  }
});
