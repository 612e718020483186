#!/usr/bin/env bash
# Installs substrate-contracts-node (crates.io `contracts-node` 0.42.0) into ~/.cargo/bin.
#
# Skips everything when the binary is already on PATH at the right version. Otherwise unpacks
# the project lead's build of the same crate and version from ../shared/bin beside the checkout
# when it is there (seconds); else downloads the official release binary (GitHub release v0.42.0,
# substrate-contracts-node-linux.tar.gz) and uses it only if its SHA-256 is the pinned one and it
# runs and reports the version (seconds to a minute); else installs the Debian build packages it
# needs and builds it with
# Rust 1.95 (never the project's 1.86 pin, whose std is too old for the node, and never 1.96+,
# with which the runtime wasm fails to link) at opt-level 1: about 45 minutes on 2 cores.
set -euo pipefail

NODE_VERSION=0.42.0
NODE_TOOLCHAIN=${NODE_TOOLCHAIN:-1.95.0}
export PATH="$HOME/.cargo/bin:$PATH"

have_node() {
    command -v substrate-contracts-node >/dev/null 2>&1 &&
        substrate-contracts-node --version 2>/dev/null | grep -q "substrate-contracts-node $NODE_VERSION"
}

if have_node; then
    exit 0
fi

# The project lead's build of the same crate and version, beside the checkout (CI has it):
# seconds instead of an hour. Used only if it reports the pinned version.
root=$(cd "$(dirname "$0")/.." && pwd)
prebuilt="$root/../shared/bin/substrate-contracts-node.xz"
if [ -f "$prebuilt" ] && command -v xz >/dev/null 2>&1; then
    mkdir -p "$HOME/.cargo/bin"
    unpacked=$(mktemp -d)
    xz -dc "$prebuilt" > "$unpacked/substrate-contracts-node"
    chmod +x "$unpacked/substrate-contracts-node"
    if "$unpacked/substrate-contracts-node" --version 2>/dev/null | grep -q "substrate-contracts-node $NODE_VERSION"; then
        mv "$unpacked/substrate-contracts-node" "$HOME/.cargo/bin/substrate-contracts-node"
        rmdir "$unpacked"
        echo "install-node: $(substrate-contracts-node --version) from $prebuilt"
        exit 0
    fi
    rm -rf "$unpacked"
    echo "install-node: $prebuilt is not substrate-contracts-node $NODE_VERSION; building it"
fi

# The official release binary, pinned by the SHA-256 of its archive (x86_64 Linux only).
RELEASE_URL="https://github.com/paritytech/substrate-contracts-node/releases/download/v$NODE_VERSION/substrate-contracts-node-linux.tar.gz"
RELEASE_SHA256=a631b4e83dd05e4beaccbd770be709ac41914183d443116c2e4d244161590265
if [ "$(uname -sm)" = "Linux x86_64" ] && command -v curl >/dev/null 2>&1 && command -v sha256sum >/dev/null 2>&1; then
    download=$(mktemp -d)
    if curl -fsSL --retry 2 --connect-timeout 20 --max-time 600 -o "$download/node.tar.gz" "$RELEASE_URL" 2>/dev/null; then
        if echo "$RELEASE_SHA256  $download/node.tar.gz" | sha256sum -c --status; then
            binary=""
            if tar -xzf "$download/node.tar.gz" -C "$download"; then
                binary=$(find "$download" -type f -name substrate-contracts-node -print -quit)
            fi
            if [ -n "$binary" ] && chmod +x "$binary" &&
                "$binary" --version 2>/dev/null | grep -q "substrate-contracts-node $NODE_VERSION"; then
                mkdir -p "$HOME/.cargo/bin"
                mv "$binary" "$HOME/.cargo/bin/substrate-contracts-node"
                rm -rf "$download"
                echo "install-node: $(substrate-contracts-node --version) from the official release (sha256 $RELEASE_SHA256)"
                exit 0
            fi
            echo "install-node: the official release binary does not run here; building it"
        else
            echo "install-node: the downloaded release archive's SHA-256 is not the pinned one; not using it"
        fi
    else
        echo "install-node: the official release binary could not be downloaded; building it"
    fi
    rm -rf "$download"
fi
echo "install-node: building substrate-contracts-node $NODE_VERSION with Rust $NODE_TOOLCHAIN (about an hour the first time)"

if command -v apt-get >/dev/null 2>&1; then
    missing=()
    for pkg in clang libclang-dev protobuf-compiler libssl-dev pkg-config cmake g++; do
        dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        echo "install-node: apt-get install ${missing[*]}"
        sudo_cmd=""
        [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
        $sudo_cmd apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
fi

rustup toolchain install "$NODE_TOOLCHAIN" --profile minimal -c rust-src \
    -t wasm32-unknown-unknown -t wasm32v1-none >/dev/null 2>&1 ||
    rustup toolchain install "$NODE_TOOLCHAIN" --profile minimal -c rust-src -t wasm32-unknown-unknown

# Only the dev runtime is needed; the parachain/relay runtimes are skipped.
# opt-level 1: the node's weights are benchmarked constants, so the tests' results do not
# change, and the build is faster (the lead's build at opt-level 1 took 45 min on 2 cores).
CARGO_PROFILE_RELEASE_OPT_LEVEL=${CARGO_PROFILE_RELEASE_OPT_LEVEL:-1} \
SKIP_CONTRACTS_PARACHAIN_RUNTIME_WASM_BUILD=1 \
SKIP_ROCOCO_RUNTIME_WASM_BUILD=1 \
SKIP_WESTEND_RUNTIME_WASM_BUILD=1 \
    cargo "+$NODE_TOOLCHAIN" install contracts-node --version "$NODE_VERSION" --locked

have_node || { echo "install-node: substrate-contracts-node $NODE_VERSION is not on PATH after the build" >&2; exit 1; }
echo "install-node: $(substrate-contracts-node --version)"
