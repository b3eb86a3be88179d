/**
 * Browser isolation between tenants, against the real BROWSER binding (Debian's Chromium through
 * miniflare): each request runs in its own incognito context, sessions are reused only within a
 * tenant. The fixture `/state?who=X` prints the cookies its request carried and the localStorage
 * value it found, then sets both to X.
 */
import { describe, expect, it } from 'vitest';
import { env } from 'cloudflare:workers';
import { createBrowserEngine } from '../../src/engines/browser-engine';
import type { BrowserBinding, SessionEvent } from '../../src/engines/browser-session';
import type { CrawlResult, EdgeCrawlOptions, EdgeEngine } from '../../src/crawl/types';

const SITE = (env as unknown as { TEST_SITE_URL: string }).TEST_SITE_URL;
const BROWSER = (env as unknown as { BROWSER: BrowserBinding }).BROWSER;
const SLOW = { timeout: 120_000 };
const run = crypto.randomUUID().slice(0, 8);
const TENANT_A = `user:usr_a${run}`;
const TENANT_B = `user:usr_b${run}`;

function optionsFor(tenant: string | undefined): EdgeCrawlOptions {
  return { browserParams: {}, crawlerParams: {}, allowPrivateTargets: true, ...(tenant ? { tenant } : {}) };
}

async function crawlAll(engine: EdgeEngine, urls: string[], options: EdgeCrawlOptions): Promise<CrawlResult[]> {
  const results: CrawlResult[] = [];
  for await (const result of engine.crawl(urls, options)) results.push(result);
  return results;
}

/** What the probe page reported: the Cookie header it received and the localStorage it found. */
function stateSeen(result: CrawlResult): { cookies: string; storage: string } {
  expect(result.success).toBe(true);
  const text = result.markdown!.raw_markdown;
  return { cookies: /Cookies sent: (.*)/.exec(text)![1]!.trim(), storage: /Storage seen: (.*)/.exec(text)![1]!.trim() };
}

describe('browser engine: tenant isolation', () => {
  // `warm`: as the routes run it, with work after the response (`background`, i.e. ctx.waitUntil),
  // so each tenant's next request attaches to a context prepared by its previous one (browser-warm.ts).
  it.each([
    ['', false],
    [' (with warm contexts prepared after each request)', true],
  ])(
    'tenant B never sees tenant A’s cookies or localStorage over ten interleaved crawls, and sessions never cross tenants%s',
    async (_, warm) => {
      const events: Record<string, SessionEvent[]> = { [TENANT_A]: [], [TENANT_B]: [] };
      const seen: Array<{ tenant: string; cookies: string; storage: string }> = [];
      const background: Array<Promise<unknown>> = [];
      for (let i = 0; i < 10; i++) {
        const tenant = i % 2 === 0 ? TENANT_A : TENANT_B;
        const engine = createBrowserEngine(BROWSER, { onSession: (e) => events[tenant]!.push(e) });
        const options = { ...optionsFor(tenant), ...(warm ? { background: (p: Promise<unknown>) => void background.push(p) } : {}) };
        const [result] = await crawlAll(engine, [`${SITE}/state?who=${tenant === TENANT_A ? 'A' : 'B'}${i}`], options);
        seen.push({ tenant, ...stateSeen(result!) });
        await Promise.all(background.splice(0));
      }
      if (warm) {
        // The later requests of each tenant ran in contexts their tenant's previous request prepared, never the other's.
        const warmIds = (tenant: string, type: SessionEvent['type']) =>
          events[tenant]!.filter((e) => e.type === type && e.warmContextId).map((e) => e.warmContextId!);
        expect(warmIds(TENANT_A, 'reused').length).toBeGreaterThan(2);
        expect(warmIds(TENANT_B, 'reused').length).toBeGreaterThan(2);
        expect(warmIds(TENANT_A, 'reused').every((id) => warmIds(TENANT_A, 'disconnected').includes(id))).toBe(true);
        expect(warmIds(TENANT_B, 'reused').filter((id) => warmIds(TENANT_A, 'disconnected').includes(id))).toEqual([]);
      }
      // Nobody sees anything: not the other tenant's state, not its own earlier request's either.
      expect(seen.filter((s) => s.tenant === TENANT_B).every((s) => !/A\d/.test(s.cookies + s.storage))).toBe(true);
      expect(seen.map((s) => [s.cookies, s.storage])).toEqual(Array.from({ length: 10 }, () => ['none', 'none']));

      // Each tenant reused its own session, and no session id appears under both tenants.
      const ids = (tenant: string) => new Set(events[tenant]!.map((e) => e.sessionId));
      expect(events[TENANT_A]!.filter((e) => e.type === 'reused').length).toBeGreaterThan(0);
      expect(events[TENANT_B]!.filter((e) => e.type === 'reused').length).toBeGreaterThan(0);
      expect([...ids(TENANT_A)].filter((id) => ids(TENANT_B).has(id))).toEqual([]);
    },
    SLOW.timeout,
  );

  it('shares one context across the pages of one request (the second page sees the first page’s state)', SLOW, async () => {
    const engine = createBrowserEngine(BROWSER, { concurrency: 1 });
    const results = await crawlAll(engine, [`${SITE}/state?who=first`, `${SITE}/state?who=second`], optionsFor(TENANT_A));
    const byUrl = new Map(results.map((r) => [r.url, stateSeen(r)]));
    expect(byUrl.get(`${SITE}/state?who=first`)).toEqual({ cookies: 'none', storage: 'none' });
    expect(byUrl.get(`${SITE}/state?who=second`)).toEqual({ cookies: 'who=first', storage: 'first' });
  });

  it('keeps screenshot, PDF and execute_js requests apart too', SLOW, async () => {
    const engine = createBrowserEngine(BROWSER);
    const shot = await engine.screenshot(`${SITE}/state?who=shotA`, optionsFor(TENANT_A));
    expect(stateSeen(shot)).toEqual({ cookies: 'none', storage: 'none' });
    const pdf = await engine.pdf(`${SITE}/state?who=pdfA`, optionsFor(TENANT_A));
    expect(stateSeen(pdf)).toEqual({ cookies: 'none', storage: 'none' });
    const js = await engine.executeJs(`${SITE}/state?who=jsB`, ['document.cookie', "localStorage.getItem('who')"], optionsFor(TENANT_B));
    expect(stateSeen(js)).toEqual({ cookies: 'none', storage: 'none' });
    // the page's own writes are what the scripts read back: nothing older
    expect((js.js_execution_result as { results: unknown[] }).results).toEqual(['who=jsB', 'jsB']);
  });

  it('gives a request without a tenant a fresh session and closes it afterwards', SLOW, async () => {
    const events: SessionEvent[] = [];
    const engine = createBrowserEngine(BROWSER, { onSession: (e) => events.push(e) });
    const [result] = await crawlAll(engine, [`${SITE}/state?who=anon`], optionsFor(undefined));
    expect(stateSeen(result!)).toEqual({ cookies: 'none', storage: 'none' });
    expect(events.map((e) => e.type)).toEqual(['launched', 'closed']);
  });
});
