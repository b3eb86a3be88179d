/**
 * Crawl policy for one request (pure; SECURITY.md "Crawl requests" and "Parser differentials",
 * OWASP API 2023: API5 function-level authorization, API7 SSRF). The route's permission, the URL
 * cap, then the allow-list of every body field (options/check.ts over options/table.ts): the
 * body to forward is the checker's rebuild of what it checked, never the client's object.
 */
import type { Permission } from '../auth/rbac';
import { tenantOf, type Principal } from '../auth/principal';
import type { Config } from '../config';
import { GatewayError } from '../http/errors';
import type { OptionLimits } from './options/kinds';
import { checkBody, type CheckIssue } from './options/check';
import type { BodyShape } from './options/table';

export type CrawlRoute = 'crawl' | 'md' | 'html' | 'screenshot' | 'pdf' | 'execute_js' | 'job';

export const ROUTE_PERMISSION: Record<CrawlRoute, Permission> = {
  crawl: 'crawl:run',
  md: 'crawl:run',
  html: 'crawl:run',
  screenshot: 'crawl:screenshot',
  pdf: 'crawl:pdf',
  execute_js: 'crawl:js',
  job: 'jobs:write',
};

export interface PolicyContext {
  permissions: readonly Permission[];
  /**
   * The caller's tenant. When set, every `session_id` in the body is namespaced with it, so one
   * tenant can never attach to another's browser session (pages, cookies) on the shared crawler.
   */
  tenant?: string;
  maxUrls: number;
  allowPrivateTargets: boolean;
  limits: OptionLimits;
  /** Accept Crawl4AI `raw:` HTML targets (the HTTP crawl routes; jobs take URLs only). */
  allowRawHtml?: boolean;
}

export interface PolicyDecision {
  /** The body to forward (re-serialisable, URLs canonical, `engine` removed). */
  body: Record<string, unknown>;
  /** The checked target URLs (for audit counts, rate-limit weights and the edge engines). */
  urls: string[];
  engine: 'browser' | 'fetch' | undefined;
  /** Every permission this request used: the route's and its fields' (a job re-checks them before each batch). */
  needs: Permission[];
}

function insufficientScope(missing: Permission[], errors: CheckIssue[]): GatewayError {
  return new GatewayError('insufficient_scope', `This request needs the permission "${missing.join('", "')}"`, {
    headers: { 'WWW-Authenticate': `Bearer error="insufficient_scope", scope="${missing.join(' ')}"` },
    extras: { required: missing, errors: errors.map(({ path, message }) => ({ path, message })) },
  });
}

/**
 * Turns checker issues into the one error the client sees: a malformed, unknown or never-allowed
 * field → 422 `validation_failed`; a refused target → 422 `url_not_allowed`; otherwise the missing
 * permissions → 403 `insufficient_scope`. Every error lists the JSON paths.
 */
export function policyError(issues: CheckIssue[]): GatewayError {
  const errors = (kinds: CheckIssue['kind'][]) => issues.filter((i) => kinds.includes(i.kind));
  const invalid = errors(['invalid', 'unknown', 'never']);
  if (invalid.length > 0) {
    const list = invalid.map(({ path, message }) => ({ path, message }));
    const summary = list
      .slice(0, 3)
      .map((e) => `${e.path}: ${e.message}`)
      .join('; ');
    return new GatewayError('validation_failed', `Invalid request: ${summary}`, { extras: { errors: list } });
  }
  const urls = errors(['url']);
  if (urls.length > 0) {
    const first = urls[0] as CheckIssue;
    return new GatewayError('url_not_allowed', `${first.path}: ${first.message}`, {
      extras: { field: first.path, reason: first.message, errors: urls.map(({ path, message }) => ({ path, message })) },
    });
  }
  const perms = errors(['permission']);
  return insufficientScope([...new Set(perms.map((i) => i.permission as Permission))], perms);
}

const SHAPE: Record<CrawlRoute, BodyShape> = {
  crawl: 'crawl',
  md: 'md',
  html: 'html',
  screenshot: 'screenshot',
  pdf: 'pdf',
  execute_js: 'execute_js',
  job: 'job',
};

/**
 * The whole decision for one request. Throws the GatewayError the client sees: 403
 * `insufficient_scope`, 422 `too_many_urls` / `url_not_allowed` / `validation_failed`.
 */
export function decideCrawlPolicy(
  route: CrawlRoute,
  input: Record<string, unknown>,
  ctx: PolicyContext,
  shape: BodyShape = SHAPE[route],
): PolicyDecision {
  const base = ROUTE_PERMISSION[route];
  if (!ctx.permissions.includes(base)) throw insufficientScope([base], []);
  if (Array.isArray(input.urls) && input.urls.length > ctx.maxUrls) {
    throw new GatewayError('too_many_urls', `At most ${ctx.maxUrls} URLs per request (MAX_URLS); got ${input.urls.length}`, {
      extras: { limit: ctx.maxUrls },
    });
  }
  const checked = checkBody(shape, input, {
    permissions: ctx.permissions,
    tenant: ctx.tenant,
    allowPrivateTargets: ctx.allowPrivateTargets,
    limits: ctx.limits,
    allowRawHtml: ctx.allowRawHtml === true,
  });
  if (!checked.ok) throw policyError(checked.issues);
  const { engine, ...body } = checked.value;
  const urls = Array.isArray(body.urls) ? (body.urls as string[]) : typeof body.url === 'string' ? [body.url] : [];
  return {
    body,
    urls,
    engine: engine === 'browser' || engine === 'fetch' ? engine : undefined,
    needs: [base, ...checked.needs.filter((p) => p !== base)],
  };
}

/** The policy context of a principal under a config (`maxUrls` defaults to MAX_URLS). */
export function policyContextFor(principal: Principal, config: Config, maxUrls = config.MAX_URLS): PolicyContext {
  return {
    permissions: principal.permissions,
    tenant: tenantOf(principal),
    maxUrls,
    allowPrivateTargets: config.ALLOW_PRIVATE_TARGETS,
    limits: {
      deepCrawlMaxPages: config.DEEP_CRAWL_MAX_PAGES,
      deepCrawlMaxDepth: config.DEEP_CRAWL_MAX_DEPTH,
      llmBaseUrls: config.LLM_BASE_URLS,
    },
  };
}
