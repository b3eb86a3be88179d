/**
 * Turning limiter answers into HTTP (shared by both middlewares): the list of applied limits kept on
 * the context for the headers, 429 `rate_limited` / `concurrency_limited` with `Retry-After`
 * (RFC 6585 §4), and 503 `limiter_unavailable` when the limiter cannot answer.
 */
import type { Context } from 'hono';
import type { AppEnv } from '../env';
import { GatewayError } from '../http/errors';
import { audit } from '../audit/audit';
import { denialAuditDecision } from '../audit/aggregate';
import { countRateLimitRejection } from '../metrics/recorder';
import { rateLimitHeaders, retryAfterSeconds, type AppliedLimit } from './headers';
import { failsClosed } from './policy';
import { requestRoute } from '../http/request-target';

declare module 'hono' {
  interface ContextVariableMap {
    /** Limits applied to this request so far, for the RateLimit headers. */
    rateLimits: AppliedLimit[];
  }
}

/** Seconds a client should wait after a 503 from the limiter. */
export const LIMITER_RETRY_AFTER_S = 5;

/** Seconds a client should wait after a 429 `concurrency_limited`: any in-flight request may end soon. */
export const CONCURRENCY_RETRY_AFTER_S = 2;

export function appliedLimits(c: Context<AppEnv>): AppliedLimit[] {
  let list = c.get('rateLimits');
  if (!list) {
    list = [];
    c.set('rateLimits', list);
  }
  return list;
}

/**
 * A client over a limit gets at most one `rate_limited` row per dimension per window and isolate;
 * the next row carries `suppressed` (src/audit/aggregate.ts).
 */
function auditRefusal(c: Context<AppEnv>, dimension: string, details: Record<string, unknown>): void {
  const who = c.get('principal')?.id ?? `ip:${c.get('clientIp') ?? 'unknown'}`;
  const d = denialAuditDecision(`rate_limited|${who}|${dimension}`, Date.now());
  if (!d.write) return;
  audit(c, {
    action: 'rate_limited',
    outcome: 'denied',
    reason: dimension,
    status: 429,
    details: d.suppressed ? { ...details, suppressed: d.suppressed } : details,
  });
}

/** Records the applied limits; throws 429 naming the first refusing dimension when any refused. */
export function enforce(c: Context<AppEnv>, applied: Array<AppliedLimit & { dimension: string }>): void {
  const all = appliedLimits(c);
  all.push(...applied);
  const denied = applied.filter((a) => !a.decision.allowed);
  if (denied.length === 0) return;
  const first = denied[0] as AppliedLimit & { dimension: string };
  const retryAfter = retryAfterSeconds(denied);
  countRateLimitRejection(first.dimension);
  auditRefusal(c, first.dimension, { policy: first.policy, limit: first.spec.text, retry_after_s: retryAfter });
  throw new GatewayError('rate_limited', `Rate limit exceeded (${first.policy}: ${first.spec.text}); retry in ${retryAfter} s`, {
    headers: { ...rateLimitHeaders(all), 'Retry-After': String(retryAfter) },
    extras: { limit: first.spec.text, policy: first.policy, retry_after: retryAfter },
  });
}

/** Over the concurrency cap: 429 `concurrency_limited`. */
export function refuseConcurrency(c: Context<AppEnv>, max: number, active: number): never {
  countRateLimitRejection('concurrency');
  auditRefusal(c, 'concurrency', { max, active });
  throw new GatewayError(
    'concurrency_limited',
    `At most ${max} crawl requests may run at once for this credential; retry when one finishes`,
    {
      headers: { ...rateLimitHeaders(appliedLimits(c)), 'Retry-After': String(CONCURRENCY_RETRY_AFTER_S) },
      extras: { max_concurrency: max },
    },
  );
}

/**
 * The limiter failed. /auth/*, /admin/* and crawl routes fail closed (503 + Retry-After): an outage
 * of the limiter must not open login brute force or unmetered crawling. Health/metrics fail open
 * so load balancers do not take the gateway out because of the limiter. Returns normally = fail open.
 */
export function onLimiterFailure(c: Context<AppEnv>, dimension: string, err: unknown): void {
  const route = requestRoute(c);
  console.error('rate limiter unavailable', { request_id: c.get('requestId'), dimension, path: route.path, error: String(err) });
  if (!failsClosed(route)) return;
  audit(c, { action: 'rate_limited', outcome: 'error', reason: `limiter_unavailable:${dimension}`, status: 503 });
  throw new GatewayError('limiter_unavailable', 'The rate limiter is unavailable; retry shortly', {
    headers: { 'Retry-After': String(LIMITER_RETRY_AFTER_S) },
    extras: { retry_after: LIMITER_RETRY_AFTER_S },
  });
}
