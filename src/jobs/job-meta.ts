/**
 * The `meta` table inside a CrawlJob object: one JSON value per key (`spec`, `state`), and the
 * shapes the object answers with. Plain functions over the object's SQL handle, so the object class
 * only decides what to read and write.
 */
import type { BatchWork, JobSpec, WorkItem } from './types';
import type { JobState } from './job-snapshot';

export const META_SCHEMA = ['CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL)'];

/** The job's spec as stored (its URLs live in the page table). */
export type StoredJobSpec = Omit<JobSpec, 'urls'>;

/** The state a freshly created job starts in. */
export function initialJobState(): JobState {
  return {
    status: 'queued',
    startedAt: null,
    runningSince: null,
    activeMs: 0,
    finishedAt: null,
    progressStep: 0,
    indexDirty: false,
  };
}

export function readMeta<T>(sql: SqlStorage, k: string): T | undefined {
  const row = sql.exec<{ v: string }>('SELECT v FROM meta WHERE k = ?', k).toArray()[0];
  return row ? (JSON.parse(row.v) as T) : undefined;
}

export function writeMeta(sql: SqlStorage, k: string, v: unknown): void {
  sql.exec('INSERT INTO meta (k, v) VALUES (?, ?) ON CONFLICT(k) DO UPDATE SET v = excluded.v', k, JSON.stringify(v));
}

export type ClaimResult = { kind: 'batch'; batchId: string; count: number } | { kind: 'wait'; at: number } | { kind: 'none' };

/** What the scheduler should do about this job after a report: nothing, or run it again at `at`. */
export interface WakeRequest {
  jobId: string;
  tenant: string;
  rank: number;
  at: number;
}

/** What a consumer needs to run one leased batch of the job. */
export function batchWorkOf(spec: StoredJobSpec, batchId: string, items: WorkItem[]): BatchWork {
  return {
    jobId: spec.id,
    batchId,
    tenant: spec.tenant,
    principal: spec.principal,
    engine: spec.engine,
    body: spec.body,
    sessionId: spec.sessionId,
    allowPrivateTargets: spec.allowPrivateTargets,
    items,
  };
}
