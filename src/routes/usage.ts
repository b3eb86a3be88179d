/**
 * Usage from the metering rollups (docs/metering.md), every crawl route, MCP tool call and job:
 *   GET /admin/keys/{id}/usage        one key (keys:read; a non-admin only its own keys)
 *   GET /keys/{id}/usage              one of the caller's own keys (keys:self)
 *   GET /admin/users/{username}/usage one user, with their keys (users:manage)
 *   GET /usage/export?format=csv|ndjson  the rollup rows (own tenant; admins ?all=true), through the
 *                                     export encoders (src/exports/encoders)
 * `GET /usage` itself (src/routes/jobs.ts) carries `by_route` / `by_engine` from the same rows.
 */
import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { AppEnv } from '../env';
import { createRouter, problemResponses, protectedRoute } from '../http/openapi';
import { GatewayError } from '../http/errors';
import { principalOf, tenantOf } from '../auth/principal';
import { keyAccess, visibleKey } from '../keys/access';
import { KeyIdParam } from '../keys/schemas';
import { getUserByUsername, USERNAME_PATTERN } from '../users/store';
import { isAdmin } from '../jobs/service';
import { lastDays, meteredUsage, usageRows, type UsageScope } from '../metering/usage-query';
import { readBudget } from '../metering/budgets';
import { csvEncoder } from '../exports/encoders/csv';
import { ndjsonEncoder } from '../exports/encoders/json';
import type { ExportRecord } from '../exports/record-schema';

const tags = ['Usage'];
const Days = z.object({
  days: z.coerce.number().int().min(1).max(400).default(30).openapi({ description: 'whole UTC days back, today included' }),
});
const UsageSchema = z.record(z.string(), z.unknown()).openapi('MeteredUsage');
const json = <T extends z.ZodType>(schema: T, description: string) => ({ description, content: { 'application/json': { schema } } });

/** Usage of one scope over the last `days`, with the principal's budget. */
async function usageOf(
  c: Context<AppEnv>,
  scope: UsageScope,
  days: number,
  budget: { dimension: 'key' | 'user'; id: string },
): Promise<Record<string, unknown>> {
  const { from, to } = lastDays(days, Date.now());
  const [usage, view] = await Promise.all([meteredUsage(c.env.DB, scope, from, to), readBudget(c.env, budget.dimension, budget.id)]);
  return { ...scope, from: new Date(from).toISOString(), to: new Date(to).toISOString(), budget: view, ...usage };
}

export const USAGE_COLUMNS = [
  'day',
  'tenant',
  'key_id',
  'user_id',
  'route',
  'engine',
  'requests',
  'pages',
  'failed_pages',
  'errors',
  'bytes',
  'browser_ms',
  'origin_ms',
  'credits',
] as const;

const keyUsageRoute = protectedRoute({
  method: 'get',
  path: '/admin/keys/{id}/usage',
  tags,
  summary: 'Usage and budget of one API key (every route)',
  permission: 'keys:read',
  request: { params: KeyIdParam, query: Days },
  responses: {
    200: json(UsageSchema, 'Usage totals, by route, by engine and per day, with the budget'),
    ...problemResponses(401, 403, 404, 422, 429),
  },
});

const ownKeyUsageRoute = protectedRoute({
  method: 'get',
  path: '/keys/{id}/usage',
  tags,
  summary: 'Usage and budget of one of your own keys',
  permission: 'keys:self',
  request: { params: KeyIdParam, query: Days },
  responses: {
    200: json(UsageSchema, 'Usage totals, by route, by engine and per day, with the budget'),
    ...problemResponses(401, 403, 404, 422, 429),
  },
});

const userUsageRoute = protectedRoute({
  method: 'get',
  path: '/admin/users/{username}/usage',
  tags,
  summary: 'Usage (own sessions and owned keys) and budget of one user',
  permission: 'users:manage',
  request: {
    params: z.object({
      username: z
        .string()
        .regex(USERNAME_PATTERN)
        .openapi({ param: { name: 'username', in: 'path' } }),
    }),
    query: Days,
  },
  responses: {
    200: json(UsageSchema, 'Usage totals, by route, by engine and per day, with the budget'),
    ...problemResponses(401, 403, 404, 422, 429),
  },
});

const usageExportRoute = protectedRoute({
  method: 'get',
  path: '/usage/export',
  tags,
  summary: 'Usage rollup rows as CSV or NDJSON (own tenant; admins ?all=true)',
  permission: 'jobs:read',
  request: { query: Days.extend({ format: z.enum(['csv', 'ndjson']).default('csv'), all: z.enum(['true', 'false']).optional() }) },
  responses: {
    200: {
      description: 'One row per day × key × user × route × engine',
      content: { 'text/csv': { schema: z.string() }, 'application/x-ndjson': { schema: z.string() } },
    },
    ...problemResponses(401, 403, 422, 429),
  },
});

export const usageRouter = createRouter()
  .openapi(keyUsageRoute, async (c) => {
    const rec = await visibleKey(c, keyAccess(c, '/admin/keys'), c.req.valid('param').id);
    return c.json(await usageOf(c, { keyId: rec.id }, c.req.valid('query').days, { dimension: 'key', id: rec.id }), 200);
  })
  .openapi(ownKeyUsageRoute, async (c) => {
    const rec = await visibleKey(c, keyAccess(c, '/keys'), c.req.valid('param').id);
    return c.json(await usageOf(c, { keyId: rec.id }, c.req.valid('query').days, { dimension: 'key', id: rec.id }), 200);
  })
  .openapi(userUsageRoute, async (c) => {
    const user = await getUserByUsername(c.env.DB, c.req.valid('param').username);
    if (!user) throw new GatewayError('not_found', 'No such user');
    return c.json(await usageOf(c, { userId: user.id }, c.req.valid('query').days, { dimension: 'user', id: user.id }), 200);
  })
  .openapi(usageExportRoute, async (c) => {
    const q = c.req.valid('query');
    const p = principalOf(c);
    if (q.all === 'true' && !isAdmin(p)) throw new GatewayError('forbidden', "Only admins can read every tenant's usage");
    const { from, to } = lastDays(q.days, Date.now());
    const rows = await usageRows(c.env.DB, q.all === 'true' ? {} : { tenant: tenantOf(p) }, from, to);
    const encoder = q.format === 'csv' ? csvEncoder(USAGE_COLUMNS) : ndjsonEncoder(null);
    let text = encoder.begin();
    rows.forEach((r, i) => (text += encoder.record(r as unknown as ExportRecord, i)));
    text += encoder.end(rows.length);
    return c.body(text, 200, {
      'Content-Type': encoder.mediaType,
      'Content-Disposition': `attachment; filename="usage-${new Date(from).toISOString().slice(0, 10)}.${encoder.extension}"`,
      'Cache-Control': 'no-store',
    });
  });
