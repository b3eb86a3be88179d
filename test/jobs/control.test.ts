import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { callAs, credentialFor } from '../helpers/principal';
import { problem } from '../helpers/http';
import { finished, hits, newRun, recordedRows, runUrls, sleep, status, submit, waitFor } from './helpers';

const alice = credentialFor({
  rateLimit: '200/second',
  id: 'usr_ctl_alice',
  name: 'ctl-alice',
  kind: 'user',
  permissions: ['crawl:run', 'jobs:read', 'jobs:write'],
});
const carol = credentialFor({
  rateLimit: '200/second',
  id: 'usr_ctl_carol',
  name: 'ctl-carol',
  kind: 'user',
  permissions: ['crawl:run', 'jobs:read', 'jobs:write'],
});

describe('priority', () => {
  it('an urgent job submitted behind a big low-priority one overtakes it', async () => {
    const lowRun = newRun('low');
    const low = await submit(alice, { urls: runUrls(lowRun, 300, 15), engine: 'fetch', priority: 'low' });
    await waitFor(alice, low, (s) => s.counts.done > 0);
    const urgent = await submit(carol, { urls: runUrls(newRun('urgent'), 20, 15), engine: 'fetch', priority: 'urgent' });
    const u = await waitFor(carol, urgent, finished, 60_000);
    const l = await status(alice, low);
    expect(u.status).toBe('completed');
    expect(u.counts.done).toBe(20);
    // The low job was still far from done when the urgent one finished (FIFO would finish it first).
    expect(l.status).toBe('running');
    expect(l.counts.done).toBeLessThan(200);
    const lDone = await waitFor(alice, low, finished, 90_000);
    expect(Date.parse(u.finished_at!)).toBeLessThan(Date.parse(lDone.finished_at!));
  }, 120_000);
});

describe('cancel, pause, resume', () => {
  it('pause stops new batches, resume finishes every page; transitions that make no sense are 409', async () => {
    const run = newRun('pause');
    const id = await submit(alice, { urls: runUrls(run, 200, 10), engine: 'fetch' });
    await waitFor(alice, id, (s) => s.counts.done >= 20);
    const paused = await callAs(alice, `/jobs/${id}/pause`, { method: 'POST' });
    expect(paused.status).toBe(200);
    expect((await paused.json<{ status: string }>()).status).toBe('paused');
    const drained = await waitFor(alice, id, (s) => s.counts.in_flight === 0);
    await sleep(600);
    const still = await status(alice, id);
    expect(still.status).toBe('paused');
    expect(still.counts.done).toBe(drained.counts.done);
    expect(still.counts.done).toBeLessThan(200);
    expect(still.progress.eta_seconds).toBeNull();
    expect((await problem(await callAs(alice, `/jobs/${id}/pause`, { method: 'POST' }))).status).toBe(409);

    expect((await callAs(alice, `/jobs/${id}/resume`, { method: 'POST' })).status).toBe(200);
    const done = await waitFor(alice, id, finished, 60_000);
    expect(done.status).toBe('completed');
    expect(done.counts.done).toBe(200);
    const rows = await recordedRows(id);
    expect(rows.map((r) => r.idx)).toEqual([...Array(200).keys()]);
    expect(Object.values(await hits(`/p/${run}/`)).every((n) => n === 1)).toBe(true);
    const again = await problem(await callAs(alice, `/jobs/${id}/resume`, { method: 'POST' }));
    expect(again.status).toBe(409);
    expect(again.code).toBe('conflict');
  }, 90_000);

  it('cancel drops the pending pages, keeps what finished, and stops for good', async () => {
    const id = await submit(alice, { urls: runUrls(newRun('cancel'), 300, 10), engine: 'fetch' });
    await waitFor(alice, id, (s) => s.counts.done >= 10);
    const res = await callAs(alice, `/jobs/${id}/cancel`, { method: 'POST' });
    expect(res.status).toBe(200);
    const snap = await res.json<{ status: string; counts: { cancelled: number } }>();
    expect(snap.status).toBe('cancelled');
    expect(snap.counts.cancelled).toBeGreaterThan(0);
    const settled = await waitFor(alice, id, (s) => s.counts.in_flight === 0);
    await sleep(500);
    const rows = await recordedRows(id);
    expect(rows.length).toBe(settled.counts.done + settled.counts.failed);
    expect(settled.counts.done + settled.counts.failed + settled.counts.cancelled).toBe(300);
    expect((await recordedRows(id)).length).toBe(rows.length);
    expect((await problem(await callAs(alice, `/jobs/${id}/cancel`, { method: 'POST' }))).status).toBe(409);
    const listed = await (await callAs(alice, '/jobs?status=cancelled')).json<{ jobs: { job_id: string }[] }>();
    expect(listed.jobs.map((j) => j.job_id)).toContain(id);
  }, 60_000);
});

describe('crash and resume', () => {
  it('a batch whose consumer died is re-run after its lease ends; nothing lost, nothing recorded twice', async () => {
    const run = newRun('lost');
    const id = await submit(alice, { urls: runUrls(run, 60), engine: 'fetch' });
    // Take a batch the way the scheduler does, and never run it: a consumer that died holding it.
    const stolen = await env.JOBS.get(env.JOBS.idFromName(id)).claim(10);
    expect(stolen.kind).toBe('batch');
    const done = await waitFor(alice, id, finished, 60_000);
    expect(done.status).toBe('completed');
    expect(done.counts.done).toBe(60);
    const rows = await recordedRows(id);
    expect(rows.map((r) => r.idx)).toEqual([...Array(60).keys()]);
    // A lost lease is not the page's fault: no attempt was counted against it.
    expect(rows.every((r) => r.attempts === 1)).toBe(true);
  }, 60_000);

  it('resumes from its checkpoint when its object and the scheduler are restarted mid-job', async () => {
    const run = newRun('crash');
    const id = await submit(alice, { urls: runUrls(run, 300, 5), engine: 'fetch' });
    await waitFor(alice, id, (s) => s.counts.done >= 40);
    const { runInDurableObject } = await import('cloudflare:test');
    for (const stub of [env.JOBS.get(env.JOBS.idFromName(id)), env.JOB_SCHEDULER.get(env.JOB_SCHEDULER.idFromName('global'))]) {
      await runInDurableObject(stub, (_instance, state) => {
        state.abort('test: simulated crash / redeploy');
      }).catch(() => undefined);
    }
    const done = await waitFor(alice, id, finished, 90_000);
    expect(done.status).toBe('completed');
    expect(done.counts).toMatchObject({ total: 300, done: 300, failed: 0 });
    const rows = await recordedRows(id);
    expect(rows.map((r) => r.idx)).toEqual([...Array(300).keys()]);
    expect(Object.keys(await hits(`/p/${run}/`))).toHaveLength(300);
  }, 120_000);
});
