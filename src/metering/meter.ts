/**
 * The meter of one crawl request (docs/metering.md): the engine that ran it, the pages it crawled
 * (counted where the results are produced: src/crawl/edge-run.ts, the origin's answer), and the
 * reconciliation when its response ends — the unused part of the reservation is refunded and the
 * request's usage joins the rollups. Pure arithmetic here; I/O in meter-middleware.ts.
 */
import type { Context } from 'hono';
import type { AppEnv } from '../env';
import type { Principal } from '../auth/principal';
import { tenantOf } from '../auth/principal';
import type { Charge } from './charge';
import type { MeteredEngine } from './costs';
import type { RollupDelta } from './rollup';

export class Meter {
  engine: MeteredEngine;
  /** Pages that produced a successful result (charged), and pages that failed (not charged). */
  pages = 0;
  failedPages = 0;
  /** True once an engine reported pages (else pages are inferred from the answer). */
  counted = false;

  constructor(
    readonly charge: Charge,
    readonly startedAt: number,
  ) {
    this.engine = charge.engine;
  }

  page(success: boolean): void {
    this.counted = true;
    if (success) this.pages++;
    else this.failedPages++;
  }
}

declare module 'hono' {
  interface ContextVariableMap {
    meter: Meter;
  }
}

/** Counts one page's result on the request's meter (no-op outside a metered request). */
export function meterPage(c: Context<AppEnv>, success: boolean): void {
  c.get('meter')?.page(success);
}

/** Passes results through, counting each on the request's meter. */
export async function* meterPages<T extends { success?: boolean }>(c: Context<AppEnv>, results: AsyncIterable<T>): AsyncGenerator<T> {
  for await (const r of results) {
    meterPage(c, r.success === true);
    yield r;
  }
}

/** The engine that actually ran (the handler's choice, which the charge predicted). */
export function meterEngine(c: Context<AppEnv>, engine: MeteredEngine): void {
  const m = c.get('meter');
  if (m) m.engine = engine;
}

/** How the response went, as the reconciliation needs it. */
export interface Outcome {
  status: number;
  bytes: number;
  /** Newline-terminated lines of the body (NDJSON results + the final status line). */
  lines: number;
  /** The body did not reach its end (client gone, origin cut). */
  aborted: boolean;
  endedAt: number;
}

/**
 * Pure: pages and credits of a finished request. Edge engines counted their pages; the origin's
 * pages are its answer's: the NDJSON result lines of a stream, else every URL of a 2xx answer.
 * Jobs keep their whole reservation (their pages run later). Never more than was reserved.
 */
export function settle(m: Meter, o: Outcome): { pages: number; failedPages: number; credits: number } {
  const ok = o.status < 400;
  if (m.charge.job) return { pages: 0, failedPages: 0, credits: ok ? m.charge.credits : 0 };
  let pages = m.pages;
  let failedPages = m.failedPages;
  if (!m.counted && m.engine === 'origin') {
    if (!ok) pages = 0;
    else if (m.charge.route === 'crawl_stream') pages = Math.min(m.charge.urls, Math.max(0, o.lines - (o.aborted ? 0 : 1)));
    else pages = m.charge.urls;
    failedPages = ok ? 0 : m.charge.urls;
  }
  const credits = Math.min(m.charge.credits, pages * m.charge.perPage);
  return { pages, failedPages, credits };
}

/** Who a request is attributed to: tenant, key (if any) and user (the caller or the key's owner). */
export function attribution(p: Principal): { tenant: string; keyId: string; userId: string } {
  const keyId = p.kind === 'key' ? p.id : (p.viaKeyId ?? '');
  const userId = p.kind === 'user' ? p.id : (p.owner ?? '');
  return { tenant: tenantOf(p), keyId, userId };
}

/** Pure: the rollup delta of a finished request. */
export function requestDelta(p: Principal, m: Meter, o: Outcome): { delta: RollupDelta; credits: number } {
  const s = settle(m, o);
  const ms = Math.max(0, o.endedAt - m.startedAt);
  return {
    credits: s.credits,
    delta: {
      ...attribution(p),
      route: m.charge.route,
      engine: m.engine,
      requests: 1,
      pages: s.pages,
      failedPages: s.failedPages,
      errors: o.status >= 400 || o.aborted ? 1 : 0,
      bytes: o.bytes,
      browserMs: m.engine === 'browser' ? ms : 0,
      originMs: m.engine === 'origin' ? ms : 0,
      credits: s.credits,
    },
  };
}
