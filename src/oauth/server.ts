/**
 * The OAuth 2.1 authorization server for MCP clients (@cloudflare/workers-oauth-provider's
 * `OAuthAuthorizationServer`, the role-based API): RFC 8414 metadata, RFC 7591 dynamic client
 * registration, the token endpoint (authorization code + PKCE S256, refresh rotation, RFC 7009
 * revocation). The app keeps every route: these endpoints are ordinary routes in src/oauth/router.ts
 * that hand the request to `fetch()`, and the consent page is ours (src/oauth/consent.tsx).
 *
 * The issuer is the deployment's own origin and the one protected resource is `<origin>/mcp`; both
 * are fixed at construction, so one server is built per origin the Worker answers on (the host rules
 * already limit those to TRUSTED_HOSTS), once per isolate.
 */
import { OAuthAuthorizationServer, type OAuthHelpers } from '@cloudflare/workers-oauth-provider';
import type { Env } from '../env';
import type { Config } from '../config';
import type { Permission } from '../auth/rbac';

/** What a grant may carry: the crawl and job permissions the tools use. Never key, user or audit admin. */
export const GRANTABLE_SCOPES: readonly Permission[] = [
  'crawl:run',
  'crawl:screenshot',
  'crawl:pdf',
  'crawl:js',
  'crawl:llm',
  'crawl:proxy',
  'crawl:headers',
  'crawl:deep',
  'jobs:write',
  'jobs:read',
];

/** The baseline a client asks for first (RFC 9728 `scopes_supported`, the 401's `scope`). */
export const REQUIRED_SCOPES: readonly Permission[] = ['crawl:run'];

export const AUTHORIZE_PATH = '/oauth/authorize';
export const TOKEN_PATH = '/oauth/token';
export const REGISTER_PATH = '/oauth/register';

/** The canonical resource for an origin. */
export const mcpResource = (origin: string) => `${origin}/mcp`;

const servers = new Map<string, OAuthAuthorizationServer<Env>>();

/** The authorization server for this origin (built once per isolate and settings). */
export function authorizationServer(
  origin: string,
  config: Pick<Config, 'ACCESS_TOKEN_TTL' | 'REFRESH_TOKEN_TTL'>,
): OAuthAuthorizationServer<Env> {
  const key = `${origin}|${config.ACCESS_TOKEN_TTL}|${config.REFRESH_TOKEN_TTL}`;
  let server = servers.get(key);
  if (!server) {
    server = new OAuthAuthorizationServer<Env>({
      issuer: origin,
      resources: [mcpResource(origin)],
      authorizeEndpoint: AUTHORIZE_PATH,
      tokenEndpoint: TOKEN_PATH,
      clientRegistrationEndpoint: REGISTER_PATH,
      scopesSupported: [...GRANTABLE_SCOPES],
      // SECURITY.md "Tokens": access tokens live minutes; refresh tokens rotate (the library does).
      accessTokenTTL: Math.min(config.ACCESS_TOKEN_TTL, 900),
      refreshTokenTTL: Math.max(60, config.REFRESH_TOKEN_TTL),
      // Log the specific reason server-side only; the client sees the generic OAuth error.
      onError: ({ code, status, internal }) => {
        console.warn('oauth error', { code, status, reason: internal?.reason });
      },
    });
    if (servers.size > 16) servers.clear();
    servers.set(key, server);
  }
  return server;
}

/** The helpers (consent, grants) for this origin. */
export function oauthApi(origin: string, config: Pick<Config, 'ACCESS_TOKEN_TTL' | 'REFRESH_TOKEN_TTL'>, env: Env): OAuthHelpers {
  return authorizationServer(origin, config).getOAuthApi(env);
}
