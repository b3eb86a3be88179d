/**
 * One HostPacer per target host, shared by all tenants: arrival times at the fixture show the
 * spacing (HOST_MIN_DELAY_MS) and the in-flight cap (HOST_MAX_CONCURRENCY) across two tenants
 * crawling at once, and a 429 + Retry-After pausing that host only. Spacing is behaviour (the
 * order and gaps the site saw), asserted with a small tolerance; nothing here asserts speed.
 */
import { describe, expect, it } from 'vitest';
import { callAs, credentialFor } from '../helpers/principal';
import { crawl, crawler, edgeVars, hostLog, hostUrl, HOSTS, setupHost } from './helpers';

/** Timer and network jitter between the Worker's start and the fixture's clock. */
const TOLERANCE_MS = 40;

describe('HostPacer: one host, two tenants', () => {
  it('spaces requests by HOST_MIN_DELAY_MS and never exceeds HOST_MAX_CONCURRENCY', async () => {
    const h = HOSTS.spacing;
    await setupHost(h, { robots: { status: 404 } });
    const vars = edgeVars({ HOST_MIN_DELAY_MS: '250', HOST_MAX_CONCURRENCY: '2' });
    // Each page takes 600 ms, so with 250 ms spacing a third request would overlap two others: the cap must hold it back.
    const urls = (t: string) => [1, 2, 3, 4].map((n) => hostUrl(h, `/page/${t}-${n}?ms=600`));
    const [a, b] = await Promise.all([crawl(crawler('tenant-a'), urls('a'), vars), crawl(crawler('tenant-b'), urls('b'), vars)]);
    expect([...a.results, ...b.results].every((r) => r.success)).toBe(true);

    const log = await hostLog(h);
    const pages = log.arrivals.filter((x) => x.path.startsWith('/page/'));
    expect(pages).toHaveLength(8);
    expect(new Set(pages.map((p) => p.path.split('-')[0]))).toEqual(new Set(['/page/a', '/page/b']));
    const times = pages.map((p) => p.t).sort((x, y) => x - y);
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(250 - TOLERANCE_MS);
    expect(log.max_open).toBeLessThanOrEqual(2);
    expect(log.max_open).toBe(2);
  });
});

describe('HostPacer: backoff', () => {
  it('pauses a host for Retry-After after a 429, and not other hosts', async () => {
    const h = HOSTS.backoff;
    const other = HOSTS.other;
    await setupHost(h, { robots: { status: 404 } });
    await setupHost(other, { robots: { status: 404 } });
    const vars = edgeVars({ HOST_MIN_DELAY_MS: '0' });
    const first = await crawl(crawler('backoff-a'), [hostUrl(h, '/rl/x?retry_after=2')], vars);
    expect(first.results[0]).toMatchObject({ success: false, status_code: 429 });
    // Right after: the same host waits out the Retry-After; another host does not.
    const [same, elsewhere] = await Promise.all([
      crawl(crawler('backoff-b'), [hostUrl(h, '/page/after')], vars),
      crawl(crawler('backoff-c'), [hostUrl(other, '/page/now')], vars),
    ]);
    expect(same.results[0]).toMatchObject({ success: true });
    expect(elsewhere.results[0]).toMatchObject({ success: true });
    const log = await hostLog(h);
    const limited = log.arrivals.find((a) => a.path.startsWith('/rl/x'))!;
    const after = log.arrivals.find((a) => a.path === '/page/after')!;
    expect(after.t - limited.t).toBeGreaterThanOrEqual(2000 - TOLERANCE_MS);
    const now = (await hostLog(other)).arrivals.find((a) => a.path === '/page/now')!;
    expect(now.t - limited.t).toBeLessThan(2000 - TOLERANCE_MS);
  });

  it('answers host_busy when the wait would outlast the request, without contacting the host', async () => {
    const h = HOSTS.backoff;
    await setupHost(h, { robots: { status: 404 } });
    const vars = edgeVars({ HOST_MIN_DELAY_MS: '0' });
    await crawl(crawler('busy-a'), [hostUrl(h, '/rl/long?retry_after=120')], vars);
    const { results } = await crawl(crawler('busy-b'), [hostUrl(h, '/page/blocked')], vars);
    expect(results[0]).toMatchObject({ success: false, error_code: 'host_busy' });
    expect(results[0]!.error_message).toMatch(/backing off/);
    expect((await hostLog(h)).arrivals.map((a) => a.path)).not.toContain('/page/blocked');
  });
});

describe('GET /admin/hosts', () => {
  it('lists target hosts with their live state for admins; others get 403', async () => {
    const h = HOSTS.admin;
    await setupHost(h, { robots: { status: 200, body: 'User-agent: *\nDisallow: /private\nCrawl-delay: 0.3\n' } });
    const vars = edgeVars({ HOST_MIN_DELAY_MS: '0' });
    await crawl(crawler('admin-a'), [hostUrl(h, '/public/1'), hostUrl(h, '/private/1')], vars);
    const admin = credentialFor({ id: 'hosts-admin', permissions: ['hosts:read'], roles: ['admin'] });
    const res = await callAs(admin, '/admin/hosts?limit=50');
    expect(res.status).toBe(200);
    const body = await res.json<{ hosts: Array<Record<string, unknown>>; next_cursor: string | null }>();
    const host = body.hosts.find((x) => x.host === new URL(hostUrl(h)).host);
    expect(host).toMatchObject({ requests: 1, robots_refusals: 1, circuit: 'closed', last_status: 200, in_flight: 0 });
    expect((host!.robots as Array<Record<string, unknown>>)[0]).toMatchObject({ origin: hostUrl(h), kind: 'rules', status: 200 });
    const one = await callAs(admin, `/admin/hosts/${encodeURIComponent(new URL(hostUrl(h)).host)}`);
    expect(one.status).toBe(200);
    expect((await callAs(crawler('admin-b'), '/admin/hosts')).status).toBe(403);
  });
});

describe('HostPacer cost per page (printed, not asserted)', () => {
  it('one acquire (robots cached, slot free) and one release, measured on the local object', async () => {
    const { env } = await import('cloudflare:workers');
    const ns = (env as unknown as import('../../src/env').Env).HOST_PACER;
    const h = HOSTS.units;
    await setupHost(h, { robots: { status: 404 } });
    const stub = ns.get(ns.idFromName(new URL(hostUrl(h)).host));
    const request = (n: number) => ({
      url: hostUrl(h, `/page/cost-${n}`),
      respectRobots: true,
      userAgent: 'crawlgate/0.1.0',
      limits: { minDelayMs: 0, maxConcurrency: 100, maxCrawlDelayMs: 0 },
      maxWaitMs: 1000,
      leaseMs: 10_000,
      allowPrivateTargets: true,
    });
    await stub.acquire(request(0)); // robots.txt fetched and cached here
    const N = 50;
    const started = performance.now();
    for (let i = 1; i <= N; i++) {
      const a = await stub.acquire(request(i));
      expect(a.kind).toBe('go');
      if (a.kind === 'go') await stub.release([{ leaseId: a.leaseId, status: 200 }]);
    }
    const perPage = (performance.now() - started) / N;
    console.log(`HostPacer: acquire + release per page ${perPage.toFixed(2)} ms (local workerd, ${N} pages, robots.txt cached)`);
    expect((await hostLog(h)).arrivals.map((x) => x.path)).toEqual(['/robots.txt']);
  });
});
