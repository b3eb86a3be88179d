/** /dashboard/users (users:manage, enforced by the API): create, change roles, disable, reset password, delete. */
import type { Context, Hono } from 'hono';
import type { AppEnv } from '../env';
import { ROLES } from '../auth/rbac';
import { Csrf, Page, type Me } from './layout';
import { flashOf, forbidden, send, whoAmI } from './render';
import { guardPost, type FormFields } from './guard';
import { DashSession, type ApiResult } from './session';

interface UserRow {
  id: string;
  username: string;
  roles: string[];
  disabled: boolean;
  created_at: string;
}

const rolesFrom = (f: FormFields) => ROLES.filter((r) => f[`role_${r}`]);
const userPath = (name: string) => `/admin/users/${encodeURIComponent(name)}`;

/** Registers the user pages. */
export function userPages(r: Hono<AppEnv>): void {
  r.get('/dashboard/users', async (c) => {
    const s = await DashSession.open(c);
    const { me, csrf } = await whoAmI(c, s);
    const q = new URLSearchParams({ limit: '50' });
    const cursor = c.req.query('cursor');
    if (cursor) q.set('cursor', cursor);
    const list = await s.api<{ users: UserRow[]; next_cursor: string | null }>('GET', `/admin/users?${q}`);
    if (list.status === 403) return forbidden(c, me, csrf, list.error ?? 'Forbidden');
    return send(c, <UsersPage me={me} csrf={csrf} flash={flashOf(c)} list={list} />);
  });

  /** Runs one API change from a guarded form, then redirects (PRG) or shows the API's problem detail. */
  async function change(c: Context<AppEnv>, call: (s: DashSession, f: FormFields) => Promise<ApiResult>, ok: string) {
    const g = await guardPost(c);
    if (!g.ok) return forbidden(c, null, '', g.reason);
    const res = await call(g.session, g.form);
    if (res.ok) return c.redirect(`/dashboard/users?ok=${ok}`, 303);
    const { me, csrf } = await whoAmI(c, g.session);
    if (res.status === 403) return forbidden(c, me, csrf, res.error ?? 'Forbidden');
    return send(
      c,
      <Page title="Users" me={me} csrf={csrf} error={res.error}>
        <a href="/dashboard/users">Back</a>
      </Page>,
      422,
    );
  }

  r.post('/dashboard/users', (c) =>
    change(
      c,
      (s, f) => s.api('POST', '/admin/users', { username: f.username ?? '', password: f.password ?? '', roles: rolesFrom(f) }),
      'user_created',
    ),
  );
  r.post('/dashboard/users/:username/roles', (c) =>
    change(
      c,
      (s, f) => s.api('PATCH', userPath(c.req.param('username') ?? ''), { roles: rolesFrom(f), disabled: f.disabled === '1' }),
      'user_changed',
    ),
  );
  r.post('/dashboard/users/:username/password', (c) =>
    change(c, (s, f) => s.api('PATCH', userPath(c.req.param('username') ?? ''), { password: f.password ?? '' }), 'user_changed'),
  );
  r.post('/dashboard/users/:username/delete', (c) =>
    change(c, (s) => s.api('DELETE', userPath(c.req.param('username') ?? '')), 'user_deleted'),
  );
}

function UsersPage(props: {
  me: Me;
  csrf: string;
  flash: string | null;
  list: ApiResult<{ users: UserRow[]; next_cursor: string | null }>;
}) {
  const { me, csrf, list } = props;
  const users = list.ok ? list.body.users : [];
  return (
    <Page title="Users" me={me} csrf={csrf} flash={props.flash} error={list.error}>
      <fieldset>
        <legend>Create a user</legend>
        <form method="post" action="/dashboard/users">
          <Csrf token={csrf} />
          <label>
            Username <input name="username" required maxlength={64} autocomplete="off" />
          </label>{' '}
          <label>
            Password <input name="password" type="password" required autocomplete="new-password" />
          </label>{' '}
          {ROLES.map((r) => (
            <label>
              <input type="checkbox" name={`role_${r}`} value="1" checked={r === 'user'} /> {r}{' '}
            </label>
          ))}
          <button type="submit">Create</button>
        </form>
      </fieldset>
      {users.length === 0 ? (
        <p class="empty">No users.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th>User</th>
              <th>Roles and status</th>
              <th>Reset password</th>
              <th></th>
            </tr>
          </thead>
          <tbody>
            {users.map((u) => (
              <tr>
                <td>
                  {u.username}
                  {u.disabled && <em> (disabled)</em>} <a href={`/dashboard/users/${encodeURIComponent(u.username)}/usage`}>Usage</a>
                </td>
                <td>
                  <form method="post" action={`/dashboard/users/${encodeURIComponent(u.username)}/roles`}>
                    <Csrf token={csrf} />
                    {ROLES.map((r) => (
                      <label>
                        <input type="checkbox" name={`role_${r}`} value="1" checked={u.roles.includes(r)} /> {r}{' '}
                      </label>
                    ))}
                    <label>
                      <input type="checkbox" name="disabled" value="1" checked={u.disabled} /> disabled
                    </label>{' '}
                    <button type="submit">Save</button>
                  </form>
                </td>
                <td>
                  <form method="post" action={`/dashboard/users/${encodeURIComponent(u.username)}/password`}>
                    <Csrf token={csrf} />
                    <input
                      name="password"
                      type="password"
                      required
                      autocomplete="new-password"
                      aria-label={`New password for ${u.username}`}
                    />{' '}
                    <button type="submit">Reset</button>
                  </form>
                </td>
                <td>
                  {u.username !== me.principal.name && (
                    <form method="post" action={`/dashboard/users/${encodeURIComponent(u.username)}/delete`}>
                      <Csrf token={csrf} />
                      <label>
                        <input type="checkbox" name="confirm" value="1" required /> sure
                      </label>{' '}
                      <button type="submit" class="danger">
                        Delete
                      </button>
                    </form>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {list.ok && list.body.next_cursor && (
        <p>
          <a href={`/dashboard/users?cursor=${encodeURIComponent(list.body.next_cursor)}`}>Next page →</a>
        </p>
      )}
    </Page>
  );
}
