/** A few DOM helpers: the app has no framework, only these. */
import type { TxState } from './chain';

type Child = Node | string | number | null | undefined | false | Child[];
type Attrs = Record<string, string | number | boolean | ((e: Event) => void) | undefined>;

/** An element with attributes (`on*` are listeners, `false`/`undefined` are left out) and children. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: (Child | Child[])[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    if (typeof value === 'function') el.addEventListener(key.slice(2).toLowerCase(), value);
    else if (value === true) el.setAttribute(key, '');
    else el.setAttribute(key, String(value));
  }
  for (const child of (children as unknown[]).flat(Infinity) as Child[]) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

/** Replaces the children of `el`. */
export function fill(el: Element, ...children: (Child | Child[])[]): void {
  el.replaceChildren(...((children as unknown[]).flat(Infinity) as Child[]).filter((c): c is Node | string | number => c !== null && c !== undefined && c !== false).map((c) => (c instanceof Node ? c : String(c))));
}

/** A short form of an SS58 address, the whole one in its title. */
export function short(address: string): HTMLElement {
  return h('span', { class: 'addr', title: address }, `${address.slice(0, 6)}…${address.slice(-6)}`);
}

/** A notice: `kind` is info, warn or error. */
export function notice(kind: 'info' | 'warn' | 'error', text: string, testid?: string): HTMLElement {
  return h('div', { class: `notice ${kind}`, role: kind === 'error' ? 'alert' : 'status', 'data-testid': testid }, text);
}

/** The transactions' log: one line per transaction, moved on by its states. */
export class TxLog {
  constructor(private readonly el: HTMLElement) {}

  /**
   * The callback that shows the transaction `what` and moves it through its states; its line
   * appears at the first state (an action that needs no transaction leaves none).
   */
  start(what: string): (state: TxState) => void {
    let line: HTMLElement | undefined;
    return (s) => {
      if (!line) {
        line = h('li', { 'data-testid': 'tx' });
        this.el.prepend(line);
      }
      line.dataset.state = s.state;
      line.className = s.state;
      line.textContent = {
        checking: `${what}: checking (dry-run)…`,
        signing: `${what}: waiting for the signature…`,
        pending: `${what}: pending (sent, waiting for a block)…`,
        'in-block': s.state === 'in-block' ? `${what}: in block ${s.block.slice(0, 12)}…` : '',
        failed: s.state === 'failed' ? `${what}: failed: ${s.reason}` : '',
      }[s.state];
    };
  }
}

/**
 * Says what an action did, in the page's outcome line (`#outcome`): it stays there across the
 * views' re-rendering, until the next action starts.
 */
export function say(kind: 'info' | 'warn' | 'error', text: string, testid?: string): void {
  document.getElementById('outcome')?.replaceChildren(notice(kind, text, testid));
}

/**
 * Runs `action`, showing its error (in words) in `out` rather than losing it. The button that
 * started it is disabled until it ends: a double click sends nothing twice.
 */
export async function attempt(out: HTMLElement, action: () => Promise<void>): Promise<void> {
  const button = document.activeElement instanceof HTMLButtonElement ? document.activeElement : undefined;
  if (button?.disabled) return;
  if (button) button.disabled = true;
  out.replaceChildren();
  document.getElementById('outcome')?.replaceChildren();
  try {
    await action();
  } catch (e) {
    out.replaceChildren(notice('error', (e as Error).message, 'error'));
  } finally {
    if (button) button.disabled = false;
  }
}
