#!/usr/bin/env bash
# Evaluates the audit-trail detector on synthetic hospitals (ehr-audit's generator): tuned on
# one seed and size, reported on others — ROC AUC, precision at the number of true attackers and
# recall at a 1 % false-positive rate, per attack type, for the detector and for a rule
# baseline; and the detector's events scored per second on one core. Release build.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
# rustup installs cargo in ~/.cargo/bin, which a shell opened before `scripts/setup.sh` lacks.
export PATH="$HOME/.cargo/bin:$PATH"
taskset -c 0 true 2>/dev/null && pin=(taskset -c 0) || pin=()
cargo build --quiet --profile bench-oracle -p ehr-audit --bin bench-audit
"${pin[@]}" "${CARGO_TARGET_DIR:-$root/target}/bench-oracle/bench-audit"
