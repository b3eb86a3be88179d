/**
 * The signing and verification keys crawlgate holds (RFC 8725 §3.1, §3.10).
 *  - HS256 with `JWT_SECRET_KEY` by default; `JWT_PREVIOUS_SECRET_KEYS` verify only (rotation).
 *  - `JWT_PRIVATE_KEYS` (one private JWK, an array, or `{"keys":[...]}`): ES256 (P-256) or EdDSA
 *    (Ed25519); the first signs, the rest verify; public halves are published at /.well-known/jwks.json.
 * Every key carries exactly one algorithm, and a token is verified only with the key its `kid`
 * names among these held keys: no `jku`/`x5u`/`jwk` lookup, no fetch, no algorithm from the token.
 */
import { calculateJwkThumbprint, importJWK, type JWK } from 'jose';
import type { Config } from '../../config';
import { GatewayError } from '../../http/errors';
import { algForJwk, parsePrivateJwks } from './private-jwks';

export type SigningAlg = 'HS256' | 'ES256' | 'EdDSA';

export interface HeldKey {
  kid: string;
  alg: SigningAlg;
  /** Verification key: the HMAC secret or the public key. */
  verifyKey: CryptoKey | Uint8Array;
}

export interface KeyRing {
  signing: { kid: string; alg: SigningAlg; key: CryptoKey | Uint8Array };
  /** kid → key. A `Map`, so a hostile kid such as `__proto__` finds nothing. */
  verify: Map<string, HeldKey>;
  /** Public JWKs (empty for HS256 only). */
  jwks: JWK[];
}

const b64url = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');

/** kid of an HMAC secret: the first 8 bytes of SHA-256 over a domain-separated copy (reveals nothing usable). */
export async function hmacKid(secret: string): Promise<string> {
  const d = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(`crawlgate-jwt-kid\0${secret}`));
  return `hs-${b64url(new Uint8Array(d).slice(0, 8))}`;
}

async function buildKeyRing(config: Config): Promise<KeyRing> {
  const verify = new Map<string, HeldKey>();
  const secrets = [config.JWT_SECRET_KEY, ...config.JWT_PREVIOUS_SECRET_KEYS];
  let hsSigning: KeyRing['signing'] | undefined;
  for (const secret of secrets) {
    const kid = await hmacKid(secret);
    const key = new TextEncoder().encode(secret);
    verify.set(kid, { kid, alg: 'HS256', verifyKey: key });
    hsSigning ??= { kid, alg: 'HS256', key };
  }
  const jwks: JWK[] = [];
  let signing = hsSigning as KeyRing['signing'];
  if (config.JWT_PRIVATE_KEYS) {
    const parsed = parsePrivateJwks(config.JWT_PRIVATE_KEYS);
    if (typeof parsed === 'string') throw new GatewayError('misconfigured', `JWT_PRIVATE_KEYS ${parsed}`);
    for (const [i, jwk] of parsed.entries()) {
      const alg = algForJwk(jwk) as SigningAlg;
      const { d: _d, ...pub } = jwk;
      const publicJwk: JWK = { kty: pub.kty, crv: pub.crv, x: pub.x, ...(pub.y ? { y: pub.y } : {}) };
      const kid = jwk.kid ?? (await calculateJwkThumbprint(publicJwk));
      const privateKey = (await importJWK({ ...jwk, alg }, alg)) as CryptoKey;
      const publicKey = (await importJWK({ ...publicJwk, alg }, alg)) as CryptoKey;
      verify.set(kid, { kid, alg, verifyKey: publicKey });
      jwks.push({ ...publicJwk, kid, alg, use: 'sig' });
      if (i === 0) signing = { kid, alg, key: privateKey };
    }
  }
  return { signing, verify, jwks };
}

const rings = new WeakMap<Config, Promise<KeyRing>>();

/** The key ring for a parsed config, built once per isolate and config. */
export function keyRing(config: Config): Promise<KeyRing> {
  let ring = rings.get(config);
  if (!ring) {
    ring = buildKeyRing(config);
    ring.catch(() => rings.delete(config));
    rings.set(config, ring);
  }
  return ring;
}
