/**
 * Rate limits per principal, run after authentication (src/app.ts):
 *  - per API key: the key record's `rate_limit`, else `DEFAULT_RATE_LIMIT`;
 *  - per user: the most generous of the user's role defaults (`ROLE_RATE_LIMITS`);
 *  - crawl routes: a concurrency lease (at most `maxConcurrency` on the key, else the role default,
 *    else Crawl4AI's 10 in flight), held until the response body ends, errors or is cancelled, and
 *    expiring on its own if this Worker dies mid-request.
 * Hot principals (high limits) are sharded over several objects (policy.ts `shardCount`).
 */
import type { Context, MiddlewareHandler } from 'hono';
import type { AppEnv } from '../env';
import { admit, defaultLimiterSource, releaseLease, renewLease, type LimiterNamespace } from './limiter-client';
import { enforce, onLimiterFailure, refuseConcurrency } from './enforce';
import { leaseTap, once } from './lease-body';
import { isCrawlRoute, isMcpMessageRoute, objectName, principalLimits, shardCount, shardSpec, type PrincipalLimits } from './policy';
import type { AppliedLimit } from './headers';
import type { RateLimitOptions } from './client-limits';
import { requestRoute } from '../http/request-target';
import { tapResponse } from '../http/body-taps';
import type { AdmitResult, LeaseRequest } from './rate-limiter-do';
import type { BudgetDecision } from '../metering/budget-ledger';
import { cachedRefusal } from './limiter-client';
import { requeueRefunds, takeRefunds } from '../metering/refunds';
import { admissionCharge } from '../metering/admission';
import { enforceBudget } from '../metering/budget-http';
import { budgetNow } from '../metering/clock';

/** A lease outlives the origin timeout by this margin before it expires on its own. */
export const LEASE_MARGIN_MS = 60_000;

/** What one admission against a principal's limits decided. */
export interface PrincipalAdmission {
  /** The object holding the principal's leases (release/renew go here). */
  name: string;
  /** The rate decision as the headers show it (the whole limit, not a shard's share). */
  applied?: AppliedLimit & { dimension: string };
  /** The lease answer when a lease was asked and the rate allowed it. */
  lease: AdmitResult | null;
  /** The budget answer when a charge was asked and the principal has a budget (docs/metering.md). */
  budget?: BudgetDecision;
}

/**
 * Admits one request of weight `cost` (default 1) against the principal's rate bucket and, when
 * `lease` is given, its concurrency cap. Shared by the HTTP middleware and the MCP tool calls
 * (src/crawl/mcp-limits.ts) so both spend the same bucket and leases. Throws when the limiter fails.
 */
export async function admitPrincipal(
  ns: LimiterNamespace,
  limits: PrincipalLimits,
  opts: { cost?: number; lease?: LeaseRequest; charge?: number } = {},
): Promise<PrincipalAdmission> {
  const { lease, cost, charge } = opts;
  const base = objectName(limits.dimension, limits.subject);
  const shards = shardCount(limits.rate);
  const spec = shardSpec(limits.rate, shards);
  const check = { bucket: limits.dimension, spec, ...(cost !== undefined && cost !== 1 ? { cost } : {}) };
  let rate: AdmitResult;
  let leaseResult: AdmitResult | null = null;
  // The budget rides on the base object's call (docs/metering.md): the charge, an injected test clock,
  // and the refunds of finished requests waiting in this isolate.
  const now = budgetNow();
  const extra = { ...(charge !== undefined ? { charge } : {}), ...(now !== undefined ? { now } : {}) };
  let budgetResult: AdmitResult | null = null;
  if (shards === 1) {
    const request = { checks: [check], lease, ...extra };
    const refunds = cachedRefusal(base, request) ? [] : takeRefunds(ns, base);
    try {
      rate = await admit(ns, base, refunds.length ? { ...request, refunds } : request);
    } catch (err) {
      requeueRefunds(ns, base, refunds);
      throw err;
    }
    leaseResult = lease ? rate : null;
    budgetResult = rate;
  } else {
    // Hot principal: the rate bucket lives on a random shard; the lease and the budget stay on the base object.
    rate = await admit(ns, objectName(limits.dimension, limits.subject, Math.floor(Math.random() * shards)), {
      checks: [check],
      ...(now !== undefined ? { now } : {}),
    });
    if ((lease || charge !== undefined) && rate.allowed) {
      const refunds = takeRefunds(ns, base);
      try {
        budgetResult = await admit(ns, base, { checks: [], lease, ...extra, ...(refunds.length ? { refunds } : {}) });
      } catch (err) {
        requeueRefunds(ns, base, refunds);
        throw err;
      }
      leaseResult = lease ? budgetResult : null;
    }
  }
  const decision = rate.decisions[0];
  // Report the whole limit, not the shard's share: remaining scales with the shard count.
  const shown = decision && (shards === 1 ? decision : { ...decision, limit: limits.rate.limit, remaining: decision.remaining * shards });
  return {
    name: base,
    applied: shown ? { policy: limits.dimension, dimension: limits.dimension, spec: limits.rate, decision: shown } : undefined,
    lease: leaseResult,
    ...(budgetResult?.budget ? { budget: budgetResult.budget } : {}),
  };
}

export function principalRateLimits(options: RateLimitOptions = {}): MiddlewareHandler<AppEnv> {
  const source = options.limiter ?? defaultLimiterSource;
  return async function principalRateLimitsMiddleware(c, next) {
    const principal = c.get('principal');
    if (!principal || c.req.method === 'OPTIONS') return next();
    // MCP message posts are charged per message by their handler (tool calls weigh their URLs).
    if (isMcpMessageRoute(requestRoute(c))) return next();
    const config = c.get('config');
    const limits = principalLimits(principal, config.DEFAULT_RATE_LIMIT, config.ROLE_RATE_LIMITS);
    // The route the router matched (not the raw URL): `POST /%6dd` is /md and takes a lease (#26).
    const lease: LeaseRequest | undefined = isCrawlRoute(requestRoute(c))
      ? { id: crypto.randomUUID(), max: limits.concurrency, ttlMs: config.ORIGIN_TIMEOUT_MS + LEASE_MARGIN_MS }
      : undefined;
    // Budgeted routes reserve their maximum cost in the same call (src/metering/admission.ts).
    const charge = admissionCharge(c);
    let ns: LimiterNamespace;
    let admitted: PrincipalAdmission;
    try {
      ns = source(c);
      admitted = await admitPrincipal(ns, limits, { lease, ...(charge ? { charge: charge.credits } : {}) });
    } catch (err) {
      onLimiterFailure(c, lease ? 'concurrency' : limits.dimension, err);
      return next();
    }
    if (admitted.applied) enforce(c, [admitted.applied]);
    if (admitted.budget && charge) enforceBudget(c, admitted.name, admitted.budget, charge.credits, budgetNow() ?? Date.now());
    const leaseResult = admitted.lease;
    const base = admitted.name;
    if (!lease || !leaseResult?.lease) return next();
    if (!leaseResult.lease.acquired) refuseConcurrency(c, leaseResult.lease.max, leaseResult.lease.active);
    await runHoldingLease(c, next, ns, base, lease);
  };
}

async function runHoldingLease(
  c: Context<AppEnv>,
  next: () => Promise<void>,
  ns: LimiterNamespace,
  name: string,
  lease: LeaseRequest,
): Promise<void> {
  const background = (p: Promise<unknown>) => {
    try {
      c.executionCtx.waitUntil(p);
    } catch {
      // no execution context: the promise still runs
    }
  };
  // Deferred: the release rides on this key's next admit() or is flushed within RELEASE_FLUSH_MS.
  const release = once(() => releaseLease(ns, name, lease.id, background));
  try {
    await next();
  } catch (err) {
    await release();
    throw err;
  }
  const res = c.res;
  if (!res.body || res.status >= 400 || c.req.raw.signal?.aborted) {
    await release();
    return;
  }
  // One stream for the body's observers: joins the meter's and the origin watchdog's (body-taps.ts).
  tapResponse(
    c,
    leaseTap({
      release,
      renew: () => renewLease(ns, name, lease.id, lease.ttlMs),
      renewEveryMs: lease.ttlMs / 2,
      background,
    }),
  );
}
