/**
 * Usage analytics per principal and per crawler session, per hour (D1 `usage_hourly`): pages,
 * errors, bytes and crawl time. Written once per job batch (one upsert), read by GET /usage.
 * A session's lifecycle is derived from its activity: `active` (a page in the last 5 minutes),
 * `idle` (in the last 30 minutes), `expired` (older) — Crawl4AI's own session TTL is 30 minutes.
 */
export const SESSION_ACTIVE_MS = 5 * 60_000;
export const SESSION_IDLE_MS = 30 * 60_000;
const HOUR = 3_600_000;

export interface UsageDelta {
  tenant: string;
  principalId: string;
  sessionId: string | null;
  pages: number;
  errors: number;
  bytes: number;
  totalMs: number;
}

export function usageStatement(db: D1Database, d: UsageDelta, now: number): D1PreparedStatement {
  const hour = Math.floor(now / HOUR) * HOUR;
  return db
    .prepare(
      `INSERT INTO usage_hourly (tenant, principal_id, session_id, hour, pages, errors, bytes, total_ms, first_at, last_at)
       VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)
       ON CONFLICT(tenant, principal_id, session_id, hour) DO UPDATE SET pages = pages + excluded.pages, errors = errors + excluded.errors,
         bytes = bytes + excluded.bytes, total_ms = total_ms + excluded.total_ms, last_at = max(last_at, excluded.last_at)`,
    )
    .bind(d.tenant, d.principalId, d.sessionId ?? '', hour, d.pages, d.errors, d.bytes, d.totalMs, now);
}

export type SessionState = 'active' | 'idle' | 'expired';

/** Pure: a session's lifecycle state from its last activity. */
export function sessionState(lastAt: number, now: number): SessionState {
  const age = now - lastAt;
  return age <= SESSION_ACTIVE_MS ? 'active' : age <= SESSION_IDLE_MS ? 'idle' : 'expired';
}

export interface UsageReport {
  tenant: string | null;
  from: string;
  to: string;
  totals: { pages: number; errors: number; bytes: number; avg_ms: number | null; error_rate: number | null };
  hourly: { hour: string; pages: number; errors: number; bytes: number; avg_ms: number | null }[];
  principals: { principal_id: string; pages: number; errors: number; bytes: number; avg_ms: number | null }[];
  sessions: {
    session_id: string;
    principal_id: string;
    state: SessionState;
    created_at: string;
    last_active_at: string;
    pages: number;
    errors: number;
    bytes: number;
  }[];
}

interface Agg {
  pages: number;
  errors: number;
  bytes: number;
  total_ms: number;
}

const avg = (a: Agg) => (a.pages > 0 ? Math.round(a.total_ms / a.pages) : null);

/** Usage of one tenant (or all, for admins: tenant null) between `from` and `to` (ms). */
export async function usageReport(db: D1Database, tenant: string | null, from: number, to: number, now: number): Promise<UsageReport> {
  const where = `hour >= ?1 AND hour < ?2 ${tenant === null ? '' : 'AND tenant = ?3'}`;
  const args: unknown[] = tenant === null ? [Math.floor(from / HOUR) * HOUR, to] : [Math.floor(from / HOUR) * HOUR, to, tenant];
  const sums = 'sum(pages) AS pages, sum(errors) AS errors, sum(bytes) AS bytes, sum(total_ms) AS total_ms';
  const [totals, hourly, principals, sessions] = await db.batch<Record<string, number | string>>([
    db
      .prepare(
        `SELECT coalesce(sum(pages),0) AS pages, coalesce(sum(errors),0) AS errors, coalesce(sum(bytes),0) AS bytes, coalesce(sum(total_ms),0) AS total_ms FROM usage_hourly WHERE ${where}`,
      )
      .bind(...args),
    db.prepare(`SELECT hour, ${sums} FROM usage_hourly WHERE ${where} GROUP BY hour ORDER BY hour`).bind(...args),
    db
      .prepare(`SELECT principal_id, ${sums} FROM usage_hourly WHERE ${where} GROUP BY principal_id ORDER BY pages DESC LIMIT 100`)
      .bind(...args),
    db
      .prepare(
        `SELECT session_id, principal_id, min(first_at) AS first_at, max(last_at) AS last_at, ${sums} FROM usage_hourly WHERE ${where} AND session_id != '' GROUP BY session_id, principal_id ORDER BY last_at DESC LIMIT 100`,
      )
      .bind(...args),
  ]);
  const t = (totals!.results[0] ?? { pages: 0, errors: 0, bytes: 0, total_ms: 0 }) as unknown as Agg;
  return {
    tenant,
    from: new Date(from).toISOString(),
    to: new Date(to).toISOString(),
    totals: {
      pages: t.pages,
      errors: t.errors,
      bytes: t.bytes,
      avg_ms: avg(t),
      error_rate: t.pages > 0 ? Math.round((t.errors / t.pages) * 1000) / 1000 : null,
    },
    hourly: (hourly!.results as unknown as (Agg & { hour: number })[]).map((h) => ({
      hour: new Date(h.hour).toISOString(),
      pages: h.pages,
      errors: h.errors,
      bytes: h.bytes,
      avg_ms: avg(h),
    })),
    principals: (principals!.results as unknown as (Agg & { principal_id: string })[]).map((p) => ({
      principal_id: p.principal_id,
      pages: p.pages,
      errors: p.errors,
      bytes: p.bytes,
      avg_ms: avg(p),
    })),
    sessions: (
      sessions!.results as unknown as (Agg & { session_id: string; principal_id: string; first_at: number; last_at: number })[]
    ).map((s) => ({
      session_id: s.session_id,
      principal_id: s.principal_id,
      state: sessionState(s.last_at, now),
      created_at: new Date(s.first_at).toISOString(),
      last_active_at: new Date(s.last_at).toISOString(),
      pages: s.pages,
      errors: s.errors,
      bytes: s.bytes,
    })),
  };
}
