/** Signs RFC 9068 access tokens with the ring's signing key. */
import { SignJWT } from 'jose';
import type { KeyRing } from './keys';
import { ACCESS_TOKEN_TYP, CLIENT_ID, JWT_AUDIENCE, JWT_ISSUER, type CrawlgateClaims } from './claims';

export interface AccessTokenOptions {
  subject: string;
  claims: CrawlgateClaims;
  ttlSeconds: number;
  /** Unix ms. */
  now: number;
  /**
   * Unix ms before which the subject's tokens are invalid. `iat` is whole seconds, so a token
   * issued in the same second as a password change gets `iat` rounded up past that instant.
   */
  notBeforeMs?: number;
}

export interface IssuedAccessToken {
  token: string;
  jti: string;
  /** Unix seconds. */
  expiresAt: number;
  expiresIn: number;
}

export async function signAccessToken(ring: KeyRing, opts: AccessTokenOptions): Promise<IssuedAccessToken> {
  const iat = Math.max(Math.floor(opts.now / 1000), Math.ceil((opts.notBeforeMs ?? 0) / 1000));
  const exp = iat + opts.ttlSeconds;
  const jti = crypto.randomUUID();
  const token = await new SignJWT({ ...opts.claims, client_id: CLIENT_ID })
    .setProtectedHeader({ alg: ring.signing.alg, kid: ring.signing.kid, typ: ACCESS_TOKEN_TYP })
    .setIssuer(JWT_ISSUER)
    .setAudience(JWT_AUDIENCE)
    .setSubject(opts.subject)
    .setJti(jti)
    .setIssuedAt(iat)
    .setExpirationTime(exp)
    .sign(ring.signing.key);
  return { token, jti, expiresAt: exp, expiresIn: exp - Math.floor(opts.now / 1000) };
}
