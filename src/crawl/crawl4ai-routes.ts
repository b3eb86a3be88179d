/**
 * The rest of Crawl4AI 0.9's server API (deploy/docker/server.py, job.py), each route with its
 * permission (docs/crawling.md "Crawl4AI 0.9 routes"):
 *  - LLM routes `GET /llm/{url}`, `POST /llm/job`, `GET /llm/job/{id}`, `GET /ask` need `crawl:llm`;
 *    the provider is chosen by name only (a `base_url` is refused). They need an origin: the edge
 *    engines have no LLM (501).
 *  - `POST /config/dump` validates a `{type, params}` config with the crawl-option policy (the
 *    permissions of the fields it names) and the origin profile; at the edge the gateway echoes the
 *    normalised config itself.
 *  - `GET /schema`, `GET /hooks/info`: forwarded with an origin, answered by the gateway without one.
 *  - `GET /artifacts/{id}`: only the tenant whose screenshot/PDF produced it (artifacts.ts).
 *  - `/monitor/*`: monitor-routes.ts.
 */
import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { AppEnv } from '../env';
import { createRouter, jsonBody, problemResponses, protectedRoute } from '../http/openapi';
import { GatewayError } from '../http/errors';
import { principalOf, tenantOf } from '../auth/principal';
import { requestUrl } from '../http/request-target';
import { audit } from '../audit/audit';
import { forwardToOrigin } from './origin/forward';
import { passThrough } from './handle';
import { checkBody } from './options/check';
import { PRINTABLE } from './options/kinds';
import { policyContextFor, policyError } from './policy';
import { toOrigin } from './origin-body';
import { strictBody, strictJsonBody } from './strict-body';
import { AnyJsonSchema, ConfigObjectSchema, TaskIdSchema } from './schemas';
import { checkTargetUrl } from './egress';
import { isRawHtml, MAX_RAW_HTML_CHARS } from '../engines/raw-html';
import { ownsTask, recordTask } from './origin/ownership';
import { ARTIFACT_ID, ownsArtifact } from './artifacts';
import { edgeHooksInfo, edgeSchema } from './c4ai-edge-info';
import { monitorRouter } from './monitor-routes';

const tags = ['Crawling'];
const json = (description: string) => ({ 200: { description, content: { 'application/json': { schema: AnyJsonSchema } } } });
const ERRORS = problemResponses(400, 401, 403, 404, 422, 429, 501, 502, 503, 504);

/** An LLM provider by name (`openai/gpt-4o-mini`); its endpoint and key are the origin's. */
const Provider = z
  .string()
  .max(200)
  .regex(/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.:@/-]+$/, 'must be a provider name like openai/gpt-4o-mini');

function noLlm(): GatewayError {
  return new GatewayError(
    'not_implemented',
    'LLM routes need an origin crawler with an LLM configured (ORIGIN_URL); the edge engines have no LLM',
  );
}

function refuseBaseUrl(present: boolean, path: string): void {
  if (!present) return;
  throw new GatewayError(
    'validation_failed',
    `Invalid request: ${path}: base_url is not accepted; select the LLM provider by name (Crawl4AI 0.9)`,
    { extras: { errors: [{ path, message: 'not allowed through the gateway' }] } },
  );
}

/** A target as Crawl4AI's `/llm` reads it (scheme-less → https), egress-checked; `raw:` HTML kept. */
function llmTarget(c: Context<AppEnv>, raw: string, path: string): string {
  if (isRawHtml(raw)) {
    if (raw.length > MAX_RAW_HTML_CHARS)
      throw new GatewayError('validation_failed', `Invalid request: ${path}: raw: HTML too long`, {
        extras: { errors: [{ path, message: 'too long' }] },
      });
    return raw;
  }
  const candidate = /^https?:\/\//i.test(raw) ? raw : `https://${raw}`;
  const r = checkTargetUrl(candidate, { allowPrivateTargets: c.get('config').ALLOW_PRIVATE_TARGETS });
  if (!r.ok) throw new GatewayError('url_not_allowed', `${path}: ${r.reason}`, { extras: { field: path, reason: r.reason } });
  return r.url.href;
}

const hasOrigin = (c: Context<AppEnv>) => Boolean(c.get('config').ORIGIN_URL);

export const crawl4aiRouter = createRouter();

// ---------- POST /llm/job, GET /llm/job/{task_id} ----------
const HeaderMap = z
  .record(z.string().regex(/^[A-Za-z0-9-]{1,64}$/), z.string().max(4096).regex(PRINTABLE))
  .refine((m) => Object.keys(m).length <= 20, 'at most 20 headers');
const LlmJobBody = z
  .object({
    url: z.string().min(1).max(MAX_RAW_HTML_CHARS),
    q: z.string().min(1).max(2000),
    schema: z.string().max(100_000).nullable().optional(),
    cache: z.boolean().optional(),
    provider: Provider.nullable().optional(),
    temperature: z.number().min(0).max(2).nullable().optional(),
    webhook_config: z
      .strictObject({
        webhook_url: z.string().max(8192),
        webhook_data_in_payload: z.boolean().optional(),
        webhook_headers: HeaderMap.optional(),
      })
      .nullable()
      .optional(),
    base_url: z.unknown().optional().openapi({ description: 'Refused: the provider is chosen by name' }),
  })
  .strict()
  .openapi('LlmJobRequest');
const llmJobCreate = protectedRoute({
  method: 'post',
  path: '/llm/job',
  tags,
  summary: 'Queue an LLM extraction on the origin; the task belongs to the caller',
  permission: 'crawl:llm',
  middleware: [strictJsonBody('/llm/job')],
  request: jsonBody(LlmJobBody),
  responses: { 202: { description: 'Queued', content: { 'application/json': { schema: AnyJsonSchema } } }, ...ERRORS },
});
crawl4aiRouter.openapi(llmJobCreate, async (c) => {
  const { base_url, ...input } = c.req.valid('json');
  refuseBaseUrl(base_url !== undefined, '$.base_url');
  const body: Record<string, unknown> = { ...input, url: llmTarget(c, input.url, '$.url') };
  if (input.webhook_config)
    body.webhook_config = {
      ...input.webhook_config,
      webhook_url: llmTarget(c, input.webhook_config.webhook_url, '$.webhook_config.webhook_url'),
    };
  if (!hasOrigin(c)) throw noLlm();
  const res = await forwardToOrigin(c, { method: 'POST', path: '/llm/job', body: JSON.stringify(body), contentType: 'application/json' });
  if (res.status < 200 || res.status >= 300) return passThrough(res);
  const text = await res.text();
  let taskId: unknown;
  try {
    taskId = (JSON.parse(text) as { task_id?: unknown }).task_id;
  } catch {
    taskId = undefined;
  }
  if (typeof taskId !== 'string' || !TaskIdSchema.safeParse(taskId).success)
    throw new GatewayError('origin_unavailable', 'The origin answered without a usable task_id');
  // Fail closed: an unrecorded task would be unreadable (or unowned).
  await recordTask(c.env.DB, taskId, principalOf(c));
  audit(c, { action: 'job_created', outcome: 'success', status: res.status, details: { task_id: taskId, route: 'llm_job' } });
  const headers = new Headers(res.headers);
  headers.delete('content-length');
  return passThrough(new Response(text, { status: res.status, headers }));
});

const llmJobStatus = protectedRoute({
  method: 'get',
  path: '/llm/job/{task_id}',
  tags,
  summary: "Status and answer of one of the caller's LLM tasks",
  permission: 'crawl:llm',
  request: { params: z.object({ task_id: TaskIdSchema }) },
  responses: { ...json('Task status (Crawl4AI shape)'), ...ERRORS },
});
crawl4aiRouter.openapi(llmJobStatus, async (c) => {
  const { task_id } = c.req.valid('param');
  if (!hasOrigin(c)) throw noLlm();
  // BOLA (OWASP API1:2023): another tenant's task reads like an unknown one.
  if (!(await ownsTask(c.env.DB, task_id, principalOf(c)))) throw new GatewayError('not_found', 'No such task');
  return passThrough(await forwardToOrigin(c, { method: 'GET', path: `/llm/job/${encodeURIComponent(task_id)}` }));
});

// ---------- GET /llm/{url}: answer a question about one page ----------
// After the /llm/job routes, as in Crawl4AI (its job router is mounted before /llm/{url:path}).
const LlmQuery = z.object({
  q: z.string().min(1).max(2000),
  provider: Provider.optional(),
  temperature: z.coerce.number().min(0).max(2).optional(),
});
const llmRoute = protectedRoute({
  method: 'get',
  path: '/llm/{url}',
  // The target keeps its slashes, as in Crawl4AI's `{url:path}` (OpenAPI's `{url}` cannot say that).
  routingPath: '/llm/:url{.+}',
  tags,
  summary: 'Ask an LLM about one page (provider by name)',
  permission: 'crawl:llm',
  request: {
    params: z.object({ url: z.string().openapi({ description: 'The target; keeps its slashes (`/llm/https://example.com`)' }) }),
    query: LlmQuery,
  },
  responses: { ...json('`{"answer"}` from the origin'), ...ERRORS },
});
crawl4aiRouter.openapi(llmRoute, async (c) => {
  const query = c.req.valid('query');
  refuseBaseUrl(requestUrl(c).searchParams.has('base_url'), '$query.base_url');
  const target = llmTarget(c, c.req.valid('param').url, '$path.url');
  if (!hasOrigin(c)) throw noLlm();
  const search = new URLSearchParams({ q: query.q });
  if (query.provider) search.set('provider', query.provider);
  if (query.temperature !== undefined) search.set('temperature', String(query.temperature));
  audit(c, { action: 'crawl_requested', outcome: 'success', details: { route: 'llm', urls: 1, engine: 'origin' } });
  return passThrough(await forwardToOrigin(c, { method: 'GET', path: `/llm/${encodeURIComponent(target)}`, search: `?${search}` }));
});

// ---------- GET /ask: Crawl4AI library context for AI assistants ----------
const AskQuery = z.object({
  context_type: z.enum(['code', 'doc', 'all']).optional(),
  query: z.string().max(2000).optional(),
  score_ratio: z.coerce.number().min(0).max(1).optional(),
  max_results: z.coerce.number().int().min(1).max(1000).optional(),
});
const askRoute = protectedRoute({
  method: 'get',
  path: '/ask',
  tags,
  summary: 'Crawl4AI library context (BM25 over its docs), from the origin',
  permission: 'crawl:llm',
  request: { query: AskQuery },
  responses: { ...json('Context chunks (Crawl4AI shape)'), ...ERRORS },
});
crawl4aiRouter.openapi(askRoute, async (c) => {
  const q = c.req.valid('query');
  if (!hasOrigin(c))
    throw new GatewayError(
      'not_implemented',
      "/ask serves Crawl4AI's library context for LLM assistants from the origin crawler; this gateway has no ORIGIN_URL",
    );
  const search = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) if (v !== undefined) search.set(k, String(v));
  return passThrough(await forwardToOrigin(c, { method: 'GET', path: '/ask', search: search.size ? `?${search}` : '' }));
});

// ---------- POST /config/dump: validate a config, echo its normalised form ----------
const configDump = protectedRoute({
  method: 'post',
  path: '/config/dump',
  tags,
  summary: 'Validate a {type, params} BrowserConfig/CrawlerRunConfig (needs the permissions of its fields)',
  permission: 'crawl:run',
  middleware: [strictJsonBody('/config/dump')],
  request: jsonBody(ConfigObjectSchema),
  responses: { ...json('The normalised config'), ...ERRORS },
});
crawl4aiRouter.openapi(configDump, async (c) => {
  const body = strictBody(c);
  if (Object.hasOwn(body, 'code')) {
    throw new GatewayError(
      'bad_request',
      'The code form of /config/dump (Python source) is not accepted; send {"type": "CrawlerRunConfig" | "BrowserConfig", "params": {...}}',
    );
  }
  if (body.type !== 'CrawlerRunConfig' && body.type !== 'BrowserConfig')
    throw new GatewayError('bad_request', "type must be 'CrawlerRunConfig' or 'BrowserConfig'");
  const slot = body.type === 'BrowserConfig' ? 'browser_config' : 'crawler_config';
  const principal = principalOf(c);
  const ctx = policyContextFor(principal, c.get('config'));
  const checked = checkBody(
    'crawl',
    { [slot]: body },
    { permissions: ctx.permissions, tenant: tenantOf(principal), allowPrivateTargets: ctx.allowPrivateTargets, limits: ctx.limits },
  );
  if (!checked.ok) {
    const err = policyError(checked.issues.map((i) => ({ ...i, path: i.path.replace(`$.${slot}`, '$') })));
    audit(c, {
      action: err.code === 'insufficient_scope' ? 'permission_denied' : 'crawl_requested',
      outcome: 'denied',
      reason: err.code,
      status: err.status,
      details: { route: 'config_dump' },
    });
    throw err;
  }
  const config = checked.value[slot] as Record<string, unknown>;
  if (!hasOrigin(c)) return passThrough(Response.json(config));
  return passThrough(
    await forwardToOrigin(c, {
      method: 'POST',
      path: '/config/dump',
      body: JSON.stringify(toOrigin(c, 'config', config)),
      contentType: 'application/json',
    }),
  );
});

// ---------- GET /schema, GET /hooks/info ----------
const schemaRoute = protectedRoute({
  method: 'get',
  path: '/schema',
  tags,
  summary: 'Default BrowserConfig and CrawlerRunConfig',
  permission: 'crawl:run',
  responses: { ...json('`{browser, crawler}`'), ...ERRORS },
});
crawl4aiRouter.openapi(schemaRoute, async (c) =>
  hasOrigin(c) ? passThrough(await forwardToOrigin(c, { method: 'GET', path: '/schema' })) : passThrough(Response.json(edgeSchema())),
);

const hooksInfoRoute = protectedRoute({
  method: 'get',
  path: '/hooks/info',
  tags,
  summary: 'The declarative hook actions and their parameters',
  permission: 'crawl:run',
  responses: { ...json('`{available_actions, usage, timeout_limits}`'), ...ERRORS },
});
crawl4aiRouter.openapi(hooksInfoRoute, async (c) =>
  hasOrigin(c)
    ? passThrough(await forwardToOrigin(c, { method: 'GET', path: '/hooks/info' }))
    : passThrough(Response.json(edgeHooksInfo())),
);

// ---------- GET /artifacts/{artifact_id}: the caller's own screenshots and PDFs ----------
const artifactRoute = protectedRoute({
  method: 'get',
  path: '/artifacts/{artifact_id}',
  tags,
  summary: "A screenshot or PDF the caller's tenant produced (Crawl4AI 0.9 artifact store)",
  permission: 'authenticated',
  request: { params: z.object({ artifact_id: z.string().max(64) }) },
  responses: { 200: { description: 'The artifact (image/png or application/pdf)' }, ...ERRORS },
});
crawl4aiRouter.openapi(artifactRoute, async (c) => {
  const { artifact_id } = c.req.valid('param');
  const principal = principalOf(c);
  if (!principal.permissions.includes('crawl:screenshot') && !principal.permissions.includes('crawl:pdf')) {
    throw new GatewayError('insufficient_scope', 'This request needs the permission "crawl:screenshot" or "crawl:pdf"', {
      extras: { required: ['crawl:screenshot', 'crawl:pdf'] },
    });
  }
  // An unknown id, a malformed one and another tenant's all read the same (OWASP API1:2023 BOLA).
  if (!hasOrigin(c) || !ARTIFACT_ID.test(artifact_id) || !(await ownsArtifact(c.env.DB, artifact_id, principal)))
    throw new GatewayError('not_found', 'Artifact not found');
  return passThrough(await forwardToOrigin(c, { method: 'GET', path: `/artifacts/${artifact_id}` }));
});

crawl4aiRouter.route('/', monitorRouter);
