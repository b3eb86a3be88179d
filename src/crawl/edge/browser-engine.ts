/**
 * The `browser` edge engine: Chrome through the Browser Rendering binding (@cloudflare/puppeteer).
 * One session per request, shared by all its URLs with at most `concurrency` tabs open; the
 * session is handed back for reuse when the request ends well and closed when anything unexpected
 * happens or the client goes away (try/finally). Results stream out as each page finishes.
 */
import type { Page } from '@cloudflare/puppeteer';
import { checkTargetUrl, type EgressResult } from '../egress';
import type { CrawlResult, EdgeCrawlOptions, EdgeEngine } from '../types';
import { leaseBrowser, type BrowserBinding, type LeasedBrowser, type SessionEvent } from './browser-session';
import { evaluateScript, openTab, pdfOf, renderInTab, renderPage, screenshotOf, type Tab } from './browser-page';
import { EDGE_LIMITS, pageSettings, type PageSettings } from './crawl-options';
import { completionOrder } from './pool';
import { GatewayError } from '../../http/errors';
import { failedResult } from './result';
import { politely } from '../../polite/politely';

export interface BrowserEngineOptions {
  /** Tabs open at once for one request. */
  concurrency?: number;
  /** Observes session launch/reuse/release (tests, metrics). */
  onSession?: (event: SessionEvent) => void;
  /** Replaces the egress check (tests that need a loopback first hop with a strict policy). */
  checkUrl?: (url: string, options: EdgeCrawlOptions) => EgressResult;
}

/** The result of `/execute_js`: one entry per script, in order. */
export interface JsExecutionResult {
  success: boolean;
  results: unknown[];
}

/**
 * Settles with `onAbort()` as soon as the signal fires: puppeteer calls in flight when the browser
 * is closed can otherwise wait for their own 30 s timeout.
 */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal | undefined, onAbort: () => T): Promise<T> {
  if (!signal) return work;
  if (signal.aborted) {
    work.catch(() => undefined);
    return Promise.resolve(onAbort());
  }
  return new Promise<T>((resolve, reject) => {
    const abort = () => {
      work.catch(() => undefined);
      resolve(onAbort());
    };
    signal.addEventListener('abort', abort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', abort));
  });
}

/**
 * Tabs reused across the URLs of one request (opening a tab costs about as much as loading a
 * small page); a tab whose navigation failed is closed rather than reused. All are closed at the
 * end so a session handed back for reuse carries no page of this request.
 */
function tabPool(leased: LeasedBrowser, settings: PageSettings, checkUrl: (url: string) => EgressResult, sign?: (url: string) => Promise<Record<string, string>>) {
  const idle: Tab[] = [];
  const all = new Set<Tab>();
  return {
    async render(url: string): Promise<CrawlResult> {
      const tab = idle.pop() ?? (await openTab(leased.browser, settings, checkUrl, sign));
      all.add(tab);
      try {
        return await renderInTab(tab, url, { settings, checkUrl });
      } finally {
        if (tab.healthy) idle.push(tab);
        else {
          all.delete(tab);
          await tab.page.close().catch(() => undefined);
        }
      }
    },
    async closeAll(): Promise<void> {
      await Promise.all([...all].map((tab) => tab.page.close().catch(() => undefined)));
    },
  };
}

export function createBrowserEngine(binding: BrowserBinding, engineOptions: BrowserEngineOptions = {}): EdgeEngine {
  const concurrency = engineOptions.concurrency ?? EDGE_LIMITS.browserConcurrency;
  const checkFor = (options: EdgeCrawlOptions) => (url: string) =>
    engineOptions.checkUrl ? engineOptions.checkUrl(url, options) : checkTargetUrl(url, { allowPrivateTargets: options.allowPrivateTargets });

  /** Leases a browser; closes it at once if the client disconnects. */
  async function lease(options: EdgeCrawlOptions): Promise<{ leased: LeasedBrowser; detach: () => void }> {
    options.signal?.throwIfAborted();
    let leased: LeasedBrowser;
    try {
      leased = await leaseBrowser(binding, engineOptions.onSession);
    } catch (error) {
      // e.g. the account's concurrent-browser limit (429 from the binding) or no Chrome locally
      throw new GatewayError('service_unavailable', 'The browser engine could not get a browser session; retry later or use "engine":"fetch"', {
        cause: error,
        headers: { 'Retry-After': '5' },
      });
    }
    const onAbort = () => void leased.release('error');
    options.signal?.addEventListener('abort', onAbort, { once: true });
    return { leased, detach: () => options.signal?.removeEventListener('abort', onAbort) };
  }

  /** Runs `work` with a leased browser: disconnect on success, close on any error. */
  async function withBrowser<T>(options: EdgeCrawlOptions, work: (leased: LeasedBrowser) => Promise<T>): Promise<T> {
    const { leased, detach } = await lease(options);
    let outcome: 'ok' | 'error' = 'error';
    try {
      const value = await work(leased);
      outcome = options.signal?.aborted ? 'error' : 'ok';
      return value;
    } finally {
      detach();
      await leased.release(outcome);
    }
  }

  function single(url: string, options: EdgeCrawlOptions, after: (page: Page, result: CrawlResult) => Promise<void>): Promise<CrawlResult> {
    const settings = { ...pageSettings(options), screenshot: false, pdf: false };
    const sign = options.polite?.sign;
    return politely(options.polite, url, options.signal, () =>
      withBrowser(options, ({ browser }) =>
        untilAborted(renderPage(browser, url, { settings, checkUrl: checkFor(options), after, ...(sign ? { sign } : {}) }), options.signal, () => failedResult(url, 'the request was cancelled')),
      ),
    );
  }

  return {
    kind: 'browser',
    async *crawl(urls, options) {
      if (urls.length === 0) return;
      const settings = pageSettings(options);
      const { leased, detach } = await lease(options);
      const tabs = tabPool(leased, settings, checkFor(options), options.polite?.sign);
      let outcome: 'ok' | 'error' = 'error';
      try {
        yield* completionOrder(urls, concurrency, (url) =>
          politely(options.polite, url, options.signal, () => untilAborted(tabs.render(url), options.signal, () => failedResult(url, 'the request was cancelled'))),
        );
        outcome = options.signal?.aborted ? 'error' : 'ok';
      } finally {
        detach();
        await tabs.closeAll();
        await leased.release(outcome);
      }
    },
    screenshot: (url, options) =>
      single(url, options, async (page, result) => {
        result.screenshot = await screenshotOf(page);
      }),
    pdf: (url, options) =>
      single(url, options, async (page, result) => {
        result.pdf = await pdfOf(page);
      }),
    executeJs: (url, scripts, options) =>
      single(url, options, async (page, result) => {
        const results: unknown[] = [];
        let success = true;
        for (const script of scripts) {
          try {
            results.push((await evaluateScript(page, script)) ?? null);
          } catch (error) {
            success = false;
            results.push({ success: false, error: error instanceof Error ? error.message : String(error) });
          }
        }
        const execution: JsExecutionResult = { success, results };
        result.js_execution_result = execution as unknown as Record<string, unknown>;
      }),
  };
}
