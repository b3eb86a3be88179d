/**
 * /admin/keys: create, list, read, rotate, disable and revoke API keys (API.md "Administration").
 * Thin router: zod parses, src/routes/key-actions.ts acts. A caller with key-admin authority
 * (src/keys/delegation.ts) sees every key; any other holder of keys:read / keys:manage is bound to
 * its own keys and can grant only what it holds (src/keys/access.ts).
 */
import { z } from '@hono/zod-openapi';
import { createRouter, jsonBody, problemResponses, protectedRoute } from '../../http/openapi';
import { keyAccess } from '../../keys/access';
import { createAction, getAction, listAction, revokeAction, rotateAction, updateAction } from '../key-actions';
import {
  CreateKeyBody,
  IssuedKeySchema,
  KeyIdParam,
  KeyListSchema,
  KeySchema,
  ListKeysQuery,
  RotateKeyBody,
  RotatedKeySchema,
  UpdateKeyBody,
} from '../../keys/schemas';

const BASE = '/admin/keys';
const json = <T extends z.ZodType>(schema: T, description: string) => ({ description, content: { 'application/json': { schema } } });
const tags = ['Administration'];

const createKeyRoute = protectedRoute({
  method: 'post',
  path: '/admin/keys',
  tags,
  summary: 'Create an API key (the key is shown once)',
  permission: 'keys:manage',
  request: jsonBody(CreateKeyBody),
  responses: {
    201: json(IssuedKeySchema, 'Created; `key` is shown only in this response'),
    ...problemResponses(400, 401, 403, 409, 422, 429),
  },
});

const listKeysRoute = protectedRoute({
  method: 'get',
  path: '/admin/keys',
  tags,
  summary: 'List API keys, newest first (cursor pagination)',
  permission: 'keys:read',
  request: { query: ListKeysQuery },
  responses: { 200: json(KeyListSchema, 'One page of keys; never a key or digest'), ...problemResponses(401, 403, 422, 429) },
});

const getKeyRoute = protectedRoute({
  method: 'get',
  path: '/admin/keys/{id}',
  tags,
  summary: 'Read one API key',
  permission: 'keys:read',
  request: { params: KeyIdParam },
  responses: { 200: json(KeySchema, 'The key record'), ...problemResponses(401, 403, 404, 429) },
});

const updateKeyRoute = protectedRoute({
  method: 'patch',
  path: '/admin/keys/{id}',
  tags,
  summary: 'Disable or re-enable an API key',
  permission: 'keys:manage',
  request: { params: KeyIdParam, ...jsonBody(UpdateKeyBody) },
  responses: { 200: json(KeySchema, 'The updated key'), ...problemResponses(400, 401, 403, 404, 409, 422, 429) },
});

const rotateKeyRoute = protectedRoute({
  method: 'post',
  path: '/admin/keys/{id}/rotate',
  tags,
  summary: 'Rotate an API key; the old one works until the grace ends',
  permission: 'keys:manage',
  request: { params: KeyIdParam, body: { required: false, content: { 'application/json': { schema: RotateKeyBody } } } },
  responses: {
    201: json(RotatedKeySchema, "The successor key (shown once) and the old key's grace end"),
    ...problemResponses(400, 401, 403, 404, 409, 422, 429),
  },
});

const revokeKeyRoute = protectedRoute({
  method: 'delete',
  path: '/admin/keys/{id}',
  tags,
  summary: 'Revoke an API key everywhere (idempotent)',
  permission: 'keys:manage',
  request: { params: KeyIdParam },
  responses: { 200: json(KeySchema, 'The revoked key'), ...problemResponses(401, 403, 404, 429) },
});

export const adminKeysRouter = createRouter()
  .openapi(createKeyRoute, async (c) => c.json(await createAction(c, keyAccess(c, BASE), c.req.valid('json')), 201))
  .openapi(listKeysRoute, async (c) => c.json(await listAction(c, keyAccess(c, BASE), c.req.valid('query')), 200))
  .openapi(getKeyRoute, async (c) => c.json(await getAction(c, keyAccess(c, BASE), c.req.valid('param').id), 200))
  .openapi(updateKeyRoute, async (c) =>
    c.json(await updateAction(c, keyAccess(c, BASE), c.req.valid('param').id, c.req.valid('json')), 200),
  )
  .openapi(rotateKeyRoute, async (c) => {
    const graceSeconds = (c.req.valid('json') as { grace_seconds?: number } | undefined)?.grace_seconds ?? 0;
    return c.json(await rotateAction(c, keyAccess(c, BASE), c.req.valid('param').id, graceSeconds), 201);
  })
  .openapi(revokeKeyRoute, async (c) => c.json(await revokeAction(c, keyAccess(c, BASE), c.req.valid('param').id), 200));
