/**
 * Property tests over generated bodies (fast-check), built from the table itself plus unknown
 * names, typed-object smuggling, hostile strings and junk values. Whatever the input:
 *  - the checker never throws;
 *  - what it forwards holds no field outside the caller's allowance (no never field, no code
 *    field without crawl:js, no capability field without its permission, every wait_for a
 *    selector, every css_selector in the grammar);
 *  - nothing is forwarded that was not parsed: every forwarded key exists at the same place in
 *    the input, and every leaf equals the input's unless it is one of the documented rewrites;
 *  - the forwarded body is a fixpoint (checking it again gives it back) and survives the strict
 *    JSON reader.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Permission } from '../../src/auth/rbac';
import { checkBody } from '../../src/crawl/options/check';
import { DEFAULT_OPTION_LIMITS, isPlainCssSelector, type ValueSpec } from '../../src/crawl/options/kinds';
import { TYPES, type BodyShape } from '../../src/crawl/options/table';
import { parseStrictJson } from '../../src/lib/strict-json';

const HOSTILE = [
  'js:alert(1)',
  '() => 1',
  'function x(){}',
  '\uFEFFcss:a',
  'css:div',
  'div.a > p',
  'a");x("',
  'env:OPENAI_API_KEY',
  'http://169.254.169.254/',
  'https://example.com/x',
  'example.com',
  '__proto__',
  'x'.repeat(20),
];
const NAMES = [
  'type',
  'params',
  'value',
  'dict',
  '__proto__',
  'constructor',
  'js_code',
  'user_data_dir',
  'base_url',
  'api_token',
  'unknown_field',
];

const junk = fc.oneof(
  fc.constantFrom(...HOSTILE),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.boolean(),
  fc.constant(null),
);

function arbValue(spec: ValueSpec, depth: number): fc.Arbitrary<unknown> {
  if (depth > 4) return fc.constant(null);
  const d = depth + 1;
  switch (spec.kind) {
    case 'bool':
      return fc.oneof(fc.boolean(), junk);
    case 'number':
      return fc.oneof(fc.integer({ min: Math.ceil(Math.max(spec.min, -1e6)), max: Math.floor(Math.min(spec.max, 1e6)) }), junk);
    case 'string':
      return spec.values
        ? fc.oneof(fc.constantFrom(...spec.values), junk)
        : fc.oneof(fc.constantFrom(...HOSTILE), fc.string({ maxLength: 12 }));
    case 'url':
      return fc.constantFrom(
        'https://example.com/',
        'http://127.0.0.1/',
        'http://169.254.169.254/',
        'proxy.example.net:3128',
        'file:///etc/passwd',
      );
    case 'session':
      return fc.string({ maxLength: 10 });
    case 'list':
      return fc.oneof(fc.array(arbValue(spec.of, d), { maxLength: 3 }), junk);
    case 'either':
      return fc.oneof(...spec.options.map((o) => arbValue(o, d)));
    case 'map':
      return fc.dictionary(fc.oneof(fc.constantFrom(...NAMES), fc.string({ maxLength: 6 })), arbValue(spec.value, d), { maxKeys: 3 });
    case 'object':
      return fc.oneof(
        arbObject(spec.type, d),
        arbObject(spec.type, d).map((value) => ({ type: 'dict', value })),
        fc.record({ type: fc.constantFrom('LLMConfig', 'dict'), params: fc.constant({ api_token: 'env:X' }) }),
      );
    case 'objectBySibling':
      return fc.oneof(...Object.values(spec.types).map((t) => arbObject(t, d)));
    case 'typed': {
      const names = [...spec.types, 'LLMConfig', 'SomethingNew'];
      return fc.oneof(
        fc.constantFrom(...names).chain((t) => (TYPES[t] ? arbObject(t, d) : fc.constant({})).map((params) => ({ type: t, params }))),
        ...(spec.plain ? [arbObject(spec.plain, d)] : []),
      );
    }
    case 'enum':
      return fc.oneof(
        fc.constantFrom(...spec.values),
        fc.constantFrom(...spec.values).map((p) => ({ type: spec.enumType, params: p })),
        junk,
      );
  }
}

function arbObject(type: string, depth: number): fc.Arbitrary<Record<string, unknown>> {
  const spec = TYPES[type];
  if (!spec || depth > 4) return fc.constant({});
  const entries = Object.entries(spec.fields).map(([name, f]) => [name, f.value ? arbValue(f.value, depth) : junk] as const);
  const known = fc
    .subarray(entries, { maxLength: Math.min(4, entries.length) })
    .chain((chosen) => fc.tuple(...chosen.map(([name, arb]) => arb.map((v) => [name, v] as const))));
  const unknown = fc.array(fc.tuple(fc.constantFrom(...NAMES), junk), { maxLength: 1 });
  return fc.tuple(known, unknown).map(([a, b]) => {
    const o: Record<string, unknown> = {};
    for (const [k, v] of [...a, ...b]) Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
    return o;
  });
}

const SHAPES: BodyShape[] = ['crawl', 'md', 'screenshot', 'job', 'execute_js'];
const PERMS: Permission[] = ['crawl:js', 'crawl:llm', 'crawl:proxy', 'crawl:headers', 'crawl:deep', 'crawl:screenshot', 'crawl:pdf'];
/** Keys whose string leaves the gateway rewrites (canonical URL, tenant session, `css:` prefix). */
const REWRITTEN = /^(urls|url|server|proxy|proxy_config|proxies|base_url|webhook_url|origin|session_id|proxy_session_id|wait_for)$/;

type Walk = (o: unknown, inputAt: unknown, type: string | undefined, key: string) => void;

/** Checks the forwarded value against the caller's allowance and the input, in one walk. */
function audit(out: unknown, input: unknown, perms: readonly Permission[]): void {
  const visit: Walk = (o, src, type, key) => {
    if (Array.isArray(o)) {
      expect(Array.isArray(src)).toBe(true);
      o.forEach((v, i) =>
        visit(v, (src as unknown[])[i] ?? (src as unknown[]).find((s) => JSON.stringify(s) === JSON.stringify(v)), undefined, key),
      );
      return;
    }
    if (o === null || typeof o !== 'object') {
      if (!REWRITTEN.test(key) && !(key === 'type' && typeof o === 'string')) expect(o).toEqual(src);
      return;
    }
    const obj = o as Record<string, unknown>;
    const s = (src ?? {}) as Record<string, unknown>;
    const typedName = typeof obj.type === 'string' && TYPES[obj.type] && 'params' in obj ? obj.type : undefined;
    for (const k of Object.keys(obj)) {
      if (!(typedName && k === 'type')) expect(Object.hasOwn(s, k) || (k === 'type' && 'params' in obj)).toBe(true);
      const field = type ? TYPES[type]?.fields[k] : undefined;
      if (field) {
        const v = obj[k];
        const present = v !== null && v !== '' && !(Array.isArray(v) && v.length === 0);
        expect(field.cls).not.toBe('never');
        if (present && field.cls === 'code') expect(perms).toContain('crawl:js');
        if (present && field.cls === 'capability') expect(perms).toContain(field.permission);
        if (k === 'wait_for' && typeof v === 'string' && !perms.includes('crawl:js')) expect(v.startsWith('css:')).toBe(true);
        if (k === 'css_selector' && typeof v === 'string' && v !== '' && !perms.includes('crawl:js'))
          expect(isPlainCssSelector(v)).toBe(true);
      }
      const childType = typedName && k === 'params' ? typedName : field?.value?.kind === 'object' ? field.value.type : undefined;
      visit(obj[k], s[k], childType ?? (k === 'value' && obj.type === 'dict' ? type : undefined), k);
    }
    if (typedName && TYPES[typedName]?.permission) expect(perms).toContain(TYPES[typedName]?.permission);
  };
  visit(out, input, undefined, '');
}

describe('crawl-option checker over generated bodies', () => {
  it('forwards only allowed, parsed fields, as a fixpoint', () => {
    let forwarded = 0;
    fc.assert(
      fc.property(
        fc.constantFrom(...SHAPES).chain((shape) => fc.tuple(fc.constant(shape), arbObject(`body:${shape}`, 0), fc.subarray(PERMS))),
        ([shape, body, extra]) => {
          const perms: Permission[] = ['crawl:run', ...extra];
          const ctx = { permissions: perms, tenant: 'key:t', allowPrivateTargets: false, limits: DEFAULT_OPTION_LIMITS };
          const r = checkBody(shape, body, ctx);
          if (!r.ok) {
            expect(r.issues.length).toBeGreaterThan(0);
            for (const i of r.issues) expect(i.path.startsWith('$')).toBe(true);
            return;
          }
          forwarded++;
          audit(r.value, body, perms);
          const text = JSON.stringify(r.value);
          const reread = parseStrictJson(text);
          expect(reread.ok).toBe(true);
          const again = checkBody(shape, reread.ok ? reread.value : null, ctx);
          expect(again.ok && again.value).toEqual(r.value);
        },
      ),
      { numRuns: 500 },
    );
    // Not vacuous: a real share of the generated bodies passes and is audited field by field.
    expect(forwarded).toBeGreaterThan(50);
    console.log(`options property: ${forwarded} of 500 generated bodies forwarded and audited`);
  }, 120_000);

  it('never throws on arbitrary JSON values', () => {
    fc.assert(
      fc.property(fc.constantFrom(...SHAPES), fc.jsonValue({ maxDepth: 6 }), (shape, v) => {
        const r = checkBody(shape, v, { permissions: ['crawl:run'], allowPrivateTargets: false, limits: DEFAULT_OPTION_LIMITS });
        expect(typeof r.ok).toBe('boolean');
      }),
      { numRuns: 1000 },
    );
  });
});
