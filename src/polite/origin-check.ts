/**
 * Origin mode (docs/crawling.md "Polite crawling"): the gateway decides robots.txt and the host slot
 * for the URLs it forwards (each job page, the listed URLs of a forwarded request); pages the
 * origin discovers itself (deep crawls) are the origin's to check.
 */
import type { CrawlResult } from '../crawl/types';
import { failedResult } from '../crawl/edge/result';
import { PageFetchError } from '../crawl/edge/fetch-page';
import type { PoliteGate } from './gate';
import { politeFailure } from './results';

/** Runs `crawl` (the origin's crawl of `url`) inside a robots check and a host slot. */
export async function politeOrigin(gate: PoliteGate, url: string, signal: AbortSignal, crawl: () => Promise<CrawlResult>): Promise<CrawlResult> {
  let done: Awaited<ReturnType<PoliteGate['admit']>>;
  try {
    done = await gate.admit(url, signal);
  } catch (error) {
    if (error instanceof PageFetchError) return politeFailure(failedResult(url, error.message, null, null), error);
    throw error;
  }
  const result = await crawl();
  done({ status: result.status_code ?? (result.success ? 200 : null), ...(result.status_code === null && !result.success ? { failure: 'network' as const } : {}) });
  return result;
}
