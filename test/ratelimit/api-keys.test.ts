/** Per-key limits with real API keys (seed keys from API_KEYS and keys created through /admin/keys). */
import { describe, expect, it } from 'vitest';
import { callWith, envWith } from '../helpers/app-env';
import { problem } from '../helpers/http';

const randomKey = (prefix: string) =>
  `${prefix}-${Array.from(crypto.getRandomValues(new Uint8Array(24)), (b) => 'abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789'[b % 56]).join('')}`;

describe('per API key, with real keys', () => {
  it('limits a seed key (API_KEYS) by its own rate_limit', async () => {
    const key = randomKey('sk-rl');
    const e = envWith({ API_KEYS: JSON.stringify({ k: { key, name: 'limited', rate_limit: '2/minute', scopes: ['crawl'] } }) });
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push(await callWith(e, '/openapi.json', { headers: { 'X-API-Key': key } }));
    expect(statuses.map((r) => r.status)).toEqual([200, 200, 429]);
    expect(statuses[1]?.headers.get('RateLimit')).toContain('"key";r=0;t=60');
    expect(await problem(statuses[2] as Response)).toMatchObject({ code: 'rate_limited', policy: 'key', limit: '2/minute' });
  });

  it('limits a key created through POST /admin/keys by the rate_limit in its record', async () => {
    const admin = randomKey('sk-admin');
    const e = envWith({ API_KEYS: JSON.stringify({ a: { key: admin, name: 'admin', scopes: ['keys:manage', 'keys:read'] } }) });
    const created = await callWith(e, '/admin/keys', {
      method: 'POST',
      headers: { Authorization: `Bearer ${admin}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: 'one per minute', scopes: ['crawl:run'], rate_limit: '1/minute' }),
    });
    expect(created.status).toBe(201);
    const { key } = await created.json<{ key: string }>();
    const first = await callWith(e, '/openapi.json', { headers: { Authorization: `Bearer ${key}` } });
    expect(first.status).toBe(200);
    expect(first.headers.get('RateLimit-Policy')).toContain('"key";q=1;w=60');
    const second = await callWith(e, '/openapi.json', { headers: { Authorization: `Bearer ${key}` } });
    expect(second.status).toBe(429);
    expect(second.headers.get('Retry-After')).toBe('60');
    // Another key's quota is its own.
    expect((await callWith(e, '/openapi.json', { headers: { Authorization: `Bearer ${admin}` } })).status).toBe(200);
  });
});
