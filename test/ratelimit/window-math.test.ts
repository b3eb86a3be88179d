import { describe, expect, it } from 'vitest';
import { gcra } from '../../src/ratelimit/gcra';
import { parseRateLimit, type RateLimitSpec } from '../../src/ratelimit/limit-spec';
import { rateLimitHeaders, retryAfterSeconds } from '../../src/ratelimit/headers';
import {
  ipSubject,
  parseRoleLimits,
  parseRouteLimits,
  principalLimits,
  routeGroupOf,
  shardCount,
  shardSpec,
} from '../../src/ratelimit/policy';
import type { Principal } from '../../src/auth/principal';

const spec = (text: string) => parseRateLimit(text) as RateLimitSpec;

/** Runs `n` requests at instant `now` through one bucket; returns allowed count and the final TAT. */
function burst(n: number, s: RateLimitSpec, now: number, tat = 0) {
  let allowed = 0;
  for (let i = 0; i < n; i++) {
    const r = gcra(tat, s, 1, now);
    if (r.decision.allowed) allowed++;
    tat = r.tat;
  }
  return { allowed, tat };
}

describe('limit spec', () => {
  it('parses the seed forms and an optional burst', () => {
    expect(parseRateLimit('100/minute')).toEqual({ limit: 100, windowMs: 60_000, text: '100/minute' });
    expect(parseRateLimit('10/s;burst=20')).toEqual({ limit: 10, windowMs: 1000, text: '10/second;burst=20', burst: 20 });
    expect(parseRateLimit('5000/hours')?.windowMs).toBe(3_600_000);
    expect(parseRateLimit('0/minute')).toBeNull();
    expect(parseRateLimit('10/second;burst=0')).toBeNull();
    expect(parseRateLimit('10/fortnight')).toBeNull();
  });
});

describe('GCRA window math', () => {
  it('allows exactly the limit at once, and the next request is refused', () => {
    const s = spec('5/minute');
    const { allowed, tat } = burst(5, s, 1_000_000);
    expect(allowed).toBe(5);
    const sixth = gcra(tat, s, 1, 1_000_000).decision;
    expect(sixth).toMatchObject({ allowed: false, remaining: 0, limit: 5 });
    expect(sixth.retryAfterMs).toBe(12_000); // one request's worth of the window
  });

  it('counts remaining down to zero', () => {
    const s = spec('3/second');
    let tat = 0;
    const remaining: number[] = [];
    for (let i = 0; i < 3; i++) {
      const r = gcra(tat, s, 1, 50);
      tat = r.tat;
      remaining.push(r.decision.remaining);
    }
    expect(remaining).toEqual([2, 1, 0]);
  });

  it('refills one request per interval and the whole quota after a full window', () => {
    const s = spec('5/minute');
    const t0 = 1_000_000;
    const { tat } = burst(5, s, t0);
    expect(gcra(tat, s, 1, t0 + 11_999).decision.allowed).toBe(false);
    expect(gcra(tat, s, 1, t0 + 12_000).decision.allowed).toBe(true);
    expect(burst(6, s, t0 + 60_000, tat).allowed).toBe(5); // rolled over: a fresh window's worth, no more
  });

  it('a burst above the rate admits the burst, then the steady rate', () => {
    const s = spec('10/second;burst=20');
    const { allowed, tat } = burst(30, s, 0);
    expect(allowed).toBe(20);
    expect(gcra(tat, s, 1, 100).decision.allowed).toBe(true); // 100 ms = one interval later
  });

  it('weighs a request by its cost and refuses a cost above the bucket', () => {
    const s = spec('10/minute');
    expect(gcra(0, s, 4, 0).decision.remaining).toBe(6);
    expect(gcra(0, s, 11, 0).decision.allowed).toBe(false);
  });
});

describe('headers', () => {
  it('formats draft RateLimit-Policy / RateLimit lists and X-RateLimit for the tightest policy', () => {
    const h = rateLimitHeaders([
      { policy: 'ip', spec: spec('600/minute'), decision: { allowed: true, limit: 600, remaining: 599, resetMs: 100, retryAfterMs: 0 } },
      { policy: 'key', spec: spec('10/minute'), decision: { allowed: true, limit: 10, remaining: 3, resetMs: 42_100, retryAfterMs: 0 } },
    ]);
    expect(h['RateLimit-Policy']).toBe('"ip";q=600;w=60, "key";q=10;w=60');
    expect(h.RateLimit).toBe('"ip";r=599;t=1, "key";r=3;t=43');
    expect(h['X-RateLimit-Limit']).toBe('10');
    expect(h['X-RateLimit-Remaining']).toBe('3');
    expect(h['X-RateLimit-Reset']).toBe('43');
    expect(
      retryAfterSeconds([
        { policy: 'k', spec: spec('1/minute'), decision: { allowed: false, limit: 1, remaining: 0, resetMs: 1, retryAfterMs: 1_001 } },
      ]),
    ).toBe(2);
  });
});

describe('policy', () => {
  it('buckets IPv4 by address (either spelling) and IPv6 by /64', () => {
    expect(ipSubject('203.0.113.9')).toBe('203.0.113.9');
    expect(ipSubject('::ffff:203.0.113.9')).toBe('203.0.113.9');
    expect(ipSubject('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(ipSubject('2001:0db8:0001:0002:ffff:ffff:ffff:ffff')).toBe('2001:db8:1:2::/64');
    expect(ipSubject(null)).toBe('unknown');
    expect(ipSubject('not-an-ip')).toBe('unknown');
  });

  it('maps paths to the nginx zones', () => {
    expect(routeGroupOf('/health')).toBe('health');
    expect(routeGroupOf('/playground/x')).toBe('playground');
    expect(routeGroupOf('/crawl')).toBe('api');
  });

  it('parses role and route overrides and names what is wrong', () => {
    const roles = parseRoleLimits('{"user":"7/minute","admin":{"concurrency":3}}');
    expect(typeof roles).toBe('object');
    if (typeof roles === 'object') {
      expect(roles.user.rate.text).toBe('7/minute');
      expect(roles.admin).toMatchObject({ concurrency: 3, rate: { text: '1000/minute' } });
    }
    expect(parseRoleLimits('{"root":"1/minute"}')).toContain('unknown role');
    expect(parseRouteLimits('{"api":"fast"}')).toContain('api');
    expect(parseRouteLimits('[')).toBe('is not valid JSON');
  });

  it('uses the key record limit, else the default; users get their most generous role', () => {
    const roles = parseRoleLimits('{"viewer":"2/minute","user":"50/minute"}');
    if (typeof roles === 'string') throw new Error(roles);
    const dflt = spec('100/minute');
    const key: Principal = { kind: 'key', id: 'key_1', name: 'k', roles: [], permissions: [], rateLimit: '7/second', maxConcurrency: 3 };
    expect(principalLimits(key, dflt, roles)).toMatchObject({
      dimension: 'key',
      subject: 'key_1',
      rate: { text: '7/second' },
      concurrency: 3,
    });
    expect(principalLimits({ ...key, rateLimit: undefined, maxConcurrency: undefined }, dflt, roles)).toMatchObject({
      rate: { text: '100/minute' },
      concurrency: 10,
    });
    const user: Principal = { kind: 'user', id: 'usr_1', name: 'u', roles: ['viewer', 'user'], permissions: [] };
    expect(principalLimits(user, dflt, roles)).toMatchObject({
      dimension: 'user',
      subject: 'usr_1',
      rate: { text: '50/minute' },
      concurrency: 10,
    });
  });

  it('shards only hot limits, dividing the limit between shards', () => {
    expect(shardCount(spec('1000/minute'))).toBe(1);
    expect(shardCount(spec('30000/minute'))).toBe(1);
    expect(shardCount(spec('1000/second'))).toBe(2);
    expect(shardSpec(spec('1000/second;burst=2000'), 2)).toMatchObject({ limit: 500, burst: 1000, windowMs: 1000 });
  });
});
