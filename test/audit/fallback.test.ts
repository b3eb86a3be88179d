import { describe, expect, it } from 'vitest';
import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { AuditChain, retryDelayMs } from '../../src/audit/audit-chain';
import { reportAuditWriteFailure } from '../../src/audit/audit-log-do';
import { auditLogStub } from '../../src/audit/writer';
import { flushMetrics } from '../../src/metrics/recorder';
import { auditTestApp, callApp, makeEvent, rowsFor, testEnv, userPrincipal } from '../helpers/audit';

/** The real local D1, except that its first `failures` batch calls throw like an unavailable D1. */
function flakyD1(real: D1Database, failures: number): D1Database & { calls: number } {
  const wrapper = {
    calls: 0,
    prepare: (sql: string) => real.prepare(sql),
    batch: async <T>(stmts: D1PreparedStatement[]) => {
      wrapper.calls++;
      if (wrapper.calls <= failures) throw new Error('D1_ERROR: Network connection lost.');
      return real.batch<T>(stmts);
    },
  };
  return wrapper as unknown as D1Database & { calls: number };
}

async function failureCount(): Promise<number> {
  await flushMetrics(testEnv, true);
  const series = await testEnv.METRICS.get(testEnv.METRICS.idFromName('global')).snapshot();
  return series.crawlgate_audit_write_failures_total ?? 0;
}

describe('audit delivery when D1 fails', () => {
  it('buffers rows in the AuditLog object, counts the failure, backs off, and delivers them from the alarm', async () => {
    const stub = auditLogStub(testEnv);
    const events = [makeEvent({ action: 'key_revoked' }), makeEvent({ action: 'rate_limited', outcome: 'denied' })];
    const failuresBefore = await failureCount();

    const phase1 = await runInDurableObject(stub, async (_instance, state) => {
      const db = flakyD1(testEnv.DB, 2);
      const chain = new AuditChain(state.storage, db, { onWriteFailure: reportAuditWriteFailure(testEnv) });
      const rows = chain.append(events);
      const first = await chain.flush();
      const alarm1 = await state.storage.getAlarm();
      const t1 = Date.now();
      const second = await chain.flush(); // still failing: the backoff doubles
      const alarm2 = await state.storage.getAlarm();
      return { rows, first, second, alarm1, alarm2, t1, head: chain.head(), calls: db.calls };
    });
    expect(phase1.first).toMatchObject({ ok: false, pending: 2 });
    expect(phase1.second).toMatchObject({ ok: false, pending: 2 });
    expect(phase1.head).toMatchObject({ pending: 2, failures: 2 });
    expect(phase1.alarm1).not.toBeNull();
    expect(phase1.alarm2 as number).toBeGreaterThanOrEqual(phase1.t1 + retryDelayMs(2));
    expect(retryDelayMs(2)).toBe(2 * retryDelayMs(1));
    for (const e of events) expect(await rowsFor(e.request_id)).toHaveLength(0);
    expect(await failureCount()).toBe(failuresBefore + 2);

    // The real object's alarm retries against the real D1: the rows arrive, in chain order.
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const stored = [...(await rowsFor(events[0]!.request_id)), ...(await rowsFor(events[1]!.request_id))];
    expect(stored.map((r) => r.action)).toEqual(['key_revoked', 'rate_limited']);
    expect(stored.map((r) => r.hash)).toEqual(phase1.rows.map((r) => r.hash));
    expect(await stub.head()).toMatchObject({ pending: 0, failures: 0, flushed_seq: phase1.rows[1]!.id });

    const admin = auditTestApp({ a: userPrincipal('fallback-admin', ['admin']) });
    const { text } = await callApp(admin, '/admin/audit/verify', { credential: 'a' });
    expect(JSON.parse(text)).toMatchObject({ ok: true });
  });

  it('keeps new events in the buffer while backing off instead of hammering D1', async () => {
    const stub = auditLogStub(testEnv);
    await runInDurableObject(stub, async (_instance, state) => {
      const chain = new AuditChain(state.storage, flakyD1(testEnv.DB, 1));
      chain.append([makeEvent()]);
      await chain.flush();
    });
    const late = makeEvent({ action: 'logout' });
    const result = await stub.append([late]);
    expect(result.stored).toBe(false);
    expect(await rowsFor(late.request_id)).toHaveLength(0);
    expect((await stub.head()).pending).toBe(2);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await rowsFor(late.request_id)).toHaveLength(1);
    expect((await stub.head()).pending).toBe(0);
  });

  it("continues after D1's last row when the object starts without its state, instead of colliding", async () => {
    const stub = auditLogStub(testEnv);
    await stub.append([makeEvent()]);
    // Shard 0's last row (ids encode the shard: shard 0 is below 2^39).
    const last = await testEnv.DB.prepare('SELECT id, hash FROM audit_events WHERE id < ? ORDER BY id DESC LIMIT 1')
      .bind(2 ** 39)
      .first<{ id: number; hash: string }>();
    expect(last?.id).toBeGreaterThan(1);
    await runInDurableObject(stub, (_instance, state) => {
      const zeros = '0'.repeat(64);
      state.storage.sql.exec('UPDATE chain_state SET seq = 0, hash = ?, flushed_seq = 0, flushed_hash = ?, bootstrapped = 0', zeros, zeros);
    });
    const fresh = makeEvent({ action: 'key_created' });
    await stub.append([fresh]);
    const [row] = await rowsFor(fresh.request_id);
    expect(row).toMatchObject({ id: (last?.id ?? 0) + 1, prev_hash: last?.hash });
    const admin = auditTestApp({ a: userPrincipal('bootstrap-admin', ['admin']) });
    expect(JSON.parse((await callApp(admin, '/admin/audit/verify', { credential: 'a' })).text)).toMatchObject({ ok: true });
  });

  it('treats a hung D1 write as a failure, so the rows wait for the alarm instead of stalling', async () => {
    const stub = auditLogStub(testEnv);
    const event = makeEvent({ action: 'user_changed' });
    const result = await runInDurableObject(stub, async (_instance, state) => {
      const hung = {
        prepare: (sql: string) => testEnv.DB.prepare(sql),
        batch: () => new Promise<never>(() => {}),
      } as unknown as D1Database;
      const chain = new AuditChain(state.storage, hung, { writeTimeoutMs: 20 });
      chain.append([event]);
      return chain.flush();
    });
    expect(result).toMatchObject({ ok: false, pending: 1 });
    expect(await rowsFor(event.request_id)).toHaveLength(0);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await rowsFor(event.request_id)).toHaveLength(1);
  });
});
