/**
 * Forwarding to `ORIGIN_URL` (SECURITY.md "Crawl requests" → Forwarding): a client's request, sent
 * through the origin client (./client.ts: origin credential, signed identity, hop-by-hop headers
 * dropped, ORIGIN_TIMEOUT_MS), its answer made fit for the client: origin redirects not followed,
 * leaky origin headers stripped, bodies streamed through unbuffered.
 */
import type { Context } from 'hono';
import type { AppEnv } from '../../env';
import { GatewayError } from '../../http/errors';
import { clientResponseHeaders } from './headers';
import { requestUrl } from '../../http/request-target';
import { tappedResponse } from '../../http/body-taps';
import { prepareOriginRequest, sendToOrigin, type OriginCaller, type OriginRequest, type PreparedOrigin } from './client';

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

/** The origin client's caller for this request: its principal, request id, client headers and address. */
function callerOf(c: Context<AppEnv>): OriginCaller {
  const principal = c.get('principal');
  if (!principal) throw new GatewayError('invalid_credentials', 'Authentication required');
  const proto = requestUrl(c).protocol === 'http:' ? 'http' : 'https';
  return { principal, requestId: c.get('requestId'), clientHeaders: c.req.raw.headers, clientIp: c.get('clientIp'), proto };
}

/** Target URL and hygienic headers (origin credential + signed identity) for one forward. */
export async function prepareOrigin(
  c: Context<AppEnv>,
  req: OriginRequest,
  options: { websocket?: boolean } = {},
): Promise<PreparedOrigin> {
  const config = c.get('config');
  if (!config.ORIGIN_URL || !config.ORIGIN_SECRET) throw new GatewayError('service_unavailable', 'No origin is configured');
  return prepareOriginRequest(config, callerOf(c), req, options);
}

/** Sends the request to the origin as the authenticated principal; returns the client's response. */
export async function forwardToOrigin(c: Context<AppEnv>, req: OriginRequest): Promise<Response> {
  const config = c.get('config');
  if (!config.ORIGIN_URL || !config.ORIGIN_SECRET) throw new GatewayError('service_unavailable', 'No origin is configured');
  const { response: res, target, originUrl, tappedBody } = await sendToOrigin(config, callerOf(c), req);
  const requestId = c.get('requestId');

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
  const body = tappedBody();
  return body ? tappedResponse(body, { status: res.status, headers: out }) : new Response(null, { status: res.status, headers: out });
}
