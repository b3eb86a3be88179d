/**
 * The one client for `ORIGIN_URL`, free of any request context: (config, caller, request) →
 * response. Forwarding (./forward.ts, ./websocket.ts) and the gateway jobs' origin pages
 * (src/jobs/page-crawler.ts) both send through it, so the credential, the signed identity, header
 * hygiene and the timeout are built in one place (SECURITY.md "Crawl requests" → Forwarding).
 *
 * Timeout: `ORIGIN_TIMEOUT_MS` bounds the wait for the origin's response headers (→ 504
 * `origin_timeout`) and then every silence between two body chunks (the stream is cut), like
 * nginx's `proxy_read_timeout` in the seed. A refused or reset connection → 502 `origin_unavailable`.
 */
import type { Config } from '../../config';
import type { Principal } from '../../auth/principal';
import { GatewayError } from '../../http/errors';
import { originRequestHeaders } from './headers';
import { identityClaims, signIdentity } from './identity';
import { TappedBody } from '../../http/body-taps';

/** The part of the config the client reads. */
export type OriginConfig = Pick<Config, 'ORIGIN_URL' | 'ORIGIN_SECRET' | 'ORIGIN_TIMEOUT_MS'>;

/** Whom the origin request is for: the identity the origin receives, and what the client sent, if any. */
export interface OriginCaller {
  principal: Principal;
  requestId: string;
  /** The client's headers, passed through the allow-list (forwarding); absent for the gateway's own requests. */
  clientHeaders?: Headers;
  /** From `CF-Connecting-IP` only; null when there is no client (jobs). */
  clientIp?: string | null;
  /** The scheme the client used; null when there is no client (no `X-Forwarded-Proto`). */
  proto?: 'http' | 'https' | null;
}

export interface OriginRequest {
  method: string;
  /** The origin path (a gateway route path, never client-chosen host material), e.g. `/crawl`. */
  path: string;
  /** Query string including `?`, or ''. */
  search?: string;
  body?: BodyInit | null;
  /** Overrides the client's Content-Type (bodies the gateway re-serialised are JSON). */
  contentType?: string;
  /** Overrides the client's Accept. */
  accept?: string;
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

export interface PreparedOrigin {
  target: URL;
  headers: Headers;
  originUrl: string;
  timeoutMs: number;
  requestId: string;
}

/** Target URL and hygienic headers (origin credential + signed identity) for one request. */
export async function prepareOriginRequest(
  config: OriginConfig,
  caller: OriginCaller,
  req: OriginRequest,
  options: { websocket?: boolean } = {},
): Promise<PreparedOrigin> {
  if (!config.ORIGIN_URL || !config.ORIGIN_SECRET) throw new GatewayError('service_unavailable', 'No origin is configured');
  const target = originTarget(config.ORIGIN_URL, req.path, req.search);
  const identityToken = await signIdentity(
    identityClaims(caller.principal, caller.requestId, req.method, target.pathname),
    config.ORIGIN_SECRET,
  );
  const headers = originRequestHeaders(
    caller.clientHeaders ?? new Headers(),
    {
      originSecret: config.ORIGIN_SECRET,
      identityToken,
      requestId: caller.requestId,
      clientIp: caller.clientIp ?? null,
      proto: caller.proto ?? null,
    },
    options,
  );
  if (req.contentType) headers.set('content-type', req.contentType);
  if (req.accept) headers.set('accept', req.accept);
  return { target, headers, originUrl: config.ORIGIN_URL, timeoutMs: config.ORIGIN_TIMEOUT_MS, requestId: caller.requestId };
}

/** Maps a failed origin fetch to 504 (our timeout fired) or 502 (refused, reset, DNS). */
export function originFetchError(err: unknown, timedOut: boolean, timeoutMs: number, requestId: string): GatewayError {
  if (timedOut) return new GatewayError('origin_timeout', `The origin did not answer within ${timeoutMs} ms`, { cause: err });
  console.error('origin fetch failed', { request_id: requestId, error: String(err) });
  return new GatewayError('origin_unavailable', 'The origin crawler could not be reached', { cause: err });
}

export interface OriginReply {
  /** The origin's response as sent (redirects not followed). Cancel its body, or read it through `body()`. */
  response: Response;
  target: URL;
  originUrl: string;
  /** The response body under the idle watchdog: each chunk re-arms the timeout; a longer silence cuts it. */
  body(): ReadableStream<Uint8Array> | null;
  /** The same, as the one stream later observers of the body join (src/http/body-taps.ts). */
  tappedBody(): TappedBody | null;
}

/**
 * Sends one request to the origin. Throws `GatewayError` 504/502 when no response arrives; any
 * response (4xx, 5xx, 3xx included) is returned for the caller to judge. `signal` (e.g. a job being
 * cancelled) aborts it as well.
 */
export async function sendToOrigin(
  config: OriginConfig,
  caller: OriginCaller,
  req: OriginRequest,
  signal?: AbortSignal,
): Promise<OriginReply> {
  const { target, headers, originUrl, timeoutMs, requestId } = await prepareOriginRequest(config, caller, req);
  const abort = new AbortController();
  const expire = (why: string) => () => abort.abort(new DOMException(why, 'TimeoutError'));
  let timer = setTimeout(expire('origin timeout'), timeoutMs);
  let res: Response;
  try {
    const signals = signal ? AbortSignal.any([abort.signal, signal]) : abort.signal;
    res = await fetch(target, { method: req.method, headers, body: req.body ?? null, redirect: 'manual', signal: signals });
  } catch (err) {
    clearTimeout(timer);
    throw originFetchError(err, abort.signal.aborted, timeoutMs, requestId);
  }
  clearTimeout(timer);
  const response = res;
  const tappedBody = (): TappedBody | null => {
    if (!response.body) return null;
    timer = setTimeout(expire('origin idle'), timeoutMs);
    // The watchdog is the body's first tap: the meter and the lease join the same stream.
    return new TappedBody(response.body, {
      chunk() {
        clearTimeout(timer);
        timer = setTimeout(expire('origin idle'), timeoutMs);
      },
      end() {
        clearTimeout(timer);
      },
    });
  };
  return { response, target, originUrl, body: () => tappedBody()?.stream ?? null, tappedBody };
}
