/**
 * Runs one stored export: job results → export stream → R2, then the manifest into D1 and the
 * webhook. Called in `waitUntil` by `POST /exports`; a queue consumer can call it the same way.
 */
import type { Env } from '../env';
import { exportFileName, fileTypeOf } from './formats';
import { buildManifest } from './manifest';
import { uploadStream } from './r2-upload';
import { recordsOf, type JobResultsStore } from './source';
import { markCompleted, markFailed, markRunning, setWebhookStatus, type ExportRow } from './store';
import { createExportStream } from './stream';
import { deliverWebhook } from './webhook';

export interface RunExportOptions {
  store: JobResultsStore;
  now: () => number;
  requestId: string;
  allowPrivateTargets: boolean;
  /** In memory only, for this run (see docs/exports.md). */
  webhookSecret?: string;
  sleep?: (ms: number) => Promise<void>;
}

/** Where an export's file lives in `RESULTS`. */
export function exportObjectKey(row: Pick<ExportRow, 'id' | 'format' | 'compression'>): string {
  return `exports/${row.id}/${exportFileName(row.id, row.format, row.compression)}`;
}

export async function runStoredExport(env: Env, row: ExportRow, options: RunExportOptions): Promise<'completed' | 'failed'> {
  const db = env.DB;
  await markRunning(db, row.id, options.now());
  let outcome: 'completed' | 'failed';
  let payload: unknown;
  try {
    const key = exportObjectKey(row);
    const fileName = exportFileName(row.id, row.format, row.compression);
    const { stream, done } = createExportStream(recordsOf(options.store.open(env, row.job_id)), row);
    await uploadStream(env.RESULTS, key, stream, {
      httpMetadata: {
        contentType: fileTypeOf(row.format, row.compression).mediaType,
        contentDisposition: `attachment; filename="${fileName}"`,
      },
      customMetadata: { export_id: row.id, job_id: row.job_id },
    });
    const stats = await done;
    const manifest = buildManifest(
      {
        exportId: row.id,
        jobId: row.job_id,
        format: row.format,
        compression: row.compression,
        fields: row.fields,
        fileName,
        createdAt: row.created_at,
        completedAt: options.now(),
      },
      stats,
    );
    await markCompleted(db, row.id, key, manifest, options.now());
    outcome = 'completed';
    payload = { export_id: row.id, job_id: row.job_id, status: outcome, manifest };
  } catch (err) {
    console.error('export failed', { export_id: row.id, error: String(err) });
    await markFailed(db, row.id, 'The export could not be completed; try again', options.now());
    outcome = 'failed';
    payload = { export_id: row.id, job_id: row.job_id, status: outcome };
  }
  if (row.webhook_url && options.webhookSecret) {
    const status = await deliverWebhook({
      url: row.webhook_url,
      secret: options.webhookSecret,
      event: outcome === 'completed' ? 'export.completed' : 'export.failed',
      payload,
      requestId: options.requestId,
      allowPrivateTargets: options.allowPrivateTargets,
      now: options.now,
      sleep: options.sleep,
    });
    await setWebhookStatus(db, row.id, status, options.now());
  }
  return outcome;
}
