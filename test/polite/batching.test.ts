/**
 * Batched HostPacer calls (issue #25, src/polite/host-lanes.ts): a request's pages on one host share
 * few calls to the host's object — pages asking together go in one call, the request's next pages
 * are leased ahead when the host has no spacing and free slots, releases ride along — while the
 * polite rules still hold: the in-flight cap, and a 429 pausing the pages that had not started.
 * Calls are counted on the real local object through a counting stub; nothing here asserts speed.
 */
import { describe, expect, it } from 'vitest';
import { env } from 'cloudflare:workers';
import type { Env } from '../../src/env';
import { loadConfig } from '../../src/config';
import { createPoliteGate } from '../../src/polite/gate';
import { crawl, crawler, edgeVars, hostLog, hostUrl, HOSTS, setupHost } from './helpers';

type Counts = Record<string, number>;

/** The real HOST_PACER namespace, with every RPC on its stubs counted by method name. */
function countingEnv(counts: Counts, vars: Record<string, string>): Env {
  const e = env as unknown as Env;
  const ns = e.HOST_PACER as unknown as DurableObjectNamespace;
  const counted = new Proxy(ns, {
    get(t, prop) {
      const value = Reflect.get(t, prop);
      if (prop !== 'get') return typeof value === 'function' ? value.bind(t) : value;
      return (id: DurableObjectId) => {
        const stub = t.get(id) as unknown as Record<string, (...a: unknown[]) => unknown>;
        // Only the pacer's RPC methods are wrapped (an RPC stub answers every property name).
        return {
          acquire: (...args: unknown[]) => ((counts.acquire = (counts.acquire ?? 0) + 1), stub.acquire!(...args)),
          acquireMany: (...args: unknown[]) => ((counts.acquireMany = (counts.acquireMany ?? 0) + 1), stub.acquireMany!(...args)),
          release: (...args: unknown[]) => ((counts.release = (counts.release ?? 0) + 1), stub.release!(...args)),
        };
      };
    },
  });
  return { ...e, ...vars, HOST_PACER: counted as unknown as Env['HOST_PACER'] };
}

function gateFor(e: Env) {
  const config = loadConfig(e);
  if (!config.ok) throw new Error('test config invalid');
  return createPoliteGate(e, config.config, { respectRobots: true, allowPrivateTargets: true, maxWaitMs: 10_000, leaseMs: 30_000 });
}

const total = (c: Counts) => Object.values(c).reduce((a, b) => a + b, 0);

describe('HostPacer calls batched per request', () => {
  it('twelve pages on a host without spacing: a few calls, not two per page; the cap still holds', async () => {
    const h = HOSTS.batch;
    await setupHost(h, { robots: { status: 404 } });
    const counts: Counts = {};
    const gate = gateFor(countingEnv(counts, { ALLOW_PRIVATE_TARGETS: 'true', HOST_MIN_DELAY_MS: '0', HOST_MAX_CONCURRENCY: '4' }));
    const urls = Array.from({ length: 12 }, (_, i) => hostUrl(h, `/page/b-${i}?ms=50`));
    gate.expect(urls);
    // Eight at a time, like the fetch engine's pool.
    const results: number[] = [];
    for (let i = 0; i < urls.length; i += 8) {
      results.push(...(await Promise.all(urls.slice(i, i + 8).map(async (u) => (await gate.fetch(u, {})).text().then(() => 200)))));
    }
    await gate.settle();
    expect(results).toHaveLength(12);
    const log = await hostLog(h);
    expect(log.arrivals.filter((a) => a.path.startsWith('/page/b-'))).toHaveLength(12);
    expect(log.max_open).toBeLessThanOrEqual(4);
    // Per page before batching: one acquire + one release = 24 calls.
    expect(total(counts)).toBeLessThan(12);
    expect(counts.acquire ?? 0).toBe(0);
    console.log('HostPacer calls for 12 pages (cap 4, no spacing):', JSON.stringify(counts));
  });

  it('with spacing, pages are not leased ahead: the gaps still hold', async () => {
    const h = HOSTS.batch;
    await setupHost(h, { robots: { status: 404 } });
    const counts: Counts = {};
    const gate = gateFor(countingEnv(counts, { ALLOW_PRIVATE_TARGETS: 'true', HOST_MIN_DELAY_MS: '200', HOST_MAX_CONCURRENCY: '4' }));
    const urls = Array.from({ length: 4 }, (_, i) => hostUrl(h, `/page/s-${i}`));
    gate.expect(urls);
    await Promise.all(urls.map(async (u) => (await gate.fetch(u, {})).text()));
    await gate.settle();
    const times = (await hostLog(h)).arrivals
      .filter((a) => a.path.startsWith('/page/s-'))
      .map((a) => a.t)
      .sort((a, b) => a - b);
    expect(times).toHaveLength(4);
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(200 - 40);
  });

  it('a 429 gives back the leases taken ahead: the next page waits out Retry-After', async () => {
    const h = HOSTS.batchBackoff;
    await setupHost(h, { robots: { status: 404 } });
    const counts: Counts = {};
    const gate = gateFor(countingEnv(counts, { ALLOW_PRIVATE_TARGETS: 'true', HOST_MIN_DELAY_MS: '0', HOST_MAX_CONCURRENCY: '10' }));
    const limited = hostUrl(h, '/rl/batch?retry_after=2');
    const next = hostUrl(h, '/page/after-429');
    gate.expect([limited, next]);
    const first = await gate.fetch(limited, {});
    await first.text();
    expect(first.status).toBe(429);
    const second = await gate.fetch(next, {});
    await second.text();
    expect(second.status).toBe(200);
    await gate.settle();
    const log = await hostLog(h);
    const t429 = log.arrivals.find((a) => a.path.startsWith('/rl/batch'))!.t;
    const tNext = log.arrivals.find((a) => a.path === '/page/after-429')!.t;
    expect(tNext - t429).toBeGreaterThanOrEqual(2000 - 40);
  });

  it('through POST /crawl (fetch engine): every page crawled, the host capped', async () => {
    const h = HOSTS.batch;
    await setupHost(h, { robots: { status: 404 } });
    const urls = Array.from({ length: 10 }, (_, i) => hostUrl(h, `/page/c-${i}?ms=30`));
    const res = await crawl(crawler('batch-a'), urls, edgeVars({ HOST_MIN_DELAY_MS: '0', HOST_MAX_CONCURRENCY: '3' }));
    expect(res.status).toBe(200);
    expect(res.results.every((r) => r.success)).toBe(true);
    expect((await hostLog(h)).max_open).toBeLessThanOrEqual(3);
  });
});
