/**
 * Header hygiene between the client and the origin (pure). RFC 9110 §7.6.1: hop-by-hop fields
 * (Connection, every name Connection lists, Keep-Alive, TE, Trailer, Transfer-Encoding, Upgrade,
 * Proxy-*) are never forwarded. Requests use an allow-list, so no client credential, cookie or
 * client-made identity/forwarding header (`X-Forwarded-*`, `Forwarded`, `X-Real-IP`,
 * `X-Crawlgate-*`, `X-User-*`, ...) can reach the origin, whatever its name.
 */

/** Client request headers the origin may see (everything else is dropped). */
const REQUEST_ALLOW = new Set([
  'accept',
  'accept-language',
  'content-type',
  'user-agent',
  'cache-control',
  'last-event-id', // SSE resumption (/mcp/sse)
  'mcp-session-id', // MCP streamable HTTP sessions
  'mcp-protocol-version',
]);

const HOP_BY_HOP = [
  'connection',
  'keep-alive',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
];

/** Origin response headers the client never sees. */
const RESPONSE_DROP = [
  'set-cookie', // the origin has no business setting cookies on the gateway's domain
  'set-cookie2',
  'server',
  'x-powered-by',
  'www-authenticate', // an origin 401 is the gateway's problem, not the client's credential
  'access-control-allow-origin', // CORS is decided by the gateway (src/http/cors.ts)
  'access-control-allow-credentials',
  'access-control-allow-headers',
  'access-control-allow-methods',
  'access-control-expose-headers',
  'access-control-max-age',
  'alt-svc',
  'refresh', // a redirect in browsers' eyes: no open redirect through the origin
  'content-security-policy', // the gateway's API CSP applies (src/http/security-headers.ts)
  'content-security-policy-report-only',
];

/** Names listed in `Connection` (RFC 9110 §7.6.1), lower-cased. */
function connectionListed(headers: Headers): Set<string> {
  return new Set(
    (headers.get('connection') ?? '')
      .split(',')
      .map((s) => s.trim().toLowerCase())
      .filter(Boolean),
  );
}

function isHopByHop(name: string, listed: Set<string>): boolean {
  return HOP_BY_HOP.includes(name) || name.startsWith('proxy-') || listed.has(name);
}

/** What the gateway adds on the way to the origin. */
export interface ForwardIdentity {
  /** `ORIGIN_SECRET`, sent as `Authorization: Bearer` (Crawl4AI's `CRAWL4AI_API_TOKEN`). */
  originSecret: string;
  /** The signed identity header value (see identity.ts). */
  identityToken: string;
  requestId: string;
  /** From `CF-Connecting-IP` only; a client's own X-Forwarded-For is never trusted or passed on. */
  clientIp: string | null;
  /** The scheme the client used to reach the gateway; null when there is no client (a job's page). */
  proto: 'http' | 'https' | null;
}

/** Name of the signed identity header. */
export const IDENTITY_HEADER = 'X-Crawlgate-Identity';

/** Builds the origin request's headers from the client's (allow-list) plus the gateway's own. */
export function originRequestHeaders(client: Headers, id: ForwardIdentity, options: { websocket?: boolean } = {}): Headers {
  const listed = connectionListed(client);
  const out = new Headers();
  for (const [name, value] of client) {
    const n = name.toLowerCase();
    if (!REQUEST_ALLOW.has(n) || isHopByHop(n, listed)) continue;
    out.set(n, value);
  }
  if (options.websocket) {
    // The one hop-by-hop exception: a WebSocket handshake (RFC 6455 §4.1).
    out.set('upgrade', 'websocket');
    const proto = client.get('sec-websocket-protocol');
    if (proto && !listed.has('sec-websocket-protocol')) out.set('sec-websocket-protocol', proto);
  }
  out.set('authorization', `Bearer ${id.originSecret}`);
  out.set(IDENTITY_HEADER.toLowerCase(), id.identityToken);
  out.set('x-request-id', id.requestId);
  if (id.proto) out.set('x-forwarded-proto', id.proto);
  if (id.clientIp) out.set('x-forwarded-for', id.clientIp);
  return out;
}

/** Copies the origin's response headers minus hop-by-hop and the leaky ones. */
export function clientResponseHeaders(origin: Headers): Headers {
  const listed = connectionListed(origin);
  const out = new Headers();
  for (const [name, value] of origin) {
    const n = name.toLowerCase();
    if (isHopByHop(n, listed) || RESPONSE_DROP.includes(n)) continue;
    out.append(n, value);
  }
  return out;
}
