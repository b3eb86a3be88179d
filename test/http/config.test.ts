import { describe, expect, it, vi } from 'vitest';
import { parseConfig, secretWeakness } from '../../src/config';
import { TEST_VARS } from '../helpers/test-vars';
import { callWith, envWith } from '../helpers/app-env';
import { problem } from '../helpers/http';

const valid = { ...TEST_VARS };

describe('config schema', () => {
  it('accepts the test configuration and applies defaults', () => {
    const r = parseConfig(valid);
    expect(r.ok).toBe(true);
    if (r.ok) {
      expect(r.config.ACCESS_TOKEN_TTL).toBe(900);
      expect(r.config.DEFAULT_RATE_LIMIT).toEqual({ limit: 100, windowMs: 60_000, text: '100/minute' });
      expect(r.config.CORS_ORIGINS).toEqual(['https://app.example.com']);
    }
  });

  it.each([
    ['JWT_SECRET_KEY', undefined, 'is missing'],
    ['JWT_SECRET_KEY', 'short', 'at least 32'],
    ['API_KEY_SALT', 'changeme', 'at least 32'],
    ['API_KEY_SALT', 'a'.repeat(40), 'too few distinct'],
    ['ADMIN_PASSWORD_HASH', '$2b$12$notargon', 'argon2id'],
    ['MAX_URLS', '0', 'whole number'],
    ['DEFAULT_RATE_LIMIT', '10/fortnight', '100/minute'],
    ['METRICS_ALLOW_CIDRS', '10.0.0.0/33', 'prefix length'],
    ['CORS_ORIGINS', 'app.example.com', 'not an origin'],
    ['ALLOW_PRIVATE_TARGETS', 'maybe', 'true or false'],
    // SECURITY.md: access tokens live at most 15 minutes.
    ['ACCESS_TOKEN_TTL', '901', 'from 60 to 900'],
    ['MAX_KEYS_PER_USER', '0', 'from 1 to 1000'],
  ])('names %s when it is %s', (variable, value, message) => {
    const r = parseConfig({ ...valid, ADMIN_USERNAME: 'admin', [variable]: value });
    expect(r.ok).toBe(false);
    if (!r.ok) {
      const p = r.problems.find((x) => x.variable === variable);
      expect(p?.message).toContain(message);
    }
  });

  it('requires a strong ORIGIN_SECRET when ORIGIN_URL is set', () => {
    const r = parseConfig({ ...valid, ORIGIN_URL: 'https://crawler.internal.example', ORIGIN_SECRET: undefined });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.problems[0]?.variable).toBe('ORIGIN_SECRET');
  });

  it('refuses ALLOW_PRIVATE_TARGETS in production', () => {
    const r = parseConfig({ ...valid, ENVIRONMENT: 'production', ALLOW_PRIVATE_TARGETS: 'true' });
    expect(r.ok).toBe(false);
  });

  it('never echoes a secret value in a problem message', () => {
    const r = parseConfig({ ...valid, JWT_SECRET_KEY: 'hunter2-hunter2' });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(JSON.stringify(r.problems)).not.toContain('hunter2');
  });

  it('rates secrets', () => {
    expect(secretWeakness('x'.repeat(31))).toMatch(/31 bytes/);
    expect(secretWeakness(TEST_VARS.JWT_SECRET_KEY)).toBeNull();
  });
});

describe('a misconfigured gateway', () => {
  it('answers 500 misconfigured on every route, with security headers, and logs the variable', async () => {
    const log = vi.spyOn(console, 'error').mockImplementation(() => {});
    const bad = envWith({ JWT_SECRET_KEY: 'too-short' });
    const res = await callWith(bad, '/openapi.json');
    expect(res.status).toBe(500);
    const body = await problem(res);
    expect(body.code).toBe('misconfigured');
    expect(body.detail).not.toContain('too-short');
    expect(res.headers.get('X-Content-Type-Options')).toBe('nosniff');
    expect(log.mock.calls.flat().join(' ')).toContain('JWT_SECRET_KEY');
    expect(log.mock.calls.flat().join(' ')).not.toContain('too-short');
    log.mockRestore();
  });

  it('still answers /health, saying it is misconfigured', async () => {
    vi.spyOn(console, 'error').mockImplementation(() => {});
    const res = await callWith(envWith({ API_KEY_SALT: undefined }), '/health');
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ status: 'misconfigured' });
  });
});
