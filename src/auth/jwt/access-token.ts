/**
 * Verifies an access token's signature and claims (pure apart from crypto; the clock is passed in).
 * Follows RFC 8725 (JWT BCP) and RFC 9068:
 *  - the key is chosen only by an exact `kid` match among keys already held (§3.1), and that key's
 *    single algorithm is the allow-list handed to jose (no `none`, no HS/RS confusion);
 *  - `jku`/`x5u`/`jwk`/`x5c` headers are refused, nothing is fetched (§3.10);
 *  - `typ` must be `at+jwt` (RFC 9068 §4), so refresh or ID tokens never pass as access tokens (§3.11);
 *  - `exp`, `iat`, `sub`, `jti` are required, `iss`/`aud` checked, `maxTokenAge` bounds the age and
 *    a future `iat` fails, with a small clock tolerance (jose's defaults accept a token without `exp`).
 * Any error jose throws — including plain `TypeError`s for key mix-ups — becomes a named failure.
 */
import { decodeProtectedHeader, errors, jwtVerify, type JWTPayload } from 'jose';
import type { KeyRing } from './keys';
import { ACCESS_TOKEN_TYP, CLOCK_TOLERANCE_S, FORBIDDEN_HEADERS, JWT_AUDIENCE, JWT_ISSUER, type CrawlgateClaims } from './claims';
import { looksLikeRefreshToken } from './refresh-token';

/** Longest access token accepted before any parsing (ours are ~600 bytes). */
export const MAX_ACCESS_TOKEN_LENGTH = 2048;

export type AccessPayload = JWTPayload & CrawlgateClaims & { sub: string; jti: string; iat: number; exp: number };

export type AccessCheck = { ok: true; payload: AccessPayload; kid: string } | { ok: false; expired: boolean; reason: string };

export interface AccessCheckOptions {
  /** Unix ms. */
  now: number;
  /** The configured access-token life (seconds): older tokens fail whatever their `exp` says. */
  maxAgeSeconds: number;
}

const fail = (reason: string, expired = false): AccessCheck => ({ ok: false, expired, reason });

export async function checkAccessToken(token: string, ring: KeyRing, opts: AccessCheckOptions): Promise<AccessCheck> {
  if (token.length > MAX_ACCESS_TOKEN_LENGTH) return fail('oversized');
  if (looksLikeRefreshToken(token)) return fail('refresh_token_as_access');
  let header: ReturnType<typeof decodeProtectedHeader>;
  try {
    header = decodeProtectedHeader(token);
  } catch {
    return fail('malformed');
  }
  // The header is unverified: it only selects among keys we already hold, never fetches.
  for (const h of FORBIDDEN_HEADERS) if (h in header) return fail(`forbidden_header:${h}`);
  if (typeof header.kid !== 'string') return fail('missing_kid');
  const held = ring.verify.get(header.kid);
  if (!held) return fail('unknown_kid');
  if (header.alg !== held.alg) return fail('alg_not_allowed');
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(token, held.verifyKey, {
      algorithms: [held.alg],
      issuer: JWT_ISSUER,
      audience: JWT_AUDIENCE,
      typ: ACCESS_TOKEN_TYP,
      requiredClaims: ['exp', 'iat', 'sub', 'jti'],
      maxTokenAge: opts.maxAgeSeconds,
      clockTolerance: CLOCK_TOLERANCE_S,
      currentDate: new Date(opts.now),
    }));
  } catch (err) {
    if (err instanceof errors.JWTExpired) return fail('expired', true);
    if (err instanceof errors.JOSEError) return fail(`jose:${err.code}`);
    return fail('verify_error');
  }
  const { sub, jti, iat, exp } = payload;
  if (
    typeof sub !== 'string' ||
    sub === '' ||
    typeof jti !== 'string' ||
    jti === '' ||
    typeof iat !== 'number' ||
    typeof exp !== 'number'
  ) {
    return fail('bad_claims');
  }
  if (exp - iat > opts.maxAgeSeconds) return fail('lifetime_too_long');
  if (payload.roles !== undefined && !(Array.isArray(payload.roles) && payload.roles.every((r) => typeof r === 'string')))
    return fail('bad_claims');
  if (payload.scope !== undefined && typeof payload.scope !== 'string') return fail('bad_claims');
  if (payload.sid !== undefined && typeof payload.sid !== 'string') return fail('bad_claims');
  return { ok: true, payload: payload as AccessPayload, kid: held.kid };
}
