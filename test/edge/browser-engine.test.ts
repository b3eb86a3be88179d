/**
 * The browser engine against the real BROWSER binding (miniflare launching Debian's Chromium
 * through the launcher `npm run setup:chromium` writes).
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
/** One tenant for the whole file: sessions are reused only within a tenant. */
const LOCAL: EdgeCrawlOptions = { browserParams: {}, crawlerParams: {}, allowPrivateTargets: true, tenant: 'user:usr_browser_engine_test' };
const SLOW = { timeout: 60_000 };

function engineWithEvents(options: Parameters<typeof createBrowserEngine>[1] = {}): { engine: EdgeEngine; events: SessionEvent[] } {
  const events: SessionEvent[] = [];
  return { engine: createBrowserEngine(BROWSER, { ...options, onSession: (e) => events.push(e) }), events };
}

async function crawlAll(engine: EdgeEngine, urls: string[], options: EdgeCrawlOptions = LOCAL): Promise<CrawlResult[]> {
  const results: CrawlResult[] = [];
  for await (const result of engine.crawl(urls, options)) results.push(result);
  return results;
}

function decodeBase64(data: string): Uint8Array {
  return Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
}

describe('browser engine: rendering', () => {
  it('sees content inserted by JavaScript once wait_for css: is satisfied', SLOW, async () => {
    const [result] = await crawlAll(createBrowserEngine(BROWSER), [`${SITE}/js`], { ...LOCAL, crawlerParams: { wait_for: 'css:#ready' } });
    expect(result).toMatchObject({ success: true, status_code: 200, redirected_url: `${SITE}/js` });
    expect(result!.markdown!.raw_markdown).toContain('## Rendered by JavaScript');
    expect(result!.markdown!.raw_markdown).toContain('Only a browser sees this paragraph.');
    expect(result!.markdown!.raw_markdown).not.toContain('Loading…');
  });

  it('honours wait_for js: with a function expression', SLOW, async () => {
    const [result] = await crawlAll(createBrowserEngine(BROWSER), [`${SITE}/js`], {
      ...LOCAL,
      crawlerParams: { wait_for: 'js:() => window.appReady === true' },
    });
    expect(result!.markdown!.raw_markdown).toContain('Rendered by JavaScript');
  });

  it('fails the page (not the request) when wait_for is never satisfied', SLOW, async () => {
    const { engine, events } = engineWithEvents();
    const [result] = await crawlAll(engine, [`${SITE}/js`], { ...LOCAL, crawlerParams: { wait_for: 'css:#never', page_timeout: 1500 } });
    expect(result).toMatchObject({
      success: false,
      status_code: 200,
      error_message: 'wait_for css:#never not satisfied within the page timeout',
    });
    expect(events.at(-1)!.type).toBe('disconnected');
  });

  it('crawls several URLs in one session and hands the session back for reuse', SLOW, async () => {
    const first = engineWithEvents();
    const urls = [`${SITE}/links`, `${SITE}/pages/1`, `${SITE}/pages/2`, `${SITE}/redirect/3`, `${SITE}/missing`];
    const results = await crawlAll(first.engine, urls);
    expect(results.map((r) => r.url).sort()).toEqual([...urls].sort());
    expect(first.events.map((e) => e.type)).toEqual([expect.stringMatching(/^(launched|reused)$/), 'disconnected']);
    const byUrl = new Map(results.map((r) => [r.url, r]));
    expect(byUrl.get(`${SITE}/links`)!.links.external.map((l) => l.href)).toEqual([
      'https://example.org/external',
      'https://sub.example.org/x',
    ]);
    expect(byUrl.get(`${SITE}/links`)!.metadata.description).toBe('A page with links and media');
    expect(byUrl.get(`${SITE}/pages/2`)!.markdown!.fit_markdown).toContain('# Article 2');
    expect(byUrl.get(`${SITE}/redirect/3`)).toMatchObject({ success: true, redirected_url: `${SITE}/links` });
    expect(byUrl.get(`${SITE}/missing`)).toMatchObject({ success: false, status_code: 404, error_message: 'HTTP 404' });

    const second = engineWithEvents();
    await crawlAll(second.engine, [`${SITE}/`]);
    expect(second.events[0]).toEqual({ type: 'reused', sessionId: first.events[0]!.sessionId });
  });

  it('times out a slow page at page_timeout', SLOW, async () => {
    const [result] = await crawlAll(createBrowserEngine(BROWSER), [`${SITE}/slow?ms=10000`], {
      ...LOCAL,
      crawlerParams: { page_timeout: 1500 },
    });
    expect(result).toMatchObject({ success: false, error_message: 'page timed out after 1500 ms' });
  });
});

describe('browser engine: screenshot, PDF, execute_js', () => {
  it('takes a PNG screenshot (base64)', SLOW, async () => {
    const result = await createBrowserEngine(BROWSER).screenshot(`${SITE}/pages/3`, LOCAL);
    expect(result.success).toBe(true);
    expect([...decodeBase64(result.screenshot!).subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    expect(result.markdown!.raw_markdown).toContain('# Article 3');
  });

  it('prints a PDF (base64) starting with %PDF', SLOW, async () => {
    const result = await createBrowserEngine(BROWSER).pdf(`${SITE}/pages/4`, LOCAL);
    expect(result.success).toBe(true);
    expect(new TextDecoder().decode(decodeBase64(result.pdf!).subarray(0, 5))).toBe('%PDF-');
  });

  it('runs scripts and returns js_execution_result, reporting a failing script in place', SLOW, async () => {
    const result = await createBrowserEngine(BROWSER).executeJs(
      `${SITE}/links`,
      ['document.title', '(() => 6 * 7)()', 'const n = document.querySelectorAll("a").length; return n;', 'throw new Error("boom")'],
      LOCAL,
    );
    expect(result.success).toBe(true);
    const execution = result.js_execution_result as { success: boolean; results: unknown[] };
    expect(execution.success).toBe(false);
    expect(execution.results.slice(0, 3)).toEqual(['Links and media', 42, 9]);
    expect(execution.results[3]).toMatchObject({ success: false, error: expect.stringContaining('boom') });
  });
});

describe('browser engine: egress and errors', () => {
  it('refuses a target the egress policy refuses, without loading it', SLOW, async () => {
    const [result] = await crawlAll(createBrowserEngine(BROWSER), [`${SITE}/`], { ...LOCAL, allowPrivateTargets: false });
    expect(result!.success).toBe(false);
    expect(result!.error_message).toMatch(/^target refused by the egress policy: /);
  });

  it('re-checks the egress policy on a redirect hop to a private address (http://0x7f.1/)', SLOW, async () => {
    const first = `${SITE}/to-private`;
    const engine = createBrowserEngine(BROWSER, {
      checkUrl: (url) => checkTargetUrl(url, { allowPrivateTargets: url === first }),
    });
    const [result] = await crawlAll(engine, [first], { ...LOCAL, allowPrivateTargets: false });
    expect(result!.success).toBe(false);
    expect(result!.error_message).toMatch(/^redirect to http:\/\/127\.0\.0\.1:\d+\/ refused by the egress policy: /);
  });

  it('stops a sub-resource request the egress policy refuses before it leaves the browser', SLOW, async () => {
    const site = new URL(SITE);
    const engine = createBrowserEngine(BROWSER, {
      checkUrl: (url) => checkTargetUrl(url, { allowPrivateTargets: new URL(url).host === site.host }),
    });
    const id = crypto.randomUUID();
    // text_mode false: images load (by default a text crawl would not request them at all)
    const [result] = await crawlAll(engine, [`${SITE}/subresources/${id}`], {
      ...LOCAL,
      allowPrivateTargets: false,
      browserParams: { text_mode: false },
      crawlerParams: { wait_until: 'load' },
    });
    expect(result!.success).toBe(true);
    const beacons = (await (await fetch(`${SITE}/beacons`)).json()) as string[];
    expect(beacons).toContain(`${id}-allowed`);
    expect(beacons).not.toContain(`${id}-refused`);
  });

  it('does not request images for a text crawl by default, and does with text_mode false or for a screenshot', SLOW, async () => {
    const engine = createBrowserEngine(BROWSER);
    const id = crypto.randomUUID();
    const [text] = await crawlAll(engine, [`${SITE}/subresources/${id}-text`], { ...LOCAL, crawlerParams: { wait_until: 'load' } });
    expect(text!.success).toBe(true);
    expect(text!.media.images.map((i) => i.src)).toContain(`${SITE}/beacon?id=${id}-text-allowed`);
    await crawlAll(engine, [`${SITE}/subresources/${id}-full`], {
      ...LOCAL,
      browserParams: { text_mode: false },
      crawlerParams: { wait_until: 'load' },
    });
    await engine.screenshot(`${SITE}/subresources/${id}-shot`, { ...LOCAL, crawlerParams: { wait_until: 'load' } });
    const beacons = (await (await fetch(`${SITE}/beacons`)).json()) as string[];
    expect(beacons.filter((b) => b.startsWith(id) && b.endsWith('-allowed')).sort()).toEqual([`${id}-full-allowed`, `${id}-shot-allowed`]);
  });

  it('closes the browser (not just the tab) when the client goes away mid-crawl', SLOW, async () => {
    const { engine, events } = engineWithEvents();
    const controller = new AbortController();
    const crawl = crawlAll(engine, [`${SITE}/slow?ms=20000`], { ...LOCAL, signal: controller.signal });
    while (events.length === 0) await new Promise((r) => setTimeout(r, 50));
    controller.abort(new Error('client disconnected'));
    const outcome = await crawl.then(
      (results) => results,
      (error: unknown) => error,
    );
    const sessionId = events[0]!.sessionId;
    expect(events.map((e) => e.type)).toEqual([events[0]!.type, 'closed']);
    // whatever the generator ended with, the slow page was not reported as a success
    if (Array.isArray(outcome)) expect(outcome.every((r: CrawlResult) => !r.success)).toBe(true);
    // miniflare notices the exited Chrome on its next status check (about a second)
    let listed = true;
    for (let i = 0; i < 50 && listed; i++) {
      listed = (await puppeteer.sessions(BROWSER)).some((s) => s.sessionId === sessionId);
      if (listed) await new Promise((r) => setTimeout(r, 100));
    }
    expect(listed).toBe(false);
  });
});
