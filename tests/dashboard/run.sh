#!/usr/bin/env bash
# tests/dashboard/run.sh: the operator's dashboard in headless Chromium (Debian's
# `chromium` package, driven over the DevTools protocol by tests/dashboard/dashboard.test.mjs
# with Node's built-in WebSocket; no npm packages, no downloaded browser).
#
#   tests/dashboard/run.sh
#   HUBMCP_BIN=/path/to/hubmcp CHROMIUM=/path/to/chromium tests/dashboard/run.sh
#
# Starts target/debug/hubmcp with METRICS_PAGE_PASSWORD, loads /dashboard, checks that live
# figures appear and follow MCP traffic of both eras, and saves the screenshot
# test-artifacts/dashboard.png (gitignored). Node 22 comes from scripts/lib/common.sh.

set -uo pipefail

# shellcheck source=../../scripts/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib/common.sh"
HERE="$HUBMCP_REPO/tests/dashboard"

hubmcp_ensure_node_tools || { echo "run.sh: could not install Node" >&2; exit 2; }
hubmcp_find_chromium || exit 2

BIN="${HUBMCP_BIN:-$(hubmcp_target_dir)/debug/hubmcp}"
[[ -x $BIN ]] || { echo "run.sh: '$BIN' not found; build it first (cargo build -p hubmcp)" >&2; exit 2; }
PORT="$(hubmcp_free_port)" || { echo "run.sh: no free port" >&2; exit 2; }
LOGS="$HUBMCP_CACHE/logs/dashboard-$(date +%Y%m%d-%H%M%S)-$$"
LOG="$LOGS/hubmcp.log"
PASSWORD="dash-$RANDOM$RANDOM"

hubmcp_stop_servers_on_exit

hubmcp_log "starting $BIN serve --toolset conformance --port $PORT (log: $LOG)"
hubmcp_start_server "$LOGS" hubmcp "$PORT" env METRICS_PAGE_PASSWORD="$PASSWORD" HUBMCP_METRICS=on \
    HUBMCP_LOG="${HUBMCP_LOG:-warn}" "$BIN" serve --toolset conformance --host 127.0.0.1 --port "$PORT" \
    --keep-alive-seconds 1
if grep -q "$PASSWORD" "$LOG"; then
    echo "run.sh: the metrics password appears in the server log" >&2
    exit 1
fi

export HUBMCP_BASE="http://127.0.0.1:$PORT" HUBMCP_PASSWORD="$PASSWORD"
export ARTIFACTS="$HUBMCP_REPO/test-artifacts"
hubmcp_banner "dashboard in $("$CHROMIUM" --version 2>/dev/null | head -n 1) against $HUBMCP_BASE"
"$HUBMCP_NODE" --test --test-reporter=spec "$HERE"/*.test.mjs
rc=$?
if grep -q "$PASSWORD" "$LOG"; then
    echo "run.sh: the metrics password appears in the server log" >&2
    rc=1
fi
hubmcp_stop_servers
exit "$rc"
