#!/usr/bin/env bash
# The main demo: deploys the contracts on an in-process chain (drink) and walks the seed paper's
# flow, printing each outcome and audit event. No node needed.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
scripts/build-contracts.sh >/dev/null
cargo run --quiet -p ehr-sandbox --bin seed_demo
