/**
 * /auth/token (password and refresh grants), /auth/refresh, /auth/logout, /auth/me, the Crawl4AI
 * `/token` alias, and /.well-known/jwks.json. Thin: parse, call the session/login services, audit,
 * shape the reply. Login rate limits are middleware on /auth/token and /token (src/app.ts).
 */
import { createRoute, type z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { AppEnv } from '../env';
import { createRouter, jsonBody, problemResponses, protectedRoute } from '../http/openapi';
import { GatewayError } from '../http/errors';
import { requestBody } from '../http/request-body';
import { isForm, isJson } from '../http/media-type';
import { audit } from '../audit/audit';
import { principalOf } from '../auth/principal';
import { argon2Verifier, type PasswordVerifier } from '../auth/password';
import { checkLogin } from '../users/login';
import { endSession, refreshSession, startSession } from '../auth/session';
import { keyRing } from '../auth/jwt/keys';
import { signAccessToken } from '../auth/jwt/issue';
import { verifyApiKey } from '../keys/verify';
import type { CredentialVerifier } from '../auth/verifier';
import {
  JwksSchema,
  KeyTokenRequestSchema,
  KeyTokenSchema,
  MeSchema,
  RefreshRequestSchema,
  TokenPairSchema,
  TokenRequestSchema,
} from './auth-schemas';

const formOrJson = <T extends z.ZodType>(schema: T) => ({
  body: {
    required: false,
    content: { 'application/json': { schema }, 'application/x-www-form-urlencoded': { schema } },
  },
});

const tokenRoute = createRoute({
  method: 'post',
  path: '/auth/token',
  'x-permission': 'public (password or refresh grant; login rate limit)',
  summary: 'OAuth2 token endpoint: password grant (form or JSON, like FastAPI OAuth2PasswordRequestForm) or refresh_token grant',
  request: formOrJson(TokenRequestSchema),
  responses: {
    200: { description: 'Access and refresh token', content: { 'application/json': { schema: TokenPairSchema } } },
    ...problemResponses(401, 413, 415, 422, 429),
  },
});

const refreshRoute = createRoute({
  method: 'post',
  path: '/auth/refresh',
  'x-permission': 'public (refresh token)',
  summary: 'Spend a refresh token for a new pair; reusing a spent one revokes the whole family',
  request: formOrJson(RefreshRequestSchema),
  responses: {
    200: { description: 'New pair', content: { 'application/json': { schema: TokenPairSchema } } },
    ...problemResponses(401, 415, 422, 429),
  },
});

const logoutRoute = protectedRoute({
  method: 'post',
  path: '/auth/logout',
  summary: 'Revoke the presented access token and its refresh family',
  permission: 'authenticated',
  responses: { 204: { description: 'Logged out' }, ...problemResponses(400, 401) },
});

const meRoute = protectedRoute({
  method: 'get',
  path: '/auth/me',
  summary: 'Who the credential belongs to: kind, roles, permissions, limits',
  permission: 'authenticated',
  responses: { 200: { description: 'The principal', content: { 'application/json': { schema: MeSchema } } }, ...problemResponses(401) },
});

const keyTokenRoute = createRoute({
  method: 'post',
  path: '/token',
  'x-permission': 'public (API key in the body)',
  summary: "Crawl4AI-compatible: exchange an API key (api_token) for a short-lived access token with the key's scopes",
  request: jsonBody(KeyTokenRequestSchema),
  responses: {
    200: { description: 'Access token', content: { 'application/json': { schema: KeyTokenSchema } } },
    ...problemResponses(401, 422, 429),
  },
});

const jwksRoute = createRoute({
  method: 'get',
  path: '/.well-known/jwks.json',
  'x-permission': 'public',
  summary: 'Public signing keys (ES256/EdDSA); empty when tokens are HS256',
  responses: { 200: { description: 'JWK Set (RFC 7517 §5)', content: { 'application/json': { schema: JwksSchema } } } },
});

/**
 * Form or JSON input of a route declared with `formOrJson`, chosen by the request's one media-type
 * reading (src/http/media-type.ts) — the same the login limiter used (#26).
 */
function formOrJsonInput<T>(c: Context<AppEnv>, valid: { json: () => T; form: () => T }): T {
  const mediaType = requestBody(c).mediaType;
  if (isJson(mediaType)) return valid.json();
  if (isForm(mediaType)) return valid.form();
  throw new GatewayError('unsupported_media_type', 'Send application/x-www-form-urlencoded or application/json');
}

const badLogin = () => new GatewayError('invalid_credentials', 'Incorrect username or password');
const badRefresh = () => new GatewayError('invalid_token', 'The refresh token is invalid, expired or revoked');

export interface AuthRouterOptions {
  /** Password verifier (tests inject a counting one). */
  passwordVerifier?: PasswordVerifier;
  /** API-key verifier for POST /token. */
  apiKeyVerifier?: CredentialVerifier;
}

async function refreshGrant(c: Context<AppEnv>, refreshToken: string | undefined) {
  if (!refreshToken) throw new GatewayError('validation_failed', 'refresh_token is required for grant_type=refresh_token');
  const out = await refreshSession(c.env, c.get('config'), refreshToken, Date.now());
  if (!out.ok) {
    const actor = out.userId ? { id: out.userId, kind: 'user' as const } : undefined;
    const details = out.familyId ? { family: out.familyId } : undefined;
    if (out.reason === 'reused') {
      audit(c, {
        action: 'refresh_reuse_detected',
        outcome: 'denied',
        reason: 'reused',
        status: 401,
        ...(actor ? { actor } : {}),
        ...(details ? { details } : {}),
      });
    } else {
      audit(c, {
        action: 'token_refreshed',
        outcome: 'denied',
        reason: out.reason,
        status: 401,
        ...(actor ? { actor } : {}),
        ...(details ? { details } : {}),
      });
    }
    throw badRefresh();
  }
  audit(c, {
    action: 'token_refreshed',
    outcome: 'success',
    status: 200,
    ...(out.grace ? { reason: 'grace_window' } : {}),
    actor: { id: out.user.id, kind: 'user', name: out.user.username },
    details: { family: out.issued.familyId, jti: out.issued.jti },
  });
  return c.json(out.issued.pair, 200);
}

/** Builds the router; options exist for tests. */
export function createAuthRouter(options: AuthRouterOptions = {}) {
  const verifier = options.passwordVerifier ?? argon2Verifier;
  const apiKeyVerifier = options.apiKeyVerifier ?? verifyApiKey;
  return createRouter()
    .openapi(tokenRoute, async (c) => {
      const input = formOrJsonInput(c, { json: () => c.req.valid('json'), form: () => c.req.valid('form') });
      if (input.grant_type === 'refresh_token') return refreshGrant(c, input.refresh_token);
      if (!input.username || !input.password)
        throw new GatewayError('validation_failed', 'username and password are required for grant_type=password');
      const config = c.get('config');
      const result = await checkLogin({ db: c.env.DB, config, verifier, now: Date.now() }, input.username, input.password);
      if (!result.ok) {
        // The username is recorded only when it names a real user (a password typed into the
        // username field must not end up in the audit log).
        const actor = result.user ? { id: result.user.id, kind: 'user' as const, name: result.user.username } : undefined;
        audit(c, { action: 'login_failed', outcome: 'denied', reason: result.reason, status: 401, ...(actor ? { actor } : {}) });
        throw badLogin();
      }
      const issued = await startSession(c.env, config, result.user, Date.now());
      audit(c, {
        action: 'login_succeeded',
        outcome: 'success',
        status: 200,
        actor: { id: result.user.id, kind: 'user', name: result.user.username },
        details: { family: issued.familyId, jti: issued.jti },
      });
      return c.json(issued.pair, 200);
    })
    .openapi(refreshRoute, async (c) => {
      const input = formOrJsonInput(c, { json: () => c.req.valid('json'), form: () => c.req.valid('form') });
      return refreshGrant(c, input.refresh_token);
    })
    .openapi(logoutRoute, async (c) => {
      const p = principalOf(c);
      if (!p.tokenId || p.tokenExpiresAt === undefined) {
        throw new GatewayError('bad_request', 'Logout ends a JWT session; revoke API keys with DELETE /admin/keys/{id}');
      }
      await endSession(
        c.env,
        { jti: p.tokenId, expiresAt: p.tokenExpiresAt, ...(p.sessionId ? { familyId: p.sessionId } : {}) },
        Date.now(),
      );
      audit(c, {
        action: 'logout',
        outcome: 'success',
        status: 204,
        details: { jti: p.tokenId, ...(p.sessionId ? { family: p.sessionId } : {}) },
      });
      return c.body(null, 204);
    })
    .openapi(meRoute, (c) => {
      const p = principalOf(c);
      return c.json(
        {
          principal: { id: p.id, name: p.name },
          kind: p.kind,
          roles: p.roles,
          permissions: p.permissions,
          limits: { rate_limit: p.rateLimit ?? c.get('config').DEFAULT_RATE_LIMIT.text, max_concurrency: p.maxConcurrency ?? null },
          token:
            p.tokenId && p.tokenExpiresAt !== undefined
              ? { id: p.tokenId, expires_at: new Date(p.tokenExpiresAt * 1000).toISOString(), via_key_id: p.viaKeyId ?? null }
              : null,
        },
        200,
      );
    })
    .openapi(keyTokenRoute, async (c) => {
      const { email, api_token } = c.req.valid('json');
      let result;
      try {
        result = await apiKeyVerifier(c, api_token);
      } catch (err) {
        if (err instanceof GatewayError && err.status >= 500) throw err;
        result = { ok: false as const, code: 'invalid_credentials' as const, reason: 'verifier_error' };
      }
      // Only a key principal can be exchanged (a JWT in api_token is not an API key).
      if (!result.ok || result.principal.kind !== 'key') {
        audit(c, {
          action: 'login_failed',
          outcome: 'denied',
          reason: result.ok ? 'not_a_key' : result.reason,
          status: 401,
          ...(!result.ok && result.actor ? { actor: result.actor } : {}),
        });
        throw new GatewayError('invalid_credentials', 'Invalid API token');
      }
      const key = result.principal;
      const config = c.get('config');
      const now = Date.now();
      // The token never outlives its key (SECURITY.md "derived credentials die no later than their source").
      const keyExp = key.expiresAt !== undefined ? Math.floor(key.expiresAt / 1000) : null;
      const ttlSeconds = keyExp === null ? config.ACCESS_TOKEN_TTL : Math.min(config.ACCESS_TOKEN_TTL, keyExp - Math.floor(now / 1000));
      if (ttlSeconds < 1) {
        audit(c, {
          action: 'login_failed',
          outcome: 'denied',
          reason: 'expired',
          status: 401,
          actor: { id: key.id, kind: 'key', name: key.name },
        });
        throw new GatewayError('invalid_credentials', 'Invalid API token');
      }
      const access = await signAccessToken(await keyRing(config), {
        subject: key.id,
        claims: {
          cg_src: 'api_key',
          scope: key.permissions.join(' '),
          name: key.name,
          ...(key.rateLimit ? { rate_limit: key.rateLimit } : {}),
          ...(key.maxConcurrency ? { max_concurrency: key.maxConcurrency } : {}),
          ...(key.owner ? { owner: key.owner } : {}),
          ...(keyExp !== null ? { key_exp: keyExp } : {}),
        },
        ttlSeconds,
        now,
      });
      audit(c, {
        action: 'login_succeeded',
        outcome: 'success',
        status: 200,
        actor: { id: key.id, kind: 'key', name: key.name },
        details: { grant: 'api_key', jti: access.jti },
      });
      return c.json(
        {
          email: email ?? null,
          access_token: access.token,
          token_type: 'bearer' as const,
          expires_in: access.expiresIn,
          scope: key.permissions.join(' '),
        },
        200,
      );
    })
    .openapi(jwksRoute, async (c) => {
      const ring = await keyRing(c.get('config'));
      return c.json({ keys: ring.jwks }, 200, { 'Cache-Control': 'public, max-age=300' });
    });
}

export const authRouter = createAuthRouter();
