"""A small real Gradio app with its MCP server, served as Spaces for the gradio tests and bench.

    python app.py --port N [--object-schema SUBDOMAIN]...

Any ``{subdomain}.hf.space:N`` Host reaches the same app (hubmcp resolves every Space name to
127.0.0.1 in the tests), so one process plays every Space of the stand-in catalogue. Prints
``listening on http://127.0.0.1:N`` once it accepts connections.

Tools (plain Gradio functions; Gradio makes them MCP tools):

* ``echo(text)``: answers at once (the benchmark's call).
* ``auth_probe(note, request)``: what arrived in ``X-HF-Authorization`` — whether it was there and a
  SHA-256 of its value — read from ``gr.Request`` on the Gradio side (never the token itself).
* ``fail(text)``: raises ``gr.Error`` (an exception inside the function).
* ``slow(seconds, progress)``: reports progress every 0.1 s for ``seconds``.
* ``swatch(color)``: an image output; ``report(text)``: a file output.

Test hooks beside the app (not part of Gradio):

* a recorder in front of the app logs every ``/gradio_api/mcp`` request: Host subdomain, JSON-RPC
  method, whether ``params._meta.progressToken`` was sent, the SHA-256 of ``X-HF-Authorization``,
  ``Mcp-Session-Id``, the client's TCP port (a new port = a new connection), and whether the
  exchange completed or the client disconnected first. ``GET /_test/log`` returns it,
  ``POST /_test/clear`` empties it.
* ``--object-schema SUBDOMAIN`` serves that Space's ``/gradio_api/mcp/schema`` in the object form of
  older Gradio 5.x releases (``{tool: inputSchema + description}``), converted from this Gradio's
  array form, so both forms the Hub's Spaces serve are exercised against one real app.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import threading
import time

import gradio as gr
import uvicorn
from fastapi import FastAPI
from PIL import Image

LOG: list[dict] = []
LOCK = threading.Lock()


def echo(text: str) -> str:
    """Return the text unchanged.

    Args:
        text: any text
    """
    return text


def auth_probe(note: str, request: gr.Request) -> str:
    """Report whether the call carried X-HF-Authorization (as a hash, never the value).

    Args:
        note: any text, echoed back
    """
    value = request.headers.get("x-hf-authorization")
    digest = hashlib.sha256(value.encode()).hexdigest() if value else None
    return json.dumps({"note": note, "present": value is not None, "sha256": digest})


def fail(text: str) -> str:
    """Always fails with a Gradio error.

    Args:
        text: included in the error message
    """
    raise gr.Error(f"deliberate failure: {text}")


def slow(seconds: float, progress=gr.Progress()) -> str:
    """Work for a while, reporting progress every 0.1 s.

    Args:
        seconds: how long to work
    """
    steps = max(1, int(float(seconds) * 10))
    for i in range(steps):
        progress((i + 1, steps), desc="working")
        time.sleep(0.1)
    return f"worked {seconds} s"


def swatch(color: str) -> Image.Image:
    """An 8x8 image of one colour.

    Args:
        color: a colour name such as red
    """
    return Image.new("RGB", (8, 8), color)


def report(text: str) -> str:
    """Write the text into a file and return it.

    Args:
        text: the file's content
    """
    import tempfile

    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
        f.write(text)
        return f.name


def build() -> gr.Blocks:
    with gr.Blocks(title="hubmcp test app") as demo:
        t = gr.Textbox()
        out = gr.Textbox()
        # No queue limit on echo: the benchmark sends it 16 calls at once.
        gr.Button("echo").click(echo, t, out, api_name="echo", concurrency_limit=None)
        gr.Button("auth").click(auth_probe, t, out, api_name="auth_probe")
        gr.Button("fail").click(fail, t, out, api_name="fail")
        n = gr.Number()
        # Unlimited too: an abandoned slow call keeps running inside Gradio (its queue does not
        # stop a job whose MCP client went away) and must not hold up the next test's.
        gr.Button("slow").click(slow, n, out, api_name="slow", concurrency_limit=None)
        gr.Button("swatch").click(swatch, t, gr.Image(type="pil", format="png"), api_name="swatch")
        gr.Button("report").click(report, t, gr.File(), api_name="report")
    return demo


def subdomain_of(scope) -> str:
    for key, value in scope.get("headers", []):
        if key == b"host":
            host = value.decode("latin-1").rsplit(":", 1)[0]
            return host.split(".", 1)[0]
    return ""


class Recorder:
    """ASGI middleware: the test hooks described in the module doc."""

    def __init__(self, app, object_schema: set[str]):
        self.app = app
        self.object_schema = object_schema

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path = scope.get("path", "")
        if path == "/_test/log":
            with LOCK:
                return await _json(send, list(LOG))
        if path == "/_test/clear":
            with LOCK:
                LOG.clear()
            return await _json(send, {"ok": True})
        if path.startswith("/gradio_api/mcp/schema") and subdomain_of(scope) in self.object_schema:
            return await self.object_form(scope, receive, send)
        if not path.startswith("/gradio_api/mcp") or path.startswith("/gradio_api/mcp/schema"):
            return await self.app(scope, receive, send)
        return await self.recorded(scope, receive, send)

    async def recorded(self, scope, receive, send):
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        body = b""
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            body += message.get("body", b"")
            more = message.get("more_body", False)
        try:
            rpc = json.loads(body) if body else None
        except ValueError:
            rpc = None
        rpc = rpc if isinstance(rpc, dict) else {}
        meta = (rpc.get("params") or {}).get("_meta") or {}
        auth = headers.get("x-hf-authorization")
        entry = {
            "http_method": scope["method"],
            "subdomain": subdomain_of(scope),
            "method": rpc.get("method"),
            "progress_token": "progressToken" in meta,
            "auth_sha256": hashlib.sha256(auth.encode()).hexdigest() if auth else None,
            "session_id": headers.get("mcp-session-id"),
            "client_port": (scope.get("client") or [None, None])[1],
            "status": None,
            "completed": False,
            "disconnected": False,
            "at": time.time(),
        }
        with LOCK:
            LOG.append(entry)
        replayed = False

        async def replay():
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            message = await receive()
            if message["type"] == "http.disconnect":
                entry["disconnected"] = not entry["completed"]
            return message

        async def watch(message):
            if message["type"] == "http.response.start":
                entry["status"] = message["status"]
            elif message["type"] == "http.response.body" and not message.get("more_body", False):
                entry["completed"] = True
            await send(message)

        await self.app(scope, replay, watch)

    async def object_form(self, scope, receive, send):
        chunks: list[bytes] = []
        start: dict = {}

        async def capture(message):
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, capture)
        tools = json.loads(b"".join(chunks))
        doc = {t["name"]: {**t["inputSchema"], "description": t.get("description", "")} for t in tools}
        await _json(send, doc, status=start.get("status", 200))


async def _json(send, value, status: int = 200):
    body = json.dumps(value).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--object-schema", action="append", default=[])
    args = parser.parse_args()
    demo = build()
    app = gr.mount_gradio_app(FastAPI(), demo, path="/", mcp_server=True)
    # Gradio's MCP server reaches queued events through a loopback client; the Host the Spaces
    # are called by (`*.hf.space`) does not resolve here, so give it the real address.
    demo.mcp_server_obj._local_url = f"http://127.0.0.1:{args.port}/"
    config = uvicorn.Config(
        Recorder(app, set(args.object_schema)), host="127.0.0.1", port=args.port, log_level="warning"
    )
    server = uvicorn.Server(config)

    def announce():
        while not server.started:
            time.sleep(0.05)
        print(f"listening on http://127.0.0.1:{args.port}", flush=True)

    threading.Thread(target=announce, daemon=True).start()
    server.run()


if __name__ == "__main__":
    main()
