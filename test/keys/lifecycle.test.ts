import { describe, expect, it } from 'vitest';
import { env as rawEnv } from 'cloudflare:workers';
import type { Env } from '../../src/env';
import { ADMIN_KEY, READER_KEY, createKey, send, sleep, validate, type IssuedKeyBody } from './helpers';
import { createUser } from '../helpers/auth';

const env = rawEnv as unknown as Env;

describe('POST /admin/keys', () => {
  it('creates a key, shows it once with Cache-Control: no-store, and the key works at once', async () => {
    const alice = await createUser();
    const res = await send('/admin/keys', {
      key: ADMIN_KEY,
      json: { name: 'ci crawler', scopes: ['crawl', 'crawl:pdf'], rate_limit: '50/minute', max_concurrency: 3, owner: alice.username },
    });
    expect(res.status).toBe(201);
    expect(res.headers.get('Cache-Control')).toBe('no-store');
    const body = await res.json<IssuedKeyBody>();
    expect(res.headers.get('Location')).toBe(`/admin/keys/${body.id}`);
    expect(body.key).toMatch(/^cg_live_[0-9A-Za-z]{30}_[0-9A-Za-z]{6}$/);
    expect(body).toMatchObject({
      name: 'ci crawler',
      scopes: ['crawl:run', 'crawl:pdf'],
      rate_limit: '50/minute',
      max_concurrency: 3,
      owner: alice.id,
      owner_name: alice.username,
      status: 'active',
      environment: 'live',
      created_by: 'seed_admin',
      prefix: body.key.slice(0, 12),
    });
    expect(body.id).toMatch(/^key_[0-9A-Za-z]{16}$/);

    const ok = await validate(body.key);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ valid: true, key_id: body.id, scopes: ['crawl:run', 'crawl:pdf'], rate_limit: '50/minute' });

    // Never again: reading the key back shows no secret.
    const again = await send(`/admin/keys/${body.id}`, { key: ADMIN_KEY });
    expect(again.status).toBe(200);
    const view = await again.json<Record<string, unknown>>();
    expect(view.key).toBeUndefined();
    expect(view.digest).toBeUndefined();
    expect(JSON.stringify(view)).not.toContain(body.key.slice(12));
    expect(Date.parse(view.last_used_at as string)).toBeGreaterThanOrEqual(Date.parse(body.created_at as string));
  });

  it('issues cg_test_ keys on request', async () => {
    const k = await createKey({ environment: 'test' });
    expect(k.key.startsWith('cg_test_')).toBe(true);
    expect((await validate(k.key)).status).toBe(200);
  });

  it('refuses scopes that do not exist, bad limits, past expiry and unknown fields with 422', async () => {
    const bad = [
      { name: 'x', scopes: ['crawl:run', 'root'] },
      { name: 'x', scopes: [] },
      { name: 'x', scopes: ['crawl'], rate_limit: 'fast' },
      { name: 'x', scopes: ['crawl'], expires_at: '2001-01-01T00:00:00Z' },
      { name: 'x', scopes: ['crawl'], roles: ['admin'] },
      { name: '', scopes: ['crawl'] },
    ];
    for (const json of bad) {
      const res = await send('/admin/keys', { key: ADMIN_KEY, json });
      expect(res.status, JSON.stringify(json)).toBe(422);
      expect((await res.json<{ code: string }>()).code).toBe('validation_failed');
    }
    const res = await send('/admin/keys', { key: ADMIN_KEY, json: { name: 'x', scopes: ['crawl:run', 'root'] } });
    const body = await res.json<{ errors: Array<{ path: string; message: string }> }>();
    expect(body.errors).toEqual([expect.objectContaining({ path: 'scopes.1', message: expect.stringContaining('"root"') })]);
  });

  it('needs keys:manage: a keys:read key gets 403 naming the permission, no key gets 401', async () => {
    const res = await send('/admin/keys', { key: READER_KEY, json: { name: 'x', scopes: ['crawl'] } });
    expect(res.status).toBe(403);
    const body = await res.json<{ code: string; detail: string; required: string[] }>();
    expect(body.code).toBe('insufficient_scope');
    expect(body.detail).toContain('keys:manage');
    expect(body.required).toEqual(['keys:manage']);
    expect(res.headers.get('WWW-Authenticate')).toContain('insufficient_scope');
    const anon = await send('/admin/keys', { json: { name: 'x', scopes: ['crawl'] } });
    expect(anon.status).toBe(401);
  });
});

describe('GET /admin/keys', () => {
  it('pages through keys newest first with an opaque cursor and filters by owner and status', async () => {
    const owner = (await createUser({ username: `pager-${crypto.randomUUID().slice(0, 8)}` })).username;
    const made: string[] = [];
    for (let i = 0; i < 5; i++) made.push((await createKey({ name: `page ${i}`, owner })).id);
    await send(`/admin/keys/${made[1]}`, { method: 'DELETE', key: ADMIN_KEY });

    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res = await send(`/admin/keys?owner=${owner}&limit=2${cursor ? `&cursor=${cursor}` : ''}`, { key: READER_KEY });
      expect(res.status).toBe(200);
      const page = await res.json<{ keys: Array<Record<string, unknown>>; next_cursor: string | null }>();
      expect(page.keys.length).toBeLessThanOrEqual(2);
      for (const k of page.keys) {
        expect(k.key).toBeUndefined();
        expect(k.digest).toBeUndefined();
        seen.push(k.id as string);
      }
      cursor = page.next_cursor;
      pages++;
    } while (cursor && pages < 10);
    expect(pages).toBe(3);
    expect(seen).toEqual([...made].reverse());

    const revoked = await send(`/admin/keys?owner=${owner}&status=revoked`, { key: READER_KEY });
    expect((await revoked.json<{ keys: Array<{ id: string }> }>()).keys.map((k) => k.id)).toEqual([made[1]]);
    const active = await send(`/admin/keys?owner=${owner}&status=active`, { key: READER_KEY });
    expect((await active.json<{ keys: unknown[] }>()).keys).toHaveLength(4);
  });

  it('refuses a cursor it did not issue', async () => {
    const res = await send('/admin/keys?cursor=Zm9vYmFy', { key: READER_KEY });
    expect(res.status).toBe(422);
  });

  it('answers 404 for an unknown id', async () => {
    const res = await send('/admin/keys/key_doesNotExist00', { key: READER_KEY });
    expect(res.status).toBe(404);
  });
});

describe('POST /admin/keys/{id}/rotate', () => {
  it('issues a successor with the same scopes; the old key works during the grace', async () => {
    const old = await createKey({ name: 'rotating', scopes: ['crawl:run', 'jobs:read'], rate_limit: '10/second' });
    const res = await send(`/admin/keys/${old.id}/rotate`, { key: ADMIN_KEY, json: { grace_seconds: 3600 } });
    expect(res.status).toBe(201);
    expect(res.headers.get('Cache-Control')).toBe('no-store');
    const next = await res.json<IssuedKeyBody>();
    expect(next.key).not.toBe(old.key);
    expect(next).toMatchObject({
      name: 'rotating',
      scopes: ['crawl:run', 'jobs:read'],
      rate_limit: '10/second',
      rotated_from: old.id,
      status: 'active',
    });
    expect(next.old_key).toMatchObject({ id: old.id, status: 'rotated' });
    expect(Date.parse(next.old_key?.grace_until ?? '') - Date.now()).toBeGreaterThan(3500_000);

    expect((await validate(old.key)).status).toBe(200);
    expect((await validate(next.key)).status).toBe(200);
    const oldView = await (await send(`/admin/keys/${old.id}`, { key: ADMIN_KEY })).json<IssuedKeyBody>();
    expect(oldView).toMatchObject({ status: 'rotated', rotated_to: next.id });

    // A rotated key cannot be rotated again.
    const twice = await send(`/admin/keys/${old.id}/rotate`, { key: ADMIN_KEY, json: { grace_seconds: 10 } });
    expect(twice.status).toBe(409);
  });

  it('refuses the old key once the grace has ended (grace 1 s)', async () => {
    const old = await createKey();
    const res = await send(`/admin/keys/${old.id}/rotate`, { key: ADMIN_KEY, json: { grace_seconds: 1 } });
    const next = await res.json<IssuedKeyBody>();
    await sleep(1100);
    const after = await validate(old.key);
    expect(after.status).toBe(401);
    expect((await after.json<{ code: string }>()).code).toBe('invalid_credentials');
    expect((await validate(next.key)).status).toBe(200);
  });

  it('with no body (grace 0) stops the old key on the next request', async () => {
    const old = await createKey();
    expect((await validate(old.key)).status).toBe(200); // warm the KV cache
    const res = await send(`/admin/keys/${old.id}/rotate`, { method: 'POST', key: ADMIN_KEY });
    expect(res.status).toBe(201);
    expect((await validate(old.key)).status).toBe(401);
  });
});

describe('DELETE /admin/keys/{id}', () => {
  it('revokes at once (the very next request is refused, cache warm or not), marks D1, and is idempotent', async () => {
    const k = await createKey();
    expect((await validate(k.key)).status).toBe(200); // the record is now in the KV cache
    const res = await send(`/admin/keys/${k.id}`, { method: 'DELETE', key: ADMIN_KEY });
    expect(res.status).toBe(200);
    const body = await res.json<{ status: string; revoked_at: string }>();
    expect(body.status).toBe('revoked');
    expect((await validate(k.key)).status).toBe(401);

    const row = await env.DB.prepare('SELECT status, revoked_at FROM api_keys WHERE id = ?')
      .bind(k.id)
      .first<{ status: string; revoked_at: number }>();
    expect(row?.status).toBe('revoked');
    expect(await env.REVOCATIONS.get(`revoked:key:${k.id}`, 'json')).toMatchObject({ reason: 'revoked' });

    const again = await send(`/admin/keys/${k.id}`, { method: 'DELETE', key: ADMIN_KEY });
    expect(again.status).toBe(200);
    expect((await again.json<{ revoked_at: string }>()).revoked_at).toBe(body.revoked_at);
    expect((await send('/admin/keys/key_doesNotExist00', { method: 'DELETE', key: ADMIN_KEY })).status).toBe(404);
  });
});

describe('PATCH /admin/keys/{id}', () => {
  it('disables a key (refused on the next request) and re-enables it', async () => {
    const k = await createKey();
    expect((await validate(k.key)).status).toBe(200);
    const off = await send(`/admin/keys/${k.id}`, { method: 'PATCH', key: ADMIN_KEY, json: { disabled: true } });
    expect(off.status).toBe(200);
    expect((await off.json<{ status: string }>()).status).toBe('disabled');
    expect((await validate(k.key)).status).toBe(401);
    const on = await send(`/admin/keys/${k.id}`, { method: 'PATCH', key: ADMIN_KEY, json: { disabled: false } });
    expect((await on.json<{ status: string }>()).status).toBe('active');
    expect((await validate(k.key)).status).toBe(200);
  });

  it('cannot bring a revoked key back', async () => {
    const k = await createKey();
    await send(`/admin/keys/${k.id}`, { method: 'DELETE', key: ADMIN_KEY });
    const res = await send(`/admin/keys/${k.id}`, { method: 'PATCH', key: ADMIN_KEY, json: { disabled: false } });
    expect(res.status).toBe(409);
    expect((await validate(k.key)).status).toBe(401);
  });
});

describe('expiry', () => {
  it('a key works until expires_at and is refused after it, listed as expired', async () => {
    const k = await createKey({ expires_at: new Date(Date.now() + 1500).toISOString() });
    expect((await validate(k.key)).status).toBe(200);
    await sleep(1600);
    expect((await validate(k.key)).status).toBe(401);
    const view = await (await send(`/admin/keys/${k.id}`, { key: ADMIN_KEY })).json<{ status: string }>();
    expect(view.status).toBe('expired');
  });
});

describe('revocation marker', () => {
  it("overrules a stale cached record (a cache fill that raced the revocation, or another location's copy)", async () => {
    const k = await createKey();
    expect((await validate(k.key)).status).toBe(200);
    const row = await env.DB.prepare('SELECT digest FROM api_keys WHERE id = ?').bind(k.id).first<{ digest: string }>();
    const stale = await env.CACHE.get(`key:${row?.digest}`);
    expect(stale).toContain('"status":"active"');
    await send(`/admin/keys/${k.id}`, { method: 'DELETE', key: ADMIN_KEY });
    // The pre-revocation copy lands in the cache after the revocation deleted it.
    await env.CACHE.put(`key:${row?.digest}`, stale as string, { expirationTtl: 300 });
    expect((await validate(k.key)).status).toBe(401);
  });
});
