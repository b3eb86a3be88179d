/**
 * The D1 side of jobs: the owner index (`jobs`: GET /jobs, ownership checks, exports) and the job
 * row's status mirror, written by the job's object. Every read filters by tenant unless the caller
 * is an admin, so another tenant's job reads exactly like a missing one (OWASP API1:2023 BOLA).
 */
import type { JobStatus, Priority } from './types';
import { prefixedId } from '../lib/ids';

export interface JobRow {
  id: string;
  tenant: string;
  principal_id: string;
  status: JobStatus;
  /** Why the gateway paused the job (migration 0009); null otherwise. */
  status_reason: string | null;
  priority: Priority;
  engine: string;
  session_id: string | null;
  total: number;
  done: number;
  failed: number;
  created_at: number;
  updated_at: number;
  finished_at: number | null;
}

/** `job_` + 24 hex digits (96 random bits): what newJobId makes and every route accepts. */
export const JOB_ID = /^job_[0-9a-f]{24}$/;

export function newJobId(): string {
  return prefixedId('job', 12);
}

export async function insertJobRow(
  db: D1Database,
  row: Omit<JobRow, 'done' | 'failed' | 'updated_at' | 'finished_at' | 'status_reason'>,
): Promise<void> {
  await db
    .prepare(
      'INSERT INTO jobs (id, tenant, principal_id, status, priority, engine, session_id, total, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)',
    )
    .bind(row.id, row.tenant, row.principal_id, row.status, row.priority, row.engine, row.session_id, row.total, row.created_at)
    .run();
}

export async function deleteJobRow(db: D1Database, id: string): Promise<void> {
  await db.prepare('DELETE FROM jobs WHERE id = ?').bind(id).run();
}

export async function updateJobRow(
  db: D1Database,
  id: string,
  u: { status: JobStatus; statusReason: string | null; done: number; failed: number; finishedAt: number | null },
  now: number,
): Promise<void> {
  await db
    .prepare('UPDATE jobs SET status = ?2, done = ?3, failed = ?4, finished_at = ?5, updated_at = ?6, status_reason = ?7 WHERE id = ?1')
    .bind(id, u.status, u.done, u.failed, u.finishedAt, now, u.statusReason)
    .run();
}

/** The job's row when `tenant` owns it (or `tenant` is null: an admin); null otherwise. */
export async function findJobRow(db: D1Database, id: string, tenant: string | null): Promise<JobRow | null> {
  return tenant === null
    ? db.prepare('SELECT * FROM jobs WHERE id = ?').bind(id).first<JobRow>()
    : db.prepare('SELECT * FROM jobs WHERE id = ? AND tenant = ?').bind(id, tenant).first<JobRow>();
}

export interface JobListQuery {
  tenant: string | null;
  status?: JobStatus;
  /** Keyset cursor: (created_at, id) of the last row seen. */
  before?: { createdAt: number; id: string };
  limit: number;
}

export async function listJobRows(db: D1Database, q: JobListQuery): Promise<JobRow[]> {
  const where: string[] = [];
  const args: unknown[] = [];
  if (q.tenant !== null) {
    where.push('tenant = ?');
    args.push(q.tenant);
  }
  if (q.status) {
    where.push('status = ?');
    args.push(q.status);
  }
  if (q.before) {
    where.push('(created_at < ? OR (created_at = ? AND id < ?))');
    args.push(q.before.createdAt, q.before.createdAt, q.before.id);
  }
  const sql = `SELECT * FROM jobs ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY created_at DESC, id DESC LIMIT ?`;
  const res = await db
    .prepare(sql)
    .bind(...args, q.limit)
    .all<JobRow>();
  return res.results;
}
