#!/usr/bin/env python3
"""Soak driver for bench/soak/run: a realistic mix of both protocol eras against one hubmcp
(hub toolset, Hub and Spaces stand-ins behind it), while sampling the server's RSS, open file
descriptors, threads, live sessions, open streams and live tasks every SAMPLE seconds.

Standard library only. Prints one table row per sample, then a verdict: after the warm-up,
RSS and descriptors must not grow by more than the stated bounds (compared: the highest
sample of the first third after warm-up against the highest of the last third), and every
kind of exchange must mostly succeed (a mix that silently fails proves nothing).

Usage: driver.py --url http://127.0.0.1:PORT --pid PID --seconds N [--warmup S]
       [--sample S] [--workers W] [--rss-bound-mib M] [--fd-bound N]
"""

import argparse
import http.client
import json
import os
import random
import sys
import threading
import time
import urllib.parse
from collections import Counter

TOKEN = "hf_standin_alice_write"
STATELESS = "2026-07-28"
SESSION_ERA = "2025-11-25"  # primes its streams (an event id to resume from)
TASKS_EXT = "io.modelcontextprotocol/tasks"
KONTEXT = ("black-forest-labs/FLUX.1-Kontext-Dev", "gr1_flux_1_kontext_dev_infer")
SCHNELL = ("evalstate/flux1_schnell", "gr1_evalstate_flux1_schnellinfer")


class Server:
    def __init__(self, url):
        u = urllib.parse.urlparse(url)
        self.host, self.port, self.path = u.hostname, u.port, u.path or "/mcp"

    def conn(self, timeout=30):
        return http.client.HTTPConnection(self.host, self.port, timeout=timeout)


def sse_events(resp, limit=None):
    """Yield (id, data) of each SSE event of a streamed response."""
    ev_id, data = None, []
    n = 0
    while True:
        line = resp.readline()
        if not line:
            return
        line = line.decode("utf-8", "replace").rstrip("\r\n")
        if line == "":
            if data or ev_id is not None:
                yield ev_id, "\n".join(data)
                n += 1
                if limit and n >= limit:
                    return
            ev_id, data = None, []
        elif line.startswith("id:"):
            ev_id = line[3:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].lstrip(" "))


def read_reply(resp):
    """The JSON-RPC response of a POST: a JSON body or the last message of an SSE stream."""
    ctype = resp.getheader("content-type", "")
    if ctype.startswith("text/event-stream"):
        last = None
        for _, data in sse_events(resp):
            msg = json.loads(data)
            if "id" in msg and ("result" in msg or "error" in msg):
                last = msg
        return last
    body = resp.read()
    return json.loads(body) if body else None


class Worker:
    def __init__(self, server, counts, errors, lock):
        self.s, self.counts, self.errors, self.lock = server, counts, errors, lock

    def note(self, kind, ok, detail=""):
        with self.lock:
            self.counts[(kind, ok)] += 1
            if not ok and len(self.errors) < 20:
                self.errors.append(f"{kind}: {detail}"[:300])

    # --- stateless era -------------------------------------------------------------------
    def stateless(self, method, params, query="", caps=None, progress=None):
        meta = dict(params.get("_meta", {}))
        meta["io.modelcontextprotocol/protocolVersion"] = STATELESS
        meta["io.modelcontextprotocol/clientCapabilities"] = caps or {}
        if progress:
            meta["progressToken"] = progress
        params = {**params, "_meta": meta}
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params})
        headers = {
            "content-type": "application/json",
            "accept": "application/json, text/event-stream",
            "mcp-protocol-version": STATELESS,
            "mcp-method": method,
            "authorization": f"Bearer {TOKEN}",
        }
        name = params.get("name") or params.get("taskId")
        if name:
            headers["mcp-name"] = name
        c = self.s.conn()
        try:
            c.request("POST", self.s.path + query, body, headers)
            resp = c.getresponse()
            if resp.status != 200:
                return None, f"HTTP {resp.status}: {resp.read()[:200]!r}"
            return read_reply(resp), None
        finally:
            c.close()

    def hub_tools(self):
        calls = [
            ("hub_repo_search", {"query": "bert", "limit": 5}),
            ("hf_fs", {"operations": [{"cmd": "ls", "args": ["hf://models/google-bert/bert-base-uncased"]}]}),
            ("hub_repo_details", {"repo_ids": ["stanfordnlp/imdb"], "repo_type": "dataset"}),
            ("hf_whoami", {}),
            ("hf_fs", {"operations": [{"cmd": "search", "args": ["hf://papers", "bert"]}]}),
        ]
        name, args = random.choice(calls)
        r, err = self.stateless("tools/call", {"name": name, "arguments": args})
        ok = r is not None and "result" in r and not r["result"].get("isError")
        self.note("hub_tool", ok, err or json.dumps(r)[:200])

    def progress_call(self):
        space, tool = KONTEXT
        r, err = self.stateless(
            "tools/call", {"name": tool, "arguments": {"prompt": "soak"}}, f"?gradio={space}", progress="soak"
        )
        ok = r is not None and "result" in r and not r["result"].get("isError")
        self.note("space_progress", ok, err or json.dumps(r)[:200])

    def task(self):
        space, tool = SCHNELL
        caps = {"extensions": {TASKS_EXT: {}}}
        q = f"?gradio={space}"
        r, err = self.stateless("tools/call", {"name": tool, "arguments": {"prompt": "soak"}}, q, caps)
        if r is None or r.get("result", {}).get("resultType") != "task":
            return self.note("task", False, err or json.dumps(r)[:200])
        tid = r["result"]["taskId"]
        for _ in range(200):
            t, err = self.stateless("tasks/get", {"taskId": tid}, q, caps)
            status = (t or {}).get("result", {}).get("status")
            if status == "completed":
                return self.note("task", True)
            if status != "working":
                return self.note("task", False, err or json.dumps(t)[:200])
            time.sleep(0.02)
        self.note("task", False, "never completed")

    # --- session era ---------------------------------------------------------------------
    def session_post(self, sid, msg, query=""):
        headers = {
            "content-type": "application/json",
            "accept": "application/json, text/event-stream",
            "authorization": f"Bearer {TOKEN}",
        }
        if sid:
            headers["mcp-session-id"] = sid
            headers["mcp-protocol-version"] = SESSION_ERA
        c = self.s.conn()
        try:
            c.request("POST", self.s.path + query, json.dumps(msg), headers)
            resp = c.getresponse()
            new_sid = resp.getheader("mcp-session-id")
            if resp.status not in (200, 202):
                return None, None, f"HTTP {resp.status}"
            return (read_reply(resp) if resp.status == 200 else None), new_sid, None
        finally:
            c.close()

    def open_session(self, query=""):
        init = {
            "jsonrpc": "2.0",
            "id": 0,
            "method": "initialize",
            "params": {
                "protocolVersion": SESSION_ERA,
                "capabilities": {"roots": {"listChanged": True}},
                "clientInfo": {"name": "soak-driver", "version": "1.0"},
            },
        }
        r, sid, err = self.session_post(None, init, query)
        if not sid:
            return None, err or "no session id"
        self.session_post(sid, {"jsonrpc": "2.0", "method": "notifications/initialized"}, query)
        return sid, None

    def delete(self, sid):
        c = self.s.conn()
        try:
            c.request("DELETE", self.s.path, headers={"mcp-session-id": sid, "mcp-protocol-version": SESSION_ERA,
                                                      "authorization": f"Bearer {TOKEN}"})
            c.getresponse().read()
        finally:
            c.close()

    def session_abandoned(self):
        sid, err = self.open_session()
        if not sid:
            return self.note("session_abandoned", False, err)
        r, _, err = self.session_post(sid, {"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
        self.note("session_abandoned", r is not None and "result" in r, err or json.dumps(r)[:200])
        # No DELETE: the server's idle expiry must reclaim it.

    def session_full(self):
        sid, err = self.open_session()
        if not sid:
            return self.note("session_full", False, err)
        call = {"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                "params": {"name": "hub_repo_search", "arguments": {"query": "bert", "limit": 3}}}
        r, _, err = self.session_post(sid, call)
        self.delete(sid)
        self.note("session_full", r is not None and "result" in r, err or json.dumps(r)[:200])

    def push_stream(self):
        """A push stream held a moment and dropped, then resumed with Last-Event-ID."""
        sid, err = self.open_session()
        if not sid:
            return self.note("push_resume", False, err)
        headers = {"accept": "text/event-stream", "mcp-session-id": sid, "mcp-protocol-version": SESSION_ERA,
                   "authorization": f"Bearer {TOKEN}"}
        last_id = None
        for attempt in range(2):
            c = self.s.conn(timeout=8)
            try:
                h = dict(headers)
                if last_id:
                    h["last-event-id"] = last_id
                c.request("GET", self.s.path, headers=h)
                resp = c.getresponse()
                if resp.status != 200:
                    self.delete(sid)
                    return self.note("push_resume", False, f"GET HTTP {resp.status}")
                if last_id is None:
                    # A fresh stream starts with a priming event: its id is where to resume.
                    for ev_id, _ in sse_events(resp, limit=1):
                        last_id = ev_id
                    if last_id is None:
                        self.delete(sid)
                        return self.note("push_resume", False, "no priming event id")
                # A resumed stream replays what was missed (nothing here) and stays open.
                time.sleep(random.uniform(0.2, 1.5))  # held, then dropped
            except (OSError, http.client.HTTPException) as e:
                self.delete(sid)
                return self.note("push_resume", False, repr(e))
            finally:
                c.close()
        if random.random() < 0.5:
            self.delete(sid)
        self.note("push_resume", True)

    def http_sse(self):
        """The deprecated HTTP+SSE transport: GET /sse, POST /message, answers on the stream."""
        c = self.s.conn(timeout=8)
        try:
            c.request("GET", "/sse", headers={"accept": "text/event-stream", "authorization": f"Bearer {TOKEN}"})
            resp = c.getresponse()
            if resp.status != 200:
                return self.note("http_sse", False, f"GET /sse HTTP {resp.status}")
            events = sse_events(resp)
            _, endpoint = next(events)
            msgs = [
                {"jsonrpc": "2.0", "id": 0, "method": "initialize",
                 "params": {"protocolVersion": "2024-11-05", "capabilities": {},
                            "clientInfo": {"name": "soak-sse", "version": "1.0"}}},
                {"jsonrpc": "2.0", "method": "notifications/initialized"},
                {"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
            ]
            for m in msgs:
                p = self.s.conn()
                try:
                    p.request("POST", endpoint, json.dumps(m), {"content-type": "application/json",
                                                                "authorization": f"Bearer {TOKEN}"})
                    p.getresponse().read()
                finally:
                    p.close()
            got = set()
            for _, data in events:
                msg = json.loads(data)
                if "id" in msg:
                    got.add(msg["id"])
                if got >= {0, 1}:
                    break
            self.note("http_sse", got >= {0, 1}, f"answers {got}")
        except (OSError, http.client.HTTPException, StopIteration, ValueError) as e:
            self.note("http_sse", False, repr(e))
        finally:
            c.close()  # dropped without any goodbye

    def run(self, until, pause, only=None):
        mix = [self.hub_tools, self.hub_tools, self.progress_call, self.task, self.session_abandoned,
               self.session_full, self.push_stream, self.http_sse]
        if only:
            mix = [m for m in mix if m.__name__ in only]
        while time.time() < until:
            step = random.choice(mix)
            try:
                step()
            except Exception as e:  # noqa: BLE001 - any failure is counted, the soak goes on
                self.note(step.__name__, False, repr(e))
            time.sleep(pause)


def metrics(server):
    c = server.conn(timeout=10)
    try:
        c.request("GET", "/metrics")
        text = c.getresponse().read().decode()
    finally:
        c.close()
    out = Counter()
    for line in text.splitlines():
        if line.startswith("#") or " " not in line:
            continue
        name_labels, value = line.rsplit(" ", 1)
        name = name_labels.split("{", 1)[0]
        try:
            v = float(value)
        except ValueError:
            continue
        if name in ("mcp_sessions_active", "mcp_streams_open"):
            out[name] += v
        elif name == "mcp_tasks_total":
            out["tasks_live"] += v if 'state="created"' in name_labels else -v
    return out


def proc(pid):
    status = open(f"/proc/{pid}/status").read()
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    rss_kib = int(fields["VmRSS"].split()[0])
    threads = int(fields["Threads"].strip())
    fds = len(os.listdir(f"/proc/{pid}/fd"))
    return rss_kib, fds, threads


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--pid", type=int, required=True)
    ap.add_argument("--seconds", type=int, required=True)
    ap.add_argument("--warmup", type=int, default=30)
    ap.add_argument("--sample", type=int, default=10)
    ap.add_argument("--workers", type=int, default=6)
    ap.add_argument("--pause-ms", type=int, default=20)
    ap.add_argument("--rss-bound-mib", type=float, default=8)
    ap.add_argument("--fd-bound", type=int, default=32)
    ap.add_argument("--min-success", type=float, default=0.95)
    ap.add_argument("--only", default="", help="comma-separated exchanges (method names), to isolate a growth")
    a = ap.parse_args()

    server = Server(a.url)
    counts, errors, lock = Counter(), [], threading.Lock()
    start = time.time()
    until = start + a.seconds
    workers = [threading.Thread(target=Worker(server, counts, errors, lock).run, args=(until, a.pause_ms / 1000, set(filter(None, a.only.split(",")))),
                                daemon=True) for _ in range(a.workers)]
    for w in workers:
        w.start()

    samples = []
    header = f"{'t (s)':>6} {'RSS MiB':>8} {'fds':>5} {'threads':>7} {'sessions':>8} {'streams':>7} {'tasks':>5} {'calls':>7}"
    print(header, flush=True)
    next_at = start
    while True:
        now = time.time()
        if now >= next_at:
            rss, fds, threads = proc(a.pid)
            m = metrics(server)
            with lock:
                done = sum(counts.values())
            row = (round(now - start), rss / 1024, fds, threads, int(m["mcp_sessions_active"]),
                   int(m["mcp_streams_open"]), int(m["tasks_live"]), done)
            samples.append(row)
            print(f"{row[0]:>6} {row[1]:>8.1f} {row[2]:>5} {row[3]:>7} {row[4]:>8} {row[5]:>7} {row[6]:>5} {row[7]:>7}",
                  flush=True)
            next_at += a.sample
        if now >= until:
            break
        time.sleep(min(0.5, max(0.0, next_at - time.time())))
    for w in workers:
        w.join(timeout=60)

    failures = []
    after = [s for s in samples if s[0] >= a.warmup]
    if len(after) < 3:
        failures.append(f"only {len(after)} samples after the warm-up; run longer")
    else:
        third = max(1, len(after) // 3)
        first, last = after[:third], after[-third:]
        rss_growth = max(s[1] for s in last) - max(s[1] for s in first)
        fd_growth = max(s[2] for s in last) - max(s[2] for s in first)
        # The trend, for the record: least-squares slope of RSS over the samples after warm-up.
        n = len(after)
        mt, mr = sum(s[0] for s in after) / n, sum(s[1] for s in after) / n
        var = sum((s[0] - mt) ** 2 for s in after)
        slope = sum((s[0] - mt) * (s[1] - mr) for s in after) / var * 60 if var else 0.0
        print(f"\nafter warm-up ({a.warmup} s): RSS growth {rss_growth:+.1f} MiB (bound {a.rss_bound_mib} MiB; "
              f"trend {slope:+.2f} MiB/min), fd growth {fd_growth:+d} (bound {a.fd_bound})")
        if rss_growth > a.rss_bound_mib:
            failures.append(f"RSS grew {rss_growth:.1f} MiB after warm-up (bound {a.rss_bound_mib})")
        if fd_growth > a.fd_bound:
            failures.append(f"descriptors grew by {fd_growth} after warm-up (bound {a.fd_bound})")

    kinds = sorted({k for k, _ in counts})
    print("\nexchanges: " + ", ".join(f"{k} {counts[(k, True)]}/{counts[(k, True)] + counts[(k, False)]}"
                                      for k in kinds))
    for k in kinds:
        ok, bad = counts[(k, True)], counts[(k, False)]
        if ok + bad == 0 or ok / (ok + bad) < a.min_success:
            failures.append(f"{k}: {ok} of {ok + bad} succeeded")
    expected = {"hub_tool", "space_progress", "task", "session_abandoned", "session_full", "push_resume", "http_sse"}
    missing = set() if a.only else expected - set(kinds)
    if missing:
        failures.append(f"never exercised: {sorted(missing)}")
    if errors:
        print("first errors:\n  " + "\n  ".join(errors))
    if failures:
        print("\nSOAK FAILED:\n  " + "\n  ".join(failures))
        sys.exit(1)
    print("\nSOAK PASSED")


if __name__ == "__main__":
    main()
