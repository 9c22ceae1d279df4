"""hubmcp through the Python SDK (mcp==2.3.0) in its 2026-07-28 ("modern", stateless) mode.

Every test runs twice: over Streamable HTTP and over stdio (see the `transport` fixture).

How the SDK is driven (verified in mcp 2.3.0's installed source, see tests/python/README.md):

* ``Client(target, mode="2026-07-28")`` adopts that revision with no initialize and no probe
  (mcp/client/client.py ``Client.__aenter__`` -> ``session.adopt(_synthesize_discover(mode))``);
  from then on every request carries ``params._meta`` with
  ``io.modelcontextprotocol/protocolVersion``, ``.../clientInfo`` and ``.../clientCapabilities``
  (mcp/client/session.py ``_make_modern_stamp``) and, over HTTP, the ``MCP-Protocol-Version``,
  ``Mcp-Method`` and ``Mcp-Name`` headers.
* ``mode="auto"`` sends ``server/discover`` first and silently falls back to ``initialize`` when
  that fails (mcp/client/_probe.py), so the auto test asserts the negotiated version.
* Results are validated against the 2026-07-28 wire schema, in which ``resultType`` is required
  (mcp/client/session.py ``send_request`` -> ``mcp_types.methods.validate_server_result``), so a
  result without ``resultType`` fails here as a pydantic ``ValidationError``.
* ``Client.call_tool`` resolves ``input_required`` results itself: it runs each entry of
  ``inputRequests`` through the elicitation / sampling / roots callback given to ``Client`` and
  retries with ``inputResponses`` plus the echoed ``requestState``
  (mcp/client/_input_required.py ``run_input_required_driver``). The manual test drives the same
  loop by hand through ``client.session.call_tool(..., allow_input_required=True)``.
* The progress callback gets ``(progress, total, message)``; the SDK uses the JSON-RPC request id
  as ``_meta.progressToken`` (mcp/shared/jsonrpc_dispatcher.py ``send_raw_request``).

Nothing here needed plain HTTP: the SDK covers every step natively.
"""

from __future__ import annotations

import re
from typing import Any

import anyio
import pytest
from mcp import types
from mcp_types.methods import validate_server_result

from conftest import MODERN

pytestmark = pytest.mark.anyio

TEST_DEADLINE_S = 60.0

EXPECTED_TOOLS = {
    "test_simple_text",
    "test_tool_with_progress",
    "test_input_required_result_elicitation",
    "test_input_required_result_multi_round",
    "test_input_required_result_sampling",
    "test_input_required_result_list_roots",
}


def only_text(result: types.CallToolResult) -> str:
    assert not result.is_error, f"tool returned isError: {result}"
    texts = [block.text for block in result.content if isinstance(block, types.TextContent)]
    assert len(texts) == 1, f"expected exactly one text block, got {result.content!r}"
    return texts[0]


class Recorder:
    """Callbacks for `Client` that record what the server asked for and answer like a user would."""

    def __init__(self, answers: dict[str, Any] | None = None) -> None:
        self.answers = answers or {}
        self.elicitations: list[types.ElicitRequestParams] = []
        self.samplings: list[types.CreateMessageRequestParams] = []
        self.roots_calls = 0

    async def elicit(self, context: Any, params: types.ElicitRequestParams) -> types.ElicitResult:
        self.elicitations.append(params)
        assert isinstance(params, types.ElicitRequestFormParams), f"expected a form elicitation, got {params!r}"
        properties = params.requested_schema.get("properties") or {}
        missing = [key for key in properties if key not in self.answers]
        assert not missing, f"elicitation asks for {missing}, which this test has no answer for: {params!r}"
        return types.ElicitResult(action="accept", content={key: self.answers[key] for key in properties})

    async def sample(self, context: Any, params: types.CreateMessageRequestParams) -> types.CreateMessageResult:
        self.samplings.append(params)
        return types.CreateMessageResult(
            role="assistant",
            content=types.TextContent(type="text", text="The capital of France is Paris."),
            model="hubmcp-e2e-fake-model",
            stop_reason="endTurn",
        )

    async def list_roots(self, context: Any) -> types.ListRootsResult:
        self.roots_calls += 1
        return types.ListRootsResult(roots=[types.Root(uri="file:///tmp/hubmcp-e2e-root", name="e2e root")])


async def test_list_tools(make_client: Any) -> None:
    with anyio.fail_after(TEST_DEADLINE_S):
        async with make_client() as client:
            assert client.protocol_version == MODERN
            listed = await client.list_tools()
    names = {tool.name for tool in listed.tools}
    assert EXPECTED_TOOLS <= names, f"missing tools: {sorted(EXPECTED_TOOLS - names)}; listed: {sorted(names)}"


async def test_server_discover_result_is_valid(make_client: Any) -> None:
    # mode="auto" hides *why* discover was rejected (it just falls back), so check the raw result
    # against the SDK's 2026-07-28 wire schema here, where a failure names the offending field.
    with anyio.fail_after(TEST_DEADLINE_S):
        async with make_client() as client:
            raw = await client.session.send_discover(MODERN)
    validate_server_result("server/discover", MODERN, raw)
    result = types.DiscoverResult.model_validate(raw)
    assert MODERN in result.supported_versions, raw
    assert result.result_type == "complete", raw


async def test_auto_mode_negotiates_2026_via_discover(make_client: Any) -> None:
    # mode="auto" probes server/discover and falls back to initialize on any error, so the only
    # proof that discover worked is the version the client ended up on.
    with anyio.fail_after(TEST_DEADLINE_S):
        async with make_client(mode="auto") as client:
            assert client.protocol_version == MODERN, (
                f"server/discover did not yield {MODERN}; the SDK fell back to {client.protocol_version}"
            )
            assert client.session.discover_result is not None
            assert MODERN in client.session.discover_result.supported_versions
            text = only_text(await client.call_tool("test_simple_text", {}))
    assert text == "This is a simple text response for testing."


async def test_call_simple_text(make_client: Any) -> None:
    with anyio.fail_after(TEST_DEADLINE_S):
        async with make_client() as client:
            result = await client.call_tool("test_simple_text", {})
    assert only_text(result) == "This is a simple text response for testing."


async def test_progress_notifications(make_client: Any) -> None:
    updates: list[tuple[float, float | None, str | None]] = []
    tokens: list[Any] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        updates.append((progress, total, message))

    async def on_message(message: Any) -> None:
        # Progress notifications are also teed to the message handler; that is where the token is visible.
        if isinstance(message, types.ProgressNotification):
            tokens.append(message.params.progress_token)

    with anyio.fail_after(TEST_DEADLINE_S):
        async with make_client(message_handler=on_message) as client:
            result = await client.call_tool("test_tool_with_progress", {}, progress_callback=on_progress)
            # The SDK runs progress callbacks as spawned tasks; give any still queued a moment to run.
            # Notifications that arrive after the response are dropped by the SDK, so this cannot mask
            # a server that sends them too late.
            with anyio.move_on_after(2):
                while len(updates) < 3:
                    await anyio.sleep(0.01)

    assert [p for p, _, _ in updates] == [0, 50, 100], f"progress updates: {updates}"
    assert all(total == 100 for _, total, _ in updates), f"progress updates: {updates}"
    assert all(a < b for (a, _, _), (b, _, _) in zip(updates, updates[1:])), f"not monotone: {updates}"
    assert len(set(map(str, tokens))) == 1, f"progress tokens seen: {tokens}"
    text = only_text(result)
    assert re.search(rf"(?<![\w-]){re.escape(str(tokens[0]))}(?![\w-])", text), (
        f"tool text {text!r} does not carry the progress token {tokens[0]!r}"
    )


async def test_input_required_elicitation_via_callback(make_client: Any) -> None:
    recorder = Recorder(answers={"name": "Alice"})
    with anyio.fail_after(TEST_DEADLINE_S):
        async with make_client(elicitation_callback=recorder.elicit) as client:
            result = await client.call_tool("test_input_required_result_elicitation", {})
    assert len(recorder.elicitations) == 1, recorder.elicitations
    assert "name" in (recorder.elicitations[0].requested_schema.get("properties") or {})
    assert only_text(result) == "Hello, Alice!"


async def test_input_required_elicitation_by_hand(make_client: Any) -> None:
    # The same round driven explicitly, to pin the wire shape the SDK's driver hides:
    # the inputRequests key, the embedded request's method and schema, and the requestState echo.
    tool = "test_input_required_result_elicitation"
    recorder = Recorder()  # only to advertise the elicitation capability; it must not be called
    with anyio.fail_after(TEST_DEADLINE_S):
        async with make_client(elicitation_callback=recorder.elicit) as client:
            first = await client.session.call_tool(tool, {}, allow_input_required=True)
            assert isinstance(first, types.InputRequiredResult), f"expected input_required, got {first!r}"
            assert first.input_requests is not None and set(first.input_requests) == {"user_name"}, first
            request = first.input_requests["user_name"]
            assert isinstance(request, types.ElicitRequest), request
            assert isinstance(request.params, types.ElicitRequestFormParams), request
            assert "name" in (request.params.requested_schema.get("properties") or {}), request

            second = await client.session.call_tool(
                tool,
                {},
                input_responses={"user_name": types.ElicitResult(action="accept", content={"name": "Alice"})},
                request_state=first.request_state,
                allow_input_required=True,
            )
    assert recorder.elicitations == []
    assert isinstance(second, types.CallToolResult), f"expected the final result, got {second!r}"
    assert only_text(second) == "Hello, Alice!"


async def test_input_required_multi_round(make_client: Any) -> None:
    recorder = Recorder(answers={"name": "Alice", "color": "blue"})
    with anyio.fail_after(TEST_DEADLINE_S):
        async with make_client(elicitation_callback=recorder.elicit) as client:
            result = await client.call_tool("test_input_required_result_multi_round", {})
    asked = [sorted((p.requested_schema.get("properties") or {}).keys()) for p in recorder.elicitations]
    assert asked == [["name"], ["color"]], f"elicitation rounds asked for {asked}"
    assert only_text(result) == "Multi-round complete for Alice who likes blue"


async def test_input_required_sampling(make_client: Any) -> None:
    recorder = Recorder()
    with anyio.fail_after(TEST_DEADLINE_S):
        async with make_client(sampling_callback=recorder.sample) as client:
            result = await client.call_tool("test_input_required_result_sampling", {})
    assert len(recorder.samplings) == 1, recorder.samplings
    assert recorder.samplings[0].messages, recorder.samplings[0]
    assert only_text(result)  # the exact wording is the server's; it must be a successful text result


async def test_input_required_list_roots(make_client: Any) -> None:
    recorder = Recorder()
    with anyio.fail_after(TEST_DEADLINE_S):
        async with make_client(list_roots_callback=recorder.list_roots) as client:
            result = await client.call_tool("test_input_required_result_list_roots", {})
    assert recorder.roots_calls == 1
    assert only_text(result)


async def test_read_static_text_resource(make_client: Any) -> None:
    with anyio.fail_after(TEST_DEADLINE_S):
        async with make_client() as client:
            listed = await client.list_resources()
            assert "test://static-text" in {str(r.uri) for r in listed.resources}, listed
            read = await client.read_resource("test://static-text")
    assert len(read.contents) == 1, read
    content = read.contents[0]
    assert isinstance(content, types.TextResourceContents), content
    assert str(content.uri) == "test://static-text"
    assert content.text


async def test_get_simple_prompt(make_client: Any) -> None:
    with anyio.fail_after(TEST_DEADLINE_S):
        async with make_client() as client:
            listed = await client.list_prompts()
            assert "test_simple_prompt" in {p.name for p in listed.prompts}, listed
            prompt = await client.get_prompt("test_simple_prompt")
    assert prompt.messages, prompt
    first = prompt.messages[0]
    assert isinstance(first.content, types.TextContent) and first.content.text, first
