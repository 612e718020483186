#!/usr/bin/env bash
# Installs what a fresh machine lacks to build and test the project. Idempotent; prints nothing
# when everything is already there.
#
#   scripts/setup.sh          everything the tests need (scripts/test.sh, CI)
#   scripts/setup.sh demo     only what the main demo needs (scripts/demo.sh): the toolchain,
#                             cargo-contract and g++; no node, no S3 test server
#
#   - rustup and the toolchain pinned in rust-toolchain.toml (Rust 1.86.0 with rust-src, clippy,
#     rustfmt and the wasm32-unknown-unknown target)
#   - cargo-contract 5.0.3 (about 11-25 minutes to build the first time)
#   - the C/C++ compiler cargo-contract's build needs (Debian: g++)
#   - moto[server] 5.2.5 (PyPI), the S3-compatible server the vault's S3 backend is tested
#     against, in a virtualenv under ~/.local/share/ehr-on-ink (needs python3 with venv)
#   - substrate-contracts-node 0.42.0 for the end-to-end tests (scripts/install-node.sh: its
#     Debian build packages and Rust 1.95; about an hour to build the first time, skipped when the
#     binary is already on PATH at that version)
#   - Node.js 20+ and npm for the dApp's checks (dapp/; the machine's, else Debian's packages)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export PATH="$HOME/.cargo/bin:$PATH"

purpose=${1:-test}
case "$purpose" in
    test | demo) ;;
    *) echo "setup: unknown purpose '$purpose' (expected: test, the default, or demo)" >&2; exit 2 ;;
esac

CARGO_CONTRACT_VERSION=5.0.3
toolchain=$(sed -n 's/^channel *= *"\(.*\)"/\1/p' rust-toolchain.toml)

say() { echo "setup: $*"; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# Debian packages the builds need.
if command -v apt-get >/dev/null 2>&1; then
    missing=()
    for pkg in g++ pkg-config; do
        dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        say "apt-get install ${missing[*]}"
        as_root apt-get update -qq
        DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
fi

# rustup and the pinned toolchain.
if ! command -v rustup >/dev/null 2>&1; then
    say "installing rustup"
    # The script sh.rustup.rs serves, from where rustup publishes it (sh.rustup.rs is a redirect
    # some networks cannot resolve).
    curl --proto '=https' --tlsv1.2 -sSf https://static.rust-lang.org/rustup/rustup-init.sh |
        sh -s -- -y --profile minimal --default-toolchain none
fi
if ! rustup run "$toolchain" rustc --version >/dev/null 2>&1 ||
    ! rustup component list --toolchain "$toolchain" --installed 2>/dev/null | grep -q '^rust-src' ||
    ! rustup component list --toolchain "$toolchain" --installed 2>/dev/null | grep -q '^clippy' ||
    ! rustup target list --toolchain "$toolchain" --installed 2>/dev/null | grep -q '^wasm32-unknown-unknown$'; then
    say "installing Rust $toolchain with rust-src, clippy, rustfmt, wasm32-unknown-unknown"
    rustup toolchain install "$toolchain" --profile minimal \
        -c rust-src -c clippy -c rustfmt -t wasm32-unknown-unknown >/dev/null
fi

# cargo-contract.
if ! cargo-contract --version 2>/dev/null | grep -q "^cargo-contract $CARGO_CONTRACT_VERSION"; then
    say "installing cargo-contract $CARGO_CONTRACT_VERSION (builds from source; takes a while the first time)"
    cargo "+$toolchain" install cargo-contract --version "$CARGO_CONTRACT_VERSION" --locked --quiet
fi

# substrate-contracts-node (the real chain of the end-to-end tests).
# The demo needs nothing more.
[ "$purpose" = demo ] && exit 0

"$root/scripts/install-node.sh"

# moto's S3-compatible server (the vault's S3 backend test, vault/tests/s3.rs).
MOTO_VERSION=5.2.5
moto_dir="$HOME/.local/share/ehr-on-ink/moto-$MOTO_VERSION"
if [ ! -x "$moto_dir/bin/moto_server" ]; then
    say "installing moto[server] $MOTO_VERSION (S3-compatible test server) in $moto_dir"
    if ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
        DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq python3-venv >/dev/null
    fi
    rm -rf "$moto_dir"
    python3 -m venv "$moto_dir"
    "$moto_dir/bin/pip" install --quiet --disable-pip-version-check "moto[server]==$MOTO_VERSION"
fi

# Node.js 20+ and npm, for the dApp's checks (dapp/: @polkadot/api-contract on the metadata).
node_major=$(node --version 2>/dev/null | sed -n 's/^v\([0-9]*\)\..*/\1/p')
if [ -z "$node_major" ] || [ "$node_major" -lt 20 ] || ! command -v npm >/dev/null 2>&1; then
    say "installing Node.js and npm (Debian's nodejs and npm packages)"
    if command -v apt-get >/dev/null 2>&1; then
        as_root apt-get update -qq
        DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq nodejs npm >/dev/null
    fi
    node_major=$(node --version 2>/dev/null | sed -n 's/^v\([0-9]*\)\..*/\1/p')
    if [ -z "$node_major" ] || [ "$node_major" -lt 20 ]; then
        echo "setup: the dApp's checks need Node.js 20 or later (found: $(node --version 2>/dev/null || echo none))" >&2
        exit 1
    fi
fi

# The dApp's browser tests drive Debian's Chromium with playwright-core (never a browser that
# Playwright downloads itself).
chromium=${CHROMIUM:-/usr/bin/chromium}
if [ ! -x "$chromium" ]; then
    say "installing Debian's chromium (the dApp's browser tests)"
    if command -v apt-get >/dev/null 2>&1; then
        as_root apt-get update -qq
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null || true
    fi
    [ -x "$chromium" ] || { echo "setup: the dApp's browser tests need Chromium at $chromium (Debian's package chromium; or set CHROMIUM to another Chromium's path)" >&2; exit 1; }
fi

# wasm-bindgen's CLI, at the version of the wasm-bindgen crate in Cargo.lock (they must match):
# the bindings of the record envelope compiled for the browser (envelope-wasm, scripts/build-dapp.sh).
# Built with the node's Rust (install-node.sh installed it), not the project's 1.86 pin.
wasm_bindgen_version=$(awk '$0 == "name = \"wasm-bindgen\"" { getline; gsub(/"/, "", $3); print $3; exit }' Cargo.lock)
[ -n "$wasm_bindgen_version" ] || { echo "setup: no wasm-bindgen in Cargo.lock" >&2; exit 1; }
if ! wasm-bindgen --version 2>/dev/null | grep -qx "wasm-bindgen $wasm_bindgen_version"; then
    say "installing wasm-bindgen-cli $wasm_bindgen_version (builds from source; a few minutes the first time)"
    node_toolchain=${NODE_TOOLCHAIN:-1.95.0}
    rustup toolchain list | grep -q "^$node_toolchain" || rustup toolchain install "$node_toolchain" --profile minimal >/dev/null
    # Not --locked: its lock file pins a webpki-roots release the registry no longer serves.
    (cd / && cargo "+$node_toolchain" install wasm-bindgen-cli --version "$wasm_bindgen_version" --quiet)
fi
