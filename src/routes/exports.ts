/**
 * Exports of job results (docs/exports.md):
 *   GET  /jobs/{id}/export        streams the export directly (jobs:read)
 *   POST /exports                 202 {export_id}; the file is written to R2 in the background (jobs:write)
 *   GET  /exports/{id}            status and manifest (jobs:read)
 *   GET  /exports/{id}/download   the stored file (jobs:read)
 * Ownership (OWASP API1:2023 BOLA): a job or export of another tenant answers 404, like a missing one.
 * Thin router: zod parses, src/exports/service.ts acts.
 */
import { z } from '@hono/zod-openapi';
import { createRouter, jsonBody, problemResponses, protectedRoute } from '../http/openapi';
import { EXPORT_COMPRESSIONS, EXPORT_FORMATS } from '../exports/formats';
import { downloadExport, exportStatusView, ownExport, requestStoredExport, streamJobExport } from '../exports/service';
import type { JobResultsStore } from '../exports/source';
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
    webhook_secret: z
      .string()
      .min(MIN_WEBHOOK_SECRET_LENGTH)
      .max(256)
      .optional()
      .openapi({ description: 'HMAC key for the webhook signature; kept in memory for the run only' }),
  })
  .refine((b) => (b.webhook_url === undefined) === (b.webhook_secret === undefined), {
    message: 'webhook_url and webhook_secret go together',
    path: ['webhook_secret'],
  })
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
const tags = ['Exports'];

/** A raw streamed Response out of a typed route. */
function fileResponse(res: Response): never {
  return res as never;
}

const streamExportRoute = protectedRoute({
  method: 'get',
  path: '/jobs/{id}/export',
  tags,
  summary: "Stream an export of one of the caller's jobs",
  permission: 'jobs:read',
  request: { params: z.object({ id: JobIdSchema }), query: ExportQuerySchema },
  responses: { 200: { description: 'The export file, streamed', content: FILE_CONTENT }, ...problemResponses(401, 403, 404, 422, 429) },
});

const createExportRoute = protectedRoute({
  method: 'post',
  path: '/exports',
  tags,
  summary: "Export one of the caller's jobs to storage; poll GET /exports/{id}",
  permission: 'jobs:write',
  request: jsonBody(ExportRequestSchema),
  responses: {
    202: { description: 'Accepted', content: { 'application/json': { schema: ExportAcceptedSchema } } },
    ...problemResponses(400, 401, 403, 404, 413, 422, 429),
  },
});

const getExportRoute = protectedRoute({
  method: 'get',
  path: '/exports/{id}',
  tags,
  summary: "Status and manifest of one of the caller's exports",
  permission: 'jobs:read',
  request: { params: z.object({ id: ExportIdSchema }) },
  responses: {
    200: { description: 'Status', content: { 'application/json': { schema: ExportStatusSchema } } },
    ...problemResponses(401, 403, 404, 422, 429),
  },
});

const downloadExportRoute = protectedRoute({
  method: 'get',
  path: '/exports/{id}/download',
  tags,
  summary: "Download one of the caller's completed exports",
  permission: 'jobs:read',
  request: { params: z.object({ id: ExportIdSchema }) },
  responses: { 200: { description: 'The export file', content: FILE_CONTENT }, ...problemResponses(401, 403, 404, 409, 422, 429) },
});

/** The exports router over a job-results store (the jobs module provides the real one). */
export function createExportsRouter(store: JobResultsStore) {
  return createRouter()
    .openapi(streamExportRoute, async (c) => fileResponse(await streamJobExport(c, store, c.req.valid('param').id, c.req.valid('query'))))
    .openapi(createExportRoute, async (c) => {
      const row = await requestStoredExport(c, store, c.req.valid('json'));
      return c.json({ export_id: row.id, status: 'pending' as const }, 202, { Location: `/exports/${row.id}` });
    })
    .openapi(getExportRoute, async (c) => c.json(exportStatusView(await ownExport(c, c.req.valid('param').id)), 200))
    .openapi(downloadExportRoute, async (c) => fileResponse(await downloadExport(c, c.req.valid('param').id)));
}
