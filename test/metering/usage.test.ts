/**
 * Usage of every crawl route (docs/metering.md): what a tenant did on the fetch engine, the browser
 * engine and the origin comes back from `GET /usage` per route and per engine, from the per-key and
 * per-user usage routes, and from the CSV / NDJSON export — the same numbers everywhere.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { env } from 'cloudflare:workers';
import { callAs, credentialFor } from '../helpers/principal';

const SITE = (env as unknown as { TEST_SITE_URL: string }).TEST_SITE_URL;
const COSTS = JSON.stringify({ fetch_page: 1, browser_page: 5, screenshot: 5, origin_page: 2 });
const EDGE = { vars: { ORIGIN_URL: '', ALLOW_PRIVATE_TARGETS: 'true', ENVIRONMENT: 'development', CREDIT_COSTS: COSTS } };
const ORIGIN = { vars: { CREDIT_COSTS: COSTS } };

const run = crypto.randomUUID().slice(0, 8);
const owner = `usr_meter_${run}`;
const keyId = `key_meter_${run}`;
const key = credentialFor({ id: keyId, owner, permissions: ['crawl:run', 'crawl:screenshot', 'jobs:read'], maxConcurrency: 20 });
const ownerCred = credentialFor({ id: owner, kind: 'user', roles: ['user'], permissions: ['keys:self', 'jobs:read'] });
const admin = credentialFor({
  id: `usr_meter_admin_${run}`,
  kind: 'user',
  roles: ['admin'],
  permissions: ['users:manage', 'keys:read', 'jobs:read'],
});

interface Sums {
  requests: number;
  pages: number;
  failed_pages: number;
  errors: number;
  bytes: number;
  browser_ms: number;
  origin_ms: number;
  credits: number;
}

beforeAll(async () => {
  // What the test does: 2 fetch pages + 1 failed (/crawl), 1 fetch page (/md), 1 screenshot (browser), 2 origin pages (/crawl).
  const edgeCrawl = await callAs(key, '/crawl', {
    ...EDGE,
    json: { urls: [`${SITE}/p/${run}/1`, `${SITE}/p/${run}/2`, `${SITE}/missing`] },
  });
  expect(edgeCrawl.status).toBe(200);
  await edgeCrawl.arrayBuffer();
  const md = await callAs(key, '/md', { ...EDGE, json: { url: `${SITE}/p/${run}/3` } });
  expect(md.status).toBe(200);
  await md.arrayBuffer();
  const shot = await callAs(key, '/screenshot', { ...EDGE, json: { url: `${SITE}/p/${run}/4` } });
  expect(shot.status).toBe(200);
  await shot.arrayBuffer();
  const origin = await callAs(key, '/crawl', { ...ORIGIN, json: { urls: ['https://example.com/one', 'https://example.com/two'] } });
  expect(origin.status).toBe(200);
  await origin.arrayBuffer();
  // A refused request (policy 422) is metered as an error with nothing charged.
  const refused = await callAs(key, '/md', { ...EDGE, json: { url: 'http://169.254.169.254/' } });
  expect(refused.status).toBe(422);
  await refused.arrayBuffer();
}, 120_000);

async function settled<T>(read: () => Promise<T>, done: (v: T) => boolean): Promise<T> {
  // The rollups are written off the request path (batched in waitUntil): read until they landed.
  for (let i = 0; i < 50; i++) {
    const v = await read();
    if (done(v)) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
  return read();
}

describe('GET /usage counts every crawl route', () => {
  it('totals per route and engine equal what the tenant did', async () => {
    const body = await settled(
      async () =>
        (await callAs(key, '/usage?hours=24')).json<{ by_route: Record<string, Sums>; by_engine: Record<string, Sums>; metered: Sums }>(),
      (b) => b.metered?.requests === 5,
    );
    expect(body.by_route.crawl).toMatchObject({ requests: 2, pages: 4, failed_pages: 1, errors: 0, credits: 2 + 4 });
    expect(body.by_route.md).toMatchObject({ requests: 2, pages: 1, errors: 1, credits: 1 });
    expect(body.by_route.screenshot).toMatchObject({ requests: 1, pages: 1, credits: 5 });
    expect(body.by_engine.fetch).toMatchObject({ requests: 3, pages: 3, failed_pages: 1, credits: 3, browser_ms: 0, origin_ms: 0 });
    expect(body.by_engine.browser).toMatchObject({ requests: 1, pages: 1, credits: 5 });
    expect(body.by_engine.browser!.browser_ms).toBeGreaterThan(0);
    expect(body.by_engine.origin).toMatchObject({ requests: 1, pages: 2, credits: 4, browser_ms: 0 });
    expect(body.metered).toMatchObject({ requests: 5, pages: 6, errors: 1, credits: 12 });
    expect(body.metered.bytes).toBeGreaterThan(0);
  });

  it('per key (owner through /keys) and per user (admin) show the same numbers', async () => {
    const own = await (await callAs(ownerCred, `/keys/${keyId}/usage?days=1`)).json<{ totals: Sums; by_engine: Record<string, Sums> }>();
    expect(own.totals).toMatchObject({ requests: 5, pages: 6, credits: 12 });
    const user = await (await callAs(admin, `/admin/users/${owner}/usage?days=1`)).json<{
      totals: Sums;
      daily: Array<{ pages: number; by_engine: Record<string, number> }>;
    }>();
    expect(user.totals).toMatchObject({ requests: 5, pages: 6, credits: 12 });
    expect(user.daily.at(-1)).toMatchObject({ pages: 6, by_engine: { fetch: 3, browser: 1, origin: 2 } });
    const other = credentialFor({ id: `usr_other_${run}`, kind: 'user', roles: ['user'], permissions: ['keys:self'] });
    expect((await callAs(other, `/keys/${keyId}/usage`)).status).toBe(404);
  });

  it('exports the rows as CSV and NDJSON', async () => {
    const csv = await callAs(key, '/usage/export?format=csv&days=1');
    expect(csv.status).toBe(200);
    expect(csv.headers.get('Content-Type')).toContain('text/csv');
    const lines = (await csv.text()).trim().split('\r\n');
    expect(lines[0]).toBe('day,tenant,key_id,user_id,route,engine,requests,pages,failed_pages,errors,bytes,browser_ms,origin_ms,credits');
    const pagesCol = lines[0]!.split(',').indexOf('pages');
    expect(lines.slice(1).reduce((n, l) => n + Number(l.split(',')[pagesCol]), 0)).toBe(6);
    const nd = await callAs(key, '/usage/export?format=ndjson&days=1');
    const rows = (await nd.text())
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { key_id: string; tenant: string; credits: number });
    expect(rows.every((r) => r.key_id === keyId && r.tenant === owner)).toBe(true);
    expect(rows.reduce((n, r) => n + r.credits, 0)).toBe(12);
  });
});
