/**
 * The record envelope: `ehr-envelope`, the vault's and the CLI's Rust crate, compiled to
 * WebAssembly (`envelope-wasm`, bindings by wasm-bindgen; `scripts/build-dapp.sh` builds them).
 */
import init, * as envelope from './wasm/envelope_wasm.js';

let ready: Promise<unknown> | undefined;

/** The envelope module, loaded once. */
export async function envelopeModule(): Promise<typeof envelope> {
  ready ??= init();
  await ready;
  return envelope;
}
