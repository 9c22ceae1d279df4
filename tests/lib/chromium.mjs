// Headless Chromium over the DevTools protocol, with Node's own WebSocket and fetch (no npm
// packages, no downloaded browser): what the browser and dashboard stages drive pages with.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, existsSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Start `binary` (Debian's chromium) with a fresh profile and `extraFlags`; connect to its
// page. Returns { cdp, evaluate, waitFor, close }.
export async function launchChromium(binary, extraFlags = []) {
  const profile = mkdtempSync(join(tmpdir(), "hubmcp-chromium-"));
  const browser = spawn(binary, [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage", "--mute-audio", ...extraFlags,
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
  assert.ok(page, "no page target");
  const ws = new WebSocket(page.webSocketDebuggerUrl);
  await new Promise((resolve, reject) => { ws.onopen = resolve; ws.onerror = reject; });
  const pending = new Map();
  let nextId = 1;
  ws.onmessage = (ev) => {
    const msg = JSON.parse(ev.data);
    if (msg.id && pending.has(msg.id)) {
      const { resolve, reject } = pending.get(msg.id);
      pending.delete(msg.id);
      msg.error ? reject(new Error(JSON.stringify(msg.error))) : resolve(msg.result);
    }
  };

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

  // While a page loads, `document.body` and the elements may not exist yet: an expression
  // that throws then is "not yet", not a failure.
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
    assert.fail(`timed out waiting for ${what} (last value: ${JSON.stringify(last)})`);
  }

  async function close() {
    try { ws.close(); } catch {}
    browser.kill("SIGKILL");
    await sleep(200);
    try { rmSync(profile, { recursive: true, force: true }); } catch {}
  }

  return { cdp, evaluate, waitFor, close };
}
