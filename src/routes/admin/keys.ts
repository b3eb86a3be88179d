/**
 * /admin/keys: create, list, read, rotate, disable and revoke API keys (API.md "Administration").
 * Thin router: zod parses, `src/keys/service.ts` acts, `keyView` shapes. The secret key appears in
 * exactly two responses (create, rotate), with `Cache-Control: no-store`; never in audit rows.
 */
import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { AppEnv } from '../../env';
import { createRouter, jsonBody, problemResponses, protectedBy } from '../../http/openapi';
import { GatewayError } from '../../http/errors';
import { requirePermission } from '../../auth/require-permission';
import { normalizeScopes } from '../../auth/rbac';
import { parseRateLimit } from '../../ratelimit/limit-spec';
import { audit } from '../../audit/audit';
import { keyView, type ApiKeyRecord } from '../../keys/record';
import { createKey, getKey, listConfiguredKeys, revokeKey, rotateKey, setKeyDisabled } from '../../keys/service';
import { listKeys } from '../../keys/store';
import { ownerNames, resolveOwner } from '../../users/owner';
import { decodeCursor, encodeCursor } from '../../keys/cursor';
import {
  CreateKeyBody, IssuedKeySchema, KeyIdParam, KeyListSchema, KeySchema, ListKeysQuery, RotateKeyBody, RotatedKeySchema, UpdateKeyBody,
} from '../../keys/schemas';

const json = <T extends z.ZodType>(schema: T, description: string) => ({ description, content: { 'application/json': { schema } } });
const tags = ['Administration'];

function notFound(id: string): GatewayError {
  return new GatewayError('not_found', `No API key with id "${id.slice(0, 100)}"`);
}

function invalidField(path: string, message: string): GatewayError {
  return new GatewayError('validation_failed', `Invalid request: ${path}: ${message}`, { extras: { errors: [{ path, message }] } });
}

function issuedResponse(c: Context<AppEnv>): void {
  // The key is in this body: no cache, proxy or browser may keep it (RFC 9111 §5.2.2.5).
  c.header('Cache-Control', 'no-store');
  c.header('Pragma', 'no-cache');
}

const keyRef = (r: ApiKeyRecord) => ({ key_id: r.id, name: r.name });

const createKeyRoute = createRoute({
  method: 'post', path: '/admin/keys', tags, summary: 'Create an API key (the key is shown once)',
  middleware: [requirePermission('keys:manage')] as const,
  ...protectedBy('keys:manage'),
  request: jsonBody(CreateKeyBody),
  responses: { 201: json(IssuedKeySchema, 'Created; `key` is shown only in this response'), ...problemResponses(400, 401, 403, 422, 429) },
});

const listKeysRoute = createRoute({
  method: 'get', path: '/admin/keys', tags, summary: 'List API keys, newest first (cursor pagination)',
  middleware: [requirePermission('keys:read')] as const,
  ...protectedBy('keys:read'),
  request: { query: ListKeysQuery },
  responses: { 200: json(KeyListSchema, 'One page of keys; never a key or digest'), ...problemResponses(401, 403, 422, 429) },
});

const getKeyRoute = createRoute({
  method: 'get', path: '/admin/keys/{id}', tags, summary: 'Read one API key',
  middleware: [requirePermission('keys:read')] as const,
  ...protectedBy('keys:read'),
  request: { params: KeyIdParam },
  responses: { 200: json(KeySchema, 'The key record'), ...problemResponses(401, 403, 404, 429) },
});

const updateKeyRoute = createRoute({
  method: 'patch', path: '/admin/keys/{id}', tags, summary: 'Disable or re-enable an API key',
  middleware: [requirePermission('keys:manage')] as const,
  ...protectedBy('keys:manage'),
  request: { params: KeyIdParam, ...jsonBody(UpdateKeyBody) },
  responses: { 200: json(KeySchema, 'The updated key'), ...problemResponses(400, 401, 403, 404, 409, 422, 429) },
});

const rotateKeyRoute = createRoute({
  method: 'post', path: '/admin/keys/{id}/rotate', tags, summary: 'Rotate an API key; the old one works until the grace ends',
  middleware: [requirePermission('keys:manage')] as const,
  ...protectedBy('keys:manage'),
  request: { params: KeyIdParam, body: { required: false, content: { 'application/json': { schema: RotateKeyBody } } } },
  responses: { 201: json(RotatedKeySchema, 'The successor key (shown once) and the old key\'s grace end'), ...problemResponses(400, 401, 403, 404, 409, 422, 429) },
});

const revokeKeyRoute = createRoute({
  method: 'delete', path: '/admin/keys/{id}', tags, summary: 'Revoke an API key everywhere (idempotent)',
  middleware: [requirePermission('keys:manage')] as const,
  ...protectedBy('keys:manage'),
  request: { params: KeyIdParam },
  responses: { 200: json(KeySchema, 'The revoked key'), ...problemResponses(401, 403, 404, 429) },
});

export const adminKeysRouter = createRouter()
  .openapi(createKeyRoute, async (c) => {
    const body = c.req.valid('json');
    const now = Date.now();
    const expiresAt = body.expires_at ? Date.parse(body.expires_at) : null;
    if (expiresAt !== null && expiresAt <= now) throw invalidField('expires_at', 'must be in the future');
    const principal = c.get('principal');
    // The owner is stored as the user's immutable id (a re-created username is a new tenant).
    const owner = body.owner === undefined ? null : await resolveOwner(c.env.DB, body.owner);
    if (body.owner !== undefined && !owner) throw invalidField('owner', 'no such user');
    const issued = await createKey(c.env, c.get('config'), {
      name: body.name,
      scopes: normalizeScopes(body.scopes) ?? [], // schema already refused unknown scopes
      rateLimit: body.rate_limit ? (parseRateLimit(body.rate_limit)?.text ?? null) : null,
      maxConcurrency: body.max_concurrency ?? null,
      owner: owner?.id ?? null,
      expiresAt,
      environment: body.environment ?? 'live',
      createdBy: principal?.id ?? null,
    }, now);
    audit(c, { action: 'key_created', outcome: 'success', status: 201, details: { ...keyRef(issued.record), scopes: issued.record.scopes, expires_at: issued.record.expires_at } });
    issuedResponse(c);
    c.header('Location', `/admin/keys/${issued.record.id}`);
    return c.json({ ...keyView(issued.record, now), owner_name: owner?.username ?? null, key: issued.key }, 201);
  })
  .openapi(listKeysRoute, async (c) => {
    const q = c.req.valid('query');
    if (q.source === 'config') {
      const now = Date.now();
      const keys = (await listConfiguredKeys(c.env, c.get('config'))).filter((r) => !q.status || keyView(r, now).status === q.status);
      return c.json({ keys: keys.map((r) => keyView(r, now)), next_cursor: null }, 200);
    }
    const after = q.cursor !== undefined ? decodeCursor(q.cursor) : undefined;
    if (after === null) throw invalidField('cursor', 'is not a cursor this API returned');
    const limit = q.limit ?? 50;
    const now = Date.now();
    const owner = q.owner === undefined ? undefined : ((await resolveOwner(c.env.DB, q.owner))?.id ?? q.owner);
    const rows = await listKeys(c.env.DB, { status: q.status, owner, after, limit, now });
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    const next = rows.length > limit && last ? encodeCursor({ createdAt: last.created_at, id: last.id }) : null;
    const names = await ownerNames(c.env.DB, page.map((r) => r.owner));
    return c.json({ keys: page.map((r) => ({ ...keyView(r, now), owner_name: r.owner ? (names.get(r.owner) ?? null) : null })), next_cursor: next }, 200);
  })
  .openapi(getKeyRoute, async (c) => {
    const { id } = c.req.valid('param');
    const rec = await getKey(c.env, c.get('config'), id);
    if (!rec) throw notFound(id);
    const names = await ownerNames(c.env.DB, [rec.owner]);
    return c.json({ ...keyView(rec, Date.now()), owner_name: rec.owner ? (names.get(rec.owner) ?? null) : null }, 200);
  })
  .openapi(updateKeyRoute, async (c) => {
    const { id } = c.req.valid('param');
    const { disabled } = c.req.valid('json');
    const result = await setKeyDisabled(c.env, c.get('config'), id, disabled, Date.now());
    if (!result.ok) {
      if (result.reason === 'not_found') throw notFound(id);
      throw new GatewayError('conflict', disabled ? 'Only an active key can be disabled' : 'Only a disabled key can be re-enabled');
    }
    if (result.changed) audit(c, { action: 'key_changed', outcome: 'success', reason: disabled ? 'disabled' : 'enabled', status: 200, details: keyRef(result.record) });
    return c.json(keyView(result.record, Date.now()), 200);
  })
  .openapi(rotateKeyRoute, async (c) => {
    const { id } = c.req.valid('param');
    const graceSeconds = (c.req.valid('json') as { grace_seconds?: number } | undefined)?.grace_seconds ?? 0;
    const now = Date.now();
    const result = await rotateKey(c.env, c.get('config'), id, graceSeconds, c.get('principal')?.id ?? null, now);
    if (!result.ok) {
      if (result.reason === 'not_found') throw notFound(id);
      throw new GatewayError('conflict', id.startsWith('seed_')
        ? 'Keys from API_KEYS are rotated by changing that secret; revoke this one with DELETE'
        : 'Only an active, unexpired key can be rotated');
    }
    const { issued, old } = result;
    audit(c, { action: 'key_rotated', outcome: 'success', status: 201, details: { ...keyRef(old), new_key_id: issued.record.id, grace_seconds: graceSeconds } });
    issuedResponse(c);
    c.header('Location', `/admin/keys/${issued.record.id}`);
    const oldView = keyView(old, now);
    return c.json({ ...keyView(issued.record, now), key: issued.key, old_key: { id: old.id, status: oldView.status, grace_until: oldView.grace_until } }, 201);
  })
  .openapi(revokeKeyRoute, async (c) => {
    const { id } = c.req.valid('param');
    const result = await revokeKey(c.env, c.get('config'), id, Date.now());
    if (!result.ok) throw notFound(id);
    audit(c, { action: 'key_revoked', outcome: 'success', status: 200, ...(result.alreadyRevoked ? { reason: 'already_revoked' } : {}), details: keyRef(result.record) });
    return c.json(keyView(result.record, Date.now()), 200);
  });
