/**
 * Rate limits that need no principal, run before authentication (src/app.ts):
 *  - per client IP (`IP_RATE_LIMIT`) — the IP is `CF-Connecting-IP` only, so a client-set
 *    `X-Forwarded-For` never picks another bucket;
 *  - per route group and IP, like the seed's nginx zones (`ROUTE_RATE_LIMITS`);
 *  - login attempts on POST /auth/token and POST /token, per IP and per username (`LOGIN_RATE_LIMIT`),
 *    so a brute force spread over many IPs still stops at the username.
 * It also writes the RateLimit headers for every limit applied to the request (including the
 * per-principal ones added further in).
 *
 * Requests that present a credential (Authorization / X-API-Key, not a login) are limited by their
 * principal instead (principal-limits.ts: one Durable Object call on the hot path). The IP and
 * route-group buckets count them only when authentication fails (a 401), so guessing credentials
 * from one address still runs into IP_RATE_LIMIT; once an address is refused, this isolate answers
 * its credentialed requests 429 from its refusal cache without verifying anything
 * (docs/rate-limits.md "Who is counted where").
 */
import type { Context, MiddlewareHandler } from 'hono';
import type { AppEnv } from '../env';
import { rateLimitHeaders } from './headers';
import { admit, cachedRefusal, defaultLimiterSource, type LimiterSource } from './limiter-client';
import { appliedLimits, enforce, onLimiterFailure } from './enforce';
import { ipSubject, isLoginRoute, objectName, routeGroupOf } from './policy';
import type { AdmitResult, BucketCheck } from './rate-limiter-do';
import { requestRoute } from '../http/request-target';
import { requestBody } from '../http/request-body';
import { isForm, isJson } from '../http/media-type';
import { toHex } from '../lib/encoding';
import { replaceResponse } from '../http/replace-response';

export interface RateLimitOptions {
  /** The namespace to use (default `c.env.RATE_LIMITER`); tests inject a failing one. */
  limiter?: LimiterSource;
}

/** Middleware factory for the pre-authentication limits. */
export function clientRateLimits(options: RateLimitOptions = {}): MiddlewareHandler<AppEnv> {
  const source = options.limiter ?? defaultLimiterSource;
  return async function clientRateLimitsMiddleware(c, next) {
    if (c.req.method === 'OPTIONS') return next(); // CORS preflights carry no work
    const config = c.get('config');
    // The router's reading (decoded path, matched route), never the raw URL (#26: `/auth/%74oken`).
    const route = requestRoute(c);
    const group = routeGroupOf(route);
    // IPv6 clients are bucketed by /64; without CF-Connecting-IP (only local tools) all share "unknown".
    const ip = ipSubject(c.get('clientIp'));
    const ipChecks: BucketCheck[] = [
      { bucket: 'ip', spec: config.IP_RATE_LIMIT },
      { bucket: `route:${group}`, spec: config.ROUTE_RATE_LIMITS[group] },
    ];
    const login = isLoginRoute(route) ? await loginAttempt(c) : null;
    if (login) ipChecks.push({ bucket: 'login', spec: config.LOGIN_RATE_LIMIT });
    const names: Record<string, { policy: string; dimension: string }> = {
      ip: { policy: 'ip', dimension: 'ip' },
      [`route:${group}`]: { policy: group, dimension: `route:${group}` },
      login: { policy: 'login-ip', dimension: 'login_ip' },
    };
    const appliedOf = (decisions: AdmitResult['decisions']) =>
      decisions.map((d, i) => ({
        ...(names[d.bucket] as { policy: string; dimension: string }),
        spec: (ipChecks[i] as BucketCheck).spec,
        decision: d,
      }));

    if (!login && presentsCredential(c.req.raw.headers)) {
      const ipObject = objectName('ip', ip);
      const refused = cachedRefusal(ipObject, { checks: ipChecks });
      if (refused) enforce(c, appliedOf(refused.decisions));
      await next();
      if (c.res.status === 401) {
        // A failed authentication counts against the address (and may refuse its next attempts).
        try {
          await admit(source(c), ipObject, { checks: ipChecks });
        } catch (err) {
          console.error('rate limiter unavailable while counting a failed authentication', { error: String(err) });
        }
      }
      setHeaders(c);
      return;
    }
    const userObject = login?.username ? objectName('login', await digest(login.username)) : null;

    let ipResult, userResult;
    try {
      const ns = source(c);
      [ipResult, userResult] = await Promise.all([
        admit(ns, objectName('ip', ip), { checks: ipChecks }),
        userObject ? admit(ns, userObject, { checks: [{ bucket: 'login', spec: config.LOGIN_RATE_LIMIT }] }) : null,
      ]);
    } catch (err) {
      onLimiterFailure(c, login ? 'login' : 'ip', err);
      return next();
    }
    const applied = appliedOf(ipResult.decisions);
    if (userResult) {
      applied.push({
        policy: 'login-user',
        dimension: 'login_user',
        spec: config.LOGIN_RATE_LIMIT,
        decision: userResult.decisions[0] as (typeof applied)[number]['decision'],
      });
    }
    enforce(c, applied);

    await next();
    setHeaders(c);
  };
}

/** True when the request carries a credential header (its limits are its principal's). */
function presentsCredential(headers: Headers): boolean {
  return headers.has('Authorization') || headers.has('X-API-Key');
}

/** Writes the RateLimit headers of every limit applied to the request. */
function setHeaders(c: Context<AppEnv>): void {
  const headers = rateLimitHeaders(appliedLimits(c));
  if (Object.keys(headers).length === 0) return;
  // The gateway's limits are the ones the client must follow: they replace any an origin sent.
  try {
    for (const [k, v] of Object.entries(headers)) c.res.headers.set(k, v);
  } catch {
    replaceResponse(c, new Response(c.res.body, c.res)); // immutable headers (a proxied fetch response)
    for (const [k, v] of Object.entries(headers)) c.res.headers.set(k, v);
  }
}

/**
 * Reads the login body through the request's one body reading (src/http/request-body.ts): the same
 * anchored media type and the same strict JSON or form parse the handler uses, so the limiter and
 * the handler see the same username. The media-type gate has already refused anything but JSON and
 * forms here (415). A refresh-token grant is not a password guess and is not counted.
 * Returns null when the request is not a login attempt.
 */
async function loginAttempt(c: Context<AppEnv>): Promise<{ username: string | null } | null> {
  const body = requestBody(c);
  let fields: Record<string, unknown> = {};
  if (isJson(body.mediaType)) {
    const parsed = body.json();
    if (parsed.ok && parsed.value && typeof parsed.value === 'object' && !Array.isArray(parsed.value))
      fields = parsed.value as Record<string, unknown>;
  } else if (isForm(body.mediaType)) {
    try {
      const form = await body.form();
      for (const name of ['grant_type', 'username', 'email']) {
        const v = form.get(name);
        if (typeof v === 'string') fields[name] = v;
      }
    } catch {
      // An unparseable form is still an attempt (the router answers 400); counted per IP only.
    }
  }
  // Unparseable bodies are still attempts (the router answers 400/422); counted per IP only.
  if (fields.grant_type === 'refresh_token') return null;
  const raw = typeof fields.username === 'string' ? fields.username : typeof fields.email === 'string' ? fields.email : null;
  const username = raw ? raw.trim().toLowerCase().slice(0, 256) : null;
  return { username: username || null };
}

/** Usernames are user data (sometimes a mistyped password): objects are named by a digest, never the text. */
async function digest(username: string): Promise<string> {
  const bytes = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(username)));
  return toHex(bytes.slice(0, 16));
}
