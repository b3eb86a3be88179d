/**
 * The KV `REVOCATIONS` keys (docs/storage.md), each built in one place: the writers (logout,
 * key revocation in src/keys/cache.ts) and the readers (src/auth/jwt/verify-access.ts) share them.
 */

/** KV key of a revoked access token. */
export const revokedJtiKey = (jti: string) => `revoked:jti:${jti}`;

/** KV key of a revoked API key's marker (`{reason, at}`). */
export const revokedKeyKey = (keyId: string) => `revoked:key:${keyId}`;

/** KV key of a key owner's marker (`{reason, at}`): the user was disabled or deleted, so every key they own stops. */
export const revokedOwnerKey = (userId: string) => `revoked:owner:${userId}`;
