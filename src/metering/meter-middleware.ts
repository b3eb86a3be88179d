/**
 * `meterUsage()` (src/app.ts, right after the principal limits): every metered request — the crawl
 * routes, `/crawl/job` and `POST /jobs` — gets a `Meter`, and when its response ends (finished,
 * failed or cancelled) the meter settles it: the unused part of the budget reservation is refunded
 * (deferred, src/metering/refunds.ts) and the usage joins the D1 rollups (batched, rollup.ts).
 * Nothing here waits for storage: the response streams through untouched, with its bytes counted
 * (one tap on the body's one wrapping stream, src/http/body-taps.ts).
 */
import type { Context, MiddlewareHandler } from 'hono';
import type { AppEnv } from '../env';
import { Meter, requestDelta, type Outcome } from './meter';
import { recordUsage } from './rollup';
import { queueRefund } from './refunds';
import { tapResponse, type BodyTap } from '../http/body-taps';

function background(c: Context<AppEnv>): (p: Promise<unknown>) => void {
  return (p) => {
    try {
      c.executionCtx.waitUntil(p);
    } catch {
      // no execution context (unit use): the promise still runs
    }
  };
}

/** Settles the request once: refund of the unused reservation, then the rollup delta. */
function settleOnce(c: Context<AppEnv>, meter: Meter): (o: Omit<Outcome, 'endedAt'>) => void {
  let done = false;
  return (o) => {
    if (done) return;
    done = true;
    const principal = c.get('principal');
    if (!principal) return;
    const { delta, credits } = requestDelta(principal, meter, { ...o, endedAt: Date.now() });
    const reservation = c.get('budgetReservation');
    const bg = background(c);
    if (reservation && reservation.credits > credits) {
      try {
        queueRefund(
          c.env.RATE_LIMITER,
          reservation.object,
          { credits: reservation.credits - credits, periodStart: reservation.periodStart },
          bg,
        );
      } catch (err) {
        console.error('budget refund could not be queued', { error: String(err) });
      }
    }
    recordUsage(c.env.DB, delta, Date.now(), bg);
  };
}

/** Counts the lines of a body and reports its ending (end, error or cancel) once: a tap (src/http/body-taps.ts). */
function countingTap(onEnd: (bytes: number, lines: number, aborted: boolean) => void): BodyTap {
  let lines = 0;
  return {
    chunk(value) {
      for (let i = value.indexOf(10); i !== -1; i = value.indexOf(10, i + 1)) lines++;
    },
    end(bytes, aborted) {
      onEnd(bytes, lines, aborted);
    },
  };
}

export function meterUsage(): MiddlewareHandler<AppEnv> {
  return async function meterUsageMiddleware(c, next) {
    const charge = c.get('meterCharge');
    if (!charge || !c.get('principal')) return next();
    const meter = new Meter(charge, Date.now());
    c.set('meter', meter);
    const settle = settleOnce(c, meter);
    try {
      await next();
    } catch (err) {
      settle({ status: 500, bytes: 0, lines: 0, aborted: false });
      throw err;
    }
    const res = c.res;
    if (!res.body || res.status >= 400) {
      settle({ status: res.status, bytes: 0, lines: 0, aborted: false });
      return;
    }
    // Joins the origin watchdog's stream when there is one; the lease's tap joins it in turn (body-taps.ts).
    tapResponse(
      c,
      countingTap((bytes, lines, aborted) => settle({ status: res.status, bytes, lines, aborted })),
    );
  };
}
