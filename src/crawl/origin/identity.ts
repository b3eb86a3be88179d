/**
 * The signed identity the origin receives in `X-Crawlgate-Identity`: a compact JWS (RFC 7515),
 * HS256 (RFC 7518 §3.2) over claims naming the verified caller. The key is derived from
 * `ORIGIN_SECRET` (HMAC-SHA-256(ORIGIN_SECRET, "crawlgate-identity-v1")) so the bearer credential
 * and the signing key are separate values (domain separation). Lifetime ≤ 60 s, bound to the
 * request's method and path (`htm`/`htu`, as in RFC 9449 DPoP) so a captured header cannot be
 * replayed on another route. Verification recipe: docs/crawling.md.
 */
import type { Principal } from '../../auth/principal';
import { tenantOf } from '../../auth/principal';

export const IDENTITY_ISSUER = 'crawlgate';
export const IDENTITY_AUDIENCE = 'crawlgate-origin';
export const IDENTITY_TYPE = 'crawlgate-identity+jwt';
export const IDENTITY_LIFETIME_SECONDS = 60;
const KEY_LABEL = 'crawlgate-identity-v1';

const keyCache = new Map<string, Promise<Uint8Array>>();
const signingKeys = new Map<string, Promise<CryptoKey>>();

/** HMAC-SHA-256(originSecret, "crawlgate-identity-v1"): the identity signing key. */
export function deriveIdentityKey(originSecret: string): Promise<Uint8Array> {
  let key = keyCache.get(originSecret);
  if (!key) {
    key = (async () => {
      const enc = new TextEncoder();
      const hmacKey = await crypto.subtle.importKey('raw', enc.encode(originSecret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
      return new Uint8Array(await crypto.subtle.sign('HMAC', hmacKey, enc.encode(KEY_LABEL)));
    })();
    keyCache.clear(); // one secret in use at a time; never grow
    keyCache.set(originSecret, key);
  }
  return key;
}

export interface IdentityClaims {
  sub: string;
  kind: Principal['kind'];
  name: string;
  tenant: string;
  scopes: string[];
  request_id: string;
  htm: string;
  htu: string;
}

/** Pure: the claims for a principal and request. */
export function identityClaims(p: Principal, requestId: string, method: string, path: string): IdentityClaims {
  return {
    sub: p.id,
    kind: p.kind,
    name: p.name,
    tenant: tenantOf(p),
    scopes: [...p.permissions].sort(),
    request_id: requestId,
    htm: method,
    htu: path,
  };
}

/** The derived key imported once per isolate as an HS256 CryptoKey (jose would re-import raw bytes on every sign). */
function identitySigningKey(originSecret: string): Promise<CryptoKey> {
  let key = signingKeys.get(originSecret);
  if (!key) {
    key = deriveIdentityKey(originSecret).then((raw) =>
      crypto.subtle.importKey('raw', raw, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']),
    );
    signingKeys.clear();
    signingKeys.set(originSecret, key);
  }
  return key;
}

/** base64url (RFC 4648 §5, no padding) of bytes. */
function base64url(bytes: Uint8Array): string {
  let bin = '';
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

const encoder = new TextEncoder();
/** The protected header never changes: encoded once per isolate. */
const HEADER_SEGMENT = base64url(encoder.encode(JSON.stringify({ alg: 'HS256', typ: IDENTITY_TYPE })));

/**
 * Signs the identity header value; `now` in seconds. A compact JWS built directly (header segment
 * cached, one HMAC with the per-isolate CryptoKey): the same token jose's SignJWT produced, without
 * its per-call object graph and validation (docs/performance.md).
 */
export async function signIdentity(claims: IdentityClaims, originSecret: string, now = Math.floor(Date.now() / 1000)): Promise<string> {
  const key = await identitySigningKey(originSecret);
  const payload = {
    ...claims,
    iss: IDENTITY_ISSUER,
    aud: IDENTITY_AUDIENCE,
    iat: now,
    exp: now + IDENTITY_LIFETIME_SECONDS,
    jti: crypto.randomUUID(),
  };
  const signingInput = `${HEADER_SEGMENT}.${base64url(encoder.encode(JSON.stringify(payload)))}`;
  const signature = new Uint8Array(await crypto.subtle.sign('HMAC', key, encoder.encode(signingInput)));
  return `${signingInput}.${base64url(signature)}`;
}
