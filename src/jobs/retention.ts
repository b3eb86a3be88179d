/**
 * Job retention (cron, src/housekeeping.ts): finished jobs older than JOB_RETENTION_DAYS lose
 * their D1 index row, page records, R2 results and usage older than 90 days, in bounded batches so
 * one run never exceeds a Worker's limits. A job's object keeps its own small state; with no index
 * row it is unreachable (every route checks the row first).
 */
import type { Env } from '../env';
import type { Config } from '../config';

export const RETENTION_BATCH = 50;
export const USAGE_RETENTION_MS = 90 * 86_400_000;

export async function purgeOldJobs(env: Env, config: Config, now: number): Promise<{ jobs: number; usage: number }> {
  const cutoff = now - config.JOB_RETENTION_DAYS * 86_400_000;
  const old = (await env.DB.prepare("SELECT id FROM jobs WHERE finished_at IS NOT NULL AND finished_at < ? AND status IN ('completed', 'failed', 'cancelled') LIMIT ?").bind(cutoff, RETENTION_BATCH).all<{ id: string }>()).results;
  for (const { id } of old) {
    let cursor: string | undefined;
    do {
      const listed = await env.RESULTS.list({ prefix: `jobs/${id}/`, cursor });
      if (listed.objects.length) await env.RESULTS.delete(listed.objects.map((o) => o.key));
      cursor = listed.truncated ? listed.cursor : undefined;
    } while (cursor);
    await env.DB.batch([env.DB.prepare('DELETE FROM job_results WHERE job_id = ?').bind(id), env.DB.prepare('DELETE FROM jobs WHERE id = ?').bind(id)]);
  }
  const usage = await env.DB.prepare('DELETE FROM usage_hourly WHERE hour < ?').bind(now - USAGE_RETENTION_MS).run();
  return { jobs: old.length, usage: usage.meta.changes ?? 0 };
}
