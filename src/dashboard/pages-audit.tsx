/**
 * /dashboard/audit (audit:read via the API): filters, next page, export link, verify button (admin).
 * Actors are shown as kind + id (a link that filters by it) with the name as a label, and filtered
 * by id only: names are user-supplied and not unique.
 */
import type { Hono } from 'hono';
import type { AppEnv } from '../env';
import { Csrf, Page } from './layout';
import { forbidden, send, whoAmI } from './render';
import { guardPost } from './guard';
import { DashSession } from './session';

interface AuditRow {
  ts: number;
  actor_name: string | null;
  actor_id: string;
  actor_kind: string;
  ip: string | null;
  method: string;
  route: string;
  action: string;
  outcome: string;
  reason: string | null;
  status: number | null;
}

const FILTERS = ['actor', 'actor_kind', 'action', 'outcome', 'since', 'until'] as const;
const KINDS = ['', 'user', 'key', 'anonymous'];
const OUTCOMES = ['', 'success', 'failure', 'denied', 'error'];

/** Pure: the API query for the page's filters (empty values dropped). */
export function auditQuery(params: Record<string, string | undefined>): URLSearchParams {
  const q = new URLSearchParams();
  for (const k of FILTERS) {
    const v = params[k]?.trim();
    if (v) q.set(k, v);
  }
  return q;
}

/** Registers the audit pages. */
export function auditPages(r: Hono<AppEnv>): void {
  r.get('/dashboard/audit', async (c) => {
    const s = await DashSession.open(c);
    const { me, csrf } = await whoAmI(c, s);
    const filters = auditQuery(c.req.query());
    const q = new URLSearchParams(filters);
    q.set('limit', '50');
    const cursor = c.req.query('cursor');
    if (cursor) q.set('cursor', cursor);
    const res = await s.api<{ events: AuditRow[]; next_cursor: string | null }>('GET', `/admin/audit?${q}`);
    if (res.status === 403) return forbidden(c, me, csrf, res.error ?? 'Forbidden');
    const rows = res.ok ? res.body.events : [];
    const next = res.ok && res.body.next_cursor ? new URLSearchParams(filters) : null;
    if (next && res.ok && res.body.next_cursor) next.set('cursor', res.body.next_cursor);
    return send(
      c,
      <Page title="Audit log" me={me} csrf={csrf} error={res.error}>
        <form method="get" action="/dashboard/audit">
          <label>
            Actor id <input name="actor" value={filters.get('actor') ?? ''} placeholder="usr_… or key_…" />
          </label>{' '}
          <label>
            Kind{' '}
            <select name="actor_kind">
              {KINDS.map((k) => (
                <option value={k} selected={filters.get('actor_kind') === k}>
                  {k || 'any'}
                </option>
              ))}
            </select>
          </label>{' '}
          <label>
            Action <input name="action" value={filters.get('action') ?? ''} placeholder="auth_failed" />
          </label>{' '}
          <label>
            Outcome{' '}
            <select name="outcome">
              {OUTCOMES.map((o) => (
                <option value={o} selected={filters.get('outcome') === o}>
                  {o || 'any'}
                </option>
              ))}
            </select>
          </label>{' '}
          <label>
            Since <input name="since" value={filters.get('since') ?? ''} placeholder="2026-11-01T00:00:00Z" />
          </label>{' '}
          <label>
            Until <input name="until" value={filters.get('until') ?? ''} />
          </label>{' '}
          <button type="submit">Filter</button>
        </form>
        <p>
          Export: <a href={`/dashboard/audit/export?format=csv&${filters}`}>CSV</a> ·{' '}
          <a href={`/dashboard/audit/export?format=ndjson&${filters}`}>NDJSON</a>
        </p>
        {me.roles.includes('admin') && (
          <form method="post" action="/dashboard/audit/verify">
            <Csrf token={csrf} />
            <button type="submit">Verify the hash chain</button>
          </form>
        )}
        {rows.length === 0 ? (
          <p class="empty">No events match.</p>
        ) : (
          <table>
            <thead>
              <tr>
                <th>Time (UTC)</th>
                <th>Actor</th>
                <th>IP</th>
                <th>Request</th>
                <th>Action</th>
                <th>Outcome</th>
                <th>Reason</th>
                <th>Status</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((e) => (
                <tr>
                  <td>{new Date(e.ts).toISOString().replace('T', ' ').slice(0, 19)}</td>
                  <td>
                    {e.actor_kind}{' '}
                    <a href={`/dashboard/audit?actor=${encodeURIComponent(e.actor_id)}`}>
                      <code>{e.actor_id}</code>
                    </a>
                    {e.actor_name !== null ? <> ({e.actor_name})</> : ''}
                  </td>
                  <td>{e.ip ?? '—'}</td>
                  <td>
                    {e.method} {e.route}
                  </td>
                  <td>{e.action}</td>
                  <td>{e.outcome}</td>
                  <td>{e.reason ?? ''}</td>
                  <td>{e.status ?? ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {next && (
          <p>
            <a href={`/dashboard/audit?${next}`}>Next page →</a>
          </p>
        )}
      </Page>,
    );
  });

  r.get('/dashboard/audit/export', async (c) => {
    const s = await DashSession.open(c);
    const q = auditQuery(c.req.query());
    q.set('format', c.req.query('format') === 'ndjson' ? 'ndjson' : 'csv');
    const res = await s.raw('GET', `/admin/audit/export?${q}`);
    if (!res.ok) {
      const { me, csrf } = await whoAmI(c, s);
      const detail = ((await res.json().catch(() => ({}))) as { detail?: string }).detail ?? `HTTP ${res.status}`;
      return res.status === 403
        ? forbidden(c, me, csrf, detail)
        : send(c, <Page title="Audit export" me={me} csrf={csrf} error={detail} />, 422);
    }
    const headers = new Headers({ 'Content-Type': res.headers.get('Content-Type') ?? 'text/plain', 'Cache-Control': 'no-store' });
    headers.set('Content-Disposition', res.headers.get('Content-Disposition') ?? `attachment; filename="audit.${q.get('format')}"`);
    return new Response(res.body, { status: 200, headers });
  });

  r.post('/dashboard/audit/verify', async (c) => {
    const g = await guardPost(c);
    if (!g.ok) return forbidden(c, null, '', g.reason);
    const { me, csrf } = await whoAmI(c, g.session);
    const res = await g.session.api('GET', '/admin/audit/verify');
    if (res.status === 403) return forbidden(c, me, csrf, res.error ?? 'Forbidden');
    return send(
      c,
      <Page title="Audit verification" me={me} csrf={csrf} error={res.error}>
        {res.ok && (
          <table>
            <tbody>
              {Object.entries(res.body).map(([k, v]) => (
                <tr>
                  <th>{k}</th>
                  <td>
                    <code>{typeof v === 'string' ? v : JSON.stringify(v)}</code>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        <p>
          <a href="/dashboard/audit">Back to the audit log</a>
        </p>
      </Page>,
      res.ok ? 200 : 422,
    );
  });
}
