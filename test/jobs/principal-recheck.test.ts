/**
 * A job re-checks the key or user that created it before each batch (src/jobs/principal-check.ts):
 * revoked / deleted / expired → paused `principal_revoked`, disabled → paused `principal_disabled`,
 * nothing more is crawled, and no one resumes it while that holds. Real keys and users (admin API),
 * real tokens, the real queue consumer and the fixture site counting every page it serves.
 */
import { describe, expect, it } from 'vitest';
import { env } from 'cloudflare:workers';
import { accessTokenFor, adminToken, bearer, createUser } from '../helpers/auth';
import { callWith, envWith } from '../helpers/app-env';
import { problem } from '../helpers/http';
import { hits, newRun, runUrls } from './helpers';
import type { JobSnapshot } from '../../src/jobs/job-snapshot';

const devEnv = envWith({ ALLOW_PRIVATE_TARGETS: 'true' });
const JOB_PERMS = ['crawl:run', 'jobs:write', 'jobs:read'];

function api(token: string, path: string, init: { method?: string; json?: unknown } = {}): Promise<Response> {
  const headers: Record<string, string> = bearer(token);
  if (init.json !== undefined) headers['Content-Type'] = 'application/json';
  return callWith(devEnv, path, {
    method: init.method ?? (init.json !== undefined ? 'POST' : 'GET'),
    headers,
    ...(init.json !== undefined ? { body: JSON.stringify(init.json) } : {}),
  });
}

async function snapshot(token: string, id: string): Promise<JobSnapshot> {
  const res = await api(token, `/jobs/${id}`);
  expect(res.status).toBe(200);
  return res.json<JobSnapshot>();
}

async function waitFor(token: string, id: string, ok: (s: JobSnapshot) => boolean, timeoutMs = 60_000): Promise<JobSnapshot> {
  const deadline = Date.now() + timeoutMs;
  let last: JobSnapshot | null = null;
  while (Date.now() < deadline) {
    last = await snapshot(token, id);
    if (ok(last)) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`job ${id} did not get there; last: ${JSON.stringify(last)}`);
}

async function submit(token: string, urls: string[]): Promise<string> {
  const res = await api(token, '/jobs', { json: { urls, engine: 'fetch' } });
  expect(res.status).toBe(202);
  return (await res.json<{ job_id: string }>()).job_id;
}

async function newJobKey(admin: string, extra: Record<string, unknown> = {}): Promise<{ id: string; key: string }> {
  const res = await api(admin, '/admin/keys', { json: { name: 'job runner', scopes: JOB_PERMS, rate_limit: '100/second', ...extra } });
  expect(res.status).toBe(201);
  return res.json();
}

/** Pages the fixture site served for a run (each page at most once: no retries here). */
async function served(run: string): Promise<number> {
  return Object.values(await hits(`/p/${run}/`)).reduce((a, b) => a + b, 0);
}

const settled = (s: JobSnapshot) => s.status === 'paused' && s.counts.in_flight === 0;

describe('a running job whose principal may no longer act', () => {
  it('pauses with principal_revoked when its key is revoked, crawls nothing more, and nobody resumes it', async () => {
    const { token: admin } = await adminToken();
    const key = await newJobKey(admin);
    const run = newRun('revoked');
    // 60 slow pages: 6 batches of 10, at most 3 at once — the revocation lands while batches remain.
    const id = await submit(key.key, runUrls(run, 60, 800));
    await waitFor(key.key, id, (s) => s.status === 'running');
    expect((await api(admin, `/admin/keys/${key.id}`, { method: 'DELETE' })).status).toBe(200);

    const paused = await waitFor(admin, id, settled);
    expect(paused.status_reason).toBe('principal_revoked');
    expect(paused.counts.pending).toBeGreaterThan(0);
    // Every page the site served is a recorded page: no batch ran after the check refused.
    const recorded = paused.counts.done + paused.counts.failed;
    expect(await served(run)).toBe(recorded);
    const rows = await env.DB.prepare('SELECT count(*) AS n FROM job_results WHERE job_id = ?').bind(id).first<{ n: number }>();
    expect(rows!.n).toBe(recorded);
    const listed = await (await api(admin, '/jobs?all=true&limit=200')).json<{
      jobs: { job_id: string; status: string; status_reason: string | null }[];
    }>();
    expect(listed.jobs.find((j) => j.job_id === id)).toMatchObject({ status: 'paused', status_reason: 'principal_revoked' });

    // Not even an admin resumes it.
    const resume = await api(admin, `/jobs/${id}/resume`, { method: 'POST' });
    expect(resume.status).toBe(409);
    expect(await problem(resume)).toMatchObject({ code: 'conflict', reason: 'principal_revoked' });
    const after = await snapshot(admin, id);
    expect(after).toMatchObject({ status: 'paused', status_reason: 'principal_revoked' });
    expect(after.counts.done + after.counts.failed).toBe(recorded);
    expect(await served(run)).toBe(recorded);
  }, 90_000);

  // A user disabled, or demoted to viewer (jobs:read and audit:read only: neither jobs:write nor crawl:run);
  // the job of a key that user owns pauses with the demotion too (docs/api-keys.md "Owners").
  it.each([
    ['user is disabled', 'once re-enabled', { disabled: true }, { disabled: false }, 'user'],
    ['user loses the roles that granted what the job used', 'once they are back', { roles: ['viewer'] }, { roles: ['user'] }, 'user'],
    ["key's owner loses the roles that granted what the job used", 'once they are back', { roles: ['viewer'] }, { roles: ['user'] }, 'key'],
  ] as const)(
    'pauses with principal_disabled when its %s; resumes and finishes %s',
    async (_what, _back, change, restore, by) => {
      const { token: admin } = await adminToken();
      const user = await createUser({ roles: ['user'] });
      const token = by === 'user' ? await accessTokenFor(user) : (await newJobKey(admin, { owner: user.id })).key;
      const run = newRun('disabled');
      const id = await submit(token, runUrls(run, 60, 800));
      await waitFor(token, id, (s) => s.status === 'running');
      expect((await api(admin, `/admin/users/${user.username}`, { method: 'PATCH', json: change })).status).toBe(200);

      const paused = await waitFor(admin, id, settled);
      expect(paused.status_reason).toBe('principal_disabled');
      expect(paused.counts.pending).toBeGreaterThan(0);
      expect(await served(run)).toBe(paused.counts.done + paused.counts.failed);
      const refused = await api(admin, `/jobs/${id}/resume`, { method: 'POST' });
      expect(refused.status).toBe(409);
      expect((await problem(refused)).reason).toBe('principal_disabled');

      expect((await api(admin, `/admin/users/${user.username}`, { method: 'PATCH', json: restore })).status).toBe(200);
      const resumed = await api(admin, `/jobs/${id}/resume`, { method: 'POST' });
      expect(resumed.status).toBe(200);
      expect(await resumed.json()).toMatchObject({ status: 'running', status_reason: null });
      const done = await waitFor(admin, id, (s) => s.status === 'completed');
      expect(done.counts.done).toBe(60);
      expect(await served(run)).toBe(60);
    },
    120_000,
  );
});

describe('resuming re-checks the principal', () => {
  /** A job its owner paused (polled as the admin: a plain user's role limit is low). */
  async function pausedJob(token: string, admin: string): Promise<string> {
    const id = await submit(token, runUrls(newRun('resume'), 60, 300)); // more than one wave of batches (3 × 10)
    expect((await api(token, `/jobs/${id}/pause`, { method: 'POST' })).status).toBe(200);
    await waitFor(admin, id, settled, 30_000);
    return id;
  }

  async function expectResumeRefused(admin: string, id: string, reason: string): Promise<void> {
    const res = await api(admin, `/jobs/${id}/resume`, { method: 'POST' });
    expect(res.status).toBe(409);
    expect((await problem(res)).reason).toBe(reason);
    expect(await snapshot(admin, id)).toMatchObject({ status: 'paused', status_reason: reason });
    const row = await env.DB.prepare('SELECT status, status_reason FROM jobs WHERE id = ?').bind(id).first();
    expect(row).toEqual({ status: 'paused', status_reason: reason });
  }

  it('refuses for a disabled key (principal_disabled), a deleted user and an expired key (principal_revoked)', async () => {
    const { token: admin } = await adminToken();

    const disabledKey = await newJobKey(admin);
    const j1 = await pausedJob(disabledKey.key, admin);
    expect((await snapshot(admin, j1)).status_reason).toBeNull(); // a pause the owner asked for has no reason
    expect((await api(admin, `/admin/keys/${disabledKey.id}`, { method: 'PATCH', json: { disabled: true } })).status).toBe(200);
    await expectResumeRefused(admin, j1, 'principal_disabled');

    const user = await createUser({ roles: ['user'] });
    const j2 = await pausedJob(await accessTokenFor(user), admin);
    expect((await api(admin, `/admin/users/${user.username}`, { method: 'DELETE' })).status).toBe(204);
    await expectResumeRefused(admin, j2, 'principal_revoked');

    const expiring = await newJobKey(admin, { expires_at: new Date(Date.now() + 2500).toISOString() });
    const j3 = await pausedJob(expiring.key, admin);
    while (Date.now() < Date.parse((await (await api(admin, `/admin/keys/${expiring.id}`)).json<{ expires_at: string }>()).expires_at))
      await new Promise((r) => setTimeout(r, 200));
    await expectResumeRefused(admin, j3, 'principal_revoked');
  }, 90_000);

  it("follows a key's rotation: the job of a rotated key resumes on its live successor; a disabled owner stops it", async () => {
    const { token: admin } = await adminToken();
    const owner = await createUser({ roles: ['user'] });
    const key = await newJobKey(admin, { owner: owner.username });
    const id = await pausedJob(key.key, admin);
    const rotated = await api(admin, `/admin/keys/${key.id}/rotate`, { json: { grace_seconds: 0 } });
    expect(rotated.status).toBe(201);
    expect((await api(admin, `/admin/users/${owner.username}`, { method: 'PATCH', json: { disabled: true } })).status).toBe(200);
    await expectResumeRefused(admin, id, 'principal_disabled');

    expect((await api(admin, `/admin/users/${owner.username}`, { method: 'PATCH', json: { disabled: false } })).status).toBe(200);
    const resumed = await api(admin, `/jobs/${id}/resume`, { method: 'POST' });
    expect(resumed.status).toBe(200);
    expect(await resumed.json()).toMatchObject({ status: 'running', status_reason: null });
    expect((await waitFor(admin, id, (s) => s.status === 'completed')).counts.done).toBe(60);
  }, 90_000);
});
