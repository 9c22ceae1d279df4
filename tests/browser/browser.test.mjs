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
import { createServer } from "node:http";
import { launchChromium } from "../lib/chromium.mjs";

const MCP = process.env.HUBMCP_URL;
const ALLOWED = `http://allowed.test:${process.env.ALLOWED_PORT}`;
const OTHER = `http://other.test:${process.env.OTHER_PORT}`;
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";

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

let servers = [], chromium;

function servePage(port) {
  return new Promise((resolve) => {
    const s = createServer((req, res) => {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
      res.end(PAGE);
    });
    s.listen(Number(port), "127.0.0.1", () => resolve(s));
  });
}

/// Open the page at `origin`, wait for its report.
async function runPage(origin) {
  await cdp("Page.navigate", { url: `${origin}/page.html?mcp=${encodeURIComponent(MCP)}` });
  await waitFor(`${origin} to load`, `location.origin === ${JSON.stringify(origin)}`);
  const text = await waitFor(`the page on ${origin} to finish`,
    `document.getElementById("out")?.dataset.done === "1" && document.getElementById("out").textContent`);
  return JSON.parse(text);
}

const cdp = (...a) => chromium.cdp(...a);
const waitFor = (...a) => chromium.waitFor(...a);

before(async () => {
  servers = await Promise.all([servePage(process.env.ALLOWED_PORT), servePage(process.env.OTHER_PORT)]);
  chromium = await launchChromium(CHROMIUM, ["--host-resolver-rules=MAP allowed.test 127.0.0.1, MAP other.test 127.0.0.1"]);
  await cdp("Page.enable");
  await cdp("Runtime.enable");
});

after(async () => {
  await chromium?.close();
  for (const s of servers) s.close();
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
