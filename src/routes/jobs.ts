/**
 * Crawl jobs (docs/jobs.md):
 *   POST /jobs                        202 {job_id}                      jobs:write (+ crawl:run, crawl:js for code)
 *   GET  /jobs                        the caller's jobs (admins: ?all=true)  jobs:read
 *   GET  /jobs/{id}                   status, counts, progress, ETA, timing, webhook log
 *   GET  /jobs/{id}/results           JSON pages (?cursor, ?limit) or NDJSON (?format=ndjson)
 *   POST /jobs/{id}/cancel|pause|resume                                  jobs:write
 *   GET  /usage                       usage per principal / session / hour  jobs:read
 * Ownership (OWASP API1:2023 BOLA): another tenant's job answers 404 like a missing one.
 */
import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { AppEnv } from '../env';
import { principalOf, tenantOf } from '../auth/principal';
import { audit } from '../audit/audit';
import { createRouter, jsonBody, problemResponses, protectedRoute } from '../http/openapi';
import { GatewayError } from '../http/errors';
import { encodeKeysetCursor } from '../http/cursor';
import { strictJsonBody } from '../crawl/strict-body';
import { controlJob, createJob, isAdmin, jobStatus, readScope, visibleJob, type JobAction } from '../jobs/service';
import { listJobRows } from '../jobs/job-index';
import { readResults } from '../jobs/results';
import { usageReport } from '../jobs/usage';
import { meteredUsage } from '../metering/usage-query';
import { JOB_STATUSES } from '../jobs/types';
import { AnyObject, JobAcceptedSchema, JobCreateSchema, JobIdSchema, JobStatusSchema, JobSummarySchema } from './jobs-schemas';
import { decodeCursor, resultsNdjson, summary } from './jobs-replies';

const AUDIT_ACTION = { cancel: 'job_cancelled', pause: 'job_paused', resume: 'job_resumed' } as const;
const tags = ['Jobs'];

const createJobRoute = protectedRoute({
  method: 'post',
  path: '/jobs',
  tags,
  summary: 'Submit a crawl job (up to JOB_MAX_URLS URLs)',
  permission: 'jobs:write',
  middleware: [strictJsonBody('/jobs')],
  request: jsonBody(JobCreateSchema),
  responses: {
    202: { description: 'Accepted', content: { 'application/json': { schema: JobAcceptedSchema } } },
    ...problemResponses(400, 401, 403, 413, 422, 429, 503),
  },
});

const listJobsRoute = protectedRoute({
  method: 'get',
  path: '/jobs',
  tags,
  summary: "The caller's jobs, newest first (admins: ?all=true for every tenant)",
  permission: 'jobs:read',
  request: {
    query: z.object({
      status: z.enum(JOB_STATUSES).optional(),
      limit: z.coerce.number().int().min(1).max(200).default(50),
      cursor: z.string().max(200).optional(),
      all: z.enum(['true', 'false']).optional(),
    }),
  },
  responses: {
    200: {
      description: 'Jobs',
      content: { 'application/json': { schema: z.object({ jobs: z.array(JobSummarySchema), next_cursor: z.string().nullable() }) } },
    },
    ...problemResponses(401, 403, 422, 429),
  },
});

const getJobRoute = protectedRoute({
  method: 'get',
  path: '/jobs/{id}',
  tags,
  summary: 'Status, counts, progress with ETA, per-page timing, bytes and webhook deliveries',
  permission: 'jobs:read',
  request: { params: z.object({ id: JobIdSchema }) },
  responses: {
    200: { description: 'Job status', content: { 'application/json': { schema: JobStatusSchema } } },
    ...problemResponses(401, 403, 404, 422, 429),
  },
});

const jobResultsRoute = protectedRoute({
  method: 'get',
  path: '/jobs/{id}/results',
  tags,
  summary: 'Page records in order: JSON pages with a cursor, or one NDJSON stream',
  permission: 'jobs:read',
  request: {
    params: z.object({ id: JobIdSchema }),
    query: z.object({
      cursor: z
        .string()
        .regex(/^\d{1,6}$/, 'must be a cursor this API returned')
        .optional(),
      limit: z.coerce.number().int().min(1).max(500).default(100),
      format: z.enum(['json', 'ndjson']).default('json'),
    }),
  },
  responses: {
    200: {
      description: 'Results',
      content: {
        'application/json': { schema: z.object({ job_id: z.string(), results: z.array(AnyObject), next_cursor: z.string().nullable() }) },
        'application/x-ndjson': { schema: z.string() },
      },
    },
    ...problemResponses(401, 403, 404, 422, 429),
  },
});

/** `POST /jobs/{id}/cancel|pause|resume`: the same shape, one route each. */
function jobActionRoute<const A extends JobAction>(action: A) {
  return protectedRoute({
    method: 'post',
    path: `/jobs/{id}/${action}` as const,
    tags,
    summary: `${action[0]!.toUpperCase()}${action.slice(1)} a job`,
    permission: 'jobs:write',
    request: { params: z.object({ id: JobIdSchema }) },
    responses: {
      200: { description: 'The job after the change', content: { 'application/json': { schema: JobStatusSchema } } },
      ...problemResponses(401, 403, 404, 409, 422, 429),
    },
  });
}
const cancelJobRoute = jobActionRoute('cancel');
const pauseJobRoute = jobActionRoute('pause');
const resumeJobRoute = jobActionRoute('resume');

const usageRoute = protectedRoute({
  method: 'get',
  path: '/usage',
  tags,
  summary: 'Usage per principal, crawler session and hour (own tenant; admins: ?all=true)',
  permission: 'jobs:read',
  request: {
    query: z.object({
      hours: z.coerce
        .number()
        .int()
        .min(1)
        .max(24 * 90)
        .default(24),
      all: z.enum(['true', 'false']).optional(),
    }),
  },
  responses: {
    200: { description: 'Usage', content: { 'application/json': { schema: AnyObject.openapi('UsageReport') } } },
    ...problemResponses(401, 403, 422, 429),
  },
});

/** Cancel, pause or resume one of the caller's jobs, audited. */
async function controlJobAndAudit(c: Context<AppEnv>, id: string, action: JobAction) {
  const snap = await controlJob(c.env, principalOf(c), id, action);
  audit(c, { action: AUDIT_ACTION[action], outcome: 'success', status: 200, details: { job_id: id } });
  return snap as unknown as Record<string, unknown>;
}

export const jobsRouter = createRouter()
  .openapi(createJobRoute, async (c) => {
    const principal = principalOf(c);
    const body = c.req.valid('json');
    let job;
    try {
      job = await createJob(c.env, c.get('config'), principal, body, c.get('requestId'));
    } catch (err) {
      if (err instanceof GatewayError)
        audit(c, { action: 'job_created', outcome: 'denied', reason: err.code, status: err.status, details: { urls: body.urls.length } });
      throw err;
    }
    audit(c, {
      action: 'job_created',
      outcome: 'success',
      status: 202,
      details: {
        job_id: job.id,
        urls: job.total,
        priority: body.priority,
        engine: job.engine,
        webhook: body.webhook ? new URL(body.webhook.url).host : null,
      },
    });
    c.header('Location', `/jobs/${job.id}`);
    return c.json(
      {
        job_id: job.id,
        status: 'queued' as const,
        total: job.total,
        priority: body.priority,
        engine: job.engine,
        status_url: `/jobs/${job.id}`,
      },
      202,
    );
  })
  .openapi(listJobsRoute, async (c) => {
    const q = c.req.valid('query');
    const principal = principalOf(c);
    if (q.all === 'true' && !isAdmin(principal)) throw new GatewayError('forbidden', "Only admins can list every tenant's jobs");
    const rows = await listJobRows(c.env.DB, {
      tenant: q.all === 'true' ? null : tenantOf(principal),
      status: q.status,
      before: q.cursor ? decodeCursor(q.cursor) : undefined,
      limit: q.limit + 1,
    });
    const page = rows.slice(0, q.limit);
    return c.json(
      {
        jobs: page.map(summary),
        next_cursor:
          rows.length > q.limit
            ? encodeKeysetCursor({ createdAt: page[page.length - 1]!.created_at, id: page[page.length - 1]!.id })
            : null,
      },
      200,
    );
  })
  .openapi(getJobRoute, async (c) =>
    c.json((await jobStatus(c.env, principalOf(c), c.req.valid('param').id)) as unknown as Record<string, unknown>, 200),
  )
  .openapi(jobResultsRoute, async (c) => {
    const { id } = c.req.valid('param');
    const q = c.req.valid('query');
    await visibleJob(c.env, principalOf(c), id);
    if (q.format === 'ndjson') return resultsNdjson(c.env, id) as never;
    const after = q.cursor ? Number(q.cursor) : -1;
    const { records, last } = await readResults(c.env, id, after, q.limit);
    return c.json(
      {
        job_id: id,
        results: records as Record<string, unknown>[],
        next_cursor: records.length === q.limit && last !== null ? String(last) : null,
      },
      200,
    );
  })
  .openapi(cancelJobRoute, async (c) => c.json(await controlJobAndAudit(c, c.req.valid('param').id, 'cancel'), 200))
  .openapi(pauseJobRoute, async (c) => c.json(await controlJobAndAudit(c, c.req.valid('param').id, 'pause'), 200))
  .openapi(resumeJobRoute, async (c) => c.json(await controlJobAndAudit(c, c.req.valid('param').id, 'resume'), 200))
  .openapi(usageRoute, async (c) => {
    const q = c.req.valid('query');
    const principal = principalOf(c);
    if (q.all === 'true' && !isAdmin(principal)) throw new GatewayError('forbidden', "Only admins can read every tenant's usage");
    const now = Date.now();
    const tenant = q.all === 'true' ? null : (readScope(principal) ?? tenantOf(principal));
    const report = await usageReport(c.env.DB, tenant, now - q.hours * 3_600_000, now + 1, now);
    // Every crawl route, MCP tool call and job (docs/metering.md): whole UTC days covering the window.
    const metered = await meteredUsage(c.env.DB, tenant === null ? {} : { tenant }, now - q.hours * 3_600_000, now + 1);
    return c.json(
      {
        ...report,
        metered: metered.totals,
        by_route: metered.by_route,
        by_engine: metered.by_engine,
        daily: metered.daily,
      } as unknown as Record<string, unknown>,
      200,
    );
  });
