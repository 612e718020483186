/** The clinician's view: patients who granted access, a patient's chart, audited reads, adding a record. */
import { stringToU8a, u8aToString } from '@polkadot/util';
import { RECORD_CATEGORIES, type RecordCategory } from '../src/ehr';
import type { Context } from './main';
import { reportView } from './report';
import { AccessDenied, ss58 } from './session';
import { attempt, fill, h, notice, say, short } from './ui';

export async function renderClinician(view: HTMLElement, context: Context): Promise<void> {
  const { session } = context;
  const me = await session.provider(session.me);
  const chart = h('section', { class: 'card', 'data-testid': 'chart' });
  const out = h('div');
  if (!me) {
    fill(view, h('section', { class: 'card' }, h('h2', {}, 'Clinician'),
      notice('warn', 'This account is not a registered provider: the registry\'s admin registers providers (Admin tab, or `ehr admin register-provider`).', 'not-provider')));
    return;
  }
  const status = me.status === 'Active' ? `${me.role}, active` : `${me.role}, SUSPENDED: every request is denied`;
  const patients = await session.patientsOf(session.me);
  const lookup = h('input', { placeholder: 'patient account (SS58)', size: 50, 'data-testid': 'patient-lookup' }) as HTMLInputElement;
  const open = (patient: string) => attempt(out, () => renderChart(chart, context, patient));
  fill(view,
    h('section', { class: 'card', 'data-testid': 'my-patients' },
      h('h2', {}, 'My patients'),
      h('p', { 'data-testid': 'provider-state' }, `Registered as ${status}.`),
      patients.length === 0 ? h('p', {}, 'No patient has granted you access.') : h('table', {},
        h('tr', {}, h('th', {}, 'Patient'), h('th', {}, 'May read'), h('th', {}, 'May add'), h('th', {}, 'Grant'), h('th', {})),
        patients.map(({ patient, grant }) => h('tr', { 'data-testid': 'patient-row', 'data-patient': patient, class: !grant || grant.blocksLeft === 0 ? 'expired' : '' },
          h('td', {}, short(patient)),
          h('td', {}, grant ? grant.scope.read.join(', ') || '—' : '—'),
          h('td', {}, grant ? grant.scope.write.join(', ') || '—' : '—'),
          h('td', { 'data-testid': 'patient-grant' }, !grant ? 'revoked' : grant.expiresAt === null ? 'until revoked' : grant.blocksLeft === 0 ? `expired at block ${grant.expiresAt}` : `${grant.blocksLeft} blocks left`),
          h('td', {}, h('button', { 'data-testid': 'open-chart', onclick: () => open(patient) }, 'Open chart'))))),
      h('div', { class: 'row' }, lookup, h('button', { 'data-testid': 'lookup', onclick: () => open(lookup.value.trim()) }, 'Open chart')),
      out),
    chart);
}

async function renderChart(el: HTMLElement, { session, tx }: Context, patient: string): Promise<void> {
  patient = ss58(patient);
  const info = await session.patient(patient);
  if (!info) {
    fill(el, notice('warn', `${patient} is not a registered patient.`, 'not-a-patient'));
    return;
  }
  const records = await session.records(patient);
  const out = h('div', { 'data-testid': 'chart-out' });
  const category = h('select', { 'data-testid': 'add-category' }, RECORD_CATEGORIES.map((c) => h('option', { value: c }, c))) as HTMLSelectElement;
  category.value = 'ClinicalNote';
  const text = h('textarea', { rows: 4, cols: 70, placeholder: 'the note or document', 'data-testid': 'add-text' }) as HTMLTextAreaElement;
  const read = (recordId: number, shown: HTMLElement) => attempt(out, async () => {
    const record = records.find((r) => r.id === recordId)!;
    try {
      const bytes = await session.readRecord(patient, record, tx.start(`request_access ${record.category}`));
      shown.textContent = u8aToString(bytes);
      say('info', `Access granted and audited on chain; record ${record.id} decrypted in this browser.`, 'access-granted');
    } catch (e) {
      if (e instanceof AccessDenied) {
        shown.textContent = '';
        say('error', `Access denied: ${e.denial.reason} — ${e.denial.docs} The denied request is recorded on chain, and the patient sees it.`, 'access-denied');
        return;
      }
      throw e;
    }
  });
  const models = session.chain.config.models;
  const report = h('div');
  fill(el,
    h('h2', {}, 'Chart of ', short(patient)),
    h('p', { class: 'muted' }, `Registered in block ${info.registeredAt}. Record metadata is public chain state; contents open only with consent, after an audited request.`),
    records.length === 0 ? h('p', {}, 'No records.') : h('table', {},
      h('tr', {}, h('th', {}, 'Id'), h('th', {}, 'Category'), h('th', {}, 'Added'), h('th', {})),
      records.map((r) => {
        const shown = h('pre', { class: 'document', 'data-testid': 'document' });
        return [h('tr', { 'data-testid': 'chart-row', 'data-id': r.id }, h('td', {}, r.id), h('td', {}, r.category), h('td', {}, `block ${r.addedAt}`),
          h('td', {}, r.erasedAt !== null ? `erased in block ${r.erasedAt}` : h('button', { 'data-testid': 'request-open', onclick: () => read(r.id, shown) }, 'Request access and open'))),
          h('tr', {}, h('td', { colspan: 4 }, shown))];
      })),
    models.map((m) => h('div', {}, h('button', { 'data-testid': 'open-patient-report', onclick: () => attempt(out, async () => {
      const checked = await session.readReport(patient, m.hash, tx.start('request_access RiskAssessment'));
      fill(report, checked ? reportView(checked) : notice('info', 'No score of this model yet.'));
    }) }, `Open the latest risk report (model ${m.hash.slice(0, 10)}…)`))),
    report,
    h('h3', {}, 'Add a record (needs a write grant)'),
    h('div', { class: 'row' }, category), text,
    h('div', {}, h('button', { 'data-testid': 'add-record', onclick: () => attempt(out, async () => {
      const added = await session.addRecord(patient, category.value as RecordCategory, stringToU8a(text.value), tx.start('add_record'));
      say('info', `Record ${added.id} sealed for ${added.readers.length} reader(s), anchored and uploaded.`, 'record-added');
    }) }, 'Seal and add')),
    out);
}
