#!/usr/bin/env bash
# tests/inspector/run.sh: MCP Inspector's CLI in strict mode (`--method tools/list --strict`,
# its tool-schema portability lint) against every toolset and bouquet hubmcp serves; any
# warning or error fails the stage.
#
#   tests/inspector/run.sh
#   HUBMCP_BIN=/path/to/hubmcp tests/inspector/run.sh
#
# @modelcontextprotocol/inspector (pinned below) is installed into $HUBMCP_CACHE/inspector
# and run with the pinned Node 22 of scripts/lib/common.sh. The Hub is the stand-in
# (target/debug/hub-standin, with Gradio Spaces). A negative control first: the Inspector
# must report the `type` array of tests/inspector/unportable_server.py, or a silent linter
# would pass everything. The same rules run without Node in
# crates/hubmcp/tests/portable_schemas.rs.

set -uo pipefail

# shellcheck source=../../scripts/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib/common.sh"
HERE="$HUBMCP_REPO/tests/inspector"
INSPECTOR_VERSION="2.12.0"
PREFIX="$HUBMCP_CACHE/inspector"
PKG="$PREFIX/node_modules/@modelcontextprotocol/inspector"
CLI="$PKG/clients/launcher/build/index.js"

hubmcp_ensure_node_tools || { echo "run.sh: could not install Node" >&2; exit 2; }
if [[ "$(_hubmcp_pkg_version "$PKG")" != "$INSPECTOR_VERSION" || ! -f $CLI ]]; then
    hubmcp_log "installing @modelcontextprotocol/inspector@$INSPECTOR_VERSION into $PREFIX"
    mkdir -p "$PREFIX"
    npm install --prefix "$PREFIX" --save-exact --no-audit --no-fund --loglevel=error \
        "@modelcontextprotocol/inspector@$INSPECTOR_VERSION" >&2 \
        || { echo "run.sh: npm install of the Inspector failed" >&2; exit 2; }
fi

TARGET="$(hubmcp_target_dir)"
BIN="${HUBMCP_BIN:-$TARGET/debug/hubmcp}"
STANDIN="${HUBMCP_STANDIN_BIN:-$TARGET/debug/hub-standin}"
for b in "$BIN" "$STANDIN"; do
    [[ -x $b ]] || { echo "run.sh: '$b' not found; build it first (cargo build -p hubmcp -p hub-standin)" >&2; exit 2; }
done

hubmcp_stop_servers_on_exit

LOGS="$HUBMCP_CACHE/logs/inspector-$(date +%Y%m%d-%H%M%S)-$$"
mkdir -p "$LOGS"
HUB_PORT="$(hubmcp_free_port)" && SPACES_PORT="$(hubmcp_free_port)" && PORT="$(hubmcp_free_port)" \
    && CONF_PORT="$(hubmcp_free_port)" || { echo "run.sh: no free port" >&2; exit 2; }

hubmcp_start_server "$LOGS" standin "$HUB_PORT" "$STANDIN" --port "$HUB_PORT" --spaces-port "$SPACES_PORT"
HUB="http://127.0.0.1:$HUB_PORT"
hubmcp_start_server "$LOGS" hubmcp "$PORT" env HF_ENDPOINT="$HUB" HF_DATASETS_SERVER_ENDPOINT="$HUB/datasets-server" \
    HUBMCP_SPACE_SCHEME=http HUBMCP_SPACE_PORT="$SPACES_PORT" HUBMCP_SPACE_RESOLVE=127.0.0.1 \
    HUBMCP_SPACE_ALLOW_ADDRESSES=loopback HUBMCP_LOG=warn \
    "$BIN" serve --toolset hub --host 127.0.0.1 --port "$PORT"
hubmcp_start_server "$LOGS" conformance "$CONF_PORT" env HUBMCP_LOG=warn "$BIN" serve --toolset conformance --host 127.0.0.1 --port "$CONF_PORT"

FAILED=0
# inspect LABEL ARGS...: one strict tools/list; fails on a non-zero exit, an empty tool
# list, or any portability finding on stderr.
inspect() {
    local label=$1
    shift
    local out="$LOGS/$label.out" err="$LOGS/$label.err"
    "$HUBMCP_NODE" "$CLI" --cli "$@" --method tools/list --strict >"$out" 2>"$err"
    local rc=$? tools
    tools="$(grep -c '"name":' "$out")"
    if ((rc != 0)) || ((tools == 0)) || grep -qE '^(Warning|Error): tool|Schema portability' "$err"; then
        echo "FAIL $label (exit $rc, $tools tools):" >&2
        head -n 40 "$err" >&2
        FAILED=1
    else
        echo "ok   $label: $tools tools, no portability finding"
    fi
}

hubmcp_banner "negative control: the Inspector reports a type array"
if "$HUBMCP_NODE" "$CLI" --cli python3 "$HERE/unportable_server.py" --method tools/list --strict \
    2>&1 >/dev/null | grep -q '`type` is an array'; then
    echo "ok   the Inspector's strict lint reports ['string','null']"
else
    echo "FAIL the pinned Inspector did not report a type array: its lint is not running" >&2
    FAILED=1
fi

hubmcp_banner "Inspector $INSPECTOR_VERSION --strict against every toolset"
URL="http://127.0.0.1:$PORT/mcp"
AUTH=(--header "Authorization: Bearer hf_standin_alice_write")
inspect anonymous --server-url "$URL" --transport http
for b in all hf_api search docs files spaces dynamic_space hub_repo_details; do
    inspect "bouquet-$b" --server-url "$URL?bouquet=$b" --transport http "${AUTH[@]}"
done
inspect spaces-gradio --server-url "$URL?gradio=evalstate/flux1_schnell,black-forest-labs/FLUX.1-Kontext-Dev" \
    --transport http "${AUTH[@]}"
inspect conformance --server-url "http://127.0.0.1:$CONF_PORT/mcp" --transport http

hubmcp_stop_servers
if ((FAILED)); then
    echo "inspector: FAILED (outputs in $LOGS)" >&2
    exit 1
fi
echo "inspector: every toolset passes the Inspector's strict schema lint"
