/** The single error path: anything thrown becomes RFC 9457 problem JSON; 404/405 too. */
import type { Context, ErrorHandler, NotFoundHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../env';
import { GatewayError, problemResponse, type ErrorCode } from './errors';

const STATUS_CODES: Record<number, ErrorCode> = {
  400: 'bad_request',
  401: 'invalid_credentials',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  422: 'validation_failed',
  429: 'rate_limited',
  503: 'service_unavailable',
};

/** Maps any thrown value to a GatewayError (unknown errors become a 500 with no internals). */
export function toGatewayError(err: unknown): GatewayError {
  if (err instanceof GatewayError) return err;
  if (err instanceof HTTPException) {
    if (err.status === 400 && /malformed json/i.test(err.message))
      return new GatewayError('invalid_json', 'The request body is not valid JSON');
    const code = STATUS_CODES[err.status] ?? (err.status >= 500 ? 'internal_error' : 'bad_request');
    return new GatewayError(code, err.message || undefined);
  }
  return new GatewayError('internal_error', 'An internal error occurred; quote the request id when reporting it', { cause: err });
}

export function errorHandler(): ErrorHandler<AppEnv> {
  return function onError(err, c) {
    const gw = toGatewayError(err);
    if (gw.status >= 500 && gw.code === 'internal_error') {
      console.error('unhandled error', {
        request_id: c.get('requestId'),
        error: err instanceof Error ? `${err.name}: ${err.message}` : String(err),
      });
    }
    return problemResponse(gw, c.get('requestId') ?? 'unknown');
  };
}

/** 405 with `Allow` when the path exists under another method; else 404. */
export function notFoundHandler(app: OpenAPIHono<AppEnv>): NotFoundHandler<AppEnv> {
  return function notFound(c: Context<AppEnv>) {
    const path = c.get('path') ?? c.req.path; // the router's reading: the one it found no route for
    const allowed = new Set<string>();
    for (const def of app.openAPIRegistry.definitions) {
      if (def.type !== 'route') continue;
      const pattern = new RegExp('^' + def.route.path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+') + '/?$');
      if (pattern.test(path)) allowed.add(def.route.method.toUpperCase());
    }
    const id = c.get('requestId') ?? 'unknown';
    if (allowed.size > 0 && !allowed.has(c.req.method)) {
      return problemResponse(
        new GatewayError('method_not_allowed', `${c.req.method} is not allowed on ${path}`, {
          headers: { Allow: [...allowed].sort().join(', ') },
        }),
        id,
      );
    }
    return problemResponse(new GatewayError('not_found', `No route for ${c.req.method} ${path}`), id);
  };
}
