/**
 * A budget answer as HTTP (docs/metering.md): the budget joins the RateLimit headers as the policy
 * `"budget"` (`q` = credits per period, `w` = the period, `r` = credits left, `t` = seconds to the
 * refill), and a refusal is 402 `quota_exhausted` with `remaining` and `resets_at`, audited.
 */
import type { Context } from 'hono';
import type { AppEnv } from '../env';
import { GatewayError } from '../http/errors';
import { audit } from '../audit/audit';
import { appliedLimits } from '../ratelimit/enforce';
import { rateLimitHeaders, type AppliedLimit } from '../ratelimit/headers';
import type { BudgetDecision } from './budget-ledger';
import { periodSeconds } from './period';

/** What was reserved for this request, for the reconciliation after it (src/metering/meter.ts). */
export interface BudgetReservation {
  /** The `RateLimiter` object holding the budget. */
  object: string;
  credits: number;
  periodStart: number;
}

declare module 'hono' {
  interface ContextVariableMap {
    budgetReservation: BudgetReservation;
  }
}

/** The budget as an applied limit (header arithmetic wants whole numbers). */
export function budgetLimit(d: BudgetDecision, now: number): AppliedLimit {
  const resetMs = Math.max(0, Date.parse(d.view.resets_at) - now);
  const limit = Math.floor(d.view.credits);
  return {
    policy: 'budget',
    spec: { limit, windowMs: periodSeconds(d.view.period) * 1000, text: `${d.view.credits} credits/${d.view.period}` },
    decision: { allowed: d.allowed, limit, remaining: Math.floor(d.view.remaining), resetMs, retryAfterMs: d.allowed ? 0 : resetMs },
  };
}

/**
 * Records the budget for the headers and the reservation for the reconciliation; throws 402
 * `quota_exhausted` when the request would exceed it (nothing was reserved, nothing runs).
 */
export function enforceBudget(c: Context<AppEnv>, object: string, d: BudgetDecision, required: number, now = Date.now()): void {
  const applied = budgetLimit(d, now);
  appliedLimits(c).push(applied);
  if (d.allowed) {
    if (d.reserved > 0) c.set('budgetReservation', { object, credits: d.reserved, periodStart: d.periodStart });
    return;
  }
  const retryAfter = Math.max(1, Math.ceil(applied.decision.resetMs / 1000));
  audit(c, {
    action: 'rate_limited',
    outcome: 'denied',
    reason: 'quota_exhausted',
    status: 402,
    details: { required, remaining: d.view.remaining, resets_at: d.view.resets_at },
  });
  throw new GatewayError(
    'quota_exhausted',
    `This request may cost ${required} credits; ${d.view.remaining} of ${d.view.credits} are left this ${d.view.period} (refill at ${d.view.resets_at})`,
    {
      headers: { ...rateLimitHeaders(appliedLimits(c)), 'Retry-After': String(retryAfter) },
      extras: { remaining: d.view.remaining, resets_at: d.view.resets_at, required, credits: d.view.credits, period: d.view.period },
    },
  );
}
