import { describe, expect, it } from 'vitest';
import { pickNext, type Candidate } from '../../src/jobs/schedule';
import { computeProgress, quantile } from '../../src/jobs/progress';
import { sessionState } from '../../src/jobs/usage';
import { openSecret, sealSecret } from '../../src/webhooks/secret-box';

const c = (jobId: string, tenant: string, rank: number, seq: number, wakeAt = 0): Candidate => ({ jobId, tenant, rank, seq, wakeAt });
const none = { total: 0, byJob: new Map<string, number>(), byTenant: new Map<string, number>() };
const limits = { global: 4, perTenant: 2, perJob: 1 };

describe('scheduler choice', () => {
  it('takes the most urgent priority first, then the oldest', () => {
    const list = [c('low', 't1', 3, 1), c('normal-late', 't2', 2, 5), c('normal-early', 't3', 2, 2), c('urgent', 't4', 0, 9)];
    expect(pickNext(list, none, limits, 0)?.jobId).toBe('urgent');
    expect(pickNext(list.slice(0, 3), none, limits, 0)?.jobId).toBe('normal-early');
  });
  it('skips jobs and tenants at their limits, jobs not yet due, and everything when the global limit is reached', () => {
    const list = [c('a', 't1', 0, 1), c('b', 't1', 1, 2), c('d', 't2', 2, 3, 1000), c('e', 't3', 3, 4)];
    const busy = { total: 2, byJob: new Map([['a', 1]]), byTenant: new Map([['t1', 2]]) };
    expect(pickNext(list, busy, limits, 0)?.jobId).toBe('e'); // a at its job limit, b's tenant full, d not due
    expect(pickNext(list, busy, limits, 1000)?.jobId).toBe('d');
    expect(pickNext(list, { ...busy, total: 4 }, limits, 1000)).toBeNull();
  });
});

describe('progress and ETA', () => {
  it('uses the recent rate when there is one, else the overall rate', () => {
    expect(computeProgress({ total: 1000, done: 250, failed: 0, activeMs: 50_000, recentFinished: 300, windowMs: 30_000 })).toEqual({
      percent: 25,
      pages_per_second: 5,
      eta_seconds: 75,
    });
    expect(computeProgress({ total: 1000, done: 250, failed: 0, activeMs: 50_000, recentFinished: 0, windowMs: 30_000 }).eta_seconds).toBe(
      150,
    );
    expect(computeProgress({ total: 10, done: 0, failed: 0, activeMs: 0, recentFinished: 0, windowMs: 30_000 })).toEqual({
      percent: 0,
      pages_per_second: null,
      eta_seconds: null,
    });
    expect(computeProgress({ total: 0, done: 0, failed: 0, activeMs: 0, recentFinished: 0, windowMs: 30_000 }).percent).toBe(100);
  });
  it('computes nearest-rank quantiles', () => {
    expect(quantile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.5)).toBe(5);
    expect(quantile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.95)).toBe(10);
    expect(quantile([], 0.5)).toBeNull();
  });
});

describe('sessions and sealed webhook secrets', () => {
  it('derives a session lifecycle from its last activity', () => {
    expect(sessionState(0, 60_000)).toBe('active');
    expect(sessionState(0, 10 * 60_000)).toBe('idle');
    expect(sessionState(0, 31 * 60_000)).toBe('expired');
  });
  it('seals a secret for one job; another job, another key or a changed byte cannot open it', async () => {
    const master = 'master-secret-0123456789abcdef0123456789';
    const sealed = await sealSecret(master, 'job_a', 'whsec_very_secret_value_0123456789abcdef');
    expect(sealed).not.toContain('whsec');
    expect(await openSecret(master, 'job_a', sealed)).toBe('whsec_very_secret_value_0123456789abcdef');
    expect(await openSecret(master, 'job_b', sealed)).toBeNull();
    expect(await openSecret('another-master-0123456789abcdef01234567', 'job_a', sealed)).toBeNull();
    const bytes = atob(sealed);
    const flipped = btoa(bytes.slice(0, 20) + String.fromCharCode(bytes.charCodeAt(20) ^ 1) + bytes.slice(21));
    expect(await openSecret(master, 'job_a', flipped)).toBeNull();
  });
});

describe('retention', () => {
  it('purges finished jobs and stored exports past JOB_RETENTION_DAYS with their records and R2 objects, and keeps the rest', async () => {
    const { env } = await import('cloudflare:workers');
    const { purgeOldJobs } = await import('../../src/jobs/retention');
    const { loadConfig } = await import('../../src/config');
    const config = loadConfig(env);
    if (!config.ok) throw new Error('test config');
    const now = Date.now();
    const old = now - 8 * 86_400_000;
    const row = (id: string, finishedAt: number | null, status: string) =>
      env.DB.prepare(
        "INSERT INTO jobs (id, tenant, principal_id, status, priority, engine, total, created_at, updated_at, finished_at) VALUES (?, 'user:ret', 'usr_ret', ?, 'normal', 'fetch', 1, ?, ?, ?)",
      ).bind(id, status, old, old, finishedAt);
    const rec = (id: string) =>
      env.DB.prepare(
        "INSERT INTO job_results (job_id, idx, url, success, attempts, duration_ms, bytes, result, r2_key, completed_at) VALUES (?, 0, 'https://a.example/', 1, 1, 1, 1, NULL, ?, ?)",
      ).bind(id, `jobs/${id}/0.json`, old);
    await env.DB.batch([
      row('job_ret_old', old, 'completed'),
      rec('job_ret_old'),
      row('job_ret_new', now, 'completed'),
      rec('job_ret_new'),
      row('job_ret_running', null, 'running'),
    ]);
    await env.RESULTS.put('jobs/job_ret_old/0.json', '{}');
    const exp = (id: string, at: number) =>
      env.DB.prepare(
        "INSERT INTO exports (id, tenant, principal_id, job_id, format, compression, status, r2_key, created_at, updated_at) VALUES (?, 'user:ret', 'usr_ret', 'job_ret_old', 'json', 'none', 'completed', ?, ?, ?)",
      ).bind(id, `exports/${id}/${id}.json`, at, at);
    await env.DB.batch([exp('exp_ret_old', old), exp('exp_ret_new', now)]);
    await env.RESULTS.put('exports/exp_ret_old/exp_ret_old.json', '[]');
    await purgeOldJobs(env, config.config, now);
    expect(
      (await env.DB.prepare("SELECT id FROM exports WHERE id LIKE 'exp_ret_%'").all<{ id: string }>()).results.map((r) => r.id),
    ).toEqual(['exp_ret_new']);
    expect(await env.RESULTS.get('exports/exp_ret_old/exp_ret_old.json')).toBeNull();
    const ids = (await env.DB.prepare("SELECT id FROM jobs WHERE id LIKE 'job_ret_%' ORDER BY id").all<{ id: string }>()).results.map(
      (r) => r.id,
    );
    expect(ids).toEqual(['job_ret_new', 'job_ret_running']);
    expect(await env.DB.prepare("SELECT count(*) AS n FROM job_results WHERE job_id = 'job_ret_old'").first('n')).toBe(0);
    expect(await env.RESULTS.get('jobs/job_ret_old/0.json')).toBeNull();
  });
});
