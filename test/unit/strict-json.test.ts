import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parseStrictJson } from '../../src/lib/strict-json';

describe('parseStrictJson', () => {
  it('reads what JSON.parse reads, to the same value', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), (value) => {
        const text = JSON.stringify(value);
        const strict = parseStrictJson(text);
        // fc.jsonValue may produce -0 and large integers; compare against JSON.parse of the same text.
        const plain = JSON.parse(text) as unknown;
        if (strict.ok) expect(strict.value).toStrictEqual(plain);
        else expect(strict.reason).toBe('number_out_of_range');
      }),
      { numRuns: 300 },
    );
  });

  it('never accepts a text that JSON.parse refuses, and never throws', () => {
    const alphabet = fc.constantFrom(
      '{',
      '}',
      '[',
      ']',
      '"',
      ':',
      ',',
      ' ',
      '\n',
      '\\',
      'u',
      '0',
      '1',
      '-',
      '.',
      'e',
      'a',
      't',
      'r',
      'n',
      'l',
      'f',
      '\u2028',
      '\u0000',
    );
    fc.assert(
      fc.property(
        fc.array(alphabet, { maxLength: 40 }).map((cs) => cs.join('')),
        (text) => {
          const strict = parseStrictJson(text);
          let plainOk = true;
          let plain: unknown;
          try {
            plain = JSON.parse(text);
          } catch {
            plainOk = false;
          }
          if (strict.ok) {
            expect(plainOk).toBe(true);
            expect(strict.value).toStrictEqual(plain);
          }
        },
      ),
      { numRuns: 2000 },
    );
  });

  it.each([
    ['{"a":1,"a":2}', 'duplicate_key', '$.a'],
    ['{"x":{"b":1,"c":2,"b":3}}', 'duplicate_key', '$.x.b'],
    ['[{"k":1},{"k":1,"k":1}]', 'duplicate_key', '$[1].k'],
    ['{"\\u0061":1,"a":2}', 'duplicate_key', '$.a'],
    ['1e400', 'number_out_of_range', '$'],
    ['{"n":12345678901234567890}', 'number_out_of_range', '$.n'],
    ['{"n":-9007199254740993}', 'number_out_of_range', '$.n'],
    ['NaN', 'syntax', '$'],
    ['{"a":Infinity}', 'syntax', '$.a'],
    ['\uFEFF{}', 'syntax', '$'],
    ["{'a':1}", 'syntax', '$'],
    ['{"a":1,}', 'syntax', '$'],
    ['[1,]', 'syntax', '$[1]'],
    ['{"a":"\u0001"}', 'syntax', '$.a'],
    ['01', 'syntax', '$'],
    ['{"a":1} x', 'syntax', '$'],
    ['', 'syntax', '$'],
  ])('refuses %j (%s at %s)', (text, reason, path) => {
    const r = parseStrictJson(text);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.reason).toBe(reason);
      expect(r.path).toBe(path);
    }
  });

  it('keeps safe integers, floats and "__proto__" as plain data', () => {
    const r = parseStrictJson('{"i":9007199254740991,"f":1.5e300,"__proto__":{"polluted":true},"s":"\\u00e9\\ud83d\\ude00"}');
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const v = r.value as Record<string, unknown>;
    expect(v.i).toBe(9007199254740991);
    expect(v.f).toBe(1.5e300);
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
    expect(Object.keys(v)).toEqual(['i', 'f', '__proto__', 's']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(v.s).toBe('é😀');
  });

  it('refuses 5,000 levels of nesting without overflowing the stack', () => {
    const deep = '['.repeat(5000) + ']'.repeat(5000);
    const r = parseStrictJson(deep);
    expect(r).toMatchObject({ ok: false, reason: 'too_deep' });
    const objects = '{"a":'.repeat(5000) + '1' + '}'.repeat(5000);
    expect(parseStrictJson(objects)).toMatchObject({ ok: false, reason: 'too_deep' });
    expect(parseStrictJson('['.repeat(64) + ']'.repeat(64)).ok).toBe(true);
    expect(parseStrictJson('['.repeat(65) + ']'.repeat(65)).ok).toBe(false);
    expect(parseStrictJson('[[[1]]]', { maxDepth: 2 })).toMatchObject({ ok: false, reason: 'too_deep', path: '$[0][0]' });
  });

  it('bounds the number of values', () => {
    const many = `[${Array.from({ length: 1000 }, () => '0').join(',')}]`;
    expect(parseStrictJson(many, { maxNodes: 1000 })).toMatchObject({ ok: false, reason: 'too_large' });
    expect(parseStrictJson(many, { maxNodes: 1001 }).ok).toBe(true);
  });
});
