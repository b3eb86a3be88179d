/**
 * Host handling: `TRUSTED_HOSTS` check (like nginx `server_name` with a default_server that
 * refuses the rest), and a 301 to HTTPS for plain-HTTP requests to a non-local host.
 */
import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../env';
import { GatewayError } from './errors';
import { requestUrl } from './request-target';

/** Pure: `api.example.com` matches `api.example.com`; `*.example.com` matches one or more labels under it. */
export function hostAllowed(host: string, trusted: readonly string[]): boolean {
  if (trusted.length === 0) return true;
  const h = host.toLowerCase().replace(/\.$/, '');
  return trusted.some((t) => {
    const p = t.toLowerCase();
    if (p.startsWith('*.')) return h.endsWith(p.slice(1)) && h.length > p.length - 1;
    return h === p;
  });
}

/** Pure: loopback names and addresses are served over plain HTTP (local development). */
export function isLocalHost(hostname: string): boolean {
  const h = hostname.toLowerCase().replace(/^\[|\]$/g, '');
  return h === 'localhost' || h.endsWith('.localhost') || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h);
}

export function hostRules(): MiddlewareHandler<AppEnv> {
  return async function hostRulesMiddleware(c, next) {
    const url = requestUrl(c);
    if (!hostAllowed(url.hostname, c.get('config').TRUSTED_HOSTS)) {
      throw new GatewayError('invalid_host', `Host "${url.hostname}" is not served by this gateway`);
    }
    if (url.protocol === 'http:' && !isLocalHost(url.hostname)) {
      const secure = new URL(url); // a copy: the request's own URL stays as it came
      secure.protocol = 'https:';
      return c.redirect(secure.toString(), 301);
    }
    await next();
  };
}
