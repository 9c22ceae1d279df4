"""hubmcp through the Python SDK (mcp==2.3.0) in its legacy, session-based mode.

``Client(..., mode="legacy")`` runs the initialize handshake (``initialize`` offering
``2025-11-25``, the SDK's ``LATEST_HANDSHAKE_VERSION``, then ``notifications/initialized``) and
sends no per-request ``_meta`` envelope (mcp/client/client.py ``__aenter__`` ->
``ClientSession.initialize``). Over HTTP the session id comes from the ``initialize`` response and
is sent on every later request (mcp/client/streamable_http.py ``_prepare_headers``).

How the SDK handles what these tests exercise (verified in mcp 2.3.0's installed source):

* Server-initiated requests (``elicitation/create``, ``sampling/createMessage``) go to
  ``ClientSession._on_request`` -> ``dispatch_input_request``, i.e. the ``elicitation_callback`` /
  ``sampling_callback`` given to ``Client`` (mcp/client/session.py); the answer is written back as
  a JSON-RPC response, over HTTP as its own POST (mcp/shared/jsonrpc_dispatcher.py
  ``_handle_request`` -> ``_write_result``; streamable_http.py ``post_writer``). ``initialize``
  advertises elicitation / sampling only when the callback is set (``_build_capabilities``).
* Progress: ``call_tool(..., progress_callback=cb)`` puts the JSON-RPC request id in
  ``_meta.progressToken`` and routes matching ``notifications/progress`` to ``cb(progress, total,
  message)`` (jsonrpc_dispatcher.py ``send_raw_request``, ``_dispatch_notification``).
* Resumption: the SDK does resume. When a POST's SSE stream ends without the response but after an
  event with an ``id``, it waits the stream's ``retry`` (default 1000 ms), then GETs the endpoint
  with ``Last-Event-ID`` and reads the response from there (streamable_http.py
  ``_handle_sse_response`` -> ``_handle_reconnection``, up to ``MAX_RECONNECTION_ATTEMPTS``). So no
  part of these tests needed plain HTTP; the HTTP tests record the wire under the SDK
  (``conftest.WireRecorder``) to prove *how* each outcome arrived, not only that it did.

Marked ``legacy``; deselect with ``tests/python/run.sh -m "not legacy"``.
"""

from __future__ import annotations

import json
from typing import Any

import anyio
import pytest
from mcp import types
from mcp.client.session import ClientRequestContext
from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS

from conftest import Exchange, WireRecorder

pytestmark = [pytest.mark.anyio, pytest.mark.legacy]

TEST_DEADLINE_S = 60.0

HANDSHAKE_VERSION = "2025-11-25"
"""What ``mode="legacy"`` offers (mcp_types ``LATEST_HANDSHAKE_VERSION``); the reconnection
behaviour under test is the server's for sessions at this version."""

RECONNECTION_TEXT_PREFIX = "Reconnection test completed successfully"


def only_text(result: types.CallToolResult) -> str:
    assert not result.is_error, f"tool returned isError: {result}"
    texts = [block.text for block in result.content if isinstance(block, types.TextContent)]
    assert len(texts) == 1, f"expected exactly one text block, got {result.content!r}"
    return texts[0]


def session_id_of(wire: WireRecorder) -> str:
    (init,) = wire.posts("initialize")
    session_id = init.response_headers.get("mcp-session-id")
    assert session_id, f"initialize response carried no Mcp-Session-Id: {init.response_headers}"
    return session_id


def sse_messages(exchange: Exchange) -> list[dict[str, Any]]:
    """The JSON-RPC messages on an SSE response, in order (events without data skipped)."""
    return [m for m in (event.message() for event in exchange.sse_events()) if m is not None]


def the_call(wire: WireRecorder, tool: str) -> Exchange:
    calls = [x for x in wire.posts("tools/call") if x.json()["params"]["name"] == tool]
    assert len(calls) == 1, f"expected one tools/call POST for {tool}, got {calls}"
    return calls[0]


def assert_answered_on_call_stream(
    wire: WireRecorder, tool: str, server_method: str, answer: dict[str, Any]
) -> dict[str, Any]:
    """The server's ``server_method`` request came on the tools/call POST's SSE stream, ahead of that
    call's response, and the client POSTed ``answer`` back for it within the session (202).

    Returns the server's request as sent on the wire.
    """
    call = the_call(wire, tool)
    assert call.status == 200 and call.content_type == "text/event-stream", call
    messages = sse_messages(call)
    asks = [m for m in messages if m.get("method") == server_method]
    assert len(asks) == 1, f"expected one {server_method} on the tools/call stream, got {messages}"
    ask = asks[0]
    assert "id" in ask, f"{server_method} is not a request: {ask}"
    responses = [m for m in messages if "method" not in m]
    assert [r["id"] for r in responses] == [call.json()["id"]], f"tools/call stream: {messages}"
    assert messages.index(ask) < messages.index(responses[0]), f"tools/call stream: {messages}"

    # Only the tools/call stream carried it (not the session's standalone GET stream, say).
    elsewhere = [
        x
        for x in wire.exchanges
        if x is not call
        and x.content_type == "text/event-stream"
        and any(m.get("method") == server_method for m in sse_messages(x))
    ]
    assert not elsewhere, f"{server_method} also sent on {elsewhere}"

    replies = [
        x for x in wire.exchanges if x.method == "POST" and isinstance(x.json(), dict) and "method" not in x.json()
    ]
    assert len(replies) == 1, f"expected one POSTed JSON-RPC response, got {replies}"
    (reply,) = replies
    assert reply.json() == {"jsonrpc": "2.0", "id": ask["id"], "result": answer}, reply.json()
    assert reply.headers.get("mcp-session-id") == session_id_of(wire), reply.headers
    assert reply.status == 202, f"the answer POST got {reply.status}: {bytes(reply.response_body)!r}"
    return ask


@pytest.mark.parametrize("transport", ["stdio", "http"], indirect=True)
async def test_legacy_handshake_list_tools_and_call(make_client: Any) -> None:
    with anyio.fail_after(TEST_DEADLINE_S):
        async with make_client(mode="legacy") as client:
            assert client.protocol_version in HANDSHAKE_PROTOCOL_VERSIONS, client.protocol_version
            assert client.session.initialize_result is not None
            listed = await client.list_tools()
            result = await client.call_tool("test_simple_text", {})
    tools = {tool.name: tool for tool in listed.tools}
    expected = {"test_simple_text", "test_tool_with_progress", "test_elicitation", "test_sampling", "test_reconnection"}
    assert expected <= set(tools), f"missing: {sorted(expected - set(tools))}; listed: {sorted(tools)}"
    assert tools["test_elicitation"].input_schema.get("required") == ["message"], tools["test_elicitation"]
    assert tools["test_sampling"].input_schema.get("required") == ["prompt"], tools["test_sampling"]
    assert only_text(result) == "This is a simple text response for testing."


async def test_legacy_progress(make_client: Any, transport: str) -> None:
    updates: list[tuple[float, float | None, str | None]] = []
    tokens: list[Any] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        updates.append((progress, total, message))

    async def on_message(message: Any) -> None:
        # Progress notifications are teed to the message handler too; that is where the token shows.
        if isinstance(message, types.ProgressNotification):
            tokens.append(message.params.progress_token)

    wire = WireRecorder()
    with anyio.fail_after(TEST_DEADLINE_S):
        async with make_client(mode="legacy", wire=wire, message_handler=on_message) as client:
            assert client.protocol_version == HANDSHAKE_VERSION
            result = await client.call_tool("test_tool_with_progress", {}, progress_callback=on_progress)
            # The SDK runs progress callbacks as spawned tasks; give any still queued a moment. It drops
            # notifications that arrive after the response, so this cannot mask late ones.
            with anyio.move_on_after(2):
                while len(updates) < 3:
                    await anyio.sleep(0.01)

    assert [(p, total) for p, total, _ in updates] == [(0, 100), (50, 100), (100, 100)], f"progress: {updates}"
    assert len(tokens) == 3 and len(set(map(str, tokens))) == 1, f"progress tokens seen: {tokens}"
    # The tool answers with the progress token it was given.
    assert only_text(result) == str(tokens[0]), (result, tokens)

    if transport == "http":
        call = the_call(wire, "test_tool_with_progress")
        assert call.json()["params"]["_meta"]["progressToken"] == tokens[0], call.json()
        messages = sse_messages(call)
        assert [m.get("method") for m in messages] == [
            "notifications/progress",
            "notifications/progress",
            "notifications/progress",
            None,
        ], f"tools/call stream: {messages}"
        assert [m["params"]["progress"] for m in messages[:3]] == [0, 50, 100], messages
        assert all(m["params"]["progressToken"] == tokens[0] for m in messages[:3]), messages
        assert messages[3]["id"] == call.json()["id"], messages


async def test_legacy_elicitation(make_client: Any, transport: str) -> None:
    answers = {"username": "alice", "email": "alice@example.com"}
    asked: list[tuple[ClientRequestContext, types.ElicitRequestParams]] = []

    async def elicit(context: ClientRequestContext, params: types.ElicitRequestParams) -> types.ElicitResult:
        asked.append((context, params))
        return types.ElicitResult(action="accept", content=answers)

    wire = WireRecorder()
    message = "Please provide your username and email"
    with anyio.fail_after(TEST_DEADLINE_S):
        async with make_client(mode="legacy", wire=wire, elicitation_callback=elicit) as client:
            assert client.protocol_version == HANDSHAKE_VERSION
            result = await client.call_tool("test_elicitation", {"message": message})

    assert len(asked) == 1, f"elicitation callback calls: {asked}"
    context, params = asked[0]
    assert isinstance(params, types.ElicitRequestFormParams), f"expected a form elicitation, got {params!r}"
    assert params.message == message, params
    schema = params.requested_schema
    assert schema.get("type") == "object", schema
    properties = schema.get("properties") or {}
    assert set(properties) == {"username", "email"}, schema
    assert all(properties[key].get("type") == "string" for key in properties), schema
    assert sorted(schema.get("required") or []) == ["email", "username"], schema

    text = only_text(result)
    prefix = "User response: action=accept, content="
    assert text.startswith(prefix), text
    assert json.loads(text[len(prefix) :]) == answers, text

    if transport == "http":
        ask = assert_answered_on_call_stream(
            wire, "test_elicitation", "elicitation/create", {"action": "accept", "content": answers}
        )
        assert ask["params"]["message"] == message, ask
        assert ask["params"]["requestedSchema"] == schema, ask
        assert context.request_id == ask["id"], (context, ask)


async def test_legacy_sampling(make_client: Any, transport: str) -> None:
    asked: list[tuple[ClientRequestContext, types.CreateMessageRequestParams]] = []
    reply = "The capital of France is Paris."

    async def sample(
        context: ClientRequestContext, params: types.CreateMessageRequestParams
    ) -> types.CreateMessageResult:
        asked.append((context, params))
        return types.CreateMessageResult(
            role="assistant",
            content=types.TextContent(type="text", text=reply),
            model="hubmcp-e2e-fake-model",
            stop_reason="endTurn",
        )

    wire = WireRecorder()
    prompt = "What is the capital of France?"
    with anyio.fail_after(TEST_DEADLINE_S):
        async with make_client(mode="legacy", wire=wire, sampling_callback=sample) as client:
            assert client.protocol_version == HANDSHAKE_VERSION
            result = await client.call_tool("test_sampling", {"prompt": prompt})

    assert len(asked) == 1, f"sampling callback calls: {asked}"
    context, params = asked[0]
    assert len(params.messages) == 1, params
    (sent,) = params.messages
    assert sent.role == "user", params
    assert isinstance(sent.content, types.TextContent) and sent.content.text == prompt, params
    assert params.max_tokens > 0, params
    assert only_text(result) == f"LLM response: {reply}"

    if transport == "http":
        ask = assert_answered_on_call_stream(
            wire,
            "test_sampling",
            "sampling/createMessage",
            {
                "role": "assistant",
                "content": {"type": "text", "text": reply},
                "model": "hubmcp-e2e-fake-model",
                "stopReason": "endTurn",
            },
        )
        assert ask["params"]["messages"] == [{"role": "user", "content": {"type": "text", "text": prompt}}], ask
        assert context.request_id == ask["id"], (context, ask)


@pytest.mark.parametrize("transport", ["http"], indirect=True)  # stream resumption exists only over HTTP
async def test_legacy_reconnection_resumes_with_last_event_id(make_client: Any) -> None:
    # The server closes the tools/call POST's SSE stream right after a priming event (an id, an
    # empty data field, `retry: 1000`); the SDK must come back with GET + Last-Event-ID and find the
    # result there. The SDK does this by itself (streamable_http.py `_handle_reconnection`), so the
    # test drives it through `call_tool` and checks each step on the recorded wire.
    wire = WireRecorder()
    with anyio.fail_after(TEST_DEADLINE_S):
        async with make_client(mode="legacy", wire=wire) as client:
            assert client.protocol_version == HANDSHAKE_VERSION
            result = await client.call_tool("test_reconnection", {})
    text = only_text(result)
    assert text.startswith(RECONNECTION_TEXT_PREFIX), text

    session_id = session_id_of(wire)
    call = the_call(wire, "test_reconnection")
    call_id = call.json()["id"]

    # 1. The POST's stream: one priming event, then the server ends it (EOF, not the client closing).
    assert call.status == 200 and call.content_type == "text/event-stream", call
    assert call.eof, "the client closed the tools/call stream; the server was expected to end it"
    events = call.sse_events()
    assert len(events) == 1, f"expected only a priming event on the tools/call stream, got {events}"
    (priming,) = events
    assert priming.id, f"priming event without an id: {priming}"
    assert priming.retry == 1000, f"priming event retry: {priming}"
    assert priming.message() is None, f"priming event carries data: {priming}"

    # 2. The SDK resumed: one GET with Last-Event-ID = the priming id, in the same session.
    resumes = [x for x in wire.exchanges if x.method == "GET" and "last-event-id" in x.headers]
    assert len(resumes) == 1, f"expected one resumption GET, got {resumes}"
    (resume,) = resumes
    assert resume.headers["last-event-id"] == priming.id, resume.headers
    assert resume.headers.get("mcp-session-id") == session_id, resume.headers
    assert resume.headers.get("mcp-protocol-version") == HANDSHAKE_VERSION, resume.headers
    assert call.ended_at is not None and resume.sent_at - call.ended_at >= 0.9, (
        f"resumed {resume.sent_at - (call.ended_at or 0):.3f}s after the stream ended; retry was 1000 ms"
    )

    # 3. The replayed stream carried the call's response, with the original request id.
    assert resume.status == 200 and resume.content_type == "text/event-stream", resume
    responses = [m for m in sse_messages(resume) if "method" not in m]
    assert len(responses) == 1, f"resumed stream: {sse_messages(resume)}"
    (response,) = responses
    assert response["id"] == call_id, response
    assert response["result"]["content"] == [{"type": "text", "text": text}], response
