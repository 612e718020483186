#!/usr/bin/env bash
# Builds the web app (dapp/app) into dapp/build:
#   1. the record envelope for the browser: the envelope-wasm crate (ehr-envelope, the vault's
#      and the CLI's Rust code) for wasm32-unknown-unknown, its bindings by wasm-bindgen
#      (--target web) in dapp/app/wasm/;
#   2. the npm packages (npm ci, from dapp/package-lock.json) unless installed;
#   3. the TypeScript checked (tsc) and bundled (Vite).
# Usage: scripts/build-dapp.sh [--no-bundle]   (--no-bundle: steps 1 and 2 only, for `vite` dev)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export PATH="$HOME/.cargo/bin:$PATH"
target=${CARGO_TARGET_DIR:-$root/target}
bundle=1
[ "${1:-}" = "--no-bundle" ] && bundle=0

die() { echo "build-dapp: $*" >&2; exit 1; }
command -v wasm-bindgen >/dev/null || die "wasm-bindgen is missing; run scripts/setup.sh"
command -v npm >/dev/null || die "npm is missing; run scripts/setup.sh"

cargo build --quiet --release -p envelope-wasm --target wasm32-unknown-unknown
wasm-bindgen --target web --out-dir dapp/app/wasm "$target/wasm32-unknown-unknown/release/envelope_wasm.wasm"

cd dapp
[ -d node_modules/@polkadot/api-contract ] && [ node_modules/.package-lock.json -nt package-lock.json ] \
    || npm ci --no-audit --no-fund --loglevel=error
if [ "$bundle" = 1 ]; then
    npx tsc -p tsconfig.app.json
    npx vite build --logLevel error
    echo "build-dapp: the app in $root/dapp/build ($(du -sh build | cut -f1); envelope wasm $(wc -c < app/wasm/envelope_wasm_bg.wasm) bytes)"
fi
