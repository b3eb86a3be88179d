/**
 * A job's mutable state (kept in its object's `meta` table) and the status snapshot GET /jobs/{id}
 * answers: counts, progress with ETA, per-page timing, bytes and the webhook delivery log.
 */
import { computeProgress } from './progress';
import { countPages, durationQuantile, finishedSince } from './job-pages';
import { deliveryLog, type DeliveryLogEntry } from './job-webhooks';
import { TERMINAL_STATUSES, type JobSpec, type JobStatus } from './types';

/** Window for the "recent" rate the ETA is computed from. */
export const ETA_WINDOW_MS = 30_000;

export interface JobState {
  status: JobStatus;
  /** Why the gateway paused the job (`principal_revoked`, `principal_disabled`); null/absent otherwise. */
  statusReason?: string | null;
  startedAt: number | null;
  runningSince: number | null;
  activeMs: number;
  finishedAt: number | null;
  progressStep: number;
  /** The D1 index row is behind (its last update failed); the alarm retries. */
  indexDirty: boolean;
}

export interface JobSnapshot {
  job_id: string;
  status: JobStatus;
  /** Set when the gateway paused the job: `principal_revoked` or `principal_disabled` (docs/jobs.md). */
  status_reason: string | null;
  priority: JobSpec['priority'];
  engine: JobSpec['engine'];
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  counts: { total: number; done: number; failed: number; retrying: number; pending: number; in_flight: number; cancelled: number };
  progress: { percent: number; eta_seconds: number | null; pages_per_second: number | null };
  timing: { p50_ms: number | null; p95_ms: number | null; active_seconds: number };
  bytes: number;
  webhook: { url: string; events: string[]; deliveries: DeliveryLogEntry[] } | null;
}

/** Running time so far, pauses excluded. */
export function activeMsOf(state: JobState, now: number): number {
  return state.activeMs + (state.runningSince !== null ? Math.max(0, now - state.runningSince) : 0);
}

/** The snapshot of a job from its object's storage. */
export function buildSnapshot(sql: SqlStorage, spec: Omit<JobSpec, 'urls'>, state: JobState, now: number): JobSnapshot {
  const c = countPages(sql);
  const activeMs = activeMsOf(state, now);
  const running = state.status === 'running';
  const progress = computeProgress({
    total: c.total,
    done: c.done,
    failed: c.failed + c.cancelled,
    activeMs,
    recentFinished: running ? finishedSince(sql, now - ETA_WINDOW_MS) : 0,
    windowMs: ETA_WINDOW_MS,
  });
  const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());
  return {
    job_id: spec.id,
    status: state.status,
    status_reason: state.statusReason ?? null,
    priority: spec.priority,
    engine: spec.engine,
    created_at: new Date(spec.createdAt).toISOString(),
    started_at: iso(state.startedAt),
    finished_at: iso(state.finishedAt),
    counts: {
      total: c.total,
      done: c.done,
      failed: c.failed,
      retrying: c.retrying,
      pending: c.pending - c.retrying,
      in_flight: c.leased,
      cancelled: c.cancelled,
    },
    progress: { ...progress, eta_seconds: TERMINAL_STATUSES.includes(state.status) ? 0 : running ? progress.eta_seconds : null },
    timing: { p50_ms: durationQuantile(sql, 0.5), p95_ms: durationQuantile(sql, 0.95), active_seconds: Math.round(activeMs / 100) / 10 },
    bytes: c.bytes,
    webhook: spec.webhook ? { url: spec.webhook.url, events: spec.webhook.events, deliveries: deliveryLog(sql) } : null,
  };
}
