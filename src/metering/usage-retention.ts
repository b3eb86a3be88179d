/**
 * Usage rollups are billing records: kept USAGE_RETENTION_DAYS (default 400, a year and a month of
 * invoices to look back on), then deleted by the cron in bounded batches so one run's D1 work
 * stays small however far behind it is.
 */
const DAY_MS = 86_400_000;
/** Rows deleted per statement, and statements per run: at most 50,000 rows a run. */
const BATCH_ROWS = 5_000;
const MAX_BATCHES = 10;

export async function purgeUsageRollups(db: D1Database, retentionDays: number, now: number): Promise<{ usage_rows: number }> {
  // Whole UTC days only: a day is kept until all of it is older than the retention.
  const before = Math.floor((now - retentionDays * DAY_MS) / DAY_MS) * DAY_MS;
  let total = 0;
  for (let i = 0; i < MAX_BATCHES; i++) {
    const r = await db
      .prepare('DELETE FROM usage_rollups WHERE rowid IN (SELECT rowid FROM usage_rollups WHERE day < ?1 LIMIT ?2)')
      .bind(before, BATCH_ROWS)
      .run();
    const n = r.meta.changes ?? 0;
    total += n;
    if (n < BATCH_ROWS) break;
  }
  return { usage_rows: total };
}
