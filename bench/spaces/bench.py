"""Latency of a Space call made directly to a real Gradio app and through hubmcp, in one run.

Driven by bench/spaces/run (which starts the Gradio app, the Hub stand-in and hubmcp); see
bench/README.md. Both sides are called with the same raw HTTP client (httpx2, keep-alive), so
the client's own cost is the same on both:

* direct: an MCP client of the app's ``/gradio_api/mcp/`` that ran ``initialize`` once and then
  sends one ``tools/call`` per call (the session reused, as the Python ``mcp`` client does);
* proxied: a stateless 2026-07-28 ``tools/call`` of the same tool through hubmcp
  (``gr1_echo`` with ``?gradio=<space>`` and a stand-in token).

For each case (progress asked or not, 1 or 16 concurrent callers) the two sides alternate in
rounds; per side the p50 and p99 over all rounds are printed, then proxied - direct and
proxied / direct. Every answer is checked (the echoed text, no ``isError``); a wrong answer
aborts the run. Numbers are printed, never asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time

import httpx2

MODERN = "2026-07-28"


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def final_message(resp: httpx2.Response, request_id: int) -> dict:
    """The JSON-RPC response in a JSON or SSE body."""
    if resp.headers.get("content-type", "").startswith("text/event-stream"):
        for block in resp.text.replace("\r\n", "\n").split("\n\n"):
            data = "\n".join(line[5:].lstrip() for line in block.split("\n") if line.startswith("data:"))
            if data:
                msg = json.loads(data)
                if msg.get("id") == request_id:
                    return msg
        raise RuntimeError(f"no response in the SSE body: {resp.text[:300]}")
    return resp.json()


class Direct:
    def __init__(self, client: httpx2.AsyncClient, url: str, host: str, tool: str):
        self.client, self.url, self.tool = client, url, tool
        self.headers = {
            "host": host,
            "content-type": "application/json",
            "accept": "application/json, text/event-stream",
        }

    async def setup(self) -> None:
        init = {"jsonrpc": "2.0", "id": 0, "method": "initialize",
                "params": {"protocolVersion": "2025-06-18", "capabilities": {},
                           "clientInfo": {"name": "bench-direct", "version": "1"}}}
        resp = await self.client.post(self.url, headers=self.headers, json=init)
        resp.raise_for_status()
        version = final_message(resp, 0)["result"]["protocolVersion"]
        if sid := resp.headers.get("mcp-session-id"):
            self.headers["mcp-session-id"] = sid
        self.headers["mcp-protocol-version"] = version
        note = {"jsonrpc": "2.0", "method": "notifications/initialized"}
        (await self.client.post(self.url, headers=self.headers, json=note)).raise_for_status()

    async def call(self, text: str, progress: bool) -> dict:
        params: dict = {"name": self.tool, "arguments": {"text": text}}
        if progress:
            params["_meta"] = {"progressToken": "bench"}
        body = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": params}
        resp = await self.client.post(self.url, headers=self.headers, json=body)
        resp.raise_for_status()
        return final_message(resp, 1)


class Proxied:
    def __init__(self, client: httpx2.AsyncClient, url: str, token: str, tool: str):
        self.client, self.url, self.tool = client, url, tool
        self.headers = {
            "content-type": "application/json",
            "accept": "application/json, text/event-stream",
            "authorization": f"Bearer {token}",
            "mcp-protocol-version": MODERN,
            "mcp-method": "tools/call",
            "mcp-name": tool,
        }

    async def setup(self) -> None:
        pass

    async def call(self, text: str, progress: bool) -> dict:
        meta: dict = {
            "io.modelcontextprotocol/protocolVersion": MODERN,
            "io.modelcontextprotocol/clientCapabilities": {},
            "io.modelcontextprotocol/clientInfo": {"name": "bench-proxied", "version": "1"},
        }
        if progress:
            meta["progressToken"] = "bench"
        body = {"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                "params": {"name": self.tool, "arguments": {"text": text}, "_meta": meta}}
        resp = await self.client.post(self.url, headers=self.headers, json=body)
        resp.raise_for_status()
        return final_message(resp, 1)


async def timed_calls(side, n: int, concurrency: int, progress: bool) -> list[float]:
    latencies: list[float] = []
    per_worker = max(1, n // concurrency)

    async def worker(w: int) -> None:
        for i in range(per_worker):
            text = f"bench-{w}-{i}"
            t0 = time.perf_counter()
            msg = await side.call(text, progress)
            dt = (time.perf_counter() - t0) * 1000
            result = msg.get("result") or {}
            content = result.get("content") or [{}]
            if result.get("isError") or content[0].get("text") != text:
                raise SystemExit(f"bench: wrong answer from {type(side).__name__}: {json.dumps(msg)[:400]}")
            latencies.append(dt)

    await asyncio.gather(*(worker(w) for w in range(concurrency)))
    return latencies


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--direct-url", required=True)
    ap.add_argument("--direct-host", required=True, help="Host header of the Space (subdomain.hf.space:port)")
    ap.add_argument("--proxied-url", required=True)
    ap.add_argument("--token", required=True)
    ap.add_argument("--samples", type=int, default=200, help="calls per side and case without progress")
    ap.add_argument("--samples-progress", type=int, default=64, help="calls per side and case with progress")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--warmup", type=int, default=10)
    ap.add_argument("--label", default="")
    ap.add_argument("--json", help="write the results here")
    args = ap.parse_args()

    limits = httpx2.Limits(max_connections=64, max_keepalive_connections=64)
    timeout = httpx2.Timeout(60.0)
    async with httpx2.AsyncClient(limits=limits, timeout=timeout) as dc, \
            httpx2.AsyncClient(limits=limits, timeout=timeout) as pc:
        sides = {"direct": Direct(dc, args.direct_url, args.direct_host, "echo"),
                 "proxied": Proxied(pc, args.proxied_url, args.token, "gr1_echo")}
        for side in sides.values():
            await side.setup()
            await timed_calls(side, args.warmup, 1, False)
            await timed_calls(side, min(args.warmup, 4), 1, True)
        rows = []
        for progress in (False, True):
            for concurrency in (1, 16):
                n = args.samples_progress if progress else args.samples
                per_round = max(concurrency, n // args.rounds)
                got: dict[str, list[float]] = {"direct": [], "proxied": []}
                for _ in range(args.rounds):
                    for name, side in sides.items():
                        got[name] += await timed_calls(side, per_round, concurrency, progress)
                row = {"progress": progress, "concurrency": concurrency, "samples": len(got["direct"])}
                for name in sides:
                    row[f"{name}_p50"] = percentile(got[name], 50)
                    row[f"{name}_p99"] = percentile(got[name], 99)
                    row[f"{name}_mean"] = statistics.fmean(got[name])
                rows.append(row)
                print(f"  done: progress={'yes' if progress else 'no'} concurrency={concurrency}", file=sys.stderr)

    title = f"Space call latency, ms ({args.label})" if args.label else "Space call latency, ms"
    print(title)
    header = (f"{'progress':>8} {'callers':>7} {'n':>5} | {'direct p50':>10} {'proxied p50':>11} {'diff':>7} {'ratio':>6}"
              f" | {'direct p99':>10} {'proxied p99':>11} {'diff':>7} {'ratio':>6}")
    print(header)
    print("-" * len(header))
    for r in rows:
        print(f"{'yes' if r['progress'] else 'no':>8} {r['concurrency']:>7} {r['samples']:>5} | "
              f"{r['direct_p50']:>10.1f} {r['proxied_p50']:>11.1f} {r['proxied_p50'] - r['direct_p50']:>+7.1f} "
              f"{r['proxied_p50'] / r['direct_p50']:>6.2f} | "
              f"{r['direct_p99']:>10.1f} {r['proxied_p99']:>11.1f} {r['proxied_p99'] - r['direct_p99']:>+7.1f} "
              f"{r['proxied_p99'] / r['direct_p99']:>6.2f}")
    target = [r for r in rows if r["concurrency"] == 1]
    verdict = all(r["proxied_p50"] - r["direct_p50"] <= 10.0 for r in target)
    print(f"target (proxied adds <= 10 ms p50 over direct, 1 caller, with and without progress): "
          f"{'MET' if verdict else 'MISSED'}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"label": args.label, "rows": rows, "target_met": verdict}, f, indent=2)


if __name__ == "__main__":
    asyncio.run(main())
