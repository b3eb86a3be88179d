/**
 * Crawls one page of a job: on an edge engine (fetch / browser), or on the origin crawler's
 * `/crawl` with the job owner's signed identity, through the same origin client as a forwarded
 * request (src/crawl/origin/client.ts: `Authorization: Bearer ORIGIN_SECRET`, `X-Crawlgate-Identity`,
 * ORIGIN_TIMEOUT_MS; no client header).
 * Always answers a CrawlResult; an origin that fails answers a failed result with its status, so
 * the retry policy (src/jobs/retry.ts) sees 5xx/429 like it would from a page.
 */
import type { Config } from '../config';
import type { Env } from '../env';
import { tenantOf } from '../auth/principal';
import { GatewayError } from '../http/errors';
import { getEdgeEngine } from '../engines';
import { failedResult } from '../engines/result';
import { sendToOrigin, type OriginReply } from '../crawl/origin/client';
import type { CrawlResult } from '../crawl/types';
import { edgeOptions } from '../crawl/edge-run';
import type { BatchWork } from './types';
import { jobGate } from '../polite/request-gate';
import { politely } from '../polite/politely';

async function viaOrigin(config: Config, work: BatchWork, url: string, requestId: string, signal: AbortSignal): Promise<CrawlResult> {
  if (!config.ORIGIN_URL || !config.ORIGIN_SECRET) return failedResult(url, 'no origin is configured (ORIGIN_URL)');
  const payload = JSON.stringify({ ...work.body, urls: [url] });
  const request = { method: 'POST', path: '/crawl', body: payload, contentType: 'application/json', accept: 'application/json' };
  let reply: OriginReply;
  try {
    reply = await sendToOrigin(config, { principal: work.principal, requestId }, request, signal);
  } catch (err) {
    const timedOut = signal.aborted || (err instanceof GatewayError && err.code === 'origin_timeout');
    return failedResult(url, timedOut ? `origin timed out after ${config.ORIGIN_TIMEOUT_MS} ms` : 'origin unavailable: network error');
  }
  const res = reply.response;
  if (!res.ok) {
    await res.body?.cancel();
    const r = failedResult(url, `origin answered ${res.status}`, res.status);
    const retryAfter = res.headers.get('Retry-After');
    return retryAfter ? { ...r, response_headers: { 'retry-after': retryAfter } } : r;
  }
  try {
    const body = (await new Response(reply.body()).json()) as { results?: unknown };
    const first = Array.isArray(body.results) ? (body.results[0] as CrawlResult | undefined) : undefined;
    if (!first || typeof first !== 'object') return failedResult(url, 'origin answered without a result');
    return { ...first, url: typeof first.url === 'string' ? first.url : url };
  } catch {
    return failedResult(url, 'origin answered with malformed JSON', 502);
  }
}

/** One page, on the job's engine. Never throws for a page's own failure. */
export async function crawlPage(
  env: Env,
  config: Config,
  work: BatchWork,
  url: string,
  requestId: string,
  signal: AbortSignal,
): Promise<CrawlResult> {
  // docs/polite-crawling.md: robots.txt, host pacing and signatures for every job page.
  const polite = jobGate(env, config, work.body, work.allowPrivateTargets, work.engine === 'origin');
  try {
    if (work.engine === 'origin') return await politely(polite, url, signal, () => viaOrigin(config, work, url, requestId, signal));
    const options = { ...edgeOptions(work.body, work.allowPrivateTargets, signal), tenant: tenantOf(work.principal), polite };
    try {
      for await (const r of getEdgeEngine(env, work.engine, { browserTabs: config.EDGE_BROWSER_TABS }).crawl([url], options)) return r;
      return failedResult(url, 'the edge engine returned no result');
    } catch (err) {
      return failedResult(url, `edge engine error: ${err instanceof Error ? err.message : String(err)}`);
    }
  } finally {
    await polite.settle();
  }
}
