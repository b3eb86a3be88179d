/**
 * The request and answer shapes of the RateLimiter object's `admit` RPC (src/ratelimit/rate-limiter-do.ts):
 * the buckets to check, the concurrency lease, piggybacked releases and budget refunds.
 */
import type { RateLimitDecision } from './gcra';
import type { RateLimitSpec } from './limit-spec';
import type { BudgetDecision } from '../metering/budget-ledger';

/** One bucket to check: `bucket` names it inside the object (e.g. "ip", "route:api", "key"). */
export interface BucketCheck {
  bucket: string;
  spec: RateLimitSpec;
  cost?: number;
}

/** A concurrency lease request: at most `max` live leases; each expires after `ttlMs` unless renewed. */
export interface LeaseRequest {
  id: string;
  max: number;
  ttlMs: number;
  /** Refuse (with `duplicate`) when a live lease already has this id, rather than renew it (MCP call ids). */
  fresh?: boolean;
}

export interface LeaseDecision {
  acquired: boolean;
  /** Live leases after this call (including this one when acquired). */
  active: number;
  max: number;
  /** When denied: milliseconds until the oldest live lease expires at the latest. */
  retryAfterMs: number;
  /** A `fresh` lease whose id is already live. */
  duplicate?: boolean;
}

export interface AdmitRequest {
  checks: BucketCheck[];
  lease?: LeaseRequest;
  /** Leases this caller finished with since its last call (released before deciding: piggybacked releases). */
  release?: string[];
  /** Injected clock for tests; defaults to `Date.now()`. */
  now?: number;
  /**
   * Credits this request may cost at most (docs/metering.md): reserved against the principal's
   * budget in the same all-or-nothing decision. Ignored when the principal has no budget.
   */
  charge?: number;
  /** Unused reservations of finished requests, given back before deciding (piggybacked like releases). */
  refunds?: BudgetRefund[];
}

/** Credits a finished request did not use, and the period they were reserved in. */
export interface BudgetRefund {
  credits: number;
  periodStart: number;
}

export interface AdmitResult {
  /** True when every bucket allowed and the lease (if asked) was acquired; only then is anything stored. */
  allowed: boolean;
  decisions: Array<RateLimitDecision & { bucket: string }>;
  lease?: LeaseDecision;
  /** The budget answer when a charge was asked and the principal has a budget. */
  budget?: BudgetDecision;
}
