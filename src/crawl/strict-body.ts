/**
 * Parse once (issue #16): crawl routes read their body with the strict JSON reader before anything
 * else looks at it, and the handlers take the value from here. A text the reader refuses never
 * reaches a handler, let alone the origin: 400 `invalid_json` (syntax, duplicate keys, numbers
 * another parser would read differently) or 422 `validation_failed` (nesting or size over the
 * bound), audited.
 */
import type { Context, MiddlewareHandler } from 'hono';
import type { AppEnv } from '../env';
import { GatewayError } from '../http/errors';
import { audit } from '../audit/audit';
import { jsonBodyError, requestBody } from '../http/request-body';

const parsed = new WeakMap<Request, unknown>();

/** Route middleware: strict parse of the JSON body; refusals are audited with their reason. */
export function strictJsonBody(route: string): MiddlewareHandler<AppEnv> {
  return async function strictJsonBodyMiddleware(c, next) {
    // The body as the gate read it once (src/http/request-body.ts); parsed at most once per request.
    const r = requestBody(c).json();
    if (!r.ok) {
      const err = jsonBodyError(r);
      audit(c, { action: 'crawl_requested', outcome: 'denied', reason: r.reason, status: err.status, details: { route } });
      throw err;
    }
    parsed.set(c.req.raw, r.value);
    await next();
  };
}

/** The strictly parsed body of this request (set by `strictJsonBody`). */
export function strictBody(c: Context<AppEnv>): Record<string, unknown> {
  const v = parsed.get(c.req.raw);
  if (!v || typeof v !== 'object' || Array.isArray(v))
    throw new GatewayError('validation_failed', 'Invalid request: $: the body must be a JSON object', {
      extras: { errors: [{ path: '$', message: 'must be an object' }] },
    });
  return v as Record<string, unknown>;
}
