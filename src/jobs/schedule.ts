/**
 * The scheduler's choice (pure): which runnable job gets the next free slot. Most urgent priority
 * first, then first come first served within a priority; a job is skipped while it or its tenant
 * is at its concurrency limit, so one tenant's big job cannot starve the others.
 */
export interface Candidate {
  jobId: string;
  tenant: string;
  /** Index in PRIORITIES: 0 = urgent. */
  rank: number;
  /** Arrival order. */
  seq: number;
  /** Due time (ms); not runnable before it. */
  wakeAt: number;
}

export interface Limits {
  global: number;
  perTenant: number;
  perJob: number;
}

export function pickNext(
  candidates: readonly Candidate[],
  inflight: { total: number; byJob: ReadonlyMap<string, number>; byTenant: ReadonlyMap<string, number> },
  limits: Limits,
  now: number,
): Candidate | null {
  if (inflight.total >= limits.global) return null;
  let best: Candidate | null = null;
  for (const c of candidates) {
    if (c.wakeAt > now) continue;
    if ((inflight.byJob.get(c.jobId) ?? 0) >= limits.perJob) continue;
    if ((inflight.byTenant.get(c.tenant) ?? 0) >= limits.perTenant) continue;
    if (!best || c.rank < best.rank || (c.rank === best.rank && c.seq < best.seq)) best = c;
  }
  return best;
}
