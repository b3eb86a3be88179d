/**
 * The views of /dashboard/jobs (pages-jobs.tsx holds the routes): the submit form, the job list and
 * one job's detail (status, progress and ETA, timing, actions, exports, webhook log). Pure JSX.
 */
import type { JobSnapshot } from '../jobs/job-snapshot';
import { Csrf } from './layout';

export interface JobSummary {
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

export const FORMATS = ['json', 'ndjson', 'csv', 'xml', 'markdown', 'html'] as const;
export const ACTIONS = { pause: 'Pause', resume: 'Resume', cancel: 'Cancel' } as const;
export const PAUSE_REASONS: Record<string, string> = {
  principal_revoked:
    'Paused by the gateway: the API key that created this job was revoked, expired or deleted, or its user was deleted. It crawls nothing more.',
  principal_disabled:
    'Paused by the gateway: the API key or user that created this job is disabled. It can be resumed once they are enabled again.',
};
export const kb = (n: number) => (n >= 1_048_576 ? `${(n / 1_048_576).toFixed(1)} MB` : `${(n / 1024).toFixed(1)} KB`);

/** The form that submits a job (shown to holders of jobs:write). */
export function JobSubmitForm(props: { csrf: string }) {
  const { csrf } = props;
  return (
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
  );
}

/** The caller's jobs, newest first. */
export function JobTable(props: { jobs: JobSummary[] }) {
  const { jobs } = props;
  return (
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
  );
}

/** One job: status, progress, counts, timing, the actions the caller may take, exports and webhook deliveries. */
export function JobDetail(props: { j: JobSnapshot; csrf: string; canWrite: boolean; live: boolean; actions: (keyof typeof ACTIONS)[] }) {
  const { j, csrf, canWrite, live, actions } = props;
  return (
    <>
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
              {j.counts.total} total · {j.counts.done} done · {j.counts.failed} failed · {j.counts.retrying} retrying · {j.counts.in_flight}{' '}
              in flight · {j.counts.pending} waiting{j.counts.cancelled ? ` · ${j.counts.cancelled} cancelled` : ''}
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
    </>
  );
}
