/** OAuth access tokens issued to MCP clients (placeholder until the authorization server lands). */
import type { CredentialVerifier } from '../auth/verifier';

/** `@cloudflare/workers-oauth-provider` tokens are `<userId>:<grantId>:<secret>`. */
export function isOAuthToken(value: string): boolean {
  return /^usr_[A-Za-z0-9_]{1,64}:[A-Za-z0-9_-]{1,64}:[A-Za-z0-9_-]{1,128}$/.test(value);
}

export const verifyOAuthToken: CredentialVerifier = async () => ({ ok: false, code: 'invalid_token', reason: 'oauth_unavailable' });
