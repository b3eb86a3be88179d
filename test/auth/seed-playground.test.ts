/** The seed's "Accessing Playground with Username/Password" client, unchanged but for the base URL. */
import { describe, expect, it } from 'vitest';
import { call } from '../helpers/http';
import { createUser, loginPair, bearer } from '../helpers/auth';

describe("the seed's playground flow", () => {
  it('logs in with a form post and reaches /playground with the bearer token', async () => {
    const user = await createUser({ roles: ['user'] });
    // requests.post(f"{BASE_URL}/auth/token", data={"username","password","grant_type":"password"})
    const login = await call('/auth/token', {
      method: 'POST',
      body: new URLSearchParams({ username: user.username, password: user.password, grant_type: 'password' }),
    });
    expect(login.status).toBe(200);
    const token = (await login.json<{ access_token: string }>()).access_token;
    // requests.get(f"{BASE_URL}/playground", headers={"Authorization": f"Bearer {token}"})
    const res = await call('/playground', { headers: { Authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('Content-Type')).toContain('text/html');
    const page = await res.text();
    expect(page).toContain(user.username);
    expect(page).not.toMatch(/<script/i);
    const json = await (await call('/playground', { headers: { ...bearer(token), Accept: 'application/json' } })).json<{
      routes: Array<{ path: string; allowed: boolean }>;
    }>();
    expect(json.routes.find((r) => r.path === 'POST /crawl')?.allowed).toBe(true);
    expect(json.routes.find((r) => r.path === 'POST /execute_js')?.allowed).toBe(false);
  });

  it('refuses anonymous callers (401) and roles without playground:access (403)', async () => {
    expect((await call('/playground')).status).toBe(401);
    const viewer = await createUser({ roles: ['viewer'] });
    const { access_token } = await loginPair(viewer.username, viewer.password);
    expect((await call('/playground', { headers: bearer(access_token) })).status).toBe(403);
  });
});
