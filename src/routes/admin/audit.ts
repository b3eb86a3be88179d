/**
 * The audit log over HTTP (docs/audit.md): list with filters and cursor pagination, streaming
 * export (NDJSON / CSV), and chain verification. Everyone here needs `audit:read`; holders without
 * the admin or operator role see only their own events (enforced in SQL, not in the client).
 */
import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { AppEnv } from '../../env';
import { createRouter, problemResponses, protectedRoute } from '../../http/openapi';
import { GatewayError } from '../../http/errors';
import { principalOf } from '../../auth/principal';
import { audit } from '../../audit/audit';
import { AUDIT_ACTIONS } from '../../audit/types';
import { ACTOR_ID, decodeCursor, encodeCursor, ownActorRestriction, parseInstant, presentRow, type AuditFilter } from '../../audit/query';
import { exportStream } from '../../audit/export';
import { readAuditEvents } from '../../audit/merged-read';
import { verifyShards } from '../../audit/verify-shards';

export const EXPORT_MAX_ROWS = 100_000;

const instant = z.string().max(40).openapi({ description: 'ISO 8601 date-time or UTC milliseconds', example: '2026-11-01T00:00:00Z' });
const filterQuery = {
  actor: z
    .string()
    .max(256)
    .regex(
      ACTOR_ID,
      'must be an actor id (usr_..., key_..., seed_... or anonymous), not a name: look the id up in /admin/users or /admin/keys',
    )
    .optional()
    .openapi({
      description: 'actor id (usr_..., key_..., seed_..., anonymous); names are labels, not filters',
      example: 'usr_0123456789abcdef0123456789abcdef',
    }),
  actor_kind: z.enum(['user', 'key', 'anonymous']).optional(),
  action: z.enum(AUDIT_ACTIONS).optional(),
  outcome: z.enum(['success', 'failure', 'denied', 'error']).optional(),
  since: instant.optional(),
  until: instant.optional(),
};

const AuditEventSchema = z
  .object({
    id: z.number().int(),
    ts: z.number().int(),
    request_id: z.string(),
    actor_id: z.string(),
    actor_kind: z.enum(['user', 'key', 'anonymous']),
    actor_name: z.string().nullable(),
    ip: z.string().nullable(),
    method: z.string(),
    route: z.string(),
    action: z.string(),
    outcome: z.string(),
    reason: z.string().nullable(),
    status: z.number().int().nullable(),
    details: z.unknown(),
    prev_hash: z.string(),
    hash: z.string(),
  })
  .openapi('AuditEvent');

const listRoute = protectedRoute({
  method: 'get',
  path: '/admin/audit',
  summary: 'Audit events, newest first (viewers: their own only)',
  permission: 'audit:read',
  request: {
    query: z.object({
      ...filterQuery,
      cursor: z.string().max(200).optional(),
      limit: z.coerce.number().int().min(1).max(200).default(50),
    }),
  },
  responses: {
    200: {
      description: 'One page of events',
      content: { 'application/json': { schema: z.object({ events: z.array(AuditEventSchema), next_cursor: z.string().nullable() }) } },
    },
    ...problemResponses(401, 403, 422),
  },
});

const exportRoute = protectedRoute({
  method: 'get',
  path: '/admin/audit/export',
  summary: 'Stream audit events as NDJSON or CSV (RFC 4180), newest first',
  permission: 'audit:read',
  request: {
    query: z.object({
      ...filterQuery,
      format: z.enum(['ndjson', 'csv']).default('ndjson'),
      limit: z.coerce.number().int().min(1).max(EXPORT_MAX_ROWS).default(EXPORT_MAX_ROWS),
    }),
  },
  responses: {
    200: {
      description: 'The events, streamed',
      content: { 'application/x-ndjson': { schema: z.string() }, 'text/csv': { schema: z.string() } },
    },
    ...problemResponses(401, 403, 422),
  },
});

const BreakSchema = z.object({
  shard: z.number().int(),
  stream: z.enum(['d1', 'r2']),
  position: z.number().int(),
  seq: z.number().int(),
  id: z.number().int(),
  kind: z.string(),
  detail: z.string(),
});
const StreamSchema = z.object({
  checked: z.number().int(),
  start: z.number().int(),
  last: z.number().int().nullable(),
  head: z.number().int(),
  broken: BreakSchema.omit({ id: true }).nullable(),
  complete: z.boolean(),
});
const VerifySchema = z
  .object({
    ok: z.boolean(),
    checked: z.number().int(),
    broken: BreakSchema.nullable(),
    complete: z.boolean(),
    next_after: z.number().int().nullable(),
    checkpoint: z.object({ taken_at: z.number().int(), shards: z.number().int() }),
    shards: z.array(z.object({ shard: z.number().int(), name: z.string(), d1: StreamSchema, r2: StreamSchema })),
  })
  .openapi('AuditVerifyReport');

const verifyRoute = protectedRoute({
  method: 'get',
  path: '/admin/audit/verify',
  summary: 'Recompute the hash chain and report the first broken link (admin)',
  permission: 'audit:read',
  'x-role': 'admin',
  request: {
    query: z.object({
      after: z.coerce.number().int().min(0).optional().openapi({ description: "continue after this row (a previous report's next_after)" }),
      max_rows: z.coerce
        .number()
        .int()
        .min(1)
        .max(1_000_000)
        .optional()
        .openapi({ description: 'rows to check in this call (default 100000)' }),
    }),
  },
  responses: {
    200: {
      description: 'Verification report (ok=false names the first broken link)',
      content: { 'application/json': { schema: VerifySchema } },
    },
    ...problemResponses(401, 403, 503),
  },
});

/** Query → filter, with the viewer restriction applied server-side. */
function filterFrom(
  c: Context<AppEnv>,
  q: { actor?: string; actor_kind?: string; action?: string; outcome?: string; since?: string; until?: string },
): AuditFilter {
  const errors: Array<{ path: string; message: string }> = [];
  const since = q.since === undefined ? undefined : parseInstant(q.since);
  const until = q.until === undefined ? undefined : parseInstant(q.until);
  if (since === null) errors.push({ path: 'since', message: 'must be an ISO 8601 date-time or UTC milliseconds' });
  if (until === null) errors.push({ path: 'until', message: 'must be an ISO 8601 date-time or UTC milliseconds' });
  if (errors.length)
    throw new GatewayError('validation_failed', `Invalid request: ${errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`, {
      extras: { errors },
    });
  const principal = principalOf(c);
  return {
    actor: q.actor,
    actorKind: q.actor_kind,
    action: q.action,
    outcome: q.outcome,
    since: since ?? undefined,
    until: until ?? undefined,
    ownActorId: ownActorRestriction(principal),
  };
}

export const adminAuditRouter = createRouter()
  .openapi(listRoute, async (c) => {
    const q = c.req.valid('query');
    const filter = filterFrom(c, q);
    const page = await readAuditEvents(c.env, filter, q.cursor ? decodeCursor(q.cursor) : null, q.limit);
    return c.json({ events: page.rows.map(presentRow), next_cursor: page.next ? encodeCursor(page.next) : null }, 200);
  })
  .openapi(exportRoute, async (c) => {
    const q = c.req.valid('query');
    const filter = filterFrom(c, q);
    audit(c, {
      action: 'audit_exported',
      outcome: 'success',
      status: 200,
      details: { format: q.format, own_only: filter.ownActorId !== undefined },
    });
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const csv = q.format === 'csv';
    return new Response(exportStream(c.env, filter, q.format, q.limit), {
      status: 200,
      headers: {
        'Content-Type': csv ? 'text/csv; charset=utf-8; header=present' : 'application/x-ndjson; charset=utf-8',
        'Content-Disposition': `attachment; filename="audit-${stamp}.${csv ? 'csv' : 'ndjson'}"`,
        'Cache-Control': 'no-store',
      },
    });
  })
  .openapi(verifyRoute, async (c) => {
    if (!principalOf(c).roles.includes('admin')) {
      audit(c, { action: 'permission_denied', outcome: 'denied', reason: 'role:admin', status: 403 });
      throw new GatewayError('forbidden', 'Verifying the audit chain needs the admin role');
    }
    const q = c.req.valid('query');
    // 503 (problem JSON) when an anchor cannot be read: never a narrower "ok" (src/audit/verify-shards.ts).
    const report = await verifyShards(c.env, c.get('config'), { after: q.after, maxRows: q.max_rows });
    audit(c, {
      action: 'audit_verified',
      outcome: report.ok ? 'success' : 'failure',
      reason: report.broken ? report.broken.kind : undefined,
      status: 200,
      details: {
        checked: report.checked,
        ...(report.broken
          ? { broken_shard: report.broken.shard, broken_stream: report.broken.stream, broken_position: report.broken.position }
          : {}),
      },
    });
    return c.json(report, 200);
  });
