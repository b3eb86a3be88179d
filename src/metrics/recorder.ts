/**
 * Per-isolate metric accumulator, flushed to the `MetricsAggregator` Durable Object in the
 * background at most every FLUSH_INTERVAL_MS, so no request waits on a metrics round trip.
 * Counts from an isolate that is evicted before its next flush are lost (at most a few seconds'
 * worth); metrics are operational signals, not the audit trail.
 */
import type { Env } from '../env';
import { add, observeLatency, seriesKey, type Series } from './registry';

const FLUSH_INTERVAL_MS = 5_000;

let pending: Series = {};
let lastFlush = 0;

export function countRequest(route: string, method: string, status: number, ms: number): void {
  add(pending, seriesKey('crawlgate_http_requests_total', { route, method, status }), 1);
  observeLatency(pending, { route }, ms);
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
