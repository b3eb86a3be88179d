/**
 * /dashboard/jobs and /dashboard/usage (jobs:read / jobs:write via the API): submit a job, watch
 * its progress and ETA (the page reloads itself every 3 s while the job runs — a meta refresh, so
 * no script is needed under the strict CSP), pause/resume/cancel, download exports, and read usage
 * per hour, principal and crawler session.
 */
import type { Hono } from 'hono';
import type { AppEnv } from '../env';
import type { JobSnapshot } from '../jobs/job-snapshot';
import { JOB_ID } from '../jobs/job-index';
import type { UsageReport } from '../jobs/usage';
import { Csrf, Page } from './layout';
import { flashOf, forbidden, send, whoAmI } from './render';
import { guardPost } from './guard';
import { DashSession } from './session';

interface JobSummary {
  job_id: string;
  status: string;
  status_reason?: string | null;
  priority: string;
  engine: string;
  total: number;
  done: number;
  failed: number;
  created_at: string;
}

const FORMATS = ['json', 'ndjson', 'csv', 'xml', 'markdown', 'html'] as const;
const ACTIONS = { pause: 'Pause', resume: 'Resume', cancel: 'Cancel' } as const;
const PAUSE_REASONS: Record<string, string> = {
  principal_revoked:
    'Paused by the gateway: the API key that created this job was revoked, expired or deleted, or its user was deleted. It crawls nothing more.',
  principal_disabled:
    'Paused by the gateway: the API key or user that created this job is disabled. It can be resumed once they are enabled again.',
};
const kb = (n: number) => (n >= 1_048_576 ? `${(n / 1_048_576).toFixed(1)} MB` : `${(n / 1024).toFixed(1)} KB`);

/** Pure: the URL list typed into the form (one per line, blanks and duplicates dropped). */
export function parseUrlList(text: string | undefined): string[] {
  return [
    ...new Set(
      (text ?? '')
        .split(/\r?\n/)
        .map((l) => l.trim())
        .filter(Boolean),
    ),
  ];
}

export function jobPages(r: Hono<AppEnv>): void {
  r.get('/dashboard/jobs', async (c) => {
    const s = await DashSession.open(c);
    const { me, csrf } = await whoAmI(c, s);
    const res = await s.api<{ jobs: JobSummary[] }>('GET', '/jobs?limit=50');
    if (res.status === 403) return forbidden(c, me, csrf, res.error ?? 'Forbidden');
    const jobs = res.ok ? res.body.jobs : [];
    const canWrite = me.permissions.includes('jobs:write');
    return send(
      c,
      <Page title="Crawl jobs" me={me} csrf={csrf} flash={flashOf(c)} error={res.error}>
        {canWrite && (
          <form method="post" action="/dashboard/jobs">
            <Csrf token={csrf} />
            <p>
              <label>
                URLs, one per line
                <br />
                <textarea name="urls" rows={6} cols={80} required placeholder="https://example.com/a"></textarea>
              </label>
            </p>
            <p>
              <label>
                Engine{' '}
                <select name="engine">
                  <option value="">default</option>
                  <option value="fetch">fetch</option>
                  <option value="browser">browser</option>
                </select>
              </label>{' '}
              <label>
                Priority{' '}
                <select name="priority">
                  {['urgent', 'high', 'normal', 'low'].map((p) => (
                    <option value={p} selected={p === 'normal'}>
                      {p}
                    </option>
                  ))}
                </select>
              </label>{' '}
              <button type="submit">Submit job</button>
            </p>
          </form>
        )}
        {jobs.length === 0 ? (
          <p class="empty">No jobs yet.</p>
        ) : (
          <table>
            <thead>
              <tr>
                <th>Job</th>
                <th>Status</th>
                <th>Progress</th>
                <th>Priority</th>
                <th>Engine</th>
                <th>Created (UTC)</th>
              </tr>
            </thead>
            <tbody>
              {jobs.map((j) => (
                <tr>
                  <td>
                    <a href={`/dashboard/jobs/${j.job_id}`}>
                      <code>{j.job_id}</code>
                    </a>
                  </td>
                  <td>
                    {j.status}
                    {j.status_reason ? ` (${j.status_reason})` : ''}
                  </td>
                  <td>
                    <progress max={j.total} value={j.done + j.failed}></progress> {j.done + j.failed}/{j.total}
                    {j.failed ? ` (${j.failed} failed)` : ''}
                  </td>
                  <td>{j.priority}</td>
                  <td>{j.engine}</td>
                  <td>{j.created_at.replace('T', ' ').slice(0, 19)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Page>,
    );
  });

  r.post('/dashboard/jobs', async (c) => {
    const g = await guardPost(c);
    if (!g.ok) return forbidden(c, null, '', g.reason);
    const { me, csrf } = await whoAmI(c, g.session);
    const body: Record<string, unknown> = { urls: parseUrlList(g.form.urls), priority: g.form.priority || 'normal' };
    if (g.form.engine === 'fetch' || g.form.engine === 'browser') body.engine = g.form.engine;
    const res = await g.session.api<{ job_id: string }>('POST', '/jobs', body);
    if (res.status === 403) return forbidden(c, me, csrf, res.error ?? 'Forbidden');
    if (!res.ok)
      return send(
        c,
        <Page title="Crawl jobs" me={me} csrf={csrf} error={`Could not submit the job: ${res.error}`}>
          <p>
            <a href="/dashboard/jobs">Back</a>
          </p>
        </Page>,
        422,
      );
    return c.redirect(`/dashboard/jobs/${res.body.job_id}?ok=submitted`, 303);
  });

  r.get('/dashboard/jobs/:id', async (c) => {
    const s = await DashSession.open(c);
    const { me, csrf } = await whoAmI(c, s);
    const id = c.req.param('id');
    const res = JOB_ID.test(id) ? await s.api<JobSnapshot>('GET', `/jobs/${id}`) : null;
    if (res?.status === 403) return forbidden(c, me, csrf, res.error ?? 'Forbidden');
    if (!res?.ok) return send(c, <Page title="Job" me={me} csrf={csrf} error="There is no such job." />, 404);
    const j = res.body;
    const live = j.status === 'queued' || j.status === 'running';
    const canWrite = me.permissions.includes('jobs:write');
    // A job paused for a revoked principal can never resume (the API answers 409): offer cancel only.
    const actions = (
      j.status === 'paused'
        ? j.status_reason === 'principal_revoked'
          ? ['cancel']
          : ['resume', 'cancel']
        : live
          ? ['pause', 'cancel']
          : []
    ) as (keyof typeof ACTIONS)[];
    return send(
      c,
      <Page title={`Job ${j.job_id}`} me={me} csrf={csrf} flash={flashOf(c)} refreshSeconds={live ? 3 : undefined}>
        <p>
          <strong>{j.status}</strong>
          {j.status_reason ? (
            <>
              {' '}
              (<code>{j.status_reason}</code>)
            </>
          ) : (
            ''
          )}{' '}
          · priority {j.priority} · engine {j.engine}
        </p>
        {j.status_reason && <p class="error">{PAUSE_REASONS[j.status_reason] ?? 'The gateway paused this job.'}</p>}
        <p>
          <progress max={100} value={j.progress.percent}></progress> {j.progress.percent} %
          {j.progress.eta_seconds !== null && live ? ` · ETA ${j.progress.eta_seconds} s` : ''}
          {j.progress.pages_per_second !== null ? ` · ${j.progress.pages_per_second} pages/s` : ''}
        </p>
        <table>
          <tbody>
            <tr>
              <th>Pages</th>
              <td>
                {j.counts.total} total · {j.counts.done} done · {j.counts.failed} failed · {j.counts.retrying} retrying ·{' '}
                {j.counts.in_flight} in flight · {j.counts.pending} waiting{j.counts.cancelled ? ` · ${j.counts.cancelled} cancelled` : ''}
              </td>
            </tr>
            <tr>
              <th>Per page</th>
              <td>
                p50 {j.timing.p50_ms ?? '—'} ms · p95 {j.timing.p95_ms ?? '—'} ms
              </td>
            </tr>
            <tr>
              <th>Bytes</th>
              <td>{kb(j.bytes)}</td>
            </tr>
            <tr>
              <th>Created / started / finished (UTC)</th>
              <td>
                {j.created_at} / {j.started_at ?? '—'} / {j.finished_at ?? '—'}
              </td>
            </tr>
          </tbody>
        </table>
        {canWrite &&
          actions.map((a) => (
            <form method="post" action={`/dashboard/jobs/${j.job_id}/${a}`} class="inline">
              <Csrf token={csrf} />
              <button type="submit">{ACTIONS[a]}</button>
            </form>
          ))}
        <p>
          Export:{' '}
          {FORMATS.map((f, i) => (
            <>
              {i > 0 ? ' · ' : ''}
              <a href={`/dashboard/jobs/${j.job_id}/export?format=${f}`}>{f}</a>
            </>
          ))}{' '}
          (gzip: add <code>&amp;compression=gzip</code>)
        </p>
        {j.webhook && (
          <>
            <h2>Webhook</h2>
            <p>
              {j.webhook.url} · events: {j.webhook.events.join(', ')}
            </p>
            {j.webhook.deliveries.length === 0 ? (
              <p class="empty">No deliveries yet.</p>
            ) : (
              <table>
                <thead>
                  <tr>
                    <th>Time (UTC)</th>
                    <th>Event</th>
                    <th>Attempt</th>
                    <th>Outcome</th>
                  </tr>
                </thead>
                <tbody>
                  {j.webhook.deliveries.map((d) => (
                    <tr>
                      <td>{d.at}</td>
                      <td>{d.event}</td>
                      <td>{d.attempt}</td>
                      <td>{d.outcome}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </>
        )}
        <p>
          <a href="/dashboard/jobs">← All jobs</a>
        </p>
      </Page>,
    );
  });

  r.post('/dashboard/jobs/:id/:action', async (c) => {
    const g = await guardPost(c);
    if (!g.ok) return forbidden(c, null, '', g.reason);
    const { id, action } = c.req.param();
    const { me, csrf } = await whoAmI(c, g.session);
    if (!JOB_ID.test(id) || !(action in ACTIONS))
      return send(c, <Page title="Job" me={me} csrf={csrf} error="There is no such job or action." />, 404);
    const res = await g.session.api('POST', `/jobs/${id}/${action}`);
    if (res.status === 403) return forbidden(c, me, csrf, res.error ?? 'Forbidden');
    if (!res.ok)
      return send(
        c,
        <Page title="Job" me={me} csrf={csrf} error={res.error}>
          <p>
            <a href={`/dashboard/jobs/${id}`}>Back</a>
          </p>
        </Page>,
        422,
      );
    return c.redirect(`/dashboard/jobs/${id}?ok=${action}`, 303);
  });

  r.get('/dashboard/jobs/:id/export', async (c) => {
    const s = await DashSession.open(c);
    const id = c.req.param('id');
    const q = new URLSearchParams({ format: c.req.query('format') ?? 'json', compression: c.req.query('compression') ?? 'none' });
    const res = JOB_ID.test(id) ? await s.raw('GET', `/jobs/${id}/export?${q}`) : null;
    if (!res?.ok) {
      const { me, csrf } = await whoAmI(c, s);
      return send(
        c,
        <Page title="Export" me={me} csrf={csrf} error={res ? `The export failed (HTTP ${res.status}).` : 'There is no such job.'} />,
        res?.status === 403 ? 403 : 404,
      );
    }
    const headers = new Headers(res.headers);
    headers.set('Cache-Control', 'no-store');
    return new Response(res.body, { status: 200, headers });
  });

  r.get('/dashboard/usage', async (c) => {
    const s = await DashSession.open(c);
    const { me, csrf } = await whoAmI(c, s);
    const hours = /^\d{1,4}$/.test(c.req.query('hours') ?? '') ? c.req.query('hours')! : '24';
    const res = await s.api<UsageReport>('GET', `/usage?hours=${hours}`);
    if (res.status === 403) return forbidden(c, me, csrf, res.error ?? 'Forbidden');
    const u = res.ok ? res.body : null;
    return send(
      c,
      <Page title="Usage" me={me} csrf={csrf} error={res.error}>
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
      </Page>,
    );
  });
}
