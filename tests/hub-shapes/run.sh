#!/usr/bin/env bash
# Hub API shapes: the official Python client huggingface_hub (pinned in requirements.txt)
# drives the Hub stand-in (HF_ENDPOINT pointed at it) through every endpoint the tools use.
#   tests/hub-shapes/run.sh [pytest args...]
# Runs every test_*.py of this directory. Uses the stand-in binary at $HUBMCP_STANDIN_BIN,
# else <target>/debug/hub-standin (built by `cargo build --workspace`; built here if missing).
# The venv lives at ${HUBMCP_CACHE:-.cache}/hub-shapes-venv.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"

target="${CARGO_TARGET_DIR:-target}"
case $target in /*) ;; *) target="$root/$target" ;; esac
bin="${HUBMCP_STANDIN_BIN:-$target/debug/hub-standin}"
if [ ! -x "$bin" ]; then
    cargo build -p hub-standin --bin hub-standin
fi

cache="${HUBMCP_CACHE:-.cache}"
case $cache in /*) ;; *) cache="$root/$cache" ;; esac
venv="$cache/hub-shapes-venv"
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

work="$(mktemp -d)"
out="$work/standin.out"
"$bin" --port 0 > "$out" 2> "$work/standin.err" &
pid=$!
# The stand-in ends by SIGTERM: its status must not become this script's.
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 100); do
    grep -q '^listening on ' "$out" 2>/dev/null && break
    sleep 0.1
done
endpoint="$(sed -n 's/^listening on //p' "$out" | head -1)"
if [ -z "$endpoint" ]; then
    echo "run.sh: the stand-in did not start" >&2
    cat "$work/standin.err" >&2
    exit 1
fi

# No user configuration, token file or cache from the machine: only what the tests pass.
export HF_ENDPOINT="$endpoint" HF_HOME="$work/hf-home" HF_HUB_DISABLE_TELEMETRY=1 \
    HF_HUB_DISABLE_IMPLICIT_TOKEN=1 HF_HUB_DISABLE_PROGRESS_BARS=1
unset HF_TOKEN HUGGING_FACE_HUB_TOKEN

set +e
"$venv/bin/python" -m pytest "$here" -q -p no:cacheprovider "$@"
code=$?
set -e
if [ "$code" -eq 5 ]; then
    echo "run.sh: pytest collected no tests; treating that as a failure" >&2
    exit 1
fi
exit "$code"
