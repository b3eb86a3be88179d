/** Transparent refresh: an expired access token in the session is renewed through the refresh token. */
import { describe, expect, it } from 'vitest';
import { call } from '../helpers/http';
import { baseClaims, createUser, loginPair, signHs256 } from '../helpers/auth';
import { TEST_VARS } from '../helpers/test-vars';
import { openSession, sealSession } from '../../src/dashboard/seal';
import { sessionSetCookie } from './browser';

describe('dashboard session refresh', () => {
  it('renews an expired access token, re-seals the cookie, and the spent refresh token is not reused', async () => {
    const user = await createUser({ roles: ['user'] });
    const pair = await loginPair(user.username, user.password);
    const now = Math.floor(Date.now() / 1000);
    const expired = await signHs256(baseClaims(user.id, { iat: now - 3600, exp: now - 1800, roles: ['user'], name: user.username }));
    const sealed = await sealSession(TEST_VARS.JWT_SECRET_KEY, { access: expired, refresh: pair.refresh_token, nonce: 'n1' });
    const res = await call('/dashboard', { headers: { Cookie: `__Host-cg_session=${sealed}` } });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain(user.username);
    const sc = sessionSetCookie(res) ?? '';
    expect(sc).toContain('HttpOnly');
    const renewed = await openSession(TEST_VARS.JWT_SECRET_KEY, sc.split(';')[0]?.split('=')[1]);
    expect(renewed?.refresh).toBeDefined();
    expect(renewed?.refresh).not.toBe(pair.refresh_token);
    expect(renewed?.nonce).toBe('n1');
    // The new cookie works on its own.
    const again = await call('/dashboard', { headers: { Cookie: sc.split(';')[0] ?? '' } });
    expect(again.status).toBe(200);
  });

  it('a session whose refresh is refused goes to the login page and the cookie is cleared', async () => {
    const sealed = await sealSession(TEST_VARS.JWT_SECRET_KEY, { access: 'not-a-token', refresh: 'not-a-refresh-token', nonce: 'n2' });
    const res = await call('/dashboard/keys', { headers: { Cookie: `__Host-cg_session=${sealed}` } });
    expect(res.status).toBe(303);
    expect(res.headers.get('Location')).toBe('/dashboard/login?m=expired');
    expect(sessionSetCookie(res)).toMatch(/Max-Age=0/);
  });

  it('a cookie sealed under another secret does not open', async () => {
    const sealed = await sealSession('some-other-secret-value-that-is-long-enough', { access: 'a', refresh: 'r', nonce: 'n' });
    expect(await openSession(TEST_VARS.JWT_SECRET_KEY, sealed)).toBeNull();
  });
});
