/**
 * Concurrency-lease admission over the RateLimiter object's in-memory lease rows (id → expires_at).
 * Plain logic with the clock passed in: the object owns the rows and their SQLite record.
 */
import type { LeaseDecision, LeaseRequest } from './admit-types';

/**
 * Drops expired rows from `leases` (`expired` says whether any went, so the caller deletes them from
 * storage too) and decides `req`: a live id renews (or, `fresh`, is a duplicate), a free slot
 * acquires, otherwise a refusal with the wait until the oldest live lease expires.
 */
export function decideLease(leases: Map<string, number>, req: LeaseRequest, now: number): { decision: LeaseDecision; expired: boolean } {
  let expired = false;
  for (const [id, at] of leases) {
    if (at <= now) {
      leases.delete(id);
      expired = true;
    }
  }
  const live = leases.size;
  const holds = leases.has(req.id);
  if (holds && req.fresh) return { decision: { acquired: false, active: live, max: req.max, retryAfterMs: 0, duplicate: true }, expired };
  if (holds || live < req.max) {
    return { decision: { acquired: true, active: holds ? live : live + 1, max: req.max, retryAfterMs: 0 }, expired };
  }
  let oldest = live > 0 ? Infinity : now + req.ttlMs;
  for (const at of leases.values()) if (at < oldest) oldest = at;
  return { decision: { acquired: false, active: live, max: req.max, retryAfterMs: Math.max(1, oldest - now) }, expired };
}
