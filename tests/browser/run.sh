#!/usr/bin/env bash
# tests/browser/run.sh: hubmcp from web pages in headless Chromium (Debian's `chromium`
# package, driven over the DevTools protocol by tests/browser/browser.test.mjs with Node's
# built-in WebSocket; no npm packages, no downloaded browser).
#
#   tests/browser/run.sh
#   HUBMCP_BIN=/path/to/hubmcp CHROMIUM=/path/to/chromium tests/browser/run.sh
#
# Starts the Hub stand-in and target/debug/hubmcp (hub toolset) with
# CORS_ALLOWED_ORIGINS naming one of two page origins (http://allowed.test:PORT; Chromium
# maps allowed.test and other.test to 127.0.0.1). The page on the allowed origin must
# complete a 2026-07-28 tools/call with fetch; the page on the other must be refused.
# Node 22 comes from scripts/lib/common.sh.

set -uo pipefail

# shellcheck source=../../scripts/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib/common.sh"
HERE="$HUBMCP_REPO/tests/browser"

hubmcp_ensure_node_tools || { echo "run.sh: could not install Node" >&2; exit 2; }
hubmcp_find_chromium || exit 2
TARGET="$(hubmcp_target_dir)"
BIN="${HUBMCP_BIN:-$TARGET/debug/hubmcp}"
STANDIN="${HUBMCP_STANDIN_BIN:-$TARGET/debug/hub-standin}"
for b in "$BIN" "$STANDIN"; do
    [[ -x $b ]] || { echo "run.sh: '$b' not found; build it first (cargo build -p hubmcp -p hub-standin)" >&2; exit 2; }
done

hubmcp_stop_servers_on_exit

LOGS="$HUBMCP_CACHE/logs/browser-$(date +%Y%m%d-%H%M%S)-$$"
HUB_PORT="$(hubmcp_free_port)" && PORT="$(hubmcp_free_port)" && ALLOWED_PORT="$(hubmcp_free_port)" \
    && OTHER_PORT="$(hubmcp_free_port)" || { echo "run.sh: no free port" >&2; exit 2; }

hubmcp_start_server "$LOGS" standin "$HUB_PORT" "$STANDIN" --port "$HUB_PORT"
HUB="http://127.0.0.1:$HUB_PORT"
hubmcp_start_server "$LOGS" hubmcp "$PORT" env HF_ENDPOINT="$HUB" HF_DATASETS_SERVER_ENDPOINT="$HUB/datasets-server" \
    CORS_ALLOWED_ORIGINS="http://allowed.test:$ALLOWED_PORT" HUBMCP_LOG="${HUBMCP_LOG:-info}" NO_COLOR=1 \
    "$BIN" serve --toolset hub --host 127.0.0.1 --port "$PORT"

export HUBMCP_URL="http://127.0.0.1:$PORT/mcp" ALLOWED_PORT OTHER_PORT
hubmcp_banner "web pages in $("$CHROMIUM" --version 2>/dev/null | head -n 1) against $HUBMCP_URL"
"$HUBMCP_NODE" --test --test-reporter=spec "$HERE"/*.test.mjs
rc=$?
if ((rc != 0)); then
    echo "run.sh: server log $LOGS/hubmcp.log (last lines):" >&2
    tail -n 20 "$LOGS/hubmcp.log" >&2
fi
hubmcp_stop_servers
exit "$rc"
