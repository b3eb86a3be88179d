/**
 * Property (issue #26): however a client spells a path — any character percent-encoded (upper or
 * lower hex, or double-encoded), dot segments (plain or `%2e`), changed case, extra slashes — the
 * limiters classify the request exactly as the router routes it:
 *  - the login limiter counts it  ⇔ the login handler runs;
 *  - it takes a crawl concurrency lease ⇔ a crawl handler runs;
 *  - a handler that runs is limited in its own route group.
 * Through the whole app with real Durable Objects and the test origin. The limiter's decision is
 * read from what a client sees: the RateLimit-Policy header (login, route group) and a 429
 * `concurrency_limited` for a key whose only slot is held by an open stream.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { callWith, envWith } from '../helpers/app-env';
import { callAs, credentialFor, newRequestId, originUrl } from '../helpers/principal';
import { uniqueIp } from '../ratelimit/helpers';

type CharOp = 'keep' | 'upper' | 'lower' | 'double' | 'case';

const hex = (ch: string) => ch.charCodeAt(0).toString(16).padStart(2, '0');

/** Spells `target` (after its leading "/") with one operation per character, an optional dot segment and slash variations. */
const spelling = (target: string) => {
  const path = target.slice(1);
  // Half the spellings only encode (still the same route to a decoding router); half also change
  // case, double-encode or add trailing junk (another route, or none).
  const sameRoute = fc.record({
    ops: fc.array(fc.constantFrom<CharOp>('keep', 'upper', 'lower'), { minLength: path.length, maxLength: path.length }),
    lead: fc.constant('/'),
    trail: fc.constant(''),
  });
  const anyRoute = fc.record({
    ops: fc.array(fc.constantFrom<CharOp>('keep', 'keep', 'keep', 'upper', 'lower', 'case', 'double'), {
      minLength: path.length,
      maxLength: path.length,
    }),
    lead: fc.constantFrom('/', '/', '/', '//'),
    trail: fc.constantFrom('', '', '', '/', '//', '/.', '/%2e', '%20', '%00'),
  });
  const dot = fc.option(
    fc.record({
      slash: fc.nat(),
      prefix: fc.constantFrom('', 'x/', '%78/', 'auth/', 'md/'),
      segment: fc.constantFrom('../', '%2e%2e/', '.%2E/', '%2E./', './', '%2e/', '..%2f', '%2e%2e%5c'),
    }),
    { nil: undefined },
  );
  return fc
    .tuple(fc.oneof(sameRoute, anyRoute), dot)
    .map(([spell, d]) => ({ ...spell, dot: d }))
    .map(({ ops, dot, lead, trail }) => {
      let out = '';
      const slashes: number[] = [0];
      [...path].forEach((ch, i) => {
        if (ch === '/') slashes.push(out.length + 1);
        const op = ops[i] as CharOp;
        if (op === 'upper') out += `%${hex(ch).toUpperCase()}`;
        else if (op === 'lower') out += `%${hex(ch)}`;
        else if (op === 'double') out += `%25${hex(ch)}`;
        else if (op === 'case') out += /[a-z]/.test(ch) ? ch.toUpperCase() : ch.toLowerCase();
        else out += ch;
      });
      if (dot && slashes.length > 0) {
        // Only after an unencoded "/", so the insertion is a segment of its own.
        const at = slashes[dot.slash % slashes.length] as number;
        if (at === 0 || out[at - 1] === '/') out = out.slice(0, at) + dot.prefix + dot.segment + out.slice(at);
      }
      return lead + out + trail;
    });
};

/** One of `targets`, spelled. */
const spelled = (...targets: string[]) => fc.constantFrom(...targets).chain((target) => spelling(target).map((path) => ({ target, path })));

const policies = (res: Response) => res.headers.get('RateLimit-Policy') ?? '';

describe('the limiters classify every spelling as the router routes it', () => {
  it('login: counted by the login limiter ⇔ the login handler ran', async () => {
    const e = envWith({});
    const ip = uniqueIp(); // one address: TEST_VARS' limits are generous, and one bucket object is quicker
    const seen = { ran: 0, not: 0 };
    await fc.assert(
      fc.asyncProperty(spelled('/auth/token', '/token'), fc.context(), async ({ path }, ctx) => {
        const res = await callWith(e, path, {
          method: 'POST',
          headers: { 'CF-Connecting-IP': ip, 'Content-Type': 'application/json' },
          body: JSON.stringify({ grant_type: 'password' }), // no credentials: the handler answers 422 without hashing
        });
        ctx.log(`${path} → ${res.status} ${policies(res)}`);
        const limiterSawLogin = /"login-ip"/.test(policies(res));
        const handlerRan = res.status === 422;
        seen[handlerRan ? 'ran' : 'not'] += 1;
        expect([200, 400, 404, 405, 422]).toContain(res.status);
        expect(limiterSawLogin).toBe(handlerRan);
      }),
      { numRuns: 150 },
    );
    // Both sides were exercised: encoded spellings that route, and spellings that do not.
    expect(seen.ran).toBeGreaterThan(10);
    expect(seen.not).toBeGreaterThan(10);
  }, 180_000);

  it('crawl: takes a concurrency lease ⇔ a crawl handler ran', async () => {
    const free = credentialFor({
      id: `key_free_${crypto.randomUUID().slice(0, 8)}`,
      permissions: ['crawl:run', 'jobs:write', 'crawl:screenshot', 'crawl:pdf', 'crawl:js'],
      rateLimit: '100000/minute',
    });
    const busy = credentialFor({
      id: `key_busy_${crypto.randomUUID().slice(0, 8)}`,
      permissions: ['crawl:run', 'jobs:write', 'crawl:screenshot', 'crawl:pdf', 'crawl:js'],
      rateLimit: '100000/minute',
      maxConcurrency: 1,
    });
    const rid = newRequestId('spellings');
    const seen = { ran: 0, not: 0 };
    const open = await callAs(busy, '/crawl/stream', { json: { urls: ['https://example.com/a'] }, headers: { 'X-Request-Id': rid } });
    expect(open.status).toBe(200);
    const reader = open.body!.getReader();
    await reader.read(); // the busy key's only slot is now held
    try {
      await fc.assert(
        fc.asyncProperty(
          spelled('/md', '/crawl', '/crawl/job', '/html', '/screenshot', '/execute_js', '/crawl/stream'),
          fc.context(),
          async ({ path }, ctx) => {
            const routed = await callAs(free, path, { method: 'POST', json: {} }); // {} fails validation: 422 when a crawl handler runs
            const limited = await callAs(busy, path, { method: 'POST', json: {} });
            const limitedCode = limited.status === 429 ? ((await limited.json()) as { code: string }).code : String(limited.status);
            ctx.log(`${path} → routed ${routed.status}, busy key ${limitedCode}`);
            expect([400, 404, 405, 422]).toContain(routed.status);
            seen[routed.status === 422 ? 'ran' : 'not'] += 1;
            expect(limitedCode === 'concurrency_limited').toBe(routed.status === 422);
          },
        ),
        { numRuns: 100 },
      );
      expect(seen.ran).toBeGreaterThan(10);
      expect(seen.not).toBeGreaterThan(10);
    } finally {
      await fetch(`${originUrl()}/__release?request_id=${encodeURIComponent(rid)}`);
      while (!(await reader.read()).done) {
        // drain: releases the lease
      }
    }
  }, 180_000);

  it('route groups: a handler that ran was limited in its own group', async () => {
    const e = envWith({});
    const ip = uniqueIp();
    let ran = 0;
    const GROUP: Record<string, string> = { '/health': 'health', '/dashboard/login': 'playground', '/openapi.json': 'api' };
    await fc.assert(
      fc.asyncProperty(spelled(...Object.keys(GROUP)), fc.context(), async ({ target, path }, ctx) => {
        const res = await callWith(e, path, { headers: { 'CF-Connecting-IP': ip } });
        ctx.log(`${path} → ${res.status} ${policies(res)}`);
        if (res.status !== 200) return; // not routed to the target: nothing ran
        ran += 1;
        const group = /"(health|playground|api)";q=/.exec(policies(res))?.[1];
        expect(group).toBe(GROUP[target]);
      }),
      { numRuns: 90 },
    );
    expect(ran).toBeGreaterThan(10);
  }, 180_000);
});
