#!/usr/bin/env bash
# tests/cluster/ctl.sh: act on the running test cluster in $CLUSTER_DIR (started by
# tests/cluster/run.sh); used by the fault tests. Processes started here are recorded in
# $CLUSTER_DIR and stopped by run.sh's exit trap.
#
#   ctl.sh kill-instance I         SIGKILL hubmcp instance I
#   ctl.sh stop-instance I         SIGTERM instance I and wait for it to exit
#   ctl.sh start-instance I        start instance I again (same port, same flags) and wait for /readyz
#   ctl.sh stop-redis | start-redis
#   ctl.sh restart-instances [FLAGS...]   restart every instance with these extra flags
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
: "${CLUSTER_DIR:?CLUSTER_DIR is not set (run through tests/cluster/run.sh)}"

cmd=${1:?usage: ctl.sh COMMAND [ARGS]}
shift
case $cmd in
    kill-instance) cluster_stop_instance "${1:?instance}" KILL ;;
    stop-instance) cluster_stop_instance "${1:?instance}" TERM ;;
    start-instance) cluster_start_instance "${1:?instance}" && cluster_wait_ready "$1" 30 ;;
    stop-redis) cluster_stop_redis TERM ;;
    start-redis) cluster_start_redis ;;
    restart-instances)
        n="$(cat "$CLUSTER_DIR/instances")"
        for ((i = 1; i <= n; i++)); do
            cluster_stop_instance "$i"
            rm -f "$CLUSTER_DIR/instance-$i.args"
            cluster_start_instance "$i" "$@"
        done
        for ((i = 1; i <= n; i++)); do cluster_wait_ready "$i" 30; done
        ;;
    *) echo "ctl.sh: unknown command $cmd" >&2; exit 2 ;;
esac
