/**
 * How the jobs routes shape their answers (src/routes/jobs.ts): a job row as a list entry, the
 * opaque list cursor, and the results as one NDJSON stream.
 */
import type { Env } from '../env';
import { GatewayError } from '../http/errors';
import { decodeKeysetCursor } from '../http/cursor';
import { JOB_ID, type JobRow } from '../jobs/job-index';
import { d1JobResults } from '../jobs/results';
import type { PRINCIPAL_REASONS } from '../jobs/types';

/** A job row as GET /jobs lists it. */
export function summary(r: JobRow) {
  return {
    job_id: r.id,
    status: r.status,
    status_reason: (r.status_reason ?? null) as (typeof PRINCIPAL_REASONS)[number] | null,
    priority: r.priority,
    engine: r.engine,
    total: r.total,
    done: r.done,
    failed: r.failed,
    created_at: new Date(r.created_at).toISOString(),
    finished_at: r.finished_at === null ? null : new Date(r.finished_at).toISOString(),
  };
}

/** The keyset position a GET /jobs cursor names; a cursor this API did not return is a 422. */
export function decodeCursor(cursor: string): { createdAt: number; id: string } {
  const c = decodeKeysetCursor(cursor, JOB_ID);
  if (c) return c;
  throw new GatewayError('validation_failed', 'Invalid request: cursor is not one this API returned', {
    extras: { errors: [{ path: 'cursor', message: 'invalid cursor' }] },
  });
}

/** The caller's job results as one NDJSON stream, a page at a time (no buffering). */
export function resultsNdjson(env: Env, id: string): Response {
  const enc = new TextEncoder();
  const it = d1JobResults.open(env, id).pages()[Symbol.asyncIterator]();
  const stream = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const next = await it.next();
        if (next.done) return controller.close();
        controller.enqueue(
          enc.encode(next.value.records.map((r) => JSON.stringify(r)).join('\n') + (next.value.records.length ? '\n' : '')),
        );
      },
      async cancel() {
        await it.return?.();
      },
    },
    { highWaterMark: 0 },
  );
  return new Response(stream, { headers: { 'Content-Type': 'application/x-ndjson', 'Cache-Control': 'private, no-store' } });
}
