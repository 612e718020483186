#!/usr/bin/env bash
# A local substrate-contracts-node dev chain, bound to loopback only.
#
#   scripts/node.sh start [--rpc-port P] [--p2p-port Q] [--base-path DIR] [--state DIR]
#       Starts the node in the background, waits until its RPC answers, and prints its URL
#       (ws://127.0.0.1:P). Ports default to free ones. The chain lives in a temporary directory
#       that is deleted on stop, unless --base-path names a persistent one.
#   scripts/node.sh stop [--state DIR]
#       Stops the node started by `start` (SIGTERM, then SIGKILL after 20 s) and removes its
#       temporary chain.
#   scripts/node.sh run [--rpc-port P] [--p2p-port Q] [--base-path DIR]
#       Runs the node in the foreground until Ctrl-C.
#   scripts/node.sh url [--state DIR]
#       Prints the URL of the node started by `start`.
#
# The state directory (default target/node) holds the pid, URL and log of a started node.
# Nothing listens off loopback: RPC and p2p are bound to 127.0.0.1 and mDNS, telemetry and
# Prometheus are off.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
export PATH="$HOME/.cargo/bin:$PATH"

NODE=${CONTRACTS_NODE:-substrate-contracts-node}
cmd=${1:-}
[ $# -gt 0 ] && shift
rpc_port=""
p2p_port=""
base_path=""
state="${CARGO_TARGET_DIR:-$root/target}/node"

die() { echo "node.sh: $*" >&2; exit 1; }

while [ $# -gt 0 ]; do
    case "$1" in
        --rpc-port) rpc_port=${2:?--rpc-port needs a port}; shift 2 ;;
        --p2p-port) p2p_port=${2:?--p2p-port needs a port}; shift 2 ;;
        --base-path) base_path=${2:?--base-path needs a directory}; shift 2 ;;
        --state) state=${2:?--state needs a directory}; shift 2 ;;
        *) die "unknown option '$1' (see the comment at the top of scripts/node.sh)" ;;
    esac
done

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

free_port() {
    local p
    for _ in $(seq 1 200); do
        p=$(( 20000 + RANDOM % 40000 ))
        port_in_use "$p" || { echo "$p"; return; }
    done
    die "no free port found"
}

rpc_answers() {
    curl -s --max-time 2 -H 'Content-Type: application/json' \
        -d '{"id":1,"jsonrpc":"2.0","method":"system_health","params":[]}' \
        "http://127.0.0.1:$1" 2>/dev/null | grep -q '"result"'
}

node_args() {
    echo --dev --rpc-port "$rpc_port" --listen-addr "/ip4/127.0.0.1/tcp/$p2p_port" \
        --no-mdns --no-telemetry --no-prometheus --base-path "$base_path"
}

prepare() {
    command -v "$NODE" >/dev/null 2>&1 || die "$NODE not found; run scripts/setup.sh (or set CONTRACTS_NODE)"
    [ -n "$rpc_port" ] || rpc_port=$(free_port)
    [ -n "$p2p_port" ] || p2p_port=$(free_port)
    port_in_use "$rpc_port" && die "RPC port $rpc_port is already in use"
    port_in_use "$p2p_port" && die "p2p port $p2p_port is already in use"
    temporary=0
    if [ -z "$base_path" ]; then
        base_path=$(mktemp -d -t ehr-node.XXXXXX)
        temporary=1
    fi
    mkdir -p "$base_path"
}

case "$cmd" in
    start)
        if [ -f "$state/pid" ] && kill -0 "$(cat "$state/pid")" 2>/dev/null; then
            die "a node is already running (pid $(cat "$state/pid"), $(cat "$state/url")); scripts/node.sh stop first"
        fi
        prepare
        mkdir -p "$state"
        # shellcheck disable=SC2046
        "$NODE" $(node_args) >"$state/node.log" 2>&1 &
        pid=$!
        echo "$pid" >"$state/pid"
        echo "ws://127.0.0.1:$rpc_port" >"$state/url"
        if [ "$temporary" = 1 ]; then echo "$base_path" >"$state/temporary-base-path"; else rm -f "$state/temporary-base-path"; fi
        for _ in $(seq 1 120); do
            if rpc_answers "$rpc_port"; then
                echo "ws://127.0.0.1:$rpc_port"
                exit 0
            fi
            kill -0 "$pid" 2>/dev/null || { tail -n 20 "$state/node.log" >&2; die "the node exited during start-up (log: $state/node.log)"; }
            sleep 0.5
        done
        tail -n 20 "$state/node.log" >&2
        kill "$pid" 2>/dev/null || true
        die "RPC on port $rpc_port did not answer within 60 s (log: $state/node.log)"
        ;;
    stop)
        [ -f "$state/pid" ] || die "no node was started from $state"
        pid=$(cat "$state/pid")
        if kill -0 "$pid" 2>/dev/null; then
            kill -TERM "$pid"
            for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
            kill -0 "$pid" 2>/dev/null && { echo "node.sh: node $pid ignored SIGTERM; killing it" >&2; kill -KILL "$pid"; }
        fi
        if [ -f "$state/temporary-base-path" ]; then rm -rf "$(cat "$state/temporary-base-path")"; fi
        rm -f "$state/pid" "$state/url" "$state/temporary-base-path"
        echo "node.sh: stopped node $pid"
        ;;
    url)
        [ -f "$state/url" ] || die "no node was started from $state"
        cat "$state/url"
        ;;
    run)
        prepare
        cleanup() { [ "$temporary" = 1 ] && rm -rf "$base_path"; }
        trap cleanup EXIT
        echo "node.sh: ws://127.0.0.1:$rpc_port (Ctrl-C stops)" >&2
        # shellcheck disable=SC2046
        "$NODE" $(node_args) &
        pid=$!
        trap 'kill -TERM $pid 2>/dev/null' INT TERM
        wait "$pid" || true
        ;;
    *)
        die "usage: scripts/node.sh start|stop|run|url [options] (see the comment at the top)"
        ;;
esac
