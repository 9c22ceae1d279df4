"""hubmcp proxying a real Gradio app (gradio with its MCP server) served as Spaces.

What each test checks on the Gradio side comes from the app's recorder (tests/gradio/app.py):
what reached ``/gradio_api/mcp`` (method, progress token sent or not, hash of
``X-HF-Authorization``, TCP port, completed or abandoned) and the ``slow`` runs.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from typing import Any

import anyio
import pytest
from mcp import types

from conftest import ALICE, BOB, LEGACY_SPACE, MODERN, PRIVATE_SPACE, PUBLIC_SPACE, PUBLIC_SUB, Stack, client

pytestmark = pytest.mark.anyio

ERAS = [MODERN, "legacy"]
APP_TOOLS = {"echo", "auth_probe", "fail", "slow", "swatch", "report"}


def texts(result: types.CallToolResult) -> list[str]:
    return [b.text for b in result.content if isinstance(b, types.TextContent)]


def calls(log: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for e in log if e["method"] == "tools/call"]


async def test_discovery_array_schema(stack: Stack) -> None:
    async with client(stack.url(PUBLIC_SPACE)) as c:
        tools = {t.name: t for t in (await c.list_tools()).tools}
    mine = {n for n in tools if n.startswith("gr1_")}
    assert mine == {f"gr1_{t}" for t in APP_TOOLS}, sorted(tools)
    echo = tools["gr1_echo"]
    assert echo.input_schema["properties"]["text"]["type"] == "string"
    assert echo.input_schema["required"] == ["text"]
    assert "Return the text unchanged." in (echo.description or "")
    assert PUBLIC_SPACE in (echo.title or "")


async def test_discovery_object_schema(stack: Stack) -> None:
    # The app serves this Space's schema in the object form of older Gradio releases.
    async with client(stack.url(LEGACY_SPACE)) as c:
        tools = {t.name: t for t in (await c.list_tools()).tools}
        assert {n for n in tools if n.startswith("gr1_")} == {f"gr1_{t}" for t in APP_TOOLS}
        assert tools["gr1_echo"].input_schema["properties"]["text"]["type"] == "string"
        assert "Return the text unchanged." in (tools["gr1_echo"].description or "")
        result = await c.call_tool("gr1_echo", {"text": "object form"})
    assert texts(result) == ["object form"]


@pytest.mark.parametrize("mode", ERAS)
async def test_call_in_both_eras_without_progress_upstream(stack: Stack, mode: str) -> None:
    stack.clear_gradio_log()
    async with client(stack.url(PUBLIC_SPACE), mode=mode) as c:
        for i in range(3):
            result = await c.call_tool("gr1_echo", {"text": f"hello {mode} {i}"})
            assert not result.is_error
            assert texts(result) == [f"hello {mode} {i}"]
    log = stack.gradio_log()
    tool_calls = calls(log)
    assert len(tool_calls) == 3, log
    assert not any(e["progress_token"] for e in tool_calls), "no progress asked, none requested upstream"
    assert all(e["completed"] for e in tool_calls), log


async def test_repeat_calls_reuse_the_handshake_and_the_connection(stack: Stack) -> None:
    async with client(stack.url(PUBLIC_SPACE)) as c:
        await c.call_tool("gr1_echo", {"text": "warm"})
        stack.clear_gradio_log()
        for i in range(4):
            assert texts(await c.call_tool("gr1_echo", {"text": f"again {i}"})) == [f"again {i}"]
    log = stack.gradio_log()
    assert [e["method"] for e in log] == ["tools/call"] * 4, "one request per call once the Space is known"
    # Kept-alive connections serve the calls: the pool may hold two idle ones from earlier
    # requests (discovery, the warm-up) and alternate, but no call opens a fresh one each time.
    ports = [e["client_port"] for e in log]
    assert len(set(ports)) <= 2 and len(set(ports)) < len(ports), f"kept-alive connections reused: {log}"


@pytest.mark.parametrize("mode", ERAS)
async def test_progress_relayed_when_asked(stack: Stack, mode: str) -> None:
    updates: list[tuple[float, float | None, str | None]] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        updates.append((progress, total, message))

    stack.clear_gradio_log()
    async with client(stack.url(PUBLIC_SPACE), mode=mode) as c:
        result = await c.call_tool("gr1_slow", {"seconds": 0.6}, progress_callback=on_progress)
        await anyio.sleep(0.2)  # the SDK runs progress callbacks as tasks
    assert texts(result) == ["worked 0.6 s"]
    assert len(updates) >= 2, updates
    values = [u[0] for u in updates]
    assert values == sorted(values) and len(set(values)) == len(values), f"increasing: {updates}"
    assert any(u[2] and "working" in u[2] for u in updates), f"Gradio's progress description relayed: {updates}"
    tool_calls = calls(stack.gradio_log())
    assert [e["progress_token"] for e in tool_calls] == [True]


async def test_image_output(stack: Stack) -> None:
    async with client(stack.url(PUBLIC_SPACE)) as c:
        result = await c.call_tool("gr1_swatch", {"color": "red"})
    assert not result.is_error
    images = [b for b in result.content if isinstance(b, types.ImageContent)]
    assert len(images) == 1 and images[0].mime_type == "image/png", result.content
    png = base64.b64decode(images[0].data)
    assert png.startswith(b"\x89PNG"), png[:8]
    urls = [t for t in texts(result) if "Image URL:" in t]
    assert urls and f"{PUBLIC_SUB}.hf.space" in urls[0], texts(result)
    assert stack.space_file(urls[0].split("Image URL:", 1)[1].strip()).startswith(b"\x89PNG")


async def test_image_output_dropped_on_request(stack: Stack) -> None:
    async with client(stack.url(PUBLIC_SPACE, query="no_image_content=true")) as c:
        result = await c.call_tool("gr1_swatch", {"color": "blue"})
    assert not any(isinstance(b, types.ImageContent) for b in result.content), result.content
    assert any("Image URL:" in t for t in texts(result)), texts(result)


async def test_file_output(stack: Stack) -> None:
    async with client(stack.url(PUBLIC_SPACE)) as c:
        result = await c.call_tool("gr1_report", {"text": "file body 42"})
    assert not result.is_error
    [url] = [t for t in texts(result) if "/gradio_api/file=" in t]
    assert url.startswith(f"http://{PUBLIC_SUB}.hf.space:{stack.app_port}/gradio_api/file="), url
    assert stack.space_file(url) == b"file body 42"


@pytest.mark.parametrize("progress", [False, True])
async def test_exception_in_the_function_is_an_error_result(stack: Stack, progress: bool) -> None:
    async def on_progress(*_: Any) -> None:
        pass

    async with client(stack.url(PUBLIC_SPACE)) as c:
        result = await c.call_tool(
            "gr1_fail", {"text": "kaboom"}, progress_callback=on_progress if progress else None
        )
    assert result.is_error, result
    assert any("deliberate failure: kaboom" in t for t in texts(result)), texts(result)


@pytest.mark.parametrize("mode", ERAS)
async def test_cancelled_slow_call_is_abandoned_upstream(stack: Stack, mode: str) -> None:
    async with client(stack.url(PUBLIC_SPACE), mode=mode) as c:
        await c.call_tool("gr1_echo", {"text": "warm"})
    connections_before = stack.hubmcp_connections_to_app()
    stack.clear_gradio_log()
    started = anyio.Event()

    async def on_progress(*_: Any) -> None:
        started.set()

    async with client(stack.url(PUBLIC_SPACE), mode=mode) as c:
        with anyio.move_on_after(30):
            async with anyio.create_task_group() as tg:

                async def call() -> None:
                    await c.call_tool("gr1_slow", {"seconds": 20}, progress_callback=on_progress)

                tg.start_soon(call)
                await started.wait()
                tg.cancel_scope.cancel()
        # The client is still usable, and so is the Space.
        assert texts(await c.call_tool("gr1_echo", {"text": "after cancel"})) == ["after cancel"]

    deadline = time.monotonic() + 10
    while True:
        slow = [e for e in calls(stack.gradio_log()) if e["progress_token"]]
        if slow and slow[0]["disconnected"]:
            break
        assert time.monotonic() < deadline, f"the upstream call was not abandoned: {stack.gradio_log()}"
        await anyio.sleep(0.2)
    assert len(slow) == 1 and not slow[0]["completed"], slow
    # Nothing left behind: no more connections to the Space than before the call.
    assert stack.hubmcp_connections_to_app() <= connections_before


async def test_private_space_receives_the_callers_token(stack: Stack) -> None:
    stack.clear_gradio_log()
    async with client(stack.url(PRIVATE_SPACE), token=ALICE) as c:
        names = {t.name for t in (await c.list_tools()).tools}
        assert "grp1_auth_probe" in names, sorted(names)
        result = await c.call_tool("grp1_auth_probe", {"note": "who"})
    seen = json.loads(texts(result)[0])
    expected = hashlib.sha256(f"Bearer {ALICE}".encode()).hexdigest()
    assert seen == {"note": "who", "present": True, "sha256": expected}, "gr.Request saw the caller's token"
    assert {e["auth_sha256"] for e in stack.gradio_log() if e["subdomain"] == "standin-org-private-app"} == {expected}
    assert ALICE not in stack.hubmcp_log(), "the token never reaches the log"


async def test_private_space_is_hidden_from_others(stack: Stack) -> None:
    async with client(stack.url(PRIVATE_SPACE), token=BOB) as c:
        names = {t.name for t in (await c.list_tools()).tools}
    assert not any(n.startswith(("gr1_", "grp1_")) for n in names), sorted(names)


async def test_public_space_gets_each_callers_own_token(stack: Stack) -> None:
    stack.clear_gradio_log()
    async with client(stack.url(PUBLIC_SPACE), token=ALICE) as a, client(stack.url(PUBLIC_SPACE), token=None) as anon:
        alice = json.loads(texts(await a.call_tool("gr1_auth_probe", {"note": "a"}))[0])
        nobody = json.loads(texts(await anon.call_tool("gr1_auth_probe", {"note": "n"}))[0])
        again = json.loads(texts(await a.call_tool("gr1_auth_probe", {"note": "a2"}))[0])
    assert alice["sha256"] == again["sha256"] == hashlib.sha256(f"Bearer {ALICE}".encode()).hexdigest()
    assert nobody == {"note": "n", "present": False, "sha256": None}
