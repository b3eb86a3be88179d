/**
 * The Worker side of the `RateLimiter` DO: one RPC attempt per object per request (no retries, so an
 * overloaded object is never hit harder), a timeout, and a small per-isolate cache of refusals.
 *
 * The refusal cache is not a counter: it only remembers "the DO refused this bucket until T", so
 * while a client hammers a key that is already over its limit, this isolate answers 429 itself
 * instead of sending every request to the one object (hot keys, docs/rate-limits.md). It can only
 * refuse what the DO already refused; every request that is allowed was counted by the DO.
 */
import type { Context } from 'hono';
import type { AppEnv } from '../env';
import type { AdmitRequest, AdmitResult, RateLimiter } from './rate-limiter-do';

export type LimiterNamespace = DurableObjectNamespace<RateLimiter>;

/** Where middleware finds the namespace (injectable: tests pass one that throws). */
export type LimiterSource = (c: Context<AppEnv>) => LimiterNamespace;

export const defaultLimiterSource: LimiterSource = (c) => c.env.RATE_LIMITER;

/** Thrown when the limiter cannot answer (binding missing, DO error, overload, timeout). */
export class LimiterUnavailable extends Error {
  constructor(readonly objectName: string, cause: unknown) {
    super(`rate limiter ${objectName} unavailable: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'LimiterUnavailable';
  }
}

/** A DO call slower than this counts as unavailable (the object is overloaded). */
export const LIMITER_TIMEOUT_MS = 3_000;

const REFUSAL_CACHE_MAX = 10_000;
const refusals = new Map<string, { until: number; result: AdmitResult }>();

/**
 * After an object fails, this isolate leaves it alone for a moment (a tiny circuit breaker): an
 * overloaded object gets fewer calls, not more, and clients get their 503 at once.
 */
export const FAILED_OBJECT_PAUSE_MS = 1_000;
const failedObjects = new WeakMap<object, Map<string, number>>();

function pausedUntil(ns: LimiterNamespace, name: string, now: number): boolean {
  const until = failedObjects.get(ns)?.get(name);
  return until !== undefined && until > now;
}

function markFailed(ns: LimiterNamespace, name: string, now: number): void {
  let map = failedObjects.get(ns);
  if (!map) failedObjects.set(ns, (map = new Map()));
  if (map.size >= REFUSAL_CACHE_MAX) map.clear();
  map.set(name, now + FAILED_OBJECT_PAUSE_MS);
}

function cacheKey(name: string, request: AdmitRequest): string {
  return `${name}|${request.checks.map((c) => `${c.bucket}=${c.spec.text}x${c.cost ?? 1}`).join(',')}`;
}

/** A refusal this isolate already holds for these buckets (no round trip), or null. */
export function cachedRefusal(name: string, request: AdmitRequest, now = Date.now()): AdmitResult | null {
  if (!request.checks.length) return null;
  const hit = refusals.get(cacheKey(name, request));
  return hit && hit.until > now ? ageResult(hit.result, hit.until - now) : null;
}

/**
 * Asks object `name` to admit a request, once. Throws `LimiterUnavailable` on any failure.
 * Only refusals by a rate bucket are cached (keyed by the buckets, not the lease): admission is
 * all-or-nothing, so the same buckets would refuse again until then. A refused lease alone is never
 * cached (a slot can free at any moment).
 */
export async function admit(ns: LimiterNamespace, name: string, request: AdmitRequest, now = Date.now()): Promise<AdmitResult> {
  const key = request.checks.length ? cacheKey(name, request) : null;
  if (key) {
    const hit = refusals.get(key);
    if (hit && hit.until > now) return ageResult(hit.result, hit.until - now);
    if (hit) refusals.delete(key);
  }
  if (pausedUntil(ns, name, now)) throw new LimiterUnavailable(name, new Error('failed moments ago; not retried yet'));
  const release = takeReleases(ns, name);
  if (release.length) request = { ...request, release };
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const stub = ns.get(ns.idFromName(name));
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${LIMITER_TIMEOUT_MS} ms`)), LIMITER_TIMEOUT_MS);
    });
    const result = (await Promise.race([stub.admit(request), timeout])) as AdmitResult;
    const refusedBy = result.decisions.filter((d) => !d.allowed);
    if (key && refusedBy.length > 0) {
      const wait = Math.max(...refusedBy.map((d) => d.retryAfterMs));
      if (wait > 0) {
        if (refusals.size >= REFUSAL_CACHE_MAX) refusals.clear();
        refusals.set(key, { until: now + wait, result });
      }
    }
    return result;
  } catch (err) {
    markFailed(ns, name, now);
    for (const id of release) queueRelease(ns, name, id); // not delivered: the timed flush of a later release (or expiry) frees them
    throw new LimiterUnavailable(name, err);
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
}

/** A cached refusal with its waits shortened to what is left of them. */
function ageResult(result: AdmitResult, leftMs: number): AdmitResult {
  return {
    ...result,
    decisions: result.decisions.map((d) => (d.allowed ? d : { ...d, retryAfterMs: Math.min(d.retryAfterMs, leftMs) })),
  };
}

/**
 * Lease releases are piggybacked: `releaseLease` only queues the id for its object, and the next
 * `admit` this isolate sends to that object carries it (`AdmitRequest.release`), so a busy key pays
 * no extra round trip to free its slot. So that other isolates never see a finished request's slot
 * as taken for long, the returned promise (hand it to `waitUntil`) flushes whatever is still queued
 * for that object after RELEASE_FLUSH_MS. A lease that is never delivered (isolate evicted, object
 * down) still expires on its own after its TTL.
 */
export const RELEASE_FLUSH_MS = 100;
const pendingReleases = new WeakMap<object, Map<string, Set<string>>>();

function queueRelease(ns: LimiterNamespace, name: string, id: string): void {
  let byName = pendingReleases.get(ns);
  if (!byName) pendingReleases.set(ns, (byName = new Map()));
  let ids = byName.get(name);
  if (!ids) byName.set(name, (ids = new Set()));
  ids.add(id);
}

function takeReleases(ns: LimiterNamespace, name: string): string[] {
  const byName = pendingReleases.get(ns);
  const ids = byName?.get(name);
  if (!byName || !ids) return [];
  byName.delete(name);
  return [...ids];
}

/** Sends the releases queued for object `name` now, as the timed flush would (tests, shutdown paths). */
export async function deliverQueuedReleases(ns: LimiterNamespace, name: string): Promise<number> {
  const ids = takeReleases(ns, name);
  return ids.length ? ns.get(ns.idFromName(name)).releaseLeases(ids) : 0;
}

/** Queues the release and returns the timed flush (for `waitUntil`); never throws (errors are logged). */
export async function releaseLease(ns: LimiterNamespace, name: string, id: string, flushAfterMs = RELEASE_FLUSH_MS): Promise<void> {
  queueRelease(ns, name, id);
  await new Promise((resolve) => setTimeout(resolve, flushAfterMs));
  const ids = takeReleases(ns, name);
  if (ids.length === 0) return; // already carried by an admit
  try {
    await ns.get(ns.idFromName(name)).releaseLeases(ids);
  } catch (err) {
    console.error('lease release failed; it will expire on its own', { object: name, error: String(err) });
  }
}

export async function renewLease(ns: LimiterNamespace, name: string, id: string, ttlMs: number): Promise<void> {
  try {
    await ns.get(ns.idFromName(name)).renewLease(id, ttlMs);
  } catch (err) {
    console.error('lease renewal failed', { object: name, error: String(err) });
  }
}

/** Test hook: forget cached refusals. */
export function clearRefusalCache(): void {
  refusals.clear();
}
