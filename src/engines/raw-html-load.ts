/** How each edge engine loads a `raw:` target (raw-html.ts): parsed as given, or set as the tab's document. */
import type { Page } from '@cloudflare/puppeteer';
import type { CrawlResult } from '../crawl/types';
import type { PageSettings } from './crawl-options';
import { buildResult } from './result';
import { RAW_PAGE_BASE, rawHtmlOf } from './raw-html';

/** The fetch engine's result for a raw target: the given HTML, parsed like any page (status 200). */
export async function rawHtmlResult(target: string, query: string | undefined): Promise<CrawlResult> {
  const result = await buildResult({
    url: target,
    finalUrl: RAW_PAGE_BASE,
    status: 200,
    html: rawHtmlOf(target),
    headers: {},
    query,
    extraMetadata: { source: 'raw' },
  });
  result.redirected_url = null;
  return result;
}

/**
 * The browser engine's navigation for a raw target: the HTML is set as the tab's document (no
 * network request for the page itself), waiting like a navigation would. Status 200, no headers.
 */
export async function loadRawHtml(
  page: Page,
  target: string,
  settings: Pick<PageSettings, 'waitUntil' | 'timeoutMs'>,
): Promise<{ status(): number; headers(): Record<string, string> }> {
  await page.setContent(rawHtmlOf(target), { waitUntil: settings.waitUntil, timeout: settings.timeoutMs });
  return { status: () => 200, headers: () => ({}) };
}
