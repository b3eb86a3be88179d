/** Worker entry: the HTTP app, the housekeeping cron, and the Durable Object classes. */
import type { Env } from './env';
import { app } from './app';
import { runHousekeeping } from './housekeeping';

export { RateLimiter } from './ratelimit/rate-limiter-do';
export { RefreshFamily } from './auth/refresh-family-do';
export { AuditLog } from './audit/audit-log-do';
export { MetricsAggregator } from './metrics/metrics-do';

export default {
  fetch: app.fetch,
  async scheduled(controller, env, ctx) {
    ctx.waitUntil(runHousekeeping(env, controller.scheduledTime));
  },
} satisfies ExportedHandler<Env>;
