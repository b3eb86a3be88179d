/**
 * Usage rollups in D1 (`usage_rollups`, migration 0013): one row per day × tenant × key × user ×
 * route × engine, summed. Written off the hot path: a request adds its delta to this isolate's
 * buffer and returns; the buffer is written as one D1 batch of upserts ROLLUP_FLUSH_MS after its
 * first delta, inside that request's `waitUntil`. Deltas of the same row merge in the buffer, so
 * a busy isolate writes one row per (tenant, key, route, engine) per flush, not one per request.
 */
import type { MeteredEngine, MeteredRoute } from './costs';

export const DAY_MS = 86_400_000;
export const ROLLUP_FLUSH_MS = 200;

/** The row's identity (the attribution of a request). */
export interface RollupKey {
  tenant: string;
  /** The API key that made the request ('' for a user's own session). */
  keyId: string;
  /** The user: the caller, or the key's owner ('' for an ownerless key). */
  userId: string;
  route: MeteredRoute;
  engine: MeteredEngine;
}

/** What one request (or one job batch) adds. */
export interface RollupDelta extends RollupKey {
  requests: number;
  pages: number;
  failedPages: number;
  errors: number;
  bytes: number;
  browserMs: number;
  originMs: number;
  credits: number;
}

const FIELDS = ['requests', 'pages', 'failedPages', 'errors', 'bytes', 'browserMs', 'originMs', 'credits'] as const;

const buffers = new WeakMap<D1Database, Map<string, RollupDelta & { day: number }>>();

/** Pure: the UTC day (epoch ms of its midnight) a moment belongs to. */
export function dayOf(now: number): number {
  return Math.floor(now / DAY_MS) * DAY_MS;
}

/** The upsert of one summed row. */
export function rollupStatement(db: D1Database, d: RollupDelta, day: number): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO usage_rollups (day, tenant, key_id, user_id, route, engine, requests, pages, failed_pages, errors, bytes, browser_ms, origin_ms, credits)
       VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)
       ON CONFLICT(day, tenant, key_id, user_id, route, engine) DO UPDATE SET requests = requests + excluded.requests,
         pages = pages + excluded.pages, failed_pages = failed_pages + excluded.failed_pages, errors = errors + excluded.errors,
         bytes = bytes + excluded.bytes, browser_ms = browser_ms + excluded.browser_ms, origin_ms = origin_ms + excluded.origin_ms,
         credits = credits + excluded.credits`,
    )
    .bind(
      day,
      d.tenant,
      d.keyId,
      d.userId,
      d.route,
      d.engine,
      d.requests,
      d.pages,
      d.failedPages,
      d.errors,
      d.bytes,
      d.browserMs,
      d.originMs,
      d.credits,
    );
}

async function flush(db: D1Database): Promise<void> {
  await new Promise((r) => setTimeout(r, ROLLUP_FLUSH_MS));
  const buffer = buffers.get(db);
  if (!buffer || buffer.size === 0) return;
  const rows = [...buffer.values()];
  buffer.clear();
  try {
    await db.batch(rows.map((r) => rollupStatement(db, r, r.day)));
  } catch (err) {
    console.error('usage rollup write failed; these deltas are lost', { rows: rows.length, error: String(err) });
  }
}

/**
 * Adds a delta to this isolate's buffer. The first delta of an empty buffer schedules the flush and
 * hands it to `background` (ctx.waitUntil) so the runtime keeps the isolate for it.
 */
export function recordUsage(db: D1Database, delta: RollupDelta, now: number, background: (p: Promise<unknown>) => void): void {
  let buffer = buffers.get(db);
  if (!buffer) buffers.set(db, (buffer = new Map()));
  const day = dayOf(now);
  const id = [day, delta.tenant, delta.keyId, delta.userId, delta.route, delta.engine].join('\u0000');
  const first = buffer.size === 0;
  const row = buffer.get(id);
  if (row) {
    for (const f of FIELDS) row[f] += delta[f];
  } else {
    buffer.set(id, { ...delta, day });
  }
  if (first) background(flush(db));
}
