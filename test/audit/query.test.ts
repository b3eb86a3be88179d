import { describe, expect, it, beforeAll } from 'vitest';
import type { AuditRow } from '../../src/audit/types';
import { auditTestApp, callApp, makeEvent, seedEvents, userPrincipal } from '../helpers/audit';

const RUN = crypto.randomUUID().slice(0, 8);
const admin = userPrincipal(`admin-${RUN}`, ['admin']);
const viewer = userPrincipal(`viewer-${RUN}`, ['viewer']);
const user = userPrincipal(`user-${RUN}`, ['user']);
const key = { kind: 'key' as const, id: `key_${RUN}`, name: 'ci-reader', roles: [], permissions: ['audit:read' as const] };
const app = auditTestApp({ 'admin-cred': admin, 'viewer-cred': viewer, 'user-cred': user, 'key-cred': key });

const T0 = Date.UTC(2026, 10, 1, 12, 0, 0);
const alice = `usr_alice_${RUN}`;
const bob = `usr_bob_${RUN}`;

type ListBody = { events: Array<AuditRow & { details: unknown }>; next_cursor: string | null };

async function list(query: string, credential = 'admin-cred') {
  const { res, text } = await callApp(app, `/admin/audit?${query}`, { credential });
  return { res, body: JSON.parse(text) as ListBody };
}

beforeAll(async () => {
  await seedEvents([
    makeEvent({ ts: T0, actor_id: alice, actor_name: `alice-${RUN}`, action: 'login_succeeded', outcome: 'success' }),
    makeEvent({ ts: T0 + 1_000, actor_id: alice, action: 'crawl_requested', outcome: 'success', details: JSON.stringify({ urls: 2 }) }),
    makeEvent({ ts: T0 + 2_000, actor_id: bob, action: 'login_failed', outcome: 'denied', reason: 'bad_password' }),
    makeEvent({ ts: T0 + 3_000, actor_id: alice, action: 'key_created', outcome: 'success' }),
    makeEvent({ ts: T0 + 4_000, actor_id: bob, action: 'permission_denied', outcome: 'denied' }),
    makeEvent({ ts: T0 + 5_000, actor_id: viewer.id, actor_name: viewer.name, action: 'login_succeeded', outcome: 'success' }),
    makeEvent({ ts: T0 + 6_000, actor_id: alice, action: 'logout', outcome: 'success' }),
  ]);
});

describe('GET /admin/audit', () => {
  it('filters by actor id, newest first, with details parsed', async () => {
    const { res, body } = await list(`actor=${alice}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('Content-Type')).toMatch(/application\/json/);
    expect(body.events.map((e) => e.action)).toEqual(['logout', 'key_created', 'crawl_requested', 'login_succeeded']);
    expect(body.events[2]?.details).toEqual({ urls: 2 });
    // A display name is not a filter (names are not unique): 422 (test/audit/actor-filter.test.ts).
    expect((await list(`actor=alice-${RUN}`)).res.status).toBe(422);
  });

  it('filters by action, outcome and time window (ISO and milliseconds)', async () => {
    const denied = await list(`outcome=denied&since=${T0}&until=${T0 + 10_000}`);
    expect(denied.body.events.filter((e) => e.actor_id === bob).map((e) => e.action)).toEqual(['permission_denied', 'login_failed']);
    expect(denied.body.events.every((e) => e.outcome === 'denied')).toBe(true);
    const window = await list(`actor=${alice}&since=${new Date(T0 + 1_000).toISOString()}&until=${new Date(T0 + 6_000).toISOString()}`);
    expect(window.body.events.map((e) => e.action)).toEqual(['key_created', 'crawl_requested']);
    const action = await list(`action=login_failed&actor=${bob}`);
    expect(action.body.events).toHaveLength(1);
    expect(action.body.events[0]).toMatchObject({ reason: 'bad_password', outcome: 'denied' });
  });

  it('pages with an opaque cursor: every row exactly once, in order', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const { body } = await list(`actor=${alice}&limit=3${cursor ? `&cursor=${cursor}` : ''}`);
      seen.push(...body.events.map((e) => e.action));
      cursor = body.next_cursor;
      if (cursor) expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
      pages++;
    } while (cursor && pages < 10);
    expect(pages).toBe(2);
    expect(seen).toEqual(['logout', 'key_created', 'crawl_requested', 'login_succeeded']);
  });

  it('refuses a forged cursor, a bad time and an unknown action with 422 validation_failed', async () => {
    for (const q of ['cursor=bm90LWEtY3Vyc29y', 'since=yesterday', 'action=drop_tables', 'limit=5000']) {
      const { res, body } = await list(q);
      expect(res.status, q).toBe(422);
      expect((body as unknown as { code: string }).code).toBe('validation_failed');
    }
  });

  it('shows a viewer only its own events, whatever actor it asks for', async () => {
    const own = await list('', 'viewer-cred');
    expect(own.res.status).toBe(200);
    expect(own.body.events.length).toBeGreaterThan(0);
    expect(own.body.events.every((e) => e.actor_id === viewer.id)).toBe(true);
    const other = await list(`actor=${alice}`, 'viewer-cred');
    expect(other.body.events).toEqual([]);
  });

  it('treats an API key with the audit:read scope like a viewer: its own events only', async () => {
    await seedEvents([makeEvent({ actor_id: key.id, actor_kind: 'key', action: 'crawl_requested' })]);
    const { body } = await list('', 'key-cred');
    expect(body.events.map((e) => e.actor_id)).toEqual([key.id]);
  });

  it('answers 401 without a credential and 403 insufficient_scope without audit:read', async () => {
    const anon = await callApp(app, '/admin/audit');
    expect(anon.res.status).toBe(401);
    expect(anon.res.headers.get('WWW-Authenticate')).toMatch(/^Bearer/);
    const denied = await callApp(app, '/admin/audit', { credential: 'user-cred' });
    expect(denied.res.status).toBe(403);
    expect(JSON.parse(denied.text).code).toBe('insufficient_scope');
  });
});
