#!/usr/bin/env bash
# Prints the vault's numbers: HPKE data-key wraps and unwraps per second, sealing throughput,
# and upload/fetch latency (p50, p99) and throughput for 10 KB and 1 MB documents through a
# real ehr-vault process on loopback, its on-chain checks against a real
# substrate-contracts-node included. Starts its own dev node (or uses EHR_NODE_URL). Builds
# with optimizations (profile bench-services: a few minutes the first time).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export PATH="$HOME/.cargo/bin:$PATH"
scripts/build-contracts.sh >/dev/null
cargo build --quiet --profile bench-services -p ehr-vault --bin ehr-vault --example bench
target="${CARGO_TARGET_DIR:-$root/target}"
EHR_ARTIFACTS_DIR="${EHR_ARTIFACTS_DIR:-$target/contracts}" "$target/bench-services/examples/bench"
