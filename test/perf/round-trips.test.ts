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
  it('POST /crawl with an API key, forwarded to the origin', async () => {
    const init = () => ({ method: 'POST', headers: { 'X-API-Key': KEY, 'Content-Type': 'application/json', 'CF-Connecting-IP': '203.0.113.50' }, body: JSON.stringify({ urls: ['https://example.com/'] }) });
    await countFor('/crawl', init()); // warm: config, seed-key index, key caches
    const { status, counts } = await countFor('/crawl', init());
    expect(status).toBe(200);
    console.log('POST /crawl round trips:', JSON.stringify(counts), 'total', total(counts));
    expect(counts['D1.first'] ?? 0).toBe(0); // a seed key never touches D1
    expect(counts['DO.RateLimiter(key)']).toBe(2); // rate + lease in one call, then the release
    expect(total(counts)).toBeLessThanOrEqual(5);
  });

  it('POST /crawl with a hot key (limit above 250 r/s: its counter is sharded)', async () => {
    const init = () => ({ method: 'POST', headers: { 'X-API-Key': HOT_KEY, 'Content-Type': 'application/json', 'CF-Connecting-IP': '203.0.113.52' }, body: JSON.stringify({ urls: ['https://example.com/'] }) });
    await countFor('/crawl', init());
    const { status, counts } = await countFor('/crawl', init());
    expect(status).toBe(200);
    console.log('POST /crawl (hot key) round trips:', JSON.stringify(counts), 'total', total(counts));
    expect(counts['DO.RateLimiter(key)']).toBe(3); // rate on a shard, lease on the key's object, release
  });

  it('GET /health (public)', async () => {
    await countFor('/health', { headers: { 'CF-Connecting-IP': '203.0.113.51' } });
    const { status, counts } = await countFor('/health', { headers: { 'CF-Connecting-IP': '203.0.113.51' } });
    expect(status).toBe(200);
    console.log('GET /health round trips:', JSON.stringify(counts), 'total', total(counts));
    expect(total(counts)).toBeLessThanOrEqual(3);
  });
});
