/**
 * One dashboard request's view of the gateway: the sealed session, and `api()`, which calls the
 * gateway's own JSON API in-process with the session's bearer token (through the app's `fetch`, handed
 * in where the app mounts the dashboard: the dashboard never imports the app) — so the dashboard has no
 * authorization logic of its own (the API decides, the page renders its JSON or its problem detail).
 * An access token the API refuses (401) is refreshed once through POST /auth/refresh (RFC 6749 §6).
 */
import type { Context, MiddlewareHandler } from 'hono';
import type { AppEnv, Env } from '../env';
import { openSession, sealSession, SESSION_COOKIE, type SessionData } from './seal';
import { requestUrl } from '../http/request-target';

/** The session is gone (missing, tampered, refresh refused): the router redirects to the login page. */
export class SessionGone extends Error {
  constructor(readonly reason: string) {
    super(reason);
  }
}

/** An API answer: status and parsed JSON (problem bodies included). */
export interface ApiResult<T = Record<string, unknown>> {
  status: number;
  ok: boolean;
  body: T;
  /** The problem `detail` (or title) when the API refused. */
  error: string | null;
  headers: Headers;
}

/** Reads one cookie from the Cookie header (RFC 6265 §5.4). */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim();
  }
  return undefined;
}

/** Set-Cookie for the session: `__Host-` prefix, HttpOnly, Secure, SameSite=Strict, Path=/ (RFC 6265bis §4.1.3.2). */
export function sessionCookie(value: string, maxAgeSeconds: number): string {
  return `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age=${maxAgeSeconds}`;
}

export const CLEAR_COOKIE = `${SESSION_COOKIE}=; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age=0`;

/** Session cookies re-sealed after a refresh, by the request being answered (see `refreshedCookie`). */
const refreshed = new WeakMap<Request, string>();

/**
 * The re-sealed session cookie when answering `c` refreshed the tokens, so the router can add it to
 * responses a page built itself (exports stream the API's `Response`), which `c.header` never reaches.
 */
export function refreshedCookie(c: Context<AppEnv>): string | undefined {
  return refreshed.get(c.req.raw);
}

/** Cookie lifetime: the refresh token's (the access token is renewed inside it). */
const COOKIE_MAX_AGE = 7 * 24 * 3600;

/** The gateway's whole request path as a function: the `fetch` of the app that mounts the dashboard. */
export type GatewayApi = (request: Request, env: Env, ctx: Context<AppEnv>['executionCtx']) => Response | Promise<Response>;

/** The API each dashboard request calls, set by `bindGatewayApi` (same pattern as `refreshed`). */
const apis = new WeakMap<Request, GatewayApi>();

/** Middleware: dashboard requests call `api` (src/dashboard/router.tsx `createDashboardRouter`). */
export function bindGatewayApi(api: GatewayApi): MiddlewareHandler<AppEnv> {
  return async function bindGatewayApiMiddleware(c, next) {
    apis.set(c.req.raw, api);
    await next();
  };
}

/** Calls the gateway in-process (the same middleware chain and authorization as any client). */
export async function gatewayFetch(
  c: Context<AppEnv>,
  method: string,
  path: string,
  opts: { token?: string; json?: unknown } = {},
): Promise<Response> {
  const api = apis.get(c.req.raw);
  if (!api) throw new Error('dashboard: no gateway API bound to this request (mount it with createDashboardRouter)');
  const headers = new Headers({ Accept: 'application/json' });
  if (opts.token) headers.set('Authorization', `Bearer ${opts.token}`);
  const ip = c.get('clientIp');
  if (ip) headers.set('CF-Connecting-IP', ip);
  let body: string | undefined;
  if (opts.json !== undefined) {
    headers.set('Content-Type', 'application/json');
    body = JSON.stringify(opts.json);
  }
  const origin = requestUrl(c).origin;
  return api(new Request(origin + path, { method, headers, body }), c.env, c.executionCtx);
}

async function toResult<T>(res: Response): Promise<ApiResult<T>> {
  const text = await res.text();
  let body: unknown = {};
  try {
    body = text ? JSON.parse(text) : {};
  } catch {
    body = { raw: text };
  }
  const b = body as { detail?: unknown; title?: unknown };
  const error = res.ok ? null : String(b.detail ?? b.title ?? `HTTP ${res.status}`);
  return { status: res.status, ok: res.ok, body: body as T, error, headers: res.headers };
}

/** The per-request session handle. */
export class DashSession {
  #refreshed = false;
  private constructor(
    private readonly c: Context<AppEnv>,
    public data: SessionData,
  ) {}

  /** Opens the session cookie; throws SessionGone when there is none or it does not open. */
  static async open(c: Context<AppEnv>): Promise<DashSession> {
    const data = await openSession(c.get('config').JWT_SECRET_KEY, readCookie(c.req.header('Cookie'), SESSION_COOKIE));
    if (!data) throw new SessionGone('Please sign in.');
    return new DashSession(c, data);
  }

  /** Calls the API as the session's user, refreshing the access token once when it is refused. */
  async api<T = Record<string, unknown>>(method: string, path: string, json?: unknown): Promise<ApiResult<T>> {
    let res = await gatewayFetch(this.c, method, path, { token: this.data.access, json });
    if (res.status === 401 && !this.#refreshed) {
      await this.#refresh();
      res = await gatewayFetch(this.c, method, path, { token: this.data.access, json });
    }
    if (res.status === 401) throw new SessionGone('Your session has ended. Please sign in again.');
    return toResult<T>(res);
  }

  /** Raw response (for exports that stream through). */
  async raw(method: string, path: string): Promise<Response> {
    let res = await gatewayFetch(this.c, method, path, { token: this.data.access });
    if (res.status === 401 && !this.#refreshed) {
      await this.#refresh();
      res = await gatewayFetch(this.c, method, path, { token: this.data.access });
    }
    if (res.status === 401) throw new SessionGone('Your session has ended. Please sign in again.');
    return res;
  }

  async #refresh(): Promise<void> {
    this.#refreshed = true;
    const res = await gatewayFetch(this.c, 'POST', '/auth/refresh', { json: { refresh_token: this.data.refresh } });
    if (!res.ok) throw new SessionGone('Your session has ended. Please sign in again.');
    const pair = await res.json<{ access_token: string; refresh_token: string }>();
    this.data = { ...this.data, access: pair.access_token, refresh: pair.refresh_token };
    // The rotated pair must reach the browser, or the next request would present a spent refresh token
    // (a false reuse alarm that signs the user out). The router adds it to every kind of response.
    const cookie = await newSessionCookie(this.c, this.data);
    refreshed.set(this.c.req.raw, cookie);
    this.c.header('Set-Cookie', cookie, { append: true });
  }
}

/** Seals `data` into a Set-Cookie value. */
export async function newSessionCookie(c: Context<AppEnv>, data: SessionData): Promise<string> {
  return sessionCookie(await sealSession(c.get('config').JWT_SECRET_KEY, data), COOKIE_MAX_AGE);
}

export { toResult };
