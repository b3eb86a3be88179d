/**
 * The credential verifier for OAuth access tokens issued to MCP clients (contract: src/auth/verifier.ts).
 * The provider checks the token (its hash in OAUTH_KV, expiry, audience = `<origin>/mcp`, RFC 8707);
 * then the grant row and the user's row are read from D1 in one query on every request: a revoked
 * grant, a disabled or deleted user, or a password change after the grant (`tokens_valid_after`)
 * refuses the token at once. The principal acts as the user with the granted scopes ∩ the user's
 * current permissions, so a grant never outlives a role change. The token works only at `/mcp`
 * (its audience); the tool calls' inner requests carry the principal (src/auth/dispatch.ts).
 */
import type { CredentialVerifier } from '../auth/verifier';
import { isRole, permissionsForRoles, type Role } from '../auth/rbac';
import type { Principal } from '../auth/principal';
import { GatewayError } from '../http/errors';
import { requestRoute, requestUrl } from '../http/request-target';
import { authorizationServer, mcpResource } from './server';
import { grantWithUser, parseScopes } from './grants';

/** `@cloudflare/workers-oauth-provider` tokens are `<userId>:<grantId>:<secret>`; our user ids are `usr_...`. */
export function isOAuthToken(value: string): boolean {
  return /^usr_[A-Za-z0-9_]{1,64}:[A-Za-z0-9_-]{1,128}:[A-Za-z0-9_-]{1,256}$/.test(value);
}

function rolesOf(json: string): Role[] {
  try {
    const raw: unknown = JSON.parse(json);
    return Array.isArray(raw) ? raw.filter((r): r is Role => typeof r === 'string' && isRole(r)) : [];
  } catch {
    return [];
  }
}

export const verifyOAuthToken: CredentialVerifier = async (c, token) => {
  const route = requestRoute(c);
  if (route.template !== '/mcp') return { ok: false, code: 'invalid_token', reason: 'oauth_token_wrong_audience' };
  const origin = requestUrl(c).origin;
  const config = c.get('config');
  let validated;
  try {
    validated = await authorizationServer(origin, config).validateToken<{ grant?: unknown }>(mcpResource(origin), token, c.env);
  } catch (err) {
    throw new GatewayError('service_unavailable', 'The authorization store is unavailable; retry shortly', {
      headers: { 'Retry-After': '5' },
      cause: err,
    });
  }
  if (!validated) return { ok: false, code: 'invalid_token', reason: 'unknown_oauth_token' };
  const grantId = typeof validated.props?.grant === 'string' ? validated.props.grant : null;
  const actor = { id: validated.userId, kind: 'user' as const };
  if (!grantId) return { ok: false, code: 'invalid_token', reason: 'grant_missing', actor };
  const found = await grantWithUser(c.env.DB, grantId);
  if (!found || found.user.id !== validated.userId) return { ok: false, code: 'token_revoked', reason: 'grant_unknown', actor };
  const named = { ...actor, name: found.user.username };
  if (found.grant.revoked_at !== null)
    return { ok: false, code: 'token_revoked', reason: `grant_${found.grant.revoked_reason ?? 'revoked'}`, actor: named };
  if (found.user.disabled === 1) return { ok: false, code: 'token_revoked', reason: 'user_disabled', actor: named };
  if (found.grant.created_at < found.user.tokens_valid_after)
    return { ok: false, code: 'token_revoked', reason: 'tokens_invalidated', actor: named };
  const roles = rolesOf(found.user.roles);
  const current = new Set(permissionsForRoles(roles, config.ROLE_PERMISSIONS));
  const granted = parseScopes(found.grant.scopes).filter((p) => current.has(p) && validated.scope.includes(p));
  const principal: Principal = {
    kind: 'user',
    id: found.user.id,
    name: found.user.username,
    roles,
    permissions: granted,
    viaGrantId: grantId,
    tokenExpiresAt: validated.expiresAt,
  };
  return { ok: true, principal };
};
