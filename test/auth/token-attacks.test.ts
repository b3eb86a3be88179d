/**
 * SECURITY.md "Tokens": every hostile token is crafted here and must get 401 with
 * `WWW-Authenticate: Bearer error="invalid_token"` — never a 500, never a fetch.
 */
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { SignJWT, generateKeyPair, exportJWK } from 'jose';
import { call, problem } from '../helpers/http';
import { accessTokenFor, baseClaims, bearer, craftJws, createUser, loginPair, signHs256, testKid } from '../helpers/auth';
import { TEST_VARS } from '../helpers/test-vars';
import type { UserRecord } from '../../src/users/store';

let user: UserRecord & { password: string };
let kid: string;

beforeAll(async () => {
  user = await createUser({ roles: ['admin'] });
  kid = await testKid();
});

afterEach(() => vi.restoreAllMocks());

async function expectInvalidToken(token: string, codes: string[] = ['invalid_token']) {
  const res = await call('/auth/me', { headers: bearer(token) });
  expect(res.status).toBe(401);
  expect(res.headers.get('WWW-Authenticate')).toBe('Bearer error="invalid_token"');
  const body = await problem(res);
  expect(codes).toContain(body.code);
  return body;
}

describe('a valid token works (so the failures below are about the attack)', () => {
  it('accepts a token signed with our key and all required claims', async () => {
    const res = await call('/auth/me', { headers: bearer(await signHs256(baseClaims(user.id))) });
    expect(res.status).toBe(200);
  });
});

describe('algorithm attacks (RFC 8725 §2.1, §3.1)', () => {
  it('alg "none" (unsigned)', async () => {
    await expectInvalidToken(await craftJws({ alg: 'none', typ: 'at+jwt', kid }, baseClaims(user.id), null));
  });
  it('alg "none" with a signature part', async () => {
    await expectInvalidToken(await craftJws({ alg: 'none', typ: 'at+jwt', kid }, baseClaims(user.id)));
  });
  it('another HMAC algorithm (HS512) with the right secret', async () => {
    const token = await new SignJWT(baseClaims(user.id))
      .setProtectedHeader({ alg: 'HS512', typ: 'at+jwt', kid })
      .sign(new TextEncoder().encode(TEST_VARS.JWT_SECRET_KEY));
    await expectInvalidToken(token);
  });
  it('HS/RS confusion: RS256 header, HMAC-signed with the secret', async () => {
    await expectInvalidToken(await craftJws({ alg: 'RS256', typ: 'at+jwt', kid }, baseClaims(user.id)));
  });
  it('HS/RS confusion: RS256 header, HMAC-signed with the secret wrapped as a PEM public key', async () => {
    const pem = `-----BEGIN PUBLIC KEY-----\n${btoa(TEST_VARS.JWT_SECRET_KEY)}\n-----END PUBLIC KEY-----\n`;
    await expectInvalidToken(await craftJws({ alg: 'RS256', typ: 'at+jwt', kid }, baseClaims(user.id), pem));
    await expectInvalidToken(await craftJws({ alg: 'HS256', typ: 'at+jwt', kid }, baseClaims(user.id), pem));
  });
  it('ES256 and EdDSA headers on our HMAC kid', async () => {
    await expectInvalidToken(await craftJws({ alg: 'ES256', typ: 'at+jwt', kid }, baseClaims(user.id)));
    await expectInvalidToken(await craftJws({ alg: 'EdDSA', typ: 'at+jwt', kid }, baseClaims(user.id)));
  });
  it('a token signed with another secret under our kid', async () => {
    await expectInvalidToken(await signHs256(baseClaims(user.id), {}, 'another-secret-4f9a1c7e2b8d0a6c3e5f7b9d1a2c4e6f'));
  });
});

describe('claims (RFC 7519 §4.1, RFC 8725 §3.8-3.10)', () => {
  const now = () => Math.floor(Date.now() / 1000);
  it('no exp', async () => {
    const { exp: _exp, ...claims } = baseClaims(user.id);
    await expectInvalidToken(await signHs256(claims));
  });
  it('no iat, no sub, no jti', async () => {
    for (const drop of ['iat', 'sub', 'jti'] as const) {
      const claims = baseClaims(user.id);
      delete claims[drop];
      await expectInvalidToken(await signHs256(claims));
    }
  });
  it('a future iat (beyond the clock tolerance)', async () => {
    await expectInvalidToken(await signHs256(baseClaims(user.id, { iat: now() + 3600, exp: now() + 4200 })));
  });
  it('an iat older than the access-token life, even with a far exp', async () => {
    await expectInvalidToken(await signHs256(baseClaims(user.id, { iat: now() - 7200, exp: now() + 600 })), [
      'invalid_token',
      'token_expired',
    ]);
  });
  it('an exp further than the configured life after iat', async () => {
    await expectInvalidToken(await signHs256(baseClaims(user.id, { exp: now() + 86_400 })));
  });
  it('expired (token_expired)', async () => {
    await expectInvalidToken(await signHs256(baseClaims(user.id, { iat: now() - 800, exp: now() - 120 })), ['token_expired']);
  });
  it('nbf in the future', async () => {
    await expectInvalidToken(await signHs256(baseClaims(user.id, { nbf: now() + 600 })));
  });
  it('wrong iss, wrong aud, missing aud', async () => {
    await expectInvalidToken(await signHs256(baseClaims(user.id, { iss: 'https://evil.example' })));
    await expectInvalidToken(await signHs256(baseClaims(user.id, { aud: 'some-other-api' })));
    const { aud: _aud, ...noAud } = baseClaims(user.id);
    await expectInvalidToken(await signHs256(noAud));
  });
  it('a sub naming no user', async () => {
    await expectInvalidToken(await signHs256(baseClaims('usr_00000000000000000000000000000000')));
  });
  it('claims of the wrong type (roles as a string)', async () => {
    await expectInvalidToken(await signHs256(baseClaims(user.id, { roles: 'admin' })));
  });
});

describe('token types (RFC 9068 §4, RFC 8725 §3.11)', () => {
  it('the refresh token presented as an access token', async () => {
    const { refresh_token } = await loginPair(user.username, user.password);
    // `cgrt.<family>.<tag>.<secret>` is not a compact JWS, so it is read (and refused) as a bad API key.
    const res = await call('/auth/me', { headers: bearer(refresh_token) });
    expect(res.status).toBe(401);
    expect((await problem(res)).code).toBe('invalid_credentials');
  });
  it('a JWT typed as a refresh token, or with no typ, or typ "JWT"', async () => {
    await expectInvalidToken(await signHs256(baseClaims(user.id), { typ: 'rt+jwt' }));
    await expectInvalidToken(await signHs256(baseClaims(user.id), { typ: 'JWT' }));
    await expectInvalidToken(await craftJws({ alg: 'HS256', kid }, baseClaims(user.id)));
  });
});

describe('tampering', () => {
  it('a changed payload with the original signature', async () => {
    const viewer = await createUser({ roles: ['viewer'] });
    const [h, , s] = (await accessTokenFor(viewer)).split('.');
    const forged = btoa(JSON.stringify(baseClaims(user.id, { roles: ['admin'] })))
      .replace(/\+/g, '-')
      .replace(/\//g, '_')
      .replace(/=+$/, '');
    await expectInvalidToken(`${h}.${forged}.${s}`);
  });
  it('a changed signature, a truncated signature, an empty signature', async () => {
    const token = await accessTokenFor(user);
    const [h, p, s] = token.split('.') as [string, string, string];
    const flipped = s[5] === 'A' ? 'B' : 'A';
    await expectInvalidToken(`${h}.${p}.${s.slice(0, 5)}${flipped}${s.slice(6)}`);
    await expectInvalidToken(`${h}.${p}.${s.slice(0, 10)}`);
    await expectInvalidToken(`${h}.${p}.`);
  });
  it('garbage in the header or payload part', async () => {
    await expectInvalidToken('eyJhbGciOi.eyJzdWIiOiJ4In0.abc');
    await expectInvalidToken(`${btoa('{"alg":"HS256"').replace(/=+$/, '')}.e30.abc`);
    await expectInvalidToken(await craftJws({ alg: 'HS256', typ: 'at+jwt', kid, crit: ['exp'] }, baseClaims(user.id)));
  });
});

describe('key selection headers never fetch or look anything up (RFC 8725 §3.10)', () => {
  const hostileKids = [
    '../../etc/passwd',
    "' OR '1'='1' --",
    'https://evil.example/jwks.json',
    '__proto__',
    'constructor',
    '',
    'x'.repeat(500),
  ];
  it.each(hostileKids)('kid %j', async (hostile) => {
    const fetchSpy = vi.spyOn(globalThis, 'fetch');
    await expectInvalidToken(await signHs256(baseClaims(user.id), { kid: hostile }));
    expect(fetchSpy).not.toHaveBeenCalled();
  });
  it('a kid that is not a string', async () => {
    await expectInvalidToken(await craftJws({ alg: 'HS256', typ: 'at+jwt', kid: { $ne: null } }, baseClaims(user.id)));
    await expectInvalidToken(await craftJws({ alg: 'HS256', typ: 'at+jwt' }, baseClaims(user.id)));
  });
  it.each(['jku', 'x5u'])('a %s header pointing at an attacker URL', async (name) => {
    const fetchSpy = vi.spyOn(globalThis, 'fetch');
    await expectInvalidToken(await signHs256(baseClaims(user.id), { [name]: 'https://evil.example/keys' }));
    expect(fetchSpy).not.toHaveBeenCalled();
  });
  it("an embedded jwk (the attacker's own key), signed with that key", async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
    const jwk = await exportJWK(publicKey);
    const token = await new SignJWT(baseClaims(user.id)).setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', jwk }).sign(privateKey);
    await expectInvalidToken(token);
    const withKid = await new SignJWT(baseClaims(user.id)).setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid, jwk }).sign(privateKey);
    await expectInvalidToken(withKid);
  });
  it('an x5c certificate chain header on an otherwise valid token', async () => {
    await expectInvalidToken(await signHs256(baseClaims(user.id), { x5c: ['MIIB'] }));
  });
});

describe('transport', () => {
  it('an oversized token is refused before any crypto', async () => {
    const big = await signHs256(baseClaims(user.id, { pad: 'x'.repeat(2500) }));
    expect(big.length).toBeGreaterThan(2048);
    await expectInvalidToken(big);
    // Past the 4096-character credential cap the request is refused even before classification.
    const huge = await signHs256(baseClaims(user.id, { pad: 'x'.repeat(5000) }));
    const res = await call('/auth/me', { headers: bearer(huge) });
    expect(res.status).toBe(401);
    expect(res.headers.get('WWW-Authenticate')).toMatch(/^Bearer/);
  });
  it('a token in the query string is refused, even a valid one', async () => {
    const token = await accessTokenFor(user);
    const res = await call(`/auth/me?access_token=${token}`);
    expect(res.status).toBe(400);
    expect((await problem(res)).code).toBe('token_in_query');
  });
  it('never answers 500 to any of a batch of random junk', async () => {
    const junk = ['a.b.c', '..', 'x.y.', `${'A'.repeat(40)}.${'B'.repeat(40)}.${'C'.repeat(40)}`, 'e30.e30.e30', 'bnVsbA.bnVsbA.'];
    for (const j of junk) {
      const res = await call('/auth/me', { headers: bearer(j) });
      expect(res.status).toBe(401);
    }
  });
});
