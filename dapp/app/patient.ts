/** The patient's view: registration, grants, records, risk reports and the audit trail. */
import { u8aToString, stringToU8a } from '@polkadot/util';
import { RECORD_CATEGORIES, type NamedScope, type RecordCategory } from '../src/ehr';
import type { Context } from './main';
import { sameAccount } from './config';
import { describeEvent } from './trail';
import { reportView } from './report';
import type { GrantView, Session, TrailEntry } from './session';
import { attempt, fill, h, notice, say, short } from './ui';

/** Blocks per scan window of the audit trail. */
const TRAIL_WINDOW = 100;
/** Entries per page of the audit trail. */
const TRAIL_PAGE = 10;

export async function renderPatient(view: HTMLElement, context: Context): Promise<void> {
  const { session, tx, refresh } = context;
  const me = await session.patient(session.me);
  const out = h('div');
  if (!me) {
    fill(
      view,
      h('section', { class: 'card' },
        h('h2', {}, 'Patient'),
        notice('info', 'This account is not registered as a patient yet. Registering puts only your account on chain: no name, no health data.', 'not-registered'),
        h('button', { 'data-testid': 'register-patient', onclick: () => attempt(out, async () => { await session.registerPatient(tx.start('register_patient')); await refresh(); }) }, 'Register as a patient'),
        out,
      ),
    );
    return;
  }
  const grants = h('section', { class: 'card', 'data-testid': 'grants' });
  const records = h('section', { class: 'card', 'data-testid': 'records' });
  const reports = h('section', { class: 'card', 'data-testid': 'reports' });
  const trail = h('section', { class: 'card', 'data-testid': 'trail' });
  fill(view, h('p', { 'data-testid': 'patient-state' }, `Registered as a patient in block ${me.registeredAt}: ${me.recordCount} record(s), ${me.grantCount} grant(s).`), grants, records, reports, trail);
  // Each section on its own: one that fails says why in its place, the others still show.
  const sections: [HTMLElement, () => Promise<void>][] = [
    [grants, () => renderGrants(grants, context)],
    [records, () => renderRecords(records, context)],
    [reports, () => renderReports(reports, session, context)],
    [trail, () => renderTrail(trail, session)],
  ];
  await Promise.all(sections.map(([el, render]) => render().catch((e: Error) => fill(el, notice('error', e.message, 'error')))));
}

function categoryBoxes(name: string, checked: readonly RecordCategory[]): HTMLElement {
  return h('fieldset', { class: 'categories', 'data-testid': `scope-${name}` }, h('legend', {}, name === 'read' ? 'May read' : 'May add'),
    RECORD_CATEGORIES.map((c) => h('label', {}, h('input', { type: 'checkbox', name, value: c, checked: checked.includes(c) }), ` ${c}`)));
}

const checkedOf = (form: HTMLElement, name: string) =>
  [...form.querySelectorAll<HTMLInputElement>(`input[name=${name}]:checked`)].map((i) => i.value as RecordCategory);

async function renderGrants(el: HTMLElement, { session, tx, refresh }: Context): Promise<void> {
  const grants = await session.grants();
  const out = h('div');
  const provider = h('input', { name: 'provider', placeholder: 'provider account (SS58)', size: 50, 'data-testid': 'grant-provider' }) as HTMLInputElement;
  const blocks = h('input', { name: 'blocks', type: 'number', min: 1, placeholder: 'blocks (empty: until revoked)', 'data-testid': 'grant-blocks' }) as HTMLInputElement;
  const form = h('form', { 'data-testid': 'grant-form' },
    h('h3', {}, 'Grant, narrow or extend'),
    h('div', { class: 'row' }, provider, h('label', {}, 'for ', blocks, ' blocks')),
    categoryBoxes('read', []), categoryBoxes('write', []),
    h('button', { type: 'submit', 'data-testid': 'grant-submit' }, 'Grant'),
    h('p', { class: 'muted' }, 'Granting again replaces the grant: that is how a grant is narrowed, widened or extended. The records it lets the provider read are shared with its published key.'),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    void attempt(out, async () => {
      const scope: NamedScope = { read: checkedOf(form, 'read'), write: checkedOf(form, 'write') };
      const expires = blocks.value ? (await session.chain.bestBlock()) + Number(blocks.value) : null;
      const shared = await session.grant(provider.value.trim(), scope, expires, tx.start('grant_access'));
      say('info', `Granted; ${shared} record(s) shared with the provider's key.`, 'granted');
      await refresh();
    });
  });
  const edit = (g: GrantView) => {
    provider.value = g.provider;
    form.querySelectorAll<HTMLInputElement>('input[type=checkbox]').forEach((box) => {
      box.checked = (box.name === 'read' ? g.scope.read : g.scope.write).includes(box.value as RecordCategory);
    });
    // An expired grant offers its original length again, never "until revoked" by accident.
    blocks.value = g.expiresAt === null ? '' : String(g.blocksLeft || g.expiresAt - g.grantedAt);
    provider.focus();
  };
  fill(el,
    h('h2', {}, 'Who may see my chart'),
    grants.length === 0
      ? h('p', { 'data-testid': 'no-grants' }, 'You have granted no one access.')
      : h('table', {},
          h('tr', {}, h('th', {}, 'Provider'), h('th', {}, 'Role'), h('th', {}, 'May read'), h('th', {}, 'May add'), h('th', {}, 'Expires'), h('th', {})),
          grants.map((g) => h('tr', { 'data-testid': 'grant-row', 'data-provider': g.provider, class: g.blocksLeft === 0 ? 'expired' : '' },
            h('td', {}, short(g.provider)),
            h('td', {}, g.role ?? 'not a provider'),
            h('td', {}, g.scope.read.join(', ') || '—'),
            h('td', {}, g.scope.write.join(', ') || '—'),
            h('td', { 'data-testid': 'grant-expiry' }, g.expiresAt === null ? 'until revoked' : g.blocksLeft === 0 ? `expired at block ${g.expiresAt}` : `block ${g.expiresAt} (${g.blocksLeft} blocks left, ~${Math.round((g.blocksLeft! * 6) / 60)} min)`),
            h('td', {},
              h('button', { onclick: () => edit(g) }, 'Change'),
              h('button', { 'data-testid': 'revoke', onclick: () => attempt(out, async () => {
                const removed = await session.revoke(g.provider, tx.start('revoke_access'));
                say('info', `Revoked; ${removed} key(s) deleted in the vault.`, 'revoked');
                await refresh();
              }) }, 'Revoke'))))),
    form, out);
}

async function renderRecords(el: HTMLElement, { session, tx, refresh }: Context): Promise<void> {
  const records = await session.records(session.me);
  const out = h('div');
  const category = h('select', { 'data-testid': 'upload-category' }, RECORD_CATEGORIES.map((c) => h('option', { value: c }, c))) as HTMLSelectElement;
  category.value = 'LabResult';
  const text = h('textarea', { rows: 5, cols: 70, placeholder: 'the document (a FHIR Bundle, a note…), or choose a file', 'data-testid': 'upload-text' }) as HTMLTextAreaElement;
  const file = h('input', { type: 'file', 'data-testid': 'upload-file' }) as HTMLInputElement;
  const upload = () => attempt(out, async () => {
    const document = file.files?.[0] ? new Uint8Array(await file.files[0].arrayBuffer()) : stringToU8a(text.value);
    if (document.length === 0) throw new Error('nothing to upload: type the document or choose a file');
    const added = await session.addRecord(session.me, category.value as RecordCategory, document, tx.start('add_record'));
    say('info', `Record ${added.id} sealed in this browser for ${added.readers.length} reader(s), anchored and uploaded.${added.withoutKey.length ? ` Not sealed for ${added.withoutKey.length} provider(s) without a published key.` : ''}`, 'uploaded');
    await refresh();
  });
  fill(el,
    h('h2', {}, 'My records'),
    records.length === 0 ? h('p', {}, 'No records yet.') : h('table', {},
      h('tr', {}, h('th', {}, 'Id'), h('th', {}, 'Category'), h('th', {}, 'Added'), h('th', {}, 'By'), h('th', {})),
      records.map((r) => {
        const shown = h('pre', { class: 'document', 'data-testid': 'document' });
        return [h('tr', { 'data-testid': 'record-row', 'data-id': r.id },
          h('td', {}, r.id), h('td', {}, r.category), h('td', {}, `block ${r.addedAt}`), h('td', {}, sameAccount(r.author, session.me) ? 'me' : short(r.author)),
          h('td', {}, r.erasedAt !== null ? `erased in block ${r.erasedAt}` : h('button', { 'data-testid': 'open-record', onclick: () => attempt(out, async () => {
            shown.textContent = u8aToString(await session.readRecord(session.me, r));
          }) }, 'Open'))), h('tr', {}, h('td', { colspan: 5 }, shown))];
      })),
    h('h3', {}, 'Add a record'),
    h('p', { class: 'muted' }, 'Sealed in this browser (XChaCha20-Poly1305 under a fresh key, wrapped with HPKE for you and for each provider allowed to read the category): only the envelope leaves it, and only its SHA-256 goes on chain.'),
    h('div', { class: 'row' }, category, file), text,
    h('div', {}, h('button', { 'data-testid': 'upload', onclick: upload }, 'Seal and upload')),
    out);
}

async function renderReports(el: HTMLElement, session: Session, { tx }: Context): Promise<void> {
  const out = h('div');
  const models = session.chain.config.models;
  const rows = [];
  for (const model of models) {
    const stored = await session.latestScore(session.me, model.hash);
    const shown = h('div', { class: 'report' });
    rows.push(h('div', { 'data-testid': 'report-row' },
      h('p', {}, `Model ${model.hash.slice(0, 12)}…: `, stored ? `a sealed score computed at ${new Date(stored.computed_at).toISOString()} (accepted in block ${stored.accepted_at})` : 'no score yet',
        stored && h('button', { 'data-testid': 'open-report', onclick: () => attempt(out, async () => {
          const report = await session.readReport(session.me, model.hash, tx.start('read report'));
          if (report) fill(shown, reportView(report));
        }) }, 'Open and check')),
      shown));
  }
  fill(el, h('h2', {}, 'My risk reports'), h('p', { class: 'muted' }, 'The chain holds only a commitment to each score; the report is sealed for you and opened here.'), models.length ? rows : h('p', {}, 'No risk models are configured.'), out);
}

async function renderTrail(el: HTMLElement, session: Session): Promise<void> {
  const list = h('tbody');
  const more = h('button', { 'data-testid': 'trail-older' }, 'Older') as HTMLButtonElement;
  const status = h('span', { class: 'muted' });
  const start = session.chain.config.deployedAt;
  let next = await session.chain.bestBlock();
  const loadPage = async () => {
    const found: TrailEntry[] = [];
    while (found.length < TRAIL_PAGE && next >= start) {
      const from = Math.max(start, next - TRAIL_WINDOW + 1);
      found.push(...(await session.trail(session.me, from, next)));
      next = from - 1;
    }
    for (const entry of found) list.append(trailRow(entry, session));
    more.disabled = next < start;
    status.textContent = next < start ? 'the whole trail since the deployment is shown' : `shown down to block ${next + 1}`;
  };
  const out = h('div');
  more.addEventListener('click', () => void attempt(out, loadPage));
  fill(el, h('h2', {}, 'Who asked for my records'),
    h('p', { class: 'muted' }, 'Every request for your records, granted or denied, and every change to your chart, from the chain\'s events, newest first.'),
    h('table', { 'data-testid': 'trail-table' }, h('thead', {}, h('tr', {}, h('th', {}, 'When'), h('th', {}, 'What'), h('th', {}, 'Who'), h('th', {}, 'Detail'))), list),
    h('div', { class: 'row' }, more, status), out);
  await loadPage();
}

function trailRow({ block, time, event }: TrailEntry, session: Session): HTMLElement {
  const d = describeEvent(event, session);
  const when = new Date(time);
  return h('tr', { 'data-testid': 'trail-row', 'data-event': event.name, class: d.denied ? 'denied' : d.emergency ? 'emergency' : '' },
    h('td', { title: when.toISOString() }, when.toLocaleString(), h('br'), h('span', { class: 'muted' }, `block ${block}`)),
    h('td', {}, d.what), h('td', {}, d.who ? short(d.who) : ''), h('td', {}, d.detail));
}
