#!/usr/bin/env bash
# Prints the weight (dry-run ref_time, proof_size), storage deposit and fee (estimated and paid)
# of every state-changing contract message on a real substrate-contracts-node, the oracle's
# batches of 1, 10 and 100 scores, and the chain's block and extrinsic weight limits.
# Starts its own dev node (or uses EHR_NODE_URL).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export PATH="$HOME/.cargo/bin:$PATH"
scripts/build-contracts.sh >/dev/null
cargo run --quiet -p ehr-sandbox --example bench_node
