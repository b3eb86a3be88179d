/**
 * Self-service keys (API.md "Contract for the next capabilities"; permission `keys:self`, default
 * for the `user` and `operator` roles): `GET/POST /keys`, `GET/PATCH/DELETE /keys/{id}`,
 * `POST /keys/{id}/rotate`. Always the caller's own keys — admins included (they have /admin/keys);
 * another tenant's id is a 404. A new key is owned by the caller, grants at most what the caller
 * holds, and counts against MAX_KEYS_PER_USER (docs/api-keys.md "Self-service keys").
 */
import { z } from '@hono/zod-openapi';
import { createRouter, jsonBody, problemResponses, protectedRoute } from '../http/openapi';
import { keyAccess } from '../keys/access';
import { createAction, getAction, listAction, revokeAction, rotateAction, updateAction } from './key-actions';
import {
  CreateOwnKeyBody,
  IssuedKeySchema,
  KeyIdParam,
  KeyListSchema,
  KeySchema,
  ListOwnKeysQuery,
  RotateKeyBody,
  RotatedKeySchema,
  UpdateKeyBody,
} from '../keys/schemas';

const BASE = '/keys';
const json = <T extends z.ZodType>(schema: T, description: string) => ({ description, content: { 'application/json': { schema } } });
const tags = ['Self-service keys'];

const createOwnKey = protectedRoute({
  method: 'post',
  path: '/keys',
  tags,
  summary: 'Create one of your own API keys (shown once; scopes and limits within your own)',
  permission: 'keys:self',
  request: jsonBody(CreateOwnKeyBody),
  responses: {
    201: json(IssuedKeySchema, 'Created; `key` is shown only in this response'),
    ...problemResponses(400, 401, 403, 409, 422, 429),
  },
});

const listOwnKeys = protectedRoute({
  method: 'get',
  path: '/keys',
  tags,
  summary: 'List your own API keys, newest first (cursor pagination)',
  permission: 'keys:self',
  request: { query: ListOwnKeysQuery },
  responses: { 200: json(KeyListSchema, 'One page of your keys'), ...problemResponses(401, 403, 422, 429) },
});

const getOwnKey = protectedRoute({
  method: 'get',
  path: '/keys/{id}',
  tags,
  summary: 'Read one of your API keys',
  permission: 'keys:self',
  request: { params: KeyIdParam },
  responses: { 200: json(KeySchema, 'The key record'), ...problemResponses(401, 403, 404, 429) },
});

const updateOwnKey = protectedRoute({
  method: 'patch',
  path: '/keys/{id}',
  tags,
  summary: 'Disable or re-enable one of your API keys',
  permission: 'keys:self',
  request: { params: KeyIdParam, ...jsonBody(UpdateKeyBody) },
  responses: { 200: json(KeySchema, 'The updated key'), ...problemResponses(400, 401, 403, 404, 409, 422, 429) },
});

const rotateOwnKey = protectedRoute({
  method: 'post',
  path: '/keys/{id}/rotate',
  tags,
  summary: 'Rotate one of your API keys; the old one works until the grace ends',
  permission: 'keys:self',
  request: { params: KeyIdParam, body: { required: false, content: { 'application/json': { schema: RotateKeyBody } } } },
  responses: {
    201: json(RotatedKeySchema, "The successor key (shown once) and the old key's grace end"),
    ...problemResponses(400, 401, 403, 404, 409, 422, 429),
  },
});

const revokeOwnKey = protectedRoute({
  method: 'delete',
  path: '/keys/{id}',
  tags,
  summary: 'Revoke one of your API keys everywhere (idempotent)',
  permission: 'keys:self',
  request: { params: KeyIdParam },
  responses: { 200: json(KeySchema, 'The revoked key'), ...problemResponses(401, 403, 404, 429) },
});

export const ownKeysRouter = createRouter()
  .openapi(createOwnKey, async (c) => c.json(await createAction(c, keyAccess(c, BASE), c.req.valid('json')), 201))
  .openapi(listOwnKeys, async (c) => c.json(await listAction(c, keyAccess(c, BASE), c.req.valid('query')), 200))
  .openapi(getOwnKey, async (c) => c.json(await getAction(c, keyAccess(c, BASE), c.req.valid('param').id), 200))
  .openapi(updateOwnKey, async (c) => c.json(await updateAction(c, keyAccess(c, BASE), c.req.valid('param').id, c.req.valid('json')), 200))
  .openapi(rotateOwnKey, async (c) => {
    const graceSeconds = (c.req.valid('json') as { grace_seconds?: number } | undefined)?.grace_seconds ?? 0;
    return c.json(await rotateAction(c, keyAccess(c, BASE), c.req.valid('param').id, graceSeconds), 201);
  })
  .openapi(revokeOwnKey, async (c) => c.json(await revokeAction(c, keyAccess(c, BASE), c.req.valid('param').id), 200));
