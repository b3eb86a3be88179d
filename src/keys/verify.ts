/**
 * API-key verification (the API-key issue fills this in: checksum → HMAC digest → KV/D1 → principal).
 * Until then every key is refused: authentication fails closed.
 */
import type { CredentialVerifier } from '../auth/verifier';

export const verifyApiKey: CredentialVerifier = async () => ({ ok: false, code: 'invalid_credentials', reason: 'api_keys_not_enabled' });
