/**
 * /dashboard/jobs and /dashboard/usage (jobs:read / jobs:write via the API): submit a job, watch
 * its progress and ETA (the page reloads itself every 3 s while the job runs — a meta refresh, so
 * no script is needed under the strict CSP), pause/resume/cancel, download exports, and read usage
 * per hour, principal and crawler session. The routes live here; the views in job-views.tsx and usage-view.tsx.
 */
import type { Hono } from 'hono';
import type { AppEnv } from '../env';
import type { JobSnapshot } from '../jobs/job-snapshot';
import { JOB_ID } from '../jobs/job-index';
import type { UsageReport } from '../jobs/usage';
import { Page } from './layout';
import { flashOf, forbidden, send, whoAmI } from './render';
import { guardPost } from './guard';
import { DashSession } from './session';
import { ACTIONS, JobDetail, JobSubmitForm, JobTable, type JobSummary } from './job-views';
import { UsageView } from './usage-view';

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
        {canWrite && <JobSubmitForm csrf={csrf} />}
        {jobs.length === 0 ? <p class="empty">No jobs yet.</p> : <JobTable jobs={jobs} />}
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
        <JobDetail j={j} csrf={csrf} canWrite={canWrite} live={live} actions={actions} />
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
        <UsageView hours={hours} u={u} />
      </Page>,
    );
  });
}
