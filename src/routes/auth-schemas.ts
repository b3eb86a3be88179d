/** Request and response schemas of /auth/*, /token and /.well-known/jwks.json (OpenAPI via zod). */
import { z } from '@hono/zod-openapi';

/** FastAPI's OAuth2PasswordRequestForm fields (the seed's client), plus the refresh grant (RFC 6749 §6). */
export const TokenRequestSchema = z
  .object({
    grant_type: z.enum(['password', 'refresh_token']).optional().openapi({ description: 'Defaults to "password" (as FastAPI does)' }),
    username: z.string().min(1).max(64).optional(),
    password: z.string().min(1).max(1024).optional(),
    refresh_token: z.string().min(1).max(256).optional(),
    scope: z.string().max(1024).optional(),
    client_id: z.string().max(256).optional(),
    client_secret: z.string().max(256).optional(),
  })
  .openapi('TokenRequest');

export const RefreshRequestSchema = z.object({ refresh_token: z.string().min(1).max(256) }).openapi('RefreshRequest');

export const TokenPairSchema = z
  .object({
    access_token: z.string(),
    refresh_token: z.string(),
    token_type: z.literal('bearer'),
    expires_in: z.number().int(),
    refresh_expires_in: z.number().int(),
    scope: z.string(),
  })
  .openapi('TokenPair');

export const KeyTokenRequestSchema = z
  .object({
    email: z.string().max(254).optional().openapi({ description: 'Echoed back (Crawl4AI compatibility); not an identity' }),
    api_token: z.string().min(1).max(4096),
  })
  .openapi('KeyTokenRequest');

export const KeyTokenSchema = z
  .object({
    email: z.string().nullable(),
    access_token: z.string(),
    token_type: z.literal('bearer'),
    expires_in: z.number().int(),
    scope: z.string(),
  })
  .openapi('KeyToken');

export const MeSchema = z
  .object({
    principal: z.object({ id: z.string(), name: z.string() }),
    kind: z.enum(['user', 'key']),
    roles: z.array(z.string()),
    permissions: z.array(z.string()),
    limits: z.object({ rate_limit: z.string(), max_concurrency: z.number().int().nullable() }),
    token: z.object({ id: z.string(), expires_at: z.string(), via_key_id: z.string().nullable() }).nullable(),
  })
  .openapi('Me');

export const JwksSchema = z.object({ keys: z.array(z.record(z.string(), z.unknown())) }).openapi('Jwks');
