/**
 * The /dashboard/usage view (pages-jobs.tsx holds the route): the window form and the usage report
 * per hour, principal and crawler session. Pure JSX.
 */
import type { UsageReport } from '../jobs/usage';
import { kb } from './job-views';

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
            <table>
              <thead>
                <tr>
                  <th>Hour (UTC)</th>
                  <th>Pages</th>
                  <th>Errors</th>
                  <th>Bytes</th>
                  <th>Avg ms</th>
                </tr>
              </thead>
              <tbody>
                {u.hourly.map((h) => (
                  <tr>
                    <td>{h.hour.replace('T', ' ').slice(0, 16)}</td>
                    <td>{h.pages}</td>
                    <td>{h.errors}</td>
                    <td>{kb(h.bytes)}</td>
                    <td>{h.avg_ms ?? '—'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          <h2>Per principal</h2>
          <table>
            <thead>
              <tr>
                <th>Principal</th>
                <th>Pages</th>
                <th>Errors</th>
                <th>Bytes</th>
                <th>Avg ms</th>
              </tr>
            </thead>
            <tbody>
              {u.principals.map((p) => (
                <tr>
                  <td>
                    <code>{p.principal_id}</code>
                  </td>
                  <td>{p.pages}</td>
                  <td>{p.errors}</td>
                  <td>{kb(p.bytes)}</td>
                  <td>{p.avg_ms ?? '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
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
