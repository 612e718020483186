#!/usr/bin/env bash
# The main demo: the whole system on an in-process chain (drink) running the release contract
# artifacts, with the record vault's embedded store (files + SQLite) and its release rule; no
# node needed. Deploys the contracts, registers a doctor and the oracle, publishes encryption
# keys, consents; the patient seals a sample FHIR bundle for its readers (XChaCha20-Poly1305, data
# key wrapped with HPKE), anchors the envelope's SHA-256 and stores the envelope; the oracle's
# audited request releases it, the oracle decrypts, scores it with the ACC/AHA Pooled Cohort
# Equations, signs and posts the attestation (verified on-chain); refused posts (no consent,
# tampered signature, replay); the doctor reads the record through the vault, a stranger is
# denied; the patient erases the record (crypto-shredding). scripts/demo-vault.sh shows the
# encrypted path with real processes (node, vault, `ehr` CLI).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
# rustup installs cargo in ~/.cargo/bin, which a shell opened before `scripts/setup.sh` lacks.
export PATH="$HOME/.cargo/bin:$PATH"
scripts/build-contracts.sh >/dev/null
cargo run --quiet -p ehr-demo
