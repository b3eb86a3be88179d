/**
 * The session survives what browsers do (issue 26): an export after the access token's lifetime
 * carries the refreshed cookie, and two tabs refreshing with one cookie at once stay signed in —
 * neither case raises a refresh-reuse alarm or revokes the family.
 */
import { describe, expect, it } from 'vitest';
import { env } from 'cloudflare:workers';
import { baseClaims, signHs256 } from '../helpers/auth';
import { TEST_VARS } from '../helpers/test-vars';
import { openSession, sealSession } from '../../src/dashboard/seal';
import { csrfOf, sessionSetCookie, signedIn, type Browser } from './browser';
import type { Env } from '../../src/env';

const DB = (env as unknown as Env).DB;

/** Replaces the access token inside the browser's session cookie with an expired one (same user, same refresh token). */
async function expireAccessToken(b: Browser): Promise<{ userId: string; refresh: string }> {
  const data = await openSession(TEST_VARS.JWT_SECRET_KEY, b.cookie.split('=').slice(1).join('='));
  if (!data) throw new Error('no session');
  const claims = JSON.parse(atob((data.access.split('.')[1] as string).replace(/-/g, '+').replace(/_/g, '/'))) as {
    sub: string;
    roles: string[];
    name: string;
  };
  const now = Math.floor(Date.now() / 1000);
  const expired = await signHs256(baseClaims(claims.sub, { iat: now - 3600, exp: now - 1800, roles: claims.roles, name: claims.name }));
  b.cookie = `__Host-cg_session=${await sealSession(TEST_VARS.JWT_SECRET_KEY, { ...data, access: expired })}`;
  return { userId: claims.sub, refresh: data.refresh };
}

async function reuseAlarms(userId: string): Promise<number> {
  const row = await DB.prepare("SELECT COUNT(*) AS n FROM audit_events WHERE action = 'refresh_reuse_detected' AND actor_id = ?")
    .bind(userId)
    .first<{ n: number }>();
  return row?.n ?? 0;
}

async function expectSignedIn(b: Browser): Promise<void> {
  const res = await b.get('/dashboard');
  expect(res.status).toBe(200);
  await res.text();
}

describe('dashboard session across exports and tabs', () => {
  it('an audit export after the access token expired sets the refreshed cookie; the next page stays signed in', async () => {
    const b = await signedIn(['operator']);
    const { userId, refresh } = await expireAccessToken(b);
    const res = await b.get('/dashboard/audit/export?format=ndjson');
    expect(res.status).toBe(200);
    await res.text();
    const sc = sessionSetCookie(res);
    expect(sc).toMatch(/HttpOnly; Secure; SameSite=Strict/);
    expect((await openSession(TEST_VARS.JWT_SECRET_KEY, sc?.split(';')[0]?.split('=').slice(1).join('=')))?.refresh).not.toBe(refresh);
    await expectSignedIn(b);
    await expectSignedIn(b);
    expect(await reuseAlarms(userId)).toBe(0);
  });

  it('a job export after the access token expired does the same', async () => {
    const b = await signedIn(['user']);
    const csrf = csrfOf(await (await b.get('/dashboard/jobs')).text());
    const submitted = await b.post('/dashboard/jobs', { csrf, urls: 'https://example.com/keep-1\n', priority: 'normal', engine: '' });
    const id = /job_[0-9a-f]{24}/.exec(submitted.headers.get('Location') ?? '')?.[0];
    expect(id).toBeDefined();
    const { userId } = await expireAccessToken(b);
    const res = await b.get(`/dashboard/jobs/${id}/export?format=json`);
    expect(res.status).toBe(200);
    await res.text();
    expect(sessionSetCookie(res)).toBeDefined();
    await expectSignedIn(b);
    expect(await reuseAlarms(userId)).toBe(0);
  });

  it('two tabs whose access token expired load pages at once: both render, the user stays signed in', async () => {
    const b = await signedIn(['user']);
    const { userId } = await expireAccessToken(b);
    const cookie = b.cookie;
    const tab = (path: string) => b.get(path, { Cookie: cookie });
    const [one, two] = await Promise.all([tab('/dashboard'), tab('/dashboard/jobs')]);
    expect([one.status, two.status]).toEqual([200, 200]);
    await Promise.all([one.text(), two.text()]);
    expect(sessionSetCookie(one)).toBeDefined();
    expect(sessionSetCookie(two)).toBeDefined();
    // The browser keeps whichever cookie arrived last: either one refreshes again later.
    for (const res of [one, two]) {
      b.cookie = (sessionSetCookie(res) as string).split(';')[0] as string;
      await expireAccessToken(b);
      await expectSignedIn(b);
    }
    expect(await reuseAlarms(userId)).toBe(0);
  });
});
