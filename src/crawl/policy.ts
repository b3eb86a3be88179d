/**
 * Per-field crawl policy (pure; SECURITY.md "Crawl requests", OWASP API 2023: API5 function-level
 * authorization, API6 sensitive business flows, API7 SSRF). Given a validated body it decides the
 * permissions needed, checks every URL the origin would contact, and returns the body to forward
 * with each URL replaced by the canonical form that was checked.
 */
import type { Permission } from '../auth/rbac';
import { GatewayError } from '../http/errors';
import { checkTargetUrl } from './egress';

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

/** Keys that make the crawler run caller-supplied code (Crawl4AI hooks run Python; the rest JS). */
const CODE_KEYS = new Set(['hooks', 'js_code', 'js_code_before_wait', 'c4a_script', 'scripts']);

/** Keys whose string values the origin connects to (webhooks, LLM base URLs, proxies). */
const NESTED_URL_KEYS = new Set(['webhook_url', 'base_url', 'server', 'proxy', 'proxy_server', 'url', 'start_url']);

/** Top-level names that would let a body speak for someone else. Refused (422), never forwarded. */
const IDENTITY_KEY = /^(user|user_?id|user_?name|owner|tenant|tenant_?id|principal|sub|subject|email|api_?key|api_?token|token|access_token|auth|authorization|identity|scopes?|roles?|permissions?|actor|on_behalf_of|impersonate)$/i;

/**
 * Fields that reach into the crawler host itself: file paths on its disk (`output_path`,
 * `user_data_dir`, `downloads_path`), Chromium launch flags (`extra_args`: e.g.
 * `--host-resolver-rules=MAP * 169.254.169.254` would undo the egress policy), and attaching
 * the crawler to another browser (`cdp_url`, `debugging_port`, `use_managed_browser`). Refused
 * anywhere in the body.
 */
const HOST_REACH_KEYS = new Set(['output_path', 'user_data_dir', 'downloads_path', 'extra_args', 'cdp_url', 'debugging_port', 'use_managed_browser', 'browser_path']);

/** Crawler flags that produce what a dedicated route's permission guards. */
const FLAG_PERMISSIONS: Record<string, Permission> = { screenshot: 'crawl:screenshot', pdf: 'crawl:pdf' };

/** Permissions implied by `screenshot: true` / `pdf: true` anywhere in the body. */
export function flaggedPermissions(value: unknown): Permission[] {
  if (Array.isArray(value)) return value.flatMap(flaggedPermissions);
  if (!value || typeof value !== 'object') return [];
  const out: Permission[] = [];
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    const perm = FLAG_PERMISSIONS[k];
    if (perm && v === true) out.push(perm);
    else out.push(...flaggedPermissions(v));
  }
  return out;
}

export interface PolicyContext {
  permissions: readonly Permission[];
  /**
   * The caller's tenant. When set, every `session_id` in the body is namespaced with it, so one
   * tenant can never attach to another's browser session (pages, cookies) on the shared crawler.
   */
  tenant?: string;
  maxUrls: number;
  allowPrivateTargets: boolean;
}

export interface PolicyDecision {
  /** The body to forward (URLs canonical, `engine` removed). */
  body: Record<string, unknown>;
  /** The checked target URLs (for audit counts and the edge engines). */
  urls: string[];
  engine: 'browser' | 'fetch' | undefined;
}

/** Paths (dotted) of fields that run code, anywhere in the value. `wait_for: "js:..."` counts. */
export function findCodeFields(value: unknown, path = ''): string[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => findCodeFields(v, `${path}[${i}]`));
  if (!value || typeof value !== 'object') return [];
  const out: string[] = [];
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    const p = path ? `${path}.${k}` : k;
    const present = v !== null && v !== undefined && v !== '' && !(Array.isArray(v) && v.length === 0);
    if (CODE_KEYS.has(k) && present) out.push(p);
    else if (k === 'wait_for' && typeof v === 'string' && /^\s*js\s*:/i.test(v)) out.push(p);
    else out.push(...findCodeFields(v, p));
  }
  return out;
}

function urlNotAllowed(field: string, reason: string): GatewayError {
  return new GatewayError('url_not_allowed', `${field}: ${reason}`, { extras: { field, reason } });
}

/** Checks one URL-ish value; proxies written as `host:port` are read as http URLs. */
function checked(field: string, raw: unknown, allowPrivateTargets: boolean, proxyLike = false): string {
  if (typeof raw !== 'string') throw urlNotAllowed(field, 'must be a URL string');
  const text = proxyLike && !raw.includes('://') ? `http://${raw}` : raw;
  const r = checkTargetUrl(text, { allowPrivateTargets });
  if (!r.ok) throw urlNotAllowed(field, r.reason);
  return r.url.href;
}

/** Pure: `session_id` as the origin sees it: `<tenant>~<id>` (idempotent for the same tenant). */
export function tenantSessionId(tenant: string, id: string): string {
  const prefix = `${tenant}~`;
  return id.startsWith(prefix) ? id : prefix + id;
}

/** Rewrites nested URL-ish fields (below the top level) to their checked canonical forms. */
function checkNested(value: unknown, path: string, allow: boolean, tenant?: string): unknown {
  if (Array.isArray(value)) return value.map((v, i) => checkNested(v, `${path}[${i}]`, allow, tenant));
  if (!value || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    const p = `${path}.${k}`;
    if (HOST_REACH_KEYS.has(k) && v !== null && v !== undefined && v !== false) throw new GatewayError('validation_failed', `${p}: not allowed through the gateway (reaches into the crawler host)`, { extras: { errors: [{ path: p, message: 'not allowed' }] } });
    if (NESTED_URL_KEYS.has(k) && typeof v === 'string' && v !== '') out[k] = checked(p, v, allow, k === 'server' || k.startsWith('proxy'));
    else if (k === 'session_id' && tenant && typeof v === 'string' && v !== '') out[k] = tenantSessionId(tenant, v);
    else out[k] = checkNested(v, p, allow, tenant);
  }
  return out;
}

/**
 * The whole decision for one request. Throws the GatewayError the client sees: 403
 * `insufficient_scope`, 422 `too_many_urls` / `url_not_allowed` / `validation_failed`.
 */
export function decideCrawlPolicy(route: CrawlRoute, input: Record<string, unknown>, ctx: PolicyContext): PolicyDecision {
  for (const key of Object.keys(input)) {
    if (IDENTITY_KEY.test(key)) {
      throw new GatewayError('validation_failed', `${key}: identity fields are set by the gateway, not the request body`, { extras: { errors: [{ path: key, message: 'not allowed' }] } });
    }
    if (HOST_REACH_KEYS.has(key) && input[key] !== null && input[key] !== undefined && input[key] !== false) {
      throw new GatewayError('validation_failed', `${key}: not allowed through the gateway (reaches into the crawler host)`, { extras: { errors: [{ path: key, message: 'not allowed' }] } });
    }
  }

  const needed = new Set<Permission>([ROUTE_PERMISSION[route]]);
  if (findCodeFields(input).length > 0) needed.add('crawl:js');
  for (const p of flaggedPermissions(input)) needed.add(p);
  if (input.ignore_robots === true) needed.add('crawl:ignore-robots'); // docs/polite-crawling.md
  const missing = [...needed].filter((p) => !ctx.permissions.includes(p));
  if (missing.length > 0) {
    throw new GatewayError('insufficient_scope', `This request needs the permission "${missing.join('", "')}"`, {
      headers: { 'WWW-Authenticate': `Bearer error="insufficient_scope", scope="${missing.join(' ')}"` },
      extras: { required: missing },
    });
  }

  const { engine, ...rest } = input;
  const body: Record<string, unknown> = {};
  let urls: string[] = [];
  for (const [k, v] of Object.entries(rest)) {
    if (k === 'urls' && Array.isArray(v)) {
      if (v.length > ctx.maxUrls) {
        throw new GatewayError('too_many_urls', `At most ${ctx.maxUrls} URLs per request (MAX_URLS); got ${v.length}`, { extras: { limit: ctx.maxUrls } });
      }
      urls = v.map((u, i) => checked(`urls[${i}]`, u, ctx.allowPrivateTargets));
      body[k] = urls;
    } else if (k === 'url') {
      const u = checked('url', v, ctx.allowPrivateTargets);
      urls = [u];
      body[k] = u;
    } else if (NESTED_URL_KEYS.has(k) && typeof v === 'string' && v !== '') {
      body[k] = checked(k, v, ctx.allowPrivateTargets, k === 'server' || k.startsWith('proxy'));
    } else if (k === 'session_id' && ctx.tenant && typeof v === 'string' && v !== '') {
      body[k] = tenantSessionId(ctx.tenant, v);
    } else {
      body[k] = checkNested(v, k, ctx.allowPrivateTargets, ctx.tenant);
    }
  }
  return { body, urls, engine: engine === 'browser' || engine === 'fetch' ? engine : undefined };
}
