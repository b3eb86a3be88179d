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
 * The route declarations stay here; the LLM logic is in c4ai-llm.ts, the config check in c4ai-config-dump.ts.
 */
import { z } from '@hono/zod-openapi';
import { createRouter, jsonBody, problemResponses, protectedRoute } from '../http/openapi';
import { GatewayError } from '../http/errors';
import { principalOf } from '../auth/principal';
import { requestUrl } from '../http/request-target';
import { audit } from '../audit/audit';
import { forwardToOrigin } from './origin/forward';
import { passThrough } from './handle';
import { strictJsonBody } from './strict-body';
import { AnyJsonSchema, ConfigObjectSchema, TaskIdSchema } from './schemas';
import { ownsTask } from './origin/ownership';
import { ARTIFACT_ID, ownsArtifact } from './artifacts';
import { edgeHooksInfo, edgeSchema } from './c4ai-edge-info';
import { monitorRouter } from './monitor-routes';
import { createLlmJob, hasOrigin, LlmJobBody, llmTarget, noLlm, Provider, refuseBaseUrl } from './c4ai-llm';
import { dumpConfig } from './c4ai-config-dump';

const tags = ['Crawling'];
const json = (description: string) => ({ 200: { description, content: { 'application/json': { schema: AnyJsonSchema } } } });
const ERRORS = problemResponses(400, 401, 403, 404, 422, 429, 501, 502, 503, 504);

export const crawl4aiRouter = createRouter();

// ---------- POST /llm/job, GET /llm/job/{task_id} ----------
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
crawl4aiRouter.openapi(llmJobCreate, async (c) => passThrough(await createLlmJob(c, c.req.valid('json'))));

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
crawl4aiRouter.openapi(configDump, async (c) => passThrough(await dumpConfig(c)));

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
