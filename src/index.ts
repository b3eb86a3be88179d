/** Worker entry: the HTTP app, the housekeeping cron, and the Durable Object classes. */
import type { Env } from './env';
import { app } from './app';
import { runHousekeeping } from './housekeeping';

export { RateLimiter } from './ratelimit/rate-limiter-do';
export { RefreshFamily } from './auth/refresh-family-do';
export { AuditLog } from './audit/audit-log-do';
export { MetricsAggregator } from './metrics/metrics-do';
export { CrawlJob } from './jobs/crawl-job-do';

export default {
  fetch: app.fetch,
  async queue(batch) {
    // Crawl-job work items (the jobs issue implements the consumer); until then they are retried.
    batch.retryAll();
  },
  async scheduled(controller, env, ctx) {
    ctx.waitUntil(runHousekeeping(env, controller.scheduledTime));
  },
} satisfies ExportedHandler<Env>;
