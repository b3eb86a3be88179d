/**
 * Audit actors are filtered and shown by id (issue 26): a key *named* like a user is a different
 * actor; `actor=` takes ids only (a name is a 422), `actor_kind=` narrows by kind; exports and the
 * dashboard show kind + id with the name as a label.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { AuditRow } from '../../src/audit/types';
import { auditTestApp, callApp, makeEvent, seedEvents, userPrincipal } from '../helpers/audit';
import { signedIn } from '../dashboard/browser';

const RUN = crypto.randomUUID().slice(0, 8);
const admin = userPrincipal(`admin-${RUN}`, ['admin']);
const app = auditTestApp({ 'admin-cred': admin });

// The user "boss-<RUN>" and a key someone *named* "boss-<RUN>".
const NAME = `boss-${RUN}`;
const userId = `usr_boss_${RUN}`;
const keyId = `key_boss${RUN}`;
const T0 = Date.UTC(2026, 10, 2, 12, 0, 0);

type ListBody = { events: Array<AuditRow & { details: unknown }>; next_cursor: string | null };

async function list(query: string): Promise<{ status: number; body: ListBody }> {
  const { res, text } = await callApp(app, `/admin/audit?${query}`, { credential: 'admin-cred' });
  return { status: res.status, body: JSON.parse(text) as ListBody };
}

beforeAll(async () => {
  await seedEvents([
    makeEvent({ ts: T0, actor_id: userId, actor_kind: 'user', actor_name: NAME, action: 'login_succeeded', outcome: 'success' }),
    makeEvent({ ts: T0 + 1_000, actor_id: keyId, actor_kind: 'key', actor_name: NAME, action: 'crawl_requested', outcome: 'success' }),
    makeEvent({ ts: T0 + 2_000, actor_id: userId, actor_kind: 'user', actor_name: NAME, action: 'logout', outcome: 'success' }),
  ]);
});

describe('GET /admin/audit?actor=', () => {
  it('matches the actor id only: the user and the key with the same name are told apart', async () => {
    const byUser = await list(`actor=${userId}`);
    expect(byUser.status).toBe(200);
    expect(byUser.body.events.map((e) => [e.actor_kind, e.actor_id, e.actor_name, e.action])).toEqual([
      ['user', userId, NAME, 'logout'],
      ['user', userId, NAME, 'login_succeeded'],
    ]);
    const byKey = await list(`actor=${keyId}`);
    expect(byKey.body.events.map((e) => [e.actor_kind, e.actor_id, e.action])).toEqual([['key', keyId, 'crawl_requested']]);
  });

  it('refuses a name (or anything that is not an actor id) with 422 naming the field', async () => {
    for (const actor of [NAME, 'admin', `user:${NAME}`, 'usr_', ' usr_x']) {
      const { res, text } = await callApp(app, `/admin/audit?actor=${encodeURIComponent(actor)}`, { credential: 'admin-cred' });
      expect(res.status, actor).toBe(422);
      const p = JSON.parse(text) as { code: string; detail: string };
      expect(p.code).toBe('validation_failed');
      expect(p.detail).toContain('actor');
    }
    const { res } = await callApp(app, `/admin/audit/export?format=csv&actor=${NAME}`, { credential: 'admin-cred' });
    expect(res.status).toBe(422);
  });

  it('accepts every recorded id form and filters by actor_kind', async () => {
    for (const actor of [userId, keyId, 'seed_key1', 'anonymous']) expect((await list(`actor=${actor}`)).status, actor).toBe(200);
    const keys = await list(`actor_kind=key&since=${T0}&until=${T0 + 10_000}`);
    expect(keys.body.events.map((e) => e.actor_id)).toContain(keyId);
    expect(keys.body.events.every((e) => e.actor_kind === 'key')).toBe(true);
  });

  it('exports kind, id and name in CSV and NDJSON', async () => {
    const csv = await callApp(app, `/admin/audit/export?format=csv&actor=${keyId}`, { credential: 'admin-cred' });
    const [header, row] = csv.text.split('\r\n');
    const cols = header!.split(',');
    const cells = row!.split(',');
    expect(cells[cols.indexOf('actor_id')]).toBe(keyId);
    expect(cells[cols.indexOf('actor_kind')]).toBe('key');
    expect(cells[cols.indexOf('actor_name')]).toBe(NAME);
    const nd = await callApp(app, `/admin/audit/export?format=ndjson&actor=${userId}`, { credential: 'admin-cred' });
    const lines = nd.text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as AuditRow);
    expect(lines.map((l) => [l.actor_kind, l.actor_id, l.actor_name])).toEqual([
      ['user', userId, NAME],
      ['user', userId, NAME],
    ]);
  });
});

describe('/dashboard/audit', () => {
  it('shows kind + id (linked to its filter) + name, and filters by id', async () => {
    const b = await signedIn(['admin']);
    const html = await (await b.get(`/dashboard/audit?actor=${keyId}`)).text();
    expect(html).toContain(`key <a href="/dashboard/audit?actor=${keyId}"><code>${keyId}</code></a> (${NAME})`);
    expect(html).not.toContain(userId);
    const both = await (await b.get(`/dashboard/audit?since=${T0}&until=${T0 + 10_000}`)).text();
    expect(both).toContain(`<code>${userId}</code>`);
    expect(both).toContain(`<code>${keyId}</code>`);
    const byName = await b.get(`/dashboard/audit?actor=${NAME}`);
    const text = await byName.text();
    expect(text).toContain('must be an actor id');
    expect(text).not.toContain(`<code>${keyId}</code>`);
  });
});
