/**
 * No secret in the audit log, with the real login flows: password logins (good and bad, and a
 * password typed into the username field), refresh rotation and reuse, logout, the /token alias
 * with an API key, and a key created and used. Then every stored audit column is scanned.
 */
import { describe, expect, it } from 'vitest';
import { call } from '../helpers/http';
import { callWith, envWith } from '../helpers/app-env';
import { adminToken, bearer, createUser, loginPair } from '../helpers/auth';
import { scanAuditStorage } from '../helpers/audit-scan';
import { waitForAuditRows } from '../helpers/audit';

describe('audit log after real sessions', () => {
  it('holds rows for each decision and no password, key or token', async () => {
    const user = await createUser();
    const secrets: string[] = [user.password];
    const rid = (label: string) => ({ 'X-Request-Id': `scan-${label}-${crypto.randomUUID()}` });

    // a failed login, and a password typed into the username field
    const failHeaders = rid('fail');
    await call('/auth/token', {
      method: 'POST',
      body: new URLSearchParams({ username: user.username, password: 'wrong-password-123' }),
      headers: failHeaders,
    });
    await call('/auth/token', { method: 'POST', body: new URLSearchParams({ username: user.password, password: user.password }) });
    secrets.push('wrong-password-123');

    const pair = await loginPair(user.username, user.password);
    secrets.push(pair.access_token, pair.refresh_token);
    const next = await (await call('/auth/refresh', { method: 'POST', json: { refresh_token: pair.refresh_token } })).json<{
      access_token: string;
      refresh_token: string;
    }>();
    secrets.push(next.access_token, next.refresh_token);
    const reuseHeaders = rid('reuse');
    // Reuse outside any grace window (REFRESH_REUSE_GRACE_SECONDS=0; the window has its own tests).
    await callWith(envWith({ REFRESH_REUSE_GRACE_SECONDS: '0' }), '/auth/refresh', {
      method: 'POST',
      body: JSON.stringify({ refresh_token: pair.refresh_token }),
      headers: { 'Content-Type': 'application/json', ...reuseHeaders },
    });

    const { token: admin } = await adminToken();
    secrets.push(admin);
    const created = await (
      await call('/admin/keys', { method: 'POST', json: { name: 'scan', scopes: ['crawl:run'] }, headers: bearer(admin) })
    ).json<{ key: string }>();
    secrets.push(created.key);
    const alias = await (await call('/token', { method: 'POST', json: { email: 'a@example.com', api_token: created.key } })).json<{
      access_token: string;
    }>();
    secrets.push(alias.access_token);
    const logoutHeaders = { ...bearer(alias.access_token), ...rid('logout') };
    await call('/auth/logout', { method: 'POST', headers: logoutHeaders });

    const failed = await waitForAuditRows(failHeaders['X-Request-Id']);
    expect(failed[0]).toMatchObject({ action: 'login_failed', outcome: 'denied', actor_id: user.id });
    expect((await waitForAuditRows(reuseHeaders['X-Request-Id'])).map((r) => r.action)).toContain('refresh_reuse_detected');
    expect((await waitForAuditRows(logoutHeaders['X-Request-Id'])).map((r) => r.action)).toContain('logout');

    const findings = await scanAuditStorage(secrets);
    expect(findings).toEqual([]);
  });
});
