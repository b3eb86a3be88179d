/**
 * Which limits apply to a request (pure): route groups (the seed's nginx zones), role defaults,
 * Durable Object names, and hot-key sharding. Config parsing for `ROLE_RATE_LIMITS` and
 * `ROUTE_RATE_LIMITS` lives here so `config.ts` stays a list of names.
 */
import { isRole, ROLES, type Role } from '../auth/rbac';
import type { Principal } from '../auth/principal';
import { parseRateLimit, type RateLimitSpec } from './limit-spec';
import { parseIp } from '../http/cidr';

/** Route groups, after the seed's nginx `limit_req_zone`s (keyed per client IP, like `$binary_remote_addr`). */
export const ROUTE_GROUPS = ['api', 'playground', 'health'] as const;
export type RouteGroup = (typeof ROUTE_GROUPS)[number];

export const DEFAULT_ROUTE_LIMITS: Record<RouteGroup, string> = {
  api: '10/second;burst=20',
  playground: '5/second;burst=10',
  health: '10/second;burst=20',
};

export interface RoleLimit {
  rate: RateLimitSpec;
  /** Crawl requests in flight at once (Crawl4AI's `max_concurrent_requests` default is 10). */
  concurrency: number;
}

const DEFAULT_ROLE_LIMITS: Record<Role, { rate: string; concurrency: number }> = {
  admin: { rate: '1000/minute', concurrency: 20 },
  operator: { rate: '600/minute', concurrency: 10 },
  user: { rate: '100/minute', concurrency: 10 },
  viewer: { rate: '60/minute', concurrency: 2 },
};

/** Crawl4AI's default `max_concurrent_requests`. */
export const DEFAULT_MAX_CONCURRENCY = 10;

/** Routes that hold a concurrency lease while they run (POST only; job status reads do not). */
export const CRAWL_ROUTES = ['/crawl', '/crawl/stream', '/md', '/html', '/screenshot', '/pdf', '/execute_js', '/crawl/job'];

/** Login endpoints: limited per username and per IP before any password hashing happens. */
export const LOGIN_ROUTES = ['/auth/token', '/token'];

/**
 * The router's reading of a request (src/http/request-target.ts `requestRoute`): the template of
 * the route it matched (null when none) and its decoded routing path. Classifications below take
 * this, never the raw URL, so they cannot disagree with the route that runs (issue #26).
 */
export interface RoutedRequest {
  method: string;
  path: string;
  template: string | null;
}

/** The nginx zone a request belongs to: by its matched route, else by its decoded path. */
export function routeGroupOf(req: Pick<RoutedRequest, 'path' | 'template'> | string): RouteGroup {
  const path = typeof req === 'string' ? req : (req.template ?? req.path);
  if (path === '/health' || path === '/metrics') return 'health';
  if (/^\/(playground|dashboard)(\/|$)/.test(path)) return 'playground';
  return 'api';
}

/** Requests whose limiter failure must fail closed with 503 (SECURITY.md "Rate limits"); others fail open. */
export function failsClosed(req: Pick<RoutedRequest, 'path' | 'template'> | string): boolean {
  return routeGroupOf(req) !== 'health';
}

/** A crawl request: POST to a crawl route the router matched (it then holds a concurrency lease). */
export function isCrawlRoute(req: RoutedRequest): boolean {
  return req.method === 'POST' && req.template !== null && CRAWL_ROUTES.includes(req.template);
}

/**
 * `POST /mcp/messages[/]`: its handler admits each message against the principal's limits (a
 * tool call weighs its URLs and holds a lease, src/crawl/mcp-limits.ts), so the middleware does not.
 */
export function isMcpMessageRoute(req: RoutedRequest): boolean {
  // POST /mcp (the gateway's own MCP server) charges each post itself too (src/mcp/server.ts).
  return req.method === 'POST' && (req.template === '/mcp/messages' || req.template === '/mcp/messages/' || req.template === '/mcp');
}

/** A login attempt: POST to a login route the router matched. */
export function isLoginRoute(req: RoutedRequest): boolean {
  return req.method === 'POST' && req.template !== null && LOGIN_ROUTES.includes(req.template);
}

/** Parses `ROUTE_RATE_LIMITS` (`{"api":"10/second;burst=20",...}`); missing groups keep defaults. */
export function parseRouteLimits(json: string | undefined): Record<RouteGroup, RateLimitSpec> | string {
  const raw = parseObject(json);
  if (typeof raw === 'string') return raw;
  const out = {} as Record<RouteGroup, RateLimitSpec>;
  for (const g of ROUTE_GROUPS) out[g] = parseRateLimit(DEFAULT_ROUTE_LIMITS[g]) as RateLimitSpec;
  for (const [group, value] of Object.entries(raw)) {
    if (!(ROUTE_GROUPS as readonly string[]).includes(group)) return `names an unknown route group "${group}" (api, playground, health)`;
    const spec = typeof value === 'string' ? parseRateLimit(value) : null;
    if (!spec) return `group "${group}" must be a limit like "10/second;burst=20"`;
    out[group as RouteGroup] = spec;
  }
  return out;
}

/**
 * Parses `ROLE_RATE_LIMITS`: `{"user":"200/minute","admin":{"rate":"2000/minute","concurrency":20}}`.
 * Missing roles (and missing fields) keep the defaults.
 */
export function parseRoleLimits(json: string | undefined): Record<Role, RoleLimit> | string {
  const raw = parseObject(json);
  if (typeof raw === 'string') return raw;
  const out = {} as Record<Role, RoleLimit>;
  for (const r of ROLES)
    out[r] = { rate: parseRateLimit(DEFAULT_ROLE_LIMITS[r].rate) as RateLimitSpec, concurrency: DEFAULT_ROLE_LIMITS[r].concurrency };
  for (const [role, value] of Object.entries(raw)) {
    if (!isRole(role)) return `names an unknown role "${role}"`;
    const v = typeof value === 'string' ? { rate: value } : value;
    if (!v || typeof v !== 'object' || Array.isArray(v)) return `role "${role}" must be a limit string or {"rate","concurrency"}`;
    const { rate, concurrency } = v as { rate?: unknown; concurrency?: unknown };
    if (rate !== undefined) {
      const spec = typeof rate === 'string' ? parseRateLimit(rate) : null;
      if (!spec) return `role "${role}" rate must look like "100/minute"`;
      out[role].rate = spec;
    }
    if (concurrency !== undefined) {
      if (!Number.isInteger(concurrency) || (concurrency as number) < 1 || (concurrency as number) > 1000)
        return `role "${role}" concurrency must be 1 to 1000`;
      out[role].concurrency = concurrency as number;
    }
  }
  return out;
}

function parseObject(json: string | undefined): Record<string, unknown> | string {
  if (json === undefined || json.trim() === '') return {};
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    return 'is not valid JSON';
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return 'must be a JSON object';
  return raw as Record<string, unknown>;
}

/** The principal's rate-limit subject, limit and concurrency cap. */
export interface PrincipalLimits {
  dimension: 'key' | 'user';
  subject: string;
  rate: RateLimitSpec;
  concurrency: number;
}

/**
 * Keys: the key record's `rate_limit`, else `DEFAULT_RATE_LIMIT`. Users: the most generous of their
 * roles' defaults. A JWT minted from a key (`POST /token`) counts against that key.
 */
export function principalLimits(p: Principal, defaultRate: RateLimitSpec, roles: Record<Role, RoleLimit>): PrincipalLimits {
  const roleLimits = p.roles.map((r) => roles[r]).filter((x): x is RoleLimit => Boolean(x));
  const own = p.rateLimit ? parseRateLimit(p.rateLimit) : null;
  const keyId = p.kind === 'key' ? p.id : p.viaKeyId;
  const roleConcurrency = roleLimits.length ? Math.max(...roleLimits.map((r) => r.concurrency)) : DEFAULT_MAX_CONCURRENCY;
  const concurrency = p.maxConcurrency && p.maxConcurrency > 0 ? p.maxConcurrency : roleConcurrency;
  if (keyId) return { dimension: 'key', subject: keyId, rate: own ?? defaultRate, concurrency };
  const roleRate = roleLimits.reduce<RateLimitSpec | null>(
    (best, r) => (!best || perSecond(r.rate) > perSecond(best) ? r.rate : best),
    null,
  );
  return { dimension: 'user', subject: p.id, rate: own ?? roleRate ?? defaultRate, concurrency };
}

/** Sustained requests per second a spec allows. */
export function perSecond(spec: RateLimitSpec): number {
  return (spec.limit * 1000) / spec.windowMs;
}

/**
 * Hot keys. One Durable Object serves roughly 1,000 requests/s (Cloudflare's documented soft limit).
 * An ordinary request costs its key's object one call (admit; lease releases ride along with later
 * admits), so half that soft limit leaves room for release flushes and renewals.
 * A limit whose sustained rate exceeds SHARD_RATE_PER_SECOND is split over N objects with limit/N
 * (and burst/N) each; a request picks one shard at random. Accuracy cost: a client can be refused by
 * one shard while another still has room (at most a factor of N early); never more than the limit.
 */
export const SHARD_RATE_PER_SECOND = 500;
export const MAX_SHARDS = 16;

export function shardCount(spec: RateLimitSpec): number {
  return Math.max(1, Math.min(MAX_SHARDS, Math.ceil(perSecond(spec) / SHARD_RATE_PER_SECOND)));
}

/** The per-shard spec: limit and burst divided by the shard count (rounded up, at least 1). */
export function shardSpec(spec: RateLimitSpec, shards: number): RateLimitSpec {
  if (shards <= 1) return spec;
  const limit = Math.max(1, Math.ceil(spec.limit / shards));
  const burst = spec.burst !== undefined ? Math.max(1, Math.ceil(spec.burst / shards)) : undefined;
  return { limit, windowMs: spec.windowMs, text: `${spec.text}/${shards}`, ...(burst !== undefined ? { burst } : {}) };
}

/**
 * The subject of the per-IP buckets. IPv4 (also written IPv4-mapped) is the address; IPv6 is its
 * /64, because one subscriber routinely holds a whole /64 (RFC 6177; RFC 7381 §2.1) and would
 * otherwise get 2^64 fresh buckets. No address (never on Cloudflare) is the shared "unknown".
 */
export function ipSubject(ip: string | null): string {
  const value = ip ? parseIp(ip.trim()) : null;
  if (value === null) return 'unknown';
  if (value >> 32n === 0xffffn) {
    const v4 = Number(value & 0xffffffffn);
    return [v4 >>> 24, (v4 >>> 16) & 255, (v4 >>> 8) & 255, v4 & 255].join('.');
  }
  const top = value >> 64n;
  const groups = [48n, 32n, 16n, 0n].map((shift) => ((top >> shift) & 0xffffn).toString(16));
  return `${groups.join(':')}::/64`;
}

/** Durable Object name: `<dimension>:<subject>[:shard]` (docs/storage.md "Rate limits"). */
export function objectName(dimension: string, subject: string, shard?: number): string {
  return shard === undefined ? `${dimension}:${subject}` : `${dimension}:${subject}:${shard}`;
}
