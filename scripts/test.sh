#!/usr/bin/env bash
# The project's test command (README, CI): builds the release contract artifacts, checks
# formatting and lints, then runs every test: unit tests beside the code and the drink suites
# in tests/, which load the release .contract artifacts into an in-process chain.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export PATH="$HOME/.cargo/bin:$PATH"

step() { echo; echo "== $*"; }

step "build release contracts (cargo contract build --release; clippy with arithmetic lints)"
scripts/build-contracts.sh

step "format"
cargo fmt --all --check

step "lint the workspace (clippy -D warnings)"
cargo clippy --quiet --workspace --all-targets -- -D warnings

step "the README's main command: scripts/demo.sh"
scripts/demo.sh > "${CARGO_TARGET_DIR:-$root/target}/demo-output.log"
tail -n 1 "${CARGO_TARGET_DIR:-$root/target}/demo-output.log"

step "tests: unit and property tests, FHIR fixtures, CLI, drink suites"
log="${CARGO_TARGET_DIR:-$root/target}/test-output.log"
set +e
cargo test --workspace --all-targets 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
echo
awk '/^test result:/ { passed += $4; failed += $6 } END { printf "tests: %d passed, %d failed\n", passed, failed }' "$log"
exit "$status"
