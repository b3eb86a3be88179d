/**
 * /dashboard/grants ("Connected apps"): the MCP clients the user authorized by OAuth (docs/mcp.md),
 * with a revoke button each. Admins (users:manage) see every user's grants through /admin/grants;
 * everyone else their own through /grants — the API decides, the page renders.
 */
import type { Hono } from 'hono';
import type { AppEnv } from '../env';
import { Csrf, Page } from './layout';
import { forbidden, send, whoAmI } from './render';
import { guardPost } from './guard';
import { DashSession } from './session';

interface GrantRow {
  id: string;
  user_id: string;
  client_name: string;
  redirect_host: string;
  scopes: string[];
  created_at: string;
  revoked_at: string | null;
  revoked_reason: string | null;
}

type Me = NonNullable<Parameters<typeof Page>[0]['me']>;

const grantsApi = (me: Me) => (me.permissions.includes('users:manage') ? '/admin/grants' : '/grants');

export function grantPages(r: Hono<AppEnv>): void {
  r.get('/dashboard/grants', async (c) => {
    const s = await DashSession.open(c);
    const { me, csrf } = await whoAmI(c, s);
    const res = await s.api<{ items: GrantRow[] }>('GET', `${grantsApi(me)}?limit=100`);
    if (res.status === 403) return forbidden(c, me, csrf, res.error ?? 'Forbidden');
    const flash = c.req.query('ok') === 'revoked' ? "The app's access was revoked." : null;
    return send(
      c,
      <Page title="Connected apps" me={me} csrf={csrf} flash={flash} error={res.ok ? null : res.error}>
        <p>MCP clients you allowed to act for you (OAuth). Revoking stops their next call.</p>
        <table>
          <thead>
            <tr>
              <th>App (self-declared name)</th>
              <th>Sends to</th>
              {grantsApi(me) === '/admin/grants' && <th>User</th>}
              <th>Permissions</th>
              <th>Since</th>
              <th>State</th>
              <th></th>
            </tr>
          </thead>
          <tbody>
            {(res.ok ? res.body.items : []).map((g) => (
              <tr>
                <td>{g.client_name}</td>
                <td>{g.redirect_host}</td>
                {grantsApi(me) === '/admin/grants' && (
                  <td>
                    <code>{g.user_id}</code>
                  </td>
                )}
                <td>{g.scopes.join(', ')}</td>
                <td>{g.created_at}</td>
                <td>{g.revoked_at ? (g.revoked_reason ?? 'revoked') : 'active'}</td>
                <td>
                  {!g.revoked_at && (
                    <form method="post" action={`/dashboard/grants/${encodeURIComponent(g.id)}/revoke`} class="inline">
                      <Csrf token={csrf} />
                      <button type="submit" class="danger">
                        Revoke
                      </button>
                    </form>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </Page>,
    );
  });

  r.post('/dashboard/grants/:id/revoke', async (c) => {
    const g = await guardPost(c);
    if (!g.ok) return forbidden(c, null, '', g.reason);
    const { me, csrf } = await whoAmI(c, g.session);
    const res = await g.session.api('DELETE', `${grantsApi(me)}/${encodeURIComponent(c.req.param('id'))}`);
    if (!res.ok) {
      return res.status === 403
        ? forbidden(c, me, csrf, res.error ?? 'Forbidden')
        : send(
            c,
            <Page title="Connected apps" me={me} csrf={csrf} error={res.error}>
              <a href="/dashboard/grants">Back</a>
            </Page>,
            422,
          );
    }
    return c.redirect('/dashboard/grants?ok=revoked', 303);
  });
}
