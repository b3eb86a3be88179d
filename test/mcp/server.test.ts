/** POST/DELETE /mcp: the gateway's own MCP server (Streamable HTTP), tool calls through the HTTP routes. */
import { describe, expect, it } from 'vitest';
import { callAs, credentialFor, newRequestId, originSaw } from '../helpers/principal';
import { waitForAuditRows } from '../helpers/audit';
import { TOOLS } from '../../src/mcp/tools';

const MCP_HEADERS = { Accept: 'application/json, text/event-stream', 'MCP-Protocol-Version': '2025-11-25' };

function rpc(method: string, params: Record<string, unknown> = {}, id: number | null = 1) {
  return id === null ? { jsonrpc: '2.0', method, params } : { jsonrpc: '2.0', id, method, params };
}

async function post(credential: string | null, body: unknown, session?: string, headers: Record<string, string> = {}) {
  return callAs(credential, '/mcp', {
    json: body,
    headers: { ...MCP_HEADERS, ...(session ? { 'Mcp-Session-Id': session } : {}), ...headers },
  });
}

async function initialize(credential: string): Promise<string> {
  const res = await post(
    credential,
    rpc('initialize', { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'test', version: '1' } }),
  );
  expect(res.status).toBe(200);
  const body = await res.json<{ result: { serverInfo: { name: string }; capabilities: Record<string, unknown> } }>();
  expect(body.result.serverInfo.name).toBe('crawlgate');
  expect(body.result.capabilities.tools).toBeDefined();
  const session = res.headers.get('Mcp-Session-Id');
  expect(session).toMatch(/^mcs_/);
  return session!;
}

async function callTool(credential: string, session: string, name: string, args: Record<string, unknown>, rid = newRequestId('mcptool')) {
  const res = await post(credential, rpc('tools/call', { name, arguments: args }), session, { 'X-Request-Id': rid });
  expect(res.status).toBe(200);
  const body = await res.json<{
    result?: { isError?: boolean; content: Array<{ type: string; text?: string }>; structuredContent?: Record<string, unknown> };
    error?: { code: number; message: string };
  }>();
  return { rid, body };
}

describe('POST /mcp', () => {
  const crawler = credentialFor({ id: 'key_mcp_edge_crawler', permissions: ['crawl:run', 'jobs:read', 'jobs:write'] });
  const other = credentialFor({ id: 'key_mcp_edge_other', permissions: ['crawl:run'] });

  it('answers 401 with a challenge naming the protected resource metadata', async () => {
    const res = await post(null, rpc('initialize'));
    expect(res.status).toBe(401);
    expect(res.headers.get('WWW-Authenticate')).toBe(
      'Bearer resource_metadata="https://crawlgate.test/.well-known/oauth-protected-resource/mcp"',
    );
    const bad = await post('cg_live_notakey', rpc('initialize'));
    expect(bad.status).toBe(401);
    expect(bad.headers.get('WWW-Authenticate')).toContain(
      'resource_metadata="https://crawlgate.test/.well-known/oauth-protected-resource/mcp"',
    );
  });

  it("opens a session on initialize and refuses later messages without it (400) or with another tenant's (404)", async () => {
    const session = await initialize(crawler);
    expect((await post(crawler, rpc('tools/list'))).status).toBe(400);
    expect((await post(other, rpc('tools/list'), session)).status).toBe(404);
    expect((await post(crawler, rpc('tools/list'), 'mcs_forged')).status).toBe(404);
    const notified = await post(crawler, rpc('notifications/initialized', {}, null), session);
    expect(notified.status).toBe(202);
  });

  it("lists the nine tools with input schemas from the HTTP API's zod schemas", async () => {
    const session = await initialize(crawler);
    const res = await post(crawler, rpc('tools/list'), session);
    const { result } = await res.json<{
      result: {
        tools: Array<{ name: string; inputSchema: { type: string; required?: string[]; properties: Record<string, { enum?: string[] }> } }>;
      };
    }>();
    expect(result.tools.map((t) => t.name)).toEqual([
      'crawl',
      'md',
      'html',
      'screenshot',
      'pdf',
      'execute_js',
      'job_submit',
      'job_status',
      'job_results',
    ]);
    const md = result.tools.find((t) => t.name === 'md')!;
    expect(md.inputSchema.type).toBe('object');
    expect(md.inputSchema.required).toEqual(['url']);
    expect(md.inputSchema.properties.f?.enum).toEqual(['fit', 'raw', 'bm25', 'llm']);
    expect(result.tools.find((t) => t.name === 'crawl')!.inputSchema.required).toEqual(['urls']);
    expect(TOOLS).toHaveLength(9);
  });

  it("runs a tool call as its HTTP route: the origin receives the gateway's re-serialised /md body", async () => {
    const session = await initialize(crawler);
    const { rid, body } = await callTool(crawler, session, 'md', { url: 'https://example.com/page', f: 'fit' });
    expect(body.result?.isError).toBeUndefined();
    expect(body.result?.content[0]).toEqual({ type: 'text', text: '# Hello' });
    const saw = await originSaw(`${rid}.t1`);
    expect(saw?.path).toBe('/md');
    expect(JSON.parse(saw!.body)).toEqual({ url: 'https://example.com/page', f: 'fit' });
    expect(JSON.stringify(saw?.headers)).not.toContain(crawler); // the client's credential never reaches the origin
    const rows = await waitForAuditRows(rid, 1);
    expect(rows.some((r) => r.action === 'mcp_tool_called' && r.outcome === 'success' && r.actor_id === 'key_mcp_edge_crawler')).toBe(true);
    const inner = await waitForAuditRows(`${rid}.t1`, 1);
    expect(inner.some((r) => r.action === 'crawl_requested' && r.route === '/md')).toBe(true);
  });

  it('turns a refused route into a tool error naming the reason (no crawl:screenshot → insufficient_scope)', async () => {
    const session = await initialize(crawler);
    const { rid, body } = await callTool(crawler, session, 'screenshot', { url: 'https://example.com/' });
    expect(body.result?.isError).toBe(true);
    expect(body.result?.content[0]?.text).toContain('insufficient_scope (HTTP 403)');
    expect(body.result?.structuredContent).toMatchObject({ status: 403, code: 'insufficient_scope', required: ['crawl:screenshot'] });
    expect(await originSaw(`${rid}.t1`)).toBeNull();
    const rows = await waitForAuditRows(rid, 1);
    expect(rows.find((r) => r.action === 'mcp_tool_called')).toMatchObject({
      outcome: 'denied',
      reason: 'insufficient_scope',
      status: 403,
    });
  });

  it('applies the crawl-option policy and egress checks inside tool calls', async () => {
    const session = await initialize(crawler);
    const egress = await callTool(crawler, session, 'md', { url: 'http://169.254.169.254/latest/meta-data/' });
    expect(egress.body.result?.isError).toBe(true);
    expect(egress.body.result?.structuredContent).toMatchObject({ code: 'url_not_allowed' });
    const policy = await callTool(crawler, session, 'crawl', {
      urls: ['https://example.com/'],
      crawler_config: { type: 'CrawlerRunConfig', params: { js_code: 'alert(1)' } },
    });
    expect(policy.body.result?.isError).toBe(true);
    expect(policy.body.result?.structuredContent).toMatchObject({ status: 403, code: 'insufficient_scope' });
    expect(await originSaw(`${policy.rid}.t1`)).toBeNull();
  });

  it('answers an unknown tool with a JSON-RPC error, not a tool result', async () => {
    const session = await initialize(crawler);
    const { body } = await callTool(crawler, session, 'rm_rf', {});
    expect(body.error?.code).toBe(-32602);
  });

  it('charges a tool call once, like its route: a 3/minute key gets initialize, tools/list, one call, then a rate-limited tool error with Retry-After', async () => {
    const slow = credentialFor({
      id: `key_mcp_slow_${crypto.randomUUID().slice(0, 8)}`,
      permissions: ['crawl:run'],
      rateLimit: '3/minute',
    });
    const session = await initialize(slow);
    expect((await post(slow, rpc('tools/list'), session)).status).toBe(200);
    const first = await callTool(slow, session, 'md', { url: 'https://example.com/a' });
    expect(first.body.result?.isError).toBeUndefined();
    const second = await callTool(slow, session, 'md', { url: 'https://example.com/b' });
    expect(second.body.result?.isError).toBe(true);
    expect(second.body.result?.structuredContent).toMatchObject({ status: 429, code: 'rate_limited' });
    expect(second.body.result?.structuredContent?.retry_after_seconds).toBeGreaterThan(0);
    expect(second.body.result?.content[0]?.text).toMatch(/Retry after \d+ s\./);
    expect(await originSaw(`${second.rid}.t1`)).toBeNull();
    // A protocol message past the limit is the HTTP 429 itself.
    expect((await post(slow, rpc('tools/list'), session)).status).toBe(429);
  });

  it("ends a session with DELETE (only the caller's own) and offers no GET stream", async () => {
    const session = await initialize(crawler);
    expect((await callAs(other, '/mcp', { method: 'DELETE', headers: { 'Mcp-Session-Id': session } })).status).toBe(404);
    expect((await callAs(crawler, '/mcp', { method: 'DELETE', headers: { 'Mcp-Session-Id': session } })).status).toBe(200);
    const get = await callAs(crawler, '/mcp', { headers: { Accept: 'text/event-stream' } });
    expect(get.status).toBe(405);
  });
});

describe('GET /mcp/schema without an origin', () => {
  it("lists the gateway's own tools and schemas", async () => {
    const key = credentialFor({ id: 'key_mcp_schema', permissions: ['crawl:run'] });
    const res = await callAs(key, '/mcp/schema', { vars: { ORIGIN_URL: '' } });
    expect(res.status).toBe(200);
    const body = await res.json<{ tools: Array<{ name: string; _meta: Record<string, string> }> }>();
    expect(body.tools).toHaveLength(9);
    expect(body.tools.find((t) => t.name === 'execute_js')?._meta['crawlgate/permission']).toBe('crawl:js');
  });
});
