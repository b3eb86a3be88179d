/**
 * A 5,000-deep JSON body is 422 on every route that reads JSON (issue #26): the one strict reading
 * (src/lib/strict-json.ts, depth ≤ 64) refuses it before any validator or recursive walker sees it.
 * The routes are taken from the app's own OpenAPI registry, so a new JSON route is covered too.
 */
import { describe, expect, it, vi } from 'vitest';
import { app } from '../../src/app';
import { PERMISSIONS } from '../../src/auth/rbac';
import { problem } from '../helpers/http';
import { callAs, credentialFor } from '../helpers/principal';

// Several sequential requests with fresh Durable Objects each; the shared test machine can be slow.
vi.setConfig({ testTimeout: 60_000 });

const DEEP_ARRAY = '['.repeat(5000) + ']'.repeat(5000);
const DEEP_OBJECT = '{"a":'.repeat(5000) + '1' + '}'.repeat(5000);
const DEEP_IN_FIELD = `{"urls":["https://example.com"],"crawler_config":${'{"x":'.repeat(5000)}1${'}'.repeat(5000)}}`;

interface JsonRoute {
  method: string;
  path: string;
}

function jsonRoutes(): JsonRoute[] {
  const out: JsonRoute[] = [];
  for (const def of app.openAPIRegistry.definitions) {
    if (def.type !== 'route') continue;
    const content = (def.route.request?.body as { content?: Record<string, unknown> } | undefined)?.content;
    if (!content || !('application/json' in content)) continue;
    out.push({ method: def.route.method.toUpperCase(), path: def.route.path.replace(/\{[^}]+\}/g, 'x1') });
  }
  // Routes that read JSON without declaring it in the document (Crawl4AI's MCP SSE messages).
  out.push({ method: 'POST', path: '/mcp/messages?session_id=s1' }, { method: 'POST', path: '/mcp/messages/?session_id=s1' });
  return out;
}

describe('5,000-deep JSON bodies', () => {
  const routes = jsonRoutes();
  const everything = credentialFor({ id: `key_deep_${crypto.randomUUID().slice(0, 8)}`, permissions: [...PERMISSIONS], roles: ['admin'] });

  it('covers the JSON routes of the API', () => {
    const names = routes.map((r) => `${r.method} ${r.path}`);
    for (const expected of [
      'POST /crawl',
      'POST /md',
      'POST /crawl/job',
      'POST /jobs',
      'POST /auth/token',
      'POST /token',
      'POST /admin/keys',
      'PATCH /admin/users/x1',
      'POST /exports',
    ]) {
      expect(names).toContain(expected);
    }
  });

  it.each([
    ['an array', DEEP_ARRAY],
    ['an object', DEEP_OBJECT],
    ['a field', DEEP_IN_FIELD],
  ])('nested as %s: 422 validation_failed naming the depth on every JSON route', async (_label, body) => {
    for (const route of routes) {
      const res = await callAs(everything, route.path, { method: route.method, headers: { 'Content-Type': 'application/json' }, body });
      const p = await problem(res);
      expect({ route: `${route.method} ${route.path}`, status: res.status, code: p.code }).toEqual({
        route: `${route.method} ${route.path}`,
        status: 422,
        code: 'validation_failed',
      });
      expect(p.errors).toEqual([expect.objectContaining({ reason: 'too_deep' })]);
    }
  });

  it('also refuses more than 100,000 values in one body with 422', async () => {
    const res = await callAs(everything, '/crawl', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: `{"urls":["https://example.com"],"x":[${'0,'.repeat(100_000)}0]}`,
      vars: { MAX_BODY_BYTES: '1000000' },
    });
    expect(res.status).toBe(422);
    expect((await problem(res)).errors).toEqual([expect.objectContaining({ reason: 'too_large' })]);
  });
});
