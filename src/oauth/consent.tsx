/**
 * The OAuth consent page (GET/POST /oauth/authorize), server-rendered like the dashboard and signed
 * in with the dashboard's own session (src/dashboard/session.ts): the provider validates the request
 * (client, exact redirect URI, PKCE S256, resource), the signed-in user picks which of *their own*
 * crawl/job permissions the client gets (docs/mcp.md "Scopes"), and the grant is recorded in D1
 * before the authorization completes. Forms are CSRF-checked (src/dashboard/guard.ts) on top of the
 * provider's browser-bound one-time handle; everything the client supplied is escaped by hono/jsx.
 *
 * The dashboard cookie is SameSite=Strict, so a cross-site navigation (the MCP client opening the
 * browser) arrives without it: the page then reloads itself once from this origin, which sends it.
 * The sign-in and consent views are in consent-views.tsx.
 */
import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { AuthorizationError, CimdFetchError, type AuthRequest, type OAuthHelpers } from '@cloudflare/workers-oauth-provider';
import type { AppEnv } from '../env';
import { createRouter } from '../http/openapi';
import { requestBody } from '../http/request-body';
import { requestUrl } from '../http/request-target';
import { audit } from '../audit/audit';
import { Page, type Me } from '../dashboard/layout';
import { send } from '../dashboard/render';
import { checkOrigin, guardPost, readForm } from '../dashboard/guard';
import { DashSession, SessionGone, bindGatewayApi, gatewayFetch, newSessionCookie, toResult, type GatewayApi } from '../dashboard/session';
import { csrfToken, newNonce } from '../dashboard/seal';
import { AUTHORIZE_PATH, GRANTABLE_SCOPES, oauthApi, REQUIRED_SCOPES } from './server';
import { Consent, SignIn } from './consent-views';
import { deleteGrant, insertGrant, newGrantId } from './grants';

const api = (c: Context<AppEnv>): OAuthHelpers => oauthApi(requestUrl(c).origin, c.get('config'), c.env);

function problemPage(c: Context<AppEnv>, me: Me | null, message: string, status: 400 | 403 = 400): Response {
  return send(
    c,
    <Page title="Authorization failed" me={me} error={message}>
      <p>Start the connection again from your MCP client.</p>
    </Page>,
    status,
  );
}

/** Maps the provider's request errors: redirect only when it validated the redirect URI, else render. */
function authorizationFailure(c: Context<AppEnv>, me: Me | null, err: unknown): Response {
  if (err instanceof AuthorizationError && err.redirectTo) return c.redirect(err.redirectTo, 302);
  if (err instanceof AuthorizationError) return problemPage(c, me, err.description);
  if (err instanceof CimdFetchError) return problemPage(c, me, 'This app could not be verified.');
  throw err;
}

/** The authorize URL as a local path (the sign-in form returns to it). */
function localAuthorizePath(c: Context<AppEnv>): string {
  const u = requestUrl(c);
  return `${u.pathname}${u.search}`;
}

async function signedIn(c: Context<AppEnv>): Promise<{ session: DashSession; me: Me } | null> {
  let session: DashSession;
  try {
    session = await DashSession.open(c);
  } catch (err) {
    if (err instanceof SessionGone) return null;
    throw err;
  }
  const me = await session.api<Me>('GET', '/auth/me').catch((err: unknown) => {
    if (err instanceof SessionGone) return null;
    throw err;
  });
  return me && me.ok && me.body.kind === 'user' ? { session, me: me.body } : null;
}

const formBody = {
  body: { required: true, content: { 'application/x-www-form-urlencoded': { schema: z.record(z.string(), z.unknown()) } } },
};
const html = {
  200: { description: 'HTML page' },
  302: { description: 'Redirect to the client' },
  303: { description: 'Redirect' },
  400: { description: 'Error page' },
  403: { description: 'Error page' },
};

const SESSION_PERMISSION = { 'x-permission': 'public (dashboard session sign-in, CSRF-checked forms)' } as const;
const authorizeRoute = createRoute({
  method: 'get',
  path: AUTHORIZE_PATH,
  tags: ['OAuth'],
  summary: 'Authorization endpoint: sign in and consent (HTML)',
  ...SESSION_PERMISSION,
  responses: html,
});
const consentRoute = createRoute({
  method: 'post',
  path: AUTHORIZE_PATH,
  tags: ['OAuth'],
  summary: 'Consent decision (form; CSRF-checked)',
  ...SESSION_PERMISSION,
  request: formBody,
  responses: html,
});
const authorizeLoginRoute = createRoute({
  method: 'post',
  path: `${AUTHORIZE_PATH}/login`,
  tags: ['OAuth'],
  summary: 'Sign in on the way to the consent page (form)',
  ...SESSION_PERMISSION,
  request: formBody,
  responses: html,
});

const consentRoutes = createRouter()
  .openapi(authorizeRoute, async (c) => {
    let request: AuthRequest;
    try {
      request = await api(c).parseAuthRequest(c.req.raw);
    } catch (err) {
      return authorizationFailure(c, null, err) as never;
    }
    const who = await signedIn(c);
    if (!who) {
      // SameSite=Strict: a cross-site arrival carries no session cookie; a same-origin reload does.
      if (c.req.header('Sec-Fetch-Site') === 'cross-site') {
        return send(
          c,
          <html lang="en">
            <head>
              <meta charset="utf-8" />
              <meta http-equiv="refresh" content="0" />
              <title>Continuing… · crawlgate</title>
            </head>
            <body>
              <p>Continuing to the sign-in page…</p>
            </body>
          </html>,
        ) as never;
      }
      return send(c, <SignIn next={localAuthorizePath(c)} error={null} />) as never;
    }
    const oauth = api(c);
    const details = await oauth.describeConsent(request).catch((err: unknown) => authorizationFailure(c, who.me, err));
    if (details instanceof Response) return details as never;
    const offered = GRANTABLE_SCOPES.filter((s) => who.me.permissions.includes(s));
    if (offered.length === 0) return problemPage(c, who.me, 'Your account holds no crawl or job permission to grant.', 403) as never;
    const asked = request.scope.length > 0 ? request.scope : [...REQUIRED_SCOPES];
    const consent = await oauth.beginConsent(request);
    const csrf = await csrfToken(c.get('config').JWT_SECRET_KEY, who.session.data.nonce);
    for (const cookie of (consent.headers as unknown as { getSetCookie(): string[] }).getSetCookie())
      c.header('Set-Cookie', cookie, { append: true });
    return send(
      c,
      <Consent
        me={who.me}
        csrf={csrf}
        handle={consent.handle}
        clientName={details.clientName}
        verifiedDomain={details.clientDomain}
        redirectHost={details.redirectHost}
        loopback={details.redirectIsLoopback}
        offered={offered}
        checked={new Set(asked.filter((s) => offered.includes(s as never)))}
      />,
    ) as never;
  })
  .openapi(consentRoute, async (c) => {
    const g = await guardPost(c).catch((err: unknown) => {
      if (err instanceof SessionGone) return { ok: false as const, reason: 'Your session has ended. Sign in again from your MCP client.' };
      throw err;
    });
    if (!g.ok) return problemPage(c, null, g.reason, 403) as never;
    const handle = g.form.handle ?? '';
    const oauth = api(c);
    if (g.form.decision !== 'approve') {
      try {
        const denied = await oauth.denyConsent(c.req.raw, handle);
        return new Response(null, { status: 302, headers: denied.headers }) as never;
      } catch (err) {
        return authorizationFailure(c, null, err) as never;
      }
    }
    const me = await g.session.api<Me>('GET', '/auth/me');
    if (!me.ok || me.body.kind !== 'user') return problemPage(c, null, 'Only a signed-in user can authorize an app.', 403) as never;
    const form = await requestBody(c).form();
    const picked = form.getAll('scope').map(String);
    // No privilege escalation by delegation: only what the user holds now, and only crawl/job permissions.
    const granted = GRANTABLE_SCOPES.filter((s) => picked.includes(s) && me.body.permissions.includes(s));
    if (granted.length === 0) return problemPage(c, me.body, 'Choose at least one permission you hold.') as never;
    let approved;
    try {
      approved = await oauth.approveConsent(c.req.raw, handle, { scope: [...granted] });
    } catch (err) {
      return authorizationFailure(c, me.body, err) as never;
    }
    const details = await oauth.describeConsent(approved.request);
    const grantId = newGrantId();
    const userId = me.body.principal.id;
    await insertGrant(
      c.env.DB,
      {
        id: grantId,
        userId,
        clientId: approved.request.clientId,
        clientName: details.clientName,
        redirectHost: details.redirectHost,
        scopes: granted,
      },
      Date.now(),
    );
    let redirectTo: string;
    try {
      ({ redirectTo } = await oauth.completeAuthorization({
        request: approved.request,
        userId,
        scope: [...granted],
        props: { grant: grantId },
        metadata: { grant: grantId },
      }));
    } catch (err) {
      await deleteGrant(c.env.DB, grantId); // fail closed: no row, no token works
      throw err;
    }
    audit(c, {
      action: 'grant_created',
      outcome: 'success',
      status: 302,
      details: { grant_id: grantId, client_id: approved.request.clientId.slice(0, 200), scopes: granted },
    });
    approved.headers.set('Location', redirectTo);
    return new Response(null, { status: 302, headers: approved.headers }) as never;
  })
  .openapi(authorizeLoginRoute, async (c) => {
    const form = await readForm(c);
    const next = form.next ?? '';
    // Only back to the authorization endpoint on this origin (no open redirect).
    const safeNext = next.startsWith(`${AUTHORIZE_PATH}?`) && !next.includes('\\') ? next : null;
    if (!safeNext) return problemPage(c, null, 'Start the connection again from your MCP client.') as never;
    if (!checkOrigin(c)) return send(c, <SignIn next={safeNext} error="This form was submitted from another site." />, 403) as never;
    const res = await gatewayFetch(c, 'POST', '/auth/token', {
      json: { username: form.username ?? '', password: form.password ?? '', grant_type: 'password' },
    });
    const out = await toResult<{ access_token: string; refresh_token: string }>(res);
    if (!out.ok) {
      const msg = out.status === 429 ? 'Too many attempts. Wait a moment and try again.' : 'Wrong username or password.';
      return send(c, <SignIn next={safeNext} error={msg} />, out.status === 429 ? 403 : 400) as never;
    }
    c.header(
      'Set-Cookie',
      await newSessionCookie(c, { access: out.body.access_token, refresh: out.body.refresh_token, nonce: newNonce() }),
    );
    return c.redirect(safeNext, 303) as never;
  });

/**
 * The consent pages call the gateway in-process like the dashboard does (sign-in via POST /auth/token),
 * so they are bound to the app's own fetch, as `createDashboardRouter` binds the dashboard.
 */
export function createConsentRouter(api: GatewayApi): ReturnType<typeof createRouter> {
  const router = createRouter();
  router.use(AUTHORIZE_PATH, bindGatewayApi(api));
  router.use(`${AUTHORIZE_PATH}/*`, bindGatewayApi(api));
  router.route('/', consentRoutes);
  return router;
}
