import { describe, expect, it } from 'vitest';
import { app } from '../../src/app';
import { call } from '../helpers/http';

type Doc = {
  openapi: string;
  paths: Record<string, Record<string, { responses?: object; 'x-permission'?: string; security?: unknown[] }>>;
  components?: { securitySchemes?: object };
};

describe('GET /openapi.json', () => {
  it('is an OpenAPI 3.1 document listing every route the app serves', async () => {
    const res = await call('/openapi.json');
    expect(res.status).toBe(200);
    const doc = await res.json<Doc>();
    expect(doc.openapi).toBe('3.1.0');
    const documented = new Set(Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`)));
    // Every route registered on the app (except the documentation routes themselves) is documented.
    const served = app.routes
      .filter((r) => r.method !== 'ALL' && !['/openapi.json', '/docs', '/docs/style.css'].includes(r.path))
      .map((r) => `${r.method} ${r.path.replace(/:([A-Za-z_]+)(?:\{[^}]*\})?/g, '{$1}')}`); // `:url{.+}` (a Hono pattern) is `{url}`
    expect(served.length).toBeGreaterThan(1);
    for (const route of served) expect(documented, route).toContain(route);
  });

  it('documents responses, permission and security for each operation', async () => {
    const doc = await (await call('/openapi.json')).json<Doc>();
    expect(doc.components?.securitySchemes).toHaveProperty('bearerAuth');
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        expect(op.responses, `${method} ${path}`).toBeTruthy();
        expect(op['x-permission'], `${method} ${path} names its permission`).toBeTruthy();
      }
    }
    expect(doc.paths['/metrics']?.get?.security).toBeTruthy();
  });
});

describe('GET /docs', () => {
  it('serves a readable reference with no third-party assets and a strict CSP', async () => {
    const res = await call('/docs');
    expect(res.status).toBe(200);
    expect(res.headers.get('Content-Type')).toContain('text/html');
    expect(res.headers.get('Content-Security-Policy')).toContain("default-src 'none'");
    expect(res.headers.get('Content-Security-Policy')).toContain("style-src 'self'");
    const html = await res.text();
    expect(html).toContain('/health');
    expect(html).toContain('/metrics');
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/https?:\/\/(?!crawlgate\.dev)[a-z0-9.-]+\/[^"']*\.(js|css)/i);
    const css = await call('/docs/style.css');
    expect(css.headers.get('Content-Type')).toContain('text/css');
  });
});
