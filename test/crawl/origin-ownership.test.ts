/** Job ownership: a task belongs to the tenant that created it; everyone else gets 404. */
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { problem } from '../helpers/http';
import { callAs, credentialFor, newRequestId, originSaw } from '../helpers/principal';

const perms = ['crawl:run', 'jobs:write', 'jobs:read'] as const;
const alice = credentialFor({ id: 'usr_alice', name: 'alice', kind: 'user', permissions: [...perms] });
const aliceKey = credentialFor({ id: 'key_alice_ci', name: 'ci', kind: 'key', owner: 'usr_alice', permissions: [...perms] });
const bob = credentialFor({ id: 'usr_bob', name: 'bob', kind: 'user', permissions: [...perms] });
const reader = credentialFor({ id: 'usr_reader', name: 'reader', kind: 'user', permissions: ['jobs:read'] });

async function createJob(credential: string): Promise<string> {
  const res = await callAs(credential, '/crawl/job', { json: { urls: ['https://example.com/'] } });
  expect(res.status).toBe(202);
  const { task_id } = await res.json<{ task_id: string }>();
  expect(task_id).toMatch(/^crawl_/);
  return task_id;
}

describe('POST /crawl/job and GET /crawl/job/{task_id}', () => {
  it("records the task for its creator's tenant in D1", async () => {
    const id = await createJob(alice);
    const row = await (env as unknown as { DB: D1Database }).DB.prepare('SELECT tenant, principal_id FROM crawl_tasks WHERE task_id = ?')
      .bind(id)
      .first();
    expect(row).toEqual({ tenant: 'usr_alice', principal_id: 'usr_alice' });
  });

  it('lets the creator read the task (forwarded to the origin)', async () => {
    const id = await createJob(alice);
    const rid = newRequestId('jobget');
    const res = await callAs(alice, `/crawl/job/${id}`, { headers: { 'X-Request-Id': rid } });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ task_id: id, status: 'completed' });
    expect((await originSaw(rid))!.path).toBe(`/crawl/job/${id}`);
  });

  it('lets a key owned by the same user read it (same tenant)', async () => {
    const id = await createJob(alice);
    expect((await callAs(aliceKey, `/crawl/job/${id}`)).status).toBe(200);
  });

  it('answers 404 to another tenant, exactly like an unknown id, and never asks the origin', async () => {
    const id = await createJob(alice);
    const rid = newRequestId('jobother');
    const other = await callAs(bob, `/crawl/job/${id}`, { headers: { 'X-Request-Id': rid } });
    expect(other.status).toBe(404);
    const otherBody = await problem(other);
    expect(await originSaw(rid)).toBeNull();
    const unknown = await callAs(bob, '/crawl/job/crawl_000000000000');
    expect(unknown.status).toBe(404);
    expect((await problem(unknown)).detail).toBe(otherBody.detail);
  });

  it('needs jobs:write to create and jobs:read to read', async () => {
    const res = await callAs(reader, '/crawl/job', { json: { urls: ['https://example.com/'] } });
    expect(res.status).toBe(403);
    expect((await problem(res)).code).toBe('insufficient_scope');
  });

  it('refuses a malformed task id', async () => {
    // An encoded "/" is refused as an ambiguous path (400) before routing; other shapes get 404/422.
    const res = await callAs(alice, '/crawl/job/..%2F..%2Fadmin');
    expect([400, 404, 422]).toContain(res.status);
    const odd = await callAs(alice, '/crawl/job/not..a..job');
    expect([404, 422]).toContain(odd.status);
  });
});

describe('ownership retention (housekeeping cron)', () => {
  it('purges task and session rows past their retention and keeps fresh ones', async () => {
    const db = (env as unknown as { DB: D1Database }).DB;
    const { purgeOwnershipRows, TASK_RETENTION_MS } = await import('../../src/crawl/origin/ownership');
    const { HOUSEKEEPING_TASKS } = await import('../../src/housekeeping');
    expect(HOUSEKEEPING_TASKS).toHaveProperty('crawl_ownership_retention');
    const now = Date.now();
    await db
      .prepare("INSERT INTO crawl_tasks VALUES ('crawl_old_one', 'user:x', 'usr_x', ?1), ('crawl_new_one', 'user:x', 'usr_x', ?2)")
      .bind(now - TASK_RETENTION_MS - 1, now)
      .run();
    await purgeOwnershipRows(db, now);
    const rows = await db.prepare("SELECT task_id FROM crawl_tasks WHERE task_id IN ('crawl_old_one','crawl_new_one')").all();
    expect(rows.results).toEqual([{ task_id: 'crawl_new_one' }]);
  });
});
