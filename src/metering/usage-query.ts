/**
 * Reading the usage rollups (D1 `usage_rollups`): totals, by route, by engine and per day, for one
 * scope — a tenant, a key, a user, or everything (admins). Every crawl route, MCP tool call and job
 * is in here (docs/metering.md), so these are the numbers `/usage`, the charts and exports show.
 */
import { DAY_MS, dayOf } from './rollup';

/** Whose usage: exactly one field, or none for every tenant. */
export interface UsageScope {
  tenant?: string;
  keyId?: string;
  userId?: string;
}

export interface UsageSums {
  requests: number;
  pages: number;
  failed_pages: number;
  errors: number;
  bytes: number;
  browser_ms: number;
  origin_ms: number;
  credits: number;
}

export interface UsageRow extends UsageSums {
  day: string;
  tenant: string;
  key_id: string;
  user_id: string;
  route: string;
  engine: string;
}

export interface MeteredUsage {
  totals: UsageSums & { error_rate: number | null };
  by_route: Record<string, UsageSums>;
  by_engine: Record<string, UsageSums>;
  daily: Array<UsageSums & { day: string; by_engine: Record<string, number> }>;
}

const SUMS = `coalesce(sum(requests),0) AS requests, coalesce(sum(pages),0) AS pages, coalesce(sum(failed_pages),0) AS failed_pages,
  coalesce(sum(errors),0) AS errors, coalesce(sum(bytes),0) AS bytes, coalesce(sum(browser_ms),0) AS browser_ms,
  coalesce(sum(origin_ms),0) AS origin_ms, coalesce(sum(credits),0) AS credits`;

function where(scope: UsageScope, from: number, to: number): { sql: string; args: unknown[] } {
  const parts = ['day >= ?', 'day < ?'];
  const args: unknown[] = [dayOf(from), to];
  if (scope.tenant !== undefined) parts.push('tenant = ?'), args.push(scope.tenant);
  if (scope.keyId !== undefined) parts.push('key_id = ?'), args.push(scope.keyId);
  if (scope.userId !== undefined) parts.push('user_id = ?'), args.push(scope.userId);
  return { sql: parts.join(' AND '), args };
}

const pick = (r: Record<string, unknown>): UsageSums => ({
  requests: Number(r.requests ?? 0),
  pages: Number(r.pages ?? 0),
  failed_pages: Number(r.failed_pages ?? 0),
  errors: Number(r.errors ?? 0),
  bytes: Number(r.bytes ?? 0),
  browser_ms: Number(r.browser_ms ?? 0),
  origin_ms: Number(r.origin_ms ?? 0),
  credits: Math.round(Number(r.credits ?? 0) * 1000) / 1000,
});

/** Usage of `scope` between `from` and `to` (epoch ms; whole UTC days from `from`'s day). */
export async function meteredUsage(db: D1Database, scope: UsageScope, from: number, to: number): Promise<MeteredUsage> {
  const w = where(scope, from, to);
  const [totals, routes, engines, days] = await db.batch<Record<string, unknown>>([
    db.prepare(`SELECT ${SUMS} FROM usage_rollups WHERE ${w.sql}`).bind(...w.args),
    db.prepare(`SELECT route, ${SUMS} FROM usage_rollups WHERE ${w.sql} GROUP BY route ORDER BY route`).bind(...w.args),
    db.prepare(`SELECT engine, ${SUMS} FROM usage_rollups WHERE ${w.sql} GROUP BY engine ORDER BY engine`).bind(...w.args),
    db.prepare(`SELECT day, engine, ${SUMS} FROM usage_rollups WHERE ${w.sql} GROUP BY day, engine ORDER BY day`).bind(...w.args),
  ]);
  const t = pick(totals!.results[0] ?? {});
  const daily = new Map<number, UsageSums & { day: string; by_engine: Record<string, number> }>();
  for (const r of days!.results) {
    const day = Number(r.day);
    const s = pick(r);
    const d = daily.get(day) ?? {
      day: new Date(day).toISOString().slice(0, 10),
      requests: 0,
      pages: 0,
      failed_pages: 0,
      errors: 0,
      bytes: 0,
      browser_ms: 0,
      origin_ms: 0,
      credits: 0,
      by_engine: {},
    };
    for (const k of Object.keys(s) as (keyof UsageSums)[]) d[k] += s[k];
    d.by_engine[String(r.engine)] = s.pages;
    daily.set(day, d);
  }
  return {
    totals: { ...t, error_rate: t.requests > 0 ? Math.round((t.errors / t.requests) * 1000) / 1000 : null },
    by_route: Object.fromEntries(routes!.results.map((r) => [String(r.route), pick(r)])),
    by_engine: Object.fromEntries(engines!.results.map((r) => [String(r.engine), pick(r)])),
    daily: [...daily.values()],
  };
}

/** The raw rows of `scope` (for exports), oldest first, at most `limit`. */
export async function usageRows(db: D1Database, scope: UsageScope, from: number, to: number, limit = 10_000): Promise<UsageRow[]> {
  const w = where(scope, from, to);
  const rows = await db
    .prepare(
      `SELECT day, tenant, key_id, user_id, route, engine, requests, pages, failed_pages, errors, bytes, browser_ms, origin_ms, credits FROM usage_rollups WHERE ${w.sql} ORDER BY day, tenant, key_id, user_id, route, engine LIMIT ?`,
    )
    .bind(...w.args, limit)
    .all<Record<string, unknown>>();
  return rows.results.map((r) => ({
    day: new Date(Number(r.day)).toISOString().slice(0, 10),
    tenant: String(r.tenant),
    key_id: String(r.key_id),
    user_id: String(r.user_id),
    route: String(r.route),
    engine: String(r.engine),
    ...pick(r),
  }));
}

/** Whole days back from `now` as a [from, to) window. */
export function lastDays(days: number, now: number): { from: number; to: number } {
  return { from: dayOf(now) - (days - 1) * DAY_MS, to: now + 1 };
}
