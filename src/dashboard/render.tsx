/** Shared page helpers: render with the CSP and no-store, redirects with fixed flash codes, the 403 page. */
import type { Context } from 'hono';
import type { Child } from 'hono/jsx';
import type { AppEnv } from '../env';
import { DASHBOARD_CSP, Page, type Me } from './layout';
import { csrfToken } from './seal';
import type { DashSession } from './session';

/** Fixed flash messages (the query carries a code, never free text, so nothing is reflected). */
export const FLASH: Record<string, string> = {
  signin: 'Please sign in.',
  expired: 'Your session has ended. Please sign in again.',
  out: 'You have signed out.',
  revoked: 'The key was revoked.',
  rotated: 'The key was rotated.',
  user_created: 'The user was created.',
  user_changed: 'The user was updated.',
  user_deleted: 'The user was deleted.',
  submitted: 'The job was submitted.',
  pause: 'The job was paused.',
  resume: 'The job was resumed.',
  cancel: 'The job was cancelled.',
};

/** Sends a page with the dashboard CSP and `Cache-Control: no-store`. */
export function send(c: Context<AppEnv>, node: Child, status: 200 | 400 | 403 | 404 | 422 | 502 = 200): Response {
  c.header('Content-Security-Policy', DASHBOARD_CSP);
  c.header('Cache-Control', 'no-store');
  return c.html(`<!doctype html>${String(node)}`, status);
}

/** Loads who is signed in (GET /auth/me) and the CSRF token for the page's forms. */
export async function whoAmI(c: Context<AppEnv>, s: DashSession): Promise<{ me: Me; csrf: string }> {
  const r = await s.api<Me>('GET', '/auth/me');
  if (!r.ok) throw new Error(`auth/me ${r.status}`);
  return { me: r.body, csrf: await csrfToken(c.get('config').JWT_SECRET_KEY, s.data.nonce) };
}

/** The 403 page (nav still shows what the user may do). */
export function forbidden(c: Context<AppEnv>, me: Me | null, csrf: string, detail: string): Response {
  return send(
    c,
    <Page title="Not allowed" me={me} csrf={csrf} error={detail}>
      <p>
        <a href="/dashboard">Back to the overview</a>
      </p>
    </Page>,
    403,
  );
}

/** Flash text for `?ok=` / `?m=` codes. */
export function flashOf(c: Context<AppEnv>, param = 'ok'): string | null {
  const code = c.req.query(param);
  return code ? (FLASH[code] ?? null) : null;
}
