#!/usr/bin/env bash
# Serves the patient's and the clinician's web app against a local chain and vault, in one
# command (after scripts/setup.sh):
#   - a substrate-contracts-node dev chain (scripts/node.sh), the suite deployed by
#     `ai-oracle deploy` (its oracle key in the state folder), the record vault (ehr-vault);
#   - config.json and the contracts' metadata written where the app reads them;
#   - the app served by Vite on loopback, the vault behind it at /vault.
#
#   scripts/dapp.sh [--port P] [--preview] [--state DIR] [--node-url URL]
#     --port P       the app's port (default 5173; 0: a free one)
#     --preview      serve the production build (scripts/build-dapp.sh) instead of the dev server
#     --state DIR    keep the chain's deployment, the vault's data and the logs in DIR
#                    (default: a temporary folder, deleted on exit)
#     --node-url URL use a running node instead of starting one
#
# It prints the app's URL, the node's, the vault's and the deployment's, then serves until
# Ctrl-C (or SIGTERM), and stops what it started. With no browser wallet the app offers the dev
# accounts: Alice is the registry's admin and the oracle's account.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export PATH="$HOME/.cargo/bin:$PATH"
target=${CARGO_TARGET_DIR:-$root/target}
export EHR_ARTIFACTS_DIR="${EHR_ARTIFACTS_DIR:-$target/contracts}"

port=5173 preview=0 state="" node_url=""
while [ $# -gt 0 ]; do
    case "$1" in
        --port) port=${2:?--port needs a port}; shift 2 ;;
        --preview) preview=1; shift ;;
        --state) state=${2:?--state needs a directory}; shift 2 ;;
        --node-url) node_url=${2:?--node-url needs a URL}; shift 2 ;;
        *) echo "dapp.sh: unknown option '$1' (see the comment at the top of scripts/dapp.sh)" >&2; exit 2 ;;
    esac
done

temporary=0
if [ -z "$state" ]; then state=$(mktemp -d -t ehr-dapp.XXXXXX); temporary=1; fi
mkdir -p "$state"
state=$(cd "$state" && pwd)
node_started=0 vault_pid="" vite_pid=""
cleanup() {
    for pid in $vite_pid $vault_pid; do kill "$pid" 2>/dev/null || true; done
    for pid in $vite_pid $vault_pid; do wait "$pid" 2>/dev/null || true; done
    [ "$node_started" = 1 ] && scripts/node.sh stop --state "$state/node" >/dev/null 2>&1 || true
    [ "$temporary" = 1 ] && rm -rf "$state"
    return 0
}
trap cleanup EXIT
trap 'exit 0' INT TERM

echo "dapp.sh: building the contracts, the oracle, the vault and the app (first time: minutes)" >&2
scripts/build-contracts.sh >"$state/build.log" 2>&1 || { cat "$state/build.log" >&2; exit 1; }
cargo build --quiet -p ai-oracle -p ehr-vault -p ehr-cli
if [ "$preview" = 1 ]; then scripts/build-dapp.sh >&2; else scripts/build-dapp.sh --no-bundle >&2; fi

if [ -z "$node_url" ]; then
    node_url=$(scripts/node.sh start --state "$state/node")
    node_started=1
fi
( cd "$state"
  [ -f oracle.key ] || "$target/debug/ai-oracle" keygen --out oracle.key >/dev/null
  "$target/debug/ai-oracle" deploy --node "$node_url" --key oracle.key >deploy.log 2>&1 ) \
    || { cat "$state/deploy.log" >&2; exit 1; }

"$target/debug/ehr-vault" --listen 127.0.0.1:0 --node "$node_url" --deployment "$state/deployment.json" \
    --data "$state/vault-data" >"$state/vault.addr" 2>"$state/vault.log" &
vault_pid=$!
for _ in $(seq 100); do grep -q "listening on" "$state/vault.addr" 2>/dev/null && break; sleep 0.1; done
grep -q "listening on" "$state/vault.addr" || { cat "$state/vault.log" >&2; echo "dapp.sh: the vault did not start" >&2; exit 1; }
vault_url="http://$(sed -n 's/^listening on //p' "$state/vault.addr")"

# What the app reads at run time: config.json and the metadata the deployed code was built with.
public="$state/public"
mkdir -p "$public/contracts"
cp "$EHR_ARTIFACTS_DIR"/{provider_registry,patient_records,risk_scores}.json "$public/contracts/"
node -e '
const d = require(process.argv[1]);
const config = {
  node: process.argv[2], vault: "/vault", chain: d.chain, deployedAt: d.deployed_at_block,
  contracts: { provider_registry: d.provider_registry.address, patient_records: d.patient_records.address, risk_scores: d.risk_scores.address },
  models: (d.oracle?.models ?? []).map((hash) => ({ hash })), devAccounts: true,
};
require("fs").writeFileSync(process.argv[3], JSON.stringify(config, null, 2));
' "$state/deployment.json" "$node_url" "$public/config.json"

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
if [ "$port" = 0 ]; then
    for _ in $(seq 1 200); do port=$(( 20000 + RANDOM % 40000 )); port_in_use "$port" || break; done
fi
port_in_use "$port" && { echo "dapp.sh: port $port is already in use (--port P, or --port 0 for a free one)" >&2; exit 1; }

mode=dev
serve_args=()
if [ "$preview" = 1 ]; then
    # The production build is a static folder: the deployment's config.json and metadata go
    # beside its index.html, as an operator would put them on any web server.
    mode=preview
    rm -rf "$state/www" && cp -r dapp/build "$state/www" && cp -r "$public"/. "$state/www/"
    serve_args=(preview --outDir "$state/www")
fi
( cd dapp && EHR_DAPP_PUBLIC="$public" EHR_VAULT_URL="$vault_url" exec node_modules/.bin/vite ${serve_args[@]+"${serve_args[@]}"} \
    --port "$port" --logLevel warn ) >"$state/vite.log" 2>&1 &
vite_pid=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/config.json" >/dev/null 2>&1 && break; sleep 0.2; done
curl -sf "http://127.0.0.1:$port/config.json" >/dev/null || { cat "$state/vite.log" >&2; echo "dapp.sh: the app did not start on port $port" >&2; exit 1; }

echo "app:        http://127.0.0.1:$port/  ($mode server)"
echo "node:       $node_url"
echo "vault:      $vault_url  (at /vault on the app's origin)"
echo "deployment: $state/deployment.json"
echo "oracle:     $(node -p 'require(process.argv[1]).oracle.account' "$state/deployment.json") (ai-oracle post|run --node $node_url --vault $vault_url, in $state)"
echo "logs:       $state/{vault.log,vite.log,node/node.log}"
echo "dapp.sh: serving; Ctrl-C stops the app, the vault and the node"
wait "$vite_pid"
