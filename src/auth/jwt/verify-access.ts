/**
 * Access-token verification (the JWT issue fills this in with jose and an algorithm allow-list).
 * Until then every token is refused: authentication fails closed.
 */
import type { CredentialVerifier } from '../verifier';

export const verifyAccessToken: CredentialVerifier = async () => ({ ok: false, code: 'invalid_token', reason: 'jwt_not_enabled' });
