#!/usr/bin/env bash
# tests/hostile/run.sh: the hostile-input catalogue (crates/hubmcp/tests/hostile.rs) with its
# output uncaptured: every failing case and the lines "hostile: N cases, N passed" (in-memory
# stores, HTTP and stdio) and "hostile (redis): …" (the HTTP cases with state on Redis).
# The full per-case output goes to $HUBMCP_CACHE/logs/hostile.log.
#
#   tests/hostile/run.sh
#
# Environment: HUBMCP_HOSTILE_LIVENESS_MS (default 1000) bounds how soon after each case
# the server must answer a normal request.

set -uo pipefail
# shellcheck source=../../scripts/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib/common.sh"
cd "$HUBMCP_REPO" || exit 2

out="$HUBMCP_CACHE/logs/hostile.log"
cargo test -p hubmcp --test hostile -- --nocapture >"$out" 2>&1
rc=$?
grep -E '^  FAIL |^hostile.*: [0-9]+ cases' "$out"
if ((rc != 0)); then
    echo "hostile: cargo test exited $rc; the end of $out:"
    tail -n 40 "$out"
fi
exit "$rc"
