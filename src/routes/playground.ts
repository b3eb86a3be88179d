/**
 * GET /playground — the seed's "Accessing Playground with Username/Password" entry point: a page for
 * principals with `playground:access` that shows what they may crawl and how. The interactive
 * crawl form is the dashboard's (/dashboard/crawl; a caller with a dashboard session cookie and no
 * bearer token is redirected there); this route is the authenticated landing page the seed's client
 * reaches with its bearer token.
 */
import { z } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import { html } from 'hono/html';
import type { AppEnv } from '../env';
import { createRouter, problemResponses, protectedRoute } from '../http/openapi';
import { requestUrl } from '../http/request-target';
import { principalOf } from '../auth/principal';
import type { Permission } from '../auth/rbac';

const CRAWL_ROUTES: Array<{ path: string; permission: Permission; what: string }> = [
  { path: 'POST /crawl', permission: 'crawl:run', what: 'crawl up to MAX_URLS pages; Crawl4AI result shape' },
  { path: 'POST /crawl/stream', permission: 'crawl:run', what: 'the same, one NDJSON line per page as it is ready' },
  { path: 'POST /md', permission: 'crawl:run', what: 'markdown of one page (f = raw | fit | bm25, q = query)' },
  { path: 'POST /html', permission: 'crawl:run', what: 'cleaned HTML of one page' },
  { path: 'POST /screenshot', permission: 'crawl:screenshot', what: 'PNG screenshot (base64)' },
  { path: 'POST /pdf', permission: 'crawl:pdf', what: 'PDF of the page (base64)' },
  { path: 'POST /execute_js', permission: 'crawl:js', what: 'run scripts in the page' },
];

const PlaygroundSchema = z
  .object({
    principal: z.object({ id: z.string(), name: z.string(), kind: z.string() }),
    routes: z.array(z.object({ path: z.string(), permission: z.string(), allowed: z.boolean(), what: z.string() })),
  })
  .openapi('Playground');

/**
 * A browser with a dashboard session (and no bearer token) gets the interactive crawl page; the
 * dashboard checks the session and playground:access itself. Bearer callers are unchanged.
 */
const toDashboardWithSession: MiddlewareHandler<AppEnv> = async function toDashboardWithSession(c, next) {
  if (!c.get('principal') && /(?:^|;\s*)__Host-cg_session=/.test(c.req.header('Cookie') ?? '')) return c.redirect('/dashboard/crawl', 303);
  await next();
};

const playgroundRoute = protectedRoute({
  method: 'get',
  path: '/playground',
  summary: 'The playground landing page: what the caller may crawl, as HTML or JSON (Accept)',
  permission: 'playground:access',
  before: [toDashboardWithSession],
  responses: {
    200: {
      description: 'HTML page, or JSON with Accept: application/json',
      content: { 'text/html': { schema: z.string() }, 'application/json': { schema: PlaygroundSchema } },
    },
    303: { description: 'No bearer credential but a dashboard session cookie: to /dashboard/crawl' },
    ...problemResponses(401, 403, 429),
  },
});

export const playgroundRouter = createRouter().openapi(playgroundRoute, async (c) => {
  const p = principalOf(c);
  const routes = CRAWL_ROUTES.map((r) => ({ ...r, allowed: p.permissions.includes(r.permission) }));
  const body = { principal: { id: p.id, name: p.name, kind: p.kind }, routes };
  if ((c.req.header('Accept') ?? '').includes('application/json')) return c.json(body, 200);
  const page = await html`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>crawlgate playground</title>
<link rel="stylesheet" href="/docs/style.css"></head><body>
<h1>Playground</h1><p>Signed in as <strong>${p.name}</strong> (${p.kind}). Send requests with your bearer token:</p>
${routes.map((r) => html`<div class="op"><code>${r.path}</code> <span class="perm">${r.permission}</span> ${r.allowed ? '' : html`<em>(not granted)</em>`}<div>${r.what}</div></div>`)}
<pre>curl -X POST ${requestUrl(c).origin}/crawl -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \\
  -d '{"urls":["https://example.com"]}'</pre>
<p>Reference: <a href="/docs">/docs</a></p></body></html>`;
  return c.html(page, 200, {
    'Content-Security-Policy': "default-src 'none'; style-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  });
});
