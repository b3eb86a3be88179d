/**
 * Robots.txt and a host slot around a page fetched by something other than the fetch engine's
 * own `fetch`: a browser navigation, or the origin crawler (docs/crawling.md "Polite crawling":
 * the gateway decides for the URLs it hands over; pages the origin discovers itself, in deep
 * crawls, are the origin's to check).
 */
import type { CrawlResult } from '../crawl/types';
import { failedResult } from '../engines/result';
import { PageFetchError } from '../engines/fetch-page';
import type { PoliteGate } from './gate';
import { politeFailure } from './results';
import { isRawHtml } from '../engines/raw-html';

/** Runs `crawl` (one page) inside a robots check and a host slot; without a gate it just runs. */
export async function politely(
  gate: PoliteGate | undefined,
  url: string,
  signal: AbortSignal | undefined,
  crawl: () => Promise<CrawlResult>,
): Promise<CrawlResult> {
  // `raw:` HTML has no host: nothing to pace, no robots.txt (src/crawl/edge/raw-html.ts).
  if (!gate || isRawHtml(url)) return crawl();
  let done: Awaited<ReturnType<PoliteGate['admit']>>;
  try {
    done = await gate.admit(url, signal);
  } catch (error) {
    if (error instanceof PageFetchError) return politeFailure(failedResult(url, error.message, null, null), error);
    throw error;
  }
  let result: CrawlResult;
  try {
    result = await crawl();
  } catch (error) {
    done({ status: null, failure: signal?.aborted ? 'cancelled' : 'network' });
    throw error;
  }
  done({
    status: result.status_code ?? (result.success ? 200 : null),
    ...(result.status_code === null && !result.success ? { failure: 'network' as const } : {}),
  });
  return result;
}
