/**
 * Sessions over HTTP: refresh rotation, reuse detection (RFC 9700 §4.14.2), concurrent refresh,
 * logout, password change and disable, /admin/users, the Crawl4AI /token alias, JWKS, and the
 * login rate limit — with the real auth routes, RefreshFamily objects, KV and D1.
 */
import { describe, expect, it } from 'vitest';
import { call, problem } from '../helpers/http';
import { adminToken, bearer, createUser, loginPair, type TokenPairBody } from '../helpers/auth';
import { waitForAuditRows } from '../helpers/audit';
import { callWith, envWith } from '../helpers/app-env';

function refresh(token: string, requestId?: string): Promise<Response> {
  return call('/auth/refresh', { method: 'POST', json: { refresh_token: token }, headers: requestId ? { 'X-Request-Id': requestId } : {} });
}

describe('refresh tokens', () => {
  it('rotate on every use: the new pair works, the spent refresh token does not', async () => {
    const user = await createUser();
    const first = await loginPair(user.username, user.password);
    const res = await refresh(first.refresh_token);
    expect(res.status).toBe(200);
    const second = await res.json<TokenPairBody>();
    expect(second.refresh_token).not.toBe(first.refresh_token);
    expect(second.access_token).not.toBe(first.access_token);
    expect((await call('/auth/me', { headers: bearer(second.access_token) })).status).toBe(200);
    expect((await refresh(second.refresh_token)).status).toBe(200);
  });

  it('also work through POST /auth/token with grant_type=refresh_token (form)', async () => {
    const user = await createUser();
    const pair = await loginPair(user.username, user.password);
    const res = await call('/auth/token', {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: pair.refresh_token }),
    });
    expect(res.status).toBe(200);
    expect((await res.json<TokenPairBody>()).token_type).toBe('bearer');
  });

  // With REFRESH_REUSE_GRACE_SECONDS=0 (no grace window; test/auth/refresh-hardening.test.ts covers the window).
  const noGrace = envWith({ REFRESH_REUSE_GRACE_SECONDS: '0' });
  const refreshNoGrace = (token: string, requestId?: string) =>
    callWith(noGrace, '/auth/refresh', {
      method: 'POST',
      body: JSON.stringify({ refresh_token: token }),
      headers: { 'Content-Type': 'application/json', ...(requestId ? { 'X-Request-Id': requestId } : {}) },
    });

  it('reuse of a spent token revokes the whole family and writes refresh_reuse_detected', async () => {
    const user = await createUser();
    const first = await loginPair(user.username, user.password);
    const second = await (await refreshNoGrace(first.refresh_token)).json<TokenPairBody>();
    const rid = `reuse-${crypto.randomUUID()}`;
    const reuse = await refreshNoGrace(first.refresh_token, rid);
    expect(reuse.status).toBe(401);
    expect((await problem(reuse)).code).toBe('invalid_token');
    // the legitimate holder's newer token is dead too: the family is revoked
    expect((await refreshNoGrace(second.refresh_token)).status).toBe(401);
    const rows = await waitForAuditRows(rid);
    expect(rows.map((r) => r.action)).toContain('refresh_reuse_detected');
    expect(rows.find((r) => r.action === 'refresh_reuse_detected')?.actor_id).toBe(user.id);
  });

  it('two concurrent refreshes with one token: exactly one succeeds', async () => {
    const user = await createUser();
    const pair = await loginPair(user.username, user.password);
    const results = await Promise.all(Array.from({ length: 5 }, () => refreshNoGrace(pair.refresh_token)));
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    expect(results.filter((r) => r.status === 401)).toHaveLength(4);
  });

  it('a refresh token is not an access token, and an access token is not a refresh token', async () => {
    const user = await createUser();
    const pair = await loginPair(user.username, user.password);
    expect((await call('/auth/me', { headers: bearer(pair.refresh_token) })).status).toBe(401);
    // an access token does not even have a refresh token's shape: refused at validation
    expect([401, 422]).toContain((await refresh(pair.access_token)).status);
  });
});

describe('POST /auth/logout', () => {
  it('revokes the access token at once and ends the refresh family', async () => {
    const user = await createUser();
    const pair = await loginPair(user.username, user.password);
    const out = await call('/auth/logout', { method: 'POST', headers: bearer(pair.access_token) });
    expect(out.status).toBe(204);
    const after = await call('/auth/me', { headers: bearer(pair.access_token) });
    expect(after.status).toBe(401);
    expect(after.headers.get('WWW-Authenticate')).toContain('invalid_token');
    expect((await refresh(pair.refresh_token)).status).toBe(401);
  });
});

describe('password change and disable invalidate live tokens', () => {
  it('a password reset by an admin ends every token the user holds; the new password logs in', async () => {
    const { token: admin } = await adminToken();
    const user = await createUser();
    const pair = await loginPair(user.username, user.password);
    const patch = await call(`/admin/users/${user.username}`, {
      method: 'PATCH',
      json: { password: 'a brand new passphrase 42' },
      headers: bearer(admin),
    });
    expect(patch.status).toBe(200);
    expect((await call('/auth/me', { headers: bearer(pair.access_token) })).status).toBe(401);
    expect((await refresh(pair.refresh_token)).status).toBe(401);
    expect((await loginPair(user.username, 'a brand new passphrase 42')).access_token).toBeTruthy();
  });

  it('disabling a user ends their tokens and their logins', async () => {
    const { token: admin } = await adminToken();
    const user = await createUser();
    const pair = await loginPair(user.username, user.password);
    expect(
      (await call(`/admin/users/${user.username}`, { method: 'PATCH', json: { disabled: true }, headers: bearer(admin) })).status,
    ).toBe(200);
    expect((await call('/auth/me', { headers: bearer(pair.access_token) })).status).toBe(401);
    const login = await call('/auth/token', {
      method: 'POST',
      body: new URLSearchParams({ username: user.username, password: user.password }),
    });
    expect(login.status).toBe(401);
  });
});

describe('/admin/users', () => {
  it('lets an admin create, read, list, change roles of and delete a user; never returns a hash', async () => {
    const { token: admin } = await adminToken();
    const username = `ops-${crypto.randomUUID().slice(0, 8)}`;
    const created = await call('/admin/users', {
      method: 'POST',
      json: { username, password: 'operator passphrase 1', roles: ['operator'] },
      headers: bearer(admin),
    });
    expect(created.status).toBe(201);
    const body = await created.text();
    expect(body).not.toContain('argon2');
    expect(JSON.parse(body)).toMatchObject({ username, roles: ['operator'], disabled: false });
    expect((await call(`/admin/users/${username}`, { headers: bearer(admin) })).status).toBe(200);
    const list = await (await call('/admin/users?limit=200', { headers: bearer(admin) })).json<{ users: Array<{ username: string }> }>();
    expect(list.users.map((u) => u.username)).toContain(username);
    const changed = await call(`/admin/users/${username}`, { method: 'PATCH', json: { roles: ['viewer'] }, headers: bearer(admin) });
    expect((await changed.json<{ roles: string[] }>()).roles).toEqual(['viewer']);
    expect(
      (await call('/admin/users', { method: 'POST', json: { username, password: 'operator passphrase 1' }, headers: bearer(admin) }))
        .status,
    ).toBe(409);
    expect((await call(`/admin/users/${username}`, { method: 'DELETE', headers: bearer(admin) })).status).toBeLessThan(300);
    expect((await call(`/admin/users/${username}`, { headers: bearer(admin) })).status).toBe(404);
  });

  it('refuses a user without users:manage (403 naming it)', async () => {
    const user = await createUser({ roles: ['operator'] });
    const pair = await loginPair(user.username, user.password);
    const res = await call('/admin/users', { headers: bearer(pair.access_token) });
    expect(res.status).toBe(403);
    expect((await problem(res)).detail).toContain('users:manage');
  });
});

describe('POST /token (Crawl4AI alias)', () => {
  it("exchanges a valid API key for an access token carrying the key's scopes", async () => {
    const { token: admin } = await adminToken();
    const created = await call('/admin/keys', {
      method: 'POST',
      json: { name: 'crawl4ai client', scopes: ['crawl:run'] },
      headers: bearer(admin),
    });
    expect(created.status).toBe(201);
    const { key } = await created.json<{ key: string }>();
    const res = await call('/token', { method: 'POST', json: { email: 'dev@example.com', api_token: key } });
    expect(res.status).toBe(200);
    const body = await res.json<{ access_token: string; token_type: string; scope: string }>();
    expect(body.token_type).toBe('bearer');
    expect(body.scope).toBe('crawl:run');
    const me = await (await call('/auth/me', { headers: bearer(body.access_token) })).json<{ permissions: string[] }>();
    expect(me.permissions).toEqual(['crawl:run']);
  });

  it('refuses an unknown key with 401', async () => {
    const res = await call('/token', {
      method: 'POST',
      json: { email: 'x@example.com', api_token: 'cg_live_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAA_000000' },
    });
    expect(res.status).toBe(401);
  });
});

describe('GET /.well-known/jwks.json', () => {
  it('publishes no key for HS256 (a shared secret is never published)', async () => {
    const res = await call('/.well-known/jwks.json');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ keys: [] });
  });
});

describe('login rate limit (per username, across addresses)', () => {
  it('answers 429 with Retry-After once the username has used its attempts', async () => {
    const user = await createUser();
    const e = envWith({ LOGIN_RATE_LIMIT: '3/minute' });
    const statuses: number[] = [];
    let last: Response | undefined;
    for (let i = 0; i < 5; i++) {
      last = await callWith(e, '/auth/token', {
        method: 'POST',
        body: new URLSearchParams({ username: user.username, password: `wrong-${i}` }),
        headers: { 'CF-Connecting-IP': `198.51.100.${10 + i}` },
      });
      statuses.push(last.status);
    }
    expect(statuses.slice(0, 3)).toEqual([401, 401, 401]);
    expect(statuses.slice(3)).toEqual([429, 429]);
    expect(Number(last?.headers.get('Retry-After'))).toBeGreaterThan(0);
  });
});
