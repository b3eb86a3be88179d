/** The pure parts of polite crawling: robots.txt rules and caching (RFC 9309), pacing math, key parsing. */
import { describe, expect, it } from 'vitest';
import {
  kindForStatus,
  parseRobots,
  productToken,
  robotsRecord,
  robotsText,
  robotsVerdict,
  ROBOTS_ERROR_TTL_MS,
  ROBOTS_MAX_BYTES,
  ROBOTS_TTL_MS,
} from '../../src/polite/robots-rules';
import { afterOutcome, CIRCUIT_OPEN_MS, currentCircuit, INITIAL_STATE, plan, spacingMs } from '../../src/polite/pacing';
import { parseBotAuthKeys } from '../../src/polite/bot-auth-keys';
import { crawlerUserAgent } from '../../src/polite/gate';

const ORIGIN = 'https://site.example';
const limits = { minDelayMs: 1000, maxConcurrency: 2, maxCrawlDelayMs: 10_000 };

describe('robots.txt rules', () => {
  it('maps statuses the RFC 9309 way: 2xx rules, 4xx allow-all, 429 and 5xx disallow-all', () => {
    expect([200, 204, 401, 403, 404, 410, 429, 500, 503].map(kindForStatus)).toEqual([
      'rules',
      'rules',
      'allow_all',
      'allow_all',
      'allow_all',
      'allow_all',
      'disallow_all',
      'disallow_all',
      'disallow_all',
    ]);
  });

  it('caches good answers 24 h and errors briefly, falling back to the last good copy when unreachable', () => {
    const good = robotsRecord('rules', 'User-agent: *\nDisallow: /a\n', 200, 'HTTP 200', 0);
    expect(good.expiresAt).toBe(ROBOTS_TTL_MS);
    const fresh = robotsRecord('disallow_all', '', 503, 'HTTP 503', 1000);
    expect(fresh).toMatchObject({ kind: 'disallow_all', expiresAt: 1000 + ROBOTS_ERROR_TTL_MS });
    const stale = robotsRecord('disallow_all', '', 503, 'HTTP 503', ROBOTS_TTL_MS + 5, good);
    expect(stale).toMatchObject({ kind: 'rules', body: good.body, expiresAt: ROBOTS_TTL_MS + 5 + ROBOTS_ERROR_TTL_MS });
  });

  it('matches the product token, longest rule first, allow winning ties', () => {
    const body = 'User-agent: crawlgate\nDisallow: /private\nAllow: /private/ok\nCrawl-delay: 2\n\nUser-agent: *\nDisallow: /\n';
    const rec = robotsRecord('rules', body, 200, 'HTTP 200', 0);
    const parsed = parseRobots(ORIGIN, body);
    const v = (path: string, token = 'crawlgate') => robotsVerdict(rec, parsed, ORIGIN + path, token);
    expect(v('/public').allowed).toBe(true);
    expect(v('/private/x').allowed).toBe(false);
    expect(v('/private/ok/1').allowed).toBe(true);
    expect(v('/public', 'otherbot').allowed).toBe(false);
    expect(v('/public').crawlDelayMs).toBe(2000);
    expect(v('/private/x').reason).toMatch(/line 2/);
  });

  it('reads the product token from the User-Agent, skipping the Mozilla prefix', () => {
    expect(productToken('Mozilla/5.0 (compatible; crawlgate/0.1.0; +https://x)')).toBe('crawlgate');
    expect(productToken('MyBot/2.1 (+https://x)')).toBe('mybot');
    expect(productToken('plainbot')).toBe('plainbot');
    expect(productToken(crawlerUserAgent({ CRAWLER_USER_AGENT: undefined, CRAWLER_CONTACT_URL: 'https://ops.example/bot' }))).toBe(
      'crawlgate',
    );
    expect(crawlerUserAgent({ CRAWLER_USER_AGENT: undefined, CRAWLER_CONTACT_URL: 'https://ops.example/bot' })).toContain(
      '+https://ops.example/bot',
    );
  });

  it('parses at most 500 KiB and drops a cut-off last line', () => {
    const line = 'Disallow: /x\n';
    const big = new TextEncoder().encode(line.repeat(Math.ceil((ROBOTS_MAX_BYTES + 100) / line.length)));
    const text = robotsText(big.subarray(0, ROBOTS_MAX_BYTES), true);
    expect(text.length).toBeLessThanOrEqual(ROBOTS_MAX_BYTES);
    expect(text.endsWith('\n')).toBe(true);
    expect(
      text
        .split('\n')
        .filter(Boolean)
        .every((l) => l === 'Disallow: /x'),
    ).toBe(true);
  });
});

describe('pacing', () => {
  it('spaces starts by the minimum, raised by Crawl-delay up to the cap', () => {
    expect(spacingMs(limits, null)).toBe(1000);
    expect(spacingMs(limits, 3000)).toBe(3000);
    expect(spacingMs(limits, 60_000)).toBe(10_000);
  });

  it('plans go / full / busy from the slot, the in-flight count and the wait budget', () => {
    const s = { ...INITIAL_STATE, nextSlot: 5000 };
    expect(plan(s, 4000, 0, limits, 2000)).toEqual({ kind: 'go', startAt: 5000 });
    expect(plan(s, 4000, 2, limits, 2000)).toEqual({ kind: 'full' });
    expect(plan(s, 1000, 0, limits, 2000)).toMatchObject({ kind: 'busy', retryAfterMs: 4000 });
  });

  it('backs off after 429 for Retry-After (else exponentially), and after 503 only when it says how long', () => {
    const a = afterOutcome(INITIAL_STATE, { status: 429, retryAfterMs: 2000 }, 100);
    expect(a.backoffUntil).toBe(2100);
    const b = afterOutcome(afterOutcome(INITIAL_STATE, { status: 429 }, 0), { status: 429 }, 0);
    expect(b.backoffUntil).toBe(10_000);
    expect(afterOutcome(INITIAL_STATE, { status: 503 }, 0).backoffUntil).toBe(0);
    expect(afterOutcome(INITIAL_STATE, { status: 503, retryAfterMs: 3000 }, 0).backoffUntil).toBe(3000);
    expect(afterOutcome(a, { status: 200 }, 200)).toMatchObject({ limited: 0, failures: 0 });
  });

  it('opens the circuit after repeated failures, probes once when it half-opens, closes on success', () => {
    let s = INITIAL_STATE;
    for (let i = 0; i < 5; i++) s = afterOutcome(s, { status: null, failure: 'timeout' }, 0);
    expect(s).toMatchObject({ circuit: 'open', openUntil: CIRCUIT_OPEN_MS });
    expect(plan(s, 10, 0, limits, 1000)).toMatchObject({ kind: 'busy' });
    expect(currentCircuit(s, CIRCUIT_OPEN_MS)).toBe('half_open');
    expect(plan(s, CIRCUIT_OPEN_MS, 1, limits, 1000)).toEqual({ kind: 'full' });
    const reopened = afterOutcome(s, { status: 502 }, CIRCUIT_OPEN_MS);
    expect(reopened).toMatchObject({ circuit: 'open', openUntil: 3 * CIRCUIT_OPEN_MS, trips: 2 });
    expect(afterOutcome(s, { status: 200 }, CIRCUIT_OPEN_MS)).toMatchObject({ circuit: 'closed', failures: 0, trips: 0 });
    expect(afterOutcome(s, { status: null, failure: 'cancelled' }, CIRCUIT_OPEN_MS)).toBe(s);
  });
});

describe('WEB_BOT_AUTH_KEYS', () => {
  it('accepts a JSON array of Ed25519 private JWKs and names what is wrong otherwise (never the key)', () => {
    const x = 'A'.repeat(43);
    const d = 'B'.repeat(43);
    expect(parseBotAuthKeys(undefined)).toEqual([]);
    expect(parseBotAuthKeys(JSON.stringify([{ kty: 'OKP', crv: 'Ed25519', x, d, kid: 'ignored' }]))).toEqual([
      { kty: 'OKP', crv: 'Ed25519', x, d },
    ]);
    expect(parseBotAuthKeys('{')).toMatch(/not valid JSON/);
    expect(parseBotAuthKeys('[]')).toMatch(/non-empty/);
    expect(parseBotAuthKeys(JSON.stringify([{ kty: 'EC', crv: 'P-256', x, d }]))).toMatch(/not an Ed25519 JWK/);
    const noD = parseBotAuthKeys(JSON.stringify([{ kty: 'OKP', crv: 'Ed25519', x }]));
    expect(noD).toMatch(/private key "d"/);
    expect(parseBotAuthKeys(JSON.stringify([{ kty: 'OKP', crv: 'Ed25519', x, d: 'short-secret' }]))).not.toContain('short-secret');
  });
});
