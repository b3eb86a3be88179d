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

type Counts = Record<string, number>;

function counting(e: Env, counts: Counts): Env {
  const bump = (k: string) => (counts[k] = (counts[k] ?? 0) + 1);
  const wrapObject = <T extends object>(target: T, label: string, methods: string[], inner?: (name: string, value: unknown) => unknown): T =>
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
    return wrapObject(s, 'D1', ['first', 'run', 'all', 'raw'], (name, out) => (name === 'bind' ? wrapStatement(out as D1PreparedStatement) : out));
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
const base = {
  ...(env as unknown as Env),
  API_KEYS: JSON.stringify({
    perf: { key: KEY, scopes: ['crawl'], rate_limit: '1000/minute', max_concurrency: 100 },
    hot: { key: HOT_KEY, scopes: ['crawl'], rate_limit: '100000/minute', max_concurrency: 100 },
  }),
} as Env;

async function countFor(path: string, init: RequestInit): Promise<{ status: number; counts: Counts }> {
  const { statuses, counts } = await countMany([[path, init]]);
  return { status: statuses[0] as number, counts };
}

/**
 * Runs requests one after the other (each response read in full) while their background work
 * (waitUntil) is still pending, as on a busy isolate; then waits for all of it and returns the
 * total counts. `together` sends them concurrently instead.
 */
async function countMany(requests: Array<[string, RequestInit]>, together = false): Promise<{ statuses: number[]; counts: Counts }> {
  const counts: Counts = {};
  const e = counting(base, counts);
  const ctxs: ExecutionContext[] = [];
  const one = async ([path, init]: [string, RequestInit]) => {
    const ctx = createExecutionContext();
    ctxs.push(ctx);
    const res = await app.fetch(new Request(BASE + path, init), e, ctx);
    await res.arrayBuffer();
    return res.status;
  };
  const statuses: number[] = [];
  if (together) statuses.push(...(await Promise.all(requests.map(one))));
  else for (const r of requests) statuses.push(await one(r));
  for (const ctx of ctxs) await waitOnExecutionContext(ctx);
  return { statuses, counts };
}

const total = (c: Counts) => Object.values(c).reduce((a, b) => a + b, 0);
const crawl = (headers: Record<string, string>, ip: string): RequestInit => ({
  method: 'POST',
  headers: { 'Content-Type': 'application/json', 'CF-Connecting-IP': ip, ...headers },
  body: JSON.stringify({ urls: ['https://example.com/'] }),
});

describe('storage round trips per request (warm isolate)', () => {
  it('POST /crawl with an API key, alone: 1 KV read, 1 admit + the timed lease-release flush, 1 audit call, no IP call, no D1', async () => {
    const init = () => crawl({ 'X-API-Key': KEY }, '203.0.113.50');
    await countFor('/crawl', init()); // warm: config, seed-key index, key caches
    const { status, counts } = await countFor('/crawl', init());
    expect(status).toBe(200);
    console.log('POST /crawl round trips:', JSON.stringify(counts), 'total', total(counts));
    expect(counts['D1.first'] ?? 0).toBe(0); // a seed key never touches D1
    expect(counts['DO.RateLimiter(ip)'] ?? 0).toBe(0); // an authenticated request is limited by its key only
    expect(counts['KV.REVOCATIONS.get']).toBe(1);
    expect(counts['DO.RateLimiter(key)']).toBe(2); // rate + lease in one call; nothing followed within 100 ms, so the release is flushed alone
    expect(counts['DO.AuditLog(chain)']).toBe(1);
    expect(total(counts)).toBeLessThanOrEqual(4);
  });

  it('POST /crawl back to back: the release rides on the next admit, so each request costs 1 RateLimiter call', async () => {
    const reqs = Array.from({ length: 3 }, () => ['/crawl', crawl({ 'X-API-Key': KEY }, '203.0.113.53')] as [string, RequestInit]);
    await countMany(reqs.slice(0, 1));
    const { statuses, counts } = await countMany(reqs);
    expect(statuses).toEqual([200, 200, 200]);
    console.log('3 x POST /crawl back to back:', JSON.stringify(counts), 'total', total(counts));
    expect(counts['DO.RateLimiter(key)']).toBe(4); // 3 admits (the 2nd and 3rd carry the previous release) + the last one's flush
    expect(counts['KV.REVOCATIONS.get']).toBe(3);
    expect(counts['DO.RateLimiter(ip)'] ?? 0).toBe(0);
    expect(counts['D1.first'] ?? 0).toBe(0);
  });

  it('concurrent requests share one AuditLog call per batch', async () => {
    const reqs = Array.from({ length: 6 }, () => ['/crawl', crawl({ 'X-API-Key': KEY }, '203.0.113.54')] as [string, RequestInit]);
    const { statuses, counts } = await countMany(reqs, true);
    expect(statuses.every((s) => s === 200)).toBe(true);
    console.log('6 concurrent POST /crawl:', JSON.stringify(counts), 'total', total(counts));
    expect(counts['DO.AuditLog(chain)']).toBeLessThan(6);
  });

  it('a generated key is served from the isolate cache: its only KV read is the revocation marker', async () => {
    const { createKey } = await import('../../src/keys/service');
    const { loadConfig } = await import('../../src/config');
    const loaded = loadConfig(base);
    if (!loaded.ok) throw new Error('test config invalid');
    const input = { name: 'perf', scopes: ['crawl:run' as const], rateLimit: '1000/minute', maxConcurrency: 100, owner: null, expiresAt: null, environment: 'live' as const, createdBy: 'test' };
    const created = await createKey(base, loaded.config, input, Date.now());
    const init = () => crawl({ 'X-API-Key': created.key }, '203.0.113.55');
    await countFor('/crawl', init());
    const { status, counts } = await countFor('/crawl', init());
    expect(status).toBe(200);
    console.log('POST /crawl (generated key) round trips:', JSON.stringify(counts), 'total', total(counts));
    expect(counts['KV.CACHE.get'] ?? 0).toBe(0);
    expect(counts['KV.REVOCATIONS.get']).toBe(1);
    expect(counts['D1.first'] ?? 0).toBe(0);
  });

  it('POST /crawl with a JWT from POST /token: one KV bulk read for both revocation markers, no D1', async () => {
    const login = await countFor('/token', { method: 'POST', headers: { 'Content-Type': 'application/json', 'CF-Connecting-IP': '203.0.113.57' }, body: JSON.stringify({ api_token: KEY }) });
    expect(login.status).toBe(200);
    const e = counting(base, {});
    const ctx = createExecutionContext();
    const res = await app.fetch(new Request(BASE + '/token', { method: 'POST', headers: { 'Content-Type': 'application/json', 'CF-Connecting-IP': '203.0.113.57' }, body: JSON.stringify({ api_token: KEY }) }), e, ctx);
    const { access_token: token } = await res.json<{ access_token: string }>();
    await waitOnExecutionContext(ctx);
    const init = () => crawl({ Authorization: `Bearer ${token}` }, '203.0.113.57');
    await countFor('/crawl', init());
    const { status, counts } = await countFor('/crawl', init());
    expect(status).toBe(200);
    console.log('POST /crawl (JWT from a key) round trips:', JSON.stringify(counts), 'total', total(counts));
    expect(counts['KV.REVOCATIONS.get']).toBe(1);
    expect(counts['DO.RateLimiter(ip)'] ?? 0).toBe(0);
    expect(counts['DO.RateLimiter(key)']).toBe(2); // admit + the lone request's release flush
    expect(counts['D1.first'] ?? 0).toBe(0);
  });

  it('POST /crawl with a hot key (limit above 250 r/s: its counter is sharded)', async () => {
    const init = () => crawl({ 'X-API-Key': HOT_KEY }, '203.0.113.52');
    await countFor('/crawl', init());
    const { status, counts } = await countFor('/crawl', init());
    expect(status).toBe(200);
    console.log('POST /crawl (hot key) round trips:', JSON.stringify(counts), 'total', total(counts));
    expect(counts['DO.RateLimiter(key)']).toBe(3); // rate on a shard, lease on the key's object, release flush
  });

  it('a bad key: 401 after one KV-free check, then the IP and route buckets are counted (1 call)', async () => {
    const init = () => crawl({ 'X-API-Key': 'sk-perf-wrong-Q8mZ2vK7pX4rT9wL3nB6cY1hD5fJ0g' }, '203.0.113.56');
    await countFor('/crawl', init());
    const { status, counts } = await countFor('/crawl', init());
    expect(status).toBe(401);
    console.log('POST /crawl (bad key) round trips:', JSON.stringify(counts), 'total', total(counts));
    expect(counts['DO.RateLimiter(ip)']).toBe(1);
    expect(counts['DO.RateLimiter(key)'] ?? 0).toBe(0);
    expect(total(counts)).toBeLessThanOrEqual(2); // + the auth_failed audit batch
  });

  it('GET /health (public)', async () => {
    await countFor('/health', { headers: { 'CF-Connecting-IP': '203.0.113.51' } });
    const { status, counts } = await countFor('/health', { headers: { 'CF-Connecting-IP': '203.0.113.51' } });
    expect(status).toBe(200);
    console.log('GET /health round trips:', JSON.stringify(counts), 'total', total(counts));
    expect(total(counts)).toBeLessThanOrEqual(1);
  });
});
