/** MCP endpoints: forwarded with gateway auth; tool calls get the HTTP routes' policy. */
import { describe, expect, it } from 'vitest';
import { problem } from '../helpers/http';
import { openMcpSession } from '../helpers/mcp';
import { callAs, credentialFor, newRequestId, originSaw } from '../helpers/principal';
import { inspectMcpMessage } from '../../src/crawl/mcp-policy';
import { TEST_VARS } from '../helpers/test-vars';
import { DEFAULT_OPTION_LIMITS } from '../../src/crawl/options/kinds';

const user = credentialFor({ id: 'key_mcp_user', permissions: ['crawl:run'] });
const other = credentialFor({ id: 'key_mcp_other', permissions: ['crawl:run'] });

function toolCall(name: string, args: Record<string, unknown>) {
  return { jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name, arguments: args } };
}

describe('MCP over HTTP', () => {
  it('streams /mcp/sse from the origin (the endpoint event arrives, leaky headers stripped)', async () => {
    const res = await callAs(user, '/mcp/sse');
    expect(res.status).toBe(200);
    expect(res.headers.get('Content-Type')).toContain('text/event-stream');
    expect(res.headers.get('Set-Cookie')).toBeNull();
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = '';
    while (!text.includes('\n\n')) {
      const { value, done } = await reader.read();
      if (done) break;
      text += value;
    }
    expect(text).toMatch(/data: \/mcp\/messages\/\?session_id=[0-9a-f]{32}/);
    await reader.cancel();
  });

  it('binds the SSE session to its opener: another tenant posting into it gets 404', async () => {
    const session = await openMcpSession(user);
    const rid = newRequestId('mcpother');
    const res = await callAs(other, `/mcp/messages/?session_id=${session}`, {
      json: toolCall('md', { url: 'https://example.com/' }),
      headers: { 'X-Request-Id': rid },
    });
    expect(res.status).toBe(404);
    expect(await originSaw(rid)).toBeNull();
    expect(
      (
        await callAs(user, '/mcp/messages/?session_id=ffffffffffffffffffffffffffffffff', {
          json: toolCall('md', { url: 'https://example.com/' }),
        })
      ).status,
    ).toBe(404);
  });

  it('needs a credential for every MCP endpoint', async () => {
    for (const path of ['/mcp/sse', '/mcp/schema', '/mcp/ws']) {
      expect((await callAs(null, path)).status).toBe(401);
    }
    expect((await callAs(null, '/mcp/messages/?session_id=abc', { json: toolCall('crawl', {}) })).status).toBe(401);
  });

  it('forwards an allowed tool call with its session id', async () => {
    const session = await openMcpSession(user);
    const rid = newRequestId('mcpok');
    const res = await callAs(user, `/mcp/messages/?session_id=${session}`, {
      json: toolCall('md', { url: 'https://example.com' }),
      headers: { 'X-Request-Id': rid },
    });
    expect(res.status).toBe(202);
    const seen = (await originSaw(rid))!;
    expect(seen.path).toBe(`/mcp/messages/?session_id=${session}`);
    expect(JSON.parse(seen.body).params.arguments.url).toBe('https://example.com/');
  });

  it('refuses execute_js through MCP without crawl:js', async () => {
    const session = await openMcpSession(user);
    const rid = newRequestId('mcpjs');
    const res = await callAs(user, `/mcp/messages/?session_id=${session}`, {
      json: toolCall('execute_js', { url: 'https://example.com/', scripts: ['1'] }),
      headers: { 'X-Request-Id': rid },
    });
    expect(res.status).toBe(403);
    expect((await problem(res)).code).toBe('insufficient_scope');
    expect(await originSaw(rid)).toBeNull();
  });

  it('refuses a private target through an MCP crawl tool', async () => {
    const session = await openMcpSession(user);
    const rid = newRequestId('mcpssrf');
    const res = await callAs(user, `/mcp/messages/?session_id=${session}`, {
      json: toolCall('crawl', { urls: ['http://169.254.169.254/'] }),
      headers: { 'X-Request-Id': rid },
    });
    expect(res.status).toBe(422);
    expect(await originSaw(rid)).toBeNull();
  });

  it('refuses unknown tools (fail closed)', async () => {
    const session = await openMcpSession(user);
    const res = await callAs(user, `/mcp/messages/?session_id=${session}`, { json: toolCall('config_dump', { code: 'x' }) });
    expect(res.status).toBe(403);
  });

  it('forwards /mcp/schema', async () => {
    const res = await callAs(user, '/mcp/schema');
    expect(res.status).toBe(200);
    expect(await res.json()).toHaveProperty('tools');
  });
});

describe("inspectMcpMessage (the WebSocket relay's check)", () => {
  const ctx = {
    permissions: ['crawl:run'] as const,
    maxUrls: 100,
    allowPrivateTargets: false,
    limits: DEFAULT_OPTION_LIMITS,
    originProfile: 'crawl4ai-0.9' as const,
  };
  it("shapes tool arguments for the origin's release like the HTTP routes: a field 0.9 refuses is refused here, not forwarded", () => {
    const withJs = toolCall('crawl', {
      urls: ['https://example.com/'],
      crawler_config: { type: 'CrawlerRunConfig', params: { js_code: 'document.title' } },
    });
    const coder = { ...ctx, permissions: ['crawl:run', 'crawl:js'] as ('crawl:run' | 'crawl:js')[] };
    const refused = inspectMcpMessage(JSON.stringify(withJs), coder);
    expect(refused.ok).toBe(false);
    if (refused.ok) return;
    expect(refused.error.code).toBe('origin_refuses_field');
    expect(refused.rpcCode).toBe(-32602);
    expect(refused.id).toBe(withJs.id);
    // The same call for a 0.8 origin, which still runs js_code, is forwarded with the field.
    const older = inspectMcpMessage(JSON.stringify(withJs), { ...coder, originProfile: 'crawl4ai-0.8' });
    expect(older.ok).toBe(true);
    if (older.ok) expect(older.message).toContain('"js_code":"document.title"');
  });
  it('passes non-tool messages unchanged and checks tool calls in batches', () => {
    const init = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: {} });
    expect(inspectMcpMessage(init, { ...ctx, permissions: [...ctx.permissions] })).toEqual({ ok: true, message: init, calls: [] });
    const batch = JSON.stringify([toolCall('md', { url: 'https://example.com/' }), toolCall('crawl', { urls: ['http://127.1/'] })]);
    const r = inspectMcpMessage(batch, { ...ctx, permissions: [...ctx.permissions] });
    expect(r.ok).toBe(false);
  });
});

describe('MCP over WebSocket (/mcp/ws)', () => {
  it('proxies the upgrade with gateway credentials and checks each tool call', async () => {
    const rid = newRequestId('ws');
    const res = await callAs(user, '/mcp/ws', { headers: { Upgrade: 'websocket', 'X-Request-Id': rid, Cookie: 'c=1' } });
    expect(res.status).toBe(101);
    const ws = res.webSocket!;
    ws.accept();
    const received: string[] = [];
    const two = new Promise<void>((resolve) => {
      ws.addEventListener('message', (ev) => {
        received.push(String(ev.data));
        if (received.length === 2) resolve();
      });
    });
    ws.send(JSON.stringify(toolCall('md', { url: 'https://EXAMPLE.com' })));
    ws.send(JSON.stringify(toolCall('execute_js', { url: 'https://example.com/', scripts: ['1'] })));
    await two;
    ws.close(1000, 'done');
    const parsed = received.map((m) => JSON.parse(m));
    const echo = parsed.find((m) => 'echo' in m);
    const refusal = parsed.find((m) => 'error' in m);
    expect(JSON.parse(echo.echo).params.arguments.url).toBe('https://example.com/');
    expect(refusal).toMatchObject({ id: 7, error: { data: { code: 'insufficient_scope' } } });
    const h = (await originSaw(rid))!.headers;
    expect(h.authorization).toBe(`Bearer ${TEST_VARS.ORIGIN_SECRET}`);
    expect(h['x-crawlgate-identity']).toBeTruthy();
    expect(h.cookie).toBeUndefined();
  });

  it('answers 400 to a plain GET without an upgrade', async () => {
    expect((await callAs(user, '/mcp/ws')).status).toBe(400);
  });
});
