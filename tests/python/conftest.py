"""Fixtures for the Python-SDK (mcp==2.3.0) end-to-end tests of hubmcp.

The tests start the server themselves:

* HTTP: ``hubmcp serve --toolset conformance --host 127.0.0.1 --port <free port>``,
  polled until the port accepts connections; the endpoint is ``http://127.0.0.1:PORT/mcp``.
* stdio: the SDK's own ``stdio_client`` spawns ``hubmcp stdio --toolset conformance``.

With ``HUBMCP_TEST_URL`` set (an ``http://…/mcp`` endpoint, e.g. a load balancer in front of
several instances: tests/cluster/run.sh), the HTTP tests use that server instead of starting one;
run them with ``-k http`` then, since stdio tests still spawn the binary.

The binary is ``$HUBMCP_BIN`` if set, else ``<repo>/target/debug/hubmcp``. A missing binary is a
test failure (not a skip), so a broken build can never look like a green run.

The server's stderr (tracing logs) goes to a file per server; when a test fails, the tail of
every log that test used is attached to its report.

``WireRecorder`` is an httpx2 transport that records every HTTP exchange the SDK makes (request
method, headers and body; response status, headers and body bytes, and when the body ended), for
tests that assert what went over the wire underneath the SDK: pass ``wire=WireRecorder()`` to
``make_client`` (HTTP only; it is ignored over stdio, where there is no HTTP).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2
import pytest
from mcp import Client, StdioServerParameters
from mcp import types
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client

REPO_ROOT = Path(__file__).resolve().parents[2]
MODERN = "2026-07-28"
"""The stateless protocol revision under test (``Client(mode=MODERN)`` adopts it with no probe)."""

REQUEST_TIMEOUT_S = 20.0
"""Per-request read timeout handed to the SDK, so a server that never answers fails the test."""

SERVER_START_TIMEOUT_S = 30.0

_LOGS_KEY = pytest.StashKey[list[Path]]()


def _server_env() -> dict[str, str]:
    # HUBMCP_LOG is the server's log filter (`--log`); override it from the environment, e.g.
    # HUBMCP_LOG=debug. NO_COLOR keeps ANSI escapes out of the logs attached to failures.
    return {"HUBMCP_LOG": os.environ.get("HUBMCP_LOG", "info"), "NO_COLOR": "1", "RUST_BACKTRACE": "1"}


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    # anyio's bundled pytest plugin runs the `@pytest.mark.anyio` tests; no pytest-asyncio needed.
    return "asyncio"


@pytest.fixture(scope="session")
def hubmcp_bin() -> str:
    raw = os.environ.get("HUBMCP_BIN")
    path = Path(raw) if raw else REPO_ROOT / "target" / "debug" / "hubmcp"
    if not path.is_file() or not os.access(path, os.X_OK):
        pytest.fail(
            f"hubmcp binary not found or not executable at {path} "
            "(build it with `cargo build -p hubmcp`, or point HUBMCP_BIN at it)",
            pytrace=False,
        )
    return str(path)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _tail(path: Path, limit: int = 8000) -> str:
    try:
        data = path.read_text(errors="replace")
    except OSError as exc:
        return f"<unreadable: {exc}>"
    return data if len(data) <= limit else "...\n" + data[-limit:]


@dataclass
class HttpServer:
    url: str
    port: int
    process: subprocess.Popen[bytes] | None
    """None for an external server (``HUBMCP_TEST_URL``)."""
    log_path: Path

    def assert_alive(self) -> None:
        if self.process is None:
            return
        code = self.process.poll()
        if code is not None:
            pytest.fail(
                f"hubmcp serve exited with code {code} before the test ran; its log:\n{_tail(self.log_path)}",
                pytrace=False,
            )


@pytest.fixture(scope="session")
def http_server(hubmcp_bin: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[HttpServer]:
    external = os.environ.get("HUBMCP_TEST_URL")
    if external:
        yield HttpServer(url=external, port=httpx2.URL(external).port or 80, process=None, log_path=Path())
        return
    port = _free_port()
    log_path = tmp_path_factory.mktemp("hubmcp-http") / "serve.log"
    cmd = [hubmcp_bin, "serve", "--toolset", "conformance", "--host", "127.0.0.1", "--port", str(port)]
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **_server_env()},
        )
    server = HttpServer(url=f"http://127.0.0.1:{port}/mcp", port=port, process=process, log_path=log_path)
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        while True:
            if process.poll() is not None:
                pytest.fail(
                    f"`{' '.join(cmd)}` exited with code {process.returncode} before listening; "
                    f"its output:\n{_tail(log_path)}",
                    pytrace=False,
                )
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(
                        f"`{' '.join(cmd)}` did not accept connections on port {port} within "
                        f"{SERVER_START_TIMEOUT_S}s; its output:\n{_tail(log_path)}",
                        pytrace=False,
                    )
                time.sleep(0.1)
        yield server
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)


@dataclass
class SseEvent:
    """One server-sent event as the SSE spec assembles it (``id`` is this event's own field, or None)."""

    id: str | None
    event: str | None
    data: str | None
    retry: int | None

    def message(self) -> dict[str, Any] | None:
        """The JSON-RPC message in ``data``, or None for an event without data (e.g. a priming event)."""
        return json.loads(self.data) if self.data else None


def parse_sse(body: bytes) -> list[SseEvent]:
    """Split a ``text/event-stream`` body into events (an unterminated trailing event is dropped)."""
    text = body.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")
    events: list[SseEvent] = []
    fields: dict[str, list[str]] = {}
    for line in text.split("\n")[:-1]:  # the part after the last newline is not a complete line
        if line == "":
            if fields:
                retry = fields.get("retry", [None])[-1]
                events.append(
                    SseEvent(
                        id=fields["id"][-1] if "id" in fields else None,
                        event=fields["event"][-1] if "event" in fields else None,
                        data="\n".join(fields["data"]) if "data" in fields else None,
                        retry=int(retry) if retry is not None and retry.isdigit() else None,
                    )
                )
            fields = {}
        elif not line.startswith(":"):
            name, _, value = line.partition(":")
            fields.setdefault(name, []).append(value[1:] if value.startswith(" ") else value)
    return events


@dataclass
class Exchange:
    """One HTTP request the SDK sent and what came back, as seen below the SDK."""

    method: str
    headers: httpx2.Headers
    body: bytes
    sent_at: float
    status: int | None = None
    response_headers: httpx2.Headers = field(default_factory=httpx2.Headers)
    response_body: bytearray = field(default_factory=bytearray)
    ended_at: float | None = None
    """When the response body ended: EOF from the server, or the client closing it."""
    eof: bool = False
    """True when the server ended the body (the SDK read it to its end), False if the client closed it first."""

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    @property
    def content_type(self) -> str:
        return self.response_headers.get("content-type", "").partition(";")[0].strip().lower()

    def sse_events(self) -> list[SseEvent]:
        assert self.content_type == "text/event-stream", f"not an SSE response: {self}"
        return parse_sse(bytes(self.response_body))


class _TeeStream(httpx2.AsyncByteStream):
    def __init__(self, inner: httpx2.AsyncByteStream, exchange: Exchange) -> None:
        self._inner = inner
        self._exchange = exchange

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._inner:
            self._exchange.response_body += chunk
            yield chunk
        self._exchange.eof = True
        self._exchange.ended_at = time.monotonic()

    async def aclose(self) -> None:
        if self._exchange.ended_at is None:
            self._exchange.ended_at = time.monotonic()
        await self._inner.aclose()


class WireRecorder(httpx2.AsyncBaseTransport):
    """An httpx2 transport that forwards to the real one and records every exchange, in send order."""

    def __init__(self) -> None:
        self._inner = httpx2.AsyncHTTPTransport()
        self.exchanges: list[Exchange] = []

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        exchange = Exchange(
            method=request.method, headers=request.headers, body=await request.aread(), sent_at=time.monotonic()
        )
        self.exchanges.append(exchange)
        response = await self._inner.handle_async_request(request)
        exchange.status = response.status_code
        exchange.response_headers = response.headers
        assert isinstance(response.stream, httpx2.AsyncByteStream)
        return httpx2.Response(
            status_code=response.status_code,
            headers=response.headers,
            stream=_TeeStream(response.stream, exchange),
            extensions=response.extensions,
            request=request,
        )

    async def aclose(self) -> None:
        await self._inner.aclose()

    def posts(self, method: str) -> list[Exchange]:
        """The POSTs whose body is a JSON-RPC message with this ``method``."""
        posts = [x for x in self.exchanges if x.method == "POST"]
        return [x for x in posts if isinstance(body := x.json(), dict) and body.get("method") == method]


@asynccontextmanager
async def recorded_streamable_http(url: str, wire: WireRecorder) -> AsyncIterator[Any]:
    """The SDK's ``streamable_http_client`` over an httpx2 client whose transport is ``wire``."""
    # The SDK's own default client (mcp/shared/_httpx_utils.py create_mcp_http_client) uses these
    # timeouts: 30 s, and 300 s to read, since a server may hold a response stream open.
    async with httpx2.AsyncClient(transport=wire, timeout=httpx2.Timeout(30.0, read=300.0)) as http_client:
        async with streamable_http_client(url, http_client=http_client) as streams:
            yield streams


@pytest.fixture(params=["http", "stdio"])
def transport(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def make_client(
    transport: str, hubmcp_bin: str, request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[Any]:
    """Factory for an un-entered SDK ``Client`` over the parametrized transport.

    ``make_client(mode=..., wire=None, **client_kwargs)``; the default mode is the 2026-07-28 pin.
    ``wire``, a ``WireRecorder``, records the HTTP exchanges underneath the SDK (ignored over stdio).
    """
    logs = request.node.stash.setdefault(_LOGS_KEY, [])
    with ExitStack() as stack:
        http: HttpServer | None = None
        if transport == "http":
            http = request.getfixturevalue("http_server")
            http.assert_alive()
            if http.process is not None:
                logs.append(http.log_path)

        def factory(mode: str = MODERN, *, wire: WireRecorder | None = None, **kwargs: Any) -> Client:
            kwargs.setdefault("read_timeout_seconds", REQUEST_TIMEOUT_S)
            kwargs.setdefault("client_info", types.Implementation(name="hubmcp-python-e2e", version="0.1.0"))
            if http is not None:
                if wire is not None:
                    return Client(recorded_streamable_http(http.url, wire), mode=mode, **kwargs)
                return Client(http.url, mode=mode, **kwargs)
            log_path = tmp_path / f"stdio-{len(logs)}.log"
            logs.append(log_path)
            errlog = stack.enter_context(open(log_path, "w"))
            params = StdioServerParameters(
                command=hubmcp_bin, args=["stdio", "--toolset", "conformance"], env=_server_env()
            )
            # `Client` accepts any transport context manager; building `stdio_client` here (instead of
            # passing the StdioServerParameters) lets the server's stderr go to a file we can report.
            return Client(stdio_client(params, errlog=errlog), mode=mode, **kwargs)

        yield factory


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" and report.failed:
        for path in item.stash.get(_LOGS_KEY, []):
            report.sections.append((f"hubmcp output ({path.name})", _tail(path)))
