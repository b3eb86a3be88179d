import { describe, expect, it } from 'vitest';
import { call } from '../helpers/http';
import { makeEvent, seedEvents, testEnv, waitForAuditRows } from '../helpers/audit';
import { scanAuditStorage } from '../helpers/audit-scan';
import { ADMIN_KEY, createKey, send, validate, type IssuedKeyBody } from '../keys/helpers';

/** Real-looking credentials (random per run); none of them may reach the audit log. */
const rand = () => crypto.randomUUID().replace(/-/g, '');
const SECRETS = {
  apiKey: `cg_live_${rand()}${rand()}_k3Xq9`,
  seedKey: `sk-prod-${rand()}`,
  jwt: `eyJhbGciOiJIUzI1NiIsInR5cCI6ImF0K2p3dCJ9.${btoa(JSON.stringify({ sub: 'alice', jti: rand(), exp: 4_000_000_000 })).replace(/=+$/, '')}.${rand()}${rand()}`,
  refresh: `${rand()}${rand()}`,
  password: `Tr0ub4dor&3-${rand().slice(0, 12)}`,
};

describe('no secret in the audit log', () => {
  it('requests carrying keys, tokens and a password leave rows, and no column holds any of them or "Bearer "', async () => {
    const requests: Array<[string, RequestInit]> = [
      ['/admin/audit', { headers: { Authorization: `Bearer ${SECRETS.apiKey}` } }],
      ['/admin/audit', { headers: { 'X-API-Key': SECRETS.seedKey } }],
      ['/admin/audit', { headers: { Authorization: `Bearer ${SECRETS.jwt}` } }],
      ['/admin/audit/export', { headers: { Authorization: `Bearer ${SECRETS.refresh}` } }],
      [
        '/admin/audit',
        {
          method: 'POST',
          headers: { 'X-API-Key': SECRETS.apiKey, 'Content-Type': 'application/json' },
          body: JSON.stringify({ username: 'alice', password: SECRETS.password, refresh_token: SECRETS.refresh }),
        },
      ],
      ['/admin/audit', { headers: { Authorization: `Basic ${btoa(`alice:${SECRETS.password}`)}` } }],
    ];
    // One address per request: repeated identical failures from one address are folded into one row per 10 s.
    for (const [i, [path, init]] of requests.entries()) {
      const res = await call(path, { ...init, ip: `203.0.113.${90 + i}` });
      expect(res.status, path).toBe(401);
      const rows = await waitForAuditRows(res.headers.get('X-Request-Id') as string);
      expect(rows[0]?.action).toBe('auth_failed');
    }
    expect(await scanAuditStorage(Object.values(SECRETS))).toEqual([]);
  });

  it('the API-key lifecycle (create, use, rotate, revoke, use revoked) leaves rows but no key', async () => {
    const created = await createKey({ name: 'audit <b>scan</b> key', scopes: ['crawl:run'] });
    expect((await validate(created.key)).status).toBe(200);
    const rotated = (await (await send(`/admin/keys/${created.id}/rotate`, { key: ADMIN_KEY, json: {} })).json()) as IssuedKeyBody;
    expect(rotated.key).toMatch(/^cg_/);
    expect((await send(`/admin/keys/${rotated.id}`, { method: 'DELETE', key: ADMIN_KEY })).status).toBe(200);
    expect((await validate(rotated.key, 'x-api-key')).status).toBe(401);
    expect((await validate(created.key)).status).toBe(401);
    const actions = (await testEnv.DB.prepare('SELECT action FROM audit_events ORDER BY id').all<{ action: string }>()).results.map(
      (r) => r.action,
    );
    expect(actions).toEqual(expect.arrayContaining(['key_created', 'key_validated', 'key_rotated', 'key_revoked', 'auth_failed']));
    expect(await scanAuditStorage([ADMIN_KEY, created.key, rotated.key, ...Object.values(SECRETS)])).toEqual([]);
  });

  it('the scan itself finds a planted secret (so an empty result means something)', async () => {
    const planted = `cg_live_${rand()}`;
    await seedEvents([makeEvent({ reason: `leak ${planted}`, details: JSON.stringify({ header: 'Bearer x' }) })]);
    const findings = await scanAuditStorage([planted]);
    expect(findings.map((f) => f.column).sort()).toEqual(['details', 'reason']);
  });
});
