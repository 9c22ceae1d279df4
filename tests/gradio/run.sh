#!/usr/bin/env bash
# hubmcp against a real Gradio app (gradio[mcp], pinned) served as Spaces behind the Hub stand-in.
#   tests/gradio/run.sh [pytest args...]      e.g. -k progress, -x
# Uses target/debug/hubmcp and target/debug/hub-standin (build them first; CARGO_TARGET_DIR,
# HUBMCP_BIN and HUBMCP_STANDIN_BIN are honoured). Installs what it needs itself into
# ${HUBMCP_CACHE:-.cache}: the tests' venv (tests/python/requirements.txt, shared with
# tests/python/run.sh) and the app's gradio-venv (tests/gradio/requirements-app.txt).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"
# shellcheck source=venvs.sh
source "$here/venvs.sh"
gradio_venvs
export HUBMCP_GRADIO_PY="$root/$GRADIO_PY"
[[ $GRADIO_PY == /* ]] && export HUBMCP_GRADIO_PY="$GRADIO_PY"

set +e
"$CLIENT_PY" -m pytest "$here" -q "$@"
code=$?
set -e
if [ "$code" -eq 5 ]; then
    echo "run.sh: pytest collected no tests; treating that as a failure" >&2
    exit 1
fi
exit "$code"
