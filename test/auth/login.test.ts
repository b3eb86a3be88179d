import { describe, expect, it } from 'vitest';
import { env } from 'cloudflare:workers';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { call, problem } from '../helpers/http';
import { bearer, createUser, loginForm, loginPair, reloadUser, uniqueName, type TokenPairBody } from '../helpers/auth';
import { BASE } from '../helpers/test-vars';

// argon2-cffi's README hash of "correct horse battery staple" (the seed's parameters).
const SEED_HASH = '$argon2id$v=19$m=65536,t=3,p=4$MIIRqgvgQbgj220jfp0MPA$YfwJSVjtjSU0zzV/P3S9nnQ/USre2wvJMjfCIjrTQbg';
const SEED_PASSWORD = 'correct horse battery staple';

describe('POST /auth/token (password grant)', () => {
  it("accepts the seed client's form request and returns the OAuth2 token response", async () => {
    const user = await createUser({ roles: ['user'] });
    const res = await loginForm(user.username, user.password);
    expect(res.status).toBe(200);
    expect(res.headers.get('Cache-Control')).toBe('no-store');
    const body = await res.json<TokenPairBody>();
    expect(body.token_type).toBe('bearer');
    expect(body.expires_in).toBe(900);
    expect(body.refresh_expires_in).toBe(604800);
    // cgrt.<family>.<family tag (HMAC, docs/tokens.md)>.<secret>
    expect(body.refresh_token).toMatch(/^cgrt\.[0-9a-f]{32}\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}$/);
    expect(body.scope.split(' ')).toContain('playground:access');
    const header = decodeProtectedHeader(body.access_token);
    expect(header).toMatchObject({ alg: 'HS256', typ: 'at+jwt' });
    const claims = decodeJwt(body.access_token);
    expect(claims).toMatchObject({ iss: 'urn:crawlgate', aud: 'urn:crawlgate:api', sub: user.id, roles: ['user'] });
    expect(typeof claims.jti).toBe('string');
    expect((claims.exp as number) - (claims.iat as number)).toBe(900);

    // "Access playground with token": the seed's next step uses it as a Bearer token.
    const me = await call('/auth/me', { headers: bearer(body.access_token) });
    expect(me.status).toBe(200);
    const who = await me.json<{
      kind: string;
      principal: { id: string; name: string };
      roles: string[];
      permissions: string[];
      limits: { rate_limit: string };
    }>();
    expect(who).toMatchObject({ kind: 'user', principal: { id: user.id, name: user.username }, roles: ['user'] });
    expect(who.permissions).toContain('playground:access');
    expect(who.permissions).not.toContain('users:manage');
    expect(who.limits.rate_limit).toBe('100/minute');
  });

  it("accepts JSON too, and grant_type may be omitted like FastAPI's form", async () => {
    const user = await createUser();
    const json = await call('/auth/token', {
      method: 'POST',
      json: { username: user.username, password: user.password, grant_type: 'password' },
    });
    expect(json.status).toBe(200);
    const noGrant = await call('/auth/token', { method: 'POST', json: { username: user.username, password: user.password } });
    expect(noGrant.status).toBe(200);
  });

  it('a wrong password and an unknown user get the same 401 body', async () => {
    const user = await createUser();
    const wrong = await loginForm(user.username, 'not-the-password');
    const unknown = await loginForm(uniqueName('nobody'), 'not-the-password');
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(wrong.headers.get('WWW-Authenticate')).toBe('Bearer');
    const a = await problem(wrong);
    const b = await problem(unknown);
    expect({ ...a, request_id: '' }).toEqual({ ...b, request_id: '' });
    expect(a).toMatchObject({ code: 'invalid_credentials', detail: 'Incorrect username or password' });
  });

  it('a disabled user cannot log in with the right password', async () => {
    const user = await createUser({ disabled: true });
    const res = await loginForm(user.username, user.password);
    expect(res.status).toBe(401);
    expect((await problem(res)).code).toBe('invalid_credentials');
  });

  it('refuses missing fields (422), other media types (415) and an unknown grant (422)', async () => {
    expect((await call('/auth/token', { method: 'POST', json: { username: 'a' } })).status).toBe(422);
    const text = await call('/auth/token', { method: 'POST', headers: { 'Content-Type': 'text/plain' }, body: 'username=a&password=b' });
    expect(text.status).toBe(415);
    const grant = await call('/auth/token', { method: 'POST', json: { grant_type: 'client_credentials', username: 'a', password: 'b' } });
    expect(grant.status).toBe(422);
    expect((await problem(grant)).code).toBe('validation_failed');
  });

  it('never echoes the password in an error', async () => {
    const res = await call('/auth/token', { method: 'POST', json: { username: 'x'.repeat(80), password: 'hunter2-secret-value' } });
    expect(res.status).toBe(422);
    expect(await res.text()).not.toContain('hunter2-secret-value');
  });
});

describe('bootstrap admin (ADMIN_USERNAME / ADMIN_PASSWORD_HASH)', () => {
  const ctx = () => ({ waitUntil() {}, passThroughOnContext() {}, props: {} }) as unknown as ExecutionContext;
  async function loginWith(vars: Record<string, string>, username: string, password: string) {
    const { app: worker } = await import('../../src/app');
    const req = new Request(`${BASE}/auth/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ username, password, grant_type: 'password' }).toString(),
    });
    return worker.fetch(req, { ...env, ...vars }, ctx());
  }

  it("is created on the first login with the seed's hash and gets the admin role", async () => {
    const username = uniqueName('boot');
    const res = await loginWith({ ADMIN_USERNAME: username, ADMIN_PASSWORD_HASH: SEED_HASH }, username, SEED_PASSWORD);
    expect(res.status).toBe(200);
    const body = await res.json<TokenPairBody>();
    expect(body.scope.split(' ')).toEqual(expect.arrayContaining(['users:manage', 'keys:manage', 'playground:access']));
    const stored = await reloadUser(username);
    expect(stored.roles).toEqual(['admin']);
    expect(stored.passwordHash).toBe(SEED_HASH);
  });

  it('keeps a password changed through the API while the env hash stays the same; a new env hash wins', async () => {
    const username = uniqueName('boot');
    const vars = { ADMIN_USERNAME: username, ADMIN_PASSWORD_HASH: SEED_HASH };
    const first = await loginWith(vars, username, SEED_PASSWORD);
    const { access_token } = await first.json<TokenPairBody>();
    const patch = await call(`/admin/users/${username}`, {
      method: 'PATCH',
      headers: bearer(access_token),
      json: { password: 'changed-through-api' },
    });
    expect(patch.status).toBe(200);
    expect((await loginWith(vars, username, SEED_PASSWORD)).status).toBe(401);
    expect((await loginWith(vars, username, 'changed-through-api')).status).toBe(200);

    // The operator rotates ADMIN_PASSWORD_HASH: the env hash wins again.
    const { hashPassword } = await import('../../src/auth/password');
    const rotated = hashPassword('rotated-in-env');
    expect((await loginWith({ ...vars, ADMIN_PASSWORD_HASH: rotated }, username, 'rotated-in-env')).status).toBe(200);
    expect((await loginWith({ ...vars, ADMIN_PASSWORD_HASH: rotated }, username, 'changed-through-api')).status).toBe(401);
  });
});

describe('GET /auth/me', () => {
  it('needs a credential', async () => {
    const res = await call('/auth/me');
    expect(res.status).toBe(401);
    expect(res.headers.get('WWW-Authenticate')).toMatch(/^Bearer/);
  });

  it("reflects the user's current roles (a role change applies to live tokens)", async () => {
    const user = await createUser({ roles: ['viewer'] });
    const { access_token } = await loginPair(user.username, user.password);
    const before = await (await call('/auth/me', { headers: bearer(access_token) })).json<{ permissions: string[] }>();
    expect(before.permissions.sort()).toEqual(['audit:read', 'jobs:read']);
    await env.DB.prepare('UPDATE users SET roles = ? WHERE id = ?').bind('["operator"]', user.id).run();
    const after = await (await call('/auth/me', { headers: bearer(access_token) })).json<{ permissions: string[] }>();
    expect(after.permissions).toContain('keys:read');
  });
});
