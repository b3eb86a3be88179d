/**
 * A key acts for its owner's tenant, so it stops with its owner (docs/api-keys.md "Owners"):
 * disabling a user stops every key they own (and every token minted from one) at once, re-enabling
 * brings back exactly the keys that were active, deleting the user revokes their keys for good —
 * in D1, in the listing and in the audit row — and once the user's roles change, their keys (and
 * tokens minted from them) act only within the new roles. Other users' keys never notice.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { createKey, keysEnv, send, validate, type IssuedKeyBody } from './helpers';
import { adminToken, createUser } from '../helpers/auth';
import { waitForAuditRows } from '../helpers/audit';

async function mintToken(key: string): Promise<string> {
  const res = await send('/token', { json: { email: 'ci@example.com', api_token: key } });
  expect(res.status).toBe(200);
  return (await res.json<{ access_token: string }>()).access_token;
}

const keyStatus = async (admin: string, id: string) =>
  (await (await send(`/admin/keys/${id}`, { key: admin })).json<IssuedKeyBody>()).status;

describe('keys stop with their owner', () => {
  let admin: string;
  beforeAll(async () => {
    admin = (await adminToken()).token;
  });

  it('disabling the owner stops their keys and tokens at once; re-enabling brings back only the active ones', async () => {
    const alice = await createUser({ roles: ['user'] });
    const bob = await createUser({ roles: ['user'] });
    const live = await createKey({ name: 'alice ci', owner: alice.id, scopes: ['crawl:run', 'keys:self'] });
    const off = await createKey({ name: 'alice old', owner: alice.id });
    const bobs = await createKey({ name: 'bob ci', owner: bob.id });
    expect((await send(`/admin/keys/${off.id}`, { method: 'PATCH', key: admin, json: { disabled: true } })).status).toBe(200);
    const token = await mintToken(live.key);
    expect((await validate(live.key)).status).toBe(200);
    expect((await send('/keys', { key: token })).status).toBe(200);

    const disable = await send(`/admin/users/${alice.username}`, { method: 'PATCH', key: admin, json: { disabled: true } });
    expect(disable.status).toBe(200);
    expect((await validate(live.key)).status).toBe(401);
    const viaToken = await send('/keys', { key: token });
    expect(viaToken.status).toBe(401);
    expect(viaToken.headers.get('Content-Type')).toContain('application/problem+json');
    expect((await validate(bobs.key)).status).toBe(200); // another owner's key is untouched
    expect(await keyStatus(admin, live.id)).toBe('active'); // the key's own status is kept for re-enabling

    const enable = await send(`/admin/users/${alice.username}`, { method: 'PATCH', key: admin, json: { disabled: false } });
    expect(enable.status).toBe(200);
    expect((await validate(live.key)).status).toBe(200);
    expect((await send('/keys', { key: token })).status).toBe(200);
    expect((await validate(off.key)).status).toBe(401); // disabled on its own before: still disabled
  });

  it('deleting the owner revokes their keys for good: 401, status revoked in D1 and the listing, one audit row naming them', async () => {
    const carol = await createUser({ roles: ['user'] });
    const k1 = await createKey({ name: 'carol one', owner: carol.id, scopes: ['crawl:run', 'keys:self'] });
    const k2 = await createKey({ name: 'carol two', owner: carol.id });
    const token = await mintToken(k1.key);
    expect((await validate(k2.key)).status).toBe(200); // cached in this isolate and in KV as active

    const res = await send(`/admin/users/${carol.username}`, { method: 'DELETE', key: admin });
    expect(res.status).toBe(204);
    expect((await validate(k1.key)).status).toBe(401);
    expect((await validate(k2.key)).status).toBe(401);
    expect((await send('/keys', { key: token })).status).toBe(401);
    const { results } = await keysEnv.DB.prepare('SELECT id, status FROM api_keys WHERE owner = ? ORDER BY id')
      .bind(carol.id)
      .all<{ id: string; status: string }>();
    expect(results).toEqual([k1.id, k2.id].sort().map((id) => ({ id, status: 'revoked' })));
    expect(await keyStatus(admin, k2.id)).toBe('revoked');

    const rows = await waitForAuditRows(res.headers.get('X-Request-Id')!, 1);
    const deleted = rows.find((r) => r.action === 'user_deleted');
    expect(deleted).toBeDefined();
    const details = JSON.parse(String(deleted!.details)) as { keys_revoked: number; key_ids: string[] };
    expect(details.keys_revoked).toBe(2);
    expect([...details.key_ids].sort()).toEqual([k1.id, k2.id].sort());
  });

  it("a demoted owner's keys and tokens lose what the owner lost, through a disable and re-enable, and get it back with the roles", async () => {
    const frank = await createUser({ roles: ['operator'] });
    const k = await createKey({ name: 'frank ci', owner: frank.id, scopes: ['crawl:run', 'audit:read'] });
    const other = await createUser({ roles: ['operator'] });
    const theirs = await createKey({ name: 'other ci', owner: other.id, scopes: ['crawl:run', 'audit:read'] });
    const token = await mintToken(k.key);
    const can = async (credential: string) => {
      const me = await (await send('/auth/me', { key: credential })).json<{ permissions: string[] }>();
      return { audit: (await send('/admin/audit?limit=1', { key: credential })).status, permissions: [...me.permissions].sort() };
    };
    const roles = (r: string[]) => send(`/admin/users/${frank.username}`, { method: 'PATCH', key: admin, json: { roles: r } });
    expect(await can(k.key)).toEqual({ audit: 200, permissions: ['audit:read', 'crawl:run'] });
    expect((await can(token)).audit).toBe(200);

    expect((await roles(['user'])).status).toBe(200); // `user` has crawl:run, not audit:read
    expect(await can(k.key)).toEqual({ audit: 403, permissions: ['crawl:run'] });
    expect(await can(token)).toEqual({ audit: 403, permissions: ['crawl:run'] });
    expect((await validate(k.key)).status).toBe(200); // still a working key for what the owner may do
    expect(await can(theirs.key)).toEqual({ audit: 200, permissions: ['audit:read', 'crawl:run'] }); // another owner's key: untouched
    expect(await keysEnv.REVOCATIONS.get(`revoked:owner:${frank.id}`, 'json')).toMatchObject({ reason: 'owner_roles', roles: ['user'] });

    // A disable and re-enable keeps the narrowing (the stop carries the roles it replaced).
    expect((await send(`/admin/users/${frank.username}`, { method: 'PATCH', key: admin, json: { disabled: true } })).status).toBe(200);
    expect((await validate(k.key)).status).toBe(401);
    expect((await send(`/admin/users/${frank.username}`, { method: 'PATCH', key: admin, json: { disabled: false } })).status).toBe(200);
    expect(await can(k.key)).toEqual({ audit: 403, permissions: ['crawl:run'] });

    expect((await roles(['operator'])).status).toBe(200);
    expect(await can(k.key)).toEqual({ audit: 200, permissions: ['audit:read', 'crawl:run'] });
    expect((await can(token)).audit).toBe(200);
  });

  it('a disabled-then-deleted owner stays stopped, and a key whose owner marker is unreadable is refused (fail closed)', async () => {
    const dave = await createUser({ roles: ['user'] });
    const k = await createKey({ name: 'dave ci', owner: dave.id });
    expect((await send(`/admin/users/${dave.username}`, { method: 'PATCH', key: admin, json: { disabled: true } })).status).toBe(200);
    expect((await send(`/admin/users/${dave.username}`, { method: 'DELETE', key: admin })).status).toBe(204);
    expect((await validate(k.key)).status).toBe(401);

    const erin = await createUser({ roles: ['user'] });
    const e = await createKey({ name: 'erin ci', owner: erin.id });
    expect((await validate(e.key)).status).toBe(200);
    for (const unreadable of [
      'not json',
      'null',
      '{"reason":"owner_roles","at":1,"roles":"admin"}',
      '{"reason":"owner_roles","roles":[]}',
    ]) {
      await keysEnv.REVOCATIONS.put(`revoked:owner:${erin.id}`, unreadable);
      expect((await validate(e.key)).status, unreadable).toBe(401);
    }
    await keysEnv.REVOCATIONS.delete(`revoked:owner:${erin.id}`);
    expect((await validate(e.key)).status).toBe(200);
  });
});
