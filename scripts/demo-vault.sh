#!/usr/bin/env bash
# The encrypted record path, end to end, on a real chain: a substrate-contracts-node dev chain,
# the contracts deployed, the record vault (ehr-vault, embedded store: files + SQLite) and the
# `ehr` command line of the admin, a patient and two doctors (dev accounts). The patient seals a
# lab result on its machine, anchors the envelope's hash and uploads it; grants a doctor, whose
# audited request releases the document and whose key opens it; a doctor without consent is
# denied and the denial is on chain; a revocation deletes the doctor's keys; an erasure destroys
# the document; the patient reads their audit trail. Part of scripts/demo.sh.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export PATH="$HOME/.cargo/bin:$PATH"
target="${CARGO_TARGET_DIR:-$root/target}"
export EHR_ARTIFACTS_DIR="${EHR_ARTIFACTS_DIR:-$target/contracts}"
scripts/build-contracts.sh >/dev/null
cargo build --quiet -p ai-oracle -p ehr-vault -p ehr-cli
work=$(mktemp -d)
state="$work/node"
vault_pid=""
cleanup() {
    [ -n "$vault_pid" ] && kill "$vault_pid" 2>/dev/null || true
    scripts/node.sh stop --state "$state" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

say() { printf '\n\033[1m%s\033[0m\n' "$*"; }
ehr() { echo "\$ ehr $*" | sed "s#$work/##g"; "$target/debug/ehr" "$@" 2>&1 | sed 's/^/  /'; return "${PIPESTATUS[0]}"; }
refused() { if ehr "$@"; then echo "demo: expected a refusal" >&2; exit 1; fi; }

# The dev chain's well-known accounts.
admin=//Alice patient=//Bob doctor=//Charlie other=//Dave
doctor_id=5FLSigC9HGRKVhB9FiEo4Y3koPsNmBmLJbpXg2mp1hXcS59Y
other_id=5DAAnrj7VHTznn2AWBemMuyBwZWs6FNFjdyVXUeYum3PTXFy
patient_id=5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty

say "== The encrypted record path on a real node: substrate-contracts-node, ehr-vault, the ehr CLI"
url=$(scripts/node.sh start --state "$state")
echo "node: $url"
"$target/debug/ai-oracle" keygen --out "$work/oracle.key" >/dev/null
(cd "$work" && "$target/debug/ai-oracle" deploy --node "$url" --key oracle.key --upgrade-delay 10 >/dev/null)
"$target/debug/ehr-vault" --listen 127.0.0.1:0 --node "$url" --deployment "$work/deployment.json" \
    --data "$work/vault-data" --audit-window 10 >"$work/vault.addr" 2>"$work/vault.log" &
vault_pid=$!
for _ in $(seq 50); do grep -q "listening on" "$work/vault.addr" 2>/dev/null && break; sleep 0.2; done
vault="http://$(sed -n 's/^listening on //p' "$work/vault.addr")"
echo "vault: $vault (envelopes in $work/vault-data/blobs, index in SQLite)" | sed "s#$work/##g"
export EHR_NODE_URL="$url" EHR_VAULT_URL="$vault" EHR_DEPLOYMENT="$work/deployment.json"

say "Keys: each user's X25519 encryption key in a private file (mode 0600); the public half goes on chain"
for who in patient doctor other; do ehr keygen --key-out "$work/$who.key"; done
ehr admin register-provider "$doctor_id" --role doctor --suri "$admin"
ehr admin register-provider "$other_id" --role doctor --suri "$admin"
ehr patient register --suri "$patient"
ehr patient publish-key --suri "$patient" --key "$work/patient.key"
ehr provider publish-key --suri "$doctor" --key "$work/doctor.key"
ehr provider publish-key --suri "$other" --key "$work/other.key"

say "The patient seals a lab result on their machine, anchors the envelope's SHA-256, uploads the envelope"
cp ai-oracle/fixtures/patient-a-white-female.json "$work/labs.json"
ehr patient upload --suri "$patient" --category lab-result "$work/labs.json"
blob=$(find "$work/vault-data/blobs" -type f | head -n 1)
echo "the vault holds $(wc -c <"$blob") bytes of ciphertext; plaintext FHIR in it: $(grep -c resourceType "$blob" || true) matches"

say "Consent: the patient grants Charlie read access to lab results; the record's key is re-wrapped for him"
ehr patient grant "$doctor_id" --suri "$patient" --key "$work/patient.key" --read lab-result
say "Charlie's request is audited on chain, then the vault checks consent + the audited request and releases"
ehr provider fetch "$patient_id" 0 --suri "$doctor" --key "$work/doctor.key" --out "$work/charlie.json"
cmp -s "$work/labs.json" "$work/charlie.json" && echo "  Charlie decrypted the document: identical to the patient's file"
say "Dave has no consent: denied, and the denial is on chain"
refused provider fetch "$patient_id" 0 --suri "$other" --key "$work/other.key"

say "The patient revokes Charlie: consent gone on chain, his wrapped keys deleted in the vault"
ehr patient revoke "$doctor_id" --suri "$patient"
refused provider fetch "$patient_id" 0 --suri "$doctor" --key "$work/doctor.key"

say "The patient erases the record (crypto-shredding): tombstone on chain, envelope and keys destroyed"
ehr patient erase 0 --suri "$patient"
ehr patient records --suri "$patient"
refused patient read 0 --suri "$patient" --key "$work/patient.key"

say "The patient's audit trail, from the chain's events"
ehr patient audit --suri "$patient"
echo
echo "vault log (every release and refusal):"
grep -E "released|refused" "$work/vault.log" | sed -E 's/\x1b\[[0-9;]*m//g; s/^/  /' | cut -c1-160
echo
echo "encrypted record path: OK"
