/**
 * Warm contexts (src/engines/browser-warm.ts) against the real BROWSER binding: after a request
 * whose work may finish after the response (`background`, i.e. `ctx.waitUntil`), the tenant's
 * session is filed with a fresh, never-navigated incognito context and blank tabs, and the
 * tenant's next request attaches to it. It must carry nothing of the previous request (cookies,
 * localStorage, HTTP cache), never reach another tenant, get the new request's own settings
 * (user agent, egress interception), and be the only one its session holds.
 */
import { describe, expect, it } from 'vitest';
import { env } from 'cloudflare:workers';
import puppeteer from '@cloudflare/puppeteer';
import { createBrowserEngine } from '../../src/engines/browser-engine';
import type { BrowserBinding, SessionEvent } from '../../src/engines/browser-session';
import { checkTargetUrl } from '../../src/crawl/egress';
import type { CrawlResult, EdgeCrawlOptions, EdgeEngine } from '../../src/crawl/types';

const SITE = (env as unknown as { TEST_SITE_URL: string }).TEST_SITE_URL;
const BROWSER = (env as unknown as { BROWSER: BrowserBinding }).BROWSER;
const SLOW = { timeout: 180_000 };
const run = crypto.randomUUID().slice(0, 8);

/** What `ctx.waitUntil` would keep alive; `settle` waits for it (the runtime would after the response). */
function backgroundQueue() {
  const work: Array<Promise<unknown>> = [];
  return {
    background: (p: Promise<unknown>) => void work.push(p),
    async settle() {
      while (work.length) await work.shift();
    },
  };
}

function engineWithEvents(options: Parameters<typeof createBrowserEngine>[1] = {}): { engine: EdgeEngine; events: SessionEvent[] } {
  const events: SessionEvent[] = [];
  return { engine: createBrowserEngine(BROWSER, { ...options, onSession: (e) => events.push(e) }), events };
}

async function crawlAll(engine: EdgeEngine, urls: string[], options: EdgeCrawlOptions): Promise<CrawlResult[]> {
  const results: CrawlResult[] = [];
  for await (const result of engine.crawl(urls, options)) results.push(result);
  return results;
}

function textOf(results: CrawlResult[], url: string): string {
  const result = results.find((r) => r.url === url);
  expect(result?.success).toBe(true);
  return result!.markdown!.raw_markdown;
}

/** The `/state` probe's report: the Cookie header it received and the localStorage it found. */
function stateSeen(results: CrawlResult[], url: string): string {
  const text = textOf(results, url);
  return `${/Cookies sent: (.*)/.exec(text)![1]!.trim()} / ${/Storage seen: (.*)/.exec(text)![1]!.trim()}`;
}

/** A tenant's request with its after-response work queued by the test (so the warm hand-back can be awaited). */
function warmOptions(tenant: string, background: EdgeCrawlOptions['background']): EdgeCrawlOptions {
  return { browserParams: {}, crawlerParams: {}, allowPrivateTargets: true, tenant, background };
}

describe('browser engine: warm contexts for the tenant’s next request', () => {
  it('hands the next request a prepared context holding no cookie, localStorage or cache entry of the previous one', SLOW, async () => {
    const tenant = `user:usr_warm_a${run}`;
    const queue = backgroundQueue();
    const options = warmOptions(tenant, queue.background);
    const cached = `${SITE}/cached/${run}`;

    const first = engineWithEvents({ concurrency: 1 });
    const one = await crawlAll(
      first.engine,
      [`${SITE}/state?who=one`, cached, `${SITE}/pages/1`, `${SITE}/state?who=again`, cached],
      options,
    );
    expect(stateSeen(one, `${SITE}/state?who=one`)).toBe('none / none');
    // Within one request state and cache are shared: the probe sees the first visit, the cached page is not fetched again.
    expect(stateSeen(one, `${SITE}/state?who=again`)).toBe('who=one / one');
    expect(one.filter((r) => r.url === cached).map((r) => r.markdown!.raw_markdown.trim())).toEqual(['Served 1 times', 'Served 1 times']);
    await queue.settle();
    const filed = first.events.at(-1)!;
    expect(filed).toMatchObject({ type: 'disconnected', warmContextId: expect.any(String) });

    const second = engineWithEvents({ concurrency: 1 });
    const two = await crawlAll(second.engine, [`${SITE}/state?who=two`, cached], options);
    expect(second.events[0]).toEqual({ type: 'reused', sessionId: filed.sessionId, warmContextId: filed.warmContextId });
    expect(stateSeen(two, `${SITE}/state?who=two`)).toBe('none / none');
    expect(textOf(two, cached).trim()).toBe('Served 2 times');
    await queue.settle();
    // Each request's warm context is a new one.
    expect(second.events.at(-1)).toMatchObject({ type: 'disconnected', sessionId: filed.sessionId });
    expect(second.events.at(-1)!.warmContextId).not.toBe(filed.warmContextId);
  });

  it('never gives one tenant’s warm context (or its session) to another tenant', SLOW, async () => {
    const tenantA = `user:usr_warm_b${run}`;
    const tenantB = `user:usr_warm_c${run}`;
    const queue = backgroundQueue();
    const optionsFor = (tenant: string): EdgeCrawlOptions => ({
      browserParams: {},
      crawlerParams: {},
      allowPrivateTargets: true,
      tenant,
      background: queue.background,
    });
    const a1 = engineWithEvents();
    expect(stateSeen(await crawlAll(a1.engine, [`${SITE}/state?who=A1`], optionsFor(tenantA)), `${SITE}/state?who=A1`)).toBe('none / none');
    await queue.settle();
    const warmA = a1.events.at(-1)!;
    expect(warmA.warmContextId).toEqual(expect.any(String));

    const b1 = engineWithEvents();
    expect(stateSeen(await crawlAll(b1.engine, [`${SITE}/state?who=B1`], optionsFor(tenantB)), `${SITE}/state?who=B1`)).toBe('none / none');
    await queue.settle();
    expect(b1.events[0]!.type).toBe('launched');
    expect(b1.events.map((e) => e.sessionId)).not.toContain(warmA.sessionId);
    expect(b1.events.map((e) => e.warmContextId)).not.toContain(warmA.warmContextId);

    const a2 = engineWithEvents();
    expect(stateSeen(await crawlAll(a2.engine, [`${SITE}/state?who=A2`], optionsFor(tenantA)), `${SITE}/state?who=A2`)).toBe('none / none');
    await queue.settle();
    expect(a2.events[0]).toEqual({ type: 'reused', sessionId: warmA.sessionId, warmContextId: warmA.warmContextId });
  });

  it('sets each request’s own user agent and egress check on warm tabs, and keeps one warm context per idle session', SLOW, async () => {
    const tenant = `user:usr_warm_d${run}`;
    const queue = backgroundQueue();
    const base = warmOptions(tenant, queue.background);
    const agents: string[] = [];
    let last: SessionEvent | undefined;
    for (let i = 0; i < 3; i++) {
      const { engine, events } = engineWithEvents();
      const userAgent = `crawlgate-warm-test/${run}-${i}`;
      const results = await crawlAll(engine, [`${SITE}/echo-headers`], { ...base, browserParams: { user_agent: userAgent } });
      agents.push(/"user-agent":"([^"]*)"/.exec(textOf(results, `${SITE}/echo-headers`))?.[1] ?? 'none');
      await queue.settle();
      if (i > 0) expect(events[0]).toMatchObject({ type: 'reused', warmContextId: last!.warmContextId });
      last = events.at(-1)!;
    }
    expect(agents).toEqual([0, 1, 2].map((i) => `crawlgate-warm-test/${run}-${i}`));

    // The egress check runs on a warm tab: a sub-resource the policy refuses never leaves the browser.
    const site = new URL(SITE);
    const strict = engineWithEvents({ checkUrl: (url) => checkTargetUrl(url, { allowPrivateTargets: new URL(url).host === site.host }) });
    const id = crypto.randomUUID();
    const [page] = await crawlAll(strict.engine, [`${SITE}/subresources/${id}`], {
      ...base,
      allowPrivateTargets: false,
      browserParams: { text_mode: false },
      crawlerParams: { wait_until: 'load' },
    });
    await queue.settle();
    expect(strict.events[0]).toMatchObject({ type: 'reused', warmContextId: last!.warmContextId });
    expect(page!.success).toBe(true);
    const beacons = (await (await fetch(`${SITE}/beacons`)).json()) as string[];
    expect(beacons).toContain(`${id}-allowed`);
    expect(beacons).not.toContain(`${id}-refused`);

    // The filed session holds the default context and exactly one warm context of blank tabs.
    const filed = strict.events.at(-1)!;
    expect(filed.type).toBe('disconnected');
    const browser = await puppeteer.connect(BROWSER, filed.sessionId);
    try {
      const others = browser.browserContexts().filter((ctx) => ctx !== browser.defaultBrowserContext());
      expect(others.map((ctx) => ctx.id)).toEqual([filed.warmContextId]);
      const pages = await others[0]!.pages();
      expect(pages.length).toBeGreaterThan(0);
      expect(pages.map((p) => p.url())).toEqual(pages.map(() => 'about:blank'));
    } finally {
      await browser.close();
    }
  });
});
