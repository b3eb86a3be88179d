/**
 * The dashboard (GET /dashboard…): server-rendered pages that act through the gateway's own JSON
 * API in-process (src/dashboard/session.ts), so there is one authorization path. Session in a
 * sealed `__Host-` cookie; every POST form is CSRF-checked (src/dashboard/guard.ts) and answered
 * with a redirect (PRG), except pages that show a secret once.
 */
import { createRouter } from '../http/openapi';
import { documentDashboard } from './openapi-doc';
import { Csrf, Page, SignInFields } from './layout';
import { APP_CSS, APP_JS } from './static';
import { checkOrigin, guardPost, readForm } from './guard';
import {
  bindGatewayApi,
  CLEAR_COOKIE,
  DashSession,
  SessionGone,
  gatewayFetch,
  newSessionCookie,
  refreshedCookie,
  toResult,
  type GatewayApi,
} from './session';
import { newNonce, SESSION_COOKIE } from './seal';
import { FLASH, flashOf, forbidden, send, whoAmI } from './render';
import { keyPages } from './pages-keys';
import { overviewPage } from './pages-overview';
import { userPages } from './pages-users';
import { auditPages } from './pages-audit';
import { crawlPages } from './pages-crawl';
import { jobPages } from './pages-jobs';
import { usagePages } from './pages-usage';
import { grantPages } from './pages-grants';

const r = createRouter();

/**
 * The dashboard's routes, calling the gateway through `api` (the mounting app's `fetch`), so the
 * dashboard depends on no app module: src/app.ts passes its own.
 */
export function createDashboardRouter(api: GatewayApi): ReturnType<typeof createRouter> {
  const router = createRouter();
  router.use('/dashboard/*', bindGatewayApi(api));
  router.route('/', r);
  return router;
}

r.onError((err, c) => {
  if (err instanceof SessionGone) {
    c.header('Set-Cookie', CLEAR_COOKIE, { append: true });
    const hadCookie = (c.req.header('Cookie') ?? '').includes('__Host-cg_session=');
    return c.redirect(`/dashboard/login?m=${hadCookie ? 'expired' : 'signin'}`, 303);
  }
  throw err;
});

/**
 * A refresh made while answering must reach the browser whatever the page returns: routes that hand
 * back their own `Response` (job and audit exports) never see `c.header`. Responses that already set
 * the session cookie (login, logout, a session that ended) keep theirs.
 */
r.use('/dashboard/*', async function keepRefreshedSession(c, next) {
  await next();
  const cookie = refreshedCookie(c);
  if (!cookie) return;
  const setCookies = (c.res.headers as unknown as { getSetCookie(): string[] }).getSetCookie();
  if (!setCookies.some((h) => h.startsWith(`${SESSION_COOKIE}=`))) c.header('Set-Cookie', cookie, { append: true });
});

r.get('/dashboard/static/app.css', (c) =>
  c.body(APP_CSS, 200, { 'Content-Type': 'text/css; charset=utf-8', 'Cache-Control': 'public, max-age=3600' }),
);
r.get('/dashboard/static/app.js', (c) =>
  c.body(APP_JS, 200, { 'Content-Type': 'text/javascript; charset=utf-8', 'Cache-Control': 'public, max-age=3600' }),
);

function LoginPage(props: { flash: string | null; error: string | null }) {
  return (
    <Page title="Sign in" me={null} flash={props.flash} error={props.error}>
      <form method="post" action="/dashboard/login">
        <SignInFields />
      </form>
    </Page>
  );
}

r.get('/dashboard/login', (c) => send(c, <LoginPage flash={flashOf(c, 'm')} error={null} />));

r.post('/dashboard/login', async (c) => {
  if (!checkOrigin(c)) return send(c, <LoginPage flash={null} error="This form was submitted from another site." />, 403);
  const form = await readForm(c);
  const res = await gatewayFetch(c, 'POST', '/auth/token', {
    json: { username: form.username ?? '', password: form.password ?? '', grant_type: 'password' },
  });
  const out = await toResult<{ access_token: string; refresh_token: string }>(res);
  if (!out.ok) {
    const msg = out.status === 429 ? 'Too many attempts. Wait a moment and try again.' : 'Wrong username or password.';
    return send(c, <LoginPage flash={null} error={msg} />, out.status === 429 ? 403 : 400);
  }
  c.header('Set-Cookie', await newSessionCookie(c, { access: out.body.access_token, refresh: out.body.refresh_token, nonce: newNonce() }));
  return c.redirect('/dashboard', 303);
});

r.post('/dashboard/logout', async (c) => {
  const g = await guardPost(c);
  if (!g.ok) return forbidden(c, null, '', g.reason);
  // Ends the refresh family server-side (POST /auth/logout), then clears the cookie.
  await g.session.api('POST', '/auth/logout');
  c.header('Set-Cookie', CLEAR_COOKIE);
  return c.redirect('/dashboard/login?m=out', 303);
});

overviewPage(r);
keyPages(r);
userPages(r);
auditPages(r);
crawlPages(r);
jobPages(r);
usagePages(r);
grantPages(r); // /dashboard/grants: OAuth grants to MCP clients (docs/mcp.md)
documentDashboard(r);

/** Unknown dashboard paths: a 404 page (signed in or not). */
r.all('/dashboard/*', async (c) => {
  const s = await DashSession.open(c);
  const { me, csrf } = await whoAmI(c, s);
  return send(
    c,
    <Page title="Not found" me={me} csrf={csrf} error="There is no such page.">
      <Csrf token={csrf} />
    </Page>,
    404,
  );
});

export { FLASH };
