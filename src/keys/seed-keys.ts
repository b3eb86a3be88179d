/**
 * The `API_KEYS` secret's format (the seed's JSON), parsed and checked without I/O: src/config.ts
 * runs it when the config is read, src/keys/seed.ts indexes the keys it yields.
 */
import { normalizeScopes, type Permission } from '../auth/rbac';
import { parseRateLimit } from '../ratelimit/limit-spec';
import { checkKeyFormat } from './format';
import { isDisplaySafe } from '../http/display-text';

export interface SeedKey {
  id: string;
  key: string;
  name: string;
  rateLimit: string | null;
  /** The scope names as written in API_KEYS (seed clients read these back from /auth/api-key/validate). */
  scopes: string[];
  permissions: Permission[];
  /** Optional crawlgate extension: crawl requests in flight (default: the role/Crawl4AI default of 10). */
  maxConcurrency: number | null;
}

const SEED_NAME = /^[A-Za-z0-9_.-]{1,64}$/;
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/** Pure: parses and validates API_KEYS. The error message never contains a key. */
export function parseSeedKeys(json: string | undefined): { ok: true; keys: SeedKey[] } | { ok: false; problem: string } {
  if (!json) return { ok: true, keys: [] };
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    return {
      ok: false,
      problem: 'is not valid JSON; expected {"key1":{"key":"sk-...","name":"...","rate_limit":"1000/minute","scopes":["crawl"]}}',
    };
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw))
    return { ok: false, problem: 'must be a JSON object of name → {key, name, rate_limit, scopes}' };
  const keys: SeedKey[] = [];
  const seen = new Set<string>();
  for (const [name, value] of Object.entries(raw as Record<string, unknown>)) {
    const where = `entry "${SEED_NAME.test(name) ? name : '(invalid name)'}"`;
    if (!SEED_NAME.test(name)) return { ok: false, problem: `${where}: names must be 1-64 of A-Z a-z 0-9 _ . -` };
    if (!value || typeof value !== 'object' || Array.isArray(value)) return { ok: false, problem: `${where} must be an object` };
    const v = value as Record<string, unknown>;
    const key = v.key;
    if (typeof key !== 'string' || key.length < 20 || key.length > 256 || /\s/.test(key)) {
      return { ok: false, problem: `${where}: "key" must be 20-256 characters without spaces (npm run secrets generates one)` };
    }
    if (new Set(key).size < 12) return { ok: false, problem: `${where}: "key" is a placeholder or not random enough` };
    if (JWT_SHAPE.test(key)) return { ok: false, problem: `${where}: "key" looks like a JWT; API keys must not` };
    if (key.startsWith('cg_') && checkKeyFormat(key).kind !== 'generated')
      return { ok: false, problem: `${where}: "key" starts with cg_ but is not a well-formed crawlgate key` };
    if (seen.has(key)) return { ok: false, problem: `${where}: "key" is the same as another entry's` };
    seen.add(key);
    if (v.name !== undefined && (typeof v.name !== 'string' || v.name.length > 200))
      return { ok: false, problem: `${where}: "name" must be a string` };
    if (typeof v.name === 'string' && !isDisplaySafe(v.name))
      return { ok: false, problem: `${where}: "name" must not contain control, line-separator or format (bidi) characters` };
    let rateLimit: string | null = null;
    if (v.rate_limit !== undefined && v.rate_limit !== null) {
      const spec = typeof v.rate_limit === 'string' ? parseRateLimit(v.rate_limit) : null;
      if (!spec) return { ok: false, problem: `${where}: "rate_limit" must look like "1000/minute"` };
      rateLimit = spec.text;
    }
    let maxConcurrency: number | null = null;
    if (v.max_concurrency !== undefined && v.max_concurrency !== null) {
      if (
        typeof v.max_concurrency !== 'number' ||
        !Number.isInteger(v.max_concurrency) ||
        v.max_concurrency < 1 ||
        v.max_concurrency > 10_000
      ) {
        return { ok: false, problem: `${where}: "max_concurrency" must be a whole number from 1 to 10000` };
      }
      maxConcurrency = v.max_concurrency;
    }
    const scopes = v.scopes === undefined ? ['crawl'] : v.scopes;
    if (!Array.isArray(scopes) || !scopes.every((s) => typeof s === 'string'))
      return { ok: false, problem: `${where}: "scopes" must be a list of names` };
    const permissions = normalizeScopes(scopes as string[]);
    if (!permissions)
      return {
        ok: false,
        problem: `${where}: "scopes" names an unknown scope (use crawl, screenshot, pdf or a permission such as keys:manage)`,
      };
    keys.push({
      id: `seed_${name}`,
      key,
      name: typeof v.name === 'string' ? v.name : 'Unknown',
      rateLimit,
      maxConcurrency,
      scopes: scopes as string[],
      permissions,
    });
  }
  return { ok: true, keys };
}
