"""Fixtures for the tests of hubmcp against a real Gradio app served as Spaces.

One stack per run (``stack`` fixture), started from scratch:

* ``tests/gradio/app.py`` (a real Gradio app with ``mcp_server``) under ``$HUBMCP_GRADIO_PY``
  (the pinned gradio venv run.sh prepares) on a free port; it plays every Space below, since
  hubmcp resolves every ``*.hf.space`` name to 127.0.0.1 and the port is the app's. The Space
  ``hubmcp-test-legacy-app`` gets its schema in the object form of older Gradio releases.
* the Hub stand-in (``<target>/debug/hub-standin``) describing three Spaces: the public
  ``hubmcp-test/app`` and ``hubmcp-test/legacy-app`` and the private ``standin-org/private-app``
  (visible to members of standin-org, e.g. alice);
* ``hubmcp serve`` (``$HUBMCP_BIN`` or ``<target>/debug/hubmcp``) pointed at both with
  ``--space-scheme http --space-port <app> --space-resolve 127.0.0.1 --space-allow-addresses
  loopback``, logging at debug level into a file the tests read for token leaks.

Clients are the Python ``mcp`` SDK (2.x) over Streamable HTTP with a bearer token
(``client(...)``), in either era. The app's recorder (``stack.gradio_log()``) shows what
reached Gradio: JSON-RPC method, whether a progress token was sent, a hash of
``X-HF-Authorization``, the client's TCP port, whether the exchange completed.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2
import pytest
from mcp import Client, types
from mcp.client.streamable_http import streamable_http_client

REPO_ROOT = Path(__file__).resolve().parents[2]
MODERN = "2026-07-28"
ALICE = "hf_standin_alice_write"  # member of standin-org
BOB = "hf_standin_bob_read"  # not a member
PUBLIC_SPACE = "hubmcp-test/app"
PUBLIC_SUB = "hubmcp-test-app"
LEGACY_SPACE = "hubmcp-test/legacy-app"
LEGACY_SUB = "hubmcp-test-legacy-app"
PRIVATE_SPACE = "standin-org/private-app"
PRIVATE_SUB = "standin-org-private-app"
START_TIMEOUT_S = 90.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _target_bin(name: str, env_var: str) -> str:
    raw = os.environ.get(env_var)
    if raw:
        return raw
    target = Path(os.environ.get("CARGO_TARGET_DIR", REPO_ROOT / "target"))
    if not target.is_absolute():
        target = REPO_ROOT / target
    path = target / "debug" / name
    if not path.is_file():
        pytest.fail(f"{path} not found (cargo build -p hubmcp -p hub-standin)", pytrace=False)
    return str(path)


def _tail(path: Path, limit: int = 6000) -> str:
    try:
        data = path.read_text(errors="replace")
    except OSError as exc:
        return f"<unreadable: {exc}>"
    return data if len(data) <= limit else "...\n" + data[-limit:]


@dataclass
class Stack:
    app_port: int
    hub_port: int
    mcp_port: int
    logs: dict[str, Path]
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def url(self, *spaces: str, query: str = "") -> str:
        q = f"gradio={','.join(spaces)}" if spaces else ""
        if query:
            q = f"{q}&{query}" if q else query
        return f"http://127.0.0.1:{self.mcp_port}/mcp" + (f"?{q}" if q else "")

    def app(self, path: str, method: str = "GET") -> Any:
        resp = httpx2.request(method, f"http://127.0.0.1:{self.app_port}{path}", timeout=10)
        resp.raise_for_status()
        return resp.json()

    def gradio_log(self) -> list[dict[str, Any]]:
        return self.app("/_test/log")

    def clear_gradio_log(self) -> None:
        self.app("/_test/clear", "POST")

    def hubmcp_connections_to_app(self) -> int:
        """ESTABLISHED TCP connections hubmcp holds to the app (from /proc; Linux only)."""
        pid = self.processes[2].pid
        inodes = set()
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
        count = 0
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            try:
                lines = Path(table).read_text().splitlines()[1:]
            except OSError:
                continue
            for line in lines:
                cols = line.split()
                remote_port = int(cols[2].rsplit(":", 1)[1], 16)
                if cols[3] == "01" and remote_port == self.app_port and cols[9] in inodes:
                    count += 1
        return count

    def space_file(self, url: str) -> bytes:
        """Fetch a file URL the app handed out (`http://<sub>.hf.space:<port>/gradio_api/file=…`)."""
        rest = url.split("://", 1)[1]
        host, _, path = rest.partition("/")
        resp = httpx2.get(f"http://127.0.0.1:{self.app_port}/{path}", headers={"host": host}, timeout=10)
        resp.raise_for_status()
        return resp.content

    def hubmcp_log(self) -> str:
        return self.logs["hubmcp"].read_text(errors="replace")


def _wait_port(port: int, process: subprocess.Popen[bytes], log: Path, what: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        if process.poll() is not None:
            pytest.fail(f"{what} exited with {process.returncode}:\n{_tail(log)}", pytrace=False)
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            if time.monotonic() > deadline:
                pytest.fail(f"{what} did not listen on {port} in {START_TIMEOUT_S}s:\n{_tail(log)}", pytrace=False)
            time.sleep(0.2)


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    gradio_py = os.environ.get("HUBMCP_GRADIO_PY")
    if not gradio_py:
        pytest.fail("HUBMCP_GRADIO_PY is not set (run tests/gradio/run.sh)", pytrace=False)
    hubmcp = _target_bin("hubmcp", "HUBMCP_BIN")
    standin = _target_bin("hub-standin", "HUBMCP_STANDIN_BIN")
    d = tmp_path_factory.mktemp("gradio-stack")
    logs = {name: d / f"{name}.log" for name in ("gradio", "standin", "hubmcp")}
    s = Stack(app_port=_free_port(), hub_port=_free_port(), mcp_port=_free_port(), logs=logs)
    base_env = {**os.environ, "NO_COLOR": "1", "GRADIO_ANALYTICS_ENABLED": "False"}

    def start(name: str, cmd: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        with open(logs[name], "wb") as log:
            p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env)
        s.processes.append(p)
        return p

    try:
        app = start(
            "gradio",
            [gradio_py, str(REPO_ROOT / "tests/gradio/app.py"), "--port", str(s.app_port),
             "--object-schema", LEGACY_SUB],
            base_env,
        )
        hub = start(
            "standin",
            [standin, "--port", str(s.hub_port),
             "--space", f"{PUBLIC_SPACE}={PUBLIC_SUB}",
             "--space", f"{LEGACY_SPACE}={LEGACY_SUB}",
             "--space", f"{PRIVATE_SPACE}={PRIVATE_SUB},private"],
            base_env,
        )
        mcp = start(
            "hubmcp",
            [hubmcp, "serve", "--host", "127.0.0.1", "--port", str(s.mcp_port),
             "--space-scheme", "http", "--space-port", str(s.app_port), "--space-resolve", "127.0.0.1",
             "--space-allow-addresses", "loopback", "--space-calls-anonymous", "0",
             "--space-calls-authenticated", "0"],
            {**base_env, "HF_ENDPOINT": f"http://127.0.0.1:{s.hub_port}", "HUBMCP_LOG": "debug"},
        )
        _wait_port(s.hub_port, hub, logs["standin"], "hub-standin")
        _wait_port(s.mcp_port, mcp, logs["hubmcp"], "hubmcp")
        _wait_port(s.app_port, app, logs["gradio"], "the Gradio app")
        yield s
    finally:
        for p in s.processes:
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait(timeout=5)


def client(url: str, token: str | None = ALICE, mode: str = MODERN, **kwargs: Any) -> Client:
    """An SDK client of hubmcp at ``url`` sending ``Authorization: Bearer <token>``."""
    headers = {"authorization": f"Bearer {token}"} if token else {}
    kwargs.setdefault("read_timeout_seconds", 60.0)
    kwargs.setdefault("client_info", types.Implementation(name="hubmcp-gradio-e2e", version="0.1.0"))
    return Client(_transport(url, headers), mode=mode, **kwargs)


@asynccontextmanager
async def _transport(url: str, headers: dict[str, str]) -> AsyncIterator[Any]:
    async with httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(30.0, read=300.0)) as http:
        async with streamable_http_client(url, http_client=http) as streams:
            yield streams


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" and report.failed and "stack" in getattr(item, "funcargs", {}):
        for name, path in item.funcargs["stack"].logs.items():
            report.sections.append((f"{name} log", _tail(path)))
