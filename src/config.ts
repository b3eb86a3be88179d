/**
 * One zod schema over every var and secret (names fixed in shared/API.md "Configuration names").
 * A missing or weak secret is a configuration error naming the variable and how to fix it;
 * there is never a silent default secret. The kinds of variable (secret, bool, int, list, …) are
 * in src/config-vars.ts.
 */
import { z } from 'zod';
import type { Cidr } from './http/cidr';
import type { RateLimitSpec } from './ratelimit/limit-spec';
import { parseRoleLimits, parseRouteLimits } from './ratelimit/policy';
import { parseSeedKeys } from './keys/seed-keys';
import { parseRolePermissions } from './auth/rbac';
import { parsePrivateJwks } from './auth/jwt/private-jwks';
import { parseBotAuthKeys, type BotAuthKey } from './polite/bot-auth-keys';
import { parseCreditCosts, type CreditCosts } from './metering/costs';
import { err, ok } from './lib/result';
import {
  SECRET_HELP,
  bool,
  cidrs,
  int,
  jsonVar,
  list,
  nonBlank,
  optionalString,
  originOrigin,
  rateLimit,
  secretWeakness,
  strongSecret,
  valueOrMessage,
} from './config-vars';

export { secretWeakness } from './config-vars';

export const configSchema = z
  .object({
    ENVIRONMENT: z.enum(['production', 'development', 'test']).default('production'),
    // secrets
    JWT_SECRET_KEY: strongSecret,
    API_KEY_SALT: strongSecret,
    ADMIN_USERNAME: optionalString.pipe(
      z
        .string()
        .regex(/^[A-Za-z0-9._@-]{1,64}$/, 'must be 1-64 of A-Z a-z 0-9 . _ @ -')
        .optional(),
    ),
    ADMIN_PASSWORD_HASH: optionalString.pipe(
      z
        .string()
        .regex(
          /^\$argon2id\$v=19\$m=\d+,t=\d+,p=\d+\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/,
          'must be an argon2id PHC string ($argon2id$v=19$m=...); `npm run secrets` makes one',
        )
        .optional(),
    ),
    // The seed's JSON key table (src/keys/seed-keys.ts) and private JWKs (src/auth/jwt/private-jwks.ts), parsed here once.
    API_KEYS: jsonVar((v) => {
      const parsed = parseSeedKeys(nonBlank(v));
      return parsed.ok ? ok(parsed.keys) : err(parsed.problem);
    }),
    JWT_PRIVATE_KEYS: jsonVar((v) => {
      const json = nonBlank(v);
      return json === undefined ? ok([]) : parsePrivateJwks(json);
    }),
    // Old HS256 secrets (comma list) that still verify tokens until those age out; never used to sign.
    JWT_PREVIOUS_SECRET_KEYS: list.superRefine((keys, ctx) => {
      for (const k of keys) {
        const weak = secretWeakness(k);
        if (weak) ctx.addIssue({ code: 'custom', message: `has an entry that ${weak}; ${SECRET_HELP}` });
      }
    }),
    ORIGIN_SECRET: optionalString,
    // vars
    ORIGIN_URL: optionalString.pipe(z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional()),
    CORS_ORIGINS: list.pipe(z.array(originOrigin)),
    TRUSTED_HOSTS: list,
    METRICS_ALLOW_CIDRS: cidrs('127.0.0.1/32,::1/128'),
    ADMIN_ALLOW_CIDRS: cidrs(''),
    ALLOW_PRIVATE_TARGETS: bool(false),
    // SECURITY.md "Tokens": access tokens live minutes (at most 15); a larger value stops the Worker.
    ACCESS_TOKEN_TTL: int(900, 60, 900),
    REFRESH_TOKEN_TTL: int(604800, 300, 90 * 86400),
    // docs/tokens.md "Grace window": a refresh token re-presented this soon after its rotation (two
    // tabs refreshing at once) gets a fresh token instead of revoking the family. 0 turns it off.
    REFRESH_REUSE_GRACE_SECONDS: int(10, 0, 60),
    DEFAULT_RATE_LIMIT: rateLimit('100/minute'),
    IP_RATE_LIMIT: rateLimit('600/minute'),
    LOGIN_RATE_LIMIT: rateLimit('5/minute'),
    // docs/rate-limits.md: per-role rate and concurrency defaults, per-route-group (nginx zone) limits
    ROLE_RATE_LIMITS: jsonVar(valueOrMessage(parseRoleLimits)),
    ROUTE_RATE_LIMITS: jsonVar(valueOrMessage(parseRouteLimits)),
    MAX_BODY_BYTES: int(1_048_576, 1024, 100 * 1_048_576),
    MAX_URLS: int(100, 1, 10_000),
    // Crawl options (docs/crawling.md "Crawl options"): the safe deep-crawl bound, and the LLM
    // endpoints that may receive the origin's own provider keys.
    DEEP_CRAWL_MAX_PAGES: int(20, 1, 10_000),
    DEEP_CRAWL_MAX_DEPTH: int(2, 1, 20),
    LLM_BASE_URLS: list,
    // Bytes of results one edge `/crawl` answer may carry; past it, results are stubs pointing to /crawl/stream and /jobs.
    EDGE_CRAWL_RESPONSE_BUDGET_BYTES: int(33_554_432, 16_384, 1_073_741_824),
    // Browser tabs one edge request uses at once (docs/edge-engines.md "Tabs per request").
    EDGE_BROWSER_TABS: int(4, 1, 16),
    // Prepare each tenant's next browser context ahead of its next request (docs/edge-engines.md "Warm contexts");
    // off by default until a quiet-machine bench shows it pays (docs/performance.md "Warm contexts").
    EDGE_BROWSER_WARM_CONTEXTS: bool(false),
    ORIGIN_TIMEOUT_MS: int(300_000, 1000, 900_000),
    // docs/crawling.md "Origin profile": which Crawl4AI server release ORIGIN_URL runs (what it refuses, how bodies are forwarded).
    ORIGIN_PROFILE: z.enum(['crawl4ai-0.9', 'crawl4ai-0.8'], { error: 'must be crawl4ai-0.9 or crawl4ai-0.8' }).default('crawl4ai-0.9'),
    AUDIT_RETENTION_DAYS: int(90, 1, 3650),
    // Audit at scale (docs/audit.md "Shards", docs/scale.md): hash chains (AuditLog objects) chosen by
    // a stable hash of the tenant; allowed-request events go to R2 segments of at most this many
    // seconds, kept AUDIT_ARCHIVE_RETENTION_DAYS; AUDIT_CHECKPOINT_KEY signs the checkpoints of all heads.
    AUDIT_SHARDS: int(4, 1, 256),
    AUDIT_SEGMENT_SECONDS: int(60, 1, 3600),
    AUDIT_ARCHIVE_RETENTION_DAYS: int(30, 1, 3650),
    AUDIT_CHECKPOINT_KEY: optionalString,
    // docs/api-keys.md "Self-service keys": live keys one owner may hold when created by a non-admin.
    MAX_KEYS_PER_USER: int(10, 1, 1000),
    // Crawl jobs (docs/jobs.md): URLs per job, pages per work item, work items in flight in total /
    // per tenant / per job, attempts per page, first retry delay, work-item lease, retention.
    JOB_MAX_URLS: int(10_000, 1, 10_000),
    JOB_BATCH_SIZE: int(10, 1, 100),
    JOB_CONCURRENCY: int(16, 1, 1000),
    JOB_TENANT_CONCURRENCY: int(4, 1, 1000),
    JOB_CONCURRENCY_PER_JOB: int(4, 1, 100),
    JOB_MAX_ATTEMPTS: int(4, 1, 10),
    JOB_RETRY_BASE_MS: int(1000, 10, 60_000),
    JOB_LEASE_MS: int(600_000, 1000, 900_000),
    JOB_RETENTION_DAYS: int(7, 1, 365),
    // docs/metering.md: usage rollups (one row per UTC day × tenant × key × user × route × engine) kept this long.
    USAGE_RETENTION_DAYS: int(400, 1, 3650),
    // Polite crawling (docs/polite-crawling.md): robots.txt, per-host pacing, identity, Web Bot Auth.
    RESPECT_ROBOTS: bool(true),
    HOST_MIN_DELAY_MS: int(1000, 0, 60_000),
    HOST_MAX_CONCURRENCY: int(2, 1, 100),
    HOST_MAX_CRAWL_DELAY_MS: int(10_000, 0, 600_000),
    HOST_CIRCUIT_THRESHOLD: int(5, 1, 1000),
    CRAWLER_CONTACT_URL: optionalString.pipe(z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional()),
    CRAWLER_USER_AGENT: optionalString.pipe(
      z
        .string()
        .max(512)
        .regex(/^[\x20-\x7e]+$/, 'must be printable ASCII')
        .optional(),
    ),
    SIGNATURE_AGENT_URL: optionalString.pipe(z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional()),
    WEB_BOT_AUTH_KEYS: jsonVar<BotAuthKey[]>(valueOrMessage(parseBotAuthKeys)),
    // Metering (docs/metering.md): credits per page by engine / route; JSON, zod-checked.
    CREDIT_COSTS: jsonVar<CreditCosts>(valueOrMessage(parseCreditCosts)),
    // Optional JSON override of the role → permission table: {"operator":["crawl:*","jobs:*"]}.
    ROLE_PERMISSIONS: jsonVar(valueOrMessage((v) => parseRolePermissions(v && v.trim() !== '' ? v : undefined))),
  })
  .superRefine((c, ctx) => {
    if (c.ORIGIN_URL) {
      if (!c.ORIGIN_SECRET) {
        ctx.addIssue({ code: 'custom', path: ['ORIGIN_SECRET'], message: `is required when ORIGIN_URL is set; ${SECRET_HELP}` });
      } else {
        const weak = secretWeakness(c.ORIGIN_SECRET);
        if (weak) ctx.addIssue({ code: 'custom', path: ['ORIGIN_SECRET'], message: `${weak}; ${SECRET_HELP}` });
      }
    }
    if (c.ALLOW_PRIVATE_TARGETS && c.ENVIRONMENT === 'production') {
      ctx.addIssue({
        code: 'custom',
        path: ['ALLOW_PRIVATE_TARGETS'],
        message: 'is for local development only; set ENVIRONMENT=development to use it',
      });
    }
    if (c.ADMIN_PASSWORD_HASH && !c.ADMIN_USERNAME) {
      ctx.addIssue({ code: 'custom', path: ['ADMIN_USERNAME'], message: 'is required when ADMIN_PASSWORD_HASH is set' });
    }
  });

export type Config = z.output<typeof configSchema>;
export type { Cidr, RateLimitSpec };

/** One problem with one variable; the message never contains the value of a secret. */
export interface ConfigProblem {
  variable: string;
  message: string;
}

export type ConfigResult = { ok: true; config: Config } | { ok: false; problems: ConfigProblem[] };

/** Pure: parses the raw env (vars + secrets). Does not log. */
export function parseConfig(raw: Record<string, unknown>): ConfigResult {
  const input: Record<string, unknown> = {};
  for (const key of Object.keys(configSchema.shape)) {
    const v = raw[key];
    if (typeof v === 'string') input[key] = v;
    else if (v !== undefined && v !== null) input[key] = String(v);
  }
  const result = configSchema.safeParse(input);
  if (result.success) return { ok: true, config: result.data };
  return {
    ok: false,
    problems: result.error.issues.map((i) => ({ variable: String(i.path[0] ?? 'config'), message: i.message })),
  };
}

const cache = new WeakMap<object, ConfigResult>();

/**
 * Parses once per isolate and env object. Config problems are logged once, naming the variable,
 * so `wrangler tail` shows what to fix.
 */
export function loadConfig(env: object): ConfigResult {
  let result = cache.get(env);
  if (!result) {
    result = parseConfig(env as Record<string, unknown>);
    cache.set(env, result);
    if (!result.ok) {
      for (const p of result.problems) console.error(`crawlgate misconfigured: ${p.variable} ${p.message}`);
    }
  }
  return result;
}
