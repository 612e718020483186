#!/usr/bin/env bash
# Deploys the contract suite to a node and registers the oracle: builds the release contracts,
# creates the oracle key if there is none, then runs `ai-oracle deploy` (see its --help), which
# writes the deployment file the other commands read. Running it again verifies and reuses the
# deployed suite, completing whatever registration is missing.
#
#   scripts/deploy.sh [--node ws://127.0.0.1:9944] [--deployment deployment.json] [--key oracle.key]
#                     [--admin SURI] [--oracle-account SURI] [--model ID ...]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
export PATH="$HOME/.cargo/bin:$PATH"
"$root/scripts/build-contracts.sh" >/dev/null
export EHR_ARTIFACTS_DIR=${EHR_ARTIFACTS_DIR:-${CARGO_TARGET_DIR:-$root/target}/contracts}
# From the project root, so rustup picks the pinned toolchain.
(cd "$root" && cargo build --quiet -p ai-oracle)
oracle="${CARGO_TARGET_DIR:-$root/target}/debug/ai-oracle"
key=oracle.key
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
    [ "${args[$i]}" = "--key" ] && key=${args[$((i + 1))]:-oracle.key}
done
[ -f "$key" ] || "$oracle" keygen --out "$key"
"$oracle" deploy "$@"
