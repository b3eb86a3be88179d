/**
 * The `browser` edge engine: Chrome through the Browser Rendering binding (@cloudflare/puppeteer).
 * Isolation: every request (crawl, screenshot, PDF, execute_js, a job's page) runs in its own
 * incognito browser context, closed when the request ends, inside a session that is only ever
 * reused by the same tenant (browser-session.ts). Within a request, all its URLs share that
 * context and its tabs, at most `concurrency` at once. The session is handed back for reuse when
 * the request ends well and its context closed cleanly, and closed when anything unexpected
 * happens or the client goes away (try/finally). Results stream out as each page finishes.
 */
import type { BrowserContext, Page } from '@cloudflare/puppeteer';
import { checkTargetUrl, type EgressResult } from '../crawl/egress';
import type { CrawlResult, EdgeCrawlOptions, EdgeEngine } from '../crawl/types';
import { leaseBrowser, type BrowserBinding, type LeasedBrowser, type SessionEvent } from './browser-session';
import { evaluateScript, openTab, pdfOf, renderInTab, renderPage, screenshotOf, type Tab, type TabSetup } from './browser-page';
import { prepareWarmContext } from './browser-warm';
import { blockedResources } from './browser-resources';
import { EDGE_LIMITS, pageSettings } from './crawl-options';
import { completionOrder } from './pool';
import { GatewayError } from '../http/errors';
import { failedResult } from './result';
import { politely } from '../polite/politely';

export interface BrowserEngineOptions {
  /** Tabs open at once for one request. */
  concurrency?: number;
  /** False: never prepare a tenant's next context (browser-warm.ts); default true. */
  warmContexts?: boolean;
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
 * small page); the warm context's blank tabs are taken first; a tab whose navigation failed is
 * closed rather than reused. Closing the request's context closes the rest.
 */
function tabPool(context: BrowserContext, blank: Page[], setup: TabSetup) {
  const { settings, checkUrl } = setup;
  const idle: Tab[] = [];
  let busy = 0;
  let peak = 0;
  const take = (): Promise<Tab> => openTab(context, setup, blank.pop());
  return {
    /** Most tabs in use at once: how many the tenant's next request gets ready. */
    get peak() {
      return peak;
    },
    async render(url: string): Promise<CrawlResult> {
      peak = Math.max(peak, ++busy);
      try {
        const tab = idle.pop() ?? (await take());
        try {
          return await renderInTab(tab, url, { settings, checkUrl });
        } finally {
          if (tab.healthy) idle.push(tab);
          else await tab.page.close().catch(() => undefined);
        }
      } finally {
        busy--;
      }
    },
  };
}

/** One request's browser: a session leased for its tenant and a fresh incognito context in it. */
interface RequestBrowser {
  context: BrowserContext;
  /** The warm context's blank tabs, not yet set up (empty without one). */
  blank: Page[];
  /**
   * Starts preparing the tenant's next context (`tabs` blank tabs) while this request still runs,
   * once its own tabs are open; at most once, and only when the session can be kept.
   */
  prepareNext(tabs: number): void;
  /**
   * Closes the context, then keeps the session for the tenant (`ok`) or closes it. With
   * `options.background` and an `ok` outcome this runs after the response (`waitUntil`) and first
   * prepares a warm context with `nextTabs` blank tabs for the tenant's next request.
   */
  end(outcome: 'ok' | 'error', nextTabs: number): Promise<void>;
}

function unavailable(cause: unknown): GatewayError {
  return new GatewayError(
    'service_unavailable',
    'The browser engine could not get a browser session; retry later or use "engine":"fetch"',
    {
      cause,
      headers: { 'Retry-After': '5' },
    },
  );
}

export function createBrowserEngine(binding: BrowserBinding, engineOptions: BrowserEngineOptions = {}): EdgeEngine {
  const concurrency = engineOptions.concurrency ?? EDGE_LIMITS.browserConcurrency;
  const checkFor = (options: EdgeCrawlOptions) => (url: string) =>
    engineOptions.checkUrl
      ? engineOptions.checkUrl(url, options)
      : checkTargetUrl(url, { allowPrivateTargets: options.allowPrivateTargets });

  /** Leases a browser for the request's tenant; closes it at once if the client disconnects. */
  async function lease(options: EdgeCrawlOptions): Promise<{ leased: LeasedBrowser; detach: () => void }> {
    options.signal?.throwIfAborted();
    let leased: LeasedBrowser;
    try {
      leased = await leaseBrowser(binding, options.tenant ?? null, engineOptions.onSession);
    } catch (error) {
      // e.g. the account's concurrent-browser limit (429 from the binding) or no Chrome locally
      throw unavailable(error);
    }
    const onAbort = () => void leased.release('error');
    options.signal?.addEventListener('abort', onAbort, { once: true });
    return { leased, detach: () => options.signal?.removeEventListener('abort', onAbort) };
  }

  /** A leased session with a new incognito context (or the warm one) for this request only. */
  async function open(options: EdgeCrawlOptions): Promise<RequestBrowser> {
    const { leased, detach } = await lease(options);
    let context: BrowserContext;
    try {
      context = leased.warm?.context ?? (await leased.browser.createBrowserContext());
    } catch (error) {
      detach();
      await leased.release('error');
      throw unavailable(error);
    }
    // Only a session that can be kept for its tenant, with work allowed past the response, gets a next context.
    const canPrepare = engineOptions.warmContexts !== false && options.background !== undefined && options.tenant !== undefined;
    let next: Promise<string> | null = null;
    const prepareNext = (tabs: number) => {
      if (!canPrepare || next !== null || tabs < 1) return;
      next = prepareWarmContext(leased.browser, Math.min(tabs, concurrency));
      next.catch(() => undefined); // awaited (or dropped with the closed session) in end()
    };
    return {
      context,
      blank: leased.warm?.pages ?? [],
      prepareNext,
      end(outcome, nextTabs) {
        detach();
        const final = options.signal?.aborted ? 'error' : outcome;
        const background = final === 'ok' ? options.background : undefined;
        if (background) prepareNext(nextTabs);
        const warm = next;
        // A context that will not close may still hold this tenant's cookies: the session is then closed.
        const done = leased.release(final, async () => (await Promise.all([context.close(), warm]))[1]);
        if (!background) return done;
        background(done);
        return Promise.resolve();
      },
    };
  }

  /** Runs `work` in a request browser: the context is closed and the session released whatever happens. */
  async function withBrowser<T>(options: EdgeCrawlOptions, work: (context: BrowserContext, blank: Page[]) => Promise<T>): Promise<T> {
    const request = await open(options);
    let outcome: 'ok' | 'error' = 'error';
    try {
      const value = await work(request.context, request.blank);
      outcome = 'ok';
      return value;
    } finally {
      await request.end(outcome, 1);
    }
  }

  function single(url: string, options: EdgeCrawlOptions, after: (page: Page, result: CrawlResult) => Promise<void>): Promise<CrawlResult> {
    const settings = { ...pageSettings(options), screenshot: false, pdf: false };
    const blocked = blockedResources(options, true);
    const sign = options.polite?.sign;
    return politely(options.polite, url, options.signal, () =>
      withBrowser(options, (context, blank) =>
        untilAborted(
          renderPage(context, url, { settings, checkUrl: checkFor(options), blocked, after, ...(sign ? { sign } : {}) }, blank.pop()),
          options.signal,
          () => failedResult(url, 'the request was cancelled'),
        ),
      ),
    );
  }

  return {
    kind: 'browser',
    async *crawl(urls, options) {
      if (urls.length === 0) return;
      const settings = pageSettings(options);
      options.polite?.expect(urls);
      const request = await open(options);
      const sign = options.polite?.sign;
      const tabs = tabPool(request.context, request.blank, {
        settings,
        checkUrl: checkFor(options),
        blocked: blockedResources(options, false),
        ...(sign ? { sign } : {}),
      });
      let outcome: 'ok' | 'error' = 'error';
      try {
        const pages = completionOrder(urls, concurrency, (url) =>
          politely(options.polite, url, options.signal, () =>
            untilAborted(tabs.render(url), options.signal, () => failedResult(url, 'the request was cancelled')),
          ),
        );
        for await (const result of pages) {
          // The first page is done, so this request's tabs are open: the next context's renderers start now.
          request.prepareNext(Math.min(urls.length, concurrency));
          yield result;
        }
        outcome = 'ok';
      } finally {
        options.polite?.finish();
        await request.end(outcome, tabs.peak);
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
