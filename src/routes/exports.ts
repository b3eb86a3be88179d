/**
 * Exports of job results (docs/exports.md):
 *   GET  /jobs/{id}/export        streams the export directly (jobs:read)
 *   POST /exports                 202 {export_id}; the file is written to R2 in the background (jobs:write)
 *   GET  /exports/{id}            status and manifest (jobs:read)
 *   GET  /exports/{id}/download   the stored file (jobs:read)
 * Ownership (OWASP API1:2023 BOLA): a job or export of another tenant answers 404, like a missing one.
 */
import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { AppEnv } from '../env';
import { tenantOf } from '../auth/principal';
import { requirePermission } from '../auth/require-permission';
import { audit } from '../audit/audit';
import { checkTargetUrl } from '../crawl/egress';
import { createRouter, jsonBody, problemResponses, protectedBy } from '../http/openapi';
import { GatewayError } from '../http/errors';
import { HTML_EXPORT_CSP } from '../exports/encoders/document';
import { parseFields } from '../exports/fields';
import { EXPORT_COMPRESSIONS, EXPORT_FORMATS, exportFileName, fileTypeOf, type ExportFormat } from '../exports/formats';
import { runStoredExport } from '../exports/run';
import { recordsOf, type JobResultsStore } from '../exports/source';
import { findExport, insertExport, newExportId, type ExportRow } from '../exports/store';
import { createExportStream } from '../exports/stream';
import { MIN_WEBHOOK_SECRET_LENGTH } from '../webhooks/sign';

const JobIdSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/, 'must be a job id');
const ExportIdSchema = z.string().regex(/^exp_[0-9a-f]{24}$/, 'must be an export id (exp_...)');
const FormatSchema = z.enum(EXPORT_FORMATS);
const CompressionSchema = z.enum(EXPORT_COMPRESSIONS);

const ExportQuerySchema = z.object({
  format: FormatSchema.default('json'),
  compression: CompressionSchema.default('none'),
  fields: z.string().max(4096).optional().openapi({ description: 'Comma-separated field paths, e.g. url,markdown.raw_markdown' }),
});

const ExportRequestSchema = z
  .strictObject({
    job_id: JobIdSchema,
    format: FormatSchema,
    fields: z.union([z.array(z.string().max(512)).max(64), z.string().max(4096)]).optional(),
    compression: CompressionSchema.default('none'),
    webhook_url: z.string().max(2048).optional(),
    webhook_secret: z.string().min(MIN_WEBHOOK_SECRET_LENGTH).max(256).optional().openapi({ description: 'HMAC key for the webhook signature; kept in memory for the run only' }),
  })
  .refine((b) => (b.webhook_url === undefined) === (b.webhook_secret === undefined), { message: 'webhook_url and webhook_secret go together', path: ['webhook_secret'] })
  .openapi('ExportRequest');

const ExportAcceptedSchema = z.object({ export_id: z.string(), status: z.literal('pending') }).openapi('ExportAccepted');
const ExportStatusSchema = z
  .object({
    export_id: z.string(),
    job_id: z.string(),
    status: z.enum(['pending', 'running', 'completed', 'failed']),
    format: FormatSchema,
    compression: CompressionSchema,
    fields: z.array(z.string()).nullable(),
    created_at: z.string(),
    completed_at: z.string().nullable(),
    error: z.string().nullable(),
    webhook_status: z.string().nullable(),
    download_url: z.string().nullable(),
    manifest: z.record(z.string(), z.unknown()).nullable(),
  })
  .openapi('ExportStatus');

const FILE_CONTENT = { 'application/octet-stream': { schema: z.string().openapi({ format: 'binary' }) } };

/** A raw streamed Response out of a typed route. */
function fileResponse(res: Response): never {
  return res as never;
}

function fieldsOrFail(raw: string | string[] | undefined): string[] | null {
  const parsed = parseFields(raw);
  if (!parsed.ok) throw new GatewayError('validation_failed', `Invalid request: fields: ${parsed.reason}`, { extras: { errors: [{ path: 'fields', message: parsed.reason }] } });
  return parsed.fields;
}

/** Headers of a downloaded export: a file of its own type, never Content-Encoding (docs/exports.md). */
function fileHeaders(format: ExportFormat, compression: ExportRow['compression'], fileName: string): Headers {
  const h = new Headers({
    'Content-Type': fileTypeOf(format, compression).mediaType,
    'Content-Disposition': `attachment; filename="${fileName}"`,
    'Cache-Control': 'private, no-store',
  });
  // An uncompressed HTML export opened in place still runs nothing (CSP3; sandbox = no script, unique origin).
  if (format === 'html' && compression === 'none') h.set('Content-Security-Policy', `${HTML_EXPORT_CSP}; frame-ancestors 'none'; sandbox`);
  return h;
}

async function assertOwnsJob(c: Context<AppEnv>, store: JobResultsStore, jobId: string): Promise<void> {
  const owner = await store.ownerOf(c.env, jobId);
  if (owner === null || owner !== tenantOf(c.get('principal')!)) {
    audit(c, { action: 'export_denied', outcome: 'denied', reason: owner === null ? 'unknown_job' : 'other_tenant', status: 404, details: { job_id: jobId } });
    throw new GatewayError('not_found', 'No such job');
  }
}

function statusView(row: ExportRow) {
  return {
    export_id: row.id,
    job_id: row.job_id,
    status: row.status,
    format: row.format,
    compression: row.compression,
    fields: row.fields,
    created_at: new Date(row.created_at).toISOString(),
    completed_at: row.completed_at === null ? null : new Date(row.completed_at).toISOString(),
    error: row.error,
    webhook_status: row.webhook_status,
    download_url: row.status === 'completed' ? `/exports/${row.id}/download` : null,
    manifest: row.manifest as Record<string, unknown> | null,
  };
}

/** The exports router over a job-results store (the jobs module provides the real one). */
export function createExportsRouter(store: JobResultsStore) {
  const router = createRouter();

  const streamRoute = createRoute({
    method: 'get',
    path: '/jobs/{id}/export',
    summary: "Stream an export of one of the caller's jobs",
    tags: ['Exports'],
    ...protectedBy('jobs:read'),
    middleware: [requirePermission('jobs:read')] as const,
    request: { params: z.object({ id: JobIdSchema }), query: ExportQuerySchema },
    responses: { 200: { description: 'The export file, streamed', content: FILE_CONTENT }, ...problemResponses(401, 403, 404, 422, 429) },
  });

  router.openapi(streamRoute, async (c) => {
    const { id } = c.req.valid('param');
    const { format, compression, fields: rawFields } = c.req.valid('query');
    const fields = fieldsOrFail(rawFields);
    await assertOwnsJob(c, store, id);
    const { stream, done } = createExportStream(recordsOf(store.open(c.env, id)), { format, compression, fields });
    audit(c, { action: 'export_streamed', outcome: 'success', status: 200, details: { job_id: id, format, compression } });
    // Headers are gone before the counts are known: a direct stream logs its counts and checksum
    // (the response itself keeps the invocation alive until the last byte, so no waitUntil).
    void done.then(
      (s) => console.log('export stream finished', { job_id: id, records: s.records, invalid: s.invalid, bytes: s.bytes, sha256: s.sha256 }),
      (err: unknown) => console.error('export stream failed', { job_id: id, error: String(err) }),
    );
    return fileResponse(new Response(stream, { status: 200, headers: fileHeaders(format, compression, exportFileName(`job-${id}`, format, compression)) }));
  });

  const createExport = createRoute({
    method: 'post',
    path: '/exports',
    summary: "Export one of the caller's jobs to storage; poll GET /exports/{id}",
    tags: ['Exports'],
    ...protectedBy('jobs:write'),
    middleware: [requirePermission('jobs:write')] as const,
    request: jsonBody(ExportRequestSchema),
    responses: { 202: { description: 'Accepted', content: { 'application/json': { schema: ExportAcceptedSchema } } }, ...problemResponses(400, 401, 403, 404, 413, 422, 429) },
  });

  router.openapi(createExport, async (c) => {
    const body = c.req.valid('json');
    const principal = c.get('principal')!;
    const config = c.get('config');
    const fields = fieldsOrFail(body.fields);
    if (body.webhook_url !== undefined) {
      const target = checkTargetUrl(body.webhook_url, { allowPrivateTargets: config.ALLOW_PRIVATE_TARGETS });
      if (!target.ok) throw new GatewayError('url_not_allowed', `webhook_url is not allowed: ${target.reason}`);
    }
    await assertOwnsJob(c, store, body.job_id);
    const now = Date.now();
    const row: ExportRow = {
      id: newExportId(),
      tenant: tenantOf(principal),
      principal_id: principal.id,
      job_id: body.job_id,
      format: body.format,
      compression: body.compression,
      fields,
      status: 'pending',
      r2_key: null,
      manifest: null,
      error: null,
      webhook_url: body.webhook_url ?? null,
      webhook_status: null,
      created_at: now,
      updated_at: now,
      completed_at: null,
    };
    await insertExport(c.env.DB, row);
    c.executionCtx.waitUntil(
      runStoredExport(c.env, row, {
        store,
        now: Date.now,
        requestId: c.get('requestId'),
        allowPrivateTargets: config.ALLOW_PRIVATE_TARGETS,
        webhookSecret: body.webhook_secret,
      }).catch((err: unknown) => console.error('export run crashed', { export_id: row.id, error: String(err) })),
    );
    audit(c, { action: 'export_requested', outcome: 'success', status: 202, details: { export_id: row.id, job_id: row.job_id, format: row.format } });
    return c.json({ export_id: row.id, status: 'pending' as const }, 202, { Location: `/exports/${row.id}` });
  });

  const getExport = createRoute({
    method: 'get',
    path: '/exports/{id}',
    summary: "Status and manifest of one of the caller's exports",
    tags: ['Exports'],
    ...protectedBy('jobs:read'),
    middleware: [requirePermission('jobs:read')] as const,
    request: { params: z.object({ id: ExportIdSchema }) },
    responses: { 200: { description: 'Status', content: { 'application/json': { schema: ExportStatusSchema } } }, ...problemResponses(401, 403, 404, 422, 429) },
  });

  router.openapi(getExport, async (c) => {
    const row = await findExport(c.env.DB, c.req.valid('param').id, tenantOf(c.get('principal')!));
    if (!row) throw new GatewayError('not_found', 'No such export');
    return c.json(statusView(row), 200);
  });

  const download = createRoute({
    method: 'get',
    path: '/exports/{id}/download',
    summary: "Download one of the caller's completed exports",
    tags: ['Exports'],
    ...protectedBy('jobs:read'),
    middleware: [requirePermission('jobs:read')] as const,
    request: { params: z.object({ id: ExportIdSchema }) },
    responses: { 200: { description: 'The export file', content: FILE_CONTENT }, ...problemResponses(401, 403, 404, 409, 422, 429) },
  });

  router.openapi(download, async (c) => {
    const row = await findExport(c.env.DB, c.req.valid('param').id, tenantOf(c.get('principal')!));
    if (!row) throw new GatewayError('not_found', 'No such export');
    if (row.status !== 'completed' || !row.r2_key || !row.manifest) throw new GatewayError('conflict', `The export is ${row.status}, not completed`);
    const object = await c.env.RESULTS.get(row.r2_key);
    if (!object) throw new GatewayError('not_found', 'The export file is gone');
    const headers = fileHeaders(row.format, row.compression, row.manifest.file_name);
    headers.set('Content-Length', String(object.size));
    headers.set('ETag', object.httpEtag);
    // RFC 9530 Repr-Digest: the client can check the file against the manifest's sha256.
    const digest = btoa(String.fromCharCode(...(row.manifest.sha256.match(/../g) ?? []).map((h) => Number.parseInt(h, 16))));
    headers.set('Repr-Digest', `sha-256=:${digest}:`);
    return fileResponse(new Response(object.body, { status: 200, headers }));
  });

  return router;
}
