/**
 * Job retention (cron, src/housekeeping.ts): finished jobs older than JOB_RETENTION_DAYS lose
 * their D1 index row, page records and R2 results; stored exports older than that lose their row
 * and file; usage rows older than 90 days go. Bounded batches, so one run never exceeds a Worker's
 * limits (the next hourly run continues). A job's object keeps its own small state; with no index
 * row it is unreachable (every route checks the row first).
 */
import type { Env } from '../env';
import type { Config } from '../config';

export const RETENTION_BATCH = 50;
export const USAGE_RETENTION_MS = 90 * 86_400_000;

export async function purgeOldJobs(env: Env, config: Config, now: number): Promise<{ jobs: number; exports: number; usage: number }> {
  const cutoff = now - config.JOB_RETENTION_DAYS * 86_400_000;
  const old = (
    await env.DB.prepare(
      "SELECT id FROM jobs WHERE finished_at IS NOT NULL AND finished_at < ? AND status IN ('completed', 'failed', 'cancelled') LIMIT ?",
    )
      .bind(cutoff, RETENTION_BATCH)
      .all<{ id: string }>()
  ).results;
  for (const { id } of old) {
    let cursor: string | undefined;
    do {
      const listed = await env.RESULTS.list({ prefix: `jobs/${id}/`, cursor });
      if (listed.objects.length) await env.RESULTS.delete(listed.objects.map((o) => o.key));
      cursor = listed.truncated ? listed.cursor : undefined;
    } while (cursor);
    await env.DB.batch([
      env.DB.prepare('DELETE FROM job_results WHERE job_id = ?').bind(id),
      env.DB.prepare('DELETE FROM jobs WHERE id = ?').bind(id),
    ]);
  }
  const exports = (
    await env.DB.prepare("SELECT id, r2_key FROM exports WHERE created_at < ? AND status IN ('completed', 'failed') LIMIT ?")
      .bind(cutoff, RETENTION_BATCH)
      .all<{ id: string; r2_key: string | null }>()
  ).results;
  const keys = exports.flatMap((e) => (e.r2_key ? [e.r2_key] : []));
  if (keys.length) await env.RESULTS.delete(keys);
  if (exports.length) await env.DB.batch(exports.map((e) => env.DB.prepare('DELETE FROM exports WHERE id = ?').bind(e.id)));
  const usage = await env.DB.prepare('DELETE FROM usage_hourly WHERE hour < ?')
    .bind(now - USAGE_RETENTION_MS)
    .run();
  return { jobs: old.length, exports: exports.length, usage: usage.meta.changes ?? 0 };
}
