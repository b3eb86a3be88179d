/**
 * The page table inside a CrawlJob object (its SQLite storage): one row per URL with its state.
 * Every change is a synchronous SQL statement, so each claim and report is committed atomically
 * with the object's next output (the checkpoint), and a restarted object resumes from exactly there.
 *
 *   pending ──claim──▶ leased ──report──▶ done | failed
 *      ▲                 │ (retryable: attempts+1, next_at = now + backoff)
 *      └──── report ─────┤
 *      └── lease expiry ─┘ (consumer lost: no attempt counted)
 */
export type PageState = 'pending' | 'leased' | 'done' | 'failed' | 'cancelled';

export const PAGES_SCHEMA = [
  `CREATE TABLE IF NOT EXISTS pages (
    idx INTEGER PRIMARY KEY,
    url TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    next_at INTEGER NOT NULL DEFAULT 0,
    batch TEXT,
    lease_until INTEGER,
    status_code INTEGER,
    duration_ms INTEGER,
    bytes INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    finished_at INTEGER
  )`,
  'CREATE INDEX IF NOT EXISTS pages_state_next ON pages (state, next_at)',
  'CREATE INDEX IF NOT EXISTS pages_batch ON pages (batch)',
  'CREATE INDEX IF NOT EXISTS pages_finished ON pages (finished_at)',
];

export interface PageCounts {
  total: number;
  pending: number;
  leased: number;
  done: number;
  failed: number;
  cancelled: number;
  /** Pending pages that have failed at least once and wait for another attempt. */
  retrying: number;
  bytes: number;
}

export function insertPages(sql: SqlStorage, urls: readonly string[]): void {
  for (let i = 0; i < urls.length; i++) sql.exec('INSERT INTO pages (idx, url) VALUES (?, ?)', i, urls[i]!);
}

export function countPages(sql: SqlStorage): PageCounts {
  const c: PageCounts = { total: 0, pending: 0, leased: 0, done: 0, failed: 0, cancelled: 0, retrying: 0, bytes: 0 };
  for (const row of sql.exec<{ state: PageState; n: number; bytes: number; retrying: number }>(
    'SELECT state, count(*) AS n, coalesce(sum(bytes), 0) AS bytes, sum(CASE WHEN attempts > 0 THEN 1 ELSE 0 END) AS retrying FROM pages GROUP BY state',
  )) {
    c[row.state] = row.n;
    c.total += row.n;
    c.bytes += row.bytes;
    if (row.state === 'pending') c.retrying = row.retrying;
  }
  return c;
}

/** Leases up to `max` due pending pages to `batch`; returns them (ascending idx). */
export function leasePages(
  sql: SqlStorage,
  batch: string,
  max: number,
  now: number,
  leaseUntil: number,
): { idx: number; url: string; attempts: number }[] {
  const rows = sql
    .exec<{ idx: number; url: string; attempts: number }>(
      "SELECT idx, url, attempts FROM pages WHERE state = 'pending' AND next_at <= ? ORDER BY next_at, idx LIMIT ?",
      now,
      max,
    )
    .toArray();
  for (const r of rows) sql.exec("UPDATE pages SET state = 'leased', batch = ?, lease_until = ? WHERE idx = ?", batch, leaseUntil, r.idx);
  return rows;
}

/** The earliest time a pending page becomes due, or null when none is pending. */
export function nextDue(sql: SqlStorage): number | null {
  const row = sql.exec<{ at: number | null }>("SELECT min(next_at) AS at FROM pages WHERE state = 'pending'").one();
  return row.at;
}

/** Pages of a batch that are still leased to it. */
export function batchPages(sql: SqlStorage, batch: string): { idx: number; url: string; attempts: number }[] {
  return sql
    .exec<{ idx: number; url: string; attempts: number }>(
      "SELECT idx, url, attempts FROM pages WHERE state = 'leased' AND batch = ? ORDER BY idx",
      batch,
    )
    .toArray();
}

/** Puts pages whose lease ran out back to pending (their consumer is gone); returns how many. */
export function reclaimExpired(sql: SqlStorage, now: number): number {
  return sql.exec("UPDATE pages SET state = 'pending', batch = NULL, lease_until = NULL WHERE state = 'leased' AND lease_until < ?", now)
    .rowsWritten;
}

/** Puts a batch's unreported pages back to pending. */
export function releaseBatch(sql: SqlStorage, batch: string): number {
  return sql.exec("UPDATE pages SET state = 'pending', batch = NULL, lease_until = NULL WHERE state = 'leased' AND batch = ?", batch)
    .rowsWritten;
}

export function earliestLease(sql: SqlStorage): number | null {
  return sql.exec<{ at: number | null }>("SELECT min(lease_until) AS at FROM pages WHERE state = 'leased'").one().at;
}

/** Nearest-rank percentile of finished pages' durations, without loading them all. */
export function durationQuantile(sql: SqlStorage, q: number): number | null {
  const n = sql
    .exec<{ n: number }>("SELECT count(*) AS n FROM pages WHERE state IN ('done', 'failed') AND duration_ms IS NOT NULL")
    .one().n;
  if (n === 0) return null;
  const offset = Math.min(n, Math.max(1, Math.ceil(q * n))) - 1;
  return sql
    .exec<{ d: number }>(
      "SELECT duration_ms AS d FROM pages WHERE state IN ('done', 'failed') AND duration_ms IS NOT NULL ORDER BY duration_ms LIMIT 1 OFFSET ?",
      offset,
    )
    .one().d;
}

export function finishedSince(sql: SqlStorage, since: number): number {
  return sql.exec<{ n: number }>('SELECT count(*) AS n FROM pages WHERE finished_at >= ?', since).one().n;
}
