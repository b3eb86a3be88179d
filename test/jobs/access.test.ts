import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { callAs, credentialFor, originSaw } from '../helpers/principal';
import { problem } from '../helpers/http';
import { DEV, finished, newRun, runUrls, siteUrl, submit, waitFor } from './helpers';

const alice = credentialFor({
  rateLimit: '200/second',
  id: 'usr_acc_alice',
  name: 'acc-alice',
  kind: 'user',
  permissions: ['crawl:run', 'jobs:read', 'jobs:write'],
});
const aliceKey = credentialFor({
  rateLimit: '200/second',
  id: 'key_acc_alice',
  kind: 'key',
  owner: 'usr_acc_alice',
  permissions: ['jobs:read'],
});
const bob = credentialFor({
  rateLimit: '200/second',
  id: 'usr_acc_bob',
  name: 'acc-bob',
  kind: 'user',
  permissions: ['crawl:run', 'jobs:read', 'jobs:write'],
});
const admin = credentialFor({
  rateLimit: '200/second',
  id: 'usr_acc_admin',
  name: 'acc-admin',
  kind: 'user',
  roles: ['admin'],
  permissions: ['crawl:run', 'jobs:read', 'jobs:write'],
});
const reader = credentialFor({
  rateLimit: '200/second',
  id: 'usr_acc_reader',
  name: 'acc-reader',
  kind: 'user',
  permissions: ['jobs:read'],
});
const noCrawl = credentialFor({
  rateLimit: '200/second',
  id: 'usr_acc_nocrawl',
  name: 'acc-nocrawl',
  kind: 'user',
  permissions: ['jobs:read', 'jobs:write'],
});

describe('ownership', () => {
  it("another tenant's job is a 404 everywhere, exactly like a missing one; keys act for their owner; admins see all", async () => {
    const id = await submit(alice, { urls: runUrls(newRun('own'), 3), engine: 'fetch' });
    await waitFor(alice, id, finished);
    const missing = 'job_000000000000000000000000';
    for (const [method, path] of [
      ['GET', `/jobs/${id}`],
      ['GET', `/jobs/${id}/results`],
      ['POST', `/jobs/${id}/cancel`],
      ['POST', `/jobs/${id}/pause`],
      ['GET', `/crawl/job/${id}`],
    ] as const) {
      const other = await callAs(bob, path, { method });
      const none = await callAs(bob, path.replace(id, missing), { method });
      expect(other.status, path).toBe(404);
      expect(none.status, path).toBe(404);
      expect((await problem(other)).detail).toBe((await problem(none)).detail);
    }
    expect((await callAs(aliceKey, `/jobs/${id}`)).status).toBe(200);
    expect((await callAs(admin, `/jobs/${id}`)).status).toBe(200);

    const mine = await (await callAs(alice, '/jobs')).json<{ jobs: { job_id: string }[] }>();
    expect(mine.jobs.map((j) => j.job_id)).toContain(id);
    const theirs = await (await callAs(bob, '/jobs')).json<{ jobs: { job_id: string }[] }>();
    expect(theirs.jobs.map((j) => j.job_id)).not.toContain(id);
    expect((await callAs(bob, '/jobs?all=true')).status).toBe(403);
    const all = await (await callAs(admin, '/jobs?all=true&limit=200')).json<{ jobs: { job_id: string }[] }>();
    expect(all.jobs.map((j) => j.job_id)).toContain(id);
  }, 30_000);

  it('pages GET /jobs with an opaque cursor; a forged cursor is a 422', async () => {
    for (let i = 0; i < 3; i++) await submit(bob, { urls: [siteUrl(`/p/${newRun('list')}/1`)], engine: 'fetch' });
    const first = await (await callAs(bob, '/jobs?limit=2')).json<{ jobs: { job_id: string }[]; next_cursor: string }>();
    expect(first.jobs).toHaveLength(2);
    const second = await (await callAs(bob, `/jobs?limit=2&cursor=${first.next_cursor}`)).json<{ jobs: { job_id: string }[] }>();
    expect(second.jobs.length).toBeGreaterThanOrEqual(1);
    expect(second.jobs.map((j) => j.job_id)).not.toContain(first.jobs[0]!.job_id);
    expect((await callAs(bob, '/jobs?cursor=bm9wZQ')).status).toBe(422);
  });
});

describe('submission rules', () => {
  it('needs jobs:write and crawl:run (403), code fields need crawl:js, a credential (401)', async () => {
    expect((await callAs(reader, '/jobs', { json: { urls: ['https://example.com/'] } })).status).toBe(403);
    expect((await callAs(noCrawl, '/jobs', { json: { urls: ['https://example.com/'] } })).status).toBe(403);
    const js = await callAs(alice, '/jobs', {
      json: { urls: ['https://example.com/'], crawler_config: { type: 'CrawlerRunConfig', params: { js_code: 'alert(1)' } } },
    });
    expect(js.status).toBe(403);
    expect((await problem(js)).code).toBe('insufficient_scope');
    expect((await callAs(null, '/jobs', { json: { urls: ['https://example.com/'] } })).status).toBe(401);
  });

  it('refuses bad input with 422 and writes nothing', async () => {
    const before = (await env.DB.prepare('SELECT count(*) AS n FROM jobs').first<{ n: number }>())!.n;
    const cases: [unknown, string, Record<string, string>?][] = [
      [{ urls: [] }, 'validation_failed'],
      [{ urls: ['https://example.com/'], priority: 'asap' }, 'validation_failed'],
      [{ urls: ['http://127.0.0.1/admin'] }, 'url_not_allowed'],
      [{ urls: ['https://example.com/', 'http://169.254.169.254/latest/meta-data/'] }, 'url_not_allowed'],
      [{ urls: ['https://example.com/'], webhook: { url: 'https://hooks.example.com/x', secret: 'short' } }, 'validation_failed'],
      [{ urls: Array.from({ length: 6 }, (_, i) => `https://example.com/${i}`) }, 'too_many_urls', { JOB_MAX_URLS: '5' }],
    ];
    for (const [json, code, vars] of cases) {
      const res = await callAs(alice, '/jobs', { json, vars });
      expect(res.status, JSON.stringify(json).slice(0, 80)).toBe(422);
      expect((await problem(res)).code).toBe(code);
    }
    expect((await env.DB.prepare('SELECT count(*) AS n FROM jobs').first<{ n: number }>())!.n).toBe(before);
  });
});

describe('engines and the Crawl4AI task API', () => {
  it("runs on the origin crawler when ORIGIN_URL is set and no engine is named, with the owner's signed identity", async () => {
    const id = await submit(alice, { urls: ['https://example.com/origin-1', 'https://example.com/origin-2'] });
    const done = await waitFor(alice, id, finished);
    expect(done.engine).toBe('origin');
    expect(done.counts.done).toBe(2);
    const seen = await originSaw(`${id}/0/1`);
    expect(seen!.path).toBe('/crawl');
    expect(seen!.headers.authorization).toMatch(/^Bearer /);
    expect(seen!.headers['x-crawlgate-identity']).toBeTruthy();
    expect(JSON.parse(seen!.body)).toMatchObject({ urls: ['https://example.com/origin-1'] });
  }, 30_000);

  it('maps POST/GET /crawl/job onto jobs when there is no origin (Crawl4AI task shape)', async () => {
    const vars = { ...DEV, ORIGIN_URL: '' };
    const res = await callAs(alice, '/crawl/job', { json: { urls: runUrls(newRun('c4a'), 3) }, vars });
    expect(res.status).toBe(202);
    const { task_id } = await res.json<{ task_id: string }>();
    expect(task_id).toMatch(/^job_/);
    await waitFor(alice, task_id, finished);
    const task = await (await callAs(alice, `/crawl/job/${task_id}`, { vars })).json<{
      status: string;
      result: { success: boolean; results: { url: string; markdown: { raw_markdown: string } }[] };
    }>();
    expect(task.status).toBe('completed');
    expect(task.result.success).toBe(true);
    expect(task.result.results).toHaveLength(3);
    expect(task.result.results[1]!.markdown.raw_markdown).toContain('Article 1');
  }, 30_000);
});

describe('usage', () => {
  it('counts pages, errors and bytes per principal and per crawler session; only the owner (and admins) see it', async () => {
    const session = `sess-${crypto.randomUUID().slice(0, 8)}`;
    const run = newRun('usage');
    const id = await submit(bob, {
      urls: [...runUrls(run, 4), siteUrl(`/flaky/${run}-x?fail=99&status=404`)],
      engine: 'fetch',
      crawler_config: { type: 'CrawlerRunConfig', params: { session_id: session } },
    });
    await waitFor(bob, id, finished);
    const usage = await (await callAs(bob, '/usage?hours=1')).json<{
      tenant: string;
      totals: { pages: number; errors: number; bytes: number };
      sessions: { session_id: string; state: string; pages: number; errors: number }[];
      principals: { principal_id: string }[];
    }>();
    expect(usage.tenant).toBe('usr_acc_bob');
    expect(usage.totals.pages).toBeGreaterThanOrEqual(5);
    expect(usage.totals.errors).toBeGreaterThanOrEqual(1);
    expect(usage.totals.bytes).toBeGreaterThan(0);
    expect(usage.sessions.find((s) => s.session_id === session)).toMatchObject({ state: 'active', pages: 5, errors: 1 });
    expect(usage.principals.map((p) => p.principal_id)).toEqual(['usr_acc_bob']);
    const aliceView = await (await callAs(alice, '/usage?hours=1')).json<{ sessions: { session_id: string }[] }>();
    expect(aliceView.sessions.map((s) => s.session_id)).not.toContain(session);
    expect((await callAs(alice, '/usage?all=true')).status).toBe(403);
    const adminView = await (await callAs(admin, '/usage?all=true&hours=1')).json<{ sessions: { session_id: string }[] }>();
    expect(adminView.sessions.map((s) => s.session_id)).toContain(session);
  }, 30_000);
});
