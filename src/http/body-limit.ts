/**
 * Request body cap (413), enforced on the stream itself: a missing or lying `Content-Length`
 * (chunked uploads) cannot get more than `MAX_BODY_BYTES` past the gateway. Bodies within the cap
 * are buffered, so handlers and validators read them normally.
 */
import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../env';
import { GatewayError } from './errors';

/** Reads at most `limit` bytes; throws 413 as soon as the stream goes past it. */
export async function readBodyWithin(body: ReadableStream<Uint8Array>, limit: number): Promise<Uint8Array> {
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel().catch(() => {});
      throw tooLarge(limit);
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const ch of chunks) {
    out.set(ch, offset);
    offset += ch.byteLength;
  }
  return out;
}

function tooLarge(limit: number): GatewayError {
  return new GatewayError('payload_too_large', `The request body exceeds ${limit} bytes`, { extras: { limit_bytes: limit } });
}

export function bodyLimit(): MiddlewareHandler<AppEnv> {
  return async function bodyLimitMiddleware(c, next) {
    const raw = c.req.raw;
    if (raw.body && !c.req.header('Upgrade')) {
      const limit = c.get('config').MAX_BODY_BYTES;
      const declared = c.req.header('Content-Length');
      if (declared !== undefined && Number(declared) > limit) throw tooLarge(limit);
      const bytes = await readBodyWithin(raw.body, limit);
      c.req.raw = new Request(raw, { body: bytes });
    }
    await next();
  };
}
