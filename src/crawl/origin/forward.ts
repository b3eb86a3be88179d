/**
 * Forwarding to `ORIGIN_URL` (SECURITY.md "Crawl requests" → Forwarding): client credentials
 * replaced by the origin credential and a signed identity, hop-by-hop headers dropped, origin
 * redirects not followed, leaky origin headers stripped, bodies streamed through unbuffered.
 *
 * Timeouts: `ORIGIN_TIMEOUT_MS` bounds the wait for the origin's response headers (→ 504
 * `origin_timeout`) and then every silence between two body chunks (the stream is cut), like
 * nginx's `proxy_read_timeout` in the seed. A refused or reset connection → 502 `origin_unavailable`.
 */
import type { Context } from 'hono';
import type { AppEnv } from '../../env';
import { GatewayError } from '../../http/errors';
import { clientResponseHeaders, originRequestHeaders } from './headers';
import { identityClaims, signIdentity } from './identity';
import { requestUrl } from '../../http/request-target';

export interface ForwardRequest {
  method: string;
  /** The origin path (a gateway route path, never client-chosen host material), e.g. `/crawl`. */
  path: string;
  /** Query string including `?`, or ''. */
  search?: string;
  body?: BodyInit | null;
  /** Overrides the client's Content-Type (bodies the gateway re-serialised are JSON). */
  contentType?: string;
}

/** Pure: the origin URL for a path under `ORIGIN_URL` (its own path prefix kept). */
export function originTarget(originUrl: string, path: string, search = ''): URL {
  const target = new URL(originUrl);
  const prefix = target.pathname.replace(/\/+$/, '');
  // Assigning pathname can never change the host, unlike `new URL('//evil', base)`.
  target.pathname = prefix + '/' + path.replace(/^\/+/, '');
  target.search = search;
  target.hash = '';
  return target;
}

/**
 * Pure: what to do with an origin redirect. Redirects inside the origin are rewritten to the same
 * path on the gateway (so the client comes back through authentication); redirects anywhere else
 * are refused, so the gateway is never an open redirector for whatever the origin says.
 */
export function rewriteRedirect(location: string | null, target: URL, originUrl: string): string | null {
  if (!location) return null;
  let to: URL;
  try {
    to = new URL(location, target);
  } catch {
    return null;
  }
  const origin = new URL(originUrl);
  if (to.origin !== origin.origin) return null;
  const prefix = origin.pathname.replace(/\/+$/, '');
  if (prefix && !to.pathname.startsWith(prefix + '/')) return null;
  return to.pathname.slice(prefix.length) + to.search;
}

export interface PreparedOrigin {
  target: URL;
  headers: Headers;
  originUrl: string;
  timeoutMs: number;
  requestId: string;
}

/** Target URL and hygienic headers (origin credential + signed identity) for one forward. */
export async function prepareOrigin(c: Context<AppEnv>, req: ForwardRequest, options: { websocket?: boolean } = {}): Promise<PreparedOrigin> {
  const config = c.get('config');
  const principal = c.get('principal');
  if (!config.ORIGIN_URL || !config.ORIGIN_SECRET) throw new GatewayError('service_unavailable', 'No origin is configured');
  if (!principal) throw new GatewayError('invalid_credentials', 'Authentication required');
  const target = originTarget(config.ORIGIN_URL, req.path, req.search);
  const requestId = c.get('requestId');
  const identityToken = await signIdentity(identityClaims(principal, requestId, req.method, target.pathname), config.ORIGIN_SECRET);
  const headers = originRequestHeaders(
    c.req.raw.headers,
    {
      originSecret: config.ORIGIN_SECRET,
      identityToken,
      requestId,
      clientIp: c.get('clientIp'),
      proto: requestUrl(c).protocol === 'http:' ? 'http' : 'https',
    },
    options,
  );
  if (req.contentType) headers.set('content-type', req.contentType);
  return { target, headers, originUrl: config.ORIGIN_URL, timeoutMs: config.ORIGIN_TIMEOUT_MS, requestId };
}

/** Maps a failed origin fetch to 504 (our timeout fired) or 502 (refused, reset, DNS). */
export function originFetchError(err: unknown, timedOut: boolean, timeoutMs: number, requestId: string): GatewayError {
  if (timedOut) return new GatewayError('origin_timeout', `The origin did not answer within ${timeoutMs} ms`, { cause: err });
  console.error('origin fetch failed', { request_id: requestId, error: String(err) });
  return new GatewayError('origin_unavailable', 'The origin crawler could not be reached', { cause: err });
}

/** Sends the request to the origin as the authenticated principal; returns the client's response. */
export async function forwardToOrigin(c: Context<AppEnv>, req: ForwardRequest): Promise<Response> {
  const { target, headers, originUrl, timeoutMs, requestId } = await prepareOrigin(c, req);
  const abort = new AbortController();
  let timer = setTimeout(() => abort.abort(new DOMException('origin timeout', 'TimeoutError')), timeoutMs);
  let res: Response;
  try {
    res = await fetch(target, { method: req.method, headers, body: req.body ?? null, redirect: 'manual', signal: abort.signal });
  } catch (err) {
    clearTimeout(timer);
    throw originFetchError(err, abort.signal.aborted, timeoutMs, requestId);
  }
  clearTimeout(timer);

  if (res.status === 401 || res.status === 407) {
    await res.body?.cancel();
    console.error('origin refused the gateway credential', { request_id: requestId, status: res.status });
    throw new GatewayError('origin_unavailable', 'The origin refused the gateway; its operator must check ORIGIN_SECRET');
  }

  const out = clientResponseHeaders(res.headers);
  if (res.status >= 300 && res.status < 400) {
    const location = rewriteRedirect(res.headers.get('location'), target, originUrl);
    await res.body?.cancel();
    if (location === null && res.headers.has('location')) {
      throw new GatewayError('origin_unavailable', 'The origin answered with a redirect outside itself; it is not followed');
    }
    if (location !== null) out.set('location', location);
    return new Response(null, { status: res.status, headers: out });
  }

  if (!res.body) return new Response(null, { status: res.status, headers: out });
  // Idle watchdog: each chunk re-arms the timer; silence longer than the timeout cuts the stream.
  timer = setTimeout(() => abort.abort(new DOMException('origin idle', 'TimeoutError')), timeoutMs);
  const watchdog = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      clearTimeout(timer);
      timer = setTimeout(() => abort.abort(new DOMException('origin idle', 'TimeoutError')), timeoutMs);
      controller.enqueue(chunk);
    },
    flush() {
      clearTimeout(timer);
    },
  });
  const body = res.body.pipeThrough(watchdog);
  return new Response(body, { status: res.status, headers: out });
}
