/**
 * Crawl4AI 0.9's monitor (deploy/docker/monitor_routes.py), forwarded for administrators:
 * reads need `monitor:read`, actions (`/monitor/actions/*`, `/monitor/stats/reset`) need
 * `monitor:manage`; both are admin-only by default. The origin's monitor lists every request it
 * served — every tenant's URLs — so a holder of `monitor:read` without the admin role gets each
 * URL replaced by "[redacted]". The origin sees the gateway's credential (its admin token).
 * Without an origin there is no monitor: 501. `/monitor/ws` (the origin's push of all of it every
 * 2 s) is relayed as a server-push socket: client messages never reach the origin, and a non-admin
 * gets every pushed message redacted the same way (one the gateway cannot read is dropped).
 */
import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { AppEnv } from '../env';
import { createRouter, problemResponses, protectedRoute } from '../http/openapi';
import { GatewayError } from '../http/errors';
import { principalOf } from '../auth/principal';
import { requestUrl } from '../http/request-target';
import { audit } from '../audit/audit';
import { forwardToOrigin } from './origin/forward';
import { passThrough } from './handle';
import { DEFAULT_SOCKET_LIMITS, proxyWebSocket } from './origin/websocket';
import { AnyJsonSchema } from './schemas';

const tags = ['Crawl4AI monitor'];
const ok = { 200: { description: "The origin monitor's answer", content: { 'application/json': { schema: AnyJsonSchema } } } };
const errors = problemResponses(400, 401, 403, 422, 429, 501, 502, 504);
const QUERY_KEY = /^[a-z_]{1,32}$/;
const QUERY_VALUE = /^[A-Za-z0-9_.:-]{0,64}$/;

export const MONITOR_READS = [
  '/monitor/health',
  '/monitor/requests',
  '/monitor/browsers',
  '/monitor/endpoints/stats',
  '/monitor/timeline',
  '/monitor/logs/janitor',
  '/monitor/logs/errors',
] as const;
export const MONITOR_ACTIONS = [
  '/monitor/actions/cleanup',
  '/monitor/actions/kill_browser',
  '/monitor/actions/restart_browser',
  '/monitor/stats/reset',
] as const;

/** Pure: every URL (inside any text too, and every `url`/`urls` field) replaced, for non-admin readers. */
export function redactUrls(value: unknown, depth = 0): unknown {
  if (depth > 32) return null;
  if (typeof value === 'string')
    return /^\s*raw:/i.test(value) ? '[redacted]' : value.replace(/\b(?:https?|wss?|ftp):\/\/[^\s"'<>]*/gi, '[redacted]');
  if (Array.isArray(value)) return value.map((v) => redactUrls(v, depth + 1));
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    out[k] =
      /^(url|urls|target|redirected_url)$/i.test(k) && v !== null
        ? Array.isArray(v)
          ? v.map(() => '[redacted]')
          : '[redacted]'
        : redactUrls(v, depth + 1);
  }
  return out;
}

/** The query string forwarded: short, plain keys and values only (the monitor's own filters). */
function monitorSearch(c: Context<AppEnv>): string {
  const out = new URLSearchParams();
  for (const [k, v] of requestUrl(c).searchParams) {
    if (!QUERY_KEY.test(k) || !QUERY_VALUE.test(v)) {
      throw new GatewayError('validation_failed', `Invalid request: query parameter "${k.slice(0, 32)}" is not a monitor filter`, {
        extras: { errors: [{ path: `$query.${k.slice(0, 32)}`, message: 'not allowed' }] },
      });
    }
    out.append(k, v);
  }
  const s = out.toString();
  return s ? `?${s}` : '';
}

function requireOrigin(c: Context<AppEnv>): void {
  if (!c.get('config').ORIGIN_URL)
    throw new GatewayError('not_implemented', "The monitor is the origin crawler's (Crawl4AI /monitor); this gateway has no ORIGIN_URL");
}

export const monitorRouter = createRouter();

for (const path of MONITOR_READS) {
  const route = protectedRoute({
    method: 'get',
    path,
    tags,
    summary: `Crawl4AI monitor: ${path.slice(9)} (forwarded)`,
    permission: 'monitor:read',
    responses: { ...ok, ...errors },
  });
  monitorRouter.openapi(route, async (c) => {
    requireOrigin(c);
    const res = await forwardToOrigin(c, { method: 'GET', path, search: monitorSearch(c) });
    if (principalOf(c).roles.includes('admin') || res.status >= 300 || !/json/i.test(res.headers.get('content-type') ?? ''))
      return passThrough(res);
    // Another tenant's URLs never reach a non-admin reader.
    const text = await res.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new GatewayError('origin_unavailable', 'The origin monitor answered with malformed JSON');
    }
    return passThrough(Response.json(redactUrls(body), { status: res.status }));
  });
}

const ActionBody = z
  .object({
    sig: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,64}$/)
      .optional(),
  })
  .strict();

for (const path of MONITOR_ACTIONS) {
  const route = protectedRoute({
    method: 'post',
    path,
    tags,
    summary: `Crawl4AI monitor action: ${path.slice(9)} (forwarded)`,
    permission: 'monitor:manage',
    request: { body: { required: false, content: { 'application/json': { schema: ActionBody } } } },
    responses: { ...ok, ...errors },
  });
  monitorRouter.openapi(route, async (c) => {
    requireOrigin(c);
    const body = (c.req.valid('json') as z.infer<typeof ActionBody> | undefined) ?? {};
    audit(c, { action: 'crawl_requested', outcome: 'success', details: { route: path } });
    return passThrough(await forwardToOrigin(c, { method: 'POST', path, body: JSON.stringify(body), contentType: 'application/json' }));
  });
}

/**
 * Longest monitor push redacted for a non-admin: redacting means parsing and writing it again in the
 * isolate's heap, so a larger one is dropped (a monitor snapshot is a few KB; the next push follows).
 */
export const MAX_REDACTED_PUSH_CHARS = DEFAULT_SOCKET_LIMITS.maxMessageBytes;

/** One pushed monitor message as a non-admin may see it: redacted JSON, or nothing (never the unread original). */
export function redactedPush(data: string | ArrayBuffer): string | null {
  if (typeof data !== 'string' || data.length > MAX_REDACTED_PUSH_CHARS) return null;
  try {
    return JSON.stringify(redactUrls(JSON.parse(data)));
  } catch {
    return null;
  }
}

const monitorWs = protectedRoute({
  method: 'get',
  path: '/monitor/ws',
  tags,
  summary: "Crawl4AI monitor: the origin's live push (WebSocket, Upgrade: websocket; URLs redacted for non-admins)",
  permission: 'monitor:read',
  responses: {
    101: { description: 'Switching Protocols: JSON snapshots pushed by the origin every 2 s' },
    ...problemResponses(400, 401, 403, 429, 501, 502, 504),
  },
});
monitorRouter.openapi(monitorWs, async (c) => {
  requireOrigin(c);
  if (c.req.header('Upgrade')?.toLowerCase() !== 'websocket')
    throw new GatewayError('bad_request', 'This endpoint needs a WebSocket upgrade (Upgrade: websocket)');
  const admin = principalOf(c).roles.includes('admin');
  return proxyWebSocket(c, '/monitor/ws', { refused: () => {}, ...(admin ? {} : { toClient: redactedPush }) }, DEFAULT_SOCKET_LIMITS);
});
