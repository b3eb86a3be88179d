/**
 * Loads the parsed config into `c.var.config`. A bad config answers 500 `misconfigured` on every
 * route but `/health`; the variable names are in the Worker log, never in the response.
 */
import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../env';
import { loadConfig } from '../config';
import { GatewayError } from './errors';
import { VERSION } from '../version';

export function configGuard(): MiddlewareHandler<AppEnv> {
  return async function configGuardMiddleware(c, next) {
    const result = loadConfig(c.env);
    if (!result.ok) {
      if ((c.get('path') ?? c.req.path) === '/health') {
        // Health stays answerable (and honest) so monitoring sees the misconfiguration.
        return c.json({ status: 'misconfigured', timestamp: new Date().toISOString(), version: VERSION }, 503);
      }
      throw new GatewayError('misconfigured', 'The gateway is misconfigured; its operator must fix the settings named in the Worker log');
    }
    c.set('config', result.config);
    await next();
  };
}
