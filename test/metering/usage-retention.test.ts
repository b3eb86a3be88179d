/**
 * The cron's retention of usage rollups (USAGE_RETENTION_DAYS) and artifact ownership rows: old
 * whole days go, the kept window stays, and both tasks are on the cron's explicit list.
 */
import { describe, expect, it } from 'vitest';
import { env } from 'cloudflare:workers';
import type { Env } from '../../src/env';
import { HOUSEKEEPING_TASKS, runHousekeeping } from '../../src/housekeeping';

const e = env as unknown as Env;
const DAY = 86_400_000;

async function addRollup(day: number, tenant: string): Promise<void> {
  await e.DB.prepare(
    "INSERT INTO usage_rollups (day, tenant, key_id, user_id, route, engine, requests, credits) VALUES (?1, ?2, '', '', 'crawl', 'origin', 3, 3)",
  )
    .bind(day, tenant)
    .run();
}

const daysOf = async (tenant: string) =>
  (await e.DB.prepare('SELECT day FROM usage_rollups WHERE tenant = ?1 ORDER BY day').bind(tenant).all<{ day: number }>()).results.map(
    (r) => r.day,
  );

describe('housekeeping: usage and artifact retention', () => {
  it('deletes usage days wholly older than USAGE_RETENTION_DAYS (400 by default) and keeps the rest', async () => {
    const now = Date.UTC(2026, 10, 30, 12);
    const today = Date.UTC(2026, 10, 30);
    const tenant = `usr_retention_${crypto.randomUUID().slice(0, 8)}`;
    const kept = [today, today - 399 * DAY, today - 400 * DAY];
    const gone = [today - 401 * DAY, today - 800 * DAY];
    for (const d of [...kept, ...gone]) await addRollup(d, tenant);
    const out = await runHousekeeping(e, now);
    expect(JSON.parse(out.usage_retention ?? '{}').usage_rows).toBeGreaterThanOrEqual(2);
    expect(await daysOf(tenant)).toEqual([...kept].sort((a, b) => a - b));
  });

  it('purges artifact ownership rows after 7 days, from the explicit task list', async () => {
    expect(Object.keys(HOUSEKEEPING_TASKS)).toEqual(expect.arrayContaining(['crawl_artifact_retention', 'usage_retention']));
    const now = Date.now();
    const old = crypto.randomUUID().replaceAll('-', '');
    const fresh = crypto.randomUUID().replaceAll('-', '');
    const insert = e.DB.prepare('INSERT INTO crawl_artifacts (artifact_id, tenant, principal_id, created_at) VALUES (?1, ?2, ?3, ?4)');
    await e.DB.batch([insert.bind(old, 'usr_a', 'key_a', now - 8 * DAY), insert.bind(fresh, 'usr_a', 'key_a', now - DAY)]);
    await HOUSEKEEPING_TASKS.crawl_artifact_retention!(e, {} as never, now);
    const { results } = await e.DB.prepare('SELECT artifact_id FROM crawl_artifacts WHERE artifact_id IN (?1, ?2)').bind(old, fresh).all();
    expect(results).toEqual([{ artifact_id: fresh }]);
  });
});
