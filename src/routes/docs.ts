/**
 * GET /openapi.json (OpenAPI 3.1 from the zod schemas) and GET /docs, a readable reference
 * rendered by the Worker itself: no CDN, no script, a same-origin stylesheet.
 */
import type { OpenAPIHono } from '@hono/zod-openapi';
import { html, raw } from 'hono/html';
import type { AppEnv } from '../env';
import { VERSION } from '../version';
import { requestUrl } from '../http/request-target';

type OpenApiDoc = ReturnType<OpenAPIHono<AppEnv>['getOpenAPI31Document']>;

const DOC_CSP = "default-src 'none'; style-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

const STYLE = `body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1d232a}
h1{font-size:1.6rem}h2{font-size:1.1rem;margin-top:2rem;border-bottom:1px solid #ddd}
.op{border:1px solid #ddd;border-radius:6px;padding:.6rem .9rem;margin:.8rem 0}
.m{display:inline-block;min-width:4.2rem;font-weight:700;font-family:ui-monospace,monospace}
.get{color:#0a6}.post{color:#06c}.patch,.put{color:#a60}.delete{color:#c22}
code,pre{font-family:ui-monospace,monospace;font-size:.85rem}pre{background:#f6f8fa;padding:.6rem;overflow:auto;border-radius:4px}
.perm{font-size:.8rem;background:#eef;border-radius:3px;padding:0 .4rem}.st{color:#555;font-size:.85rem}`;

/** Builds the OpenAPI 3.1 document for the whole app. */
export function openApiDocument(app: OpenAPIHono<AppEnv>, serverUrl: string): OpenApiDoc {
  app.openAPIRegistry.registerComponent('securitySchemes', 'bearerAuth', {
    type: 'http',
    scheme: 'bearer',
    description: 'An API key (cg_live_...) or a JWT access token from POST /auth/token',
  });
  app.openAPIRegistry.registerComponent('securitySchemes', 'apiKeyHeader', { type: 'apiKey', in: 'header', name: 'X-API-Key' });
  return app.getOpenAPI31Document({
    openapi: '3.1.0',
    info: {
      title: 'crawlgate',
      version: VERSION,
      description: 'Secure edge gateway for web-crawling APIs (Crawl4AI-compatible). Errors are RFC 9457 problem JSON.',
    },
    servers: [{ url: serverUrl }],
  });
}

function renderDocs(doc: OpenApiDoc) {
  const groups = new Map<string, string[]>();
  for (const [path, item] of Object.entries(doc.paths ?? {})) {
    for (const [method, op] of Object.entries(item as Record<string, Record<string, unknown>>)) {
      if (typeof op !== 'object' || !op || !('responses' in op)) continue;
      const group = path.split('/')[1] || 'root';
      const perm = (op['x-permission'] as string | undefined) ?? 'public';
      const statuses = Object.keys((op.responses as object) ?? {}).join(' ');
      const body = (op.requestBody as { content?: Record<string, { schema?: unknown }> } | undefined)?.content?.['application/json']
        ?.schema;
      const entry = html`<div class="op"><span class="m ${method}">${method.toUpperCase()}</span> <code>${path}</code>
        <span class="perm">${perm}</span><div>${(op.summary as string | undefined) ?? ''}</div>
        <div class="st">responses: ${statuses}</div>
        ${body ? html`<details><summary>request body schema</summary><pre>${JSON.stringify(body, null, 2)}</pre></details>` : ''}</div>`;
      const list = groups.get(group) ?? [];
      list.push(entry as unknown as string);
      groups.set(group, list);
    }
  }
  return html`<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>crawlgate API reference</title><link rel="stylesheet" href="/docs/style.css"></head><body>
<h1>crawlgate ${doc.info.version} — API reference</h1>
<p>${doc.info.description ?? ''} Machine-readable: <a href="/openapi.json">/openapi.json</a>.</p>
${raw([...groups.entries()].map(([g, ops]) => `<h2>/${g}</h2>${ops.join('')}`).join(''))}
</body></html>`;
}

/**
 * Mounts the document routes on the root app (they describe the app itself). Generating the
 * document walks every zod schema (~14 ms of CPU), so it is built once per isolate and origin and
 * served as prepared text afterwards (docs/performance.md "Profile").
 */
export function registerDocs(app: OpenAPIHono<AppEnv>): void {
  const docs = new Map<string, { json: string; page: Promise<string> }>();
  const prepared = (origin: string) => {
    let d = docs.get(origin);
    if (!d) {
      const doc = openApiDocument(app, origin);
      d = { json: JSON.stringify(doc), page: Promise.resolve(renderDocs(doc)).then(String) };
      if (docs.size >= 8) docs.clear(); // a handful of host names per deployment
      docs.set(origin, d);
    }
    return d;
  };
  app.get('/openapi.json', (c) => c.body(prepared(requestUrl(c).origin).json, 200, { 'Content-Type': 'application/json' }));
  app.get('/docs', async (c) => {
    const page = await prepared(requestUrl(c).origin).page;
    return c.html(page, 200, { 'Content-Security-Policy': DOC_CSP, 'Cache-Control': 'no-cache' });
  });
  app.get('/docs/style.css', (c) =>
    c.body(STYLE, 200, { 'Content-Type': 'text/css; charset=utf-8', 'Cache-Control': 'public, max-age=3600' }),
  );
}
