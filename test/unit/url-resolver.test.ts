/**
 * The page pipeline's short path for relative links (src/engines/markdown/url-resolver.ts) must
 * give exactly what `new URL(href, base).href` gives — here, inside workerd, the URL parser the
 * edge engines run on — for any href, including odd ones.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { resolveUrl, UrlResolver } from '../../src/engines/markdown/url-resolver';

const BASES = [
  'https://p.test/a/',
  'https://bench.test/page',
  'http://Ex.test:8080/dir/sub/file.html?x=1#frag',
  'https://xn--caf-dma.test/a/b/c',
  'https://user:pw@h.test/',
  'https://:pw@h.test/x/',
  'http://127.0.0.1/a//b/./c/../d',
  'http://[::1]:8443/v6/path',
  'https://h.test',
  'https://h.test/%7Euser/a%2Fb/',
  'https://h.test/a?',
  'https://h.test/a#',
  'https://h.test/a?q#',
  'https://h.test/é/ü?ä#ö',
  'http://h.test/a/b/c/d/e/f/',
  'ftp://f.test/dir/file',
  'file:///C:/dir/file',
  'mailto:someone@x.test',
  'data:text/html,x',
];

/** Pieces of hrefs: ordinary path characters, dot segments (plain and %-encoded), delimiters and odd characters. */
const piece = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.constantFrom('a', 'b', 'page', 'x1', 'index.html', 'A-Z_~', '!$&()*+,;=@', '/', '/', '/', '.', '..', '...', '.a', 'a.'),
  },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      '?',
      '#',
      '?q=1&r=2',
      '#top',
      '%',
      '%2e',
      '%2E',
      '.%2e',
      '%2e.',
      '%2E%2e',
      '%2F',
      '%41',
      '%zz',
      '%2',
      ':',
      '//',
      '///',
    ),
  },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      '\\',
      ' ',
      '\t',
      '\n',
      '\r',
      '\u0000',
      '\u001f',
      '\u007f',
      '\u00a0',
      'é',
      '\ufeff',
      '😀',
      '\ud800',
      '"',
      "'",
      '<',
      '>',
      '`',
      '^',
      '|',
      '[',
      ']',
      '{',
      '}',
    ),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      'http:',
      'https:',
      'HTTP://h.test',
      'javascript:',
      'data:image/png,x',
      'mailto:',
      'x:',
      'C:',
      '//other.test',
      ':8080',
      '@h',
      'localhost:80',
    ),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 4 }) },
);
const href = fc.array(piece, { maxLength: 12 }).map((parts) => parts.join(''));

describe('UrlResolver', () => {
  it('resolves every href as new URL does (short path and fallback alike)', () => {
    let short = 0;
    let total = 0;
    fc.assert(
      fc.property(fc.constantFrom(...BASES), href, (baseHref, h) => {
        const base = new URL(baseHref);
        const resolver = new UrlResolver(base);
        const expected = resolveUrl(h, base);
        expect(resolver.resolve(h)).toBe(expected);
        const direct = resolver.relative(h.trim());
        if (direct !== null) {
          short++;
          expect(direct).toBe(new URL(h.trim(), base).href);
        }
        total++;
      }),
      { numRuns: 20_000 },
    );
    // the short path is taken for a good share of the generated hrefs (else this test proves little)
    expect(short).toBeGreaterThan(total / 5);
  });

  it('takes the short path for the common relative forms', () => {
    const resolver = new UrlResolver(new URL('https://h.test/a/b/c?x=1#f'));
    const cases: Array<[string, string]> = [
      ['/l/1', 'https://h.test/l/1'],
      ['d', 'https://h.test/a/b/d'],
      ['../d?q#z', 'https://h.test/a/d?q#z'],
      ['./%2e%2E/../e', 'https://h.test/e'],
      ['?y', 'https://h.test/a/b/c?y'],
      ['#g', 'https://h.test/a/b/c?x=1#g'],
      ['/..//x', 'https://h.test//x'],
    ];
    for (const [h, want] of cases) {
      expect(resolver.relative(h)).toBe(want);
      expect(new URL(h, resolver.base!).href).toBe(want);
    }
    // a scheme, another host, a backslash or a space go to new URL
    for (const h of ['mailto:x', 'http:x', '//o.test/p', 'a\\b', 'a b', 'é']) expect(resolver.relative(h)).toBeNull();
    expect(resolver.resolve('javascript:alert(1)')).toBeNull();
    expect(resolver.resolve(' data:image/png,x ')).toBe('data:image/png,x');
  });
});
