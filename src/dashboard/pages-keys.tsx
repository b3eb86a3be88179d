/**
 * /dashboard/keys: list, create (key shown once), rotate with grace, revoke after a confirmation step.
 * Admins (and holders of keys:manage) work on /admin/keys; everyone else with keys:self works on
 * their own keys through the self-service /keys API — the API decides what each may see and grant.
 */
import type { Hono } from 'hono';
import type { AppEnv } from '../env';
import { Csrf, Page } from './layout';
import { flashOf, forbidden, send, whoAmI } from './render';
import { guardPost } from './guard';
import { DashSession } from './session';
import type { BudgetView } from '../metering/budget-ledger';

interface KeyRow {
  id: string;
  name: string;
  scopes: string[];
  status: string;
  rate_limit?: string | null;
  max_concurrency?: number | null;
  expires_at?: string | null;
  owner?: string | null;
  budget?: BudgetView | null;
}

const STATUSES = ['', 'active', 'expired', 'rotated', 'revoked', 'disabled'];

const SCOPE_CHOICES = [
  'crawl:run',
  'crawl:screenshot',
  'crawl:pdf',
  'jobs:write',
  'jobs:read',
  'keys:read',
  'keys:self',
  'audit:read',
  'metrics:read',
];

type Me = Parameters<typeof Page>[0]['me'];

/** Which key API this user's pages call: the admin one for key managers, else their own keys. */
export function keysApi(me: NonNullable<Me>): '/admin/keys' | '/keys' {
  return me.permissions.includes('keys:manage') || !me.permissions.includes('keys:self') ? '/admin/keys' : '/keys';
}

/** Scopes the form offers: for self-service only the ones the user holds (the API refuses the rest). */
function scopeChoices(me: NonNullable<Me>): string[] {
  return keysApi(me) === '/keys' ? SCOPE_CHOICES.filter((sc) => me.permissions.includes(sc)) : SCOPE_CHOICES;
}

/** Registers the key pages on the dashboard router. */
export function keyPages(r: Hono<AppEnv>): void {
  r.get('/dashboard/keys', async (c) => {
    const s = await DashSession.open(c);
    const { me, csrf } = await whoAmI(c, s);
    const q = new URLSearchParams({ limit: '50' });
    const cursor = c.req.query('cursor');
    if (cursor) q.set('cursor', cursor);
    const status = c.req.query('status');
    if (status) q.set('status', status);
    const list = await s.api<{ keys: KeyRow[]; next_cursor: string | null }>('GET', `${keysApi(me)}?${q}`);
    if (list.status === 403) return forbidden(c, me, csrf, list.error ?? 'Forbidden');
    const canManage = me.permissions.includes('keys:manage') || me.permissions.includes('keys:self');
    const keys = list.ok ? list.body.keys : [];
    return send(
      c,
      <Page title="API keys" me={me} csrf={csrf} flash={flashOf(c)} error={list.error}>
        {canManage && (
          <fieldset>
            <legend>Create a key</legend>
            <form method="post" action="/dashboard/keys">
              <Csrf token={csrf} />
              <label>
                Name <input name="name" required maxlength={100} />
              </label>{' '}
              <label>
                Rate limit <input name="rate_limit" placeholder="1000/minute" />
              </label>{' '}
              <label>
                Expires <input name="expires_at" type="date" />
              </label>{' '}
              <label>
                Budget <input name="budget_credits" type="number" min="0" step="any" placeholder="credits" />
              </label>{' '}
              <label>
                per{' '}
                <select name="budget_period">
                  <option value="day">day</option>
                  <option value="month">month</option>
                </select>
              </label>
              <div>
                {scopeChoices(me).map((sc) => (
                  <label>
                    <input type="checkbox" name={`scope_${sc}`} value="1" checked={sc === 'crawl:run'} /> {sc}{' '}
                  </label>
                ))}
              </div>
              <button type="submit">Create key</button>
            </form>
          </fieldset>
        )}
        <form method="get" action="/dashboard/keys">
          <label>
            Status{' '}
            <select name="status">
              {STATUSES.map((st) => (
                <option value={st} selected={(status ?? '') === st}>
                  {st || 'any'}
                </option>
              ))}
            </select>
          </label>{' '}
          <button type="submit">Filter</button>
        </form>
        {keys.length === 0 ? (
          <p class="empty">{status ? 'No keys with this status.' : 'No keys yet.'}</p>
        ) : (
          <table>
            <thead>
              <tr>
                <th>Name</th>
                <th>ID</th>
                <th>Scopes</th>
                <th>Status</th>
                <th>Rate limit / concurrency</th>
                <th>Expires</th>
                <th>Budget left</th>
                {canManage && <th>Actions</th>}
              </tr>
            </thead>
            <tbody>
              {keys.map((k) => (
                <tr>
                  <td>{k.name}</td>
                  <td>
                    <code>{k.id}</code>
                  </td>
                  <td>{k.scopes.join(', ')}</td>
                  <td>{k.status}</td>
                  <td>
                    {k.rate_limit ?? 'default'} / {k.max_concurrency ?? 'default'}
                  </td>
                  <td>{k.expires_at ?? '—'}</td>
                  <td class="budget">
                    {k.budget ? `${k.budget.remaining} / ${k.budget.credits} per ${k.budget.period}` : '—'}{' '}
                    <a href={`/dashboard/keys/${encodeURIComponent(k.id)}/usage`}>Usage</a>
                  </td>
                  {canManage && (
                    <td>
                      {k.status === 'active' && (
                        <>
                          <form method="post" action={`/dashboard/keys/${encodeURIComponent(k.id)}/rotate`} class="inline">
                            <Csrf token={csrf} />
                            <select name="grace_seconds">
                              <option value="0">no grace</option>
                              <option value="3600">1 h grace</option>
                              <option value="86400">24 h grace</option>
                            </select>
                            <button type="submit">Rotate</button>
                          </form>{' '}
                          <a href={`/dashboard/keys/${encodeURIComponent(k.id)}/revoke`}>Revoke…</a>
                        </>
                      )}
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {list.ok && list.body.next_cursor && (
          <p>
            <a href={`/dashboard/keys?${new URLSearchParams({ ...(status ? { status } : {}), cursor: list.body.next_cursor })}`}>
              Next page →
            </a>
          </p>
        )}
      </Page>,
    );
  });

  r.post('/dashboard/keys', async (c) => {
    const g = await guardPost(c);
    if (!g.ok) return forbidden(c, null, '', g.reason);
    const { me, csrf } = await whoAmI(c, g.session);
    const f = g.form;
    const scopes = SCOPE_CHOICES.filter((sc) => f[`scope_${sc}`]);
    const body: Record<string, unknown> = { name: f.name ?? '', scopes };
    if (f.rate_limit) body.rate_limit = f.rate_limit;
    if (f.expires_at) body.expires_at = new Date(`${f.expires_at}T00:00:00Z`).toISOString();
    if (f.budget_credits) body.budget = { credits: Number(f.budget_credits), period: f.budget_period === 'month' ? 'month' : 'day' };
    const res = await g.session.api<{ key: string; id: string; name: string }>('POST', keysApi(me), body);
    if (res.status === 403) return forbidden(c, me, csrf, res.error ?? 'Forbidden');
    if (!res.ok)
      return send(
        c,
        <Page title="API keys" me={me} csrf={csrf} error={`Could not create the key: ${res.error}`}>
          <p>
            <a href="/dashboard/keys">Back</a>
          </p>
        </Page>,
        422,
      );
    // Shown once, rendered directly (not PRG) so the secret never appears in a URL; no-store (send).
    return send(c, <KeyOnce me={me} csrf={csrf} title="Key created" id={res.body.id} name={res.body.name} secret={res.body.key} />);
  });

  r.get('/dashboard/keys/:id/revoke', async (c) => {
    const s = await DashSession.open(c);
    const { me, csrf } = await whoAmI(c, s);
    const id = c.req.param('id');
    return send(
      c,
      <Page title="Revoke key" me={me} csrf={csrf}>
        <p class="warn">
          Revoke <code>{id}</code>? Clients using it are refused at once. This cannot be undone.
        </p>
        <form method="post" action={`/dashboard/keys/${encodeURIComponent(id)}/revoke`}>
          <Csrf token={csrf} />
          <button type="submit" class="danger">
            Yes, revoke
          </button>{' '}
          <a href="/dashboard/keys">Cancel</a>
        </form>
      </Page>,
    );
  });

  r.post('/dashboard/keys/:id/revoke', async (c) => {
    const g = await guardPost(c);
    if (!g.ok) return forbidden(c, null, '', g.reason);
    const { me, csrf } = await whoAmI(c, g.session);
    const res = await g.session.api('DELETE', `${keysApi(me)}/${encodeURIComponent(c.req.param('id'))}`);
    if (!res.ok) {
      return res.status === 403
        ? forbidden(c, me, csrf, res.error ?? 'Forbidden')
        : send(
            c,
            <Page title="API keys" me={me} csrf={csrf} error={res.error}>
              <a href="/dashboard/keys">Back</a>
            </Page>,
            422,
          );
    }
    return c.redirect('/dashboard/keys?ok=revoked', 303);
  });

  r.post('/dashboard/keys/:id/rotate', async (c) => {
    const g = await guardPost(c);
    if (!g.ok) return forbidden(c, null, '', g.reason);
    const { me, csrf } = await whoAmI(c, g.session);
    const grace = Number.parseInt(g.form.grace_seconds ?? '0', 10);
    const res = await g.session.api<{ key: string; id: string; name: string }>(
      'POST',
      `${keysApi(me)}/${encodeURIComponent(c.req.param('id'))}/rotate`,
      { grace_seconds: Number.isFinite(grace) ? grace : 0 },
    );
    if (res.status === 403) return forbidden(c, me, csrf, res.error ?? 'Forbidden');
    if (!res.ok)
      return send(
        c,
        <Page title="API keys" me={me} csrf={csrf} error={`Could not rotate: ${res.error}`}>
          <a href="/dashboard/keys">Back</a>
        </Page>,
        422,
      );
    return send(c, <KeyOnce me={me} csrf={csrf} title="Key rotated" id={res.body.id} name={res.body.name} secret={res.body.key} />);
  });
}

function KeyOnce(props: { me: Me; csrf: string; title: string; id: string; name: string; secret: string }) {
  return (
    <Page title={props.title} me={props.me} csrf={props.csrf}>
      <p class="warn">Copy this key now. It is shown only once and cannot be recovered.</p>
      <p>
        {props.name} (<code>{props.id}</code>)
      </p>
      <div class="secret" id="new-key">
        {props.secret}
      </div>
      <p>
        <button type="button" data-copy="new-key">
          Copy
        </button>{' '}
        <a href="/dashboard/keys">Done</a>
      </p>
    </Page>
  );
}
