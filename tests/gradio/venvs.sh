# shellcheck shell=bash
# Sourced by tests/gradio/run.sh and bench/spaces/run: the two Python environments of the
# gradio stage, each created on first use and reinstalled when its pins change.
#   ${HUBMCP_CACHE:-.cache}/venv         the tests' client side: tests/python/requirements.txt
#                                        (mcp 2.x, pytest; shared with tests/python/run.sh)
#   ${HUBMCP_CACHE:-.cache}/gradio-venv  the app: tests/gradio/requirements-app.txt (gradio[mcp],
#                                        which needs mcp 1.x, hence a venv of its own)
# Call from the repository root. Sets CLIENT_PY and GRADIO_PY.

gradio_ensure_venv() { # DIR REQUIREMENTS
    local venv=$1 req=$2 stamp="$1/.requirements.sha256" want
    if [ ! -x "$venv/bin/python" ]; then
        python3 -m venv "$venv" || return 1
    fi
    want="$(sha256sum "$req" | cut -d' ' -f1)"
    if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
        echo "installing $req into $venv" >&2
        "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req" || return 1
        echo "$want" > "$stamp"
    fi
}

gradio_venvs() {
    local cache="${HUBMCP_CACHE:-.cache}"
    gradio_ensure_venv "$cache/venv" tests/python/requirements.txt || return 1
    gradio_ensure_venv "$cache/gradio-venv" tests/gradio/requirements-app.txt || return 1
    CLIENT_PY="$cache/venv/bin/python"
    GRADIO_PY="$cache/gradio-venv/bin/python"
}
