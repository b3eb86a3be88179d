/** Worker entry: the HTTP app, the housekeeping cron, and the Durable Object classes. */
import type { Env } from './env';
import { app } from './app';
import { runHousekeeping } from './housekeeping';
import { consumeJobBatches } from './jobs/consumer';
import type { BatchMessage } from './jobs/types';

export { RateLimiter } from './ratelimit/rate-limiter-do';
export { RefreshFamily } from './auth/refresh-family-do';
export { AuditLog } from './audit/audit-log-do';
export { MetricsAggregator } from './metrics/metrics-do';
export { CrawlJob } from './jobs/crawl-job-do';
export { JobScheduler } from './jobs/scheduler-do';
export { HostPacer } from './polite/host-pacer-do';

export default {
  fetch: app.fetch,
  async queue(batch, env) {
    // JOBS_QUEUE: one message per batch of job pages (src/jobs/consumer.ts).
    await consumeJobBatches(batch as MessageBatch<BatchMessage>, env);
  },
  async scheduled(controller, env, ctx) {
    ctx.waitUntil(runHousekeeping(env, controller.scheduledTime));
  },
} satisfies ExportedHandler<Env>;
