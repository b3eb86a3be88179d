/**
 * The /dashboard/usage view (pages-jobs.tsx holds the route): the window form and the usage report
 * per hour, principal and crawler session. Pure JSX.
 */
import type { Child } from 'hono/jsx';
import type { UsageReport } from '../jobs/usage';
import { kb } from './job-views';

/** The counts a usage row carries. */
type Counts = { pages: number; errors: number; bytes: number; avg_ms: number | null };

/** One usage table: a first column of the caller's (hour, principal) and the row's counts. */
function CountsTable<T extends Counts>(props: { label: string; rows: T[]; first: (row: T) => Child }) {
  return (
    <table>
      <thead>
        <tr>
          <th>{props.label}</th>
          <th>Pages</th>
          <th>Errors</th>
          <th>Bytes</th>
          <th>Avg ms</th>
        </tr>
      </thead>
      <tbody>
        {props.rows.map((row) => (
          <tr>
            <td>{props.first(row)}</td>
            <td>{row.pages}</td>
            <td>{row.errors}</td>
            <td>{kb(row.bytes)}</td>
            <td>{row.avg_ms ?? '—'}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** The window form and, once read, the report's tables. */
export function UsageView(props: { hours: string; u: UsageReport | null }) {
  const { hours, u } = props;
  return (
    <>
      <form method="get" action="/dashboard/usage">
        <label>
          Last <input name="hours" value={hours} size={4} /> hours
        </label>{' '}
        <button type="submit">Show</button>
      </form>
      {u && (
        <>
          <p>
            {u.totals.pages} pages · {u.totals.errors} errors
            {u.totals.error_rate !== null ? ` (${(u.totals.error_rate * 100).toFixed(1)} %)` : ''} · {kb(u.totals.bytes)} · average{' '}
            {u.totals.avg_ms ?? '—'} ms per page
          </p>
          <h2>Per hour</h2>
          {u.hourly.length === 0 ? (
            <p class="empty">No pages crawled in this window.</p>
          ) : (
            <CountsTable label="Hour (UTC)" rows={u.hourly} first={(h) => h.hour.replace('T', ' ').slice(0, 16)} />
          )}
          <h2>Per principal</h2>
          <CountsTable label="Principal" rows={u.principals} first={(p) => <code>{p.principal_id}</code>} />
          <h2>Crawler sessions</h2>
          {u.sessions.length === 0 ? (
            <p class="empty">No sessions (jobs with a crawler_config session_id).</p>
          ) : (
            <table>
              <thead>
                <tr>
                  <th>Session</th>
                  <th>State</th>
                  <th>Principal</th>
                  <th>Created</th>
                  <th>Last active</th>
                  <th>Pages</th>
                  <th>Errors</th>
                </tr>
              </thead>
              <tbody>
                {u.sessions.map((x) => (
                  <tr>
                    <td>
                      <code>{x.session_id}</code>
                    </td>
                    <td>{x.state}</td>
                    <td>
                      <code>{x.principal_id}</code>
                    </td>
                    <td>{x.created_at.slice(0, 19)}</td>
                    <td>{x.last_active_at.slice(0, 19)}</td>
                    <td>{x.pages}</td>
                    <td>{x.errors}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </>
      )}
    </>
  );
}
