#!/usr/bin/env bash
# The Hub stand-in's shapes, proved with the official Python client huggingface_hub (pinned
# in requirements.txt, installed into ${HUBMCP_CACHE:-.cache}/hub-shapes-venv).
#   tests/hub-shapes/run.sh [pytest args...]
# Starts <target>/debug/hub-standin (HUBMCP_STANDIN_BIN honoured; build it first) on a free
# port, points HF_ENDPOINT at it and runs every test_*.py here.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"

target="${CARGO_TARGET_DIR:-target}"
[[ $target == /* ]] || target="$root/$target"
standin="${HUBMCP_STANDIN_BIN:-$target/debug/hub-standin}"
[ -x "$standin" ] || { echo "run.sh: $standin not found; cargo build -p hub-standin first" >&2; exit 2; }

cache="${HUBMCP_CACHE:-.cache}"
venv="$cache/hub-shapes-venv"
req="$here/requirements.txt"
stamp="$venv/.requirements.sha256"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
want="$(sha256sum "$req" | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req"
    echo "$want" > "$stamp"
fi

out="$(mktemp)"
"$standin" --port 0 > "$out" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -f "$out"' EXIT
for _ in $(seq 1 100); do
    grep -q '^listening on ' "$out" && break
    sleep 0.1
done
endpoint="$(sed -n 's/^listening on //p' "$out" | head -1)"
[ -n "$endpoint" ] || { echo "run.sh: the stand-in did not start:" >&2; cat "$out" >&2; exit 2; }

hf_home="$(mktemp -d)"
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -rf "$out" "$hf_home"' EXIT
export HF_ENDPOINT="$endpoint" HF_HOME="$hf_home" HF_HUB_DISABLE_TELEMETRY=1 HF_HUB_DISABLE_EXPERIMENTAL_WARNING=1
set +e
"$venv/bin/python" -m pytest "$here" -q -p no:cacheprovider "$@"
code=$?
set -e
if [ "$code" -eq 5 ]; then
    echo "run.sh: pytest collected no tests; treating that as a failure" >&2
    exit 1
fi
exit "$code"
