import { describe, expect, it, beforeAll } from 'vitest';
import type { AuditRow } from '../../src/audit/types';
import { hashRow } from '../../src/audit/hash-chain';
import { auditTestApp, callApp, makeEvent, seedEvents, testEnv, userPrincipal } from '../helpers/audit';

const RUN = crypto.randomUUID().slice(0, 8);
const admin = userPrincipal(`admin-${RUN}`, ['admin']);
const operator = userPrincipal(`operator-${RUN}`, ['operator']);
const app = auditTestApp({ 'admin-cred': admin, 'operator-cred': operator });
const actor = `usr_verify_${RUN}`;

type Report = {
  ok: boolean;
  checked: number;
  broken: { seq: number; shard: number; position: number; kind: string; detail: string } | null;
  shards: Array<{ d1: { head: number } }>;
};

async function verify(): Promise<Report> {
  const { res, text } = await callApp(app, '/admin/audit/verify', { credential: 'admin-cred' });
  expect(res.status).toBe(200);
  return JSON.parse(text) as Report;
}

async function seeded(): Promise<AuditRow[]> {
  const { results } = await testEnv.DB.prepare('SELECT * FROM audit_events WHERE actor_id = ? ORDER BY id').bind(actor).all<AuditRow>();
  return results;
}

const COLS = [
  'id',
  'ts',
  'request_id',
  'actor_id',
  'actor_kind',
  'actor_name',
  'ip',
  'method',
  'route',
  'action',
  'outcome',
  'reason',
  'status',
  'details',
  'prev_hash',
  'hash',
] as const;
async function put(row: AuditRow, verb = 'INSERT OR REPLACE') {
  await testEnv.DB.prepare(`${verb} INTO audit_events (${COLS.join(',')}) VALUES (${COLS.map(() => '?').join(',')})`)
    .bind(...COLS.map((c) => row[c]))
    .run();
}

beforeAll(async () => {
  await seedEvents(Array.from({ length: 6 }, (_, i) => makeEvent({ actor_id: actor, reason: `r${i}` })));
});

describe('GET /admin/audit/verify', () => {
  it('reports an intact chain, anchored at the writer’s last committed row', async () => {
    const report = await verify();
    expect(report.broken).toBeNull();
    expect(report.ok).toBe(true);
    expect(report.checked).toBeGreaterThanOrEqual(6);
    // Anchored at the writer's last committed row of the actor's shard (ids encode shard and position).
    const last = (await seeded()).at(-1) as AuditRow;
    expect(report.shards[Math.floor(last.id / 2 ** 40)]?.d1.head).toBeGreaterThanOrEqual(last.id);
  });

  it('names an edited row as the first broken link', async () => {
    const rows = await seeded();
    const target = rows[2] as AuditRow;
    await testEnv.DB.prepare("UPDATE audit_events SET outcome = 'success', reason = NULL WHERE id = ?").bind(target.id).run();
    const report = await verify();
    expect(report.ok).toBe(false);
    expect(report.broken).toMatchObject({ seq: target.id, kind: 'edited' });
    await put(target);
    expect((await verify()).ok).toBe(true);
  });

  it('names a deleted row', async () => {
    const target = (await seeded())[3] as AuditRow;
    await testEnv.DB.prepare('DELETE FROM audit_events WHERE id = ?').bind(target.id).run();
    const report = await verify();
    expect(report.broken).toMatchObject({ seq: target.id, kind: 'deleted' });
    await put(target);
    expect((await verify()).ok).toBe(true);
  });

  it('names reordered rows (two rows swapped places)', async () => {
    const rows = await seeded();
    const a = rows[1] as AuditRow;
    const b = rows[2] as AuditRow;
    await put({ ...b, id: a.id });
    await put({ ...a, id: b.id });
    const report = await verify();
    expect(report.broken).toMatchObject({ seq: a.id, kind: 'reordered' });
    expect(report.broken?.detail).toContain(`written as row ${b.id}`);
    await put(a);
    await put(b);
    expect((await verify()).ok).toBe(true);
  });

  it('catches a deleted newest row and a re-hashed row against the writer’s anchor', async () => {
    const last = await testEnv.DB.prepare('SELECT * FROM audit_events ORDER BY id DESC LIMIT 1').first<AuditRow>();
    if (!last) throw new Error('no rows');
    await testEnv.DB.prepare('DELETE FROM audit_events WHERE id = ?').bind(last.id).run();
    const truncated = await verify();
    expect(truncated.broken).toMatchObject({ seq: last.id, kind: 'truncated' });
    await put(last);

    // The verify call above appended its own row: rewrite that newest row and fix up its hash.
    const newest = await testEnv.DB.prepare('SELECT * FROM audit_events ORDER BY id DESC LIMIT 1').first<AuditRow>();
    if (!newest) throw new Error('no rows');
    const forged = { ...newest, outcome: 'success' as const, reason: null };
    await put({ ...forged, hash: hashRow(forged) });
    const rehashed = await verify();
    expect(rehashed.broken).toMatchObject({ seq: newest.id, kind: 'head_mismatch' });
    await put(newest);
    expect((await verify()).ok).toBe(true);
  });

  it('verifies a long chain in slices: next_after continues where the last slice stopped', async () => {
    const total = (await verify()).checked;
    let after: number | null = null;
    let checked = 0;
    let slices = 0;
    for (;;) {
      const { text } = await callApp(app, `/admin/audit/verify?max_rows=3${after === null ? '' : `&after=${after}`}`, {
        credential: 'admin-cred',
      });
      const r = JSON.parse(text) as Report & { complete: boolean; next_after: number | null };
      expect(r.broken).toBeNull();
      checked += r.checked;
      slices++;
      if (r.complete || slices > 50) break;
      after = r.next_after;
    }
    expect(slices).toBeGreaterThan(2);
    // Each verify call appends an audit_verified row, so the chain grew while we walked it.
    expect(checked).toBeGreaterThanOrEqual(total);

    const target = (await seeded())[4] as AuditRow;
    await testEnv.DB.prepare("UPDATE audit_events SET ip = '10.0.0.1' WHERE id = ?").bind(target.id).run();
    const { text } = await callApp(app, `/admin/audit/verify?max_rows=2&after=${target.id - 1}`, { credential: 'admin-cred' });
    expect(JSON.parse(text).broken).toMatchObject({ seq: target.id, kind: 'edited' });
    await put(target);
  });

  it('is for admins: an operator (audit:read) gets 403 and a permission_denied row', async () => {
    const { res, text } = await callApp(app, '/admin/audit/verify', {
      credential: 'operator-cred',
      headers: { 'X-Request-Id': `req-verify-${RUN}` },
    });
    expect(res.status).toBe(403);
    expect(JSON.parse(text).code).toBe('forbidden');
    const [row] = (await testEnv.DB.prepare('SELECT * FROM audit_events WHERE request_id = ?').bind(`req-verify-${RUN}`).all<AuditRow>())
      .results;
    expect(row).toMatchObject({ action: 'permission_denied', outcome: 'denied', actor_id: operator.id, status: 403 });
  });
});
