/**
 * Self-service keys (`/keys`, permission keys:self): a plain user creates, lists, rotates, disables
 * and revokes their own keys, within their own permissions and MAX_KEYS_PER_USER; another user's
 * key id is a 404 that changes nothing; names refuse control and format characters.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { createKey, keysEnv, send, type IssuedKeyBody } from './helpers';
import { accessTokenFor, createUser } from '../helpers/auth';
import type { Env } from '../../src/env';

async function keyRows(): Promise<string> {
  const { results } = await keysEnv.DB.prepare(
    'SELECT id, name, scopes, owner, status, rotated_to, grace_until FROM api_keys ORDER BY id',
  ).all();
  const markers = await keysEnv.REVOCATIONS.list({ prefix: 'revoked:key:' });
  return JSON.stringify({ results, markers: markers.keys.map((k) => k.name).sort() });
}

describe('self-service keys: /keys', () => {
  let alice: { id: string; username: string; token: string };
  let bob: { id: string; username: string; token: string };

  beforeAll(async () => {
    const a = await createUser({ roles: ['user'] });
    const b = await createUser({ roles: ['user'] });
    alice = { id: a.id, username: a.username, token: await accessTokenFor(a) };
    bob = { id: b.id, username: b.username, token: await accessTokenFor(b) };
  });

  const mint = (token: string, json: Record<string, unknown> = {}) =>
    send('/keys', { key: token, json: { name: 'my key', scopes: ['crawl:run'], ...json } });

  it('a plain user creates a key owned by themself, shown once, that works at once', async () => {
    const res = await mint(alice.token);
    expect(res.status).toBe(201);
    expect(res.headers.get('Cache-Control')).toBe('no-store');
    const k = await res.json<IssuedKeyBody>();
    expect(res.headers.get('Location')).toBe(`/keys/${k.id}`);
    expect(k.owner).toBe(alice.id);
    expect(k.owner_name).toBe(alice.username);
    expect(k.key).toMatch(/^cg_live_/);
    expect(k.rate_limit).toBe('100/minute'); // the user role's own limit (omitted → the caller's)
    expect((await send('/auth/api-key/validate', { method: 'POST', key: k.key })).status).toBe(200);
    const list = await (await send('/keys', { key: alice.token })).json<{ keys: IssuedKeyBody[] }>();
    expect(list.keys.map((x) => x.id)).toContain(k.id);
    expect(list.keys.every((x) => x.owner === alice.id)).toBe(true);
    expect(JSON.stringify(list)).not.toContain(k.key);
  });

  it('refuses scopes the user does not hold (403) and an owner field (422), storing nothing', async () => {
    for (const [json, status] of [
      [{ scopes: ['keys:manage'] }, 403],
      [{ scopes: ['crawl:js'] }, 403],
      [{ scopes: ['audit:read'] }, 403],
      [{ owner: bob.username }, 422],
    ] as const) {
      const before = await keyRows();
      const res = await mint(alice.token, json);
      expect(res.status).toBe(status);
      expect(await keyRows()).toBe(before);
    }
  });

  it("another user's key is a 404 for every verb, and nothing changes", async () => {
    const k = await (await mint(alice.token, { name: 'alice private' })).json<IssuedKeyBody>();
    for (const [path, init] of [
      [`/keys/${k.id}`, {}],
      [`/keys/${k.id}`, { method: 'PATCH', json: { disabled: true } }],
      [`/keys/${k.id}`, { method: 'DELETE' }],
      [`/keys/${k.id}/rotate`, { method: 'POST', json: { grace_seconds: 60 } }],
    ] as const) {
      const before = await keyRows();
      const res = await send(path, { key: bob.token, ...init });
      expect(res.status, `${'method' in init ? init.method : 'GET'} ${path}`).toBe(404);
      expect(await keyRows()).toBe(before);
    }
    const bobs = await (await send('/keys', { key: bob.token })).json<{ keys: IssuedKeyBody[] }>();
    expect(bobs.keys.map((x) => x.id)).not.toContain(k.id);
    expect((await send('/auth/api-key/validate', { method: 'POST', key: k.key })).status).toBe(200);
  });

  it('rotates, disables, re-enables and revokes their own key', async () => {
    const k = await (await mint(alice.token, { name: 'to rotate' })).json<IssuedKeyBody>();
    const rotated = await send(`/keys/${k.id}/rotate`, { key: alice.token, method: 'POST', json: { grace_seconds: 0 } });
    expect(rotated.status).toBe(201);
    const next = await rotated.json<IssuedKeyBody>();
    expect(next.owner).toBe(alice.id);
    expect((await send('/auth/api-key/validate', { method: 'POST', key: k.key })).status).toBe(401);
    expect((await send(`/keys/${next.id}`, { key: alice.token, method: 'PATCH', json: { disabled: true } })).status).toBe(200);
    expect((await send('/auth/api-key/validate', { method: 'POST', key: next.key })).status).toBe(401);
    expect((await send(`/keys/${next.id}`, { key: alice.token, method: 'PATCH', json: { disabled: false } })).status).toBe(200);
    const del = await send(`/keys/${next.id}`, { key: alice.token, method: 'DELETE' });
    expect(del.status).toBe(200);
    expect((await del.json<IssuedKeyBody>()).status).toBe('revoked');
    expect((await send('/auth/api-key/validate', { method: 'POST', key: next.key })).status).toBe(401);
  });

  it('admins too see only their own keys here (they have /admin/keys for the rest)', async () => {
    const admin = await createUser({ roles: ['admin'] });
    const token = await accessTokenFor(admin);
    const aliceKey = await (await mint(alice.token)).json<IssuedKeyBody>();
    expect((await send(`/keys/${aliceKey.id}`, { key: token })).status).toBe(404);
    expect((await send(`/admin/keys/${aliceKey.id}`, { key: token })).status).toBe(200);
  });

  it("a key acting for its owner manages that owner's keys, within its own scopes", async () => {
    const selfKey = await (await mint(alice.token, { name: 'ci key manager', scopes: ['keys:self', 'crawl:run'] })).json<IssuedKeyBody>();
    const child = await send('/keys', { key: selfKey.key, json: { name: 'child', scopes: ['crawl:run'] } });
    expect(child.status).toBe(201);
    expect((await child.json<IssuedKeyBody>()).owner).toBe(alice.id);
    expect((await send('/keys', { key: selfKey.key, json: { name: 'child', scopes: ['crawl:pdf'] } })).status).toBe(403);
  });

  it('needs keys:self: a viewer gets 403, an admin-made key without an owner cannot create', async () => {
    const viewer = await createUser({ roles: ['viewer'] });
    const res = await mint(await accessTokenFor(viewer));
    expect(res.status).toBe(403);
    expect((await res.json<{ code: string }>()).code).toBe('insufficient_scope');
    const orphan = await createKey({ name: 'no owner', scopes: ['keys:self', 'crawl:run'] });
    const before = await keyRows();
    expect((await send('/keys', { key: orphan.key, json: { name: 'x', scopes: ['crawl:run'] } })).status).toBe(403);
    expect(await keyRows()).toBe(before);
  });

  it('caps live keys per user at MAX_KEYS_PER_USER (409); revoking one frees a slot; rotation does not count twice', async () => {
    const capped = { ...keysEnv, MAX_KEYS_PER_USER: '2' } as Env;
    const carol = await createUser({ roles: ['user'] });
    const token = await accessTokenFor(carol);
    const make = () => send('/keys', { key: token, env: capped, json: { name: 'k', scopes: ['crawl:run'] } });
    const first = await (await make()).json<IssuedKeyBody>();
    expect((await make()).status).toBe(201);
    const before = await keyRows();
    const third = await make();
    expect(third.status).toBe(409);
    expect((await third.json<{ limit: number }>()).limit).toBe(2);
    expect(await keyRows()).toBe(before);
    expect((await send(`/keys/${first.id}/rotate`, { key: token, env: capped, method: 'POST' })).status).toBe(201);
    const list = await (await send('/keys?status=active', { key: token, env: capped })).json<{ keys: IssuedKeyBody[] }>();
    expect(list.keys).toHaveLength(2);
    expect((await send(`/keys/${list.keys[0]?.id}`, { key: token, env: capped, method: 'DELETE' })).status).toBe(200);
    expect((await make()).status).toBe(201);
  });

  it('key names refuse C0/C1 controls, U+0085, U+2028/U+2029 and bidi/format characters (422)', async () => {
    for (const name of [
      'tab\there',
      'bell\u0007',
      'c1\u009b',
      'nel\u0085',
      'line\u2028sep',
      'para\u2029sep',
      'rlo\u202Eevil',
      'iso\u2066x\u2069',
      'zw\u200Bsp',
      'b\uFEFFom',
      'lone\uD800',
    ]) {
      const before = await keyRows();
      const res = await mint(alice.token, { name });
      expect(res.status, JSON.stringify(name)).toBe(422);
      expect((await res.json<{ errors: Array<{ path: string }> }>()).errors[0]?.path).toBe('name');
      expect(await keyRows()).toBe(before);
    }
    const ok = await mint(alice.token, { name: 'Zoë’s crawler 🚀 日本' });
    expect(ok.status).toBe(201);
  });
});
