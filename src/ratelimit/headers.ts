/**
 * Response headers for rate-limited routes (pure):
 *  - `RateLimit-Policy` and `RateLimit` as in draft-ietf-httpapi-ratelimit-headers (-08 and later):
 *    Structured Field Lists, one member per policy: `"api";q=10;w=1` and `"api";r=9;t=1`.
 *  - the de-facto `X-RateLimit-Limit/-Remaining/-Reset` for the most restrictive policy, with
 *    `-Reset` in seconds from now (like `t` and `Retry-After`, not an epoch).
 *  - `Retry-After` (RFC 9110 §10.2.3, delay-seconds) on a 429.
 */
import type { RateLimitDecision } from './gcra';
import type { RateLimitSpec } from './limit-spec';

/** One limit that was applied to a request, named as it appears in the headers. */
export interface AppliedLimit {
  /** Policy name in the headers: "ip", "api", "login-user", "key", ... */
  policy: string;
  spec: RateLimitSpec;
  decision: RateLimitDecision;
}

const seconds = (ms: number) => Math.max(0, Math.ceil(ms / 1000));

/** The applied limit closest to refusing: least remaining, then longest reset. */
export function mostRestrictive(applied: readonly AppliedLimit[]): AppliedLimit | undefined {
  return [...applied].sort((a, b) => a.decision.remaining - b.decision.remaining || b.decision.resetMs - a.decision.resetMs)[0];
}

/** Headers for a set of applied limits (empty when none applied). */
export function rateLimitHeaders(applied: readonly AppliedLimit[]): Record<string, string> {
  if (applied.length === 0) return {};
  const policy = applied.map((a) => `"${a.policy}";q=${a.spec.limit};w=${seconds(a.spec.windowMs)}`).join(', ');
  const current = applied.map((a) => `"${a.policy}";r=${a.decision.remaining};t=${seconds(a.decision.resetMs)}`).join(', ');
  const worst = mostRestrictive(applied) as AppliedLimit;
  return {
    'RateLimit-Policy': policy,
    RateLimit: current,
    'X-RateLimit-Limit': String(worst.spec.limit),
    'X-RateLimit-Remaining': String(worst.decision.remaining),
    'X-RateLimit-Reset': String(seconds(worst.decision.resetMs)),
  };
}

/** `Retry-After` seconds for a refusal: the longest wait among the refusing limits (at least 1). */
export function retryAfterSeconds(denied: readonly AppliedLimit[]): number {
  return Math.max(1, ...denied.map((a) => seconds(a.decision.retryAfterMs)));
}
