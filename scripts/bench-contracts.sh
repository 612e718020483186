#!/usr/bin/env bash
# Prints the gas (ref_time, proof_size) and storage deposit of every contract message, measured
# in drink against the release artifacts, and each contract's wasm size in bytes.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
# rustup installs cargo in ~/.cargo/bin, which a shell opened before `scripts/setup.sh` lacks.
export PATH="$HOME/.cargo/bin:$PATH"
scripts/build-contracts.sh >/dev/null
cargo run --quiet -p ehr-sandbox --bin bench_contracts
