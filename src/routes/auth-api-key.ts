/**
 * POST /auth/api-key/validate: the seed's "is this key good?" endpoint (API.md "Public").
 * Answers `{"valid":true,"key_id","scopes"}` for a valid API key; anything else is the same 401
 * every invalid key gets. A JWT is not an API key, so it is refused here too.
 */
import { createRouter, problemResponses, protectedRoute } from '../http/openapi';
import { GatewayError } from '../http/errors';
import { principalOf } from '../auth/principal';
import { audit } from '../audit/audit';
import { ValidateKeySchema } from '../keys/schemas';
import { findSeedKey, isSeedKeyId } from '../keys/seed';

const validateKeyRoute = protectedRoute({
  method: 'post',
  path: '/auth/api-key/validate',
  tags: ['Authentication'],
  summary: 'Check the presented API key (seed compatibility)',
  permission: 'authenticated',
  responses: {
    200: { description: 'The key is valid', content: { 'application/json': { schema: ValidateKeySchema } } },
    ...problemResponses(400, 401, 429),
  },
});

export const apiKeyValidateRouter = createRouter().openapi(validateKeyRoute, async (c) => {
  const p = principalOf(c);
  if (p.kind !== 'key') {
    audit(c, { action: 'key_validated', outcome: 'denied', reason: 'not_an_api_key', status: 401 });
    throw new GatewayError('invalid_credentials', 'Invalid credentials');
  }
  const seed = isSeedKeyId(p.id) ? await findSeedKey(c.get('config'), p.id) : null;
  audit(c, { action: 'key_validated', outcome: 'success', status: 200, details: { key_id: p.id } });
  return c.json(
    {
      valid: true as const,
      key_id: p.id,
      name: p.name,
      scopes: seed ? seed.scopes : p.permissions,
      permissions: p.permissions,
      rate_limit: p.rateLimit ?? null,
    },
    200,
  );
});
