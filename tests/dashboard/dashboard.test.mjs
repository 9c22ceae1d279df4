// The operator's dashboard in a real browser: Debian's headless Chromium, driven over the
// DevTools protocol with Node's own WebSocket and fetch (no npm packages, no downloaded
// browser). Loads /dashboard behind METRICS_PAGE_PASSWORD, checks that live figures appear,
// sends MCP traffic of both eras, checks that the figures change, and saves a screenshot.
//
// Environment (set by tests/dashboard/run.sh): HUBMCP_BASE (http://127.0.0.1:PORT),
// HUBMCP_PASSWORD, CHROMIUM (binary), ARTIFACTS (directory for the screenshot).

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { launchChromium, sleep } from "../lib/chromium.mjs";

const BASE = process.env.HUBMCP_BASE;
const PASSWORD = process.env.HUBMCP_PASSWORD;
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const ARTIFACTS = process.env.ARTIFACTS || "test-artifacts";
const AUTH = "Basic " + Buffer.from("operator:" + PASSWORD).toString("base64");

// ----- Chromium over CDP (tests/lib/chromium.mjs) -------------------------------------------

let chromium;
const cdp = (...a) => chromium.cdp(...a);
const evaluate = (...a) => chromium.evaluate(...a);
const waitFor = (what, expression, timeoutMs = 15000) => chromium.waitFor(what, expression, timeoutMs);

// ----- MCP traffic -----------------------------------------------------------------------

const JSON_HEADERS = { "content-type": "application/json", accept: "application/json, text/event-stream" };

async function modernCall(name, id) {
  const body = {
    jsonrpc: "2.0", id, method: "tools/call",
    params: {
      name, arguments: {},
      _meta: {
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": { elicitation: {} },
        "io.modelcontextprotocol/clientInfo": { name: "dashboard-test", version: "1.0" },
      },
    },
  };
  const r = await fetch(`${BASE}/mcp`, {
    method: "POST",
    headers: { ...JSON_HEADERS, "mcp-protocol-version": "2026-07-28", "mcp-method": "tools/call", "mcp-name": name },
    body: JSON.stringify(body),
  });
  await r.text();
  return r.status;
}

async function legacySession() {
  const init = await fetch(`${BASE}/mcp`, {
    method: "POST", headers: JSON_HEADERS,
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "initialize", params: {
      protocolVersion: "2025-06-18", capabilities: { roots: { listChanged: true }, sampling: {} },
      clientInfo: { name: "legacy-browser-test", version: "0.9" } } }),
  });
  assert.equal(init.status, 200);
  await init.text();
  const sid = init.headers.get("mcp-session-id");
  const h = { ...JSON_HEADERS, "mcp-session-id": sid, "mcp-protocol-version": "2025-06-18" };
  await (await fetch(`${BASE}/mcp`, { method: "POST", headers: h, body: JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" }) })).text();
  for (let i = 2; i < 5; i++) {
    await (await fetch(`${BASE}/mcp`, { method: "POST", headers: h, body: JSON.stringify({ jsonrpc: "2.0", id: i, method: "tools/list" }) })).text();
  }
  await (await fetch(`${BASE}/mcp`, { method: "POST", headers: h,
    body: JSON.stringify({ jsonrpc: "2.0", id: 9, method: "tools/call", params: { name: "no_such_tool" } }) })).text();
  // The server-push stream stays open while the page looks.
  const controller = new AbortController();
  const push = await fetch(`${BASE}/mcp`, { headers: { ...h, accept: "text/event-stream" }, signal: controller.signal });
  assert.equal(push.status, 200);
  return { sid, close: () => controller.abort() };
}

// ----- the test ----------------------------------------------------------------------------

before(async () => {
  chromium = await launchChromium(CHROMIUM, ["--hide-scrollbars", "--window-size=1440,1000"]);
});
after(async () => { await chromium?.close(); });

test("the API and /metrics refuse requests without the password", async () => {
  for (const path of ["/dashboard", "/api/snapshot", "/metrics"]) {
    const r = await fetch(BASE + path);
    assert.equal(r.status, 401, path);
    assert.match(r.headers.get("www-authenticate") || "", /Basic/);
  }
  const ok = await fetch(BASE + "/metrics", { headers: { authorization: AUTH } });
  assert.equal(ok.status, 200);
  assert.match(await ok.text(), /# TYPE mcp_requests_total counter/);
});

test("the dashboard shows live figures that follow the traffic", async () => {
  await cdp("Network.enable");
  await cdp("Network.setExtraHTTPHeaders", { headers: { authorization: AUTH } });
  await cdp("Emulation.setDeviceMetricsOverride", { width: 1440, height: 1000, deviceScaleFactor: 1, mobile: false });
  await cdp("Page.enable");
  await cdp("Page.navigate", { url: `${BASE}/dashboard?interval=500` });
  await waitFor("the first update", "Number(document.body.dataset.updates || 0) >= 1");
  assert.equal(await evaluate("document.title"), "MCP server dashboard");
  const before = Number(await evaluate("document.getElementById('requests-total').dataset.value"));
  assert.ok(Number.isFinite(before), "a request count is shown");

  // Traffic: stateless calls (one unknown tool), and a session with a push stream.
  for (let i = 0; i < 5; i++) assert.equal(await modernCall("test_simple_text", 100 + i), 200);
  await modernCall("no_such_tool", 200);
  const session = await legacySession();
  try {
    const after = await waitFor("the request count to grow",
      `(() => { const v = Number(document.getElementById('requests-total').dataset.value); return v >= ${before + 11} ? v : 0; })()`);
    assert.ok(after > before);
    await waitFor("the session with its push stream",
      "[...document.querySelectorAll('#sessions td')].some(td => td.textContent.includes('legacy-browser-test@0.9')) && document.getElementById('sessions-active').dataset.value >= 1 && document.getElementById('streams-open').textContent !== '0'");
    const text = await evaluate("document.querySelector('main').innerText");
    for (const expected of ["dashboard-test@1.0", "legacy-browser-test@0.9", "tools/call", "tools/list", "initialize",
      "test_simple_text", "streamable_http", "2025-06-18", "2026-07-28", "Unknown tool: no_such_tool", "streaming"]) {
      assert.ok(text.includes(expected), `the page shows ${expected}`);
    }
    await waitFor("a requests-per-second figure", "document.getElementById('rps').textContent !== '–'");
    // A few more polls, so the requests-per-second line has a shape in the screenshot.
    for (let i = 0; i < 4; i++) { await modernCall("test_simple_text", 300 + i); await sleep(300); }
    await waitFor("more updates", "Number(document.body.dataset.updates) >= 8");
    mkdirSync(ARTIFACTS, { recursive: true });
    const height = await evaluate("Math.ceil(document.documentElement.scrollHeight)");
    await cdp("Emulation.setDeviceMetricsOverride", { width: 1440, height: Math.min(height, 4000), deviceScaleFactor: 1, mobile: false });
    await sleep(300);
    const shot = await cdp("Page.captureScreenshot", { format: "png", captureBeyondViewport: true });
    const file = join(ARTIFACTS, "dashboard.png");
    writeFileSync(file, Buffer.from(shot.data, "base64"));
    console.log(`screenshot: ${file}`);
  } finally {
    session.close();
  }
});

test("the client dataset downloads as JSON lines and Parquet", async () => {
  const j = await fetch(`${BASE}/api/clients/export?format=jsonl`, { headers: { authorization: AUTH } });
  assert.equal(j.status, 200);
  const rows = (await j.text()).trim().split("\n").map((l) => JSON.parse(l));
  const legacy = rows.find((r) => r.client === "legacy-browser-test@0.9");
  assert.ok(legacy, "the session client is in the dataset");
  assert.deepEqual(legacy.protocol_versions, ["2025-06-18"]);
  assert.equal(legacy.opens_get_streams, true);
  assert.equal(legacy.reuses_sessions, true);
  assert.ok(legacy.capabilities.includes("roots.listChanged"));
  const modern = rows.find((r) => r.client === "dashboard-test@1.0");
  assert.deepEqual(modern.eras, ["stateless"]);
  assert.equal(modern.reuses_sessions, null);
  const p = await fetch(`${BASE}/api/clients/export?format=parquet`, { headers: { authorization: AUTH } });
  assert.equal(p.status, 200);
  const bytes = Buffer.from(await p.arrayBuffer());
  assert.equal(bytes.subarray(0, 4).toString(), "PAR1");
  assert.equal(bytes.subarray(bytes.length - 4).toString(), "PAR1");
});
