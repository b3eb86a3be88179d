/** How polite refusals appear in results (shared/API.md "Polite crawling"). */
import type { CrawlResult } from '../crawl/types';
import { PageFetchError } from '../engines/fetch-page';

/** Adds `error_code` (and, for `host_busy`, a `retry-after` the job retry policy reads) to a failed result. */
export function politeFailure(result: CrawlResult, error: PageFetchError): CrawlResult {
  if (error.kind !== 'robots_disallowed' && error.kind !== 'host_busy') return result;
  const out: CrawlResult = { ...result, error_code: error.kind };
  if (error.kind === 'host_busy' && error.retryAfterMs !== undefined)
    out.response_headers = { 'retry-after': String(Math.max(1, Math.ceil(error.retryAfterMs / 1000))) };
  return out;
}

/** True for results the jobs count as final at once (never retried). */
export function isRobotsRefusal(result: CrawlResult): boolean {
  return result.error_code === 'robots_disallowed';
}
