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

step "lint contracts, shared types and the oracle"
cargo clippy --quiet -p ehr-types -p provider_registry -p patient_records -p ai-oracle --all-targets -- -D warnings

step "tests: unit tests and drink suites"
cargo test --workspace
