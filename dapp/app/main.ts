/**
 * The patient's and the clinician's web app: connects to the node named in `config.json`,
 * finds the user's accounts (a browser wallet, or the dev accounts on a development chain),
 * and shows the role the user picks. Every state a user meets is said on the page: no wallet,
 * wrong chain, not registered, grant expired, and each transaction's state.
 */
import { cryptoWaitReady } from '@polkadot/util-crypto';
import { u8aEq, u8aToHex } from '@polkadot/util';
import { Chain } from './chain';
import { loadConfig } from './config';
import { generateKey, importKeyFile, keyFileText, localPublicKey } from './keys';
import { Session } from './session';
import { envelopeModule } from './envelope';
import { fill, h, notice, say, short, TxLog, attempt } from './ui';
import { Vault } from './vault';
import { devAccounts, walletAccounts, type Account } from './wallet';
import { renderPatient } from './patient';
import { renderClinician } from './clinician';
import { renderAdmin } from './admin';

/** What every view gets. */
export interface Context {
  session: Session;
  tx: TxLog;
  /** Re-renders the current view. */
  refresh: () => Promise<void>;
}

const $ = (id: string) => document.getElementById(id)!;
type Role = 'patient' | 'clinician' | 'admin';

async function main(): Promise<void> {
  const notices = $('notices');
  const say = (kind: 'info' | 'warn' | 'error', text: string, testid?: string) => notices.append(notice(kind, text, testid));
  await cryptoWaitReady();
  const config = await loadConfig();
  let chain: Chain;
  try {
    chain = await Chain.connect(config);
  } catch (e) {
    fill($('chain'), 'not connected');
    say('error', `Cannot reach the node at ${config.node}: ${(e as Error).message}. Is it running (scripts/dapp.sh)?`, 'no-node');
    return;
  }
  const chainName = (await chain.api.rpc.system.chain()).toString();
  const chainType = await chain.api.rpc.system.chainType();
  fill($('chain'), `${chainName} · block `, h('span', { id: 'best' }, String(await chain.bestBlock())));
  void chain.api.rpc.chain.subscribeNewHeads((header) => fill($('best'), String(header.number.toNumber())));
  if (!chain.rightChain) {
    say('error', `Wrong chain: the node's genesis is ${chain.genesis}, but the contracts were deployed on ${config.chain}. Switch the node (or your wallet's network) to the deployment's chain; nothing is sent until then.`, 'wrong-chain');
    return;
  }

  const { accounts: walletOnes, wallets } = await walletAccounts('EHR on ink!');
  const dev = chainType.isDevelopment || chainType.isLocal;
  let accounts: Account[] = walletOnes;
  if (wallets.length === 0) {
    if (dev && config.devAccounts) {
      accounts = devAccounts();
      say('warn', 'No browser wallet found: using the development chain\'s well-known dev accounts (never on a real chain). Install polkadot{.js}, Talisman or SubWallet to use your own accounts.', 'no-wallet');
    } else {
      say('error', 'No browser wallet found: install polkadot{.js}, Talisman or SubWallet and allow this page to see your accounts, then reload.', 'no-wallet');
      return;
    }
  } else if (walletOnes.length === 0) {
    say('error', `Your wallet (${wallets.join(', ')}) shares no sr25519 account with this page: create one or allow this page in the wallet, then reload.`, 'no-accounts');
    return;
  }

  const vault = new Vault(config.vault);
  const tx = new TxLog($('txlog'));
  const select = $('account') as HTMLSelectElement;
  fill(select, accounts.map((a, i) => h('option', { value: String(i) }, `${a.name} · ${a.address.slice(0, 8)}…`)));
  const params = new URLSearchParams(location.search);
  const wanted = accounts.findIndex((a) => a.name.toLowerCase().startsWith((params.get('account') ?? '').toLowerCase()) && params.get('account'));
  if (wanted >= 0) select.value = String(wanted);
  let role: Role = (params.get('role') as Role) ?? 'patient';

  // Each render draws into fresh elements and shows them only if no later render started: a
  // quick switch of account or role never leaves buttons bound to the previous account.
  let generation = 0;
  const render = async () => {
    const mine = ++generation;
    const account = accounts[Number(select.value)];
    const session = new Session(chain, vault, account);
    const context: Context = { session, tx, refresh: render };
    document.querySelectorAll<HTMLButtonElement>('#roles button').forEach((b) => b.classList.toggle('active', b.dataset.role === role));
    const keys = h('div');
    const view = h('div');
    fill($('view'), h('p', {}, 'loading…'));
    try {
      await renderKeys(keys, context, role);
      if (role === 'patient') await renderPatient(view, context);
      else if (role === 'clinician') await renderClinician(view, context);
      else await renderAdmin(view, context);
    } catch (e) {
      fill(view, notice('error', (e as Error).message, 'error'));
    }
    if (mine !== generation) return;
    fill($('keys'), ...keys.childNodes);
    fill($('view'), ...view.childNodes);
  };
  select.addEventListener('change', () => void render());
  document.querySelectorAll<HTMLButtonElement>('#roles button').forEach((b) =>
    b.addEventListener('click', () => {
      role = b.dataset.role as Role;
      void render();
    }),
  );
  await render();
  document.body.dataset.ready = 'true';
}

/** The account's encryption key: in this browser or not, published or not. */
async function renderKeys(el: HTMLElement, { session, tx, refresh }: Context, role: Role): Promise<void> {
  if (role === 'admin') return fill(el);
  const asPatient = role === 'patient';
  const me = session.me;
  const local = await localPublicKey(me);
  const published = await session.publishedKey(me, asPatient);
  const out = h('div');
  const file = h('input', { type: 'file', accept: '.key,.txt', 'data-testid': 'key-file' }) as HTMLInputElement;
  const REPLACE_WARNING =
    'Records sealed so far are wrapped for the key published now: only its key file opens them. Replace it anyway?';
  file.addEventListener('change', () =>
    attempt(out, async () => {
      const text = await file.files![0].text();
      const secret = (await envelopeModule()).secretFromKeyFile(text);
      const loaded = (await envelopeModule()).publicKeyOf(secret);
      if (published && !u8aEq(published, loaded) && !confirm(`This key file is not the key published on chain. ${REPLACE_WARNING}`)) return;
      await importKeyFile(me, text);
      await refresh();
    }),
  );
  const matches = Boolean(local && published && u8aEq(published, local));
  const state = matches
    ? h('p', { 'data-testid': 'key-state' }, 'Encryption key ', h('code', {}, `${u8aToHex(local!).slice(0, 18)}…`), ' in this browser and published on chain.')
    : !local && published
      ? notice('warn', 'Your published encryption key is not in this browser: load its key file (saved when it was created). A new key would not open the records sealed so far.', 'key-elsewhere')
      : !local
        ? notice('warn', 'No encryption key for this account yet: create one (then publish it and save its key file), or load your key file.', 'no-key')
        : notice('warn', published ? 'The key in this browser is not the one published on chain: load the published key\'s file, or publish this one (records sealed so far would then need the old key file).' : 'Your encryption key is not published on chain yet: publish it so records can be sealed for you.', 'key-unpublished');
  const create = async () => {
    if (published && !confirm(`Create a new key? ${REPLACE_WARNING}`)) return;
    await generateKey(me);
    await refresh();
    say('warn', 'A new encryption key was created in this browser: publish it, then save its key file and keep it safe. Without it, your records cannot be opened anywhere else, or here once the browser\'s storage is cleared.', 'key-created');
  };
  const publish = async (key: Uint8Array) => {
    if (published && !confirm(`Publish this key instead of the published one? ${REPLACE_WARNING}`)) return;
    await session.publishKey(key, asPatient, tx.start('set_encryption_key'));
    await refresh();
  };
  fill(
    el,
    h('h2', {}, 'Encryption key'),
    state,
    h(
      'div',
      { class: 'row' },
      !local && h('button', { 'data-testid': 'key-create', onclick: () => attempt(out, create) }, published ? 'Create a new key…' : 'Create a key'),
      local && !matches && h('button', { 'data-testid': 'key-publish', onclick: () => attempt(out, () => publish(local)) }, published ? 'Publish this key instead…' : 'Publish it'),
      local && h('button', {
        'data-testid': 'key-save',
        onclick: () => attempt(out, async () => {
          const blob = new Blob([await keyFileText(me)], { type: 'text/plain' });
          const a = h('a', { href: URL.createObjectURL(blob), download: `${me.slice(0, 8)}.key` });
          a.click();
        }),
      }, 'Save key file'),
      h('label', { class: 'file' }, 'Load key file ', file),
    ),
    out,
    h('p', { class: 'muted' }, 'Account ', short(me), ` (${session.account.source === 'dev' ? 'dev account' : 'wallet'})`),
  );
}

main().catch((e) => {
  document.getElementById('notices')!.append(notice('error', (e as Error).message, 'fatal'));
});
