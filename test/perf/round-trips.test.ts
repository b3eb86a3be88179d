/**
 * Storage round trips per request, counted on the real bindings (a counting Proxy around D1, KV and
 * the Durable Object stubs). Prints the counts for docs/performance.md and guards against a
 * regression that adds round trips to the hot path. Counts, not time: no timing is asserted.
 */
import { describe, expect, it } from 'vitest';
import { env } from 'cloudflare:workers';
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { app } from '../../src/app';
import type { Env } from '../../src/env';
import { BASE } from '../helpers/test-vars';
import { adminToken, bearer, createUser } from '../helpers/auth';
import { createKey } from '../../src/keys/service';
import { loadConfig } from '../../src/config';

type Counts = Record<string, number>;

function counting(e: Env, counts: Counts): Env {
  const bump = (k: string) => (counts[k] = (counts[k] ?? 0) + 1);
  const wrapObject = <T extends object>(
    target: T,
    label: string,
    methods: string[],
    inner?: (name: string, value: unknown) => unknown,
  ): T =>
    new Proxy(target, {
      get(t, prop, receiver) {
        const value = Reflect.get(t, prop, receiver);
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          const name = String(prop);
          if (methods.includes(name)) bump(`${label}.${name}`);
          const out = (value as (...a: unknown[]) => unknown).apply(t, args);
          return inner ? inner(name, out) : out;
        };
      },
    });
  const d1 = wrapObject(e.DB, 'D1', ['batch', 'exec'], (name, out) =>
    name === 'prepare' ? wrapStatement(out as D1PreparedStatement) : out,
  );
  function wrapStatement(s: D1PreparedStatement): D1PreparedStatement {
    return wrapObject(s, 'D1', ['first', 'run', 'all', 'raw'], (name, out) =>
      name === 'bind' ? wrapStatement(out as D1PreparedStatement) : out,
    );
  }
  const kv = (ns: KVNamespace, label: string) => wrapObject(ns, label, ['get', 'getWithMetadata', 'put', 'delete', 'list']);
  // A DO round trip is counted per stub obtained (`get`); the code takes a fresh stub per call.
  // Labelled by the object's name scheme prefix (`ip:`, `key:`, `chain:` ...).
  const dObj = (ns: DurableObjectNamespace, label: string) =>
    new Proxy(ns, {
      get(t, prop) {
        const value = Reflect.get(t, prop);
        if (prop !== 'get' || typeof value !== 'function') return typeof value === 'function' ? value.bind(t) : value;
        return (id: DurableObjectId, ...rest: unknown[]) => {
          bump(`DO.${label}(${(id.name ?? '?').split(':')[0]})`);
          return (value as (...a: unknown[]) => unknown).call(t, id, ...rest);
        };
      },
    });
  return {
    ...e,
    DB: d1,
    REVOCATIONS: kv(e.REVOCATIONS, 'KV.REVOCATIONS'),
    CACHE: kv(e.CACHE, 'KV.CACHE'),
    RATE_LIMITER: dObj(e.RATE_LIMITER as unknown as DurableObjectNamespace, 'RateLimiter') as unknown as Env['RATE_LIMITER'],
    AUDIT_LOG: dObj(e.AUDIT_LOG as unknown as DurableObjectNamespace, 'AuditLog') as unknown as Env['AUDIT_LOG'],
    METRICS: dObj(e.METRICS as unknown as DurableObjectNamespace, 'Metrics') as unknown as Env['METRICS'],
    REFRESH_FAMILIES: dObj(e.REFRESH_FAMILIES as unknown as DurableObjectNamespace, 'RefreshFamily') as unknown as Env['REFRESH_FAMILIES'],
  };
}

const KEY = 'sk-perf-Q8mZ2vK7pX4rT9wL3nB6cY1hD5fJ0gS';
const HOT_KEY = 'sk-perf-hot-W3nB6cY1hD5fJ0gSQ8mZ2vK7pX4rT9';
const TINY_KEY = 'sk-perf-tiny-J7kL2mN5pQ8rS1tU4vW6xY9zA3bC';
const base = {
  ...(env as unknown as Env),
  API_KEYS: JSON.stringify({
    perf: { key: KEY, scopes: ['crawl'], rate_limit: '1000/minute', max_concurrency: 100 },
    hot: { key: HOT_KEY, scopes: ['crawl'], rate_limit: '100000/minute', max_concurrency: 100 },
  }),
} as Env;

async function countFor(path: string, init: RequestInit): Promise<{ status: number; counts: Counts }> {
  const counts: Counts = {};
  const e = counting(base, counts);
  const ctx = createExecutionContext();
  const res = await app.fetch(new Request(BASE + path, init), e, ctx);
  await res.arrayBuffer();
  await waitOnExecutionContext(ctx);
  return { status: res.status, counts };
}

const total = (c: Counts) => Object.values(c).reduce((a, b) => a + b, 0);

describe('storage round trips per request (warm isolate)', () => {
  const crawlInit = (key: string, ip: string) => ({
    method: 'POST',
    headers: { 'X-API-Key': key, 'Content-Type': 'application/json', 'CF-Connecting-IP': ip },
    body: JSON.stringify({ urls: ['https://example.com/'] }),
  });

  it('POST /crawl with an API key, forwarded: 1 KV read and 1 Durable Object call in the request path, no D1', async () => {
    await countFor('/crawl', crawlInit(KEY, '203.0.113.50')); // warm: config, seed-key index, key caches
    const { status, counts } = await countFor('/crawl', crawlInit(KEY, '203.0.113.50'));
    expect(status).toBe(200);
    console.log('POST /crawl round trips (one request, incl. its background work):', JSON.stringify(counts), 'total', total(counts));
    expect(counts['D1.first'] ?? 0).toBe(0); // a seed key never touches D1
    expect(counts['KV.REVOCATIONS.get']).toBe(1); // the revocation marker, every request
    expect(counts['KV.CACHE.get'] ?? 0).toBe(0);
    expect(counts['DO.RateLimiter(ip)'] ?? 0).toBe(0); // credentialed requests are limited by their principal
    // Admit (rate + lease) in the request; alone, its release is flushed 100 ms later in waitUntil.
    expect(counts['DO.RateLimiter(key)']).toBe(2);
    expect(counts['DO.AuditLog(chain)']).toBe(1);
  });

  it("POST /crawl with a key that has an owner: the key's and the owner's markers in one KV bulk read, no D1", async () => {
    const owner = await createUser({ roles: ['user'] });
    const parsed = loadConfig(base);
    if (!parsed.ok) throw new Error('config');
    const issued = await createKey(
      base,
      parsed.config,
      {
        name: 'owned perf key',
        scopes: ['crawl:run'],
        rateLimit: '1000/minute',
        maxConcurrency: 100,
        owner: owner.id,
        expiresAt: null,
        environment: 'live',
        createdBy: null,
      },
      Date.now(),
    );
    if (!issued) throw new Error('key not created');
    await countFor('/crawl', crawlInit(issued.key, '203.0.113.51')); // warm: the record is cached in this isolate
    const { status, counts } = await countFor('/crawl', crawlInit(issued.key, '203.0.113.51'));
    expect(status).toBe(200);
    expect(counts['KV.REVOCATIONS.get']).toBe(1);
    expect(counts['D1.first'] ?? 0).toBe(0);
    expect(counts['KV.CACHE.get'] ?? 0).toBe(0);
  });

  it('under concurrency the lease releases and the audit events are batched: about one DO call per request', async () => {
    const counts: Counts = {};
    const e = counting(base, counts);
    const N = 40;
    const ctxs = Array.from({ length: N }, () => createExecutionContext());
    const responses = await Promise.all(
      ctxs.map((ctx, i) => app.fetch(new Request(BASE + '/crawl', crawlInit(KEY, `203.0.113.${60 + (i % 5)}`)), e, ctx)),
    );
    for (const r of responses) {
      expect(r.status).toBe(200);
      await r.arrayBuffer();
    }
    // A second wave: its admits carry the first wave's releases along.
    const ctxs2 = Array.from({ length: N }, () => createExecutionContext());
    const second = await Promise.all(ctxs2.map((ctx) => app.fetch(new Request(BASE + '/crawl', crawlInit(KEY, '203.0.113.70')), e, ctx)));
    for (const r of second) await r.arrayBuffer();
    await Promise.all([...ctxs, ...ctxs2].map((ctx) => waitOnExecutionContext(ctx)));
    console.log(
      `${2 * N} concurrent POST /crawl round trips:`,
      JSON.stringify(counts),
      'Durable Object calls per request',
      (((counts['DO.RateLimiter(key)'] ?? 0) + (counts['DO.AuditLog(chain)'] ?? 0)) / (2 * N)).toFixed(3),
    );
    const doCalls = (counts['DO.RateLimiter(key)'] ?? 0) + (counts['DO.RateLimiter(ip)'] ?? 0) + (counts['DO.AuditLog(chain)'] ?? 0);
    expect(counts['D1.first'] ?? 0).toBe(0);
    expect(counts['KV.REVOCATIONS.get']).toBe(2 * N);
    expect(doCalls).toBeLessThanOrEqual(2 * N + 4); // 2N admits; releases and audit in a few batches
    expect(counts['DO.AuditLog(chain)']).toBeLessThanOrEqual(4);
  });

  it('POST /crawl with a hot key (limit above 500 r/s: its counter is sharded)', async () => {
    await countFor('/crawl', crawlInit(HOT_KEY, '203.0.113.52'));
    const { status, counts } = await countFor('/crawl', crawlInit(HOT_KEY, '203.0.113.52'));
    expect(status).toBe(200);
    console.log('POST /crawl (hot key) round trips:', JSON.stringify(counts), 'total', total(counts));
    expect(counts['DO.RateLimiter(key)']).toBe(3); // rate on a shard, lease on the key's own object, its (deferred) release
  });

  it('the 401 path: a bad key costs no KV read and one count against the address', async () => {
    const init = () => crawlInit('cg_live_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAxxxxxx', '203.0.113.53');
    await countFor('/crawl', init());
    const { status, counts } = await countFor('/crawl', init());
    expect(status).toBe(401);
    console.log('POST /crawl 401 round trips:', JSON.stringify(counts), 'total', total(counts));
    expect(counts['KV.REVOCATIONS.get'] ?? 0).toBe(0);
    expect(counts['DO.RateLimiter(ip)']).toBe(1);
  });

  it('the 429 path: a key over its limit is refused from the isolate, without a Durable Object call', async () => {
    const over = { ...base, API_KEYS: JSON.stringify({ tiny: { key: TINY_KEY, scopes: ['crawl'], rate_limit: '1/minute' } }) } as Env;
    const once = async () => {
      const counts: Counts = {};
      const ctx = createExecutionContext();
      const res = await app.fetch(new Request(BASE + '/crawl', crawlInit(TINY_KEY, '203.0.113.54')), counting(over, counts), ctx);
      await res.arrayBuffer();
      await waitOnExecutionContext(ctx);
      return { status: res.status, counts };
    };
    expect((await once()).status).toBe(200);
    expect((await once()).status).toBe(429); // refused by the object: cached in the isolate until the reset
    const { status, counts } = await once();
    expect(status).toBe(429);
    console.log('POST /crawl 429 round trips:', JSON.stringify(counts), 'total', total(counts));
    expect(counts['DO.RateLimiter(key)'] ?? 0).toBe(0);
    expect(counts['KV.REVOCATIONS.get']).toBe(1);
  });

  it('GET /auth/me with a JWT: the user row is read per request (password change ends tokens at once)', async () => {
    const { token } = await adminToken();
    const init = () => ({ headers: { ...bearer(token), 'CF-Connecting-IP': '203.0.113.55' } });
    await countFor('/auth/me', init());
    const { status, counts } = await countFor('/auth/me', init());
    expect(status).toBe(200);
    console.log('GET /auth/me (JWT) round trips:', JSON.stringify(counts), 'total', total(counts));
    expect(counts['D1.first'] ?? 0).toBeLessThanOrEqual(1);
    expect(counts['DO.RateLimiter(ip)'] ?? 0).toBe(0);
    expect(total(counts)).toBeLessThanOrEqual(4);
  });

  it('POST /crawl with a JWT from POST /token: both revocation markers in one KV bulk read, no D1', async () => {
    const login = await app.fetch(
      new Request(BASE + '/token', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'CF-Connecting-IP': '203.0.113.57' },
        body: JSON.stringify({ api_token: KEY }),
      }),
      counting(base, {}),
      createExecutionContext(),
    );
    expect(login.status).toBe(200);
    const { access_token: token } = await login.json<{ access_token: string }>();
    const init = () => ({
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', 'CF-Connecting-IP': '203.0.113.57' },
      body: JSON.stringify({ urls: ['https://example.com/'] }),
    });
    await countFor('/crawl', init());
    const { status, counts } = await countFor('/crawl', init());
    expect(status).toBe(200);
    console.log('POST /crawl (JWT from a key) round trips:', JSON.stringify(counts), 'total', total(counts));
    expect(counts['KV.REVOCATIONS.get']).toBe(1);
    expect(counts['D1.first'] ?? 0).toBe(0);
    expect(counts['DO.RateLimiter(ip)'] ?? 0).toBe(0);
    expect(counts['DO.RateLimiter(key)']).toBe(2); // admit + this lone request's release flush
  });

  it('GET /health (public)', async () => {
    await countFor('/health', { headers: { 'CF-Connecting-IP': '203.0.113.51' } });
    const { status, counts } = await countFor('/health', { headers: { 'CF-Connecting-IP': '203.0.113.51' } });
    expect(status).toBe(200);
    console.log('GET /health round trips:', JSON.stringify(counts), 'total', total(counts));
    expect(total(counts)).toBeLessThanOrEqual(1);
  });
});
