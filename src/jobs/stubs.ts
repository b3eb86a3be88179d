/** Stubs of the jobs module's Durable Objects: one CrawlJob per job id, one global JobScheduler. */
import type { Env } from '../env';

export const SCHEDULER_NAME = 'global';

export function jobStub(env: Env, jobId: string) {
  return env.JOBS.get(env.JOBS.idFromName(jobId));
}

export function schedulerStub(env: Env) {
  return env.JOB_SCHEDULER.get(env.JOB_SCHEDULER.idFromName(SCHEDULER_NAME));
}
