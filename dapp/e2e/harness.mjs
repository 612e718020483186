// The browser tests' harness: the app served by scripts/dapp.sh (a real substrate-contracts-node,
// the suite deployed by `ai-oracle deploy`, a real ehr-vault process, the production build
// served by `vite preview`) and Debian's Chromium driven headless by playwright-core.
import { spawn, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TARGET = process.env.CARGO_TARGET_DIR ?? join(ROOT, 'target');
/** Where screenshots go (test artifacts). */
export const SHOTS = process.env.EHR_SCREENSHOTS ?? join(TARGET, 'dapp-screenshots');
/** Debian's Chromium (scripts/setup.sh installs it); CHROMIUM names another. */
export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

/** The dev accounts' SS58 addresses. */
export const DEV = {
  alice: '5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY',
  bob: '5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty',
  charlie: '5FLSigC9HGRKVhB9FiEo4Y3koPsNmBmLJbpXg2mp1hXcS59Y',
  dave: '5DAAnrj7VHTznn2AWBemMuyBwZWs6FNFjdyVXUeYum3PTXFy',
  eve: '5HGjWAeFDfFCWPsjFQdVV2Msvz2XtMktvgocEZcCj68kUMaw',
  ferdie: '5CiPPseXPECbkjWCa6MnjNokrgYjMqmKndv2rSnekmSK2DjL',
};

/** Starts scripts/dapp.sh --preview; resolves with its URLs once it serves. */
export async function serve() {
  const state = mkdtempSync(join(tmpdir(), 'ehr-dapp-e2e-'));
  const child = spawn(join(ROOT, 'scripts/dapp.sh'), ['--preview', '--port', '0', '--state', state], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let out = '';
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  const info = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`scripts/dapp.sh did not serve within 15 min:\n${out}\n${err}`)), 900_000);
    child.stdout.on('data', (d) => {
      out += d;
      if (out.includes('dapp.sh: serving')) {
        clearTimeout(timer);
        const line = (name) => out.match(new RegExp(`^${name}:\\s+(\\S+)`, 'm'))?.[1];
        resolve({ app: line('app'), node: line('node'), vault: line('vault'), oracle: line('oracle') });
      }
    });
    child.on('exit', (code) => reject(new Error(`scripts/dapp.sh exited (${code}):\n${out}\n${err}`)));
  });
  return {
    ...info,
    state,
    stop() {
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        // already gone
      }
      return new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.on('exit', () => resolve());
        setTimeout(resolve, 30_000);
      }).then(() => rmSync(state, { recursive: true, force: true }));
    },
    /** Runs the `ehr` CLI against the node, the vault and the deployment. */
    runEhr(...args) {
      const env = {
        ...process.env,
        EHR_ARTIFACTS_DIR: process.env.EHR_ARTIFACTS_DIR ?? join(TARGET, 'contracts'),
        EHR_NODE_URL: this.node,
        EHR_VAULT_URL: this.vault,
        EHR_DEPLOYMENT: join(state, 'deployment.json'),
      };
      return execFileSync(join(TARGET, 'debug/ehr'), args, { cwd: state, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    },
    /** Runs the oracle's CLI in the deployment's folder. */
    runOracle(...args) {
      const env = { ...process.env, EHR_ARTIFACTS_DIR: process.env.EHR_ARTIFACTS_DIR ?? join(TARGET, 'contracts') };
      return execFileSync(join(TARGET, 'debug/ai-oracle'), args, { cwd: state, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    },
  };
}

/** Debian's Chromium, headless, with a fresh profile, as this machine runs it. */
export async function browser() {
  mkdirSync(SHOTS, { recursive: true });
  const profile = mkdtempSync(join(tmpdir(), 'ehr-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 900 },
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Saves a full-page screenshot as `SHOTS/name.png`. */
export async function shot(page, name) {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}
