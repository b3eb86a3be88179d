/**
 * What a CrawlJob tells the outside (pure): its webhook event body, when a `progress` event is due,
 * and the status its D1 index row mirrors. The object stores the delivery (src/jobs/job-webhooks.ts)
 * and its alarm sends it; the object writes the row (src/jobs/job-index.ts).
 */
import type { PageCounts } from './job-pages';
import type { JobState } from './job-snapshot';
import type { JobStatus } from './types';
import type { StoredJobSpec } from './job-meta';

export type JobEvent = 'completed' | 'failed' | 'cancelled' | 'progress';

/** The JSON body of a job webhook event. */
export function jobEventBody(spec: StoredJobSpec, state: JobState, c: PageCounts): Record<string, unknown> {
  return {
    job_id: spec.id,
    status: state.status,
    counts: { total: c.total, done: c.done, failed: c.failed, cancelled: c.cancelled },
    bytes: c.bytes,
    finished_at: state.finishedAt === null ? null : new Date(state.finishedAt).toISOString(),
    results_url: `/jobs/${spec.id}/results`,
  };
}

/** The 10 % step a `progress` event is due for, or null (no subscription, no new step, or finished). */
export function dueProgressStep(spec: StoredJobSpec, state: JobState, c: PageCounts): number | null {
  if (!spec.webhook?.events.includes('progress') || c.total === 0) return null;
  const step = Math.floor(((c.done + c.failed) / c.total) * 10);
  if (step <= state.progressStep || step >= 10) return null;
  return step;
}

/** The status and counts the job's D1 `jobs` row mirrors (GET /jobs lists from it). */
export function jobRowUpdate(
  state: JobState,
  c: PageCounts,
): { status: JobStatus; statusReason: string | null; done: number; failed: number; finishedAt: number | null } {
  return { status: state.status, statusReason: state.statusReason ?? null, done: c.done, failed: c.failed, finishedAt: state.finishedAt };
}
