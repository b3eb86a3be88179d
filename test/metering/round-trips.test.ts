/**
 * A budget costs no extra round trip (docs/metering.md): with a budget on the key, concurrent crawl
 * requests still take about one RateLimiter call each (admit = rate + lease + budget reservation;
 * refunds and lease releases ride along with later admits), and no D1 read or write happens in
 * the request path (the usage rollups are written in `waitUntil`, batched). Counts, not time.
 */
import { describe, expect, it } from 'vitest';
import { env } from 'cloudflare:workers';
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { testApp, credentialFor } from '../helpers/principal';
import { setBudget } from '../../src/metering/budgets';
import type { Env } from '../../src/env';
import { BASE } from '../helpers/test-vars';

const SITE = (env as unknown as { TEST_SITE_URL: string }).TEST_SITE_URL;
const E = env as unknown as Env;

function counting(counts: Record<string, number>): Env {
  const ns = E.RATE_LIMITER;
  const limiter = new Proxy(ns, {
    get(t, prop) {
      const value = Reflect.get(t, prop);
      if (typeof value !== 'function') return value;
      if (prop !== 'get') return value.bind(t);
      return (id: DurableObjectId) => {
        counts.rateLimiter = (counts.rateLimiter ?? 0) + 1;
        return (value as (i: DurableObjectId) => unknown).call(t, id);
      };
    },
  });
  const db = new Proxy(E.DB, {
    get(t, prop) {
      const value = Reflect.get(t, prop);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        if (prop === 'batch') counts.d1Batch = (counts.d1Batch ?? 0) + 1;
        if (prop === 'prepare') counts.d1Prepare = (counts.d1Prepare ?? 0) + 1;
        return (value as (...a: unknown[]) => unknown).apply(t, args);
      };
    },
  });
  return { ...E, ORIGIN_URL: '', ALLOW_PRIVATE_TARGETS: 'true', ENVIRONMENT: 'development', RATE_LIMITER: limiter, DB: db } as Env;
}

describe('round trips of a budgeted key', () => {
  it('about one RateLimiter call per request and the rollups in a few batched writes', async () => {
    const id = `key_rt_${crypto.randomUUID().slice(0, 8)}`;
    const key = credentialFor({ id, permissions: ['crawl:run'], maxConcurrency: 100, rateLimit: '10000/minute' });
    await setBudget(E, 'key', id, { credits: 1000, period: 'day' });
    const counts: Record<string, number> = {};
    const e = counting(counts);
    const N = 30;
    const send = async (i: number) => {
      const ctx = createExecutionContext();
      const res = await testApp.fetch(
        new Request(`${BASE}/md`, {
          method: 'POST',
          headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' },
          body: JSON.stringify({ url: `${SITE}/p/rt-${id}/${i}` }),
        }),
        e,
        ctx,
      );
      await res.arrayBuffer();
      return { res, ctx };
    };
    const first = await Promise.all(Array.from({ length: N }, (_, i) => send(i)));
    const second = await Promise.all(Array.from({ length: N }, (_, i) => send(N + i)));
    await Promise.all([...first, ...second].map((x) => waitOnExecutionContext(x.ctx)));
    expect([...first, ...second].every((x) => x.res.status === 200)).toBe(true);
    expect(first[0]!.res.headers.get('RateLimit-Policy')).toContain('"budget";q=1000');
    const perRequest = (counts.rateLimiter ?? 0) / (2 * N);
    console.log(`${2 * N} budgeted /md requests:`, JSON.stringify(counts), 'RateLimiter calls per request', perRequest.toFixed(3));
    expect(perRequest).toBeLessThanOrEqual(1.1);
    // The rollups: a handful of batched writes for 60 requests, not one per request.
    expect(counts.d1Batch ?? 0).toBeLessThan(N);
  });
});
