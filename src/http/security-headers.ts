/**
 * Security headers on every response — 2xx, errors and proxied origin responses alike
 * (SECURITY.md "Headers"). Values are fixed here; routes with HTML set their own CSP.
 */
import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../env';
import { replaceResponse } from './replace-response';

export const API_CSP = "default-src 'none'; frame-ancestors 'none'";

const BASE_HEADERS: Record<string, string> = {
  'Strict-Transport-Security': 'max-age=63072000; includeSubDomains',
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Permissions-Policy': 'camera=(), microphone=(), geolocation=(), payment=()',
  'X-XSS-Protection': '0',
};

/** The same pairs as an array, built once (no Object.entries per response). */
const BASE_PAIRS = Object.entries(BASE_HEADERS);

/** Headers an origin must never leak through the gateway. */
const STRIPPED = ['Server', 'X-Powered-By'];

/** Applies the headers to a response, copying it first when its headers are immutable (fetch results). */
export function withSecurityHeaders(res: Response, requestId: string): Response {
  let out = res;
  try {
    out.headers.set('X-Request-Id', requestId);
  } catch {
    out = new Response(res.body, res);
    out.headers.set('X-Request-Id', requestId);
  }
  const h = out.headers;
  for (const [k, v] of BASE_PAIRS) h.set(k, v);
  for (const k of STRIPPED) h.delete(k);
  if (!h.has('Content-Security-Policy')) h.set('Content-Security-Policy', API_CSP);
  if (!h.has('Cache-Control')) h.set('Cache-Control', 'no-store');
  return out;
}

export function securityHeaders(): MiddlewareHandler<AppEnv> {
  return async function securityHeadersMiddleware(c, next) {
    await next();
    const res = withSecurityHeaders(c.res, c.get('requestId'));
    // Headers set in place (the usual case) need no new response; a copy replaces it without Hono's second copy.
    if (res !== c.res) replaceResponse(c, res);
  };
}
