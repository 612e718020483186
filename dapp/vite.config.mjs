// The web app (app/), built and served by Vite. The chain's and the vault's addresses are not
// built in: the app reads config.json and the contracts' metadata at run time from the public
// folder, EHR_DAPP_PUBLIC (scripts/dapp.sh writes them there from the deployment). The vault is
// reached through this server at /vault (EHR_VAULT_URL), so the page calls only its own origin.
import { defineConfig } from 'vite';
import { fileURLToPath } from 'node:url';

const here = (path) => fileURLToPath(new URL(path, import.meta.url));
const vault = process.env.EHR_VAULT_URL;
const proxy = vault ? { '^/vault/': { target: vault, changeOrigin: true, rewrite: (path) => path.replace(/^\/vault/, '') } } : undefined;

export default defineConfig({
  root: here('./app'),
  base: './',
  publicDir: process.env.EHR_DAPP_PUBLIC ?? here('../target/dapp/public'),
  build: { outDir: here('./build'), emptyOutDir: true, target: 'es2022' },
  server: { host: '127.0.0.1', strictPort: true, proxy },
  preview: { host: '127.0.0.1', strictPort: true, proxy },
});
