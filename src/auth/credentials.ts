/**
 * Reads the caller's credential from `Authorization: Bearer` or `X-API-Key` (pure).
 * RFC 6750 §2.3 allows tokens in the query string; we refuse them (they end up in logs).
 */
import { GatewayError } from '../http/errors';

/** Longer credentials are refused before any parsing or crypto (SECURITY.md "Tokens"). */
export const MAX_CREDENTIAL_LENGTH = 4096;

export type CredentialKind = 'jwt' | 'api_key';

export interface Credential {
  kind: CredentialKind;
  value: string;
  /** Where it came from, for audit (never the value). */
  source: 'authorization' | 'x-api-key';
}

const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;
const QUERY_CREDENTIALS = ['access_token', 'api_key', 'apikey', 'token', 'key'];

/** A compact JWS (three base64url parts) is a JWT; anything else is an API key (API.md "Conventions"). */
export function classifyCredential(value: string): CredentialKind {
  return COMPACT_JWS.test(value) ? 'jwt' : 'api_key';
}

/**
 * Extracts one credential, or null when none is present.
 * Throws 400 when both headers carry different credentials, or a credential sits in the query string.
 */
export function extractCredential(headers: Headers, url: URL): Credential | null {
  for (const name of QUERY_CREDENTIALS) {
    if (url.searchParams.has(name)) {
      throw new GatewayError(
        'token_in_query',
        `Send credentials in the Authorization or X-API-Key header, not the "${name}" query parameter`,
      );
    }
  }
  const auth = headers.get('Authorization');
  const apiKeyHeader = headers.get('X-API-Key');
  let fromAuth: string | null = null;
  if (auth !== null) {
    const m = /^Bearer[ ]+(\S+)\s*$/i.exec(auth);
    if (!m) throw new GatewayError('invalid_credentials', 'Authorization must be "Bearer <credential>"');
    fromAuth = m[1] as string;
  }
  const fromKey = apiKeyHeader !== null ? apiKeyHeader.trim() : null;
  if (fromAuth !== null && fromKey !== null && fromAuth !== fromKey) {
    throw new GatewayError('ambiguous_credentials', 'Authorization and X-API-Key carry different credentials; send one');
  }
  const value = fromAuth ?? fromKey;
  if (value === null || value === '') return fromKey === '' ? invalid() : null;
  if (value.length > MAX_CREDENTIAL_LENGTH) invalid();
  return { kind: classifyCredential(value), value, source: fromAuth !== null ? 'authorization' : 'x-api-key' };
}

function invalid(): never {
  throw new GatewayError('invalid_credentials', 'Invalid credentials');
}
