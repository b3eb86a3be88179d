/**
 * A small app for the per-principal limits while API keys and JWTs land elsewhere: the real
 * middleware chain of src/app.ts around the rate-limit middlewares, with the principal set from a
 * table the test controls (as authenticate would), and crawl-shaped handlers whose streams the
 * test controls.
 */
import type { Hono } from 'hono';
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import type { AppEnv, Env } from '../../src/env';
import type { Principal } from '../../src/auth/principal';
import { createRouter } from '../../src/http/openapi';
import { requestId } from '../../src/http/request-id';
import { securityHeaders } from '../../src/http/security-headers';
import { configGuard } from '../../src/http/config-guard';
import { errorHandler } from '../../src/http/error-handler';
import { clientRateLimits } from '../../src/ratelimit/client-limits';
import { principalRateLimits } from '../../src/ratelimit/principal-limits';
import { BASE } from '../helpers/test-vars';

export const principals = new Map<string, Principal>();
/** Writers of the streams /crawl/stream answers with, by the request's X-Test-Stream header. */
export const streams = new Map<string, WritableStreamDefaultWriter<Uint8Array>>();

export function createPrincipalApp(): Hono<AppEnv> {
  const app = createRouter();
  app.use('*', requestId());
  app.use('*', securityHeaders());
  app.use('*', configGuard());
  app.use('*', clientRateLimits());
  app.use('*', async function testAuthenticate(c, next) {
    const p = principals.get(c.req.header('X-Test-Principal') ?? '');
    if (p) c.set('principal', p);
    await next();
  });
  app.use('*', principalRateLimits());
  app.get('/auth/me', (c) => c.json({ id: c.get('principal')?.id ?? null }));
  app.post('/crawl', (c) => c.json({ success: true, results: [] }));
  app.post('/md', () => {
    throw new Error('engine exploded');
  });
  app.post('/crawl/stream', (c) => {
    const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
    streams.set(c.req.header('X-Test-Stream') ?? '', writable.getWriter());
    return new Response(readable, { headers: { 'Content-Type': 'application/x-ndjson' } });
  });
  app.get('/crawl/job/:id', (c) => c.json({ task_id: c.req.param('id') }));
  app.onError(errorHandler());
  return app as unknown as Hono<AppEnv>;
}

export const principalApp = createPrincipalApp();

export interface Sent {
  res: Response;
  /** Resolves once the request's background work (waitUntil) has finished. */
  settled: Promise<unknown>;
}

export async function send(e: Env, path: string, principal: string, init: RequestInit & { stream?: string } = {}): Promise<Sent> {
  const ctx = createExecutionContext();
  const headers = new Headers(init.headers);
  headers.set('X-Test-Principal', principal);
  headers.set('CF-Connecting-IP', '192.0.2.10');
  if (init.stream) headers.set('X-Test-Stream', init.stream);
  const res = await principalApp.fetch(new Request(BASE + path, { ...init, headers }), e, ctx);
  return { res, settled: waitOnExecutionContext(ctx) };
}
