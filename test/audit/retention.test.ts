import { describe, expect, it } from 'vitest';
import { createExecutionContext, createScheduledController, waitOnExecutionContext } from 'cloudflare:test';
import worker from '../../src/index';
import { runHousekeeping } from '../../src/housekeeping';
import { pruneAuditEvents, retentionCutoff } from '../../src/audit/retention';
import { shardName, shardOf, streamBase } from '../../src/audit/shards';
import { auditTestApp, callApp, makeEvent, seedEvents, testEnv, userPrincipal } from '../helpers/audit';

const DAY = 86_400_000;
const app = auditTestApp({ 'admin-cred': userPrincipal('retention-admin', ['admin']) });

async function count(where = '1=1', ...params: unknown[]): Promise<number> {
  return (
    (
      await testEnv.DB.prepare(`SELECT COUNT(*) AS n FROM audit_events WHERE ${where}`)
        .bind(...params)
        .first<{ n: number }>()
    )?.n ?? -1
  );
}

async function verifyOk() {
  const { text } = await callApp(app, '/admin/audit/verify', { credential: 'admin-cred' });
  return JSON.parse(text) as { ok: boolean; shards: Array<{ d1: { start: number } }>; broken: unknown };
}

describe('audit retention (cron housekeeping)', () => {
  it('the scheduled handler deletes rows older than AUDIT_RETENTION_DAYS and verify still holds', async () => {
    const now = Date.now();
    // This file's chain starts here: the oldest rows are the expired ones.
    expect(await count()).toBe(0);
    await seedEvents([
      ...Array.from({ length: 5 }, (_, i) => makeEvent({ ts: now - 120 * DAY + i, actor_id: 'usr_old' })),
      ...Array.from({ length: 3 }, (_, i) => makeEvent({ ts: now - 10 * DAY + i, actor_id: 'usr_recent' })),
    ]);
    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ scheduledTime: now, cron: '17 * * * *' }), testEnv, ctx);
    await waitOnExecutionContext(ctx);
    expect(await count('actor_id = ?', 'usr_old')).toBe(0);
    expect(await count('actor_id = ?', 'usr_recent')).toBe(3);
    // The five old rows are the first five of usr_old's shard (ids encode shard and position).
    const shard = shardOf('usr_old', 4);
    const base = streamBase(shard, 'd1');
    const cp = await testEnv.DB.prepare('SELECT seq, hash, pruned_at FROM audit_checkpoints WHERE chain = ?')
      .bind(shardName(shard))
      .first<{ seq: number; hash: string; pruned_at: number }>();
    expect(cp).toMatchObject({ seq: base + 5, pruned_at: now });
    const report = await verifyOk();
    expect(report.broken).toBeNull();
    expect(report.shards[shard]?.d1.start).toBe(base + 5);
  });

  it('honours the configured period and works in bounded batches', async () => {
    const now = Date.now() + 30 * DAY;
    // With AUDIT_RETENTION_DAYS=15 at now+30d, the three 10-day-old rows (and the verify row) expire.
    const out = await runHousekeeping({ ...testEnv, AUDIT_RETENTION_DAYS: '15' }, now);
    expect(JSON.parse(out.audit_retention as string)).toMatchObject({ more: false });
    expect(await count('actor_id = ?', 'usr_recent')).toBe(0);
    expect((await verifyOk()).ok).toBe(true);

    await seedEvents(Array.from({ length: 7 }, (_, i) => makeEvent({ ts: now - 20 * DAY + i, actor_id: 'usr_batch' })));
    const first = await pruneAuditEvents(testEnv, retentionCutoff(now, 15), now, { batchRows: 2, maxBatches: 2 });
    expect(first).toMatchObject({ batches: 2, more: true });
    expect(await count('actor_id = ?', 'usr_batch')).toBeGreaterThan(0);
    const rest = await pruneAuditEvents(testEnv, retentionCutoff(now, 15), now, { batchRows: 2, maxBatches: 10 });
    expect(rest.more).toBe(false);
    expect(await count('actor_id = ?', 'usr_batch')).toBe(0);
    expect((await verifyOk()).ok).toBe(true);
  });

  it('never deletes past a row that is still inside the period (only a prefix of the chain goes)', async () => {
    const now = Date.now();
    // Both in one chain: an actor id whose shard is usr_backdated's.
    const fresh = Array.from({ length: 64 }, (_, i) => `usr_fresh_${i}`).find(
      (id) => shardOf(id, 4) === shardOf('usr_backdated', 4),
    ) as string;
    await seedEvents([makeEvent({ ts: now, actor_id: fresh }), makeEvent({ ts: now - 400 * DAY, actor_id: 'usr_backdated' })]);
    const result = await pruneAuditEvents(testEnv, retentionCutoff(now, 90), now);
    expect(result.deleted).toBe(0);
    expect(await count('actor_id = ?', 'usr_backdated')).toBe(1);
  });
});
