#!/usr/bin/env bash
# tests/cluster/run.sh: hubmcp as several instances behind a real load balancer.
#
#   tests/cluster/run.sh            everything below (what scripts/test-all's cluster stage runs)
#   tests/cluster/run.sh -k NAME    only the steps whose name contains NAME (e.g. -k faults)
#
# Starts, on free loopback ports with everything in $HUBMCP_CACHE/cluster/run-*/ (never the
# system services): redis-server (--save '' --appendonly no), three `target/debug/hubmcp
# serve --toolset conformance` instances (same --state-key, --redis-url, --keep-alive-seconds 1)
# and nginx from deploy/nginx-shared-store.conf (round robin, no stickiness). Through nginx:
#   shared-store/conformance   tests/conformance/run.sh --url: 2026-07-28 requirements + extras,
#                              2025-11-25 requirements + server-sse-polling,
#                              server-session-lifecycle, json-schema-2020-12
#   shared-store/python        the Python SDK legacy-mode HTTP tests (HUBMCP_TEST_URL)
#   shared-store/ts            the TypeScript SDK tests (Streamable HTTP and HTTP+SSE sessions)
#   shared-store/faults        tests/cluster/test_cluster.py: a session's lifecycle across
#                              instances, SIGKILL of the push stream's instance, Redis outage
#   shared-store/ratelimit     instances restarted with a shared limit: exactly N served
# Then without Redis, nginx from deploy/nginx-sessions-pinned.conf (clients pinned):
#   sessions-pinned/conformance  the 2025-11-25 block (--legacy-only)
#   sessions-pinned/python, /ts  the SDK tests as above
#   sessions-pinned/faults       a client stays on one instance; when it dies, its sessions
#                                are gone (404) and a new session works
# Everything is stopped on exit (also on failure or interrupt). Needs redis-server and nginx
# (.ci/run installs them) and a built target/debug/hubmcp (or HUBMCP_BIN).
# Exit status: 0 when every step passed; the last line is "cluster: N passed, N failed".

set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
HERE="$HUBMCP_REPO/tests/cluster"
INSTANCES=3
RATE_BURST=5
STEP_TIMEOUT="${HUBMCP_CLUSTER_STEP_TIMEOUT:-600}"

ONLY=""
while (($#)); do
    case $1 in
        -k) ONLY=${2:?-k needs a name}; shift ;;
        -h | --help) sed -n '2,/^$/{s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"; exit 0 ;;
        *) echo "run.sh: unknown argument '$1'" >&2; exit 2 ;;
    esac
    shift
done

cluster_need_tools || exit 2
hubmcp_ensure_node_tools || { echo "run.sh: could not install Node and the conformance suite" >&2; exit 2; }

cluster_init
trap 'cluster_down || true' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
echo "cluster run directory: $CLUSTER_DIR"

NAMES=()
RESULTS=()
PASSED=0
FAILED=0

# step NAME CMD...: run CMD (bounded by $STEP_TIMEOUT), record the result.
step() {
    local name=$1
    shift
    [[ -z $ONLY || $name == *"$ONLY"* ]] || return 0
    hubmcp_banner "cluster step $name: $*"
    local t0=$SECONDS rc=0
    timeout --kill-after=10 "$STEP_TIMEOUT" "$@" || rc=$?
    local dt=$((SECONDS - t0))
    NAMES+=("$name")
    if ((rc == 0)); then
        RESULTS+=("passed ${dt}s")
        PASSED=$((PASSED + 1))
    else
        RESULTS+=("FAILED (exit $rc) ${dt}s")
        FAILED=$((FAILED + 1))
        cluster_logs_tail
    fi
}

fail_setup() { # fail_setup NAME: a topology that did not come up fails its steps
    NAMES+=("$1")
    RESULTS+=("FAILED (cluster did not start)")
    FAILED=$((FAILED + 1))
}

# wanted TOPOLOGY STEP...: does any TOPOLOGY/STEP match -k?
wanted() {
    local topology=$1 s
    shift
    for s in "$@"; do
        [[ -z $ONLY || $topology/$s == *"$ONLY"* ]] && return 0
    done
    return 1
}

summary() {
    hubmcp_banner "cluster summary (logs: $CLUSTER_DIR)"
    local i
    for i in "${!NAMES[@]}"; do printf '  %-30s %s\n' "${NAMES[$i]}" "${RESULTS[$i]}"; done
    echo "cluster: $PASSED passed, $FAILED failed"
}

PY="$HUBMCP_CACHE/venv/bin/python"
python_ready() { # the venv tests/python/run.sh maintains
    [[ -x $PY ]] || bash "$HUBMCP_REPO/tests/python/run.sh" --co -q >/dev/null
}

# ------------------------------------------------------------------ shared store (Redis)
if wanted shared-store conformance python ts faults ratelimit; then
    hubmcp_banner "topology shared-store: redis + $INSTANCES instances + nginx round robin"
    if URL="$(cluster_up shared-store "$INSTANCES")"; then
        export CLUSTER_DIR CLUSTER_URL="$URL"
        echo "balancer: $URL"
        step shared-store/conformance "$HUBMCP_REPO/tests/conformance/run.sh" --url "$URL"
        step shared-store/python env HUBMCP_TEST_URL="$URL" bash "$HUBMCP_REPO/tests/python/run.sh" -m legacy -k http
        step shared-store/ts bash "$HUBMCP_REPO/tests/ts/run.sh" --url "$URL"
        if wanted shared-store faults ratelimit; then python_ready || true; fi
        step shared-store/faults "$PY" -m pytest "$HERE" -q -m "not ratelimit and not pinned"
        if wanted shared-store ratelimit; then
            if "$HERE/ctl.sh" restart-instances --rate-anonymous-per-minute 1 --rate-anonymous-burst "$RATE_BURST"; then
                step shared-store/ratelimit env CLUSTER_RATE_BURST="$RATE_BURST" "$PY" -m pytest "$HERE" -q -m ratelimit
            else
                fail_setup shared-store/ratelimit
            fi
        fi
    else
        cluster_logs_tail
        fail_setup shared-store
    fi
    cluster_down || true
fi

# ------------------------------------------------------------- sessions pinned (no Redis)
if wanted sessions-pinned conformance python ts faults; then
    hubmcp_banner "topology sessions-pinned: $INSTANCES instances (no Redis) + nginx pinning clients"
    rm -f "$CLUSTER_DIR"/*.port
    if URL="$(cluster_up sessions-pinned "$INSTANCES")"; then
        export CLUSTER_URL="$URL"
        echo "balancer: $URL"
        step sessions-pinned/conformance "$HUBMCP_REPO/tests/conformance/run.sh" --url "$URL" --legacy-only
        step sessions-pinned/python env HUBMCP_TEST_URL="$URL" bash "$HUBMCP_REPO/tests/python/run.sh" -m legacy -k http
        step sessions-pinned/ts bash "$HUBMCP_REPO/tests/ts/run.sh" --url "$URL"
        if wanted sessions-pinned faults; then python_ready || true; fi
        step sessions-pinned/faults "$PY" -m pytest "$HERE" -q -m pinned
    else
        cluster_logs_tail
        fail_setup sessions-pinned
    fi
    cluster_down || true
fi

summary
((FAILED == 0 && PASSED > 0))
