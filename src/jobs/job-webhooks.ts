/**
 * A job's webhook deliveries, kept in its object's SQLite storage: each event is stored once (its
 * key doubles as `X-Crawlgate-Delivery`, so receivers can drop duplicates), delivered by the
 * object's alarm, retried with exponential backoff and jitter up to WEBHOOK_MAX_ATTEMPTS, and every
 * attempt is logged (`GET /jobs/{id}` shows the log). Signed like every crawlgate webhook
 * (src/webhooks/sign.ts). The URL passed the egress policy when the job was created and is checked
 * again before each attempt (OWASP API7:2023 SSRF); redirects are not followed.
 */
import { postSignedWebhook } from '../webhooks/post';
import { openSecret } from '../webhooks/secret-box';
import { retryDelayMs } from './retry';

export const WEBHOOK_MAX_ATTEMPTS = 6;

export const WEBHOOK_SCHEMA = [
  `CREATE TABLE IF NOT EXISTS deliveries (
    key TEXT PRIMARY KEY,
    event TEXT NOT NULL,
    body TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    next_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL
  )`,
  `CREATE TABLE IF NOT EXISTS delivery_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    at INTEGER NOT NULL,
    outcome TEXT NOT NULL
  )`,
];

export interface DeliveryLogEntry {
  event: string;
  delivery: string;
  attempt: number;
  at: string;
  outcome: string;
}

/** Stores an event for delivery (once per key). */
export function scheduleDelivery(sql: SqlStorage, key: string, event: string, payload: unknown, now: number): void {
  const body = JSON.stringify({ type: `job.${event}`, delivery: key, data: payload });
  sql.exec(
    'INSERT INTO deliveries (key, event, body, next_at, created_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT(key) DO NOTHING',
    key,
    event,
    body,
    now,
    now,
  );
}

export function nextDeliveryAt(sql: SqlStorage): number | null {
  return sql.exec<{ at: number | null }>("SELECT min(next_at) AS at FROM deliveries WHERE status = 'pending'").one().at;
}

export function deliveryLog(sql: SqlStorage, limit = 50): DeliveryLogEntry[] {
  return sql
    .exec<{ key: string; event: string; attempt: number; at: number; outcome: string }>(
      'SELECT l.key, d.event, l.attempt, l.at, l.outcome FROM delivery_log l JOIN deliveries d ON d.key = l.key ORDER BY l.id DESC LIMIT ?',
      limit,
    )
    .toArray()
    .map((r) => ({ event: r.event, delivery: r.key, attempt: r.attempt, at: new Date(r.at).toISOString(), outcome: r.outcome }));
}

export interface DeliveryContext {
  jobId: string;
  url: string;
  sealedSecret: string;
  masterSecret: string;
  allowPrivateTargets: boolean;
  retryBaseMs: number;
  now: () => number;
}

/** One attempt: the outcome to log (`delivered`, `failed:<status>`, `failed:network`, `refused`, `failed:secret_unavailable`). */
async function attempt(ctx: DeliveryContext, key: string, event: string, body: string): Promise<{ outcome: string; retry: boolean }> {
  const secret = await openSecret(ctx.masterSecret, ctx.jobId, ctx.sealedSecret);
  if (secret === null) return { outcome: 'failed:secret_unavailable', retry: false };
  return postSignedWebhook({
    url: ctx.url,
    secret,
    body,
    headers: { 'X-Crawlgate-Event': `job.${event}`, 'X-Crawlgate-Delivery': key, 'X-Request-Id': key },
    allowPrivateTargets: ctx.allowPrivateTargets,
    nowMs: ctx.now(),
  });
}

/** Delivers every due event once; reschedules retryable failures. */
export async function deliverDue(sql: SqlStorage, ctx: DeliveryContext): Promise<void> {
  const due = sql
    .exec<{ key: string; event: string; body: string; attempts: number }>(
      "SELECT key, event, body, attempts FROM deliveries WHERE status = 'pending' AND next_at <= ? ORDER BY next_at",
      ctx.now(),
    )
    .toArray();
  for (const d of due) {
    const n = d.attempts + 1;
    const { outcome, retry } = await attempt(ctx, d.key, d.event, d.body);
    const now = ctx.now();
    sql.exec('INSERT INTO delivery_log (key, attempt, at, outcome) VALUES (?, ?, ?, ?)', d.key, n, now, outcome);
    if (outcome === 'delivered') sql.exec("UPDATE deliveries SET status = 'delivered', attempts = ? WHERE key = ?", n, d.key);
    else if (retry && n < WEBHOOK_MAX_ATTEMPTS)
      sql.exec(
        'UPDATE deliveries SET attempts = ?, next_at = ? WHERE key = ?',
        n,
        now + retryDelayMs(n, ctx.retryBaseMs, Math.random()),
        d.key,
      );
    else sql.exec("UPDATE deliveries SET status = 'failed', attempts = ? WHERE key = ?", n, d.key);
  }
}
