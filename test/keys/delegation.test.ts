/**
 * Delegated key management without escalation (issue 17): a non-admin holder of keys:manage grants
 * only what it holds and touches only its own keys; every refused attempt answers 403/404 and leaves
 * D1 `api_keys` and the KV revocation markers exactly as they were.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_KEY, createKey, keysEnv, send, type IssuedKeyBody } from './helpers';
import { accessTokenFor, createUser } from '../helpers/auth';

const DAY = 86_400_000;

/** Everything key-related that a refused request must not change. */
async function keyState(): Promise<string> {
  const { results } = await keysEnv.DB.prepare(
    'SELECT id, digest, name, scopes, rate_limit, max_concurrency, owner, status, expires_at, revoked_at, rotated_to, grace_until FROM api_keys ORDER BY id',
  ).all();
  const markers = await keysEnv.REVOCATIONS.list({ prefix: 'revoked:key:' });
  return JSON.stringify({ rows: results, markers: markers.keys.map((k) => k.name).sort() });
}

async function expectRefusedWithoutWrites(status: number, req: () => Promise<Response>): Promise<Record<string, unknown>> {
  const before = await keyState();
  const res = await req();
  const body = await res.json<Record<string, unknown>>();
  expect(res.status, JSON.stringify(body)).toBe(status);
  expect(res.headers.get('Content-Type')).toContain('application/problem+json');
  expect(await keyState()).toBe(before);
  return body;
}

describe('non-admin keys:manage on /admin/keys', () => {
  let manager: IssuedKeyBody; // owner mallory, keys:manage, 600/minute, 2 in flight, expires in 2 days
  let victim: IssuedKeyBody; // owner bob
  let stronger: IssuedKeyBody; // owner mallory, but with crawl:js
  // Owners are users, stored by immutable id (docs/storage.md "Tenants").
  let mallory: { id: string; username: string };
  let bob: { id: string; username: string };
  const managerExpiry = Date.now() + 2 * DAY;

  beforeAll(async () => {
    mallory = await createUser({ roles: ['user'] });
    bob = await createUser({ roles: ['user'] });
    manager = await createKey({
      name: 'mallory manager',
      owner: mallory.username,
      scopes: ['keys:manage', 'keys:read', 'crawl:run'],
      rate_limit: '600/minute',
      max_concurrency: 2,
      expires_at: new Date(managerExpiry).toISOString(),
    });
    victim = await createKey({ name: 'bob crawler', owner: bob.username, scopes: ['crawl:run', 'jobs:read'] });
    stronger = await createKey({ name: 'mallory js', owner: mallory.username, scopes: ['crawl:js'] });
  });

  const create = (json: Record<string, unknown>) => () =>
    send('/admin/keys', { key: manager.key, json: { name: 'minted', scopes: ['crawl:run'], ...json } });

  it('cannot grant a permission it does not hold: 403 insufficient_scope naming it, nothing stored', async () => {
    for (const scopes of [['users:manage'], ['crawl:js'], ['crawl:run', 'jobs:write'], ['crawl:*']]) {
      const body = await expectRefusedWithoutWrites(403, create({ scopes }));
      expect(body.code).toBe('insufficient_scope');
      expect(body.errors).toEqual([expect.objectContaining({ path: 'scopes' })]);
    }
  });

  it('cannot mint a key for another owner', async () => {
    const body = await expectRefusedWithoutWrites(403, create({ owner: bob.username }));
    expect(body.detail).toMatch(/keys you own/);
  });

  it('cannot grant looser limits: a faster rate, a bigger burst, more in flight, a later expiry', async () => {
    for (const extra of [
      { rate_limit: '601/minute' },
      { rate_limit: '11/second' },
      { rate_limit: '600/minute;burst=601' },
      { max_concurrency: 3 },
      { expires_at: new Date(managerExpiry + DAY).toISOString() },
    ]) {
      const body = await expectRefusedWithoutWrites(403, create(extra));
      expect(body.code).toBe('forbidden');
      expect((body.errors as Array<{ path: string }>)[0]?.path).toBe(Object.keys(extra)[0]);
    }
  });

  it('mints within its own grant: owner is itself, omitted limits and expiry are its own', async () => {
    const res = await send('/admin/keys', { key: manager.key, json: { name: 'minted', scopes: ['crawl:run'] } });
    expect(res.status).toBe(201);
    const k = await res.json<IssuedKeyBody>();
    expect(k.owner).toBe(mallory.id);
    expect(k.owner_name).toBe(mallory.username);
    expect(k.rate_limit).toBe('600/minute');
    expect(k.max_concurrency).toBe(2);
    expect(Date.parse(k.expires_at as string)).toBe(managerExpiry);
    const slower = await send('/admin/keys', {
      key: manager.key,
      json: { name: 'slower', scopes: ['crawl:run'], rate_limit: '100/hour', max_concurrency: 1 },
    });
    expect(slower.status).toBe(201);
  });

  it('answers 404 for reading, rotating, disabling or revoking a key it does not own', async () => {
    await expectRefusedWithoutWrites(404, () => send(`/admin/keys/${victim.id}`, { key: manager.key }));
    await expectRefusedWithoutWrites(404, () => send(`/admin/keys/${victim.id}/rotate`, { key: manager.key, method: 'POST' }));
    await expectRefusedWithoutWrites(404, () =>
      send(`/admin/keys/${victim.id}`, { key: manager.key, method: 'PATCH', json: { disabled: true } }),
    );
    await expectRefusedWithoutWrites(404, () => send(`/admin/keys/${victim.id}`, { key: manager.key, method: 'DELETE' }));
    await expectRefusedWithoutWrites(404, () => send('/admin/keys/seed_admin', { key: manager.key, method: 'DELETE' }));
    // The victim key still works.
    expect((await send('/auth/api-key/validate', { method: 'POST', key: victim.key })).status).toBe(200);
  });

  it('lists only its own keys, whatever owner or source it asks for', async () => {
    const mine = await (await send('/admin/keys?limit=100', { key: manager.key })).json<{ keys: IssuedKeyBody[] }>();
    expect(mine.keys.length).toBeGreaterThan(0);
    expect(mine.keys.every((k) => k.owner === mallory.id)).toBe(true);
    const bobs = await (await send(`/admin/keys?owner=${bob.username}`, { key: manager.key })).json<{ keys: unknown[] }>();
    expect(bobs.keys).toEqual([]);
    const seeds = await (await send('/admin/keys?source=config', { key: manager.key })).json<{ keys: unknown[] }>();
    expect(seeds.keys).toEqual([]);
  });

  it('cannot rotate or re-enable a stronger key it owns (rotation would hand it a working copy)', async () => {
    await expectRefusedWithoutWrites(403, () => send(`/admin/keys/${stronger.id}/rotate`, { key: manager.key, method: 'POST' }));
    expect((await send(`/admin/keys/${stronger.id}`, { key: ADMIN_KEY, method: 'PATCH', json: { disabled: true } })).status).toBe(200);
    await expectRefusedWithoutWrites(403, () =>
      send(`/admin/keys/${stronger.id}`, { key: manager.key, method: 'PATCH', json: { disabled: false } }),
    );
    // Revoking what it owns is not an escalation.
    expect((await send(`/admin/keys/${stronger.id}`, { key: manager.key, method: 'DELETE' })).status).toBe(200);
  });

  it('writes a permission_denied audit row naming the refused field', async () => {
    await send('/admin/keys', { key: manager.key, json: { name: 'x', scopes: ['users:manage'] } });
    const row = await keysEnv.DB.prepare(
      "SELECT reason, actor_id FROM audit_events WHERE action = 'permission_denied' AND reason LIKE 'delegation:%' ORDER BY ts DESC LIMIT 1",
    ).first<{ reason: string; actor_id: string }>();
    expect(row).toEqual({ reason: 'delegation:scopes', actor_id: manager.id });
  });

  it('an admin user is not bound: any scope, any owner, any key', async () => {
    const admin = await createUser({ roles: ['admin'] });
    const token = await accessTokenFor(admin);
    const res = await send('/admin/keys', {
      key: token,
      json: { name: 'for bob', scopes: ['crawl:js', 'users:manage'], owner: bob.username },
    });
    expect(res.status).toBe(201);
    expect((await send(`/admin/keys/${victim.id}`, { key: token })).status).toBe(200);
  });
});
