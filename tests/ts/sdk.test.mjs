// hubmcp against the official TypeScript SDK client, session era, over Streamable HTTP
// and over HTTP+SSE. Run by tests/ts/run.sh, which sets HUBMCP_URL (the /mcp endpoint of
// `hubmcp serve --toolset conformance`) and HUBMCP_TS_SDK (the installed SDK package).

import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const SDK = process.env.HUBMCP_TS_SDK;
const URL_MCP = process.env.HUBMCP_URL;
if (!SDK || !URL_MCP) throw new Error('run through tests/ts/run.sh (HUBMCP_TS_SDK and HUBMCP_URL)');

const load = (p) => import(pathToFileURL(path.join(SDK, 'dist/esm', p)).href);
const { Client } = await load('client/index.js');
const { StreamableHTTPClientTransport } = await load('client/streamableHttp.js');
const { SSEClientTransport } = await load('client/sse.js');
const { ElicitRequestSchema, CreateMessageRequestSchema, ListRootsRequestSchema } = await load('types.js');

const base = new URL(URL_MCP);
const sseUrl = new URL('/sse', base);

const transports = {
  'streamable-http': () => new StreamableHTTPClientTransport(base),
  'http+sse': () => new SSEClientTransport(sseUrl)
};

/** A connected client that answers elicitation and sampling requests. */
async function connect(kind, seen = {}) {
  const client = new Client(
    { name: 'hubmcp-ts-sdk-test', version: '1.0.0' },
    { capabilities: { elicitation: {}, sampling: {}, roots: { listChanged: true } } }
  );
  client.setRequestHandler(ElicitRequestSchema, async (req) => {
    seen.elicitation = req.params;
    return { action: 'accept', content: { username: 'ada', email: 'ada@example.com' } };
  });
  client.setRequestHandler(CreateMessageRequestSchema, async (req) => {
    seen.sampling = req.params;
    return {
      role: 'assistant',
      content: { type: 'text', text: 'sampled by the test client' },
      model: 'test-model',
      stopReason: 'endTurn'
    };
  });
  client.setRequestHandler(ListRootsRequestSchema, async () => {
    seen.roots = true;
    return { roots: [{ uri: 'file:///tmp/hubmcp-test', name: 'test root' }] };
  });
  const errors = [];
  const transport = transports[kind]();
  await client.connect(transport);
  transport.onerror = (e) => errors.push(e);
  return {
    client,
    transport,
    errors,
    async close() {
      if (transport.terminateSession) await transport.terminateSession().catch(() => {});
      await client.close();
    }
  };
}

const text = (result) => result.content.filter((c) => c.type === 'text').map((c) => c.text).join('\n');

for (const kind of Object.keys(transports)) {
  describe(`TypeScript SDK over ${kind}`, () => {
    test('handshake and tools/list', async () => {
      const c = await connect(kind);
      try {
        assert.equal(c.client.getServerVersion().name, 'hubmcp');
        if (kind === 'streamable-http') {
          assert.match(c.transport.sessionId, /^[\x21-\x7e]+$/);
          assert.equal(c.transport.protocolVersion, '2025-11-25');
        }
        const { tools } = await c.client.listTools();
        const names = tools.map((t) => t.name);
        for (const n of ['test_simple_text', 'test_tool_with_progress', 'test_elicitation', 'test_sampling']) {
          assert.ok(names.includes(n), `${n} in ${names}`);
        }
        const r = await c.client.callTool({ name: 'test_simple_text', arguments: {} });
        assert.equal(text(r), 'This is a simple text response for testing.');
      } finally {
        await c.close();
      }
    });

    test('call with progress', async () => {
      const c = await connect(kind);
      try {
        // What arrives on the wire, before the SDK's dispatch.
        const wire = [];
        const inner = c.transport.onmessage;
        c.transport.onmessage = (m, extra) => {
          if (m.method === 'notifications/progress') wire.push(m.params.progress);
          inner?.(m, extra);
        };
        // The SDK runs progress handlers a microtask late but settles the response at once
        // (typescript-sdk#2580): a last progress notification that arrives in the same read
        // as the response is dropped. The server sends it in a write of its own, so every
        // call sees every update, on every transport.
        for (let round = 0; round < 5; round++) {
          wire.length = 0;
          const progress = [];
          const r = await c.client.callTool({ name: 'test_tool_with_progress', arguments: {} }, undefined, {
            onprogress: (p) => progress.push(p)
          });
          assert.deepEqual(wire, [0, 50, 100]);
          assert.deepEqual(progress.map((p) => p.progress), [0, 50, 100], `round ${round}`);
          assert.equal(progress[0].total, 100);
          assert.equal(text(r), String(r.content[0].text));
        }
      } finally {
        await c.close();
      }
    });

    test('answers a server-initiated elicitation', async () => {
      const seen = {};
      const c = await connect(kind, seen);
      try {
        const r = await c.client.callTool({ name: 'test_elicitation', arguments: { message: 'Who are you?' } });
        assert.equal(seen.elicitation.message, 'Who are you?');
        assert.match(text(r), /action=accept/);
        assert.match(text(r), /ada@example\.com/);
      } finally {
        await c.close();
      }
    });

    test('answers a sampling request', async () => {
      const seen = {};
      const c = await connect(kind, seen);
      try {
        const r = await c.client.callTool({ name: 'test_sampling', arguments: { prompt: 'Say hi' } });
        assert.equal(seen.sampling.messages[0].content.text, 'Say hi');
        assert.equal(text(r), 'LLM response: sampled by the test client');
      } finally {
        await c.close();
      }
    });

    test('answers roots/list', async () => {
      const seen = {};
      const c = await connect(kind, seen);
      try {
        // Written once as an input request; in a session it is a real roots/list request.
        const r = await c.client.callTool({ name: 'test_input_required_result_list_roots', arguments: {} });
        assert.ok(seen.roots);
        assert.equal(text(r), 'Found 1 root(s)');
      } finally {
        await c.close();
      }
    });

    test('logging and resource subscriptions', async () => {
      const c = await connect(kind);
      try {
        const logs = [];
        const updates = [];
        const { LoggingMessageNotificationSchema, ResourceUpdatedNotificationSchema } = await load('types.js');
        c.client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => logs.push(n.params));
        c.client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => updates.push(n.params));
        await c.client.setLoggingLevel('info');
        await c.client.callTool({ name: 'test_tool_with_logging', arguments: {} });
        assert.equal(logs.length, 3, JSON.stringify(logs));
        await c.client.subscribeResource({ uri: 'test://watched-resource' });
        await c.client.callTool({ name: 'test_trigger_resource_update', arguments: {} });
        for (let i = 0; i < 50 && updates.length === 0; i++) await new Promise((r) => setTimeout(r, 50));
        assert.deepEqual(updates, [{ uri: 'test://watched-resource' }]);
        await c.client.unsubscribeResource({ uri: 'test://watched-resource' });
      } finally {
        await c.close();
      }
    });
  });
}

describe('TypeScript SDK over streamable-http: resumption', () => {
  test('resumes an interrupted stream with Last-Event-ID', async () => {
    const c = await connect('streamable-http');
    try {
      const tokens = [];
      const r = await c.client.callTool({ name: 'test_reconnection', arguments: {} }, undefined, {
        onresumptiontoken: (t) => tokens.push(t),
        timeout: 20000
      });
      assert.match(text(r), /Reconnection test completed successfully/);
      // The priming event's id (…-0), then the result's id on the resumed stream.
      assert.ok(tokens.length >= 2, JSON.stringify(tokens));
      const stream = tokens[0].replace(/-\d+$/, '');
      assert.ok(tokens.every((t) => t.startsWith(stream + '-')), JSON.stringify(tokens));
    } finally {
      await c.close();
    }
  });

  test('a terminated session is gone', async () => {
    const c = await connect('streamable-http');
    const sid = c.transport.sessionId;
    await c.transport.terminateSession();
    const res = await fetch(base, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-session-id': sid,
        'mcp-protocol-version': '2025-11-25'
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' })
    });
    assert.equal(res.status, 404);
    await c.client.close();
  });
});
