/**
 * The charge of the current request, computed once before the limiter call (src/metering/charge.ts
 * over the body as the gate read it) and kept on the context for the meter that reconciles it.
 */
import type { Context } from 'hono';
import type { AppEnv } from '../env';
import { requestRoute } from '../http/request-target';
import { requestBody } from '../http/request-body';
import { budgetedRoute, chargeFor, type Charge } from './charge';

declare module 'hono' {
  interface ContextVariableMap {
    /** The metered route, engine and maximum cost of this request (set before admission). */
    meterCharge: Charge;
  }
}

/** The charge of a metered request (and remembers it on the context), or null for any other request. */
export function admissionCharge(c: Context<AppEnv>): Charge | null {
  const known = c.get('meterCharge');
  if (known) return known;
  const route = requestRoute(c);
  const budgeted = budgetedRoute(route.method, route.template);
  if (!budgeted) return null;
  const config = c.get('config');
  let body: unknown = null;
  try {
    const r = requestBody(c).json();
    body = r.ok ? r.value : null;
  } catch {
    body = null; // no body read (the route refuses it on its own)
  }
  const charge = chargeFor({
    route: budgeted,
    body,
    originUrl: config.ORIGIN_URL,
    costs: config.CREDIT_COSTS,
    maxUrls: budgeted.job ? config.JOB_MAX_URLS : config.MAX_URLS,
  });
  c.set('meterCharge', charge);
  return charge;
}
