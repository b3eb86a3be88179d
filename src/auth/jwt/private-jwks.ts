/**
 * The `JWT_PRIVATE_KEYS` secret's format (one private JWK, an array, or `{"keys":[...]}`), checked
 * without I/O: src/config.ts runs it when the config is read, ./keys.ts builds the key ring from it.
 */
import type { JWK } from 'jose';
import { err, ok, type Result } from '../../lib/result';

/** The one algorithm a private JWK's curve allows (RFC 8725 §3.1), or null for any other key type. */
export function algForJwk(jwk: JWK): 'ES256' | 'EdDSA' | null {
  if (jwk.kty === 'EC' && jwk.crv === 'P-256') return 'ES256';
  if (jwk.kty === 'OKP' && jwk.crv === 'Ed25519') return 'EdDSA';
  return null;
}

/** Parses `JWT_PRIVATE_KEYS` into private JWKs; the error is a message naming the problem. */
export function parsePrivateJwks(json: string): Result<JWK[]> {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    return err('is not valid JSON');
  }
  const list: unknown[] = Array.isArray(raw)
    ? raw
    : raw && typeof raw === 'object' && Array.isArray((raw as { keys?: unknown }).keys)
      ? (raw as { keys: unknown[] }).keys
      : [raw];
  if (list.length === 0) return err('holds no keys');
  for (const k of list) {
    if (!k || typeof k !== 'object') return err('must hold JWK objects');
    const jwk = k as JWK;
    const alg = algForJwk(jwk);
    if (!alg) return err('keys must be EC P-256 (ES256) or OKP Ed25519 (EdDSA)');
    if (jwk.alg && jwk.alg !== alg) return err(`key alg "${jwk.alg}" does not match its curve (${alg})`);
    if (typeof jwk.d !== 'string') return err('keys must be private JWKs (with "d")');
  }
  return ok(list as JWK[]);
}
