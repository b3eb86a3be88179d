/**
 * Window math for every rate limit: GCRA (the Generic Cell Rate Algorithm, ITU-T I.371), i.e. a
 * token bucket stored as one number, the "theoretical arrival time" (TAT). Pure: the clock is passed in.
 *
 * Why GCRA rather than a sliding-window counter:
 *  - exact: a bucket of capacity B admits exactly B requests at once, then one per `windowMs/limit`
 *    (no approximation, no double burst at a fixed window's edge);
 *  - explicit bursts, like the seed's nginx `limit_req rate=10r/s burst=20`;
 *  - one row per bucket (the TAT), so a Durable Object's write per decision is tiny;
 *  - `cost` (requests that weigh more than one) and `Retry-After` fall out of the same arithmetic.
 */
import { capacityOf, type RateLimitSpec } from './limit-spec';

/** The outcome of one check, in the shape the headers need. */
export interface RateLimitDecision {
  allowed: boolean;
  /** The policy's quota (requests per window). */
  limit: number;
  /** Requests that could still be made right now (after this one, if it was allowed). */
  remaining: number;
  /** Milliseconds until the bucket is full again (the quota fully "resets"). */
  resetMs: number;
  /** Milliseconds until this request would be allowed (0 when allowed). */
  retryAfterMs: number;
}

export interface GcraResult {
  decision: RateLimitDecision;
  /** The TAT to store (unchanged when denied). */
  tat: number;
}

/** Milliseconds one request "costs" (the emission interval T). */
export function emissionIntervalMs(spec: RateLimitSpec): number {
  return spec.windowMs / spec.limit;
}

/**
 * One GCRA step. `storedTat` is the bucket's stored TAT (0 or anything ≤ now = full bucket).
 * A request of weight `cost` is allowed when, after adding it, the bucket would not overflow:
 * `newTat - capacity·T ≤ now`. Denied requests change nothing.
 */
export function gcra(storedTat: number, spec: RateLimitSpec, cost: number, now: number): GcraResult {
  const t = emissionIntervalMs(spec);
  const capacity = capacityOf(spec);
  const tat = Math.max(storedTat, now);
  const newTat = tat + cost * t;
  const allowAt = newTat - capacity * t;
  if (cost > capacity || allowAt > now) {
    return {
      tat: storedTat,
      decision: {
        allowed: false,
        limit: spec.limit,
        remaining: remainingAt(tat, t, capacity, now),
        resetMs: Math.max(0, Math.ceil(tat - now)),
        retryAfterMs: cost > capacity ? Math.ceil(spec.windowMs) : Math.max(1, Math.ceil(allowAt - now)),
      },
    };
  }
  return {
    tat: newTat,
    decision: {
      allowed: true,
      limit: spec.limit,
      remaining: remainingAt(newTat, t, capacity, now),
      resetMs: Math.max(0, Math.ceil(newTat - now)),
      retryAfterMs: 0,
    },
  };
}

/** Whole requests the bucket still holds at `now` given a TAT. Small epsilon absorbs float error. */
function remainingAt(tat: number, t: number, capacity: number, now: number): number {
  const free = (now + capacity * t - tat) / t;
  return Math.max(0, Math.min(capacity, Math.floor(free + 1e-9)));
}

/** A bucket whose TAT is in the past is full again: it can be deleted without changing any decision. */
export function isIdle(tat: number, now: number): boolean {
  return tat <= now;
}
