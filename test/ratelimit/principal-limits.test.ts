/**
 * Per-principal limits and crawl concurrency leases (real RateLimiter objects): the key record's
 * limit, DEFAULT_RATE_LIMIT, role defaults, concurrent requests, and leases released on success,
 * error and client abort, and expiring after a crash.
 */
import { RELEASE_FLUSH_MS } from '../../src/ratelimit/limiter-client';
import { describe, expect, it } from 'vitest';
import { envWith } from '../helpers/app-env';
import { problem } from '../helpers/http';
import type { Principal } from '../../src/auth/principal';
import { principals, send, streams } from './principal-app';
import { failingLimiter, realLimiter, uniqueId } from './helpers';
import { callAs, credentialFor } from '../helpers/principal';

function keyPrincipal(extra: Partial<Principal> = {}): { name: string; p: Principal } {
  const p: Principal = { kind: 'key', id: uniqueId('key'), name: 'test key', roles: [], permissions: ['crawl:run'], ...extra };
  const name = p.id;
  principals.set(name, p);
  return { name, p };
}
function userPrincipal(roles: Principal['roles']): { name: string; p: Principal } {
  const p: Principal = { kind: 'user', id: uniqueId('usr'), name: 'someone', roles, permissions: [] };
  principals.set(p.id, p);
  return { name: p.id, p };
}
const leasesOf = (dimension: string, id: string) => realLimiter.get(realLimiter.idFromName(`${dimension}:${id}`)).activeLeases();
/** Releases are deferred (piggybacked or flushed within RELEASE_FLUSH_MS): wait for the count to settle. */
async function expectLeases(dimension: string, id: string, n: number): Promise<void> {
  const deadline = Date.now() + 20 * RELEASE_FLUSH_MS;
  while ((await leasesOf(dimension, id)) !== n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  expect(await leasesOf(dimension, id)).toBe(n);
}
const post = { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' };

describe('per API key', () => {
  it('enforces the limit from the key record, with the key policy in the headers', async () => {
    const e = envWith({ DEFAULT_RATE_LIMIT: '100/minute' });
    const { name } = keyPrincipal({ rateLimit: '2/minute' });
    const a = (await send(e, '/auth/me', name)).res;
    expect(a.status).toBe(200);
    expect(a.headers.get('RateLimit-Policy')).toContain('"key";q=2;w=60');
    expect(a.headers.get('X-RateLimit-Limit')).toBe('2');
    expect(a.headers.get('X-RateLimit-Remaining')).toBe('1');
    expect((await send(e, '/auth/me', name)).res.status).toBe(200);
    const refused = (await send(e, '/auth/me', name)).res;
    expect(refused.status).toBe(429);
    expect(refused.headers.get('Retry-After')).toBe('30');
    expect(await problem(refused)).toMatchObject({ code: 'rate_limited', policy: 'key', limit: '2/minute' });
  });

  it('falls back to DEFAULT_RATE_LIMIT for a key without its own', async () => {
    const e = envWith({ DEFAULT_RATE_LIMIT: '3/hour' });
    const { name } = keyPrincipal();
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await send(e, '/auth/me', name)).res.status);
    expect(statuses).toEqual([200, 200, 200, 429]);
  });

  it('never lets concurrent requests past the limit', async () => {
    const e = envWith({});
    const { name } = keyPrincipal({ rateLimit: '5/hour' });
    const statuses = await Promise.all(Array.from({ length: 20 }, () => send(e, '/auth/me', name).then((s) => s.res.status)));
    expect(statuses.filter((s) => s === 200)).toHaveLength(5);
    expect(statuses.filter((s) => s === 429)).toHaveLength(15);
  });
});

describe('through the real app (src/app.ts) with a chosen principal', () => {
  it('limits a key by its own rate_limit and a user by the role default', async () => {
    const keyId = uniqueId('key');
    const userId = uniqueId('usr');
    const creds: Record<string, string> = {
      k: credentialFor({ id: keyId, permissions: [], rateLimit: '2/minute' }),
      u: credentialFor({ id: userId, kind: 'user', roles: ['viewer'], permissions: [] }),
    };
    const fetchAs = (who: string, path: string) =>
      callAs(creds[who] as string, path, { vars: { ROLE_RATE_LIMITS: '{"viewer":"1/minute"}' } });
    const k = [];
    for (let i = 0; i < 3; i++) k.push(await fetchAs('k', '/openapi.json'));
    expect(k.map((r) => r.status)).toEqual([200, 200, 429]);
    expect(k[0]?.headers.get('RateLimit-Policy')).toContain('"key";q=2;w=60');
    expect(await problem(k[2] as Response)).toMatchObject({ code: 'rate_limited', policy: 'key' });
    expect((await fetchAs('u', '/openapi.json')).status).toBe(200);
    const u = await fetchAs('u', '/openapi.json');
    expect(u.status).toBe(429);
    expect((await problem(u)).policy).toBe('user');
  });
});

describe('hot principals (limits above 500 r/s)', () => {
  it('count on shard objects with the limit split between them, leases on the unsharded object', async () => {
    const e = envWith({});
    const { name, p } = keyPrincipal({ rateLimit: '3000/second', maxConcurrency: 5 }); // 6 shards of 500/s
    const sent = [];
    for (let i = 0; i < 24; i++) sent.push((await send(e, '/auth/me', name)).res);
    expect(sent.every((r) => r.status === 200)).toBe(true);
    expect(sent[0]?.headers.get('RateLimit-Policy')).toContain('"key";q=3000;w=1'); // the whole limit is advertised
    const rows = await Promise.all(
      Array.from({ length: 12 }, (_, n) => realLimiter.get(realLimiter.idFromName(`key:${p.id}:${n}`)).storedRows()),
    );
    expect(rows.filter((r) => r.buckets === 1).length).toBeGreaterThan(1); // spread over several shards
    const base = realLimiter.get(realLimiter.idFromName(`key:${p.id}`));
    expect(await base.storedRows()).toEqual({ buckets: 0, leases: 0 });
    const crawl = await send(e, '/crawl/stream', name, { ...post, stream: uniqueId('s') });
    expect(crawl.res.status).toBe(200);
    expect(await base.activeLeases()).toBe(1);
    await crawl.res.body?.cancel();
  });
});

describe('per user, from role defaults (ROLE_RATE_LIMITS)', () => {
  it('gives each role its configured limit and a user the most generous of their roles', async () => {
    const e = envWith({ ROLE_RATE_LIMITS: '{"viewer":"1/minute","user":"2/minute"}' });
    const viewer = userPrincipal(['viewer']);
    expect((await send(e, '/auth/me', viewer.name)).res.status).toBe(200);
    const v2 = (await send(e, '/auth/me', viewer.name)).res;
    expect(v2.status).toBe(429);
    expect((await problem(v2)).policy).toBe('user');
    const both = userPrincipal(['viewer', 'user']);
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await send(e, '/auth/me', both.name)).res.status);
    expect(statuses).toEqual([200, 200, 429]);
  });
});

describe('crawl concurrency leases', () => {
  it('caps in-flight crawls per key at maxConcurrency with 429 concurrency_limited', async () => {
    const e = envWith({});
    const { name, p } = keyPrincipal({ maxConcurrency: 2 });
    const s1 = uniqueId('s');
    const s2 = uniqueId('s');
    const a = await send(e, '/crawl/stream', name, { ...post, stream: s1 });
    const b = await send(e, '/crawl/stream', name, { ...post, stream: s2 });
    expect([a.res.status, b.res.status]).toEqual([200, 200]);
    await expectLeases('key', p.id, 2);
    const c = (await send(e, '/crawl', name, post)).res;
    expect(c.status).toBe(429);
    expect(c.headers.get('Retry-After')).toBe('2');
    expect(await problem(c)).toMatchObject({ code: 'concurrency_limited', max_concurrency: 2 });
    // Non-crawl routes (a job status read) are not capped.
    expect((await send(e, '/crawl/job/t1', name)).res.status).toBe(200);

    // The first stream finishes normally: its lease is released by the time the body ends.
    const reading = a.res.text();
    await streams.get(s1)?.write(new TextEncoder().encode('{"url":"x"}\n'));
    await streams.get(s1)?.close();
    expect(await reading).toBe('{"url":"x"}\n');
    await expectLeases('key', p.id, 1);
    const third = (await send(e, '/crawl', name, post)).res;
    expect(third.status).toBe(200);
    await third.text(); // a slot is held until the response has been sent

    // The client walks away from the second: cancelling the body releases its lease.
    await b.res.body?.cancel('client went away');
    await expectLeases('key', p.id, 0);
  });

  it('releases the lease of a buffered response on success and of a failed handler on error', async () => {
    const e = envWith({});
    const { name, p } = keyPrincipal({ maxConcurrency: 1 });
    const ok = await send(e, '/crawl', name, post);
    expect(await ok.res.json()).toEqual({ success: true, results: [] });
    await expectLeases('key', p.id, 0);
    const failed = await send(e, '/md', name, post);
    expect(failed.res.status).toBe(500);
    await expectLeases('key', p.id, 0);
    expect((await send(e, '/crawl', name, post)).res.status).toBe(200); // the single slot is free
  });

  it('releases the lease when the stream errors', async () => {
    const e = envWith({});
    const { name, p } = keyPrincipal({ maxConcurrency: 1 });
    const s = uniqueId('s');
    const sent = await send(e, '/crawl/stream', name, { ...post, stream: s });
    const reading = sent.res.text().catch((err: unknown) => String(err));
    await streams.get(s)?.abort(new Error('origin reset the connection'));
    expect(await reading).toContain('origin reset');
    await expectLeases('key', p.id, 0);
  });

  it('uses the role default for users and Crawl4AI default 10 when nothing is configured', async () => {
    const e = envWith({ ROLE_RATE_LIMITS: '{"user":{"concurrency":1}}' });
    const u = userPrincipal(['user']);
    const s = uniqueId('s');
    expect((await send(e, '/crawl/stream', u.name, { ...post, stream: s })).res.status).toBe(200);
    expect((await send(e, '/crawl', u.name, post)).res.status).toBe(429);
    await streams.get(s)?.close();
    const k = keyPrincipal();
    const held = [];
    for (let i = 0; i < 10; i++) held.push(await send(e, '/crawl/stream', k.name, { ...post, stream: uniqueId('s') }));
    expect(held.every((h) => h.res.status === 200)).toBe(true);
    expect((await send(e, '/crawl', k.name, post)).res.status).toBe(429);
  });

  it('a lease whose Worker died frees itself at its expiry (origin timeout + margin)', async () => {
    const e = envWith({ ORIGIN_TIMEOUT_MS: '1000' }); // lease TTL = 1 s + 60 s margin
    const { name, p } = keyPrincipal({ maxConcurrency: 1 });
    // The stream is never finished nor cancelled: as if the isolate crashed mid-request.
    const started = Date.now();
    expect((await send(e, '/crawl/stream', name, { ...post, stream: uniqueId('s') })).res.status).toBe(200);
    expect((await send(e, '/crawl', name, post)).res.status).toBe(429);
    const stub = realLimiter.get(realLimiter.idFromName(`key:${p.id}`));
    expect(await stub.activeLeases(started + 60_000)).toBe(1);
    expect(await stub.activeLeases(Date.now() + 61_001)).toBe(0);
    expect((await stub.acquireLease('after-crash', 1, 61_000, Date.now() + 61_001)).acquired).toBe(true);
  });

  it('fails closed on crawl routes when the limiter is down, and holds no lease', async () => {
    const failing = failingLimiter();
    const e = envWith({});
    Object.assign(e, { RATE_LIMITER: failing.ns });
    const { name } = keyPrincipal();
    const res = (await send(e, '/crawl', name, post)).res;
    expect(res.status).toBe(503);
    expect(res.headers.get('Retry-After')).toBe('5');
    expect((await problem(res)).code).toBe('limiter_unavailable');
    expect(failing.attempts()).toBe(1); // the IP object failed first; nothing after it was tried
  });
});
