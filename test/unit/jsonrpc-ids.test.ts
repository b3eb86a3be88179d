/**
 * The MCP socket relay reads which tool calls an origin message answers with a scan
 * (src/crawl/jsonrpc-ids.ts) instead of `JSON.parse`. The scan must read every message exactly as
 * JSON.parse would — the same ids for any JSON however it is spaced or escaped, `null` for any text
 * JSON.parse refuses — or a crafted answer could release another call's lease (or keep its own).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { responseIds } from '../../src/crawl/jsonrpc-ids';

/** What the relay did before: parse, then each member with an own `id` and no `method` is an answer. */
function reference(text: string): string[] | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  const ids: string[] = [];
  for (const m of Array.isArray(value) ? value : [value]) {
    if (typeof m === 'object' && m !== null && !Array.isArray(m) && Object.hasOwn(m, 'id') && !Object.hasOwn(m, 'method'))
      ids.push(JSON.stringify((m as { id: unknown }).id));
  }
  return ids;
}

const space = fc.constantFrom('', ' ', '\n', '\t', '\r\n  ');
/** A key written as JSON.stringify writes it, or with some characters as \uXXXX escapes. */
const keyText = (key: string, escapeMask: number) =>
  `"${[...JSON.stringify(key).slice(1, -1)]
    .map((ch, i) => ((escapeMask >> (i % 16)) & 1 && /[a-z]/.test(ch) ? `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}` : ch))
    .join('')}"`;

/** Any JSON value, serialised with random whitespace and escaped keys (duplicates allowed). */
function serialise(value: unknown, ws: string[], masks: number[], at = { n: 0 }): string {
  const w = () => ws[at.n++ % ws.length] ?? '';
  if (Array.isArray(value)) return `[${w()}${value.map((v) => serialise(v, ws, masks, at)).join(`${w()},${w()}`)}${w()}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value).map(
      ([k, v]) => `${w()}${keyText(k, masks[at.n % masks.length] ?? 0)}${w()}:${w()}${serialise(v, ws, masks, at)}`,
    );
    return `{${entries.join(',')}${w()}}`;
  }
  return JSON.stringify(value);
}

const idValue = fc.oneof(
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.string(),
  fc.constant(null),
  fc.jsonValue({ maxDepth: 2 }),
);
/** Text the crawled page could put inside a result: decoy ids, quotes, escapes, brackets. */
const decoy = fc.constantFrom('"id":99,', '\\"id\\": 7', '{"id":1}', '"method":"x"', '}]', '[{', '\\', '"', '\u2028', 'é');
const resultText = fc.array(fc.oneof(fc.string(), decoy), { maxLength: 6 }).map((xs) => xs.join(''));
const member = fc.record(
  {
    jsonrpc: fc.constant('2.0'),
    id: idValue,
    method: fc.string({ maxLength: 8 }),
    result: fc.oneof(
      fc.record({ content: fc.array(fc.record({ type: fc.constant('text'), text: resultText })) }),
      fc.jsonValue({ maxDepth: 3 }),
    ),
    error: fc.record({ code: fc.integer(), message: resultText }),
  },
  { requiredKeys: ['jsonrpc'] },
);
const message = fc.oneof(
  member,
  fc.array(fc.oneof(member, fc.jsonValue({ maxDepth: 2 })), { maxLength: 5 }),
  fc.jsonValue({ maxDepth: 3 }),
);
const layout = fc.record({
  ws: fc.array(space, { minLength: 1, maxLength: 8 }),
  masks: fc.array(fc.nat(0xffff), { minLength: 1, maxLength: 4 }),
});

describe('responseIds: what JSON.parse would read', () => {
  it('gives the same ids for any message, however spaced and escaped', () => {
    fc.assert(
      fc.property(message, layout, (value, { ws, masks }) => {
        const text = serialise(value, ws, masks);
        expect(responseIds(text)).toEqual(reference(text));
      }),
      { numRuns: 3000 },
    );
  });

  it('refuses exactly the text JSON.parse refuses, and reads the rest alike', () => {
    const significant = fc.constantFrom(
      '{',
      '}',
      '[',
      ']',
      ',',
      ':',
      '"',
      '\\',
      '-',
      '.',
      'e',
      '0',
      '1',
      ' ',
      'n',
      't',
      'f',
      '\u0000',
      '\u0001',
      '\u001f',
      '\u007f',
      'u',
    );
    fc.assert(
      fc.property(message, fc.nat(), fc.nat(), significant, fc.boolean(), (value, at, len, ch, insert) => {
        const text = JSON.stringify(value) ?? 'null';
        const i = at % (text.length + 1);
        const mutated = insert ? text.slice(0, i) + ch + text.slice(i) : text.slice(0, i) + text.slice(i + 1 + (len % 3));
        expect(responseIds(mutated)).toEqual(reference(mutated));
      }),
      { numRuns: 5000 },
    );
  });

  it('reads arbitrary strings like JSON.parse', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom('{', '}', '[', ']', ',', ':', '"', '1', 'i', 'd', ' ', 'null') }), (text) => {
        expect(responseIds(text)).toEqual(reference(text));
      }),
      { numRuns: 3000 },
    );
  });

  it('takes the last of duplicate ids and decodes escaped keys, like JSON.parse', () => {
    const texts = [
      '{"id":1,"result":{},"id":2}',
      '{"\\u0069d":"a","result":null}',
      '{"i\\u0064":3,"\\u006dethod":"tools/call"}',
      '[{"id":1,"result":1},{"id":2,"method":"x"},{"id":{"b":[1,2]},"error":{}},5,[{"id":9}]]',
      '{"result":{"id":8},"id":null}',
      '  {"id" : 1e2 , "result" : "\\"id\\":5"}  ',
      '{"id":-0.0,"result":true}',
    ];
    for (const text of texts) expect(responseIds(text), text).toEqual(reference(text));
    expect(responseIds('[{"id":1,"result":1},{"id":2,"method":"x"},{"id":{"b":[1,2]},"error":{}}]')).toEqual(['1', '{"b":[1,2]}']);
  });

  it('reads a 20 MB answer and its decoys in one pass, and stops at absurd nesting', () => {
    const page = `${'word "id":13, {"id":14} \\n '.repeat(800_000)}`;
    const text = JSON.stringify({ jsonrpc: '2.0', result: { content: [{ type: 'text', text: page }] }, id: 42 });
    expect(text.length).toBeGreaterThan(20_000_000);
    expect(responseIds(text)).toEqual(['42']);
    expect(responseIds(`${'['.repeat(100_000)}${']'.repeat(100_000)}`)).toBeNull();
    expect(responseIds(`[${'['.repeat(400)}${']'.repeat(400)},{"id":1,"result":0}]`)).toEqual(['1']);
  });
});
