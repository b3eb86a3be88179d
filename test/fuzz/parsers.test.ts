/**
 * Property tests (fast-check) over the parsers the gateway owns (issue #18): whatever the input,
 * each returns its "refused" value or throws its documented client error — never another
 * exception, which the error handler would turn into a 500. Inputs include long adversarial
 * repetitions, so a parser that backtracks shows up as a test that does not finish.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { extractCredential, classifyCredential, MAX_CREDENTIAL_LENGTH } from '../../src/auth/credentials';
import { GatewayError } from '../../src/http/errors';
import { checkKeyFormat } from '../../src/keys/format';
import { decodeKeysetCursor, encodeKeysetCursor } from '../../src/http/cursor';
import { decodeCursor } from '../../src/keys/cursor';
import { parseRateLimit } from '../../src/ratelimit/limit-spec';
import { parseCidr, parseCidrList, parseIp } from '../../src/http/cidr';
import { checkTargetUrl } from '../../src/crawl/egress';
import { readCookie } from '../../src/dashboard/session';
import { parseFields } from '../../src/exports/fields';
import { parseConfig } from '../../src/config';
import { parseSeedKeys } from '../../src/keys/seed-keys';
import { parseRolePermissions } from '../../src/auth/rbac';
import { generateMarkdown, toCitations } from '../../src/engines/markdown';
import { buildResult } from '../../src/engines/result';
import { TEST_VARS } from '../helpers/test-vars';

const RUNS = { numRuns: 300 };

/** Any string, including long repetitions of a short adversarial unit. */
const hostileString = fc.oneof(
  fc.string({ maxLength: 200 }),
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.tuple(fc.string({ minLength: 1, maxLength: 6 }), fc.integer({ min: 100, max: 20_000 })).map(([u, n]) => u.repeat(n)),
  fc.constantFrom('', ' ', '__proto__', 'constructor', '%', '\u0000', 'a'.repeat(70_000)),
);

/** Header-safe strings (what a Headers object can hold). */
const headerValue = hostileString.map((s) => s.replace(/[^\x20-\x7e\t]/g, 'x').trim());

function expectClientError(fn: () => unknown): void {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(GatewayError);
    expect((error as GatewayError).status).toBeLessThan(500);
  }
}

describe('credential extraction', () => {
  it('returns a credential, null, or a 4xx GatewayError for any Authorization / X-API-Key / query', () => {
    fc.assert(
      fc.property(fc.option(headerValue), fc.option(headerValue), fc.string({ maxLength: 100 }), (auth, key, query) => {
        const headers = new Headers();
        if (auth !== null) headers.set('Authorization', auth);
        if (key !== null) headers.set('X-API-Key', key);
        expectClientError(() => {
          const cred = extractCredential(
            headers,
            new URL(`https://g.test/x?${encodeURIComponent(query.replace(/[\ud800-\udfff]/g, 'x'))}`),
          );
          if (cred) expect(cred.value.length).toBeLessThanOrEqual(MAX_CREDENTIAL_LENGTH);
        });
      }),
      RUNS,
    );
  });

  it('classifies any string as a JWT or an API key, and any key format check returns a verdict', () => {
    fc.assert(
      fc.property(hostileString, (s) => {
        expect(['jwt', 'api_key']).toContain(classifyCredential(s));
        expect(['generated', 'foreign', 'invalid']).toContain(checkKeyFormat(s).kind);
        expect(['generated', 'foreign', 'invalid']).toContain(checkKeyFormat(`cg_live_${s}`).kind);
      }),
      RUNS,
    );
  });
});

describe('cursors', () => {
  it('decode any string to a cursor or null, and round-trip their own encoding', () => {
    fc.assert(
      fc.property(hostileString, fc.integer({ min: 0, max: 2 ** 52 }), fc.stringMatching(/^[a-z0-9_]{1,40}$/), (s, createdAt, id) => {
        const decoded = decodeKeysetCursor(s, /^[a-z0-9_]{1,40}$/);
        if (decoded) expect(typeof decoded.id).toBe('string');
        decodeCursor(s);
        expect(decodeKeysetCursor(encodeKeysetCursor({ createdAt, id }), /^[a-z0-9_]{1,40}$/)).toEqual({ createdAt, id });
      }),
      RUNS,
    );
  });
});

describe('rate-limit strings, IPs and CIDRs', () => {
  it('parse to a spec or null', () => {
    fc.assert(
      fc.property(hostileString, (s) => {
        const spec = parseRateLimit(s);
        if (spec) expect(spec.limit).toBeGreaterThan(0);
        parseIp(s);
      }),
      RUNS,
    );
  });

  it('refuse a bad CIDR with a plain Error (a configuration problem), never anything else', () => {
    fc.assert(
      fc.property(hostileString, (s) => {
        for (const fn of [() => parseCidr(s), () => parseCidrList(s)]) {
          try {
            fn();
          } catch (error) {
            expect(error).toBeInstanceOf(Error);
            expect((error as Error).message.length).toBeGreaterThan(0);
          }
        }
      }),
      RUNS,
    );
  });
});

describe('egress checks', () => {
  it('answer ok or a reason for any target string', () => {
    const urlish = fc.oneof(
      hostileString,
      fc.webUrl(),
      fc.webUrl().map((u) => u.replace('://', '://0x7f.1@')),
    );
    fc.assert(
      fc.property(urlish, fc.boolean(), (s, allowPrivateTargets) => {
        const verdict = checkTargetUrl(s, { allowPrivateTargets });
        if (!verdict.ok) expect(typeof verdict.reason).toBe('string');
      }),
      RUNS,
    );
  });
});

describe('cookies, export field lists, JSON vars', () => {
  it('read a cookie or undefined from any header', () => {
    fc.assert(
      fc.property(hostileString, hostileString, (h, n) => void readCookie(h, n || 'cg_session')),
      RUNS,
    );
  });

  it('parse field lists to fields or a reason', () => {
    fc.assert(
      fc.property(fc.oneof(hostileString, fc.array(hostileString, { maxLength: 30 })), (f) => {
        expect(typeof parseFields(f).ok).toBe('boolean');
      }),
      RUNS,
    );
  });

  it('parse seed keys and role tables to a value or a message', () => {
    const jsonish = fc.oneof(
      hostileString,
      fc.json(),
      fc.jsonValue().map((v) => JSON.stringify({ k: v })),
    );
    fc.assert(
      fc.property(jsonish, (s) => {
        parseSeedKeys(s);
        parseRolePermissions(s);
      }),
      RUNS,
    );
  });

  it('parse any config value to a config or problems naming the variable', () => {
    const names = [
      'MAX_URLS',
      'IP_RATE_LIMIT',
      'METRICS_ALLOW_CIDRS',
      'CORS_ORIGINS',
      'ROUTE_RATE_LIMITS',
      'ROLE_RATE_LIMITS',
      'API_KEYS',
      'ORIGIN_URL',
      'ALLOW_PRIVATE_TARGETS',
      'ROLE_PERMISSIONS',
      'JWT_PRIVATE_KEYS',
      'EDGE_CRAWL_RESPONSE_BUDGET_BYTES',
      'ADMIN_PASSWORD_HASH',
    ];
    fc.assert(
      fc.property(fc.constantFrom(...names), hostileString, (name, value) => {
        const result = parseConfig({ ...TEST_VARS, [name]: value });
        if (!result.ok) for (const p of result.problems) expect(p.message).not.toContain(TEST_VARS.JWT_SECRET_KEY);
      }),
      { numRuns: 200 },
    );
  });
});

describe('the page pipeline', () => {
  const tag = fc.constantFrom(
    'div',
    'p',
    'a href="/x"',
    'b',
    'i',
    'li',
    'ul',
    'ol',
    'table',
    'tr',
    'td',
    'th',
    'pre',
    'code',
    'blockquote',
    'h1',
    'h3',
    'br',
    'img src=/i alt=a',
    'script',
    'title',
    'textarea',
    'base href=/b/',
    'meta name=x content=y',
    'constructor',
    'a',
    'span',
  );
  const piece = fc.oneof(
    tag.map((t) => `<${t}>`),
    tag.map((t) => `</${t.split(' ')[0]}>`),
    fc.constantFrom(
      '[',
      ']',
      '(',
      ')',
      '*',
      '_',
      '`',
      '\\',
      '&amp;',
      '&#x41;',
      '&',
      '<',
      '>',
      '"',
      "'",
      '=',
      '!',
      '|',
      '\n',
      ' ',
      '<!--',
      '-->',
      '<!doctype html>',
    ),
    fc.string({ maxLength: 12 }),
  );
  const page = fc.oneof(
    fc.array(piece, { maxLength: 300 }).map((p) => p.join('')),
    fc.tuple(fc.array(piece, { minLength: 1, maxLength: 6 }), fc.integer({ min: 100, max: 3000 })).map(([p, n]) => p.join('').repeat(n)),
  );

  it('turns any HTML into a result, with every output linear in the page', { timeout: 300_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(page, fc.option(fc.string({ maxLength: 60 })), async (html, query) => {
        const result = await buildResult({
          url: 'https://p.test/a/',
          finalUrl: 'https://p.test/a/',
          status: 200,
          html,
          headers: {},
          query: query ?? undefined,
        });
        const md = result.markdown!;
        const out = md.raw_markdown.length + md.markdown_with_citations.length + md.fit_markdown.length + result.cleaned_html.length;
        expect(out).toBeLessThanOrEqual(40 * html.length + 2000);
      }),
      { numRuns: 80 },
    );
  });

  it('cites any markdown text, keeping its length linear', { timeout: 120_000 }, () => {
    fc.assert(
      fc.property(hostileString, (s) => {
        const { markdownWithCitations } = toCitations(s);
        expect(markdownWithCitations.length).toBeLessThanOrEqual(s.length + 10);
        generateMarkdown(s);
      }),
      RUNS,
    );
  });
});
