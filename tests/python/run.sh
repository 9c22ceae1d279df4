#!/usr/bin/env bash
# Python-SDK (mcp==2.3.0) end-to-end tests for hubmcp.
#   tests/python/run.sh [pytest args...]      e.g. -m "not legacy", -k progress, -x
# Uses the binary at $HUBMCP_BIN, else target/debug/hubmcp (build it first).
# The venv lives at ${HUBMCP_CACHE:-.cache}/venv (relative paths are from the repo root).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"

# Honour CARGO_TARGET_DIR like the other stages of scripts/test-all.
if [ -z "${HUBMCP_BIN:-}" ] && [ -n "${CARGO_TARGET_DIR:-}" ]; then
    case $CARGO_TARGET_DIR in
        /*) export HUBMCP_BIN="$CARGO_TARGET_DIR/debug/hubmcp" ;;
        *) export HUBMCP_BIN="$root/$CARGO_TARGET_DIR/debug/hubmcp" ;;
    esac
fi

cache="${HUBMCP_CACHE:-.cache}"
venv="$cache/venv"
req="$here/requirements.txt"
stamp="$venv/.requirements.sha256"

if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
want="$(sha256sum "$req" | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req"
    echo "$want" > "$stamp"
fi

set +e
"$venv/bin/python" -m pytest "$here" -q "$@"
code=$?
set -e
if [ "$code" -eq 5 ]; then
    echo "run.sh: pytest collected no tests; treating that as a failure" >&2
    exit 1
fi
exit "$code"
