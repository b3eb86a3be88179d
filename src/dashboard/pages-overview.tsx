/** /dashboard: identity, permissions, limits, and (with audit:read) a 24 h allowed/denied chart. */
import type { Hono } from 'hono';
import type { AppEnv } from '../env';
import { Page } from './layout';
import { flashOf, send, whoAmI } from './render';
import { DashSession } from './session';
import { bucketize, Chart } from './chart';

/** At most this many audit pages (200 rows each) feed the chart, to bound the page's cost. */
const MAX_AUDIT_PAGES = 5;

/** Registers the overview page. */
export function overviewPage(r: Hono<AppEnv>): void {
  r.get('/dashboard', async (c) => {
    const s = await DashSession.open(c);
    const { me, csrf } = await whoAmI(c, s);
    let chart = null;
    let note: string | null = null;
    if (me.permissions.includes('audit:read')) {
      const now = Date.now();
      const events: Array<{ ts: number; outcome: string }> = [];
      let cursor: string | null = null;
      for (let i = 0; i < MAX_AUDIT_PAGES; i++) {
        const q = new URLSearchParams({ since: String(now - 24 * 3_600_000), limit: '200' });
        if (cursor) q.set('cursor', cursor);
        const res = await s.api<{ events: Array<{ ts: number; outcome: string }>; next_cursor: string | null }>('GET', `/admin/audit?${q}`);
        if (!res.ok) {
          note = res.error;
          break;
        }
        events.push(...res.body.events);
        cursor = res.body.next_cursor;
        if (!cursor) break;
        if (i === MAX_AUDIT_PAGES - 1) note = `Chart shows the newest ${events.length} events only.`;
      }
      chart = <Chart buckets={bucketize(events, now)} />;
    }
    return send(
      c,
      <Page title="Overview" me={me} csrf={csrf} flash={flashOf(c)} error={null}>
        <table>
          <tbody>
            <tr>
              <th>Signed in as</th>
              <td>
                {me.principal.name} <code>{me.principal.id}</code> ({me.kind})
              </td>
            </tr>
            <tr>
              <th>Roles</th>
              <td>{me.roles.join(', ') || '—'}</td>
            </tr>
            <tr>
              <th>Permissions</th>
              <td>{me.permissions.length ? me.permissions.join(', ') : <span class="empty">none</span>}</td>
            </tr>
            <tr>
              <th>Rate limit</th>
              <td>{me.limits.rate_limit}</td>
            </tr>
            <tr>
              <th>Concurrent crawls</th>
              <td>{me.limits.max_concurrency ?? 'default'}</td>
            </tr>
          </tbody>
        </table>
        {chart && (
          <>
            <h2>Decisions, last 24 h</h2>
            <p>
              <span class="warn">■</span> allowed (green) vs denied (red)
            </p>
            {chart}
            {note && <p class="empty">{note}</p>}
          </>
        )}
      </Page>,
    );
  });
}
