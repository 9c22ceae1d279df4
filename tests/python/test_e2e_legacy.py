"""hubmcp through the Python SDK (mcp==2.3.0) in its legacy, session-based mode.

``Client(..., mode="legacy")`` runs the initialize handshake (``initialize`` offering
``2025-11-25``, the SDK's ``LATEST_HANDSHAKE_VERSION``, then ``notifications/initialized``) and
sends no per-request ``_meta`` envelope (mcp/client/client.py ``__aenter__`` ->
``ClientSession.initialize``).

Marked ``legacy``: expected to fail until the server's legacy (initialize-handshake) path lands.
Deselect with ``tests/python/run.sh -m "not legacy"``.
"""

from __future__ import annotations

from typing import Any

import anyio
import pytest
from mcp import types
from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS

pytestmark = [pytest.mark.anyio, pytest.mark.legacy]


@pytest.mark.parametrize("transport", ["stdio", "http"], indirect=True)
async def test_legacy_handshake_list_tools_and_call(make_client: Any) -> None:
    with anyio.fail_after(60):
        async with make_client(mode="legacy") as client:
            assert client.protocol_version in HANDSHAKE_PROTOCOL_VERSIONS, client.protocol_version
            assert client.session.initialize_result is not None
            listed = await client.list_tools()
            names = {tool.name for tool in listed.tools}
            assert {"test_simple_text", "test_tool_with_progress"} <= names, sorted(names)
            result = await client.call_tool("test_simple_text", {})
    assert not result.is_error, result
    assert [b.text for b in result.content if isinstance(b, types.TextContent)] == [
        "This is a simple text response for testing."
    ], result.content
