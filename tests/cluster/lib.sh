# shellcheck shell=bash
# tests/cluster/lib.sh: start and stop a local hubmcp cluster — redis-server, N hubmcp
# instances and nginx in front (rendered from deploy/nginx-*.conf) — on free loopback ports,
# with everything (config, pid files, logs, nginx temp files) in one directory, $CLUSTER_DIR.
# Never touches the system's redis or nginx services. Sourced by tests/cluster/run.sh and
# tests/cluster/ctl.sh; defines functions and variables, changes no shell options.
#
# State in $CLUSTER_DIR:
#   redis.port redis.pid redis.log            the Redis server (when the topology has one)
#   instance-I.port .pid .log .args           hubmcp instance I (1..N); .args = its extra flags
#   nginx/ (prefix: conf, logs/, tmp/)         nginx; nginx.port, nginx.pid
#   url                                       the balancer's MCP endpoint

# shellcheck source=../../scripts/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib/common.sh"

CLUSTER_STATE_KEY="cluster-test-state-key-0123456789abcdef"
# Instances speak a short keep-alive so idle-timeout paths are exercised quickly.
CLUSTER_KEEP_ALIVE=1

cluster_bin() { printf '%s\n' "${HUBMCP_BIN:-$(hubmcp_target_dir)/debug/hubmcp}"; }

# cluster_need_tools: fail with a clear message when redis-server or nginx is missing.
cluster_need_tools() {
    local missing=() t
    for t in redis-server redis-cli nginx; do
        command -v "$t" >/dev/null 2>&1 || [[ -x /usr/sbin/$t ]] || missing+=("$t")
    done
    if ((${#missing[@]})); then
        echo "cluster: missing ${missing[*]} (Debian: apt-get install --no-install-recommends redis-server nginx; .ci/run installs them)" >&2
        return 1
    fi
    local bin
    bin="$(cluster_bin)"
    if [[ ! -x $bin ]]; then
        echo "cluster: server binary '$bin' not found; build it first (cargo build -p hubmcp) or set HUBMCP_BIN" >&2
        return 1
    fi
}

# _cluster_status PORT PATH: the HTTP status of GET PATH on 127.0.0.1:PORT (empty if none
# within 3 s). Plain bash, so the harness needs no curl.
_cluster_status() {
    # shellcheck disable=SC2016 # expanded by the inner bash
    timeout 3 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$0" || exit 1
        printf "GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n" "$1" >&3
        read -r _ code _ <&3 && printf "%s\n" "$code"' "$1" "$2" 2>/dev/null || true
}

_cluster_nginx() { command -v nginx 2>/dev/null || echo /usr/sbin/nginx; }

# cluster_init: make $CLUSTER_DIR (under $HUBMCP_CACHE/cluster, kept for the logs).
cluster_init() {
    mkdir -p "$HUBMCP_CACHE/cluster"
    CLUSTER_DIR="$(mktemp -d "$HUBMCP_CACHE/cluster/run-$(date +%Y%m%d-%H%M%S)-XXXX")"
    export CLUSTER_DIR
    # Keep the 5 newest runs.
    find "$HUBMCP_CACHE/cluster" -mindepth 1 -maxdepth 1 -type d -name 'run-*' | sort | head -n -5 |
        while read -r old; do
            [[ $old == "$CLUSTER_DIR" ]] || rm -rf -- "$old"
        done
}

_cluster_pid() { [[ -f $CLUSTER_DIR/$1.pid ]] && cat "$CLUSTER_DIR/$1.pid"; }

# _cluster_stop NAME [SIGNAL]: stop the process recorded in NAME.pid (TERM, then KILL after
# 5 s; or only SIGNAL, waiting up to 10 s for it to exit) and forget it. Only ever that
# pid; safe under `set -e` (the process may be gone, or a child of another shell).
_cluster_stop() {
    local name=$1 sig=${2:-} pid
    pid="$(_cluster_pid "$name")" || return 0
    rm -f "$CLUSTER_DIR/$name.pid"
    [[ -n $pid ]] || return 0
    if [[ -n $sig ]]; then
        kill "-$sig" "$pid" 2>/dev/null || true
        for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        wait "$pid" 2>/dev/null || true
        return 0
    fi
    hubmcp_stop_pid "$pid" || true
}

# ------------------------------------------------------------------------------ redis
cluster_start_redis() {
    local port
    port="$(cat "$CLUSTER_DIR/redis.port" 2>/dev/null)" || true
    [[ -n $port ]] || port="$(hubmcp_free_port)" || return 1
    echo "$port" >"$CLUSTER_DIR/redis.port"
    mkdir -p "$CLUSTER_DIR/redis"
    redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
        --dir "$CLUSTER_DIR/redis" --daemonize no --protected-mode yes \
        >>"$CLUSTER_DIR/redis.log" 2>&1 </dev/null &
    echo $! >"$CLUSTER_DIR/redis.pid"
    local deadline=$((SECONDS + 20))
    while ((SECONDS < deadline)); do
        if [[ "$(redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null)" == PONG ]]; then
            return 0
        fi
        kill -0 "$(_cluster_pid redis)" 2>/dev/null || break
        sleep 0.1
    done
    echo "cluster: redis-server did not come up on port $port; its log:" >&2
    tail -n 20 "$CLUSTER_DIR/redis.log" >&2
    return 1
}

cluster_stop_redis() { _cluster_stop redis "$@"; }

cluster_redis_url() { printf 'redis://127.0.0.1:%s\n' "$(cat "$CLUSTER_DIR/redis.port")"; }

# --------------------------------------------------------------------------- instances
# cluster_start_instance I [EXTRA FLAGS...]: start hubmcp instance I (reusing its port if it
# ran before). Its flags: the conformance toolset, the shared state key, a short keep-alive,
# X-Forwarded-For trusted (only nginx reaches it), Redis when $CLUSTER_DIR/redis.port exists,
# then EXTRA (saved, so a restart without EXTRA reuses them).
cluster_start_instance() {
    local i=$1
    shift
    local name="instance-$i" port
    if (($#)); then printf '%s\n' "$@" >"$CLUSTER_DIR/$name.args"; fi
    local extra=()
    if [[ -f $CLUSTER_DIR/$name.args ]]; then mapfile -t extra <"$CLUSTER_DIR/$name.args"; fi
    port="$(cat "$CLUSTER_DIR/$name.port" 2>/dev/null)" || true
    [[ -n $port ]] || port="$(hubmcp_free_port)" || return 1
    echo "$port" >"$CLUSTER_DIR/$name.port"
    local args=(serve --toolset conformance --host 127.0.0.1 --port "$port"
        --keep-alive-seconds "$CLUSTER_KEEP_ALIVE" --drain-seconds 2 --trust-forwarded-for)
    if [[ -f $CLUSTER_DIR/redis.port ]]; then
        args+=(--redis-url "$(cluster_redis_url)" --redis-prefix "hubmcp-cluster-test:")
    fi
    echo "== $(date +%H:%M:%S) start: hubmcp ${args[*]} ${extra[*]}" >>"$CLUSTER_DIR/$name.log"
    HUBMCP_STATE_KEY="$CLUSTER_STATE_KEY" HUBMCP_LOG="${HUBMCP_CLUSTER_LOG:-info}" NO_COLOR=1 \
        "$(cluster_bin)" "${args[@]}" "${extra[@]}" >>"$CLUSTER_DIR/$name.log" 2>&1 </dev/null &
    echo $! >"$CLUSTER_DIR/$name.pid"
}

# cluster_wait_ready I [TIMEOUT]: until instance I answers /readyz with 200.
cluster_wait_ready() {
    local i=$1 timeout=${2:-30} name="instance-$1" port pid code
    port="$(cat "$CLUSTER_DIR/$name.port")"
    pid="$(_cluster_pid "$name")"
    local deadline=$((SECONDS + timeout))
    while ((SECONDS < deadline)); do
        code="$(_cluster_status "$port" /readyz)"
        [[ $code == 200 ]] && return 0
        if ! kill -0 "$pid" 2>/dev/null; then
            echo "cluster: $name exited before it was ready; its log:" >&2
            tail -n 20 "$CLUSTER_DIR/$name.log" >&2
            if grep -q "unexpected argument '--redis-url'" "$CLUSTER_DIR/$name.log"; then
                echo "cluster: this hubmcp has no --redis-url: the Redis wiring has not landed in this build" >&2
            fi
            return 1
        fi
        sleep 0.2
    done
    echo "cluster: $name (port $port) not ready within ${timeout}s (last /readyz status: ${code:-none}); its log:" >&2
    tail -n 20 "$CLUSTER_DIR/$name.log" >&2
    return 1
}

cluster_stop_instance() { _cluster_stop "instance-$1" "${2:-}"; }

# ------------------------------------------------------------------------------- nginx
# cluster_start_nginx TEMPLATE N: render deploy/TEMPLATE for instances 1..N and run nginx.
cluster_start_nginx() {
    local template=$1 n=$2 prefix="$CLUSTER_DIR/nginx" port servers="" i
    mkdir -p "$prefix/logs" "$prefix/tmp"
    port="$(cat "$CLUSTER_DIR/nginx.port" 2>/dev/null)" || true
    [[ -n $port ]] || port="$(hubmcp_free_port)" || return 1
    echo "$port" >"$CLUSTER_DIR/nginx.port"
    for ((i = 1; i <= n; i++)); do
        servers+="server 127.0.0.1:$(cat "$CLUSTER_DIR/instance-$i.port") max_fails=1 fail_timeout=2s; "
    done
    sed -e "s|__LISTEN__|127.0.0.1:$port|" -e "s|__SERVERS__|$servers|" \
        "$HUBMCP_REPO/deploy/$template" >"$prefix/site.conf"
    if grep -q '__[A-Z]*__' "$prefix/site.conf"; then
        echo "cluster: unsubstituted placeholder in $prefix/site.conf" >&2
        return 1
    fi
    {
        echo "daemon off;"
        # As root, nginx workers would switch to 'nobody', who cannot enter this directory.
        if ((EUID == 0)); then echo "user root;"; fi
        echo "include site.conf;"
    } >"$prefix/nginx.conf"
    local nginx
    nginx="$(_cluster_nginx)"
    if ! "$nginx" -t -q -p "$prefix/" -c nginx.conf -e logs/error.log >"$prefix/logs/test.log" 2>&1; then
        echo "cluster: nginx -t rejected $prefix/site.conf:" >&2
        cat "$prefix/logs/test.log" >&2
        return 1
    fi
    "$nginx" -p "$prefix/" -c nginx.conf -e logs/error.log >>"$prefix/logs/stdout.log" 2>&1 </dev/null &
    echo $! >"$CLUSTER_DIR/nginx.pid"
    if ! hubmcp_wait_for_port "$port" 10 "$(_cluster_pid nginx)"; then
        echo "cluster: nginx did not listen on $port; its error log:" >&2
        tail -n 20 "$prefix/logs/error.log" >&2
        return 1
    fi
    echo "http://127.0.0.1:$port/mcp" >"$CLUSTER_DIR/url"
}

cluster_stop_nginx() { _cluster_stop nginx; }

# ----------------------------------------------------------------------------- topology
# cluster_up TOPOLOGY N [EXTRA INSTANCE FLAGS...]: TOPOLOGY is shared-store (Redis + round
# robin) or sessions-pinned (no Redis). Prints the balancer's MCP URL.
cluster_up() {
    local topology=$1 n=$2 i
    shift 2
    case $topology in
        shared-store) cluster_start_redis || return 1 ;;
        sessions-pinned) rm -f "$CLUSTER_DIR/redis.port" ;;
        *) echo "cluster: unknown topology $topology" >&2; return 2 ;;
    esac
    echo "$n" >"$CLUSTER_DIR/instances"
    for ((i = 1; i <= n; i++)); do
        rm -f "$CLUSTER_DIR/instance-$i.args"
        cluster_start_instance "$i" "$@" || return 1
    done
    for ((i = 1; i <= n; i++)); do
        cluster_wait_ready "$i" 30 || return 1
    done
    cluster_start_nginx "nginx-$topology.conf" "$n" || return 1
    cat "$CLUSTER_DIR/url"
}

# cluster_down: stop nginx, the instances and Redis (whatever is recorded as running).
cluster_down() {
    [[ -n ${CLUSTER_DIR:-} && -d $CLUSTER_DIR ]] || return 0
    cluster_stop_nginx
    local f
    for f in "$CLUSTER_DIR"/instance-*.pid; do
        [[ -e $f ]] || continue
        f="${f##*/}"
        _cluster_stop "${f%.pid}"
    done
    _cluster_stop redis
}

# cluster_logs_tail: the last lines of every log, for a failure report.
cluster_logs_tail() {
    local f
    for f in "$CLUSTER_DIR"/*.log "$CLUSTER_DIR"/nginx/logs/error.log; do
        [[ -s $f ]] || continue
        echo "---- last 15 lines of $f"
        tail -n 15 "$f"
    done
}
