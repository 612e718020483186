/** The registry's admin: registers providers (the seed's "Register a Doctor (Admin Only)"). */
import { sameAccount } from './config';
import type { Context } from './main';
import { attempt, fill, h, notice, say, short } from './ui';

const ROLES = ['Doctor', 'Lab', 'Pharmacy', 'Insurer', 'Analytics', 'Auditor'];

export async function renderAdmin(view: HTMLElement, { session, tx }: Context): Promise<void> {
  const admin = (await session.chain.query('provider_registry', 'ProviderDirectory::admin', session.me)).toString();
  const out = h('div');
  const account = h('input', { placeholder: 'provider account (SS58)', size: 50, 'data-testid': 'provider-account' }) as HTMLInputElement;
  const role = h('select', { 'data-testid': 'provider-role' }, ROLES.map((r) => h('option', { value: r }, r))) as HTMLSelectElement;
  fill(view, h('section', { class: 'card' },
    h('h2', {}, 'Providers'),
    h('p', {}, 'The registry\'s admin is ', short(admin), sameAccount(admin, session.me) ? ' (this account).' : '.'),
    !sameAccount(admin, session.me) && notice('warn', 'This account is not the registry\'s admin: the contract refuses its registrations (NotAdmin).', 'not-admin'),
    h('div', { class: 'row' }, account, role,
      h('button', { 'data-testid': 'register-provider', onclick: () => attempt(out, async () => {
        await session.registerProvider(account.value.trim(), role.value, tx.start('register_provider'));
        say('info', `Registered ${account.value.trim()} as ${role.value}.`, 'provider-registered');
      }) }, 'Register')),
    out));
}
