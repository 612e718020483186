#!/usr/bin/env bash
# Builds every contract with `cargo contract build --release` and collects the artifacts in one
# folder, ${CARGO_TARGET_DIR:-target}/contracts/:
#   NAME.contract  code + metadata bundle (what drink, Contracts UI and `cargo contract` load)
#   NAME.wasm      the code alone
#   NAME.json      the metadata alone (ABI for dApps and the oracle)
# Usage: scripts/build-contracts.sh [CONTRACT...]   (default: all of them)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export PATH="$HOME/.cargo/bin:$PATH"

contracts=("$@")
[ ${#contracts[@]} -gt 0 ] || contracts=(provider_registry patient_records risk_scores)

target=${CARGO_TARGET_DIR:-$root/target}
out="$target/contracts"
mkdir -p "$out"

# ink!'s static buffer for a message's input and output, which ink_env reads at compile time:
# 32 KiB instead of the default 16, so that a full batch of 128 sealed score attestations (176
# bytes each) fits; each bundle's metadata states it (`staticBufferSize`). It reaches rustc
# through a wrapper, not this shell: cargo-contract 5 runs `cargo clean` on the whole workspace
# target whenever it sees the variable itself and a contract has no metadata yet.
export RUSTC_WRAPPER="$root/scripts/rustc-ink-buffer.sh"

command -v cargo-contract >/dev/null || { echo "build-contracts: cargo-contract is missing; run scripts/setup.sh" >&2; exit 1; }

for name in "${contracts[@]}"; do
    manifest="contracts/$name/Cargo.toml"
    [ -f "$manifest" ] || { echo "build-contracts: no contract $name ($manifest)" >&2; exit 1; }
    echo "build-contracts: $name"
    cargo contract build --release --quiet --manifest-path "$manifest"
    for ext in contract wasm json; do
        cp "$target/ink/$name/$name.$ext" "$out/"
    done
done
echo "build-contracts: artifacts in $out"
ls -l "$out" | awk 'NR > 1 { printf "  %8d  %s\n", $5, $9 }'
