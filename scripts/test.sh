#!/usr/bin/env bash
# The project's test command (README, CI): builds the release contract artifacts, checks
# formatting and lints, then runs every test: unit tests beside the code, the drink suites in
# tests/ (the release .contract artifacts in an in-process chain) and the end-to-end suite in
# tests/tests/node/, which starts real substrate-contracts-node processes (scripts/setup.sh
# installs the node) and drives them with signed extrinsics, the ai-oracle binary and
# cargo-contract's CLI.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export PATH="$HOME/.cargo/bin:$PATH"

step() { echo; echo "== $*"; }

step "build release contracts (cargo contract build --release; clippy with arithmetic lints)"
scripts/build-contracts.sh

step "format"
cargo fmt --all --check

step "lint the workspace (clippy -D warnings), and the envelope's browser build (wasm32)"
cargo clippy --quiet --workspace --all-targets -- -D warnings
cargo clippy --quiet -p envelope-wasm --target wasm32-unknown-unknown -- -D warnings

step "the README's main command: scripts/demo.sh (from a shell whose PATH lacks ~/.cargo/bin, as right after setup)"
env PATH=/usr/local/bin:/usr/bin:/bin scripts/demo.sh > "${CARGO_TARGET_DIR:-$root/target}/demo-output.log"
tail -n 1 "${CARGO_TARGET_DIR:-$root/target}/demo-output.log"

step "the encrypted record path on a real node, vault and CLI: scripts/demo-vault.sh"
scripts/demo-vault.sh > "${CARGO_TARGET_DIR:-$root/target}/demo-vault-output.log"
tail -n 1 "${CARGO_TARGET_DIR:-$root/target}/demo-vault-output.log"

target="${CARGO_TARGET_DIR:-$root/target}"
step "the metadata as a dApp meets it: @polkadot/api-contract loads every contract's and round-trips every message and event (dapp/, offline)"
(cd dapp && npm ci --no-audit --no-fund --loglevel=error && CONTRACTS_DIR="$target/contracts" npm test --silent) \
    > "$target/dapp-test.log" 2>&1 || { cat "$target/dapp-test.log"; exit 1; }
grep -E '^# (tests|pass|fail) ' "$target/dapp-test.log"

step "the web app in Debian's Chromium (playwright-core) against scripts/dapp.sh --preview: a real node, vault and oracle (dapp/e2e)"
(cd dapp && EHR_SCREENSHOTS="$target/dapp-screenshots" npm run e2e --silent) > "$target/dapp-e2e.log" 2>&1 \
    || { cat "$target/dapp-e2e.log"; exit 1; }
grep -E '^ *(ok|not ok) |^# (tests|pass|fail) ' "$target/dapp-e2e.log"
echo "screenshots: $target/dapp-screenshots/"

# The S3-compatible server of the vault's S3 backend test (scripts/setup.sh installs it).
export EHR_S3_TEST_SERVER="${EHR_S3_TEST_SERVER:-$HOME/.local/share/ehr-on-ink/moto-5.2.5/bin/moto_server}"
step "tests: unit and property tests, FHIR fixtures, CLI, drink suites, end-to-end on $(substrate-contracts-node --version)"
rm -rf "$target/e2e"
# The binaries the end-to-end suite runs as processes.
cargo build --quiet -p ai-oracle -p ehr-vault -p ehr-cli
log="$target/test-output.log"
set +e
cargo test --workspace --all-targets 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
echo
echo "end-to-end suite against substrate-contracts-node (tests/tests/node):"
awk '/Running tests\/node\/main.rs/ { f = 1 } f && /^test result:/ { print "  " $0; f = 0 }' "$log"
for f in "$target/e2e/restart-test.txt" "$target/e2e/node-weights-seed.txt"; do
    if [ -f "$f" ]; then sed 's/^/  /' "$f"; fi
done
echo
awk '/^test result:/ { passed += $4; failed += $6 } END { printf "tests: %d passed, %d failed\n", passed, failed }' "$log"
exit "$status"
