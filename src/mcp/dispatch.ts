/**
 * A tool call becomes its route's HTTP request, sent in-process through the whole app (the same
 * middleware chain as any client: body cap, principal rate limit and concurrency lease, permission,
 * crawl-option policy, egress, metering, audit). The inner request carries the caller's credential
 * headers and acts as the principal the outer `/mcp` request verified (src/auth/dispatch.ts), so a
 * revoked grant or key stops at the outer request and the inner one is never a second login.
 */
import type { Context } from 'hono';
import type { AppEnv, Env } from '../env';
import { principalOf } from '../auth/principal';
import { dispatchContext } from '../auth/dispatch';
import { requestUrl } from '../http/request-target';
import type { RouteCall } from './tools';

/** What the MCP server sends tool calls to: the app itself (its `fetch`). */
export interface AppDispatcher {
  fetch(request: Request, env: Env, ctx: ExecutionContext): Response | Promise<Response>;
}

const FORWARDED = ['Authorization', 'X-API-Key'] as const;

function outerContext(c: Context<AppEnv>): ExecutionContext | undefined {
  try {
    return c.executionCtx as ExecutionContext; // Hono's type is the same object, minus `tracing`
  } catch {
    return undefined;
  }
}

/** The inner request's id: the outer one plus the call's place, so audit rows of one MCP post correlate. */
export function innerRequestId(outer: string, seq: number): string {
  const suffix = `.t${seq}`;
  return outer.slice(0, 128 - suffix.length) + suffix;
}

/** Sends `call` through the app as the caller; returns the route's response. */
export async function dispatchRoute(c: Context<AppEnv>, app: AppDispatcher, call: RouteCall, seq: number): Promise<Response> {
  const principal = principalOf(c);
  const headers = new Headers({ Accept: 'application/json' });
  for (const name of FORWARDED) {
    const v = c.req.header(name);
    if (v !== undefined) headers.set(name, v);
  }
  const ip = c.get('clientIp');
  if (ip) headers.set('CF-Connecting-IP', ip);
  headers.set('X-Request-Id', innerRequestId(c.get('requestId'), seq));
  let body: string | undefined;
  if (call.body !== undefined) {
    headers.set('Content-Type', 'application/json');
    body = JSON.stringify(call.body);
  }
  const url = new URL(call.path, requestUrl(c).origin);
  return app.fetch(new Request(url, { method: call.method, headers, body }), c.env, dispatchContext(outerContext(c), principal));
}
