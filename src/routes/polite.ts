/**
 * Polite crawling over HTTP (docs/polite-crawling.md): the Web Bot Auth key directory (public) and
 * the per-host state for admins (`hosts:read`). The host list comes from the D1 index
 * `crawl_hosts`; each listed host's live state is read from its HostPacer object.
 */
import { createRoute, z } from '@hono/zod-openapi';
import type { AppEnv } from '../env';
import type { Context } from 'hono';
import { createRouter, problemResponses, protectedRoute } from '../http/openapi';
import { GatewayError } from '../http/errors';
import { decodeKeysetCursor, encodeKeysetCursor } from '../http/cursor';
import { directoryResponse } from '../polite/bot-auth';
import type { HostSnapshot } from '../polite/pacer-types';

export const DIRECTORY_PATH = '/.well-known/http-message-signatures-directory';
const HOST = /^[a-z0-9.\-[\]:]{1,300}$/;

const HostSchema = z
  .object({
    host: z.string(),
    first_seen: z.string(),
    last_seen: z.string(),
    in_flight: z.number().int(),
    next_slot_at: z.string().nullable(),
    backoff_until: z.string().nullable(),
    circuit: z.enum(['closed', 'open', 'half_open']),
    consecutive_failures: z.number().int(),
    circuit_open_until: z.string().nullable(),
    requests: z.number().int(),
    robots_refusals: z.number().int(),
    busy_refusals: z.number().int(),
    last_status: z.number().int().nullable(),
    last_request_at: z.string().nullable(),
    robots: z.array(
      z.object({
        origin: z.string(),
        kind: z.enum(['rules', 'allow_all', 'disallow_all']),
        status: z.number().int().nullable(),
        fetched_at: z.string(),
        expires_at: z.string(),
        note: z.string(),
      }),
    ),
  })
  .openapi('CrawlHost');

const directoryRoute = createRoute({
  method: 'get',
  path: DIRECTORY_PATH,
  'x-permission': 'public',
  summary: 'Web Bot Auth key directory: the public keys that sign crawl requests (JWK Set, signed)',
  tags: ['Crawling'],
  responses: {
    200: {
      description: 'JWK Set',
      content: {
        'application/http-message-signatures-directory+json': { schema: z.object({ keys: z.array(z.record(z.string(), z.unknown())) }) },
      },
    },
    ...problemResponses(404),
  },
});

const listHostsRoute = protectedRoute({
  method: 'get',
  path: '/admin/hosts',
  summary: 'Target hosts with their live pacing state and robots.txt cache, most recently used first',
  tags: ['Administration'],
  permission: 'hosts:read',
  request: { query: z.object({ cursor: z.string().max(200).optional(), limit: z.coerce.number().int().min(1).max(50).default(20) }) },
  responses: {
    200: {
      description: 'One page of hosts',
      content: { 'application/json': { schema: z.object({ hosts: z.array(HostSchema), next_cursor: z.string().nullable() }) } },
    },
    ...problemResponses(401, 403, 422),
  },
});

const getHostRoute = protectedRoute({
  method: 'get',
  path: '/admin/hosts/{host}',
  summary: "One target host's live state",
  tags: ['Administration'],
  permission: 'hosts:read',
  request: { params: z.object({ host: z.string().max(300) }) },
  responses: {
    200: { description: 'The host', content: { 'application/json': { schema: HostSchema } } },
    ...problemResponses(401, 403, 404),
  },
});

interface HostRow {
  host: string;
  first_seen: number;
  last_seen: number;
}

async function present(c: Context<AppEnv>, row: HostRow): Promise<z.infer<typeof HostSchema>> {
  const ns = c.env.HOST_PACER;
  const live: HostSnapshot = await ns.get(ns.idFromName(row.host)).snapshot();
  return {
    ...live,
    host: row.host,
    first_seen: new Date(row.first_seen).toISOString(),
    last_seen: new Date(Math.max(row.last_seen, live.last_request_at ? Date.parse(live.last_request_at) : 0)).toISOString(),
  };
}

export const politeRouter = createRouter()
  .openapi(directoryRoute, async (c) => {
    const keys = c.get('config').WEB_BOT_AUTH_KEYS;
    // Without WEB_BOT_AUTH_KEYS nothing is signed, so there is no directory to serve (docs/polite-crawling.md).
    if (keys.length === 0) throw new GatewayError('not_found', 'This gateway does not sign its requests (WEB_BOT_AUTH_KEYS is not set)');
    const { body, headers } = await directoryResponse(c.req.url, keys);
    return c.body(body, 200, headers) as never;
  })
  .openapi(listHostsRoute, async (c) => {
    const { cursor, limit } = c.req.valid('query');
    const after = cursor ? decodeKeysetCursor(cursor, HOST) : null;
    if (cursor && !after)
      throw new GatewayError('validation_failed', 'cursor: not a cursor from this list', {
        extras: { errors: [{ path: 'cursor', message: 'invalid' }] },
      });
    const stmt = after
      ? c.env.DB.prepare(
          'SELECT host, first_seen, last_seen FROM crawl_hosts WHERE (last_seen < ?1) OR (last_seen = ?1 AND host > ?2) ORDER BY last_seen DESC, host LIMIT ?3',
        ).bind(after.createdAt, after.id, limit + 1)
      : c.env.DB.prepare('SELECT host, first_seen, last_seen FROM crawl_hosts ORDER BY last_seen DESC, host LIMIT ?1').bind(limit + 1);
    const rows = (await stmt.all<HostRow>()).results;
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    const next = rows.length > limit && last ? encodeKeysetCursor({ createdAt: last.last_seen, id: last.host }) : null;
    return c.json({ hosts: await Promise.all(page.map((r) => present(c, r))), next_cursor: next }, 200);
  })
  .openapi(getHostRoute, async (c) => {
    const host = c.req.valid('param').host.toLowerCase();
    const row = await c.env.DB.prepare('SELECT host, first_seen, last_seen FROM crawl_hosts WHERE host = ?').bind(host).first<HostRow>();
    if (!row) throw new GatewayError('not_found', 'No such host');
    return c.json(await present(c, row), 200);
  });
