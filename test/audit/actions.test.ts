import { describe, expect, it } from 'vitest';
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { createRouter } from '../../src/http/openapi';
import { requestId } from '../../src/http/request-id';
import { observe } from '../../src/http/observe';
import { audit } from '../../src/audit/audit';
import type { AuditAction, AuditInput } from '../../src/audit/types';
import { call, problem } from '../helpers/http';
import { BASE } from '../helpers/test-vars';
import { rowsFor, testEnv, waitForAuditRows } from '../helpers/audit';

describe('audit rows from real requests', () => {
  it('a bogus API key is refused with 401 and leaves an auth_failed row with who, when and from where', async () => {
    const before = Date.now();
    const res = await call('/admin/audit', { headers: { 'X-API-Key': 'cg_live_bogusbogusbogusbogusbogus_abc123' }, ip: '198.51.100.23' });
    expect(res.status).toBe(401);
    const id = res.headers.get('X-Request-Id') as string;
    const [row] = await waitForAuditRows(id);
    expect(row).toMatchObject({
      request_id: id,
      action: 'auth_failed',
      outcome: 'denied',
      status: 401,
      actor_kind: 'anonymous',
      ip: '198.51.100.23',
      method: 'GET',
      route: '/admin/audit',
    });
    expect(row?.reason).toMatch(/^[a-z_:]+$/);
    expect(row?.ts).toBeGreaterThanOrEqual(before);
    expect(row?.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(row?.prev_hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('a bogus JWT is refused with 401 invalid_token and leaves an auth_failed row', async () => {
    const jwt = 'eyJhbGciOiJIUzI1NiIsInR5cCI6ImF0K2p3dCJ9.eyJzdWIiOiJtYWxsb3J5IiwiZXhwIjo5OTk5OTk5OTk5fQ.c2lnbmF0dXJlLW5vdC12YWxpZA';
    const res = await call('/admin/audit', { headers: { Authorization: `Bearer ${jwt}` }, ip: '198.51.100.24' });
    expect(res.status).toBe(401);
    expect((await problem(res)).code).toMatch(/^invalid_token|token_/);
    const [row] = await waitForAuditRows(res.headers.get('X-Request-Id') as string);
    expect(row).toMatchObject({ action: 'auth_failed', outcome: 'denied', status: 401, ip: '198.51.100.24' });
  });
});

/** A one-route app that calls `audit()` the way the auth, keys and crawl modules do. */
function emitter(input: AuditInput) {
  const app = createRouter();
  app.use('*', requestId());
  app.use('*', observe());
  app.post('/emit', (c) => {
    audit(c, input);
    return c.body(null, 204);
  });
  return app;
}

async function emit(input: AuditInput) {
  const id = `req-emit-${crypto.randomUUID()}`;
  const ctx = createExecutionContext();
  const res = await emitter(input).fetch(
    new Request(`${BASE}/emit`, { method: 'POST', headers: { 'CF-Connecting-IP': '192.0.2.10', 'X-Request-Id': id } }),
    testEnv,
    ctx,
  );
  await waitOnExecutionContext(ctx);
  expect(res.status).toBe(204);
  return rowsFor(id);
}

const ISSUE_ACTIONS: Array<[AuditAction, AuditInput['outcome'], string | undefined]> = [
  ['login_succeeded', 'success', undefined],
  ['login_failed', 'denied', 'bad_password'],
  ['token_refreshed', 'success', undefined],
  ['refresh_reuse_detected', 'denied', 'reuse'],
  ['logout', 'success', undefined],
  ['key_created', 'success', undefined],
  ['key_rotated', 'success', undefined],
  ['key_revoked', 'success', undefined],
  ['auth_failed', 'denied', 'unknown_key'],
  ['permission_denied', 'denied', 'missing:keys:manage'],
  ['rate_limited', 'denied', 'principal'],
  ['crawl_requested', 'success', undefined],
  ['user_changed', 'success', 'roles'],
];

describe('audit(c, input) through a request', () => {
  it.each(ISSUE_ACTIONS)('stores one %s row with the request id, actor, IP, method and route', async (action, outcome, reason) => {
    const rows = await emit({
      action,
      outcome,
      reason,
      status: 200,
      actor: { id: 'usr_alice', kind: 'user', name: 'alice' },
      details: { key_id: 'key_123' },
    });
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      action,
      outcome,
      reason: reason ?? null,
      status: 200,
      actor_id: 'usr_alice',
      actor_kind: 'user',
      actor_name: 'alice',
      ip: '192.0.2.10',
      method: 'POST',
      route: '/emit',
    });
    expect(JSON.parse(rows[0]?.details ?? 'null')).toEqual({ key_id: 'key_123' });
  });

  it('stores a username with CR/LF and HTML exactly, as data', async () => {
    const name = 'eve\r\n2026-01-01 admin login_succeeded\n<script>alert(1)</script>"; DROP TABLE audit_events;--';
    const rows = await emit({
      action: 'login_failed',
      outcome: 'denied',
      reason: 'unknown_user',
      actor: { id: 'anonymous', kind: 'anonymous', name },
    });
    expect(rows).toHaveLength(1);
    expect(rows[0]?.actor_name).toBe(name);
    const count = await testEnv.DB.prepare('SELECT COUNT(*) AS n FROM audit_events').first<{ n: number }>();
    expect(count?.n).toBeGreaterThan(0);
  });

  it('caps oversized user-supplied strings instead of storing them unbounded', async () => {
    const rows = await emit({
      action: 'login_failed',
      outcome: 'denied',
      actor: { id: 'anonymous', kind: 'anonymous', name: 'x'.repeat(10_000) },
    });
    expect(rows[0]?.actor_name).toHaveLength(256);
  });

  it('chains consecutive rows: each prev_hash is the hash of the row before', async () => {
    const a = await emit({ action: 'logout', outcome: 'success' });
    const b = await emit({ action: 'logout', outcome: 'success' });
    const prev = await testEnv.DB.prepare('SELECT hash FROM audit_events WHERE id = ?')
      .bind((b[0]?.id ?? 0) - 1)
      .first<{ hash: string }>();
    expect(b[0]?.id).toBeGreaterThan(a[0]?.id ?? Infinity);
    expect(b[0]?.prev_hash).toBe(prev?.hash);
  });
});
