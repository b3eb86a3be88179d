/**
 * What the exports routes do (docs/exports.md), apart from HTTP parsing: stream a job's export,
 * record and start a stored export, read one back. Ownership (OWASP API1:2023 BOLA): a job or
 * export of another tenant answers 404, like a missing one, and the refusal is audited.
 */
import type { Context } from 'hono';
import type { AppEnv } from '../env';
import { principalOf, tenantOf } from '../auth/principal';
import { audit } from '../audit/audit';
import { checkTargetUrl } from '../crawl/egress';
import { GatewayError } from '../http/errors';
import { HTML_EXPORT_CSP } from './encoders/document';
import { parseFields } from './fields';
import { exportFileName, fileTypeOf, type ExportCompression, type ExportFormat } from './formats';
import { runStoredExport } from './run';
import { recordsOf, type JobResultsStore } from './source';
import { findExport, insertExport, newExportId, type ExportRow } from './store';
import { createExportStream } from './stream';

/** `fields` as asked (comma list or array) → field paths; 422 naming the reason when unreadable. */
function fieldsOrFail(raw: string | string[] | undefined): string[] | null {
  const parsed = parseFields(raw);
  if (!parsed.ok)
    throw new GatewayError('validation_failed', `Invalid request: fields: ${parsed.reason}`, {
      extras: { errors: [{ path: 'fields', message: parsed.reason }] },
    });
  return parsed.fields;
}

/** Headers of a downloaded export: a file of its own type, never Content-Encoding (docs/exports.md). */
function fileHeaders(format: ExportFormat, compression: ExportCompression, fileName: string): Headers {
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
  if (owner === null || owner !== tenantOf(principalOf(c))) {
    audit(c, {
      action: 'export_denied',
      outcome: 'denied',
      reason: owner === null ? 'unknown_job' : 'other_tenant',
      status: 404,
      details: { job_id: jobId },
    });
    throw new GatewayError('not_found', 'No such job');
  }
}

/** The status document of one export (`GET /exports/{id}`). */
export function exportStatusView(row: ExportRow) {
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

export interface StreamExportQuery {
  format: ExportFormat;
  compression: ExportCompression;
  fields?: string;
}

/** `GET /jobs/{id}/export`: the caller's job, encoded as it streams out. */
export async function streamJobExport(c: Context<AppEnv>, store: JobResultsStore, jobId: string, q: StreamExportQuery): Promise<Response> {
  const { format, compression } = q;
  const fields = fieldsOrFail(q.fields);
  await assertOwnsJob(c, store, jobId);
  const { stream, done } = createExportStream(recordsOf(store.open(c.env, jobId)), { format, compression, fields });
  audit(c, { action: 'export_streamed', outcome: 'success', status: 200, details: { job_id: jobId, format, compression } });
  // Headers are gone before the counts are known: a direct stream logs its counts and checksum
  // (the response itself keeps the invocation alive until the last byte, so no waitUntil).
  void done.then(
    (s) =>
      console.log('export stream finished', { job_id: jobId, records: s.records, invalid: s.invalid, bytes: s.bytes, sha256: s.sha256 }),
    (err: unknown) => console.error('export stream failed', { job_id: jobId, error: String(err) }),
  );
  return new Response(stream, {
    status: 200,
    headers: fileHeaders(format, compression, exportFileName(`job-${jobId}`, format, compression)),
  });
}

export interface ExportRequest {
  job_id: string;
  format: ExportFormat;
  compression: ExportCompression;
  fields?: string | string[];
  webhook_url?: string;
  webhook_secret?: string;
}

/** `POST /exports`: checks, records the pending export and starts its run in the background. */
export async function requestStoredExport(c: Context<AppEnv>, store: JobResultsStore, body: ExportRequest): Promise<ExportRow> {
  const principal = principalOf(c);
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
  audit(c, {
    action: 'export_requested',
    outcome: 'success',
    status: 202,
    details: { export_id: row.id, job_id: row.job_id, format: row.format },
  });
  return row;
}

/** One of the caller's exports; 404 for an unknown id or another tenant's. */
export async function ownExport(c: Context<AppEnv>, exportId: string): Promise<ExportRow> {
  const row = await findExport(c.env.DB, exportId, tenantOf(principalOf(c)));
  if (!row) throw new GatewayError('not_found', 'No such export');
  return row;
}

/** `GET /exports/{id}/download`: the stored file of a completed export, with its digest. */
export async function downloadExport(c: Context<AppEnv>, exportId: string): Promise<Response> {
  const row = await ownExport(c, exportId);
  if (row.status !== 'completed' || !row.r2_key || !row.manifest)
    throw new GatewayError('conflict', `The export is ${row.status}, not completed`);
  const object = await c.env.RESULTS.get(row.r2_key);
  if (!object) throw new GatewayError('not_found', 'The export file is gone');
  const headers = fileHeaders(row.format, row.compression, row.manifest.file_name);
  headers.set('Content-Length', String(object.size));
  headers.set('ETag', object.httpEtag);
  // RFC 9530 Repr-Digest: the client can check the file against the manifest's sha256.
  const digest = btoa(String.fromCharCode(...(row.manifest.sha256.match(/../g) ?? []).map((h) => Number.parseInt(h, 16))));
  headers.set('Repr-Digest', `sha-256=:${digest}:`);
  return new Response(object.body, { status: 200, headers });
}
