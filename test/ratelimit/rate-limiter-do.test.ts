import { describe, expect, it } from 'vitest';
import { env } from 'cloudflare:workers';
import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import type { Env } from '../../src/env';
import { parseRateLimit, type RateLimitSpec } from '../../src/ratelimit/limit-spec';
import type { RateLimiter } from '../../src/ratelimit/rate-limiter-do';

const ns = (env as unknown as Env).RATE_LIMITER;
const spec = (text: string) => parseRateLimit(text) as RateLimitSpec;
let n = 0;
const fresh = () => ns.get(ns.idFromName(`test:do-${Date.now()}-${n++}`));

describe('RateLimiter Durable Object', () => {
  it('allows exactly the limit, then refuses with Retry-After', async () => {
    const stub = fresh();
    const t = Date.now() + 3_600_000; // an injected clock an hour ahead (the real alarm stays out of the way)
    const results = [];
    for (let i = 0; i < 4; i++) results.push(await stub.check('key', spec('3/minute'), 1, t));
    expect(results.map((r) => r.allowed)).toEqual([true, true, true, false]);
    expect(results.map((r) => r.remaining)).toEqual([2, 1, 0, 0]);
    expect(results[3]?.retryAfterMs).toBe(20_000);
  });

  it('rolls over: after the window (injected clock) the full quota is back, and no more', async () => {
    const stub = fresh();
    const t = Date.now() + 3_600_000; // an injected clock an hour ahead (the real alarm stays out of the way)
    for (let i = 0; i < 3; i++) await stub.check('key', spec('3/minute'), 1, t);
    expect((await stub.check('key', spec('3/minute'), 1, t + 59_999)).allowed).toBe(true); // 1 refilled at +20 s
    const later = [];
    for (let i = 0; i < 4; i++) later.push((await stub.check('key', spec('3/minute'), 1, t + 60_000 + 60_000)).allowed);
    expect(later).toEqual([true, true, true, false]);
  });

  it('never exceeds the limit under concurrent requests', async () => {
    const stub = fresh();
    const results = await Promise.all(Array.from({ length: 50 }, () => stub.check('key', spec('20/hour'), 1)));
    expect(results.filter((r) => r.allowed)).toHaveLength(20);
  });

  it('admits all-or-nothing: a refusing bucket consumes nothing from the others', async () => {
    const stub = fresh();
    const t = Date.now() + 3_600_000; // an injected clock an hour ahead (the real alarm stays out of the way)
    await stub.check('tight', spec('1/minute'), 1, t);
    const r = await stub.admit({
      checks: [
        { bucket: 'wide', spec: spec('2/minute') },
        { bucket: 'tight', spec: spec('1/minute') },
      ],
      now: t,
    });
    expect(r.allowed).toBe(false);
    expect((await stub.check('wide', spec('2/minute'), 1, t)).remaining).toBe(1); // still 2 before this one
  });

  it('caps leases, frees them on release, and lets an expired lease go (a crashed Worker)', async () => {
    const stub = fresh();
    const t = Date.now() + 3_600_000; // an injected clock an hour ahead (the real alarm stays out of the way)
    expect((await stub.acquireLease('a', 2, 1000, t)).acquired).toBe(true);
    expect((await stub.acquireLease('b', 2, 1000, t)).acquired).toBe(true);
    const third = await stub.acquireLease('c', 2, 1000, t + 10);
    expect(third).toMatchObject({ acquired: false, active: 2, max: 2, retryAfterMs: 990 });
    expect(await stub.releaseLease('a')).toBe(true);
    expect(await stub.releaseLease('a')).toBe(false);
    expect((await stub.acquireLease('c', 2, 1000, t + 20)).acquired).toBe(true);
    // Nobody releases b or c (their Worker died): at their expiry the slots are free again.
    expect((await stub.acquireLease('d', 2, 1000, t + 999)).acquired).toBe(false);
    expect(await stub.activeLeases(t + 1020)).toBe(0);
    expect((await stub.acquireLease('d', 2, 1000, t + 1020)).acquired).toBe(true);
  });

  it('a `fresh` lease whose id is live is refused as a duplicate and spends nothing (an MCP call id reused in flight)', async () => {
    const stub = fresh();
    const t = Date.now() + 3_600_000;
    const check = { bucket: 'k', spec: spec('10/minute') };
    expect((await stub.admit({ checks: [check], lease: { id: 'mcp:s:1', max: 5, ttlMs: 60_000, fresh: true }, now: t })).allowed).toBe(
      true,
    );
    const again = await stub.admit({ checks: [check], lease: { id: 'mcp:s:1', max: 5, ttlMs: 60_000, fresh: true }, now: t });
    expect(again).toMatchObject({ allowed: false, lease: { acquired: false, duplicate: true, active: 1 } });
    // The refused admit stored nothing: the next token leaves 10 - 1 (first) - 1 (this one) = 8.
    expect((await stub.admit({ checks: [check], now: t })).decisions[0]?.remaining).toBe(8);
    // Without `fresh` the same id renews the lease (the HTTP path's behaviour).
    expect((await stub.admit({ checks: [], lease: { id: 'mcp:s:1', max: 5, ttlMs: 60_000 }, now: t })).lease).toMatchObject({
      acquired: true,
      active: 1,
    });
  });

  it('frees leases carried by an admit before deciding it (a piggybacked release), even when the admit is refused', async () => {
    const stub = fresh();
    const t = Date.now() + 3_600_000;
    expect((await stub.admit({ checks: [], lease: { id: 'a', max: 1, ttlMs: 60_000 }, now: t })).allowed).toBe(true);
    expect((await stub.admit({ checks: [], lease: { id: 'b', max: 1, ttlMs: 60_000 }, now: t })).allowed).toBe(false);
    // The finished request's release rides on the next request's admit: the single slot is free for it.
    const next = await stub.admit({ checks: [], lease: { id: 'b', max: 1, ttlMs: 60_000 }, release: ['a'], now: t });
    expect(next).toMatchObject({ allowed: true, lease: { acquired: true, active: 1 } });
    // A refused admit still delivers its releases.
    const refused = await stub.admit({ checks: [{ bucket: 'k', spec: spec('1/minute'), cost: 2 }], release: ['b'], now: t });
    expect(refused.allowed).toBe(false);
    expect(await stub.activeLeases(t)).toBe(0);
    expect(await stub.releaseLeases(['a', 'b', 'never-held'])).toBe(0);
  });

  it('renews a live lease so a long stream keeps its slot', async () => {
    const stub = fresh();
    const t = Date.now() + 3_600_000; // an injected clock an hour ahead (the real alarm stays out of the way)
    await stub.acquireLease('long', 1, 1000, t);
    expect(await stub.renewLease('long', 1000, t + 900)).toBe(true);
    expect((await stub.acquireLease('other', 1, 1000, t + 1500)).acquired).toBe(false);
    expect(await stub.renewLease('long', 1000, t + 5000)).toBe(false); // already expired: not revived
  });

  it('alarm() deletes idle buckets and expired leases', async () => {
    const stub = fresh();
    const past = Date.now() - 3_600_000; // state written an hour ago, as if the Worker then crashed
    expect((await stub.check('key', spec('10/minute'), 1, past)).allowed).toBe(true);
    expect((await stub.acquireLease('crashed', 5, 60_000, past)).acquired).toBe(true);
    expect((await stub.acquireLease('live', 5, 3_600_000)).acquired).toBe(true);
    await runDurableObjectAlarm(stub); // (it may already have fired on its own: the outcome is the same)
    expect(await stub.storedRows()).toEqual({ buckets: 0, leases: 1 });
    expect(await stub.activeLeases()).toBe(1);
    // The live lease keeps a clean-up alarm scheduled for its expiry.
    const alarm = await runInDurableObject(stub, async (_o: RateLimiter, state) => state.storage.getAlarm());
    expect(alarm).toBeGreaterThan(Date.now() + 3_000_000);
  });
});
