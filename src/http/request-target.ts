/**
 * One reading of the request target, made once per request and shared by every decision about it
 * (route group, login and crawl classification, concurrency lease, audit route, 404/405 text).
 *
 * Hono routes on `c.req.path`: the URL's path after `decodeURI` (hono/utils/url.ts `getPath`), which
 * decodes unreserved and most other escapes (`/auth/%74oken` is `/auth/token`) but keeps reserved ones
 * such as `%2F`, `%3F`, `%23` and `%25` encoded. Dot segments, including `%2e`-spelled ones, are
 * already resolved by the WHATWG URL parser that built `request.url`; case is significant in both.
 * The rate limiters once read `new URL(c.req.url).pathname` (still encoded), so `POST /auth/%74oken`
 * ran the login handler without the login limiter and `POST /%6dd` ran /md without a lease (#26).
 * Now:
 *  - `c.var.path` is Hono's own routing path, `c.var.routeTemplate` the route it matched, and
 *    classifications use the matched route (`requestRoute`), so they equal the router's decision;
 *  - `c.var.url` is the one parsed URL (host checks, query credentials, origin of links);
 *  - spellings that the router and a handler would read two ways are refused with 400
 *    `ambiguous_path`: an encoded `/` or `\` (a route parameter would decode it into a separator),
 *    a `.`/`..` segment left after decoding, and encoded control characters.
 */
import type { Context, MiddlewareHandler } from 'hono';
import { matchedRoutes } from 'hono/route';
import type { AppEnv } from '../env';
import { GatewayError } from './errors';

/** A `.` or `..` path segment (no split per request). */
const DOT_SEGMENT = /(?:^|\/)\.\.?(?:\/|$)/;

/** Why a decoded path is refused, or null when it reads one way only (pure). */
export function ambiguousPath(path: string): string | null {
  if (/%2f/i.test(path)) return 'an encoded "/" (%2F)';
  if (path.includes('\\')) return 'a "\\" (%5C)';
  if (/[\x00-\x1f\x7f]/.test(path)) return 'an encoded control character';
  if (DOT_SEGMENT.test(path)) return 'a "." or ".." segment';
  return null;
}

/** The template of the route that serves this request (`/admin/keys/:id`), or null when none matched. */
export function matchedTemplate(c: Context<AppEnv>): string | null {
  // Middleware is registered for ALL methods; the first method-specific route is the handler Hono runs.
  const route = matchedRoutes(c).find((r) => r.method !== 'ALL');
  return route?.path ?? null;
}

/** What the request is, as the router read it. */
export interface RequestRoute {
  method: string;
  /** Hono's decoded routing path. */
  path: string;
  /** The matched route's template, or null (404/405). */
  template: string | null;
}

/** The router's reading of this request (set by `requestTarget`; computed here if it did not run). */
export function requestRoute(c: Context<AppEnv>): RequestRoute {
  const template = c.get('routeTemplate');
  return {
    method: c.req.method,
    path: c.get('path') ?? c.req.path,
    template: template === undefined ? matchedTemplate(c) : template === 'unmatched' ? null : template,
  };
}

/** The request URL, parsed once per request. */
export function requestUrl(c: Context<AppEnv>): URL {
  let url = c.get('url');
  if (!url) {
    url = new URL(c.req.url);
    c.set('url', url);
  }
  return url;
}

/** Early middleware (src/app.ts): sets `url`, `path` and `routeTemplate`; refuses ambiguous paths. */
export function requestTarget(): MiddlewareHandler<AppEnv> {
  return async function requestTargetMiddleware(c, next) {
    const path = c.req.path;
    c.set('path', path);
    c.set('url', new URL(c.req.url));
    c.set('routeTemplate', matchedTemplate(c) ?? 'unmatched');
    const why = ambiguousPath(path);
    if (why) throw new GatewayError('ambiguous_path', `The request path contains ${why}, which this gateway does not accept`);
    await next();
  };
}
