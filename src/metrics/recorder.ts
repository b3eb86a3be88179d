/**
 * Per-isolate metric accumulator, flushed to the `MetricsAggregator` Durable Object in the
 * background at most every FLUSH_INTERVAL_MS, so no request waits on a metrics round trip.
 * Counts from an isolate that is evicted before its next flush are lost (at most a few seconds'
 * worth); metrics are operational signals, not the audit trail.
 */
import type { Env } from '../env';
import { add, latencyKeys, observeLatencyAt, seriesKey, type LatencyKeys, type Series } from './registry';

const FLUSH_INTERVAL_MS = 5_000;

let pending: Series = {};
let lastFlush = 0;

/**
 * Series keys per label set, built once per isolate: a request adds to ~16 series, and building
 * each key (sorted, escaped labels) every time cost more than the counting (docs/performance.md
 * "Third pass"). Route templates, methods and statuses are few; the caches are bounded anyway.
 */
const KEY_CACHE_MAX = 2_000;
const requestKeys = new Map<string, string>();
const latencyKeysByRoute = new Map<string, LatencyKeys>();

function cached<T>(map: Map<string, T>, id: string, build: () => T): T {
  let v = map.get(id);
  if (v === undefined) {
    if (map.size >= KEY_CACHE_MAX) map.clear();
    map.set(id, (v = build()));
  }
  return v;
}

export function countRequest(route: string, method: string, status: number, ms: number): void {
  const key = cached(requestKeys, `${route}\u0000${method}\u0000${status}`, () =>
    seriesKey('crawlgate_http_requests_total', { route, method, status }),
  );
  add(pending, key, 1);
  observeLatencyAt(
    pending,
    cached(latencyKeysByRoute, route, () => latencyKeys({ route })),
    ms,
  );
}

export function countAuthFailure(reason: string): void {
  add(pending, seriesKey('crawlgate_auth_failures_total', { reason }), 1);
}

export function countRateLimitRejection(dimension: string): void {
  add(pending, seriesKey('crawlgate_rate_limit_rejections_total', { dimension }), 1);
}

export function countJobPages(engine: string, outcome: string, n: number): void {
  if (n > 0) add(pending, seriesKey('crawlgate_job_pages_total', { engine, outcome }), n);
}

export function countAuditWriteFailure(): void {
  add(pending, seriesKey('crawlgate_audit_write_failures_total'), 1);
}

/** Sends pending deltas when due (or `force`). On failure the deltas are put back for the next try. */
export async function flushMetrics(env: Env, force = false, now = Date.now()): Promise<void> {
  if (!force && now - lastFlush < FLUSH_INTERVAL_MS) return;
  const batch = pending;
  if (Object.keys(batch).length === 0) return;
  pending = {};
  lastFlush = now;
  try {
    await env.METRICS.get(env.METRICS.idFromName('global')).add(batch);
  } catch (err) {
    for (const [k, v] of Object.entries(batch)) add(pending, k, v);
    console.error('metrics flush failed', String(err));
  }
}
