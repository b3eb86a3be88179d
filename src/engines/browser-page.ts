/**
 * One URL in one browser tab: every request the page makes (the navigation, each redirect hop,
 * every sub-resource) passes the egress policy first through request interception (and heavy
 * resources the output does not need are aborted there too), then the page loads with a
 * deadline, runs `js_code`, honours `wait_for` (`css:` / `js:` as in Crawl4AI), and hands its
 * rendered HTML to the shared result builder. Tabs live in the request's incognito context.
 */
import type { BrowserContext, HTTPRequest, Page } from '@cloudflare/puppeteer';
import type { BlockableResource } from './browser-resources';
import type { EgressResult } from '../crawl/egress';
import type { CrawlResult } from '../crawl/types';
import type { PageSettings } from './crawl-options';
import { buildResult, failedResult, toBase64 } from './result';
import { isRawHtml } from './raw-html';
import { loadRawHtml } from './raw-html-load';
import { runPageHooks } from './hook-actions';

/** A page-level failure: reported in the result, the browser stays usable. */
export class PageError extends Error {
  constructor(
    message: string,
    readonly status: number | null = null,
  ) {
    super(message);
    this.name = 'PageError';
  }
}

export interface RenderOptions {
  settings: PageSettings;
  checkUrl: (url: string) => EgressResult;
  /** Resource types aborted without a request (browser-resources.ts). */
  blocked?: ReadonlySet<BlockableResource>;
  /** Extra work on the loaded page (screenshot, PDF, scripts) that fills result fields. */
  after?: (page: Page, result: CrawlResult) => Promise<void>;
  /** Web Bot Auth headers for a request URL (the polite gate's signer). */
  sign?: (url: string) => Promise<Record<string, string>>;
}

/** Longest full-page screenshot, in CSS pixels (a huge page would make a huge PNG). */
const MAX_SCREENSHOT_HEIGHT = 8000;

/** A `js:` snippet as an expression: function literals are called, like Crawl4AI does. */
export function asExpression(code: string): string {
  const trimmed = code.trim();
  return /^(async\s+)?(function\b|\([^()]*\)\s*=>|[\w$]+\s*=>)/.test(trimmed) ? `(${trimmed})()` : trimmed;
}

/** Evaluates a script; statement lists (with `return`) run as an async function body. */
export async function evaluateScript(page: Page, code: string): Promise<unknown> {
  try {
    return await page.evaluate(asExpression(code));
  } catch (error) {
    if (!(error instanceof Error) || !/SyntaxError|Illegal return/i.test(error.message)) throw error;
    return await page.evaluate(`(async () => { ${code}\n})()`);
  }
}

function isTimeout(error: unknown): boolean {
  return error instanceof Error && (error.name === 'TimeoutError' || /timeout|timed out/i.test(error.message));
}

/** A browser tab prepared for crawling: egress interception on, user agent and viewport set. */
export interface Tab {
  page: Page;
  /** Set by the request handler when the main-frame navigation (or a redirect hop) is refused. */
  refused: string | null;
  /** False once a navigation failed in a way that may leave the tab unusable. */
  healthy: boolean;
}

/** What a tab is set up with: the page settings, the egress check, blocked resource types and Web Bot Auth signing. */
export type TabSetup = Pick<RenderOptions, 'settings' | 'checkUrl' | 'blocked' | 'sign'>;

/**
 * A tab of `context` for this request: the warm context's blank tab `blank` when there is one
 * (browser-warm.ts), else a new one. Its every request (navigation, redirect hops, sub-resources)
 * passes `checkUrl`, requests for a `blocked` resource type are aborted before they are sent, and
 * allowed requests carry Web Bot Auth headers from `sign` (when keys are set). User agent, viewport
 * and interception belong to the DevTools connection, so a warm tab carries none of them from the
 * request that prepared it.
 */
export async function openTab(context: BrowserContext, setup: TabSetup, blank?: Page): Promise<Tab> {
  const page = blank ?? (await context.newPage());
  const { settings, checkUrl, blocked = new Set<BlockableResource>(), sign } = setup;
  const tab: Tab = { page, refused: null, healthy: true };
  try {
    // Independent CDP commands: one round trip instead of three.
    await Promise.all([page.setUserAgent(settings.userAgent), page.setViewport(settings.viewport), page.setRequestInterception(true)]);
  } catch (error) {
    await page.close().catch(() => undefined);
    throw error;
  }
  page.on('request', (request: HTTPRequest) => {
    const target = request.url();
    if (/^(data|blob|about):/i.test(target)) return void request.continue().catch(() => undefined);
    if (blocked.has(request.resourceType() as BlockableResource)) return void request.abort('blockedbyclient').catch(() => undefined);
    const verdict = checkUrl(target);
    // Web Bot Auth on every request the page makes (docs/polite-crawling.md), when keys are set.
    if (verdict.ok && sign) {
      return void sign(target)
        .then((signed) => request.continue(Object.keys(signed).length ? { headers: { ...request.headers(), ...signed } } : undefined))
        .catch(() => request.continue().catch(() => undefined));
    }
    if (verdict.ok) return void request.continue().catch(() => undefined);
    if (request.isNavigationRequest() && request.frame() === page.mainFrame() && tab.refused === null) {
      tab.refused = `${request.redirectChain().length === 0 ? 'target' : `redirect to ${target}`} refused by the egress policy: ${verdict.reason}`;
    }
    void request.abort('blockedbyclient').catch(() => undefined);
  });
  return tab;
}

/** Loads and renders one URL in a tab; page-level problems come back as a failed CrawlResult. */
export async function renderInTab(tab: Tab, url: string, options: RenderOptions): Promise<CrawlResult> {
  const { settings } = options;
  const { page } = tab;
  tab.refused = null;
  try {
    const started = Date.now();
    let response: { status(): number; headers(): Record<string, string> } | null;
    try {
      // `raw:` HTML (raw-html.ts): loaded in place, only the page's own sub-requests leave the browser.
      response = isRawHtml(url)
        ? await loadRawHtml(page, url, settings)
        : await page.goto(url, { waitUntil: settings.waitUntil, timeout: settings.timeoutMs });
    } catch (error) {
      if (tab.refused) throw new PageError(tab.refused);
      tab.healthy = false;
      if (isTimeout(error)) throw new PageError(`page timed out after ${settings.timeoutMs} ms`);
      throw new PageError(`navigation failed: ${error instanceof Error ? error.message : String(error)}`);
    }
    if (tab.refused) throw new PageError(tab.refused, response?.status() ?? null);
    if (!response) throw new PageError('navigation produced no response');
    const remaining = () => Math.max(settings.timeoutMs - (Date.now() - started), 1);
    for (const code of settings.jsCode) {
      try {
        await evaluateScript(page, code);
      } catch (error) {
        throw new PageError(`js_code failed: ${error instanceof Error ? error.message : String(error)}`, response.status());
      }
    }
    if (settings.waitFor) {
      try {
        if (settings.waitFor.kind === 'css') await page.waitForSelector(settings.waitFor.value, { timeout: remaining() });
        else await page.waitForFunction(asExpression(settings.waitFor.value), { timeout: remaining() });
      } catch (error) {
        if (isTimeout(error))
          throw new PageError(
            `wait_for ${settings.waitFor.kind}:${settings.waitFor.value} not satisfied within the page timeout`,
            response.status(),
          );
        throw new PageError(`wait_for failed: ${error instanceof Error ? error.message : String(error)}`, response.status());
      }
    }
    if (settings.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, settings.delayMs));
    await runPageHooks(page, settings.hooks, remaining());
    const result = await buildResult({
      url,
      finalUrl: page.url(),
      status: response.status(),
      html: await page.content(),
      headers: response.headers(),
      query: settings.query,
    });
    if (settings.screenshot) result.screenshot = await screenshotOf(page);
    if (settings.pdf) result.pdf = await pdfOf(page);
    await options.after?.(page, result);
    return result;
  } catch (error) {
    if (error instanceof PageError) return failedResult(url, error.message, error.status);
    tab.healthy = false;
    throw error;
  }
}

/** One URL in a fresh tab of `context` (or its blank warm tab `blank`), closed afterwards. */
export async function renderPage(context: BrowserContext, url: string, options: RenderOptions, blank?: Page): Promise<CrawlResult> {
  const tab = await openTab(context, options, blank);
  try {
    return await renderInTab(tab, url, options);
  } finally {
    await tab.page.close().catch(() => undefined);
  }
}

/** A PNG of the page (full page up to MAX_SCREENSHOT_HEIGHT), base64. */
export async function screenshotOf(page: Page): Promise<string> {
  const height = (await page.evaluate(
    'Math.max(document.documentElement.scrollHeight, document.body ? document.body.scrollHeight : 0)',
  )) as number;
  const viewport = page.viewport() ?? { width: 1280, height: 720 };
  if (height <= MAX_SCREENSHOT_HEIGHT) return page.screenshot({ type: 'png', fullPage: true, encoding: 'base64' });
  return page.screenshot({
    type: 'png',
    encoding: 'base64',
    captureBeyondViewport: true,
    clip: { x: 0, y: 0, width: viewport.width, height: MAX_SCREENSHOT_HEIGHT },
  });
}

/** The page printed to PDF (A4, backgrounds), base64. */
export async function pdfOf(page: Page): Promise<string> {
  const bytes = await page.pdf({ format: 'A4', printBackground: true });
  return toBase64(new Uint8Array(bytes));
}
