import { beforeAll, describe, expect, it } from 'vitest';
import { env } from 'cloudflare:workers';
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { Hono } from 'hono';
import type { AppEnv, Env } from '../../src/env';
import { loadConfig } from '../../src/config';
import { verifyApiKey } from '../../src/keys/verify';
import { digestKey } from '../../src/keys/digest';
import { generateApiKey } from '../../src/keys/format';
import { TEST_VARS } from '../helpers/test-vars';
import { createUser } from '../helpers/auth';
import { ADMIN_KEY, SEED_API_KEYS, SEED_CRAWL_KEY, createKey, keysEnv, send, sleep, validate, type IssuedKeyBody } from './helpers';

const bindings = env as unknown as Env;

/** Flips one character of the random part: same shape, wrong checksum. */
function typo(key: string): string {
  const i = 10;
  return key.slice(0, i) + (key[i] === 'a' ? 'b' : 'a') + key.slice(i + 1);
}

describe('one 401 for every bad key', () => {
  const keys: Record<string, string> = {};
  beforeAll(async () => {
    const revoked = await createKey();
    await send(`/admin/keys/${revoked.id}`, { method: 'DELETE', key: ADMIN_KEY });
    const disabled = await createKey();
    await send(`/admin/keys/${disabled.id}`, { method: 'PATCH', key: ADMIN_KEY, json: { disabled: true } });
    const rotated = await createKey();
    await send(`/admin/keys/${rotated.id}/rotate`, { key: ADMIN_KEY, json: { grace_seconds: 0 } });
    const expired = await createKey({ expires_at: new Date(Date.now() + 1000).toISOString() });
    await sleep(1100);
    Object.assign(keys, {
      unknown: generateApiKey(),
      bad_checksum: typo(generateApiKey()),
      unknown_seed_style: 'sk-prod-Qw3Er5Ty7Ui9Op1As3Df5Gh7Jk9Lz2Xc',
      revoked: revoked.key,
      disabled: disabled.key,
      rotated: rotated.key,
      expired: expired.key,
    });
  });

  it('unknown, revoked, expired, disabled, rotated-out and mistyped keys get byte-identical bodies (but the request id)', async () => {
    const seen = new Set<string>();
    for (const [why, key] of Object.entries(keys)) {
      for (const via of ['bearer', 'x-api-key'] as const) {
        const res = await validate(key, via);
        expect(res.status, why).toBe(401);
        expect(res.headers.get('WWW-Authenticate'), why).toBe('Bearer');
        expect(res.headers.get('Content-Type')).toBe('application/problem+json');
        const body = await res.json<Record<string, unknown>>();
        expect(body.request_id).toBe(res.headers.get('X-Request-Id'));
        delete body.request_id;
        seen.add(JSON.stringify(body));
      }
    }
    expect([...seen]).toEqual([
      JSON.stringify({
        type: 'https://crawlgate.dev/problems/invalid-credentials',
        title: 'Invalid credentials',
        status: 401,
        detail: 'Invalid credentials',
        code: 'invalid_credentials',
      }),
    ]);
  });

  it('keeps the real reason (and the key id when known) for the audit row', async () => {
    const config = loadConfig(keysEnv);
    if (!config.ok) throw new Error('config');
    const probe = new Hono<AppEnv>().post('/', async (c) => {
      c.set('config', config.config);
      return c.json(await verifyApiKey(c, (await c.req.json<{ key: string }>()).key));
    });
    const reasons: Record<string, unknown> = {};
    for (const [why, key] of Object.entries(keys)) {
      const ctx = createExecutionContext();
      const res = await probe.fetch(new Request('https://x/', { method: 'POST', body: JSON.stringify({ key }) }), keysEnv, ctx);
      await waitOnExecutionContext(ctx);
      const r = await res.json<{ ok: boolean; code: string; reason: string; actor?: { kind: string } }>();
      expect(r.ok).toBe(false);
      expect(r.code).toBe('invalid_credentials');
      reasons[why] = [r.reason, r.actor?.kind ?? null];
    }
    expect(reasons).toEqual({
      unknown: ['unknown_key', null],
      bad_checksum: ['bad_checksum', null],
      unknown_seed_style: ['unknown_key', null],
      revoked: ['revoked', 'key'],
      disabled: ['disabled', 'key'],
      rotated: ['rotation_grace_ended', 'key'],
      expired: ['expired', 'key'],
    });
  });
});

describe('checksum short-circuit', () => {
  /** Wraps a real binding so every method call on it is counted (the calls still go to the real store). */
  function counted<T extends object>(target: T, name: string, log: string[]): T {
    return new Proxy(target, {
      get(t, prop) {
        const value = Reflect.get(t, prop, t) as unknown;
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          log.push(`${name}.${String(prop)}`);
          return (value as (...a: unknown[]) => unknown).apply(t, args);
        };
      },
    });
  }
  const log: string[] = [];
  const countingEnv = {
    ...keysEnv,
    DB: counted(bindings.DB, 'DB', log),
    CACHE: counted(bindings.CACHE, 'CACHE', log),
    REVOCATIONS: counted(bindings.REVOCATIONS, 'REVOCATIONS', log),
  } as Env;

  it('refuses a mistyped or malformed cg_ key without a single D1 or KV access', async () => {
    for (const key of [typo(generateApiKey()), generateApiKey().slice(0, -1), 'cg_live_notakey']) {
      log.length = 0;
      const res = await validate(key, 'bearer', countingEnv);
      expect(res.status).toBe(401);
      expect(log).toEqual([]);
    }
  });

  it('refuses an unknown non-cg key (only API_KEYS may have another format) without storage access', async () => {
    log.length = 0;
    const res = await validate('sk-prod-Qw3Er5Ty7Ui9Op1As3Df5Gh7Jk9Lz2Xc', 'bearer', countingEnv);
    expect(res.status).toBe(401);
    expect(log).toEqual([]);
  });

  it('does read storage for a well-formed key (so the counter would have seen a read)', async () => {
    log.length = 0;
    const res = await validate(generateApiKey(), 'bearer', countingEnv);
    expect(res.status).toBe(401);
    expect(log).toContain('CACHE.get');
    expect(log).toContain('DB.prepare');
  });
});

describe('digest-only storage', () => {
  it('no D1 row and no KV key or value holds any issued key; api_keys holds the HMAC digest', async () => {
    const issued: IssuedKeyBody[] = [];
    for (let i = 0; i < 3; i++) issued.push(await createKey({ name: `stored ${i}` }));
    const rotated = await send(`/admin/keys/${issued[0]?.id}/rotate`, { key: ADMIN_KEY, json: { grace_seconds: 60 } });
    issued.push(await rotated.json<IssuedKeyBody>());
    await send(`/admin/keys/${issued[1]?.id}`, { method: 'DELETE', key: ADMIN_KEY });
    for (const k of issued) await validate(k.key); // fills the KV cache and last_used_at
    await validate(SEED_CRAWL_KEY);

    const secrets = [...issued.map((k) => k.key), SEED_CRAWL_KEY];
    const needles = secrets.flatMap((s) => [s, s.slice(12, 40)]);

    const dump: string[] = [];
    const tables = await bindings.DB.prepare(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%'",
    ).all<{ name: string }>();
    expect(tables.results.map((t) => t.name)).toContain('api_keys');
    for (const { name } of tables.results) {
      const rows = await bindings.DB.prepare(`SELECT * FROM "${name}"`).all();
      dump.push(JSON.stringify(rows.results));
    }
    let kvEntries = 0;
    for (const ns of [bindings.CACHE, bindings.REVOCATIONS]) {
      const list = await ns.list();
      for (const { name } of list.keys) {
        dump.push(name, (await ns.get(name)) ?? '');
        kvEntries++;
      }
    }
    expect(kvEntries).toBeGreaterThanOrEqual(issued.length);
    const all = dump.join('\n');
    for (const n of needles) expect(all.includes(n)).toBe(false);

    for (const k of issued) {
      const row = await bindings.DB.prepare('SELECT digest, prefix FROM api_keys WHERE id = ?')
        .bind(k.id)
        .first<{ digest: string; prefix: string }>();
      expect(row?.digest).toBe(await digestKey(TEST_VARS.API_KEY_SALT, k.key));
      expect(row?.prefix).toBe(k.key.slice(0, 12));
      expect(await bindings.CACHE.get(`key:${row?.digest}`)).not.toBeNull();
    }
  });
});

describe('credentials', () => {
  it('accepts X-API-Key as well as Authorization: Bearer', async () => {
    const k = await createKey();
    expect((await validate(k.key, 'x-api-key')).status).toBe(200);
    expect((await validate(k.key, 'bearer')).status).toBe(200);
    const both = await send('/auth/api-key/validate', { method: 'POST', key: k.key, headers: { 'X-API-Key': k.key } });
    expect(both.status).toBe(200);
  });

  it('answers 400 when Authorization and X-API-Key carry different credentials', async () => {
    const a = await createKey();
    const b = await createKey();
    const res = await send('/auth/api-key/validate', { method: 'POST', key: a.key, headers: { 'X-API-Key': b.key } });
    expect(res.status).toBe(400);
    expect((await res.json<{ code: string }>()).code).toBe('ambiguous_credentials');
  });

  it('enforces scopes: a crawl-only key gets 403 insufficient_scope naming keys:read', async () => {
    const k = await createKey({ scopes: ['crawl'] });
    const res = await send('/admin/keys', { key: k.key });
    expect(res.status).toBe(403);
    const body = await res.json<{ code: string; detail: string }>();
    expect(body.code).toBe('insufficient_scope');
    expect(body.detail).toContain('"keys:read"');
  });
});

describe('seed keys from API_KEYS', () => {
  it('work with their seed scope names, aliases resolved, and their rate_limit', async () => {
    const res = await validate(SEED_CRAWL_KEY, 'x-api-key');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      valid: true,
      key_id: 'seed_key1',
      name: 'Production API Key',
      scopes: ['crawl', 'screenshot', 'pdf'],
      permissions: ['crawl:run', 'crawl:screenshot', 'crawl:pdf'],
      rate_limit: '1000/minute',
    });
  });

  it('hand the principal its rate_limit, max_concurrency and owner (generated keys too)', async () => {
    const bob = await createUser();
    const k = await createKey({ rate_limit: '7/second', max_concurrency: 2, owner: bob.username });
    const config = loadConfig(keysEnv);
    if (!config.ok) throw new Error('config');
    const probe = new Hono<AppEnv>().get('/', async (c) => {
      c.set('config', config.config);
      return c.json(await verifyApiKey(c, k.key));
    });
    const ctx = createExecutionContext();
    const r = await (await probe.fetch(new Request('https://x/'), keysEnv, ctx)).json();
    await waitOnExecutionContext(ctx);
    expect(r).toEqual({
      ok: true,
      principal: {
        kind: 'key',
        id: k.id,
        name: 'test key',
        roles: [],
        permissions: ['crawl:run'],
        rateLimit: '7/second',
        maxConcurrency: 2,
        owner: bob.id,
      },
    });
  });

  it('can be read and revoked from the admin API (revocation is a permanent KV marker), not rotated', async () => {
    const tmpKey = 'sk-temp-Lp4Mn6Bv8Cx0Za2Sd4Fg6Hj8Kl1Qw3Er';
    const e = { ...keysEnv, API_KEYS: JSON.stringify({ ...JSON.parse(SEED_API_KEYS), tmp: { key: tmpKey, scopes: ['crawl'] } }) } as Env;
    expect((await validate(tmpKey, 'bearer', e)).status).toBe(200);
    const view = await send('/admin/keys/seed_tmp', { key: ADMIN_KEY, env: e });
    expect(await view.json()).toMatchObject({
      id: 'seed_tmp',
      environment: 'seed',
      status: 'active',
      name: 'Unknown',
      prefix: 'sk-temp-',
      created_at: null,
    });
    expect((await send('/admin/keys/seed_tmp/rotate', { method: 'POST', key: ADMIN_KEY, env: e })).status).toBe(409);
    const del = await send('/admin/keys/seed_tmp', { method: 'DELETE', key: ADMIN_KEY, env: e });
    expect(del.status).toBe(200);
    expect((await validate(tmpKey, 'bearer', e)).status).toBe(401);
    const listed = await send('/admin/keys?source=config', { key: ADMIN_KEY, env: e });
    const configured = await listed.json<{ keys: Array<{ id: string; status: string; key?: string }>; next_cursor: null }>();
    expect(configured.keys.map((k) => [k.id, k.status])).toEqual([
      ['seed_admin', 'active'],
      ['seed_reader', 'active'],
      ['seed_key1', 'active'],
      ['seed_tmp', 'revoked'],
    ]);
    expect(JSON.stringify(configured)).not.toContain('Lp4Mn6');
    const list = await bindings.REVOCATIONS.list({ prefix: 'revoked:key:seed_tmp' });
    expect(list.keys[0]?.expiration).toBeUndefined();
  });

  it('a bad API_KEYS value stops the gateway (500 misconfigured) without echoing any key', async () => {
    const e = {
      ...keysEnv,
      API_KEYS: JSON.stringify({ k: { key: 'sk-prod-Zt5Hw2Qm8Kx1Vc7Nb4Rp9Lj3Ys6Df0Ga', scopes: ['everything'] } }),
    } as Env;
    const res = await validate('sk-prod-Zt5Hw2Qm8Kx1Vc7Nb4Rp9Lj3Ys6Df0Ga', 'bearer', e);
    expect(res.status).toBe(500);
    const text = await res.text();
    expect(text).toContain('misconfigured');
    expect(text).not.toContain('sk-prod');
    const parsed = loadConfig(e);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) {
      expect(parsed.problems).toEqual([
        expect.objectContaining({ variable: 'API_KEYS', message: expect.stringContaining('unknown scope') }),
      ]);
      expect(JSON.stringify(parsed.problems)).not.toContain('Zt5Hw2');
    }
  });
});

describe('when the key store fails', () => {
  /** The real binding, with one method made to fail (fault injection for the failure path only). */
  function failing<T extends object>(target: T, method: string): T {
    return new Proxy(target, {
      get(t, prop) {
        const value = Reflect.get(t, prop, t) as unknown;
        if (prop === method) return () => Promise.reject(new Error('injected outage'));
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(t) : value;
      },
    });
  }

  it('fails closed with 503 + Retry-After (never accepts the key, never calls it invalid)', async () => {
    const k = await createKey();
    for (const e of [
      { ...keysEnv, CACHE: failing(bindings.CACHE, 'get') },
      { ...keysEnv, REVOCATIONS: failing(bindings.REVOCATIONS, 'get') },
    ] as Env[]) {
      const res = await validate(k.key, 'bearer', e);
      expect(res.status).toBe(503);
      expect(res.headers.get('Retry-After')).toBe('5');
      expect((await res.json<{ code: string }>()).code).toBe('service_unavailable');
    }
    // A mistyped key still gets its 401 without touching the failed store.
    const typoRes = await validate(typo(k.key), 'bearer', { ...keysEnv, CACHE: failing(bindings.CACHE, 'get') } as Env);
    expect(typoRes.status).toBe(401);
  });
});
