#!/usr/bin/env bash
# Prints the oracle's scores per second on one core: each model alone, and the full pipeline
# from a FHIR bundle (parse, extract, score, hash). Release build.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
# rustup installs cargo in ~/.cargo/bin, which a shell opened before `scripts/setup.sh` lacks.
export PATH="$HOME/.cargo/bin:$PATH"
taskset -c 0 true 2>/dev/null && pin=(taskset -c 0) || pin=()
cargo build --quiet --profile bench-oracle -p ai-oracle --no-default-features --bin bench_models
"${pin[@]}" "${CARGO_TARGET_DIR:-$root/target}/bench-oracle/bench_models"
