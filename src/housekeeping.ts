/**
 * The cron trigger's work (wrangler.toml `[triggers]`). Each task is bounded and independent:
 * one failing does not stop the others. Every task is listed here, explicitly: no module registers
 * one as a side effect of being imported.
 */
import type { Env } from './env';
import { loadConfig, type Config } from './config';
import { auditCheckpointTask, auditRetentionTask } from './audit/retention';
import { purgeOldJobs } from './jobs/retention';
import { purgeOwnershipRows } from './crawl/origin/ownership';
import { purgeArtifactRows } from './crawl/artifacts';
import { purgeUsageRollups } from './metering/usage-retention';

export type HousekeepingTask = (env: Env, config: Config, now: number) => Promise<unknown>;

export const HOUSEKEEPING_TASKS: Record<string, HousekeepingTask> = {
  audit_retention: auditRetentionTask,
  // After audit_retention: the checkpoint signs the boundaries it just moved.
  audit_checkpoint: auditCheckpointTask,
  job_retention: purgeOldJobs,
  crawl_ownership_retention: (env, _config, now) => purgeOwnershipRows(env.DB, now),
  crawl_artifact_retention: (env, _config, now) => purgeArtifactRows(env.DB, now),
  usage_retention: (env, config, now) => purgeUsageRollups(env.DB, config.USAGE_RETENTION_DAYS, now),
};

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
