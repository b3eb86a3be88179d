/**
 * One page over plain `fetch`, safely: redirects are followed by hand (`redirect: 'manual'`) so
 * the egress policy sees every hop (SECURITY.md "Crawl requests"; RFC 9110 §15.4 for the 3xx
 * semantics), a deadline covers connect + headers + body, and the body is read only up to a byte
 * cap (the rest is never downloaded). No client credential is ever sent: the request is built
 * from scratch.
 */
import { checkTargetUrl, type EgressResult } from '../crawl/egress';

/** Why a page could not be fetched; `status` is the last HTTP status seen, if any. */
export class PageFetchError extends Error {
  constructor(
    readonly kind: 'egress' | 'too_many_redirects' | 'timeout' | 'aborted' | 'network' | 'robots_disallowed' | 'host_busy',
    message: string,
    readonly status: number | null = null,
    readonly url: string | null = null,
    /** For `host_busy`: when the host may have a slot (docs/polite-crawling.md). */
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'PageFetchError';
  }
}

export interface FetchPageOptions {
  allowPrivateTargets: boolean;
  timeoutMs: number;
  maxBytes: number;
  maxRedirects: number;
  userAgent: string;
  signal?: AbortSignal;
  /** The egress check for each hop; defaults to `checkTargetUrl` with `allowPrivateTargets`. */
  checkUrl?: (url: string) => EgressResult;
  /** Sends each hop; defaults to `fetch`. The polite gate (robots, host pacing, signatures) plugs in here. */
  fetcher?: (url: string, init: RequestInit) => Promise<Response>;
}

export interface FetchedPage {
  /** The final URL after redirects. */
  url: string;
  status: number;
  headers: Headers;
  bytes: Uint8Array;
  /** True when the body was longer than `maxBytes` and reading stopped there. */
  truncated: boolean;
  /** Every URL requested, first to last. */
  chain: string[];
}

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

/** A signal that fires on the caller's abort or at the deadline; `dispose` clears the timer. */
function deadline(timeoutMs: number, outer?: AbortSignal): { signal: AbortSignal; timedOut: () => boolean; dispose: () => void } {
  const controller = new AbortController();
  let fired = false;
  const timer = setTimeout(() => {
    fired = true;
    controller.abort(new PageFetchError('timeout', `page timed out after ${timeoutMs} ms`));
  }, timeoutMs);
  const onAbort = () => controller.abort(outer?.reason);
  if (outer?.aborted) onAbort();
  else outer?.addEventListener('abort', onAbort, { once: true });
  return {
    signal: controller.signal,
    timedOut: () => fired,
    dispose: () => {
      clearTimeout(timer);
      outer?.removeEventListener('abort', onAbort);
    },
  };
}

/** Reads at most `maxBytes` of a body, cancelling the stream past the cap. */
export async function readCapped(
  body: ReadableStream<Uint8Array> | null,
  maxBytes: number,
): Promise<{ bytes: Uint8Array; truncated: boolean }> {
  if (!body) return { bytes: new Uint8Array(0), truncated: false };
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  let truncated = false;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      const room = maxBytes - total;
      if (value.byteLength >= room) {
        if (room > 0) chunks.push(value.subarray(0, room));
        total += Math.max(room, 0);
        truncated = value.byteLength > room || !(await reader.read().then((r) => r.done));
        break;
      }
      chunks.push(value);
      total += value.byteLength;
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return { bytes, truncated };
}

/**
 * GETs `url`, following up to `maxRedirects` redirects, checking every URL (the first one too)
 * with the egress policy before it is requested.
 */
export async function fetchPage(url: string, options: FetchPageOptions): Promise<FetchedPage> {
  const check = options.checkUrl ?? ((u: string) => checkTargetUrl(u, { allowPrivateTargets: options.allowPrivateTargets }));
  const { signal, timedOut, dispose } = deadline(options.timeoutMs, options.signal);
  const chain: string[] = [];
  let current = url;
  let lastStatus: number | null = null;
  try {
    for (let hop = 0; ; hop++) {
      const verdict = check(current);
      if (!verdict.ok) {
        const what = hop === 0 ? 'target' : `redirect to ${current}`;
        throw new PageFetchError('egress', `${what} refused by the egress policy: ${verdict.reason}`, lastStatus, current);
      }
      chain.push(verdict.url.href);
      const response = await (options.fetcher ?? fetch)(verdict.url.href, {
        method: 'GET',
        redirect: 'manual',
        signal,
        headers: { 'User-Agent': options.userAgent, Accept: 'text/html,application/xhtml+xml;q=0.9,text/*;q=0.8,*/*;q=0.5' },
      });
      lastStatus = response.status;
      const location = response.headers.get('Location');
      if (REDIRECT_STATUSES.has(response.status) && location !== null) {
        await response.body?.cancel().catch(() => undefined);
        if (hop >= options.maxRedirects) {
          throw new PageFetchError('too_many_redirects', `more than ${options.maxRedirects} redirects`, response.status, current);
        }
        current = new URL(location, verdict.url).href;
        continue;
      }
      const { bytes, truncated } = await readCapped(response.body, options.maxBytes);
      return { url: verdict.url.href, status: response.status, headers: response.headers, bytes, truncated, chain };
    }
  } catch (error) {
    if (error instanceof PageFetchError) throw error;
    if (timedOut()) throw new PageFetchError('timeout', `page timed out after ${options.timeoutMs} ms`, lastStatus, current);
    if (signal.aborted) throw new PageFetchError('aborted', 'the request was cancelled', lastStatus, current);
    throw new PageFetchError('network', `fetch failed: ${error instanceof Error ? error.message : String(error)}`, lastStatus, current);
  } finally {
    dispose();
  }
}
