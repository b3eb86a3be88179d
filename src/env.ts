/**
 * The Worker's bindings and the per-request variables every router and middleware shares.
 * One `AppEnv` type for the whole app (the Unkey pattern): `Hono<AppEnv>` everywhere.
 */
import type { Config } from './config';
import type { Principal } from './auth/principal';
import type { RateLimiter } from './ratelimit/rate-limiter-do';
import type { RefreshFamily } from './auth/refresh-family-do';
import type { AuditLog } from './audit/audit-log-do';
import type { MetricsAggregator } from './metrics/metrics-do';
import type { CrawlJob } from './jobs/crawl-job-do';
import type { JobScheduler } from './jobs/scheduler-do';
import type { HostPacer } from './polite/host-pacer-do';

/** Bindings declared in wrangler.toml plus every var and secret (all strings, parsed by `config.ts`). */
export interface Env {
  DB: D1Database;
  REVOCATIONS: KVNamespace;
  CACHE: KVNamespace;
  /** OAuth clients, grants and token hashes for MCP clients (@cloudflare/workers-oauth-provider). */
  OAUTH_KV: KVNamespace;
  RATE_LIMITER: DurableObjectNamespace<RateLimiter>;
  REFRESH_FAMILIES: DurableObjectNamespace<RefreshFamily>;
  AUDIT_LOG: DurableObjectNamespace<AuditLog>;
  METRICS: DurableObjectNamespace<MetricsAggregator>;
  JOBS: DurableObjectNamespace<CrawlJob>;
  JOB_SCHEDULER: DurableObjectNamespace<JobScheduler>;
  HOST_PACER: DurableObjectNamespace<HostPacer>;
  JOBS_QUEUE: Queue;
  RESULTS: R2Bucket;
  BROWSER?: Fetcher;

  // vars and secrets: raw strings; `parseConfig` is the only reader.
  [name: string]: unknown;
}

/** Values set by middleware for the rest of the request. */
export interface AppVariables {
  requestId: string;
  config: Config;
  /** Client IP from `CF-Connecting-IP` only (never a client-set `X-Forwarded-For`). */
  clientIp: string | null;
  /** Set by `authenticate`; absent on public routes. */
  principal?: Principal;
  /** The route template (e.g. `/admin/keys/:id`) the router matched, or "unmatched" (src/http/request-target.ts). */
  routeTemplate?: string;
  /** Hono's decoded routing path, read once per request (src/http/request-target.ts). */
  path?: string;
  /** The request URL, parsed once per request (src/http/request-target.ts). */
  url?: URL;
}

export interface AppEnv {
  Bindings: Env;
  Variables: AppVariables;
}
