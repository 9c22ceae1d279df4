#!/usr/bin/env bash
# tests/conformance/run.sh: run the MCP conformance suite
# (@modelcontextprotocol/conformance, pinned in scripts/lib/common.sh) against hubmcp.
#
# Usage:
#   tests/conformance/run.sh                 the full gate (what scripts/test-all runs)
#   tests/conformance/run.sh --list          list what would run, and the 2026-07-28 requirement set
#   tests/conformance/run.sh --scenario X [--spec-version V] [-- EXTRA...]
#                                            one scenario (default wire 2026-07-28), with the
#                                            suite's full per-check output; EXTRA goes to the
#                                            suite's `server` command (e.g. -- --force --verbose)
#   tests/conformance/run.sh --url URL ...   test an already-running server instead of starting one
#   tests/conformance/run.sh --no-legacy     leave out the 2025-11-25 block (= HUBMCP_CONFORMANCE_LEGACY=0)
#   tests/conformance/run.sh --legacy-only   only the 2025-11-25 block (e.g. through a balancer
#                                            that pins sessions: tests/cluster/run.sh)
#   tests/conformance/run.sh -v|--verbose    stream the suite's own output too
#
# The full gate, on the 2026-07-28 (stateless) wire:
#   1. server --requirements 2026-07-28: every SCORED scenario must pass (the suite's exit
#      code); not-scored ones (extensions, pending) run and are shown but do not count.
#   2. server --scenario X --spec-version 2026-07-28 for X in http-header-validation,
#      http-custom-header-server-validation, json-schema-2020-12: each must pass. (They are
#      "pending" in the frozen requirement set, so step 1 does not score them; we do.)
#   2b. The tasks extension's scenarios (TASK_SCENARIOS, io.modelcontextprotocol/tasks,
#      SEP-2663), each with --force (extension scenarios are not in the requirement set
#      and the suite runs them singly only when forced): each must pass.
#      tasks-status-notifications is not required: in this suite version it only reports
#      SKIPPED ("pending subscriptions/listen rewrite"), so it can never pass.
#   3. The same for 2025-11-25 (stateful wire: sessions, SSE polling), with the extras
#      server-sse-polling, server-session-lifecycle, json-schema-2020-12 (unscored there;
#      we require them). HUBMCP_CONFORMANCE_LEGACY=0 leaves this block out.
#
# How the suite reports (read from its source and checked against 0.2.0-alpha.12):
#   - exit 1 when any check in a run fails (under --requirements: any check of a SCORED
#     scenario), else 0. A scenario that is not applicable at the requested --spec-version
#     is SKIPPED with exit 0 and no checks: we count such a run as failed ("NO CHECKS").
#   - results are written only with -o DIR: DIR/server-<scenario>-<timestamp>/checks.json,
#     an array of {id, status: SUCCESS|FAILURE|WARNING|SKIPPED|INFO, errorMessage, ...}.
#     We always pass -o (into the cache) and run from the run directory, so the repo stays
#     clean. tests/conformance/summarize.mjs turns those files into the table below.
#
# Environment:
#   HUBMCP_BIN                     server binary (default: <target>/debug/hubmcp)
#   HUBMCP_CACHE                   cache dir (default .cache); logs in $HUBMCP_CACHE/logs,
#                                  runs in $HUBMCP_CACHE/conformance/runs/<time> (+ latest link)
#   HUBMCP_CONFORMANCE_LEGACY=0    skip the 2025-11-25 block (default: run it)
#   HUBMCP_CONFORMANCE_RUN_TIMEOUT hard cap in seconds for a requirement-set run (default 480)
#   HUBMCP_CONFORMANCE_SCENARIO_TIMEOUT  the same for a single-scenario run (default 120)
#                                  (so the full gate stays within ~15 min even against a hung server)
#
# Exit status: 0 when everything counted passed, 1 otherwise, 2 on usage/setup errors.
# The last line is "conformance: N passed, N failed" (scenarios).

set -uo pipefail

# shellcheck source=../../scripts/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib/common.sh"

WIRE="2026-07-28"
LEGACY_WIRE="2025-11-25"
# Scenarios that the 2026-07-28 requirement set runs but does not score ("pending"),
# which hubmcp must pass anyway.
EXTRA_SCENARIOS=(http-header-validation http-custom-header-server-validation json-schema-2020-12)
# The tasks extension's scenarios (2026-07-28 wire), run with --force.
TASK_SCENARIOS=(tasks-lifecycle tasks-capability-negotiation tasks-wire-fields tasks-request-state-removal
    tasks-mrtr-input tasks-request-headers tasks-dispatch-and-envelope tasks-required-task-error
    tasks-mrtr-composition)
# The 2025-11-25 extras (legacy block).
LEGACY_EXTRA_SCENARIOS=(server-sse-polling server-session-lifecycle json-schema-2020-12)

MODE=full
SCENARIO=""
SCENARIO_WIRE="$WIRE"
URL=""
VERBOSE=0
LEGACY="${HUBMCP_CONFORMANCE_LEGACY:-1}"
MODERN=1
RUN_TIMEOUT="${HUBMCP_CONFORMANCE_RUN_TIMEOUT:-480}"
SCENARIO_TIMEOUT="${HUBMCP_CONFORMANCE_SCENARIO_TIMEOUT:-120}"
EXTRA=()

usage() {
    sed -n '2,/^$/{s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"
}

while (($#)); do
    case $1 in
        --list) MODE=list ;;
        --scenario) MODE=scenario; SCENARIO=${2:?--scenario needs a name}; shift ;;
        --scenario=*) MODE=scenario; SCENARIO=${1#*=} ;;
        --spec-version) SCENARIO_WIRE=${2:?--spec-version needs a value}; shift ;;
        --spec-version=*) SCENARIO_WIRE=${1#*=} ;;
        --url) URL=${2:?--url needs a value}; shift ;;
        --url=*) URL=${1#*=} ;;
        --legacy) LEGACY=1 ;;
        --no-legacy) LEGACY=0 ;;
        --legacy-only) LEGACY=1; MODERN=0 ;;
        -v | --verbose) VERBOSE=1 ;;
        -h | --help) usage; exit 0 ;;
        --) shift; EXTRA=("$@"); break ;;
        *) echo "run.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
    esac
    shift
done

hubmcp_ensure_node_tools || { echo "run.sh: could not install the conformance suite" >&2; exit 2; }

conformance() { "$HUBMCP_NODE" "$HUBMCP_CONFORMANCE_JS" "$@"; }

if [[ $MODE == list ]]; then
    echo "Runs of the full gate (tests/conformance/run.sh):"
    echo "  server --requirements $WIRE            (scored scenarios must pass)"
    for s in "${EXTRA_SCENARIOS[@]}"; do echo "  server --scenario $s --spec-version $WIRE"; done
    for s in "${TASK_SCENARIOS[@]}"; do echo "  server --scenario $s --spec-version $WIRE --force"; done
    echo "  legacy block (HUBMCP_CONFORMANCE_LEGACY=0 disables it; currently $([[ $LEGACY == 1 ]] && echo ON || echo off)):"
    echo "    server --requirements $LEGACY_WIRE"
    for s in "${LEGACY_EXTRA_SCENARIOS[@]}"; do echo "    server --scenario $s --spec-version $LEGACY_WIRE"; done
    echo
    conformance list --requirements "$WIRE"
    echo "All server scenarios in this suite version (applicable wire versions in brackets):"
    conformance list --server | sed -n '2,$p'
    exit 0
fi

# --------------------------------------------------------------------------- setup
STAMP="$(date +%Y%m%d-%H%M%S)-$$"
RUNS_ROOT="$HUBMCP_CACHE/conformance/runs"
RUN_DIR="$RUNS_ROOT/$STAMP"
mkdir -p "$RUN_DIR"
ln -sfn "$RUN_DIR" "$HUBMCP_CACHE/conformance/latest"
# Keep the 10 newest runs.
ls -1d "$RUNS_ROOT"/*/ 2>/dev/null | sort | head -n -10 | while read -r old; do rm -rf -- "$old"; done
MANIFEST="$RUN_DIR/manifest.tsv"
: >"$MANIFEST"

SERVER_PID=""
SERVER_LOG=""
cleanup() {
    if [[ -n $SERVER_PID ]]; then
        hubmcp_stop_pid "$SERVER_PID"
        SERVER_PID=""
    fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

server_log_tail() {
    [[ -n $SERVER_LOG && -s $SERVER_LOG ]] || return 0
    echo "---- last 40 lines of $SERVER_LOG ----"
    tail -n 40 "$SERVER_LOG"
    echo "----"
}

if [[ -z $URL ]]; then
    BIN="${HUBMCP_BIN:-$(hubmcp_target_dir)/debug/hubmcp}"
    if [[ ! -x $BIN ]]; then
        echo "run.sh: server binary '$BIN' not found; build it first (cargo build -p hubmcp) or set HUBMCP_BIN" >&2
        exit 2
    fi
    PORT="$(hubmcp_free_port)" || { echo "run.sh: no free port" >&2; exit 2; }
    SERVER_LOG="$HUBMCP_CACHE/logs/conformance-server-$STAMP.log"
    echo "starting: $BIN serve --toolset conformance --host 127.0.0.1 --port $PORT (log: $SERVER_LOG)"
    "$BIN" serve --toolset conformance --host 127.0.0.1 --port "$PORT" >"$SERVER_LOG" 2>&1 </dev/null &
    SERVER_PID=$!
    hubmcp_wait_for_port "$PORT" 30 "$SERVER_PID"
    case $? in
        0) ;;
        2) wait "$SERVER_PID" 2>/dev/null; rc=$?; SERVER_PID=""
           echo "run.sh: the server exited (status $rc) before accepting connections on port $PORT" >&2
           server_log_tail >&2
           echo "conformance: 0 passed, 1 failed"
           exit 1 ;;
        *) echo "run.sh: the server did not accept connections on port $PORT within 30 s" >&2
           server_log_tail >&2
           echo "conformance: 0 passed, 1 failed"
           exit 1 ;;
    esac
    URL="http://127.0.0.1:$PORT/mcp"
    echo "server up (pid $SERVER_PID) at $URL"
fi

# --------------------------------------------------------------------------- runs
# conf_run LABEL REQUIREMENTS SCENARIO WIRE [ARG...]: one invocation of the suite. Pass
# "-" for REQUIREMENTS to run SCENARIO at WIRE, or "-" for SCENARIO/WIRE to run a
# requirement set; ARGs go to the suite's `server` command.
conf_run() {
    local label=$1 rev=$2 scen=$3 wire=$4
    shift 4
    local out="$RUN_DIR/$label"
    mkdir -p "$out/results"
    local args=(server --url "$URL" -o "$out/results") cap
    if [[ $rev != - ]]; then
        args+=(--requirements "$rev")
        cap=$RUN_TIMEOUT
    else
        args+=(--scenario "$scen" --spec-version "$wire")
        cap=$SCENARIO_TIMEOUT
    fi
    args+=("$@" "${EXTRA[@]}")

    echo
    echo "---- [$label] conformance ${args[*]}"
    local t0=$SECONDS rc
    if ((VERBOSE)); then
        (cd "$out" && timeout --kill-after=10 "$cap" "$HUBMCP_NODE" "$HUBMCP_CONFORMANCE_JS" "${args[@]}") 2>&1 | tee "$out/output.txt"
        rc=${PIPESTATUS[0]}
    else
        (cd "$out" && timeout --kill-after=10 "$cap" "$HUBMCP_NODE" "$HUBMCP_CONFORMANCE_JS" "${args[@]}") >"$out/output.txt" 2>&1
        rc=$?
    fi
    local note=""
    case $rc in
        0) note="suite exit 0" ;;
        1) note="suite exit 1 (failures)" ;;
        124 | 137) note="TIMED OUT after ${cap}s (HUBMCP_CONFORMANCE_RUN_TIMEOUT / _SCENARIO_TIMEOUT)" ;;
        *) note="suite exit $rc (runner error)" ;;
    esac
    echo "---- [$label] $note in $((SECONDS - t0))s; output: $out/output.txt"
    if ((!VERBOSE)) && [[ $rc != 0 && $rc != 1 ]]; then
        echo "---- last 30 lines of the suite's output:"
        tail -n 30 "$out/output.txt"
    fi
    if [[ -n $SERVER_PID ]] && ! kill -0 "$SERVER_PID" 2>/dev/null; then
        echo "!!!! the server (pid $SERVER_PID) is no longer running"
        server_log_tail
    fi
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$label" "$out/results" "$rc" "$rev" "$scen" "$wire" >>"$MANIFEST"
}

if [[ $MODE == scenario ]]; then
    VERBOSE=1
    conf_run "$SCENARIO@$SCENARIO_WIRE" - "$SCENARIO" "$SCENARIO_WIRE"
else
    if [[ $MODERN == 1 ]]; then
        hubmcp_banner "conformance: $WIRE wire (stateless) against $URL"
        conf_run "requirements@$WIRE" "$WIRE" - -
        for s in "${EXTRA_SCENARIOS[@]}"; do
            conf_run "$s@$WIRE" - "$s" "$WIRE"
        done
        for s in "${TASK_SCENARIOS[@]}"; do
            conf_run "$s@$WIRE" - "$s" "$WIRE" --force
        done
    else
        echo "($WIRE block left out: --legacy-only)"
    fi

    # -----------------------------------------------------------------------------
    # LEGACY BLOCK: the 2025-11-25 wire (stateful: initialize handshake, sessions,
    # SSE polling). ON by default; HUBMCP_CONFORMANCE_LEGACY=0 (or --no-legacy) skips it.
    # -----------------------------------------------------------------------------
    if [[ $LEGACY == 1 ]]; then
        hubmcp_banner "conformance: $LEGACY_WIRE wire (stateful, legacy block) against $URL"
        conf_run "requirements@$LEGACY_WIRE" "$LEGACY_WIRE" - -
        for s in "${LEGACY_EXTRA_SCENARIOS[@]}"; do
            conf_run "$s@$LEGACY_WIRE" - "$s" "$LEGACY_WIRE"
        done
    else
        echo
        echo "(legacy $LEGACY_WIRE block disabled by HUBMCP_CONFORMANCE_LEGACY=0 / --no-legacy)"
    fi
fi

cleanup

hubmcp_banner "conformance summary (run dir: $RUN_DIR)"
"$HUBMCP_NODE" "$(dirname "${BASH_SOURCE[0]}")/summarize.mjs" "$MANIFEST" "$HUBMCP_CONFORMANCE_DIR"
