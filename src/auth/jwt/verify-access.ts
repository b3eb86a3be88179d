/**
 * The JWT verifier behind `authenticate` (contract: ../verifier.ts): signature and claims first
 * (./access-token.ts), then revocation, then the principal.
 * Revocation: the `jti` in KV (`revoked:jti:<jti>`, written by logout); for user tokens the user's
 * D1 row read on every request (disabled, `tokens_valid_after`, current roles) — strongly
 * consistent, so a password change or disable takes effect at once everywhere; for tokens issued
 * from an API key, the key's KV revocation (`revoked:key:<id>`) and its owner's marker
 * (`revoked:owner:<user id>`: a stop, or the roles the token then acts within). See docs/tokens.md.
 */
import type { Env } from '../../env';
import type { Config } from '../../config';
import type { AuthResult, CredentialVerifier } from '../verifier';
import { OWNER_ID, type Principal } from '../principal';
import { normalizeScopes, permissionsForRoles } from '../rbac';
import { getUserById } from '../../users/store';
import { revokedJtiKey, revokedKeyKey, revokedOwnerKey } from '../revocation-keys';
import { parseOwnerMarker } from '../../keys/cache';
import { withinOwnerRoles } from '../../keys/owner-stop';
import { keyRing } from './keys';
import { checkAccessToken, type AccessPayload } from './access-token';

/** Builds the principal for a verified token, or refuses it as revoked. */
export async function principalFromAccess(env: Env, config: Config, p: AccessPayload, now = Date.now()): Promise<AuthResult> {
  const base = { tokenId: p.jti, tokenExpiresAt: p.exp };
  if (p.cg_src === 'api_key') {
    const actor = { id: p.sub, kind: 'key' as const };
    // A token minted from a key dies with the key's expiry, not CLOCK_TOLERANCE_S later.
    if (p.key_exp !== undefined && (typeof p.key_exp !== 'number' || now >= p.key_exp * 1000))
      return { ok: false, code: 'token_expired', reason: 'key_expired', actor };
    // The token's, the key's and the key owner's markers in one KV bulk read (one round trip).
    const jtiKey = revokedJtiKey(p.jti);
    const keyKey = revokedKeyKey(p.sub);
    const ownerKey = typeof p.owner === 'string' && p.owner !== '' ? revokedOwnerKey(p.owner) : null;
    const markers = await env.REVOCATIONS.get(ownerKey ? [jtiKey, keyKey, ownerKey] : [jtiKey, keyKey], 'text');
    const jtiRevoked = markers.get(jtiKey) ?? null;
    const keyRevoked = markers.get(keyKey) ?? null;
    const owner = ownerKey ? parseOwnerMarker(markers.get(ownerKey)) : null;
    if (jtiRevoked !== null) return { ok: false, code: 'token_revoked', reason: 'jti_revoked', actor };
    if (keyRevoked !== null) return { ok: false, code: 'token_revoked', reason: 'key_revoked', actor };
    if (owner && owner.reason !== 'owner_roles') return { ok: false, code: 'token_revoked', reason: 'owner_stopped', actor };
    const scopes = normalizeScopes((p.scope ?? '').split(' ').filter(Boolean));
    if (!scopes) return { ok: false, code: 'invalid_token', reason: 'bad_scope', actor };
    // Like its key, the token acts within the owner's current roles once they have changed.
    const permissions = withinOwnerRoles(scopes, owner, config.ROLE_PERMISSIONS);
    // Tenancy is an id since migration 0009: a token minted before it names its owner by username.
    if (p.owner !== undefined && (typeof p.owner !== 'string' || !OWNER_ID.test(p.owner)))
      return { ok: false, code: 'invalid_token', reason: 'owner_not_an_id', actor };
    const principal: Principal = {
      kind: 'key',
      id: p.sub,
      name: typeof p.name === 'string' ? p.name : p.sub,
      roles: [],
      permissions,
      viaKeyId: p.sub,
      ...(typeof p.rate_limit === 'string' ? { rateLimit: p.rate_limit } : {}),
      ...(typeof p.max_concurrency === 'number' && Number.isSafeInteger(p.max_concurrency) && p.max_concurrency > 0
        ? { maxConcurrency: p.max_concurrency }
        : {}),
      ...(typeof p.owner === 'string' && p.owner !== '' ? { owner: p.owner } : {}),
      ...(typeof p.key_exp === 'number' ? { expiresAt: p.key_exp * 1000 } : {}),
      ...base,
    };
    return { ok: true, principal };
  }
  const actor = { id: p.sub, kind: 'user' as const };
  const [jtiRevoked, user] = await Promise.all([env.REVOCATIONS.get(revokedJtiKey(p.jti)), getUserById(env.DB, p.sub)]);
  if (jtiRevoked !== null) return { ok: false, code: 'token_revoked', reason: 'jti_revoked', actor };
  if (!user) return { ok: false, code: 'invalid_token', reason: 'unknown_user', actor };
  const named = { ...actor, name: user.username };
  if (user.disabled) return { ok: false, code: 'token_revoked', reason: 'user_disabled', actor: named };
  if (p.iat * 1000 < user.tokensValidAfter) return { ok: false, code: 'token_revoked', reason: 'tokens_invalidated', actor: named };
  const principal: Principal = {
    kind: 'user',
    id: user.id,
    name: user.username,
    roles: user.roles,
    permissions: permissionsForRoles(user.roles, config.ROLE_PERMISSIONS),
    ...(p.sid ? { sessionId: p.sid } : {}),
    ...base,
  };
  return { ok: true, principal };
}

/** `CredentialVerifier` for compact-JWS credentials. Never throws for a bad token. */
export const verifyAccessToken: CredentialVerifier = async (c, credential) => {
  const config = c.get('config');
  const check = await checkAccessToken(credential, await keyRing(config), { now: Date.now(), maxAgeSeconds: config.ACCESS_TOKEN_TTL });
  if (!check.ok) return { ok: false, code: check.expired ? 'token_expired' : 'invalid_token', reason: check.reason };
  return principalFromAccess(c.env, config, check.payload, Date.now());
};
