/**
 * The shared security suite (STYLE.md habit 10, issue #19): driven by the app's own OpenAPI
 * document, every operation that names a permission (`x-permission` + `security`, i.e. declared with
 * `protectedRoute`) gets the cases its guard decides — before any body or parameter is looked at:
 *   no credential → 401, malformed / unknown key → 401, revoked key → 401,
 *   a valid key without the permission → 403 insufficient_scope,
 *   a key with the permission whose rate limit is spent → 429.
 * And a route the app serves that is neither a protected operation nor on the commented public
 * allow-list below fails this file, so a new route without a guard fails CI.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { app } from '../../src/app';
import { PERMISSIONS, type Permission } from '../../src/auth/rbac';
import { generateApiKey } from '../../src/keys/format';
import type { Env } from '../../src/env';
import { ADMIN_KEY, createKey, keysEnv, send } from '../keys/helpers';

interface Operation {
  'x-permission'?: string;
  security?: unknown[];
  parameters?: Array<{ in: string; name: string; required?: boolean }>;
}
interface Doc {
  paths: Record<string, Record<string, Operation>>;
}
interface Protected {
  method: string;
  path: string;
  /** Permissions the guard checks; empty for `authenticated` (any valid credential). */
  needs: Permission[];
  /** Required query parameters, filled with plausible values. */
  query: string[];
}

/**
 * Routes served without the API's credential, each for a stated reason. Anything else the app
 * registers must be a protected operation of /openapi.json.
 */
const PUBLIC_ROUTES: Array<{ route: string; why: string }> = [
  { route: 'GET /health', why: 'liveness for load balancers; ?deep=1 checks metrics:read in the handler' },
  { route: 'GET /openapi.json', why: 'the API description itself' },
  { route: 'GET /docs', why: 'the readable API reference' },
  { route: 'GET /docs/style.css', why: "the reference's stylesheet" },
  { route: 'POST /auth/token', why: 'login (password or refresh grant), login rate limit' },
  { route: 'POST /auth/refresh', why: 'the refresh token is the credential' },
  { route: 'POST /token', why: 'Crawl4AI alias: the API key is in the body' },
  { route: 'GET /.well-known/jwks.json', why: 'public verification keys' },
  { route: 'GET /.well-known/http-message-signatures-directory', why: 'public Web Bot Auth signing keys' },
  { route: 'GET /dashboard/login', why: 'the dashboard sign-in page' },
  { route: 'POST /dashboard/login', why: 'the dashboard sign-in form' },
  { route: 'GET /dashboard/static/app.css', why: 'static dashboard asset' },
  { route: 'GET /dashboard/static/app.js', why: 'static dashboard asset' },
  { route: 'GET /.well-known/oauth-authorization-server', why: 'OAuth metadata for MCP clients (RFC 8414)' },
  { route: 'GET /.well-known/oauth-protected-resource', why: 'protected resource metadata (RFC 9728)' },
  { route: 'GET /.well-known/oauth-protected-resource/mcp', why: 'protected resource metadata for /mcp (RFC 9728 §3.1)' },
  { route: 'POST /oauth/register', why: 'open dynamic client registration (RFC 7591), rate-limited per IP' },
  { route: 'POST /oauth/token', why: 'the code + PKCE verifier or the refresh token is the credential' },
  { route: 'GET /oauth/authorize', why: 'sign-in and consent page (dashboard session)' },
  { route: 'POST /oauth/authorize', why: 'consent decision: dashboard session + CSRF token' },
  { route: 'POST /oauth/authorize/login', why: 'sign-in form on the way to consent (login rate limit)' },
];
/**
 * Dashboard pages: guarded by the sealed session cookie (src/dashboard/guard.ts, its own suite in
 * test/dashboard/guard.test.ts) and calling this same API, which enforces the permissions.
 */
const SESSION_PREFIX = '/dashboard';

const PARAM_VALUES: Record<string, string> = {
  id: 'x',
  task_id: 'task_0123456789abcdef',
  username: 'someone',
  host: 'example.com',
  action: 'cancel',
  session_id: 'suite_session_0123',
};

/** A plausible id for each path parameter (the guard answers before any is validated). */
function fill(path: string): string {
  return path.replace(/\{([^}]+)\}/g, (_m, name: string) => {
    if (name === 'id' && path.startsWith('/jobs/')) return 'job_0123456789abcdef01234567';
    if (name === 'id' && path.startsWith('/exports/')) return 'exp_0123456789abcdef01234567';
    if (name === 'id' && path.includes('keys/')) return 'key_3kTMd9Xq1fP7aZbQ';
    return PARAM_VALUES[name] ?? 'x';
  });
}

async function openapi(): Promise<Doc> {
  const res = await send('/openapi.json');
  expect(res.status).toBe(200);
  return res.json<Doc>();
}

function protectedOperations(doc: Doc): Protected[] {
  const out: Protected[] = [];
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      if (!op.security || !op['x-permission']) continue;
      const words = op['x-permission'].split(' ');
      const needs = words.filter((w): w is Permission => (PERMISSIONS as readonly string[]).includes(w));
      // A protected operation names real permissions, or `authenticated`, and nothing else.
      expect(needs.length === words.length || op['x-permission'] === 'authenticated', `${method} ${path}: ${op['x-permission']}`).toBe(
        true,
      );
      const query = (op.parameters ?? []).filter((p) => p.in === 'query' && p.required).map((p) => p.name);
      out.push({ method: method.toUpperCase(), path, needs, query });
    }
  }
  return out;
}

let ipCounter = 0;
/** A fresh client address per request, so per-IP and failed-login limits never decide a case. */
function nextIp(): string {
  ipCounter += 1;
  return `198.18.${(ipCounter >> 8) & 255}.${ipCounter & 255}`;
}

/**
 * The 429 case runs with an origin configured: MCP message posts are charged by their handler
 * (per message, src/crawl/mcp-limits.ts), which needs an origin before it looks at the session;
 * an unknown session is charged and refused there before anything is sent (port 9 is never asked).
 */
const withOrigin = { ...keysEnv, ORIGIN_URL: 'http://127.0.0.1:9' } as Env;

/**
 * Bodies for the 429 case where the charge is the handler's: POST /mcp (the gateway's MCP server)
 * charges each post itself (src/mcp/server.ts); an `initialize` needs no session, so it reaches it.
 */
const LIMIT_BODIES: Record<string, unknown> = {
  'POST /mcp': {
    jsonrpc: '2.0',
    id: 1,
    method: 'initialize',
    params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'suite', version: '1' } },
  },
};

function hit(op: Protected, key: string | null, raw?: string, env?: Env): Promise<Response> {
  const headers: Record<string, string> = { 'CF-Connecting-IP': nextIp() };
  const body = env ? LIMIT_BODIES[`${op.method} ${op.path}`] : undefined;
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    headers.Accept = 'application/json, text/event-stream';
  }
  if (raw !== undefined) headers.Authorization = raw;
  else if (key !== null) headers.Authorization = `Bearer ${key}`;
  const search = op.query.length
    ? `?${new URLSearchParams(op.query.map((n): [string, string] => [n, PARAM_VALUES[n] ?? 'x'])).toString()}`
    : '';
  return send(fill(op.path) + search, {
    method: op.method,
    headers,
    ...(env ? { env } : {}),
    ...(body !== undefined ? { json: body } : {}),
  });
}

async function expectProblem(res: Response, status: number, code: string, what: string): Promise<void> {
  const text = await res.text();
  expect(res.status, `${what}: ${text.slice(0, 200)}`).toBe(status);
  expect(res.headers.get('Content-Type'), what).toBe('application/problem+json');
  expect((JSON.parse(text) as { code: string }).code, what).toBe(code);
}

let doc: Doc;
let ops: Protected[];
const keys = { revoked: '', withoutA: '', withoutB: '', limited: '' };

beforeAll(async () => {
  doc = await openapi();
  ops = protectedOperations(doc);
  const revoked = await createKey({ name: 'suite revoked', scopes: [...PERMISSIONS] });
  expect((await send(`/admin/keys/${revoked.id}`, { method: 'DELETE', key: ADMIN_KEY })).status).toBe(200);
  keys.revoked = revoked.key;
  keys.withoutA = (await createKey({ name: 'suite metrics only', scopes: ['metrics:read'] })).key;
  keys.withoutB = (await createKey({ name: 'suite hosts only', scopes: ['hosts:read'] })).key;
  keys.limited = (await createKey({ name: 'suite limited', scopes: [...PERMISSIONS], rate_limit: '1/minute' })).key;
}, 120_000);

describe('every protected operation of /openapi.json', () => {
  it("is counted: the suite covers exactly the document's protected operations", () => {
    const withSecurity = Object.values(doc.paths)
      .flatMap((o) => Object.values(o))
      .filter((op) => op.security && op.security.length > 0);
    expect(ops.length).toBeGreaterThan(0);
    expect(ops.length).toBe(withSecurity.length);
  });

  it('answers 401 problem JSON without a credential', async () => {
    for (const op of ops) await expectProblem(await hit(op, null), 401, 'invalid_credentials', `${op.method} ${op.path}`);
  }, 300_000);

  it('answers 401 to a malformed credential and to an unknown key', async () => {
    for (const op of ops) {
      await expectProblem(await hit(op, null, 'Bearer not a key'), 401, 'invalid_credentials', `${op.method} ${op.path} malformed`);
      await expectProblem(await hit(op, generateApiKey()), 401, 'invalid_credentials', `${op.method} ${op.path} unknown`);
    }
  }, 300_000);

  it('answers 401 to a revoked key', async () => {
    for (const op of ops) await expectProblem(await hit(op, keys.revoked), 401, 'invalid_credentials', `${op.method} ${op.path}`);
  }, 300_000);

  it('answers 403 insufficient_scope to a valid key without the permission', async () => {
    const checked = ops.filter((op) => op.needs.length > 0);
    for (const op of checked) {
      const key = op.needs.includes('metrics:read') ? keys.withoutB : keys.withoutA;
      const res = await hit(op, key);
      await expectProblem(res.clone(), 403, 'insufficient_scope', `${op.method} ${op.path}`);
      expect((await res.json<{ required: string[] }>()).required, `${op.method} ${op.path}`).toEqual(op.needs);
    }
    // Only `authenticated` operations (any valid credential) have no 403 case.
    expect(
      ops
        .filter((op) => op.needs.length === 0)
        .every((op) => doc.paths[op.path]?.[op.method.toLowerCase()]?.['x-permission'] === 'authenticated'),
    ).toBe(true);
  }, 300_000);

  it('answers 429 to a key holding the permission once its rate limit is spent', async () => {
    // The one request the limit allows (any route counts against the key's bucket).
    expect((await send('/auth/me', { key: keys.limited, headers: { 'CF-Connecting-IP': nextIp() }, env: withOrigin })).status).toBe(200);
    for (const op of ops) {
      const res = await hit(op, keys.limited, undefined, withOrigin);
      await expectProblem(res.clone(), 429, 'rate_limited', `${op.method} ${op.path}`);
      expect(Number(res.headers.get('Retry-After')), `${op.method} ${op.path}`).toBeGreaterThan(0);
    }
  }, 300_000);
});

describe('routes the app serves', () => {
  it('are each a protected operation of /openapi.json or on the public allow-list', () => {
    const guarded = new Set(ops.map((op) => `${op.method} ${op.path}`));
    const allowed = new Set(PUBLIC_ROUTES.map((p) => p.route));
    const served = [
      ...new Set(
        app.routes.filter((r) => r.method !== 'ALL').map((r) => `${r.method} ${r.path.replace(/:([A-Za-z_]+)(\{[^}]*\})?/g, '{$1}')}`),
      ),
    ];
    const unguarded = served.filter(
      (r) => !guarded.has(r) && !allowed.has(r) && !r.split(' ')[1]!.startsWith(`${SESSION_PREFIX}/`) && r.split(' ')[1] !== SESSION_PREFIX,
    );
    expect(unguarded).toEqual([]);
    // The allow-list names only routes that exist and are public in the document (no stale entries).
    for (const p of PUBLIC_ROUTES) expect(served, p.route).toContain(p.route);
  });
});
