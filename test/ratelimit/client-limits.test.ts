/**
 * The limits that apply before authentication, through the real app (src/app.ts) with real
 * Durable Objects: per client IP, per route group, login attempts per IP and per username,
 * the RateLimit headers, and what happens when the limiter itself fails.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { env } from 'cloudflare:workers';
import { callWith, envWith } from '../helpers/app-env';
import { problem } from '../helpers/http';
import type { Env } from '../../src/env';
import { flushMetrics } from '../../src/metrics/recorder';
import { DENIAL_AUDIT_WINDOW_MS as REFUSAL_AUDIT_WINDOW_MS, denialAuditDecision as refusalAuditDecision } from '../../src/audit/aggregate';
import { captureAudit, countingLimiter, failingLimiter, uniqueIp } from './helpers';

const get = (e: Env, path: string, ip: string, headers: Record<string, string> = {}) =>
  callWith(e, path, { headers: { 'CF-Connecting-IP': ip, ...headers } });

const login = (e: Env, path: string, ip: string, body: Record<string, string>, form = true) =>
  callWith(e, path, {
    method: 'POST',
    headers: { 'CF-Connecting-IP': ip, 'Content-Type': form ? 'application/x-www-form-urlencoded' : 'application/json' },
    body: form ? new URLSearchParams(body).toString() : JSON.stringify(body),
  });

let audit: ReturnType<typeof captureAudit> | null = null;
afterEach(() => audit?.restore());

describe('per client IP (IP_RATE_LIMIT)', () => {
  it('allows exactly the limit, then answers 429 rate_limited with Retry-After and the headers', async () => {
    const e = envWith({ IP_RATE_LIMIT: '3/minute' });
    const ip = uniqueIp();
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await get(e, '/health', ip)).status);
    expect(statuses).toEqual([200, 200, 200]);
    const res = await get(e, '/health', ip);
    expect(res.status).toBe(429);
    expect(Number(res.headers.get('Retry-After'))).toBe(20);
    const body = await problem(res);
    expect(body.code).toBe('rate_limited');
    expect(body.detail).toContain('3/minute');
    expect(res.headers.get('RateLimit-Policy')).toContain('"ip";q=3;w=60');
    expect(res.headers.get('RateLimit')).toContain('"ip";r=0;t=');
    expect(res.headers.get('X-RateLimit-Limit')).toBe('3');
    expect(res.headers.get('X-RateLimit-Remaining')).toBe('0');
    expect(res.headers.get('X-Request-Id')).toBeTruthy(); // security middleware still ran
  });

  it('sends the draft and X-RateLimit headers on a 200', async () => {
    const e = envWith({ IP_RATE_LIMIT: '10/minute' });
    const res = await get(e, '/health', uniqueIp());
    expect(res.status).toBe(200);
    expect(res.headers.get('RateLimit-Policy')).toBe('"ip";q=10;w=60, "health";q=2000;w=1');
    expect(res.headers.get('RateLimit')).toMatch(/^"ip";r=9;t=6, "health";r=1999;t=1$/);
    expect(res.headers.get('X-RateLimit-Limit')).toBe('10');
    expect(res.headers.get('X-RateLimit-Remaining')).toBe('9');
    expect(res.headers.get('X-RateLimit-Reset')).toBe('6');
  });

  it('is not reset or moved by a client-set X-Forwarded-For', async () => {
    const e = envWith({ IP_RATE_LIMIT: '2/minute' });
    const ip = uniqueIp();
    await get(e, '/health', ip);
    await get(e, '/health', ip, { 'X-Forwarded-For': '203.0.113.7' });
    const spoofed = await get(e, '/health', ip, { 'X-Forwarded-For': uniqueIp(), 'X-Real-IP': uniqueIp() });
    expect(spoofed.status).toBe(429);
    expect((await get(e, '/health', uniqueIp())).status).toBe(200); // another real address has its own bucket
  });

  it('counts a whole IPv6 /64 as one client', async () => {
    const e = envWith({ IP_RATE_LIMIT: '2/minute' });
    const prefix = `2001:db8:ffff:${Math.floor(Math.random() * 65535).toString(16)}`;
    expect((await get(e, '/health', `${prefix}::1`)).status).toBe(200);
    expect((await get(e, '/health', `${prefix}:1:2:3:4`)).status).toBe(200);
    expect((await get(e, '/health', `${prefix}:dead:beef::99`)).status).toBe(429);
  });

  it('writes an audit row and counts the rejection by dimension', async () => {
    audit = captureAudit();
    const e = envWith({ IP_RATE_LIMIT: '1/minute' });
    (e as unknown as Record<string, unknown>).AUDIT_LOG = audit.binding;
    const ip = uniqueIp();
    await get(e, '/health', ip);
    expect((await get(e, '/health', ip)).status).toBe(429);
    const row = audit.events().find((ev) => ev.action === 'rate_limited' && ev.ip === ip);
    expect(row).toMatchObject({ outcome: 'denied', reason: 'ip', status: 429, actor_kind: 'anonymous' });
    await flushMetrics(e, true);
    const series = await (env as unknown as Env).METRICS.get((env as unknown as Env).METRICS.idFromName('global')).snapshot();
    expect(series['crawlgate_rate_limit_rejections_total{dimension="ip"}']).toBeGreaterThanOrEqual(1);
  });

  it('audits a flood of refusals once per client and window; the next row says how many it stood for', async () => {
    audit = captureAudit();
    const e = envWith({ IP_RATE_LIMIT: '1/minute' });
    (e as unknown as Record<string, unknown>).AUDIT_LOG = audit.binding;
    const ip = uniqueIp();
    await get(e, '/health', ip);
    for (let i = 0; i < 6; i++) expect((await get(e, '/health', ip)).status).toBe(429);
    const rows = () => audit!.events().filter((ev) => ev.action === 'rate_limited' && ev.ip === ip);
    expect(rows()).toHaveLength(1);
    // Pure part: the window rolls over and the next row carries the suppressed count.
    expect(refusalAuditDecision('k', 0)).toEqual({ write: true, suppressed: 0 });
    expect(refusalAuditDecision('k', 1)).toEqual({ write: false, suppressed: 0 });
    expect(refusalAuditDecision('k', 2)).toEqual({ write: false, suppressed: 0 });
    expect(refusalAuditDecision('k', REFUSAL_AUDIT_WINDOW_MS + 5)).toEqual({ write: true, suppressed: 2 });
  });
});

describe('hot keys', () => {
  it('answers a flood against an exhausted bucket from the isolate, without reaching the object', async () => {
    const counting = countingLimiter();
    const e = envWith({ IP_RATE_LIMIT: '1/hour' });
    Object.assign(e, { RATE_LIMITER: counting.ns });
    const ip = uniqueIp();
    const statuses = [];
    for (let i = 0; i < 6; i++) statuses.push((await get(e, '/health', ip)).status);
    expect(statuses).toEqual([200, 429, 429, 429, 429, 429]);
    expect(counting.calls()).toBe(2); // one admitted, one refused by the object; the rest never left the isolate
    const last = await get(e, '/health', ip);
    expect(Number(last.headers.get('Retry-After'))).toBeGreaterThan(3500); // the cached wait, not a fresh guess
  });
});

describe('per route group (ROUTE_RATE_LIMITS, the nginx zones)', () => {
  it('limits a group per IP without touching the other groups', async () => {
    const e = envWith({ ROUTE_RATE_LIMITS: '{"health":"2/minute"}' });
    const ip = uniqueIp();
    expect((await get(e, '/health', ip)).status).toBe(200);
    expect((await get(e, '/health', ip)).status).toBe(200);
    const res = await get(e, '/health', ip);
    expect(res.status).toBe(429);
    expect((await problem(res)).policy).toBe('health');
    const api = await get(e, '/openapi.json', ip);
    expect(api.status).toBe(200);
    expect(api.headers.get('RateLimit-Policy')).toContain('"api";q=10;w=1'); // the default api zone: 10 r/s
  });

  it('admits a zone burst at once (concurrently), then refuses', async () => {
    // A slow refill (1/minute) keeps the count exact however long the requests take.
    const e = envWith({ ROUTE_RATE_LIMITS: '{"api":"1/minute;burst=20"}' });
    const ip = uniqueIp();
    const statuses = await Promise.all(Array.from({ length: 25 }, () => get(e, '/openapi.json', ip).then((r) => r.status)));
    expect(statuses.filter((s) => s === 200)).toHaveLength(20);
    expect(statuses.filter((s) => s === 429)).toHaveLength(5);
  });
});

describe('login attempts (LOGIN_RATE_LIMIT)', () => {
  it('stops one username guessed from many addresses', async () => {
    const e = envWith({ LOGIN_RATE_LIMIT: '2/minute' });
    const user = `victim-${uniqueIp()}`;
    const first = await login(e, '/auth/token', uniqueIp(), { grant_type: 'password', username: user, password: 'a' });
    const second = await login(
      e,
      '/auth/token',
      uniqueIp(),
      { grant_type: 'password', username: user.toUpperCase(), password: 'b' },
      false,
    );
    expect([first.status, second.status]).not.toContain(429);
    const form = new FormData();
    form.set('grant_type', 'password');
    form.set('username', ` ${user} `);
    form.set('password', 'c');
    const third = await callWith(e, '/auth/token', { method: 'POST', headers: { 'CF-Connecting-IP': uniqueIp() }, body: form });
    expect(third.status).toBe(429);
    const body = await problem(third);
    expect(body.policy).toBe('login-user');
    expect(JSON.stringify(body)).not.toContain(user); // the username is not echoed
  });

  it('stops one address trying many usernames, on /auth/token and /token alike', async () => {
    const e = envWith({ LOGIN_RATE_LIMIT: '2/minute' });
    const ip = uniqueIp();
    await login(e, '/auth/token', ip, { grant_type: 'password', username: 'u1', password: 'x' });
    await login(e, '/token', ip, { email: 'u2@example.com', api_token: 'x' }, false);
    const res = await login(e, '/token', ip, { email: 'u3@example.com', api_token: 'x' }, false);
    expect(res.status).toBe(429);
    expect((await problem(res)).policy).toBe('login-ip');
  });

  it('does not count refresh-token grants as login attempts', async () => {
    const e = envWith({ LOGIN_RATE_LIMIT: '1/minute' });
    const ip = uniqueIp();
    for (let i = 0; i < 3; i++) {
      const res = await login(e, '/auth/token', ip, { grant_type: 'refresh_token', refresh_token: 'r' });
      expect(res.status).not.toBe(429);
    }
  });
});

describe('when the limiter fails', () => {
  it('fails closed on /auth/* and /admin/* with 503 limiter_unavailable and Retry-After, one attempt per object', async () => {
    audit = captureAudit();
    const failing = failingLimiter();
    const e = envWith({});
    Object.assign(e, { RATE_LIMITER: failing.ns, AUDIT_LOG: audit.binding });
    const res = await login(e, '/auth/token', uniqueIp(), { grant_type: 'password', username: 'admin', password: 'x' });
    expect(res.status).toBe(503);
    expect(res.headers.get('Retry-After')).toBe('5');
    expect((await problem(res)).code).toBe('limiter_unavailable');
    expect(failing.attempts()).toBe(2); // the IP object and the username object, once each: no retries

    const admin = await get(e, '/admin/keys', uniqueIp());
    expect(admin.status).toBe(503);
    expect(failing.attempts()).toBe(3);

    // The same client again, right away: answered 503 without touching the failed object again.
    const ip = uniqueIp();
    expect((await get(e, '/admin/users', ip)).status).toBe(503);
    expect((await get(e, '/admin/users', ip)).status).toBe(503);
    expect(failing.attempts()).toBe(4);
    expect(audit.events().some((ev) => ev.action === 'rate_limited' && ev.outcome === 'error' && ev.status === 503)).toBe(true);
  });

  it('fails open on /health so load balancers keep the gateway in rotation', async () => {
    const failing = failingLimiter();
    const e = envWith({});
    Object.assign(e, { RATE_LIMITER: failing.ns });
    const res = await get(e, '/health', uniqueIp());
    expect(res.status).toBe(200);
    expect(res.headers.get('RateLimit')).toBeNull();
    expect(failing.attempts()).toBe(1);
  });
});
