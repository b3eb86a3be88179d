/**
 * Test helpers for users and tokens: create a user straight in D1, log in the way the seed's
 * client does, sign access tokens with the gateway's own keys, and craft hostile tokens.
 */
import { env } from 'cloudflare:workers';
import { SignJWT, type JWTPayload, type JWSHeaderParameters } from 'jose';
import { parseConfig, type Config } from '../../src/config';
import type { Env } from '../../src/env';
import type { Role } from '../../src/auth/rbac';
import { hashPassword } from '../../src/auth/password';
import { hmacKid, keyRing } from '../../src/auth/jwt/keys';
import { signAccessToken } from '../../src/auth/jwt/issue';
import { JWT_AUDIENCE, JWT_ISSUER } from '../../src/auth/jwt/claims';
import { insertUser, getUserByUsername, type UserRecord } from '../../src/users/store';
import { call } from './http';
import { TEST_VARS } from './test-vars';

export const testEnv = env as unknown as Env;

/** The config the worker runs with in tests. */
export function testConfig(): Config {
  const parsed = parseConfig(testEnv as unknown as Record<string, unknown>);
  if (!parsed.ok) throw new Error(`test config invalid: ${JSON.stringify(parsed.problems)}`);
  return parsed.config;
}

let counter = 0;
/** A username unique within the run. */
export function uniqueName(prefix = 'user'): string {
  counter += 1;
  return `${prefix}-${Date.now().toString(36)}-${counter}`;
}

/** Inserts a user with an argon2id (OWASP) hash of `password`. */
export async function createUser(
  opts: { username?: string; password?: string; roles?: Role[]; disabled?: boolean } = {},
): Promise<UserRecord & { password: string }> {
  const username = opts.username ?? uniqueName();
  const password = opts.password ?? `pw-${crypto.randomUUID()}`;
  const user = await insertUser(
    testEnv.DB,
    { username, passwordHash: hashPassword(password), roles: opts.roles ?? ['user'], disabled: opts.disabled ?? false },
    Date.now(),
  );
  if (!user) throw new Error(`could not create ${username}`);
  return { ...user, password };
}

export async function reloadUser(username: string): Promise<UserRecord> {
  const u = await getUserByUsername(testEnv.DB, username);
  if (!u) throw new Error(`no user ${username}`);
  return u;
}

/** The seed's `requests.post(url, data=login_data)`: a form-encoded OAuth2 password grant. */
export function loginForm(username: string, password: string): Promise<Response> {
  return call('/auth/token', {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ username, password, grant_type: 'password' }).toString(),
  });
}

export interface TokenPairBody {
  access_token: string;
  refresh_token: string;
  token_type: string;
  expires_in: number;
  refresh_expires_in: number;
  scope: string;
}

/** Logs in and returns the pair (throws when the login fails). */
export async function loginPair(username: string, password: string): Promise<TokenPairBody> {
  const res = await loginForm(username, password);
  if (res.status !== 200) throw new Error(`login failed: ${res.status} ${await res.text()}`);
  return res.json<TokenPairBody>();
}

/** A valid access token for a user, signed with the gateway's key (no password work). */
export async function accessTokenFor(user: { id: string; username: string; roles: Role[] }): Promise<string> {
  const issued = await signAccessToken(await keyRing(testConfig()), {
    subject: user.id,
    claims: { roles: user.roles, name: user.username },
    ttlSeconds: 900,
    now: Date.now(),
  });
  return issued.token;
}

/** An admin user and a token for it. */
export async function adminToken(): Promise<{ user: UserRecord; token: string }> {
  const user = await createUser({ roles: ['admin'] });
  return { user, token: await accessTokenFor(user) };
}

export const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

/** The kid of the test HS256 secret. */
export const testKid = () => hmacKid(TEST_VARS.JWT_SECRET_KEY);

/** Valid-looking claims for crafting tokens (override any of them). */
export function baseClaims(sub: string, overrides: JWTPayload = {}): JWTPayload {
  const now = Math.floor(Date.now() / 1000);
  return { iss: JWT_ISSUER, aud: JWT_AUDIENCE, sub, jti: crypto.randomUUID(), iat: now, exp: now + 600, ...overrides };
}

/** Signs claims with the test HMAC secret and any header (for hostile-token tests). */
export async function signHs256(
  payload: JWTPayload,
  header: Partial<JWSHeaderParameters> = {},
  secret: string = TEST_VARS.JWT_SECRET_KEY,
): Promise<string> {
  const kid = await testKid();
  return new SignJWT(payload)
    .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid, ...header } as JWSHeaderParameters & { alg: string })
    .sign(new TextEncoder().encode(secret));
}

const b64url = (s: string | Uint8Array) =>
  btoa(typeof s === 'string' ? s : String.fromCharCode(...s))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');

/** Builds a compact JWS by hand with an HMAC-SHA-256 signature over any header (e.g. alg RS256 or none). */
export async function craftJws(
  header: Record<string, unknown>,
  payload: JWTPayload,
  secret: string | null = TEST_VARS.JWT_SECRET_KEY,
): Promise<string> {
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}`;
  if (secret === null) return `${input}.`;
  const key = await crypto.subtle.importKey('raw', new TextEncoder().encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  const sig = new Uint8Array(await crypto.subtle.sign('HMAC', key, new TextEncoder().encode(input)));
  return `${input}.${b64url(sig)}`;
}
