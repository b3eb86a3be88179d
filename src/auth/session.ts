/**
 * Sessions: a login issues an access token and the first refresh token of a new family; a refresh
 * spends the presented token in its family's Durable Object (compare-and-set) and issues the next
 * pair; logout revokes the access token's `jti` in KV and the family in its DO.
 */
import type { Env } from '../env';
import type { Config } from '../config';
import type { UserRecord } from '../users/store';
import { getUserById } from '../users/store';
import { permissionsForRoles } from './rbac';
import { keyRing } from './jwt/keys';
import { signAccessToken } from './jwt/issue';
import { newFamilyId, newRefreshToken, parseRefreshToken, refreshTagKeys } from './jwt/refresh-token';
import { familyStub, type FamilyState } from './refresh-family-do';
import { revokedJtiKey } from './revocation-keys';

/** The OAuth 2.0 token response (RFC 6749 §5.1) plus `refresh_expires_in`. */
export interface TokenPair {
  access_token: string;
  refresh_token: string;
  token_type: 'bearer';
  expires_in: number;
  refresh_expires_in: number;
  scope: string;
}

export interface Issued {
  pair: TokenPair;
  familyId: string;
  jti: string;
}

/** KV's minimum `expirationTtl`. */
export const KV_MIN_TTL_SECONDS = 60;

async function pairFor(config: Config, user: UserRecord, family: FamilyState, refreshToken: string, now: number): Promise<Issued> {
  const permissions = permissionsForRoles(user.roles, config.ROLE_PERMISSIONS);
  const access = await signAccessToken(await keyRing(config), {
    subject: user.id,
    claims: { roles: user.roles, scope: permissions.join(' '), sid: family.familyId, name: user.username },
    ttlSeconds: config.ACCESS_TOKEN_TTL,
    now,
    notBeforeMs: user.tokensValidAfter,
  });
  return {
    pair: {
      access_token: access.token,
      refresh_token: refreshToken,
      token_type: 'bearer',
      expires_in: access.expiresIn,
      refresh_expires_in: Math.max(0, Math.floor((family.expiresAt - now) / 1000)),
      scope: permissions.join(' '),
    },
    familyId: family.familyId,
    jti: access.jti,
  };
}

/** Login: a new family (absolute life REFRESH_TOKEN_TTL) and its first pair. */
export async function startSession(env: Env, config: Config, user: UserRecord, now: number): Promise<Issued> {
  const familyId = newFamilyId();
  const { token, hash } = await newRefreshToken(await refreshTagKeys(config), familyId);
  const family = await familyStub(env, familyId).start({
    familyId,
    userId: user.id,
    tokenHash: hash,
    now,
    expiresAt: now + config.REFRESH_TOKEN_TTL * 1000,
  });
  return pairFor(config, user, family, token, now);
}

export type RefreshOutcome =
  | { ok: true; issued: Issued; user: UserRecord; grace: boolean }
  | { ok: false; reason: string; familyId?: string; userId?: string };

/** Refresh grant: spend the presented token, issue the next pair. */
export async function refreshSession(env: Env, config: Config, presented: string, now: number): Promise<RefreshOutcome> {
  const keys = await refreshTagKeys(config);
  // Shape and family tag are checked before the family's Durable Object is addressed.
  const parsed = await parseRefreshToken(keys, presented);
  if (!parsed) return { ok: false, reason: 'malformed' };
  const stub = familyStub(env, parsed.familyId);
  const next = await newRefreshToken(keys, parsed.familyId);
  const rotated = await stub.rotate({
    presentedHash: parsed.hash,
    nextHash: next.hash,
    now,
    graceMs: config.REFRESH_REUSE_GRACE_SECONDS * 1000,
  });
  if (!rotated.ok) return { ok: false, reason: rotated.reason, familyId: parsed.familyId, userId: rotated.family?.userId };
  const family = rotated.family;
  const user = await getUserById(env.DB, family.userId);
  // A password change or disable after the family began ends it (tokens_valid_after).
  if (!user || user.disabled || family.createdAt < user.tokensValidAfter) {
    await stub.revoke({ reason: 'user_invalidated', now });
    return {
      ok: false,
      reason: !user ? 'user_deleted' : user.disabled ? 'user_disabled' : 'tokens_invalidated',
      familyId: family.familyId,
      userId: family.userId,
    };
  }
  return { ok: true, issued: await pairFor(config, user, family, next.token, now), user, grace: rotated.grace };
}

/**
 * Logout: the access token's `jti` goes to KV for its remaining life (at least KV's 60 s minimum),
 * and its refresh family is revoked in the DO (strongly consistent: no new access token can follow).
 */
export async function endSession(env: Env, token: { jti: string; expiresAt: number; familyId?: string }, now: number): Promise<void> {
  const remaining = token.expiresAt - Math.floor(now / 1000);
  const ttl = Math.max(KV_MIN_TTL_SECONDS, remaining);
  await Promise.all([
    env.REVOCATIONS.put(revokedJtiKey(token.jti), JSON.stringify({ revoked_at: now, reason: 'logout' }), { expirationTtl: ttl }),
    token.familyId ? familyStub(env, token.familyId).revoke({ reason: 'logout', now }) : Promise.resolve(null),
  ]);
}
