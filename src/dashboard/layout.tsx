/**
 * Page chrome for the dashboard (hono/jsx, server-rendered, escaped by default). The nav lists
 * only what the signed-in user's permissions allow; the API enforces the same on every call.
 */
import type { Child } from 'hono/jsx';

/** Strict CSP for dashboard pages: same-origin CSS/JS only, no inline script (W3C CSP Level 3). */
export const DASHBOARD_CSP =
  "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/** Who is signed in, as /auth/me reports it. */
export interface Me {
  principal: { id: string; name: string };
  kind: string;
  roles: string[];
  permissions: string[];
  limits: { rate_limit: string; max_concurrency: number | null };
}

const NAV: Array<{ href: string; label: string; needs: string | string[] | null }> = [
  { href: '/dashboard', label: 'Overview', needs: null },
  { href: '/dashboard/keys', label: 'API keys', needs: ['keys:read', 'keys:self'] },
  { href: '/dashboard/users', label: 'Users', needs: 'users:manage' },
  { href: '/dashboard/audit', label: 'Audit', needs: 'audit:read' },
  { href: '/dashboard/crawl', label: 'Crawl', needs: 'playground:access' },
  { href: '/dashboard/jobs', label: 'Jobs', needs: 'jobs:read' },
  { href: '/dashboard/usage', label: 'Usage', needs: 'jobs:read' },
  { href: '/dashboard/grants', label: 'Connected apps', needs: ['keys:self', 'users:manage'] },
];

/** Renders a full page. `me` null = signed-out chrome (login page). */
export function Page(props: {
  title: string;
  me: Me | null;
  csrf?: string;
  flash?: string | null;
  error?: string | null;
  refreshSeconds?: number;
  children?: Child;
}) {
  const { me } = props;
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        {props.refreshSeconds ? <meta http-equiv="refresh" content={String(props.refreshSeconds)} /> : null}
        <title>{props.title} · crawlgate</title>
        <link rel="stylesheet" href="/dashboard/static/app.css" />
        <script src="/dashboard/static/app.js" defer></script>
      </head>
      <body>
        <header>
          <strong>crawlgate</strong>
          {me && (
            <nav>
              {NAV.filter((n) => n.needs === null || [n.needs].flat().some((p) => me.permissions.includes(p))).map((n) => (
                <a href={n.href}>{n.label}</a>
              ))}
              <form method="post" action="/dashboard/logout" class="inline">
                <input type="hidden" name="csrf" value={props.csrf ?? ''} />
                <button type="submit">Sign out ({me.principal.name})</button>
              </form>
            </nav>
          )}
        </header>
        <main>
          <h1>{props.title}</h1>
          {props.flash && <p class="flash">{props.flash}</p>}
          {props.error && (
            <p class="error" role="alert">
              {props.error}
            </p>
          )}
          {props.children}
        </main>
      </body>
    </html>
  );
}

/** A hidden CSRF field for POST forms. */
export function Csrf(props: { token: string }) {
  return <input type="hidden" name="csrf" value={props.token} />;
}

/** Username and password fields and the submit button of a sign-in form (dashboard and OAuth consent). */
export function SignInFields() {
  return (
    <>
      <p>
        <label>
          Username <input name="username" autocomplete="username" required />
        </label>
      </p>
      <p>
        <label>
          Password <input name="password" type="password" autocomplete="current-password" required />
        </label>
      </p>
      <button type="submit">Sign in</button>
    </>
  );
}
