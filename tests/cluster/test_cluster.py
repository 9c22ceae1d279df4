"""Cross-instance and fault tests against the running test cluster (tests/cluster/run.sh):
three hubmcp instances sharing Redis behind nginx round robin, so consecutive requests land
on different instances. Raw HTTP (httpx2 from the test venv), so every status and header is
visible. Processes are changed only through tests/cluster/ctl.sh, which records them for the
harness's exit trap.

Environment (set by run.sh): CLUSTER_DIR (ports, pid files, logs), CLUSTER_URL (nginx's /mcp),
CLUSTER_RATE_BURST (only for the `ratelimit` test, run against instances restarted with
`--rate-anonymous-per-minute 1 --rate-anonymous-burst N`). The `pinned` test runs against the
sessions-pinned topology (no Redis) instead.
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2
import pytest

HERE = Path(__file__).resolve().parent
SESSION_VERSION = "2025-11-25"
MODERN = "2026-07-28"
WAIT_S = 30.0
"""Upper bound of every wait in these tests (a bound, not an expectation)."""


def cluster_dir() -> Path:
    raw = os.environ.get("CLUSTER_DIR")
    if not raw:
        pytest.fail("CLUSTER_DIR is not set: run these tests through tests/cluster/run.sh", pytrace=False)
    return Path(raw)


def balancer() -> str:
    return (cluster_dir() / "url").read_text().strip()


def instances() -> list[int]:
    return list(range(1, int((cluster_dir() / "instances").read_text()) + 1))


def instance_base(i: int) -> str:
    return f"http://127.0.0.1:{(cluster_dir() / f'instance-{i}.port').read_text().strip()}"


def ctl(*args: str) -> None:
    done = subprocess.run(
        [str(HERE / "ctl.sh"), *args], capture_output=True, text=True, timeout=90, env={**os.environ}
    )
    assert done.returncode == 0, f"ctl.sh {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"


def wait_until(what: str, check: Any, timeout: float = WAIT_S) -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(0.2)
    pytest.fail(f"timed out after {timeout}s waiting for {what} (last: {last!r})", pytrace=False)


HEADERS = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}


@dataclass
class Sse:
    id: str | None
    data: str | None
    retry: int | None = None

    def message(self) -> dict[str, Any] | None:
        return json.loads(self.data) if self.data else None


def sse_events(lines: Iterator[str]) -> Iterator[Sse]:
    """Assemble SSE events from a line iterator (comments and keep-alives skipped)."""
    fields: dict[str, list[str]] = {}
    for line in lines:
        line = line.rstrip("\r\n")
        if line == "":
            if fields:
                retry = fields.get("retry", [None])[-1]
                yield Sse(
                    id=fields["id"][-1] if "id" in fields else None,
                    data="\n".join(fields["data"]) if "data" in fields else None,
                    retry=int(retry) if retry and retry.isdigit() else None,
                )
            fields = {}
        elif not line.startswith(":"):
            name, _, value = line.partition(":")
            fields.setdefault(name, []).append(value[1:] if value.startswith(" ") else value)


def messages_of(response: httpx2.Response) -> list[dict[str, Any]]:
    """The JSON-RPC messages of a (read) response, JSON or SSE."""
    if response.headers.get("content-type", "").startswith("text/event-stream"):
        return [m for e in sse_events(iter(response.text.splitlines())) if (m := e.message()) is not None]
    return [response.json()] if response.content else []


@dataclass
class Session:
    """A session-era client speaking raw Streamable HTTP through the balancer."""

    http: httpx2.Client
    url: str
    id: str = ""
    next_id: int = 1
    capabilities: dict[str, Any] = field(default_factory=dict)

    def headers(self, **extra: str) -> dict[str, str]:
        h = {**HEADERS, "MCP-Protocol-Version": SESSION_VERSION}
        if self.id:
            h["Mcp-Session-Id"] = self.id
        return {**h, **extra}

    def request_body(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        body = {"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params or {}}
        self.next_id += 1
        return body

    def initialize(self) -> httpx2.Response:
        body = self.request_body(
            "initialize",
            {
                "protocolVersion": SESSION_VERSION,
                "capabilities": self.capabilities,
                "clientInfo": {"name": "hubmcp-cluster-test", "version": "0.1.0"},
            },
        )
        r = self.http.post(self.url, json=body, headers=self.headers())
        if r.status_code == 200:
            self.id = r.headers["mcp-session-id"]
            n = self.http.post(
                self.url, json={"jsonrpc": "2.0", "method": "notifications/initialized"}, headers=self.headers()
            )
            assert n.status_code == 202, (n.status_code, n.text)
        return r

    def call(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        body = self.request_body(method, params)
        r = self.http.post(self.url, json=body, headers=self.headers())
        assert r.status_code == 200, (method, r.status_code, r.headers, r.text)
        answers = [m for m in messages_of(r) if m.get("id") == body["id"] and "method" not in m]
        assert len(answers) == 1, (method, messages_of(r))
        return answers[0]

    def notify(self, method: str, params: dict[str, Any]) -> httpx2.Response:
        return self.http.post(
            self.url, json={"jsonrpc": "2.0", "method": method, "params": params}, headers=self.headers()
        )

    def delete(self) -> httpx2.Response:
        return self.http.delete(self.url, headers=self.headers())


def stateless(http: httpx2.Client, method: str, params: dict[str, Any], name: str | None = None) -> httpx2.Response:
    headers = {**HEADERS, "MCP-Protocol-Version": MODERN, "Mcp-Method": method}
    if name:
        headers["Mcp-Name"] = name
    meta = {
        "io.modelcontextprotocol/protocolVersion": MODERN,
        "io.modelcontextprotocol/clientInfo": {"name": "hubmcp-cluster-test", "version": "0.1.0"},
        "io.modelcontextprotocol/clientCapabilities": {},
    }
    body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": {**params, "_meta": meta}}
    return http.post(balancer(), json=body, headers=headers)


@pytest.fixture
def http() -> Iterator[httpx2.Client]:
    # No connection reuse: every request is a new connection, and nginx's round robin spreads them.
    with httpx2.Client(timeout=httpx2.Timeout(WAIT_S), limits=httpx2.Limits(max_keepalive_connections=0)) as c:
        yield c


@pytest.fixture
def healthy_cluster() -> Iterator[None]:
    """Every instance and Redis up before the test; restores whatever a test took down."""
    ensure_all_up()
    yield
    ensure_all_up()


def ensure_all_up() -> None:
    d = cluster_dir()
    if (d / "redis.port").exists() and not (d / "redis.pid").exists():
        ctl("start-redis")
    for i in instances():
        if not (d / f"instance-{i}.pid").exists():
            ctl("start-instance", str(i))
    for i in instances():
        wait_until(f"/readyz of instance {i}", lambda i=i: readyz(i) == 200)


def readyz(i: int) -> int | None:
    try:
        return httpx2.get(f"{instance_base(i)}/readyz", timeout=2).status_code
    except httpx2.HTTPError:
        return None


def upstreams_used(since: int) -> list[str]:
    """Upstream addresses in nginx's access log after byte offset `since`."""
    log = (cluster_dir() / "nginx" / "logs" / "access.log").read_text()[since:]
    return [w.split("=", 1)[1] for line in log.splitlines() for w in line.split() if w.startswith("upstream=")]


def access_log_size() -> int:
    return (cluster_dir() / "nginx" / "logs" / "access.log").stat().st_size


def elicitation_round_trip(http: httpx2.Client, s: Session, timeout: float = WAIT_S) -> None:
    """The call's SSE stream (instance A) carries elicitation/create; the answer is a separate
    POST (instance B, round robin), which must reach the waiting call (over the bus)."""
    call = s.request_body("tools/call", {"name": "test_elicitation", "arguments": {"message": "who?"}})
    with http.stream("POST", s.url, json=call, headers=s.headers(), timeout=timeout) as stream:
        assert stream.status_code == 200, stream.status_code
        events = sse_events(stream.iter_lines())
        ask = next(m for e in events if (m := e.message()) and m.get("method") == "elicitation/create")
        answer = {
            "jsonrpc": "2.0",
            "id": ask["id"],
            "result": {"action": "accept", "content": {"username": "ada", "email": "ada@example.org"}},
        }
        posted = http.post(s.url, json=answer, headers=s.headers())
        assert posted.status_code == 202, (posted.status_code, posted.text)
        result = next(m for e in events if (m := e.message()) and m.get("id") == call["id"])
    assert "ada" in json.dumps(result["result"]), result


# ----------------------------------------------------------------------------------- tests


@pytest.mark.usefixtures("healthy_cluster")
def test_every_instance_sees_the_cluster() -> None:
    # Runs before the tests that kill instances (pytest keeps file order), so no stale entries.
    def live(i: int) -> int:
        view = httpx2.get(f"{instance_base(i)}/api/cluster", timeout=5).json()
        return sum(1 for x in view["instances"] if not x["stale"])

    for i in instances():
        wait_until(f"/api/cluster of instance {i} listing every instance", lambda i=i: live(i) == len(instances()))


@pytest.mark.usefixtures("healthy_cluster")
def test_session_lifecycle_across_instances(http: httpx2.Client) -> None:
    mark = access_log_size()
    s = Session(http, balancer(), capabilities={"elicitation": {}})
    r = s.initialize()
    assert r.status_code == 200, (r.status_code, r.text)

    tools = s.call("tools/list")
    names = {t["name"] for t in tools["result"]["tools"]}
    assert {"test_simple_text", "test_elicitation", "test_trigger_tool_change"} <= names, names

    text = s.call("tools/call", {"name": "test_simple_text", "arguments": {}})
    assert text["result"]["content"][0]["type"] == "text", text

    elicitation_round_trip(http, s)

    # Cancellation: cancel a call waiting for an elicitation answer, from another request.
    call = s.request_body("tools/call", {"name": "test_elicitation", "arguments": {"message": "cancel me"}})
    with http.stream("POST", s.url, json=call, headers=s.headers()) as stream:
        assert stream.status_code == 200, stream.status_code
        events = sse_events(stream.iter_lines())
        next(m for e in events if (m := e.message()) and m.get("method") == "elicitation/create")
        n = s.notify("notifications/cancelled", {"requestId": call["id"], "reason": "test"})
        assert n.status_code == 202, (n.status_code, n.text)
        rest = [m for e in events if (m := e.message()) is not None]  # ends when the server ends the stream
    assert not [m for m in rest if m.get("id") == call["id"]], f"a cancelled request was answered: {rest}"

    assert s.call("tools/list")["result"]["tools"], "the session stopped working after a cancellation"

    d = s.delete()
    assert d.status_code in (200, 202, 204), (d.status_code, d.text)
    gone = http.post(s.url, json=s.request_body("tools/list"), headers=s.headers())
    assert gone.status_code == 404, (gone.status_code, gone.text)

    used = set(upstreams_used(mark))
    assert len(used) >= 2, f"the balancer sent every request to one instance ({used}); round robin expected"


def push_holder() -> int | None:
    """The instance whose /metrics shows an open push stream."""
    holders = []
    for i in instances():
        try:
            text = httpx2.get(f"{instance_base(i)}/metrics", timeout=2).text
        except httpx2.HTTPError:
            continue
        for line in text.splitlines():
            if line.startswith("mcp_streams_open{") and 'kind="push"' in line and float(line.split()[-1]) > 0:
                holders.append(i)
    return holders[0] if len(holders) == 1 else None


class PushReader(threading.Thread):
    """Reads a push stream until it ends; collects (event id, message)."""

    def __init__(self, http: httpx2.Client, s: Session, last_event_id: str | None) -> None:
        super().__init__(daemon=True)
        self.http, self.s, self.last = http, s, last_event_id
        self.events: list[tuple[str, dict[str, Any]]] = []
        self.retry_after_last: int | None = None
        """A `retry:` hint received after the last event (what a draining server sends)."""
        self.status: int | None = None
        self.ended = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        headers = self.s.headers()
        if self.last:
            headers["Last-Event-ID"] = self.last
        try:
            with self.http.stream("GET", self.s.url, headers=headers) as r:
                self.status = r.status_code
                if r.status_code == 200:
                    for e in sse_events(r.iter_lines()):
                        if e.id and (m := e.message()) is not None:
                            self.events.append((e.id, m))
                            self.retry_after_last = None
                        elif e.retry is not None:
                            self.retry_after_last = e.retry
        except httpx2.HTTPError as exc:  # the connection dies with the instance
            self.error = exc
        finally:
            self.ended.set()


@pytest.mark.usefixtures("healthy_cluster")
@pytest.mark.parametrize("signal", ["KILL", "TERM"])
def test_push_stream_survives_the_end_of_its_instance(http: httpx2.Client, signal: str) -> None:
    s = Session(http, balancer())
    assert s.initialize().status_code == 200
    stop = threading.Event()

    def trigger() -> None:  # list changes keep flowing, from stateless calls on any instance
        with httpx2.Client(timeout=5, limits=httpx2.Limits(max_keepalive_connections=0)) as c:
            while not stop.is_set():
                try:
                    stateless(c, "tools/call", {"name": "test_trigger_tool_change", "arguments": {}},
                              name="test_trigger_tool_change")
                except httpx2.HTTPError:
                    pass
                time.sleep(0.1)

    triggers = threading.Thread(target=trigger, daemon=True)
    first = PushReader(http, s, None)
    first.start()
    triggers.start()
    try:
        wait_until("3 list-changed events on the push stream", lambda: len(first.events) >= 3 or first.ended.is_set())
        assert first.status == 200 and len(first.events) >= 3, (first.status, first.events, first.error)
        holder = wait_until("one instance holding the push stream", push_holder, timeout=10)
        ctl("kill-instance" if signal == "KILL" else "stop-instance", str(holder))
        assert first.ended.wait(WAIT_S), f"the push stream did not end when its instance got SIG{signal}"
        if signal == "TERM":  # a draining instance ends its streams with a reconnection hint
            assert first.retry_after_last is not None, (first.events, first.error)

        last = first.events[-1][0]
        second = PushReader(http, s, last)
        second.start()
        wait_until("3 more events after resuming", lambda: len(second.events) >= 3 or second.ended.is_set())
        assert second.status == 200 and len(second.events) >= 3, (second.status, second.events, second.error)
        assert push_holder() not in (None, holder)
    finally:
        stop.set()
        triggers.join(10)
        s.delete()  # ends the resumed stream too

    ids = [i for i, _ in first.events + second.events]
    print(f"SIG{signal} to instance {holder}; ids before: {[i for i, _ in first.events]}, after: {[i for i, _ in second.events]}")
    assert all(m.get("method") == "notifications/tools/list_changed" for _, m in first.events + second.events)
    parsed = [(i.rsplit("-", 1)[0], int(i.rsplit("-", 1)[1])) for i in ids]
    assert len({stream for stream, _ in parsed}) == 1, f"event ids from more than one stream: {ids}"
    seqs = [seq for _, seq in parsed]
    assert len(set(seqs)) == len(seqs), f"duplicate event ids: {ids}"
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), f"gap in event ids: {ids}"


@pytest.mark.usefixtures("healthy_cluster")
def test_resume_from_priming_event_on_another_instance(http: httpx2.Client) -> None:
    # Direct instance ports: the call on instance 1, the resumption at once on instance 2 (what a
    # client reconnecting without delay through a round-robin balancer does).
    one, two = (f"{instance_base(i)}/mcp" for i in instances()[:2])
    s = Session(http, one)
    assert s.initialize().status_code == 200
    call = s.request_body("tools/call", {"name": "test_reconnection", "arguments": {}})
    r = http.post(one, json=call, headers=s.headers())  # the server closes this stream after priming
    assert r.status_code == 200, (r.status_code, r.text)
    primed = [e for e in sse_events(iter(r.text.splitlines())) if e.id]
    assert len(primed) == 1 and primed[0].data in (None, ""), primed
    s.url = two
    with http.stream("GET", two, headers=s.headers(**{"Last-Event-ID": primed[0].id or ""})) as g:
        status = g.status_code
        got = [m for e in sse_events(g.iter_lines()) if (m := e.message()) and m.get("id") == call["id"]][:1] if status == 200 else []
        body = "" if status == 200 else g.read().decode()
    s.url = one
    s.delete()
    assert status == 200, (status, body)
    assert got and "result" in got[0], got


@pytest.mark.usefixtures("healthy_cluster")
def test_redis_outage_and_recovery(http: httpx2.Client) -> None:
    s = Session(http, balancer())
    assert s.initialize().status_code == 200

    pids = {i: (cluster_dir() / f"instance-{i}.pid").read_text() for i in instances()}
    ctl("stop-redis")
    for i in instances():
        wait_until(f"/readyz 503 on instance {i}", lambda i=i: readyz(i) == 503)

    for _ in range(2 * len(instances())):  # stateless: served everywhere
        r = stateless(http, "tools/call", {"name": "test_simple_text", "arguments": {}}, name="test_simple_text")
        assert r.status_code == 200, (r.status_code, r.text)
        assert r.json()["result"]["content"][0]["type"] == "text", r.text

    fresh = Session(http, balancer())
    for attempt in (lambda: fresh.initialize(), lambda: http.post(s.url, json=s.request_body("tools/list"), headers=s.headers())):
        r = attempt()
        assert r.status_code == 503, (r.status_code, r.text)
        assert r.headers.get("retry-after", "").isdigit(), r.headers
        body = r.json()
        assert body.get("jsonrpc") == "2.0" and isinstance(body.get("error", {}).get("code"), int), body

    ctl("start-redis")
    for i in instances():
        wait_until(f"/readyz 200 on instance {i} after Redis is back", lambda i=i: readyz(i) == 200)
    after = Session(http, balancer(), capabilities={"elicitation": {}})
    r = after.initialize()
    assert r.status_code == 200, (r.status_code, r.text)
    for _ in range(len(instances())):
        assert after.call("tools/list")["result"]["tools"]
    # The instances hear each other again: /readyz is 200 only once the store answers AND the bus
    # is subscribed again, so the first client answer after it reaches the call on another
    # instance.
    elicitation_round_trip(http, after, timeout=10)
    after.delete()
    assert pids == {i: (cluster_dir() / f"instance-{i}.pid").read_text() for i in instances()}, "an instance restarted"


@pytest.mark.ratelimit
def test_rate_limit_is_shared_by_all_instances() -> None:
    burst = int(os.environ.get("CLUSTER_RATE_BURST", "0"))
    if burst <= 0:
        pytest.fail("CLUSTER_RATE_BURST is not set: run through tests/cluster/run.sh", pytrace=False)
    n = burst * len(instances()) + 3  # more than every instance's own bucket together
    mark = access_log_size()
    statuses = []
    # From a loopback address of its own, so nothing else (readiness probes, other tests) spends
    # from this client's bucket: nginx sets X-Forwarded-For to it, hubmcp keys the limit on it.
    transport = httpx2.HTTPTransport(local_address="127.0.0.2", limits=httpx2.Limits(max_keepalive_connections=0))
    with httpx2.Client(transport=transport, timeout=WAIT_S) as own:
        for _ in range(n):
            r = stateless(own, "tools/list", {})
            statuses.append(r.status_code)
            if r.status_code == 429:
                assert r.headers.get("retry-after", "").isdigit(), r.headers
    assert set(statuses) <= {200, 429}, statuses
    assert len(set(upstreams_used(mark))) == len(instances()), "the requests did not reach every instance"
    assert statuses.count(200) == burst, f"{statuses.count(200)} served of {n}, limit {burst}: {statuses}"


@pytest.mark.pinned
@pytest.mark.usefixtures("healthy_cluster")
def test_pinned_instance_death_loses_its_sessions(http: httpx2.Client) -> None:
    """Sessions-pinned topology (no Redis): what deploy/nginx-sessions-pinned.conf says is lost."""
    mark = access_log_size()
    s = Session(http, balancer())
    assert s.initialize().status_code == 200
    assert s.call("tools/list")["result"]["tools"]
    used = set(upstreams_used(mark))
    assert len(used) == 1, f"a pinned client's requests went to several instances: {used}"
    (holder,) = [i for i in instances() if instance_base(i).removeprefix("http://") in used]

    ctl("kill-instance", str(holder))
    mark = access_log_size()
    gone = http.post(s.url, json=s.request_body("tools/list"), headers=s.headers())
    assert gone.status_code == 404, (gone.status_code, gone.text)  # another instance: no such session
    again = Session(http, balancer())
    assert again.initialize().status_code == 200, "a new session after the instance died"
    assert again.call("tools/list")["result"]["tools"]
    assert instance_base(holder).removeprefix("http://") not in set(upstreams_used(mark))
    again.delete()
