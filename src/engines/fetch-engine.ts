/**
 * The `fetch` edge engine: no browser, no JavaScript. Each URL is fetched with the egress policy
 * on every redirect hop, decoded by its declared charset, and turned into a CrawlResult by
 * HTMLRewriter extraction and the markdown generator. Screenshots, PDFs and script execution
 * need a browser, so those calls answer with a failed result naming the `browser` engine.
 */
import type { CrawlResult, EdgeCrawlOptions, EdgeEngine } from '../crawl/types';
import { decodeDocument } from './charset';
import { EDGE_LIMITS, pageSettings } from './crawl-options';
import { fetchPage, PageFetchError } from './fetch-page';
import { completionOrder } from './pool';
import { buildResult, failedResult, headersObject } from './result';
import { politeFailure } from '../polite/results';
import { isRawHtml } from './raw-html';
import { rawHtmlResult } from './raw-html-load';

export interface FetchEngineLimits {
  maxPageBytes: number;
  maxRedirects: number;
  concurrency: number;
}

const TEXT_TYPES = /^(text\/|application\/(xhtml\+xml|xml)|$)/i;

/** Creates the fetch engine; limits default to EDGE_LIMITS (tests pass smaller ones). */
export function createFetchEngine(limits: Partial<FetchEngineLimits> = {}): EdgeEngine {
  const maxPageBytes = limits.maxPageBytes ?? EDGE_LIMITS.maxPageBytes;
  const maxRedirects = limits.maxRedirects ?? EDGE_LIMITS.maxRedirects;
  const concurrency = limits.concurrency ?? EDGE_LIMITS.fetchConcurrency;

  async function crawlOne(url: string, options: EdgeCrawlOptions): Promise<CrawlResult> {
    const settings = pageSettings(options);
    // `raw:` HTML (Crawl4AI): parsed as given, nothing fetched.
    if (isRawHtml(url)) return rawHtmlResult(url, settings.query);
    try {
      const page = await fetchPage(url, {
        allowPrivateTargets: options.allowPrivateTargets,
        timeoutMs: settings.timeoutMs,
        maxBytes: maxPageBytes,
        maxRedirects,
        userAgent: settings.userAgent,
        signal: options.signal,
        ...(options.polite ? { fetcher: options.polite.fetch } : {}),
      });
      const contentType = page.headers.get('Content-Type');
      const mime = (contentType ?? '').split(';')[0]!.trim();
      if (!TEXT_TYPES.test(mime)) {
        return failedResult(url, `unsupported content type ${mime} (the fetch engine reads HTML and text)`, page.status, page.url);
      }
      const { text, encoding } = decodeDocument(page.bytes, contentType);
      const html = mime.startsWith('text/plain') ? `<pre>${text.replace(/[&<>]/g, (c) => `&#${c.charCodeAt(0)};`)}</pre>` : text;
      const extraMetadata: Record<string, string | null> = { encoding };
      if (page.truncated) extraMetadata.truncated = `true (first ${maxPageBytes} bytes)`;
      return await buildResult({
        url,
        finalUrl: page.url,
        status: page.status,
        html,
        headers: headersObject(page.headers),
        query: settings.query,
        extraMetadata,
      });
    } catch (error) {
      if (error instanceof PageFetchError) return politeFailure(failedResult(url, error.message, error.status, error.url), error);
      throw error;
    }
  }

  const needsBrowser = async (url: string, what: string) => failedResult(url, `${what} needs a browser: use "engine":"browser"`);

  return {
    kind: 'fetch',
    async *crawl(urls, options) {
      // The polite gate batches the host pacer calls of these pages (src/polite/host-lanes.ts).
      options.polite?.expect(urls);
      try {
        yield* completionOrder(urls, concurrency, (url) => crawlOne(url, options));
      } finally {
        options.polite?.finish();
      }
    },
    screenshot: (url) => needsBrowser(url, 'a screenshot'),
    pdf: (url) => needsBrowser(url, 'a PDF'),
    executeJs: (url) => needsBrowser(url, 'executing JavaScript'),
  };
}
