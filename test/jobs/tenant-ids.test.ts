/**
 * Tenancy by immutable id (issue 17 "Stable tenant ids"): a deleted user's name, created again, is a
 * new tenant that sees nothing of the old account — through the whole app, real users, real tokens,
 * a real job crawled by the queue consumer, a real export in R2, real usage rows.
 */
import { describe, expect, it } from 'vitest';
import { env } from 'cloudflare:workers';
import { accessTokenFor, adminToken, bearer, uniqueName } from '../helpers/auth';
import { callWith, envWith } from '../helpers/app-env';
import { problem } from '../helpers/http';
import { newRun, runUrls } from './helpers';
import type { Role } from '../../src/auth/rbac';

/** Jobs crawl the loopback fixture site: private targets allowed for the requests that create them. */
const devEnv = envWith({ ALLOW_PRIVATE_TARGETS: 'true' });

function api(token: string, path: string, init: { method?: string; json?: unknown } = {}): Promise<Response> {
  const headers: Record<string, string> = bearer(token);
  if (init.json !== undefined) headers['Content-Type'] = 'application/json';
  return callWith(devEnv, path, {
    method: init.method ?? (init.json !== undefined ? 'POST' : 'GET'),
    headers,
    ...(init.json !== undefined ? { body: JSON.stringify(init.json) } : {}),
  });
}

async function until<T>(read: () => Promise<T>, ok: (v: T) => boolean, what: string, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  while (Date.now() < deadline) {
    last = await read();
    if (ok(last)) return last;
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`${what} did not happen; last: ${JSON.stringify(last)}`);
}

interface PublicUser {
  id: string;
  username: string;
  roles: Role[];
}

async function createUserViaApi(admin: string, username: string): Promise<PublicUser & { token: string }> {
  const res = await api(admin, '/admin/users', { json: { username, password: `pw-${crypto.randomUUID()}`, roles: ['user'] } });
  expect(res.status).toBe(201);
  const user = await res.json<PublicUser>();
  return { ...user, token: await accessTokenFor(user) };
}

describe('a re-created username is a new tenant', () => {
  it("sees none of the old account's jobs, results, exports, usage or keys", async () => {
    const { token: admin } = await adminToken();
    const name = uniqueName('again');
    const first = await createUserViaApi(admin, name);
    expect(first.id).toMatch(/^usr_[0-9a-f]{32}$/);

    // A key owned by the user: named by username, stored as the id, shown with the name as a label.
    const keyRes = await api(admin, '/admin/keys', { json: { name: 'ci', scopes: ['jobs:read'], owner: name } });
    expect(keyRes.status).toBe(201);
    const key = await keyRes.json<{ id: string; key: string; owner: string; owner_name: string }>();
    expect(key).toMatchObject({ owner: first.id, owner_name: name });

    // The first account crawls, exports and is metered.
    const submitted = await api(first.token, '/jobs', { json: { urls: runUrls(newRun('again'), 2), engine: 'fetch' } });
    expect(submitted.status).toBe(202);
    const { job_id: jobId } = await submitted.json<{ job_id: string }>();
    await until(
      () => api(first.token, `/jobs/${jobId}`).then((r) => r.json<{ status: string }>()),
      (s) => s.status === 'completed',
      'the job finishing',
    );
    const exp = await api(first.token, '/exports', { json: { job_id: jobId, format: 'json' } });
    expect(exp.status).toBe(202);
    const { export_id: exportId } = await exp.json<{ export_id: string }>();
    await until(
      () => api(first.token, `/exports/${exportId}`).then((r) => r.json<{ status: string }>()),
      (s) => s.status === 'completed',
      'the export finishing',
    );
    const firstUsage = await (await api(first.token, '/usage?hours=1')).json<{ tenant: string; totals: { pages: number } }>();
    expect(firstUsage).toMatchObject({ tenant: first.id, totals: { pages: 2 } });
    // The key acts for its owner's tenant.
    expect((await api(key.key, `/jobs/${jobId}`)).status).toBe(200);
    const rows = await env.DB.prepare('SELECT tenant FROM jobs WHERE id = ?1 UNION ALL SELECT tenant FROM exports WHERE id = ?2')
      .bind(jobId, exportId)
      .all<{ tenant: string }>();
    expect(rows.results.map((r) => r.tenant)).toEqual([first.id, first.id]);

    // Delete the user and create the same name again.
    expect((await api(admin, `/admin/users/${name}`, { method: 'DELETE' })).status).toBe(204);
    const second = await createUserViaApi(admin, name);
    expect(second.username).toBe(name);
    expect(second.id).not.toBe(first.id);

    const listed = await (await api(second.token, '/jobs')).json<{ jobs: unknown[] }>();
    expect(listed.jobs).toEqual([]);
    const missingJob = 'job_000000000000000000000000';
    for (const path of [
      `/jobs/${jobId}`,
      `/jobs/${jobId}/results`,
      `/jobs/${jobId}/export?format=json`,
      `/exports/${exportId}`,
      `/exports/${exportId}/download`,
    ]) {
      const res = await api(second.token, path);
      expect(res.status, path).toBe(404);
      expect((await problem(res)).code, path).toBe('not_found');
    }
    expect((await api(second.token, `/jobs/${missingJob}`)).status).toBe(404);
    expect((await api(second.token, `/jobs/${jobId}/cancel`, { method: 'POST' })).status).toBe(404);
    expect((await api(second.token, '/exports', { json: { job_id: jobId, format: 'json' } })).status).toBe(404);
    const usage = await (await api(second.token, '/usage?hours=1')).json<{
      tenant: string;
      totals: { pages: number };
      principals: unknown[];
    }>();
    expect(usage).toMatchObject({ tenant: second.id, totals: { pages: 0 }, principals: [] });

    // The old key still names the old id (its owner label is gone); it is not the new user's key.
    const keyView = await (await api(admin, `/admin/keys/${key.id}`)).json<{ owner: string; owner_name: string | null }>();
    expect(keyView).toEqual(expect.objectContaining({ owner: first.id, owner_name: null }));
    const byName = await (await api(admin, `/admin/keys?owner=${name}`)).json<{ keys: { id: string }[] }>();
    expect(byName.keys).toEqual([]);
    const byOldId = await (await api(admin, `/admin/keys?owner=${first.id}`)).json<{ keys: { id: string }[] }>();
    expect(byOldId.keys.map((k) => k.id)).toEqual([key.id]);
  }, 60_000);
});

describe('POST /admin/keys owner', () => {
  it('refuses an owner that is not a user with 422 and stores nothing', async () => {
    const { token: admin } = await adminToken();
    const before = (await env.DB.prepare('SELECT count(*) AS n FROM api_keys').first<{ n: number }>())!.n;
    for (const owner of [uniqueName('nobody'), 'usr_00000000000000000000000000000000']) {
      const res = await api(admin, '/admin/keys', { json: { name: 'x', scopes: ['crawl:run'], owner } });
      expect(res.status, owner).toBe(422);
      const p = await problem(res);
      expect(p).toMatchObject({ code: 'validation_failed', errors: [{ path: 'owner', message: 'no such user' }] });
    }
    expect((await env.DB.prepare('SELECT count(*) AS n FROM api_keys').first<{ n: number }>())!.n).toBe(before);
  });

  it('accepts a user id as the owner too', async () => {
    const { token: admin } = await adminToken();
    const u = await createUserViaApi(admin, uniqueName('byid'));
    const res = await api(admin, '/admin/keys', { json: { name: 'x', scopes: ['crawl:run'], owner: u.id } });
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({ owner: u.id, owner_name: u.username });
  });
});
