/**
 * The `JWT_PRIVATE_KEYS` secret's format (one private JWK, an array, or `{"keys":[...]}`), checked
 * without I/O: src/config.ts runs it when the config is read, ./keys.ts builds the key ring from it.
 */
import type { JWK } from 'jose';

/** The one algorithm a private JWK's curve allows (RFC 8725 §3.1), or null for any other key type. */
export function algForJwk(jwk: JWK): 'ES256' | 'EdDSA' | null {
  if (jwk.kty === 'EC' && jwk.crv === 'P-256') return 'ES256';
  if (jwk.kty === 'OKP' && jwk.crv === 'Ed25519') return 'EdDSA';
  return null;
}

/** Parses `JWT_PRIVATE_KEYS` into private JWKs; returns a message naming the problem instead of throwing. */
export function parsePrivateJwks(json: string): JWK[] | string {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    return 'is not valid JSON';
  }
  const list: unknown[] = Array.isArray(raw) ? raw : raw && typeof raw === 'object' && Array.isArray((raw as { keys?: unknown }).keys) ? (raw as { keys: unknown[] }).keys : [raw];
  if (list.length === 0) return 'holds no keys';
  for (const k of list) {
    if (!k || typeof k !== 'object') return 'must hold JWK objects';
    const jwk = k as JWK;
    const alg = algForJwk(jwk);
    if (!alg) return 'keys must be EC P-256 (ES256) or OKP Ed25519 (EdDSA)';
    if (jwk.alg && jwk.alg !== alg) return `key alg "${jwk.alg}" does not match its curve (${alg})`;
    if (typeof jwk.d !== 'string') return 'keys must be private JWKs (with "d")';
  }
  return list as JWK[];
}
