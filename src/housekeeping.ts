/**
 * The cron trigger's work (wrangler.toml `[triggers]`). Each task is bounded and independent:
 * one failing does not stop the others. Tasks register here as features land.
 */
import type { Env } from './env';
import { loadConfig, type Config } from './config';
import { auditCheckpointTask, auditRetentionTask } from './audit/retention';
import { purgeOldJobs } from './jobs/retention';

export type HousekeepingTask = (env: Env, config: Config, now: number) => Promise<unknown>;

export const HOUSEKEEPING_TASKS: Record<string, HousekeepingTask> = {};
HOUSEKEEPING_TASKS.audit_retention = auditRetentionTask;
HOUSEKEEPING_TASKS.job_retention = purgeOldJobs;
// After audit_retention: the checkpoint signs the boundaries it just moved.
HOUSEKEEPING_TASKS.audit_checkpoint = auditCheckpointTask;

export async function runHousekeeping(env: Env, now: number): Promise<Record<string, string>> {
  const result = loadConfig(env);
  if (!result.ok) return { config: 'misconfigured' };
  const out: Record<string, string> = {};
  for (const [name, task] of Object.entries(HOUSEKEEPING_TASKS)) {
    try {
      out[name] = JSON.stringify(await task(env, result.config, now));
    } catch (err) {
      out[name] = `failed: ${String(err)}`;
      console.error('housekeeping task failed', { task: name, error: String(err) });
    }
  }
  return out;
}
