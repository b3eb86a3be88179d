/** Dashboard login, the sealed session cookie, page guards, CSRF and logout. */
import { describe, expect, it } from 'vitest';
import { call } from '../helpers/http';
import { createUser } from '../helpers/auth';
import { Browser, csrfOf, sessionSetCookie } from './browser';

describe('dashboard session', () => {
  it('login sets a __Host- cookie with HttpOnly, Secure, SameSite=Strict, Path=/ and no token in clear', async () => {
    const user = await createUser({ roles: ['user'] });
    const b = new Browser();
    const res = await b.login(user.username, user.password);
    expect(res.status).toBe(303);
    expect(res.headers.get('Location')).toBe('/dashboard');
    const sc = sessionSetCookie(res) ?? '';
    expect(sc).toMatch(/^__Host-cg_session=[A-Za-z0-9_-]+;/);
    expect(sc).toContain('HttpOnly');
    expect(sc).toContain('Secure');
    expect(sc).toContain('SameSite=Strict');
    expect(sc).toContain('Path=/');
    expect(sc).not.toContain('Domain=');
    // Our JWTs start with base64url('{"alg":') = "eyJhbGciOi"; the sealed value must not carry one, nor
    // the username. (Checking for "eyJ" alone failed now and then: random ciphertext contains it ~0.2 % of the time.)
    const value = b.cookie.split('=')[1] ?? '';
    expect(value).not.toContain('eyJhbGciOi');
    expect(
      atob(
        value
          .replace(/-/g, '+')
          .replace(/_/g, '/')
          .padEnd(Math.ceil(value.length / 4) * 4, '='),
      ),
    ).not.toContain(user.username);
    const page = await b.get('/dashboard');
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain(user.username);
    expect(page.headers.get('Content-Security-Policy')).toContain("script-src 'self'");
    expect(html).not.toMatch(/<script>/);
  });

  it('a wrong password shows an error and sets no cookie', async () => {
    const user = await createUser({ roles: ['user'] });
    const b = new Browser();
    const res = await b.login(user.username, 'not-the-password');
    expect(res.status).toBe(400);
    expect(sessionSetCookie(res)).toBeUndefined();
    expect(await res.text()).toContain('Wrong username or password.');
  });

  it('pages need a session: no cookie or a forged one redirects to the login page with a message', async () => {
    for (const path of ['/dashboard', '/dashboard/keys', '/dashboard/users', '/dashboard/audit', '/dashboard/crawl']) {
      const res = await call(path);
      expect(res.status, path).toBe(303);
      expect(res.headers.get('Location')).toBe('/dashboard/login?m=signin');
    }
    const forged = await call('/dashboard', { headers: { Cookie: '__Host-cg_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' } });
    expect(forged.status).toBe(303);
    expect(forged.headers.get('Location')).toBe('/dashboard/login?m=expired');
    const login = await call('/dashboard/login?m=expired');
    expect(await login.text()).toContain('Your session has ended');
  });

  it('refuses a POST with a missing or wrong CSRF token, or from a foreign origin (403)', async () => {
    const user = await createUser({ roles: ['admin'] });
    const b = new Browser();
    await b.login(user.username, user.password);
    const token = await b.csrf('/dashboard/keys');
    const missing = await b.post('/dashboard/keys', { name: 'x', 'scope_crawl:run': '1' });
    expect(missing.status).toBe(403);
    const wrong = await b.post('/dashboard/keys', { name: 'x', 'scope_crawl:run': '1', csrf: token.slice(0, -2) + 'AA' });
    expect(wrong.status).toBe(403);
    const foreign = await b.post(
      '/dashboard/keys',
      { name: 'x', 'scope_crawl:run': '1', csrf: token },
      { Origin: 'https://evil.example', 'Sec-Fetch-Site': 'cross-site' },
    );
    expect(foreign.status).toBe(403);
    const noOrigin = await b.post('/dashboard/keys', { name: 'x', 'scope_crawl:run': '1', csrf: token }, {});
    expect(noOrigin.status).toBe(403);
    // The token of another session is refused too.
    const other = new Browser();
    await other.login(user.username, user.password);
    const stolen = await b.post('/dashboard/keys', { name: 'x', 'scope_crawl:run': '1', csrf: await other.csrf() });
    expect(stolen.status).toBe(403);
    const keys = await (await b.get('/dashboard/keys')).text();
    expect(keys).toContain('No keys yet.');
  });

  it('logout clears the cookie, and the old cookie no longer works', async () => {
    const user = await createUser({ roles: ['user'] });
    const b = new Browser();
    await b.login(user.username, user.password);
    const old = b.cookie;
    const token = await b.csrf();
    const res = await b.post('/dashboard/logout', { csrf: token });
    expect(res.status).toBe(303);
    expect(res.headers.get('Location')).toBe('/dashboard/login?m=out');
    expect(sessionSetCookie(res)).toMatch(/Max-Age=0/);
    expect(b.cookie).toBe('');
    const replay = await call('/dashboard', { headers: { Cookie: old } });
    expect(replay.status).toBe(303);
    expect(replay.headers.get('Location')).toMatch(/^\/dashboard\/login/);
    const login = await call('/dashboard/login?m=out');
    expect(await login.text()).toContain('You have signed out.');
  });
});
