/**
 * Request guards for dashboard forms: cross-site checks (Fetch Metadata `Sec-Fetch-Site` and the
 * `Origin` header, RFC 6454 §7) and the per-session CSRF token (OWASP "Synchronizer token"),
 * compared in constant time. Any failure is a 403 page and a `permission_denied` audit row.
 */
import type { Context } from 'hono';
import type { AppEnv } from '../env';
import { audit } from '../audit/audit';
import { checkCsrf } from './seal';
import { DashSession } from './session';

/**
 * Pure: is this POST same-origin? Needs Origin or Sec-Fetch-Site; any cross-site signal refuses.
 * Under the gateway's `Referrer-Policy: no-referrer`, browsers send `Origin: null` even for
 * same-origin form posts (Fetch §3.1 "serializing a request origin"), so an opaque `null` origin
 * counts as absent and Sec-Fetch-Site (W3C Fetch Metadata) must then say `same-origin`.
 */
export function sameOrigin(requestUrl: string, origin: string | undefined, fetchSite: string | undefined): boolean {
  if (fetchSite !== undefined && fetchSite !== 'same-origin') return false;
  if (origin !== undefined && origin !== 'null') return origin === new URL(requestUrl).origin;
  return fetchSite === 'same-origin';
}

export type FormFields = Record<string, string>;

/** Outcome of a guarded POST: the session and its form, or the reason it was refused. */
export type Guarded = { ok: true; session: DashSession; form: FormFields } | { ok: false; reason: string };

/** Reads a url-encoded/multipart form into plain strings (files ignored). */
export async function readForm(c: Context<AppEnv>): Promise<FormFields> {
  const out: FormFields = {};
  try {
    const body = await c.req.parseBody();
    for (const [k, v] of Object.entries(body)) if (typeof v === 'string') out[k] = v;
  } catch {
    // an unreadable body is an empty form; the CSRF check then refuses it
  }
  return out;
}

/** Same-origin check only (the login form has no session yet). */
export function checkOrigin(c: Context<AppEnv>): boolean {
  const ok = sameOrigin(c.req.url, c.req.header('Origin'), c.req.header('Sec-Fetch-Site'));
  if (!ok) audit(c, { action: 'permission_denied', outcome: 'denied', reason: 'dashboard_cross_site', status: 403 });
  return ok;
}

/** Origin + session + CSRF token. Throws SessionGone when there is no session. */
export async function guardPost(c: Context<AppEnv>): Promise<Guarded> {
  if (!checkOrigin(c)) return { ok: false, reason: 'This form was submitted from another site.' };
  const session = await DashSession.open(c);
  const form = await readForm(c);
  if (!(await checkCsrf(c.get('config').JWT_SECRET_KEY, session.data.nonce, form.csrf))) {
    audit(c, { action: 'permission_denied', outcome: 'denied', reason: 'dashboard_csrf', status: 403 });
    return { ok: false, reason: 'The form token is missing or wrong. Reload the page and try again.' };
  }
  return { ok: true, session, form };
}
