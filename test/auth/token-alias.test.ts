/** POST /token (Crawl4AI alias): an API key → a short-lived access token carrying that key's scopes. */
import { describe, expect, it } from 'vitest';
import { decodeJwt } from 'jose';
import { call, problem } from '../helpers/http';
import { adminToken, bearer, createUser } from '../helpers/auth';

async function newKey(scopes: string[], extra: Record<string, unknown> = {}): Promise<{ id: string; key: string }> {
  const { token } = await adminToken();
  const res = await call('/admin/keys', { method: 'POST', headers: bearer(token), json: { name: 'alias-test', scopes, ...extra } });
  expect(res.status).toBe(201);
  return res.json<{ id: string; key: string }>();
}

describe('POST /token', () => {
  it("exchanges a valid API key for an access token with the key's scopes", async () => {
    const key = await newKey(['crawl', 'screenshot']);
    const res = await call('/token', { method: 'POST', json: { email: 'me@example.com', api_token: key.key } });
    expect(res.status).toBe(200);
    const body = await res.json<{ email: string; access_token: string; token_type: string; scope: string }>();
    expect(body).toMatchObject({ email: 'me@example.com', token_type: 'bearer' });
    expect(body.scope.split(' ').sort()).toEqual(['crawl:run', 'crawl:screenshot']);
    expect(decodeJwt(body.access_token)).toMatchObject({ sub: key.id, cg_src: 'api_key' });
    const me = await call('/auth/me', { headers: bearer(body.access_token) });
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ kind: 'key', principal: { id: key.id }, token: { via_key_id: key.id } });
  });

  it("carries the key's rate limit, concurrency cap and owner, so a token never escapes its key's limits or tenant", async () => {
    const owner = await createUser();
    const key = await newKey(['crawl'], { rate_limit: '7/minute', max_concurrency: 2, owner: owner.username });
    const { access_token } = await (await call('/token', { method: 'POST', json: { api_token: key.key } })).json<{
      access_token: string;
    }>();
    expect(decodeJwt(access_token)).toMatchObject({ rate_limit: '7/minute', max_concurrency: 2, owner: owner.id });
    const me = await (await call('/auth/me', { headers: bearer(access_token) })).json<{
      limits: { rate_limit: string; max_concurrency: number };
    }>();
    expect(me.limits).toEqual({ rate_limit: '7/minute', max_concurrency: 2 });
  });

  it('the derived token stops working when the key is revoked', async () => {
    const key = await newKey(['crawl']);
    const { access_token } = await (await call('/token', { method: 'POST', json: { api_token: key.key } })).json<{
      access_token: string;
    }>();
    const { token } = await adminToken();
    expect((await call(`/admin/keys/${key.id}`, { method: 'DELETE', headers: bearer(token) })).status).toBeLessThan(300);
    const me = await call('/auth/me', { headers: bearer(access_token) });
    expect(me.status).toBe(401);
    expect((await problem(me)).code).toBe('token_revoked');
  });

  it("never outlives its key: exp is capped at the key's expires_at and the token dies at that instant", async () => {
    const expiresAt = Date.now() + 3_000;
    const key = await newKey(['crawl'], { expires_at: new Date(expiresAt).toISOString() });
    const res = await call('/token', { method: 'POST', json: { api_token: key.key } });
    expect(res.status).toBe(200);
    const body = await res.json<{ access_token: string; expires_in: number }>();
    const claims = decodeJwt(body.access_token);
    expect(claims.exp).toBe(Math.floor(expiresAt / 1000));
    expect(claims.key_exp).toBe(Math.floor(expiresAt / 1000));
    expect(body.expires_in).toBeLessThanOrEqual(3);
    expect((await call('/auth/me', { headers: bearer(body.access_token) })).status).toBe(200);
    await new Promise((r) => setTimeout(r, Math.max(0, expiresAt - Date.now()) + 100));
    // Past the key's expiry, inside the 30 s clock tolerance jose would still allow: refused.
    const me = await call('/auth/me', { headers: bearer(body.access_token) });
    expect(me.status).toBe(401);
    expect((await problem(me)).code).toBe('token_expired');
    // And the key itself no longer buys a token.
    expect((await call('/token', { method: 'POST', json: { api_token: key.key } })).status).toBe(401);
  });

  it('a key that expires later than ACCESS_TOKEN_TTL still gets the configured lifetime', async () => {
    const key = await newKey(['crawl'], { expires_at: new Date(Date.now() + 86_400_000).toISOString() });
    const { access_token } = await (await call('/token', { method: 'POST', json: { api_token: key.key } })).json<{
      access_token: string;
    }>();
    const claims = decodeJwt(access_token);
    expect((claims.exp as number) - (claims.iat as number)).toBe(900);
  });

  it('the derived token stops working while its key is disabled', async () => {
    const key = await newKey(['crawl']);
    const { access_token } = await (await call('/token', { method: 'POST', json: { api_token: key.key } })).json<{
      access_token: string;
    }>();
    const { token } = await adminToken();
    expect((await call(`/admin/keys/${key.id}`, { method: 'PATCH', headers: bearer(token), json: { disabled: true } })).status).toBe(200);
    const me = await call('/auth/me', { headers: bearer(access_token) });
    expect(me.status).toBe(401);
    expect((await problem(me)).code).toBe('token_revoked');
  });

  it('refuses an invalid api_token with 401', async () => {
    const res = await call('/token', { method: 'POST', json: { email: 'x@example.com', api_token: 'cg_live_not_a_real_key' } });
    expect(res.status).toBe(401);
    expect((await problem(res)).code).toBe('invalid_credentials');
  });
});
