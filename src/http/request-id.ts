/** `X-Request-Id`: echo a well-formed incoming id, else generate one; set on every response. */
import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../env';

const VALID_ID = /^[A-Za-z0-9._:-]{8,128}$/;

/** Pure: the id to use for a request given the incoming header. */
export function chooseRequestId(incoming: string | null): string {
  return incoming && VALID_ID.test(incoming) ? incoming : crypto.randomUUID();
}

export function requestId(): MiddlewareHandler<AppEnv> {
  return async function requestIdMiddleware(c, next) {
    c.set('requestId', chooseRequestId(c.req.header('X-Request-Id') ?? null));
    c.set('clientIp', c.req.header('CF-Connecting-IP') ?? null);
    await next();
  };
}
