/** The OAuth consent page and the dashboard's Connected apps page, as a signed-in user's browser sees them. */
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { call } from '../helpers/http';
import { csrfOf, signedIn, SAME_ORIGIN, type Browser } from '../dashboard/browser';
import { BASE } from '../helpers/test-vars';

const db = (env as unknown as { DB: D1Database }).DB;
const REDIRECT = 'http://127.0.0.1:4000/cb';

async function registerClient(name: string): Promise<string> {
  const res = await call('/oauth/register', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ client_name: name, redirect_uris: [REDIRECT], token_endpoint_auth_method: 'none' }),
  });
  expect(res.status).toBe(201);
  return (await res.json<{ client_id: string }>()).client_id;
}

function authorizePath(clientId: string, scope: string): string {
  const q = new URLSearchParams({
    response_type: 'code',
    client_id: clientId,
    redirect_uri: REDIRECT,
    code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
    code_challenge_method: 'S256',
    state: 'st8',
    scope,
    resource: `${BASE}/mcp`,
  });
  return `/oauth/authorize?${q}`;
}

/** Opens the consent page; returns its handle, CSRF token and the cookies a browser would now send. */
async function openConsent(b: Browser, path: string): Promise<{ html: string; handle: string; csrf: string; cookies: string }> {
  const res = await b.get(path);
  expect(res.status).toBe(200);
  const html = await res.text();
  const bound = (res.headers as unknown as { getSetCookie(): string[] })
    .getSetCookie()
    .map((c) => c.split(';')[0])
    .filter((c) => c?.startsWith('__Host-oauth-'));
  return {
    html,
    handle: /name="handle" value="([^"]+)"/.exec(html)?.[1] ?? '',
    csrf: csrfOf(html),
    cookies: [b.cookie, ...bound].join('; '),
  };
}

describe('GET/POST /oauth/authorize', () => {
  it("shows the client as unverified, escapes its name, and offers only the user's own crawl and job permissions", async () => {
    const b = await signedIn(['user']);
    const clientId = await registerClient('<img src=x onerror=alert(1)>');
    const { html } = await openConsent(b, authorizePath(clientId, 'crawl:run crawl:js'));
    expect(html).not.toContain('<img src=x');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(html).toContain('its name is not verified');
    expect(html).toContain('This sends access to an app on your computer');
    expect(html).toContain('value="crawl:run"');
    expect(html).toContain('value="jobs:read"');
    expect(html).not.toContain('value="crawl:js"'); // the user role does not hold it
    expect(html).not.toContain('value="keys:self"'); // never grantable
  }, 30_000);

  it('reloads once from this origin when a cross-site navigation arrives without the Strict cookie, else asks to sign in', async () => {
    const clientId = await registerClient('reload');
    const cross = await call(authorizePath(clientId, 'crawl:run'), { headers: { 'Sec-Fetch-Site': 'cross-site' } });
    expect(cross.status).toBe(200);
    expect(await cross.text()).toContain('http-equiv="refresh"');
    const same = await call(authorizePath(clientId, 'crawl:run'), { headers: { 'Sec-Fetch-Site': 'same-origin' } });
    expect(await same.text()).toContain('Sign in to authorize an app');
  });

  it('grants only what the user holds, records the grant, and redirects with the code; Deny returns access_denied', async () => {
    const b = await signedIn(['user']);
    const clientId = await registerClient('granted');
    const page = await openConsent(b, authorizePath(clientId, 'crawl:run'));
    // A forged post (no CSRF token) is refused before the handle is spent.
    const forged = await b.post(
      '/oauth/authorize',
      { handle: page.handle, decision: 'approve', scope: 'crawl:run' },
      { ...SAME_ORIGIN, Cookie: page.cookies },
    );
    expect(forged.status).toBe(403);
    const body = new URLSearchParams({ csrf: page.csrf, handle: page.handle, decision: 'approve' });
    body.append('scope', 'crawl:run');
    body.append('scope', 'crawl:js'); // not held: dropped
    body.append('scope', 'keys:self'); // never grantable: dropped
    const res = await call('/oauth/authorize', {
      method: 'POST',
      headers: { ...SAME_ORIGIN, 'Content-Type': 'application/x-www-form-urlencoded', Cookie: page.cookies },
      body: body.toString(),
    });
    expect(res.status).toBe(302);
    const to = new URL(res.headers.get('Location')!);
    expect(`${to.origin}${to.pathname}`).toBe(REDIRECT);
    expect(to.searchParams.get('code')).toBeTruthy();
    expect(to.searchParams.get('state')).toBe('st8');
    const row = await db
      .prepare('SELECT scopes, client_name FROM oauth_grants WHERE client_id = ?1')
      .bind(clientId)
      .first<{ scopes: string; client_name: string }>();
    expect(row).toEqual({ scopes: '["crawl:run"]', client_name: 'granted' });

    const again = await openConsent(b, authorizePath(clientId, 'crawl:run'));
    const denied = await call('/oauth/authorize', {
      method: 'POST',
      headers: { ...SAME_ORIGIN, 'Content-Type': 'application/x-www-form-urlencoded', Cookie: again.cookies },
      body: new URLSearchParams({ csrf: again.csrf, handle: again.handle, decision: 'deny' }).toString(),
    });
    expect(denied.status).toBe(302);
    expect(new URL(denied.headers.get('Location')!).searchParams.get('error')).toBe('access_denied');
  }, 30_000);

  it('signs in on the way only back to the authorization endpoint (no open redirect)', async () => {
    const res = await call('/oauth/authorize/login', {
      method: 'POST',
      headers: { ...SAME_ORIGIN, 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ next: 'https://evil.example/', username: 'x', password: 'y' }).toString(),
    });
    expect(res.status).toBe(400);
    expect(res.headers.get('Location')).toBeNull();
  });
});

describe('/dashboard/grants', () => {
  it("lists the user's connected apps and revokes one (CSRF-checked)", async () => {
    const b = await signedIn(['user']);
    const clientId = await registerClient('dash-app');
    const page = await openConsent(b, authorizePath(clientId, 'crawl:run'));
    const ok = await call('/oauth/authorize', {
      method: 'POST',
      headers: { ...SAME_ORIGIN, 'Content-Type': 'application/x-www-form-urlencoded', Cookie: page.cookies },
      body: new URLSearchParams({ csrf: page.csrf, handle: page.handle, decision: 'approve', scope: 'crawl:run' }).toString(),
    });
    expect(ok.status).toBe(302);
    const list = await (await b.get('/dashboard/grants')).text();
    expect(list).toContain('dash-app');
    const id = /\/dashboard\/grants\/(gr_[0-9a-f]{32})\/revoke/.exec(list)?.[1];
    expect(id).toBeTruthy();
    expect((await b.post(`/dashboard/grants/${id}/revoke`, {})).status).toBe(403);
    const revoked = await b.post(`/dashboard/grants/${id}/revoke`, { csrf: csrfOf(list) });
    expect(revoked.status).toBe(303);
    const row = await db.prepare('SELECT revoked_reason FROM oauth_grants WHERE id = ?1').bind(id).first<{ revoked_reason: string }>();
    expect(row?.revoked_reason).toBe('revoked');
  }, 30_000);
});
