#!/usr/bin/env bash
# The main demo: the whole system on an in-process chain (drink) running the release contract
# artifacts, no node needed: deploy the contracts, register an admin, doctor, patient and the
# oracle, anchor a sample FHIR bundle, consent, score it with the ACC/AHA Pooled Cohort
# Equations, sign and post the attestation (verified on-chain), show the stored result, the
# refused posts (no consent, tampered signature, replay) and the audit events.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
scripts/build-contracts.sh >/dev/null
cargo run --quiet -p ai-oracle -- demo
