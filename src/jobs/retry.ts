/**
 * Per-page retry policy (pure). Retryable: timeouts, network errors, 408, 425, 429 and 5xx — the
 * failures that may pass on their own. Final at once: other 4xx, egress refusals, redirect loops,
 * content the engine cannot read. Delays grow exponentially with "equal jitter" (half fixed, half
 * random, as in the AWS architecture note on backoff) so retries of one batch spread out, and
 * never undercut a server's `Retry-After` (RFC 9110 §10.2.3).
 */
import type { CrawlResult } from '../crawl/types';

export const MAX_RETRY_DELAY_MS = 300_000;
const RETRYABLE_STATUS = new Set([408, 425, 429, 500, 502, 503, 504, 507, 509, 520, 521, 522, 523, 524]);
const RETRYABLE_ERROR = /timed out|timeout|fetch failed|network|ECONNRESET|ECONNREFUSED|socket|connection/i;

export type Verdict = { kind: 'done' } | { kind: 'retry'; retryAfterMs?: number } | { kind: 'failed' };

/** Parses Retry-After (delay-seconds or HTTP-date) into milliseconds from `now`; undefined when absent or bad. */
export function parseRetryAfter(value: string | null | undefined, now: number): number | undefined {
  if (!value) return undefined;
  const v = value.trim();
  if (/^\d{1,7}$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** What a result means for its page: recorded success, try again, or recorded failure. */
export function classifyResult(result: CrawlResult, now: number): Verdict {
  // docs/polite-crawling.md: a robots.txt refusal is final; a busy host means "come back later".
  if (result.error_code === 'robots_disallowed') return { kind: 'failed' };
  if (result.error_code === 'host_busy')
    return { kind: 'retry', retryAfterMs: parseRetryAfter(result.response_headers?.['retry-after'], now) };
  const status = result.status_code;
  if (result.success && (status === null || status < 400)) return { kind: 'done' };
  if (status !== null && RETRYABLE_STATUS.has(status)) {
    const header = result.response_headers?.['retry-after'] ?? result.response_headers?.['Retry-After'];
    return { kind: 'retry', retryAfterMs: parseRetryAfter(header, now) };
  }
  if (status !== null && status >= 400 && status < 500) return { kind: 'failed' };
  if (RETRYABLE_ERROR.test(result.error_message ?? '')) return { kind: 'retry' };
  return { kind: 'failed' };
}

/**
 * Delay before attempt `attempt + 1` (attempt ≥ 1 is the attempt that just failed):
 * d = min(cap, base·2^(attempt-1)); wait d/2 + random·d/2, and at least Retry-After.
 */
export function retryDelayMs(attempt: number, baseMs: number, random: number, retryAfterMs?: number): number {
  const d = Math.min(MAX_RETRY_DELAY_MS, baseMs * 2 ** Math.max(0, attempt - 1));
  const jittered = Math.round(d / 2 + random * (d / 2));
  return Math.min(MAX_RETRY_DELAY_MS, Math.max(jittered, retryAfterMs ?? 0));
}

/** The final verdict for an attempt: a retryable failure on the last allowed attempt is recorded as failed. */
export function finalVerdict(verdict: Verdict, attemptNumber: number, maxAttempts: number): Verdict {
  if (verdict.kind === 'retry' && attemptNumber >= maxAttempts) return { kind: 'failed' };
  return verdict;
}
