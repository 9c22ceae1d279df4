// Web clients in a real browser: Debian's headless Chromium over the DevTools protocol
// (Node's own WebSocket, no npm packages). Two tiny pages on two origins — the allowed
// one named in the server's CORS_ALLOWED_ORIGINS, the other not — each run a 2026-07-28
// `tools/call` with `fetch` and write the outcome into the page. The allowed page gets
// the tool result; the other is refused by CORS (its preflight answered 403), yet may
// read the public Server Card. The welcome page: `/` redirects to it.
//
// Environment (set by tests/browser/run.sh): HUBMCP_URL (the endpoint), ALLOWED_PORT and
// OTHER_PORT (where this file serves the pages; Chromium resolves allowed.test and
// other.test to 127.0.0.1), CHROMIUM.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createServer } from "node:http";
import { mkdtempSync, readFileSync, existsSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const MCP = process.env.HUBMCP_URL;
const ALLOWED = `http://allowed.test:${process.env.ALLOWED_PORT}`;
const OTHER = `http://other.test:${process.env.OTHER_PORT}`;
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// The page: calls the endpoint given in ?mcp= and writes what happened into #out.
const PAGE = `<!doctype html><meta charset="utf-8"><title>web client</title><pre id="out">running</pre>
<script>
const mcp = new URLSearchParams(location.search).get("mcp");
const out = document.getElementById("out");
const body = { jsonrpc: "2.0", id: 1, method: "tools/call", params: {
  name: "hub_repo_search", arguments: { query: "bert", repo_types: ["model"], limit: 3 },
  _meta: { "io.modelcontextprotocol/protocolVersion": "2026-07-28",
           "io.modelcontextprotocol/clientInfo": { name: "browser-page", version: "1" },
           "io.modelcontextprotocol/clientCapabilities": {} } } };
(async () => {
  const report = {};
  try {
    const r = await fetch(mcp, { method: "POST", body: JSON.stringify(body), headers: {
      "content-type": "application/json", "accept": "application/json, text/event-stream",
      "mcp-protocol-version": "2026-07-28", "mcp-method": "tools/call", "mcp-name": "hub_repo_search" } });
    report.status = r.status;
    report.result = (await r.json()).result;
  } catch (e) {
    report.refused = String(e);
  }
  try {
    const c = await fetch(mcp + "/server-card", { headers: { accept: "application/mcp-server-card+json" } });
    report.card = { status: c.status, etag: c.headers.get("etag"), name: (await c.json()).name };
  } catch (e) {
    report.card = { refused: String(e) };
  }
  out.textContent = JSON.stringify(report);
  out.dataset.done = "1";
})();
</script>`;

let servers = [], browser, profile, ws, nextId = 1;
const pending = new Map();

function servePage(port) {
  return new Promise((resolve) => {
    const s = createServer((req, res) => {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
      res.end(PAGE);
    });
    s.listen(Number(port), "127.0.0.1", () => resolve(s));
  });
}

async function launch() {
  profile = mkdtempSync(join(tmpdir(), "hubmcp-browser-"));
  browser = spawn(CHROMIUM, [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage", "--mute-audio",
    "--host-resolver-rules=MAP allowed.test 127.0.0.1, MAP other.test 127.0.0.1",
    `--user-data-dir=${profile}`, "--remote-debugging-port=0", "about:blank",
  ], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  browser.stderr.on("data", (d) => { stderr += d; });
  const portFile = join(profile, "DevToolsActivePort");
  for (let i = 0; i < 200 && !existsSync(portFile); i++) await sleep(100);
  assert.ok(existsSync(portFile), "Chromium did not start its DevTools endpoint:\n" + stderr.slice(-2000));
  const port = readFileSync(portFile, "utf8").split("\n")[0];
  const targets = await (await fetch(`http://127.0.0.1:${port}/json/list`)).json();
  const page = targets.find((t) => t.type === "page");
  ws = new WebSocket(page.webSocketDebuggerUrl);
  await new Promise((resolve, reject) => { ws.onopen = resolve; ws.onerror = reject; });
  ws.onmessage = (ev) => {
    const msg = JSON.parse(ev.data);
    if (msg.id && pending.has(msg.id)) {
      const { resolve, reject } = pending.get(msg.id);
      pending.delete(msg.id);
      msg.error ? reject(new Error(JSON.stringify(msg.error))) : resolve(msg.result);
    }
  };
}

function cdp(method, params = {}) {
  const id = nextId++;
  ws.send(JSON.stringify({ id, method, params }));
  return new Promise((resolve, reject) => pending.set(id, { resolve, reject }));
}

async function evaluate(expression) {
  const r = await cdp("Runtime.evaluate", { expression, returnByValue: true, awaitPromise: true });
  if (r.exceptionDetails) throw new Error("page error: " + JSON.stringify(r.exceptionDetails));
  return r.result.value;
}

async function waitFor(what, expression, timeoutMs = 20000) {
  const end = Date.now() + timeoutMs;
  let last;
  while (Date.now() < end) {
    try {
      last = await evaluate(expression);
      if (last) return last;
    } catch (e) {
      last = String(e.message || e);
    }
    await sleep(100);
  }
  assert.fail(`timed out waiting for ${what} (last: ${JSON.stringify(last)})`);
}

/// Open the page at `origin`, wait for its report.
async function runPage(origin) {
  await cdp("Page.navigate", { url: `${origin}/page.html?mcp=${encodeURIComponent(MCP)}` });
  await waitFor(`${origin} to load`, `location.origin === ${JSON.stringify(origin)}`);
  const text = await waitFor(`the page on ${origin} to finish`,
    `document.getElementById("out")?.dataset.done === "1" && document.getElementById("out").textContent`);
  return JSON.parse(text);
}

before(async () => {
  servers = await Promise.all([servePage(process.env.ALLOWED_PORT), servePage(process.env.OTHER_PORT)]);
  await launch();
  await cdp("Page.enable");
  await cdp("Runtime.enable");
});

after(async () => {
  try { ws?.close(); } catch {}
  browser?.kill("SIGKILL");
  for (const s of servers) s.close();
  await sleep(200);
  try { rmSync(profile, { recursive: true, force: true }); } catch {}
});

test("a page on an allowed origin completes a 2026-07-28 tools/call with fetch", async () => {
  const report = await runPage(ALLOWED);
  assert.equal(report.refused, undefined, "refused: " + report.refused);
  assert.equal(report.status, 200);
  assert.ok(!report.result.isError, JSON.stringify(report.result));
  const ids = report.result.structuredContent.groups.flatMap((g) => g.results.map((r) => r.id));
  assert.ok(ids.includes("google-bert/bert-base-uncased"), JSON.stringify(ids));
  assert.equal(report.card.status, 200);
  assert.ok(report.card.etag, "the page can read the card's ETag");
});

test("a page on another origin is refused, but reads the public Server Card", async () => {
  const report = await runPage(OTHER);
  assert.match(report.refused ?? "", /TypeError|Failed to fetch/, JSON.stringify(report));
  assert.equal(report.result, undefined);
  assert.equal(report.card.status, 200);
  assert.equal(report.card.name, "huggingface.co/mcp");
});

test("opening the server in a browser shows the welcome page", async () => {
  const root = new URL("/", MCP).href;
  await cdp("Page.navigate", { url: root });
  await waitFor("the redirect to the endpoint", `location.href === ${JSON.stringify(MCP)}`);
  const text = await waitFor("the welcome page", `document.body && document.body.innerText.includes("Connect") && document.body.innerText`);
  assert.ok(text.includes(MCP), text);
  assert.ok(text.includes("Hugging Face Hub"), text);
});
