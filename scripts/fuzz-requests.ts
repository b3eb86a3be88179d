/**
 * The malformed requests of `npm run fuzz`, one per seed (mulberry32, so a failing request is
 * reproduced from its number). Each picks an operation of the OpenAPI document and breaks it in
 * one or more ways: the method, the path parameters, the query, the headers, the body.
 */
export interface Operation {
  path: string;
  method: string;
  requestBody?: unknown;
  parameters: unknown[];
}

export interface FuzzRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string | Uint8Array;
}

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ODD_STRINGS = [
  '',
  ' ',
  '\u0000',
  '%',
  '%00',
  '%zz',
  '..%2f..%2fadmin',
  '../../etc/passwd',
  '\u202e',
  '😀'.repeat(50),
  'a'.repeat(5000),
  '<script>',
  "' OR 1=1 --",
  '${jndi:ldap://x}',
  'null',
  'undefined',
  '-1',
  '0',
  '1e309',
  'NaN',
  '__proto__',
  'constructor',
  'cg_live_x_y',
  'eyJhbGciOiJub25lIn0.e30.',
  '*',
  '\\',
  '//evil.test',
  'http://169.254.169.254/',
  'javascript:alert(1)',
  'http://[::1]/',
  'http://example.com/' + 'a'.repeat(3000),
  'https://example.com/?q=' + '%'.repeat(100),
];
const ODD_METHODS = ['PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD', 'PROPFIND', 'GET', 'POST'];
const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'application/json; charset=utf-16',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'multipart/form-data',
  'application/xml',
  'application/json, text/html',
  'application/merge-patch+json',
  ';;;',
  'a'.repeat(2000),
];

/** encodeURIComponent of a string that may hold lone surrogates. */
const enc = (s: string) => encodeURIComponent(s.toWellFormed());

export function makeRequest(seed: number, ops: Operation[], doc: unknown, key: string): FuzzRequest {
  const r = rng(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(r() * items.length)]!;
  const chance = (p: number) => r() < p;
  const op = pick(ops);

  const oddString = (): string => (chance(0.5) ? pick(ODD_STRINGS) : randomString());
  function randomString(): string {
    const len = pick([0, 1, 5, 20, 100, 1000]);
    let s = '';
    for (let i = 0; i < len; i++) s += String.fromCharCode(chance(0.9) ? 32 + Math.floor(r() * 95) : Math.floor(r() * 0xffff));
    return s;
  }
  const randomValue = (depth = 0): unknown => {
    switch (Math.floor(r() * (depth > 3 ? 6 : 8))) {
      case 0:
        return null;
      case 1:
        return chance(0.5);
      case 2:
        return pick([0, -1, 1.5, 1e308, -1e308, 2 ** 53 + 1, 1e-300, 65536, 100_000]);
      case 3:
      case 4:
        return oddString();
      case 5:
        return pick([[], {}, [null], ['']]);
      case 6:
        return Array.from({ length: pick(depth === 0 ? [1, 3, 200] : [1, 3]) }, () => randomValue(depth + 1));
      default:
        return Object.fromEntries(
          Array.from({ length: pick([1, 3, 20]) }, () => [
            pick([oddString(), 'url', 'urls', 'type', 'params', 'name', 'scopes', '__proto__']),
            randomValue(depth + 1),
          ]),
        );
    }
  };

  /** Values shaped after the schema (wrong in places), so validation gets past its first check. */
  const resolve = (schema: unknown): Record<string, unknown> | null => {
    let s = schema as Record<string, unknown> | undefined;
    for (let i = 0; i < 5 && s && typeof s.$ref === 'string'; i++) {
      const parts = (s.$ref as string).replace(/^#\//, '').split('/');
      s = parts.reduce<unknown>((o, p) => (o as Record<string, unknown> | undefined)?.[p], doc) as Record<string, unknown> | undefined;
    }
    return s ?? null;
  };
  const fromSchema = (schema: unknown, depth = 0): unknown => {
    const s = resolve(schema);
    if (!s || depth > 6 || chance(0.12)) return randomValue(depth);
    const alt = (s.anyOf ?? s.oneOf) as unknown[] | undefined;
    if (alt?.length) return fromSchema(pick(alt), depth + 1);
    if (Array.isArray(s.enum) && s.enum.length) return chance(0.8) ? pick(s.enum) : oddString();
    const type = Array.isArray(s.type) ? pick(s.type as string[]) : (s.type as string | undefined);
    switch (type) {
      case 'object': {
        const props = (s.properties ?? {}) as Record<string, unknown>;
        const out: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(props)) if (chance(0.8)) out[k] = fromSchema(v, depth + 1);
        if (chance(0.15)) out[oddString()] = randomValue(depth + 1);
        return out;
      }
      case 'array':
        return Array.from({ length: pick(depth === 0 ? [0, 1, 2, 5, 150] : [0, 1, 2, 5]) }, () => fromSchema(s.items, depth + 1));
      case 'string': {
        if (chance(0.6) && s.format === 'uri') return pick(['https://example.com/', 'http://example.org/a?b=c', oddString()]);
        if (chance(0.5) && Array.isArray(s.examples)) return pick(s.examples as unknown[]);
        return chance(0.5)
          ? pick(['example', 'crawl:run', '100/minute', 'https://example.com/', 'admin', '2026-01-01T00:00:00Z'])
          : oddString();
      }
      case 'integer':
      case 'number':
        return pick([0, 1, -5, 10, 3600, 1e9, 1.5, 2 ** 31, -(2 ** 53)]);
      case 'boolean':
        return chance(0.5);
      default:
        return randomValue(depth);
    }
  };

  // path parameters
  let pathname = op.path.replace(
    /\{[^}]+\}/g,
    () => enc(chance(0.3) ? pick(['job_0123456789abcdef', 'key_abc', 'admin', 'x']) : oddString()).slice(0, 4000) || 'x',
  );
  if (chance(0.05)) pathname += pick(['/', '//', '/..', '/%2e%2e', '?', '#x', '.json', '%00']);
  // query
  if (chance(0.4)) {
    const names = [
      'cursor',
      'limit',
      'since',
      'until',
      'actor',
      'action',
      'outcome',
      'deep',
      'status',
      'fields',
      'format',
      'token',
      'access_token',
      'api_key',
      oddString(),
    ];
    const q = Array.from({ length: pick([1, 2, 4]) }, () => `${enc(pick(names))}=${enc(String(randomValue(3)).slice(0, 3000))}`);
    pathname += `?${q.join('&')}`;
  }

  const method = chance(0.8) ? op.method : pick(ODD_METHODS);
  const headers: Record<string, string> = {};
  const auth = Math.floor(r() * 10);
  if (auth < 5) headers.Authorization = `Bearer ${key}`;
  else if (auth === 5) headers['X-API-Key'] = key;
  else if (auth === 6)
    headers.Authorization = pick([
      'Bearer ',
      'Bearer a.b.c',
      'Basic Zm9vOmJhcg==',
      `Bearer ${'x'.repeat(6000)}`,
      'Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.x',
      'bearer  ' + key,
      'Token abc',
      `Bearer ${key} ${key}`,
    ]);
  else if (auth === 7) headers['X-API-Key'] = pick(['', 'cg_live_abc_def', 'cg_test_' + 'a'.repeat(500), key + 'x', ' ' + key]);
  if (chance(0.2))
    headers['X-Request-Id'] = pick(['', 'abc', 'x'.repeat(500), '../../', 'id with space', '\u00e9']).replace(/[^\x20-\x7e]/g, '?');
  if (chance(0.1)) headers.Origin = pick(['https://app.example.com', 'null', 'https://evil.test']);
  if (chance(0.1)) headers.Accept = pick(['application/x-ndjson', 'text/html', '*/*;q=0', 'x'.repeat(1000)]);
  if (chance(0.05)) headers['Content-Encoding'] = pick(['gzip', 'br', 'identity', 'x']);
  if (chance(0.05)) headers.Cookie = pick(['cg_session=x', 'cg_session=' + 'a'.repeat(4000), '=;=;', 'cg_csrf=a; cg_session=b']);
  if (chance(0.05)) headers['X-Forwarded-For'] = pick(['1.2.3.4', 'garbage', '::1, 10.0.0.1']);

  let body: string | Uint8Array | undefined;
  if (method !== 'GET' && method !== 'HEAD' && (op.requestBody !== undefined || chance(0.3))) {
    headers['Content-Type'] = chance(0.75) ? 'application/json' : pick(CONTENT_TYPES);
    const content = (op.requestBody as { content?: Record<string, { schema?: unknown }> } | undefined)?.content;
    const schema = content ? Object.values(content)[0]?.schema : undefined;
    switch (Math.floor(r() * 10)) {
      case 0:
        body = pick([
          '{',
          '{"a":',
          '[1,2',
          'nul',
          '{"a":1,}',
          "{'a':1}",
          '{"a":NaN}',
          '{"a":Infinity}',
          '{"urls":["https://example.com/"]',
          '\ufeff{}',
          '',
          ' ',
          '{"a":1}{"b":2}',
        ]);
        break;
      case 1:
        body = JSON.stringify(randomValue());
        break;
      case 2: {
        const depth = pick([100, 1000, 20_000]);
        body = chance(0.5) ? '['.repeat(depth) + ']'.repeat(depth) : '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
        break;
      }
      case 3:
        body = JSON.stringify({ ...(fromSchema(schema) as object), padding: 'x'.repeat(pick([60_000, 70_000, 200_000])) });
        break;
      case 4: {
        const json = new TextEncoder().encode(JSON.stringify(fromSchema(schema)));
        const bytes = new Uint8Array(json.byteLength + 4);
        bytes.set(json);
        bytes.set([0xff, 0xfe, 0xc3, 0x28], json.byteLength);
        if (bytes.byteLength > 6) bytes.set([0xed, 0xa0, 0x80], Math.floor(bytes.byteLength / 2));
        body = bytes;
        break;
      }
      case 5:
        body = new URLSearchParams({
          grant_type: pick(['password', 'refresh_token', 'x', '']),
          username: oddString(),
          password: oddString(),
          refresh_token: oddString(),
        }).toString();
        break;
      default:
        body = JSON.stringify(fromSchema(schema));
    }
  }
  // keep every body under ~300 KB: past the body cap the gateway answers 413 without reading further anyway
  if (typeof body === 'string' && body.length > 300_000) body = body.slice(0, 300_000);
  return { method, path: pathname, headers, body };
}
