import { describe, expect, it } from 'vitest';
import { call } from '../helpers/http';

describe('GET /health', () => {
  it('answers ok with a timestamp and version', async () => {
    const res = await call('/health');
    expect(res.status).toBe(200);
    const body = await res.json<{ status: string; timestamp: string; version: string }>();
    expect(body.status).toBe('ok');
    expect(Date.parse(body.timestamp)).not.toBeNaN();
    expect(body.version).toMatch(/^\d+\.\d+\.\d+/);
  });
});

describe('test servers', () => {
  it('the origin started by the global setup answers through the worker runtime', async () => {
    const { env } = await import('cloudflare:workers');
    const res = await fetch(new URL('/health', (env as unknown as { ORIGIN_URL: string }).ORIGIN_URL));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
  });
});
