import { describe, expect, it } from 'vitest';
import { checkKeyFormat, crc32, generateApiKey, displayPrefix } from '../../src/keys/format';
import { digestKey } from '../../src/keys/digest';
import { constantTimeEqual } from '../../src/lib/constant-time';
import { evaluateKey, effectiveStatus } from '../../src/keys/record';
import { decodeCursor, encodeCursor } from '../../src/keys/cursor';
import { parseSeedKeys } from '../../src/keys/seed-keys';

describe('key format', () => {
  it('generates cg_live_/cg_test_ keys with 30 base62 characters and a valid checksum', () => {
    const live = generateApiKey('live');
    const test = generateApiKey('test');
    expect(live).toMatch(/^cg_live_[0-9A-Za-z]{30}_[0-9A-Za-z]{6}$/);
    expect(test).toMatch(/^cg_test_[0-9A-Za-z]{30}_[0-9A-Za-z]{6}$/);
    expect(checkKeyFormat(live)).toEqual({ kind: 'generated', environment: 'live' });
    expect(checkKeyFormat(test)).toEqual({ kind: 'generated', environment: 'test' });
    // 30 uniform base62 characters: > 128 bits
    expect(30 * Math.log2(62)).toBeGreaterThan(128);
    const many = new Set(Array.from({ length: 200 }, () => generateApiKey()));
    expect(many.size).toBe(200);
  });

  it('catches every single-character typo with the checksum', () => {
    const key = generateApiKey();
    const alphabet = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
    let checked = 0;
    for (let i = 8; i < key.length; i++) {
      if (key[i] === '_') continue;
      const replacement = alphabet[(alphabet.indexOf(key[i] as string) + 7) % 62] as string;
      const typo = key.slice(0, i) + replacement + key.slice(i + 1);
      expect(checkKeyFormat(typo)).toEqual({ kind: 'invalid', reason: 'bad_checksum' });
      checked++;
    }
    expect(checked).toBe(36);
  });

  it('calls a cg_ key with the wrong shape malformed and leaves other formats to the seed lookup', () => {
    expect(checkKeyFormat('cg_live_short_abcdef')).toEqual({ kind: 'invalid', reason: 'malformed_key' });
    expect(checkKeyFormat('cg_prod_' + 'a'.repeat(30) + '_abcdef')).toEqual({ kind: 'invalid', reason: 'malformed_key' });
    expect(checkKeyFormat('sk-prod-abc')).toEqual({ kind: 'foreign' });
  });

  it('computes the standard CRC-32', () => {
    expect(crc32('123456789')).toBe(0xcbf43926);
  });

  it('keeps a short display prefix', () => {
    expect(displayPrefix('cg_live_AbCdEfGhIjKlMnOpQrStUvWxYz0123_abcdef')).toBe('cg_live_AbCd');
    expect(displayPrefix('sk-prod-Zt5Hw2Qm8Kx1Vc7Nb4Rp9Lj3Ys6Df0Ga')).toBe('sk-prod-');
    expect(displayPrefix('sk-0123456789abcdefghij')).toBe('sk-01');
  });
});

describe('digests', () => {
  it('is a keyed HMAC: the same key under another pepper gives another digest', async () => {
    const a = await digestKey('pepper-one-0123456789abcdefghijklmnop', 'cg_live_x');
    const b = await digestKey('pepper-two-0123456789abcdefghijklmnop', 'cg_live_x');
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(a).not.toBe(b);
    expect(await digestKey('pepper-one-0123456789abcdefghijklmnop', 'cg_live_x')).toBe(a);
  });

  it('compares without caring where the first difference is', () => {
    expect(constantTimeEqual('abc', 'abc')).toBe(true);
    expect(constantTimeEqual('abc', 'abd')).toBe(false);
    expect(constantTimeEqual('abc', 'abcd')).toBe(false);
    expect(constantTimeEqual('', '')).toBe(true);
  });
});

describe('evaluateKey (clock passed in)', () => {
  const active = { status: 'active' as const, expires_at: null, grace_until: null };
  it('accepts an active key and refuses revoked, disabled and expired ones', () => {
    expect(evaluateKey(active, null, 1000)).toBeNull();
    expect(evaluateKey({ ...active, status: 'revoked' }, null, 1000)).toBe('revoked');
    expect(evaluateKey({ ...active, status: 'disabled' }, null, 1000)).toBe('disabled');
    expect(evaluateKey({ ...active, expires_at: 1000 }, null, 999)).toBeNull();
    expect(evaluateKey({ ...active, expires_at: 1000 }, null, 1000)).toBe('expired');
    expect(effectiveStatus({ status: 'active', expires_at: 1000 }, 1000)).toBe('expired');
  });

  it('lets a rotated key work until its grace ends, then never again', () => {
    const rotated = { status: 'rotated' as const, expires_at: null, grace_until: 5000 };
    expect(evaluateKey(rotated, null, 4999)).toBeNull();
    expect(evaluateKey(rotated, null, 5000)).toBe('rotation_grace_ended');
    expect(evaluateKey({ ...rotated, grace_until: null }, null, 0)).toBe('rotation_grace_ended');
  });

  it('lets the KV marker overrule a stale cached record from the moment it takes effect', () => {
    expect(evaluateKey(active, { reason: 'revoked', at: 2000 }, 2000)).toBe('revoked');
    expect(evaluateKey(active, { reason: 'rotated', at: 5000 }, 4999)).toBeNull();
    expect(evaluateKey(active, { reason: 'rotated', at: 5000 }, 5000)).toBe('rotation_grace_ended');
    expect(evaluateKey(active, { reason: 'disabled', at: 1 }, 2)).toBe('disabled');
  });
});

describe('cursors', () => {
  it('round-trips and refuses anything it did not make', () => {
    const c = { createdAt: 1_790_000_000_000, id: 'key_AbC123' };
    expect(decodeCursor(encodeCursor(c))).toEqual(c);
    expect(decodeCursor('not a cursor')).toBeNull();
    expect(decodeCursor(btoa('[1,"x"]').replace(/=+$/, ''))).toBeNull();
    expect(decodeCursor(btoa('{"a":1}').replace(/=+$/, ''))).toBeNull();
  });
});

describe('API_KEYS (seed format)', () => {
  const good = 'sk-prod-Zt5Hw2Qm8Kx1Vc7Nb4Rp9Lj3Ys6Df0Ga';
  it('accepts the seed format with its defaults and aliases', () => {
    const r = parseSeedKeys(
      JSON.stringify({
        key1: { key: good, name: 'P', rate_limit: '1000/minute', scopes: ['crawl', 'screenshot', 'pdf'] },
        key2: { key: good.replace('prod', 'devv') },
      }),
    );
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.keys[0]).toMatchObject({
      id: 'seed_key1',
      permissions: ['crawl:run', 'crawl:screenshot', 'crawl:pdf'],
      rateLimit: '1000/minute',
    });
    expect(r.keys[1]).toMatchObject({
      id: 'seed_key2',
      name: 'Unknown',
      scopes: ['crawl'],
      permissions: ['crawl:run'],
      rateLimit: null,
      maxConcurrency: null,
    });
  });

  it('accepts an optional max_concurrency (a crawlgate extension of the seed format)', () => {
    const r = parseSeedKeys(JSON.stringify({ k: { key: good, max_concurrency: 64 } }));
    expect(r.ok && r.keys[0]?.maxConcurrency).toBe(64);
  });

  it('refuses bad JSON, placeholders, unknown scopes and bad limits without echoing the key', () => {
    const cases: Array<[string, RegExp]> = [
      ['{not json', /not valid JSON/],
      ['[]', /JSON object/],
      [JSON.stringify({ k: { key: 'sk-prod-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx' } }), /placeholder/],
      [JSON.stringify({ k: { key: 'short' } }), /20-256/],
      [JSON.stringify({ k: { key: good, scopes: ['crawl', 'root'] } }), /unknown scope/],
      [JSON.stringify({ k: { key: good, rate_limit: 'lots' } }), /rate_limit/],
      [JSON.stringify({ a: { key: good }, b: { key: good } }), /same as another/],
      [JSON.stringify({ k: { key: good, max_concurrency: 0 } }), /max_concurrency/],
      [JSON.stringify({ k: { key: good, max_concurrency: '5' } }), /max_concurrency/],
    ];
    for (const [json, message] of cases) {
      const r = parseSeedKeys(json);
      expect(r.ok).toBe(false);
      if (r.ok) continue;
      expect(r.problem).toMatch(message);
      expect(r.problem).not.toContain('sk-prod');
    }
  });
});
