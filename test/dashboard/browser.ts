/** A tiny cookie-keeping "browser" for dashboard tests: same-origin form posts with the CSRF token. */
import { env } from 'cloudflare:workers';
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { app } from '../../src/app';
import { call as workerCall, type CallOptions } from '../helpers/http';
import { BASE } from '../helpers/test-vars';
import { createUser } from '../helpers/auth';

export const SAME_ORIGIN = { Origin: BASE, 'Sec-Fetch-Site': 'same-origin' };

/** The `__Host-cg_session` Set-Cookie line of a response, if any. */
export function sessionSetCookie(res: Response): string | undefined {
  // workers-types lacks getSetCookie (workerd implements it).
  return (res.headers as unknown as { getSetCookie(): string[] }).getSetCookie().find((h) => h.startsWith('__Host-cg_session='));
}

/** Extracts the first CSRF token on a page. */
export function csrfOf(html: string): string {
  const m = /name="csrf" value="([^"]+)"/.exec(html);
  if (!m?.[1]) throw new Error('no csrf token on the page');
  return m[1];
}

export class Browser {
  cookie = '';
  /** An env with other vars (one object, so config is parsed once), or null for the worker's own. */
  readonly #env: Record<string, unknown> | null;

  constructor(vars: Record<string, string> | null = null) {
    this.#env = vars ? { ...env, ...vars } : null;
  }

  async #call(path: string, init: CallOptions): Promise<Response> {
    if (!this.#env) return workerCall(path, init);
    const ctx = createExecutionContext();
    const res = await app.fetch(new Request(BASE + path, { ...init, redirect: 'manual' }), this.#env, ctx);
    await waitOnExecutionContext(ctx);
    return res;
  }

  /** Signs in through the login form; returns the login response. */
  async login(username: string, password: string): Promise<Response> {
    const res = await this.post('/dashboard/login', { username, password });
    return res;
  }

  #absorb(res: Response): void {
    const sc = sessionSetCookie(res);
    if (!sc) return;
    const value = sc.split(';')[0] ?? '';
    this.cookie = /Max-Age=0/.test(sc) ? '' : value;
  }

  async get(path: string, headers: Record<string, string> = {}): Promise<Response> {
    const res = await this.#call(path, { headers: { ...(this.cookie ? { Cookie: this.cookie } : {}), ...headers } });
    this.#absorb(res);
    return res;
  }

  async post(path: string, fields: Record<string, string>, headers: Record<string, string> = SAME_ORIGIN): Promise<Response> {
    const res = await this.#call(path, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...(this.cookie ? { Cookie: this.cookie } : {}), ...headers },
      body: new URLSearchParams(fields).toString(),
    });
    this.#absorb(res);
    return res;
  }

  /** GETs a page and returns its CSRF token. */
  async csrf(path = '/dashboard'): Promise<string> {
    const res = await this.get(path);
    return csrfOf(await res.text());
  }
}

/** A Browser signed in to the dashboard as a new user with these roles. */
export async function signedIn(roles: Array<'admin' | 'operator' | 'user' | 'viewer'>): Promise<Browser> {
  const user = await createUser({ roles });
  const b = new Browser();
  const res = await b.login(user.username, user.password);
  if (res.status !== 303) throw new Error(`login ${res.status}`);
  return b;
}
