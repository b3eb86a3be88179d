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
  constructor(
    readonly objectName: string,
    cause: unknown,
  ) {
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

/** A refusal this isolate already holds for these buckets (no call), or null. */
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
  let timer: ReturnType<typeof setTimeout> | undefined;
  const release = takeReleases(ns, name);
  if (release.length) request = { ...request, release };
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
    if (release.length) console.error('lease release failed; the leases will expire on their own', { object: name, count: release.length });
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
 * Deferred lease releases (docs/performance.md): a finished lease is not released with a call of its
 * own. It waits in this isolate and rides along with the next `admit()` to the same object (the
 * usual case under load: a key's next request), or is sent in one batch after RELEASE_FLUSH_MS,
 * whichever comes first. So a request costs one call to its key's object, not two. Price: another
 * isolate may see the finished lease as live for up to RELEASE_FLUSH_MS. A release that cannot be
 * sent is only logged: the lease expires on its own (its TTL).
 */
export const RELEASE_FLUSH_MS = 100;

interface PendingReleases {
  ids: string[];
}

const pendingReleases = new WeakMap<LimiterNamespace, Map<string, PendingReleases>>();

function pendingFor(ns: LimiterNamespace): Map<string, PendingReleases> {
  let map = pendingReleases.get(ns);
  if (!map) pendingReleases.set(ns, (map = new Map()));
  return map;
}

/** Takes (and forgets) the releases waiting for object `name`. */
function takeReleases(ns: LimiterNamespace, name: string): string[] {
  const map = pendingFor(ns);
  const p = map.get(name);
  if (!p) return [];
  map.delete(name);
  return p.ids;
}

async function flushReleases(ns: LimiterNamespace, name: string): Promise<void> {
  await new Promise((r) => setTimeout(r, RELEASE_FLUSH_MS));
  const ids = takeReleases(ns, name);
  if (ids.length === 0) return; // an admit() took them along
  try {
    await ns.get(ns.idFromName(name)).releaseLeases(ids);
  } catch (err) {
    console.error('lease release failed; the leases will expire on their own', { object: name, count: ids.length, error: String(err) });
  }
}

/**
 * Releases lease `id` on object `name`: queued, then piggybacked or flushed (see above). Returns at
 * once. The request that queues the first release for an object owns the flush: its timer runs in
 * its own context, held by its `background` (ctx.waitUntil); later releases just join the queue.
 */
export function releaseLease(ns: LimiterNamespace, name: string, id: string, background?: (p: Promise<unknown>) => void): Promise<void> {
  const map = pendingFor(ns);
  const p = map.get(name);
  if (p) {
    p.ids.push(id);
    return Promise.resolve();
  }
  map.set(name, { ids: [id] });
  const flush = flushReleases(ns, name);
  background?.(flush);
  return Promise.resolve();
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
