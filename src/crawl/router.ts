/**
 * Crawl4AI-compatible crawl routes (shared/API.md "Crawling"). Each route authenticates and checks
 * its base permission before the body is read, then hands the validated body to `handleCrawl`.
 */
import { createRoute, z } from '@hono/zod-openapi';
import type { Permission } from '../auth/rbac';
import { requirePermission } from '../auth/require-permission';
import { createRouter, jsonBody, problemResponses, protectedBy } from '../http/openapi';
import { GatewayError } from '../http/errors';
import { audit } from '../audit/audit';
import {
  AnyJsonSchema,
  CrawlJobRequestSchema,
  CrawlRequestSchema,
  CrawlResponseSchema,
  ExecuteJsRequestSchema,
  HtmlRequestSchema,
  MarkdownRequestSchema,
  PdfRequestSchema,
  ScreenshotRequestSchema,
  TaskAcceptedSchema,
  TaskIdSchema,
} from './schemas';
import { enforcePolicy, handleCrawl, passThrough } from './handle';
import { strictBody, strictJsonBody } from './strict-body';
import { forwardToOrigin } from './origin/forward';
import { ownsTask, recordTask } from './origin/ownership';
import { createJob, type CreateJobInput } from '../jobs/service';
import { crawl4aiTaskView } from '../jobs/crawl4ai-task';
import { JOB_ID } from '../jobs/job-index';
import type { CrawlRoute } from './policy';
import type { EdgeEngineKind } from './types';

const ERRORS = problemResponses(400, 401, 403, 413, 422, 429, 502, 503, 504);

function postRoute<S extends z.ZodType>(path: string, permission: Permission, schema: S, summary: string, response: z.ZodType, mediaType = 'application/json') {
  return createRoute({
    method: 'post',
    path,
    summary,
    tags: ['Crawling'],
    ...protectedBy(permission),
    middleware: [requirePermission(permission), strictJsonBody(path)] as const,
    request: jsonBody(schema),
    responses: { 200: { description: 'The crawler\'s answer (Crawl4AI shape)', content: { [mediaType]: { schema: response } } }, ...ERRORS },
  });
}

interface Spec {
  path: string;
  route: CrawlRoute;
  permission: Permission;
  schema: z.ZodType;
  summary: string;
  fallback: EdgeEngineKind;
  stream?: boolean;
  response?: z.ZodType;
  mediaType?: string;
}

const SPECS: Spec[] = [
  { path: '/crawl', route: 'crawl', permission: 'crawl:run', schema: CrawlRequestSchema, summary: 'Crawl URLs; results as JSON', fallback: 'fetch', response: CrawlResponseSchema },
  { path: '/crawl/stream', route: 'crawl', permission: 'crawl:run', schema: CrawlRequestSchema, summary: 'Crawl URLs; one NDJSON result a line', fallback: 'fetch', stream: true, mediaType: 'application/x-ndjson' },
  { path: '/md', route: 'md', permission: 'crawl:run', schema: MarkdownRequestSchema, summary: 'Markdown of one page', fallback: 'fetch' },
  { path: '/html', route: 'html', permission: 'crawl:run', schema: HtmlRequestSchema, summary: 'Preprocessed HTML of one page', fallback: 'fetch' },
  { path: '/screenshot', route: 'screenshot', permission: 'crawl:screenshot', schema: ScreenshotRequestSchema, summary: 'Full-page PNG (base64)', fallback: 'browser' },
  { path: '/pdf', route: 'pdf', permission: 'crawl:pdf', schema: PdfRequestSchema, summary: 'PDF of one page (base64)', fallback: 'browser' },
  { path: '/execute_js', route: 'execute_js', permission: 'crawl:js', schema: ExecuteJsRequestSchema, summary: 'Run scripts on a page; returns its CrawlResult', fallback: 'browser' },
];

export const crawlRouter = createRouter();

for (const s of SPECS) {
  const def = postRoute(s.path, s.permission, s.schema, s.summary, s.response ?? AnyJsonSchema, s.mediaType);
  crawlRouter.openapi(def, async (c) => {
    return handleCrawl(c, strictBody(c), { route: s.route, originPath: s.path, fallback: s.fallback, stream: s.stream });
  });
}

const jobCreate = createRoute({
  method: 'post',
  path: '/crawl/job',
  summary: 'Queue a crawl on the origin; the task belongs to the caller',
  tags: ['Crawling'],
  ...protectedBy('jobs:write'),
  middleware: [requirePermission('jobs:write'), strictJsonBody('/crawl/job')] as const,
  request: jsonBody(CrawlJobRequestSchema),
  responses: { 202: { description: 'Queued', content: { 'application/json': { schema: TaskAcceptedSchema } } }, ...ERRORS },
});

crawlRouter.openapi(jobCreate, async (c) => {
  const body = strictBody(c);
  const decision = enforcePolicy(c, 'job', body);
  if (!c.get('config').ORIGIN_URL || decision.engine) {
    // No origin (or an edge engine named): the gateway's own job machinery runs it (docs/jobs.md),
    // with the same checks as POST /jobs — the webhook included (its schema, ≥ 32-byte secret).
    const { webhook_config: _ignored, webhook, urls, ...crawl } = decision.body;
    const input: CreateJobInput = { ...crawl, urls: urls as string[], ...(decision.engine ? { engine: decision.engine } : {}), priority: 'normal' };
    if (webhook) input.webhook = webhook as NonNullable<CreateJobInput['webhook']>;
    const job = await createJob(c.env, c.get('config'), c.get('principal')!, input, c.get('requestId'));
    audit(c, { action: 'job_created', outcome: 'success', status: 202, details: { job_id: job.id, urls: job.total, engine: job.engine } });
    return c.json({ task_id: job.id }, 202);
  }
  if (decision.body.webhook !== undefined) {
    throw new GatewayError('validation_failed', 'Invalid request: $.webhook: the origin\'s tasks take webhook_config; webhook is for the gateway\'s jobs', { extras: { errors: [{ path: '$.webhook', message: 'use webhook_config with an origin' }] } });
  }
  const principal = c.get('principal')!;
  const res = await forwardToOrigin(c, { method: 'POST', path: '/crawl/job', body: JSON.stringify(decision.body), contentType: 'application/json' });
  if (res.status < 200 || res.status >= 300) return passThrough(res);
  const text = await res.text();
  let taskId: unknown;
  try {
    taskId = (JSON.parse(text) as { task_id?: unknown }).task_id;
  } catch {
    taskId = undefined;
  }
  if (typeof taskId !== 'string' || !TaskIdSchema.safeParse(taskId).success) {
    throw new GatewayError('origin_unavailable', 'The origin answered without a usable task_id');
  }
  // Fail closed: a task we could not record would be unreadable (or worse, unowned).
  await recordTask(c.env.DB, taskId, principal);
  audit(c, { action: 'job_created', outcome: 'success', status: res.status, details: { task_id: taskId, urls: decision.urls.length } });
  const headers = new Headers(res.headers);
  headers.delete('content-length');
  return passThrough(new Response(text, { status: res.status, headers }));
});

const jobStatus = createRoute({
  method: 'get',
  path: '/crawl/job/{task_id}',
  summary: 'Status and result of one of the caller\'s tasks',
  tags: ['Crawling'],
  ...protectedBy('jobs:read'),
  middleware: [requirePermission('jobs:read')] as const,
  request: { params: z.object({ task_id: TaskIdSchema }) },
  responses: { 200: { description: 'Task status (Crawl4AI shape)', content: { 'application/json': { schema: AnyJsonSchema } } }, ...problemResponses(401, 403, 404, 422, 429, 502, 503, 504) },
});

crawlRouter.openapi(jobStatus, async (c) => {
  const { task_id } = c.req.valid('param');
  if (JOB_ID.test(task_id)) return c.json(await crawl4aiTaskView(c.env, c.get('principal')!, task_id), 200);
  if (!c.get('config').ORIGIN_URL) throw new GatewayError('not_found', 'No such task');
  // BOLA (OWASP API1:2023): another tenant's task answers exactly like an unknown one.
  if (!(await ownsTask(c.env.DB, task_id, c.get('principal')!))) throw new GatewayError('not_found', 'No such task');
  return passThrough(await forwardToOrigin(c, { method: 'GET', path: `/crawl/job/${encodeURIComponent(task_id)}` }));
});

