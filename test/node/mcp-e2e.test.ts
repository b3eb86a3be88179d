/**
 * MCP at the edge, black box through `wrangler dev` (issue #23 "Must show") with the official MCP SDK
 * *client* over Streamable HTTP, crawling a local fixture site on the edge engines (no origin):
 *  - with API keys: lists the tools; crawl, md and screenshot work; a key without crawl:screenshot
 *    gets a tool error; a 5/minute key is limited; every call is in the audit log;
 *  - with OAuth 2.1: the same client registers (DCR), sends the user through PKCE + consent (posted
 *    as the signed-in dashboard user), exchanges the code, and calls a tool with the granted scope
 *    only; revoking the grant at /grants stops the next call.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer as createHttpServer, type Server } from 'node:http';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js';
import type { OAuthClientInformationMixed, OAuthClientMetadata, OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js';
import { TEST_VARS } from '../helpers/test-vars';
import { startDevServer, type DevServer } from '../helpers/wrangler-dev';
import { hashPassword } from '../../scripts/secrets';

const ADMIN = 'mcp-admin';
const PASSWORD = `pw-${Math.random().toString(36).slice(2)}-mcp`;
const REDIRECT = 'http://127.0.0.1:9/callback'; // never contacted: the test reads the code from Location
let server: DevServer | undefined;
let site: Server | undefined;
let base = '';
let siteUrl = '';
let adminToken = '';

type ToolResult = {
  isError?: boolean;
  content: Array<{ type: string; text?: string; data?: string; mimeType?: string }>;
  structuredContent?: Record<string, unknown>;
};

async function api(path: string, init: RequestInit & { token?: string; json?: unknown } = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if (init.token) headers.set('Authorization', `Bearer ${init.token}`);
  let body = init.body;
  if (init.json !== undefined) {
    headers.set('Content-Type', 'application/json');
    body = JSON.stringify(init.json);
  }
  return fetch(base + path, { ...init, headers, body, redirect: 'manual' });
}

async function createKey(name: string, scopes: string[], rateLimit?: string): Promise<string> {
  const res = await api('/admin/keys', {
    method: 'POST',
    token: adminToken,
    json: { name, scopes, ...(rateLimit ? { rate_limit: rateLimit } : {}) },
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { key: string }).key;
}

async function keyClient(key: string): Promise<Client> {
  const client = new Client({ name: 'e2e', version: '1.0.0' });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(`${base}/mcp`), { requestInit: { headers: { Authorization: `Bearer ${key}` } } }),
  );
  return client;
}

const call = async (client: Client, name: string, args: Record<string, unknown>) =>
  (await client.callTool({ name, arguments: args })) as ToolResult;

/** Audit rows for an action, polled until at least `min` are stored (the writes are batched in waitUntil). */
async function auditRows(action: string, min: number): Promise<Array<Record<string, unknown>>> {
  let items: Array<Record<string, unknown>> = [];
  for (let i = 0; i < 40; i++) {
    const res = await api(`/admin/audit?action=${action}&limit=200`, { token: adminToken });
    items = ((await res.json()) as { events?: Array<Record<string, unknown>> }).events ?? [];
    if (items.length >= min) return items;
    await new Promise((r) => setTimeout(r, 250));
  }
  return items;
}

beforeAll(async () => {
  site = createHttpServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html' });
    res.end(
      '<html><head><title>MCP fixture</title></head><body><h1>Hello from the MCP fixture</h1><p>Some <b>text</b> to crawl.</p></body></html>',
    );
  });
  await new Promise<void>((resolve) => site?.listen(0, '127.0.0.1', () => resolve()));
  siteUrl = `http://127.0.0.1:${(site.address() as { port: number }).port}/`;
  server = await startDevServer({
    vars: {
      ...TEST_VARS,
      ENVIRONMENT: 'development',
      TRUSTED_HOSTS: '',
      ADMIN_USERNAME: ADMIN,
      ADMIN_PASSWORD_HASH: await hashPassword(PASSWORD),
      ORIGIN_URL: '',
      ALLOW_PRIVATE_TARGETS: 'true',
      RESPECT_ROBOTS: 'false',
    },
    persistPrefix: 'cg-mcp-',
    readyTimeoutMs: 200_000, // a loaded shared machine starts wrangler slowly
  });
  base = server.base;
  const login = await api('/auth/token', { method: 'POST', json: { username: ADMIN, password: PASSWORD, grant_type: 'password' } });
  expect(login.status).toBe(200);
  adminToken = ((await login.json()) as { access_token: string }).access_token;
}, 240_000);

afterAll(() => {
  site?.close();
  server?.stop();
});

describe('MCP over Streamable HTTP with API keys', () => {
  it('lists the tools and runs crawl, md and screenshot on the fixture site', async () => {
    const key = await createKey('mcp-full', ['crawl:run', 'crawl:screenshot']);
    const client = await keyClient(key);
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual([
      'crawl',
      'execute_js',
      'html',
      'job_results',
      'job_status',
      'job_submit',
      'md',
      'pdf',
      'screenshot',
    ]);
    expect(tools.find((t) => t.name === 'md')?.inputSchema.required).toEqual(['url']);

    const crawled = await call(client, 'crawl', { urls: [siteUrl], engine: 'fetch' });
    expect(crawled.isError).toBeFalsy();
    const results = (crawled.structuredContent as { results: Array<{ success: boolean; markdown: { raw_markdown: string } }> }).results;
    expect(results[0]?.success).toBe(true);
    expect(results[0]?.markdown.raw_markdown).toContain('Hello from the MCP fixture');

    const md = await call(client, 'md', { url: siteUrl });
    expect(md.isError).toBeFalsy();
    expect(md.content[0]?.text).toContain('Hello from the MCP fixture');

    const shot = await call(client, 'screenshot', { url: siteUrl });
    expect(shot.isError, JSON.stringify(shot.content).slice(0, 300)).toBeFalsy();
    expect(shot.content[0]?.type).toBe('image');
    expect(shot.content[0]?.mimeType).toBe('image/png');
    expect(
      Buffer.from(shot.content[0]?.data ?? '', 'base64')
        .subarray(0, 8)
        .toString('hex'),
    ).toBe('89504e470d0a1a0a');
    await client.close();
  }, 120_000);

  it('answers a tool error naming the missing permission to a key without crawl:screenshot', async () => {
    const client = await keyClient(await createKey('mcp-no-shots', ['crawl:run']));
    const shot = await call(client, 'screenshot', { url: siteUrl });
    expect(shot.isError).toBe(true);
    expect(shot.content[0]?.text).toContain('insufficient_scope (HTTP 403)');
    expect(shot.content[0]?.text).toContain('crawl:screenshot');
    await client.close();
  }, 60_000);

  it('limits a 5/minute key: a tool call past the limit is a tool error with a retry time', async () => {
    const client = await keyClient(await createKey('mcp-slow', ['crawl:run'], '5/minute'));
    const outcomes: ToolResult[] = [];
    for (let i = 0; i < 6; i++) outcomes.push(await call(client, 'md', { url: siteUrl, engine: 'fetch' }));
    expect(outcomes[0]?.isError).toBeFalsy();
    const limited = outcomes.find((o) => o.isError);
    expect(limited?.structuredContent).toMatchObject({ status: 429, code: 'rate_limited' });
    expect(limited?.content[0]?.text).toMatch(/Retry after \d+ s\./);
    await client.close().catch(() => {});
  }, 60_000);

  it("audits every tool call (mcp_tool_called) and its route's crawl", async () => {
    // 3 calls in the first test, 1 in the second, 6 in the third: one row each.
    const calls = await auditRows('mcp_tool_called', 10);
    expect(calls.length).toBeGreaterThanOrEqual(10);
    const denied = calls.filter((r) => r.outcome === 'denied');
    expect(denied.some((r) => r.reason === 'insufficient_scope')).toBe(true);
    expect(denied.some((r) => r.reason === 'rate_limited')).toBe(true);
    const crawls = await auditRows('crawl_requested', 5);
    expect(crawls.some((r) => String(r.route) === '/screenshot')).toBe(true);
  }, 60_000);
});

/** An in-memory OAuth client, as a desktop MCP client keeps it; the "browser" step is done by the test. */
class TestOAuthClient implements OAuthClientProvider {
  info?: OAuthClientInformationMixed;
  saved?: OAuthTokens;
  verifier = '';
  authorizationUrl?: URL;
  get redirectUrl() {
    return REDIRECT;
  }
  get clientMetadata(): OAuthClientMetadata {
    return {
      client_name: 'E2E MCP client',
      redirect_uris: [REDIRECT],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    };
  }
  clientInformation() {
    return this.info;
  }
  saveClientInformation(info: OAuthClientInformationMixed) {
    this.info = info;
  }
  tokens() {
    return this.saved;
  }
  saveTokens(tokens: OAuthTokens) {
    this.saved = tokens;
  }
  redirectToAuthorization(url: URL) {
    this.authorizationUrl = url;
  }
  saveCodeVerifier(v: string) {
    this.verifier = v;
  }
  codeVerifier() {
    return this.verifier;
  }
}

function cookiesOf(res: Response): string[] {
  const all = (res.headers as unknown as { getSetCookie(): string[] }).getSetCookie();
  return all.map((c: string) => c.split(';')[0] as string).filter((c: string) => !c.endsWith('='));
}

describe('MCP with OAuth 2.1 (DCR, PKCE, consent as the signed-in user)', () => {
  it('authorizes a client for crawl:run only, runs md, refuses screenshot, and stops after the grant is revoked', async () => {
    const oauth = new TestOAuthClient();
    const url = new URL(`${base}/mcp`);
    const first = new Client({ name: 'e2e-oauth', version: '1.0.0' });
    await expect(first.connect(new StreamableHTTPClientTransport(url, { authProvider: oauth }))).rejects.toThrow(/Unauthorized/i);
    expect(oauth.info?.client_id).toBeTruthy(); // registered at /oauth/register
    const authUrl = oauth.authorizationUrl!;
    expect(authUrl.pathname).toBe('/oauth/authorize');
    expect(authUrl.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authUrl.searchParams.get('resource')).toBe(`${base}/mcp`);

    // The user signs in to the dashboard, opens the authorization URL, and allows crawl:run only.
    const login = await fetch(`${base}/dashboard/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Origin: base },
      body: new URLSearchParams({ username: ADMIN, password: PASSWORD }),
    });
    expect(login.status).toBe(303);
    const session = cookiesOf(login);
    const page = await fetch(authUrl, { headers: { Cookie: session.join('; ') }, redirect: 'manual' });
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('E2E MCP client');
    expect(html).toContain('This sends access to an app on your computer');
    const handle = /name="handle" value="([^"]+)"/.exec(html)?.[1];
    const csrf = /name="csrf" value="([^"]+)"/.exec(html)?.[1];
    expect(handle && csrf).toBeTruthy();
    const consentCookies = [...session, ...cookiesOf(page)];
    const decided = await fetch(`${base}/oauth/authorize`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Origin: base, Cookie: consentCookies.join('; ') },
      body: new URLSearchParams({ csrf: csrf!, handle: handle!, decision: 'approve', scope: 'crawl:run' }),
    });
    expect(decided.status).toBe(302);
    const back = new URL(decided.headers.get('Location')!);
    expect(`${back.origin}${back.pathname}`).toBe(REDIRECT);
    expect(back.searchParams.get('iss')).toBe(base);
    const code = back.searchParams.get('code')!;

    const transport = new StreamableHTTPClientTransport(url, { authProvider: oauth });
    await transport.finishAuth(code); // token exchange with the PKCE verifier
    expect(oauth.saved?.access_token).toBeTruthy();
    expect(oauth.saved?.scope).toBe('crawl:run');
    const client = new Client({ name: 'e2e-oauth', version: '1.0.0' });
    await client.connect(transport);
    const md = await call(client, 'md', { url: siteUrl, engine: 'fetch' });
    expect(md.isError).toBeFalsy();
    expect(md.content[0]?.text).toContain('Hello from the MCP fixture');
    // The admin holds crawl:screenshot, but the grant does not.
    const shot = await call(client, 'screenshot', { url: siteUrl });
    expect(shot.isError).toBe(true);
    expect(shot.content[0]?.text).toContain('crawl:screenshot');

    // The grant is listed for its user and revoked there; the next call is refused.
    const grants = (await (await api('/grants', { token: adminToken })).json()) as {
      items: Array<{ id: string; client_name: string; scopes: string[]; revoked_at: string | null }>;
    };
    const grant = grants.items.find((g) => g.client_name === 'E2E MCP client' && g.revoked_at === null);
    expect(grant?.scopes).toEqual(['crawl:run']);
    const revoked = await api(`/grants/${grant!.id}`, { method: 'DELETE', token: adminToken });
    expect(revoked.status).toBe(200);
    await expect(call(client, 'md', { url: siteUrl, engine: 'fetch' })).rejects.toThrow();
    const direct = await fetch(`${base}/mcp`, {
      method: 'POST',
      headers: {
        Authorization: `Bearer ${oauth.saved!.access_token}`,
        'Content-Type': 'application/json',
        Accept: 'application/json, text/event-stream',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} }),
    });
    expect(direct.status).toBe(401);
    expect(direct.headers.get('WWW-Authenticate')).toContain('resource_metadata=');
    const rows = await auditRows('grant_revoked', 1);
    expect(rows.some((r) => JSON.stringify(r).includes(grant!.id))).toBe(true);
    await client.close().catch(() => {});
  }, 120_000);
});
