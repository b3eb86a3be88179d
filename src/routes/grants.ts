/**
 * OAuth grants given to MCP clients (docs/mcp.md "Revoking access"): `GET/DELETE /grants[/{id}]` for
 * the caller's own (`keys:self`, like self-service keys; another user's id → 404), and
 * `GET/DELETE /admin/grants[/{id}]` for admins (`users:manage`). A revoke is written to D1 first —
 * the next call with any token of the grant is refused everywhere — then the provider's KV records
 * go; it is audited like a key revocation.
 */
import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { AppEnv } from '../env';
import { createRouter, problemResponses, protectedRoute } from '../http/openapi';
import { GatewayError } from '../http/errors';
import { principalOf } from '../auth/principal';
import { requestUrl } from '../http/request-target';
import { audit } from '../audit/audit';
import { getGrant, listGrants, revokeGrant, type GrantRecord } from '../oauth/grants';

const tags = ['OAuth'];
const GrantSchema = z
  .object({
    id: z.string(),
    user_id: z.string(),
    client_id: z.string(),
    client_name: z.string(),
    redirect_host: z.string(),
    scopes: z.array(z.string()),
    created_at: z.string(),
    revoked_at: z.string().nullable(),
    revoked_reason: z.string().nullable(),
  })
  .openapi('OAuthGrant');
const GrantListSchema = z.object({ items: z.array(GrantSchema), next_cursor: z.string().nullable() }).openapi('OAuthGrantList');
const ListQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z
    .string()
    .regex(/^\d{1,16}:gr_[0-9a-f]{32}$/, 'must be a cursor this API returned')
    .optional(),
  user_id: z
    .string()
    .regex(/^usr_[A-Za-z0-9_]{1,64}$/)
    .optional()
    .openapi({ description: "Admins: one user's grants" }),
});
const IdParam = z.object({ id: z.string().regex(/^gr_[0-9a-f]{32}$/, 'must be a grant id (gr_...)') });
const json = <T extends z.ZodType>(schema: T, description: string) => ({ description, content: { 'application/json': { schema } } });

function cursorOf(raw: string | undefined): { createdAt: number; id: string } | undefined {
  if (!raw) return undefined;
  const i = raw.indexOf(':');
  return { createdAt: Number(raw.slice(0, i)), id: raw.slice(i + 1) };
}

function routes(base: '/grants' | '/admin/grants', permission: 'keys:self' | 'users:manage') {
  const list = protectedRoute({
    method: 'get',
    path: base,
    tags,
    permission,
    request: { query: ListQuery },
    summary: base === '/grants' ? 'Your OAuth grants to MCP clients, newest first' : 'Every OAuth grant to MCP clients, newest first',
    responses: { 200: json(GrantListSchema, 'One page of grants'), ...problemResponses(401, 403, 422, 429) },
  });
  const revoke = protectedRoute({
    method: 'delete',
    path: `${base}/{id}`,
    tags,
    permission,
    request: { params: IdParam },
    summary: 'Revoke an OAuth grant: its tokens stop working at the next call (idempotent)',
    responses: { 200: json(GrantSchema, 'The revoked grant'), ...problemResponses(401, 403, 404, 422, 429) },
  });
  return { list, revoke };
}

/** Own grants only, unless the route is the admin one. Another user's grant reads as unknown (BOLA). */
async function visibleGrant(c: Context<AppEnv>, id: string, admin: boolean): Promise<GrantRecord> {
  const g = await getGrant(c.env.DB, id);
  if (!g || (!admin && g.user_id !== principalOf(c).id)) throw new GatewayError('not_found', 'No such grant');
  return g;
}

async function revoke(c: Context<AppEnv>, id: string, admin: boolean) {
  const g = await visibleGrant(c, id, admin);
  const out = await revokeGrant(c.env, c.get('config'), requestUrl(c).origin, g, Date.now());
  audit(c, {
    action: 'grant_revoked',
    outcome: 'success',
    status: 200,
    details: { grant_id: g.id, user_id: g.user_id, client_id: g.client_id.slice(0, 200), already: g.revoked_at !== null },
  });
  return out;
}

const own = routes('/grants', 'keys:self');
const admin = routes('/admin/grants', 'users:manage');

export const grantsRouter = createRouter()
  .openapi(own.list, async (c) => {
    const q = c.req.valid('query');
    const p = principalOf(c);
    // Grants belong to users; a key has none of its own.
    if (p.kind !== 'user') return c.json({ items: [], next_cursor: null }, 200);
    const page = await listGrants(c.env.DB, { userId: p.id, limit: q.limit, cursor: cursorOf(q.cursor) });
    return c.json({ items: page.items, next_cursor: page.next }, 200);
  })
  .openapi(own.revoke, async (c) => c.json(await revoke(c, c.req.valid('param').id, false), 200))
  .openapi(admin.list, async (c) => {
    const q = c.req.valid('query');
    const page = await listGrants(c.env.DB, { userId: q.user_id, limit: q.limit, cursor: cursorOf(q.cursor) });
    return c.json({ items: page.items, next_cursor: page.next }, 200);
  })
  .openapi(admin.revoke, async (c) => c.json(await revoke(c, c.req.valid('param').id, true), 200));
