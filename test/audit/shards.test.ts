/**
 * Audit at scale (docs/audit.md "Shards", "Archive", "Checkpoints"): events spread over AUDIT_SHARDS
 * chains by tenant; allowed-request events land in gzip NDJSON R2 segments; verify reports
 * tampering in D1 rows and R2 segments with shard and position — including a deleted prefix with
 * D1's checkpoint moved after it — and answers 503 when an anchor cannot be read.
 */
import { describe, expect, it, beforeAll } from 'vitest';
import type { AuditRow } from '../../src/audit/types';
import type { Env } from '../../src/env';
import { hashRow } from '../../src/audit/hash-chain';
import { locateId, shardName, shardOf, streamBase } from '../../src/audit/shards';
import { decodeRecords, encodeRecords, gunzip, gzip, shardSegmentPrefix } from '../../src/audit/segment-codec';
import { LATEST_CHECKPOINT_KEY, CHECKPOINT_PREFIX } from '../../src/audit/checkpoint';
import { auditShardStub, writeAuditEvents } from '../../src/audit/writer';
import { auditTestApp, callApp, makeEvent, seedEvents, testEnv, userPrincipal } from '../helpers/audit';

const RUN = crypto.randomUUID().slice(0, 8);
const admin = userPrincipal(`admin-${RUN}`, ['admin']);
const app = auditTestApp({ 'admin-cred': admin });

/** Tenants on four different shards (found by the same stable hash the writer uses). */
const tenants: string[] = [];
for (let i = 0; tenants.length < 4; i++) {
  const id = `usr_t${i}_${RUN}`;
  if (!tenants.some((t) => shardOf(t, 4) === shardOf(id, 4))) tenants.push(id);
}
// The tenant whose chains the tamper tests edit: not shard 0, so positions differ from ids.
const victim = tenants.find((t) => shardOf(t, 4) !== 0) as string;
const VS = shardOf(victim, 4);

type Break = { shard: number; stream: 'd1' | 'r2'; position: number; kind: string; detail: string };
type Report = {
  ok: boolean;
  checked: number;
  broken: Break | null;
  shards: Array<{ shard: number; d1: { checked: number; head: number }; r2: { checked: number; head: number } }>;
};

async function verify(envOverride?: Env): Promise<{ status: number; body: Report & { code?: string; detail?: string } }> {
  const { res, text } = await callApp(app, '/admin/audit/verify', { credential: 'admin-cred', envOverride });
  return { status: res.status, body: JSON.parse(text) };
}

async function expectIntact(): Promise<void> {
  const { status, body } = await verify();
  expect(status).toBe(200);
  expect(body.broken).toBeNull();
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
  'shard',
] as const;
async function putRow(row: AuditRow & { shard?: number }) {
  const full = { ...row, shard: locateId(row.id).shard };
  await testEnv.DB.prepare(`INSERT OR REPLACE INTO audit_events (${COLS.join(',')}) VALUES (${COLS.map(() => '?').join(',')})`)
    .bind(...COLS.map((c) => full[c]))
    .run();
}
async function victimRows(): Promise<AuditRow[]> {
  return (await testEnv.DB.prepare('SELECT * FROM audit_events WHERE actor_id = ? ORDER BY id').bind(victim).all<AuditRow>()).results;
}
async function segmentKeys(shard: number): Promise<string[]> {
  return (await testEnv.RESULTS.list({ prefix: shardSegmentPrefix(shard) })).objects.map((o) => o.key).sort();
}
async function readSegment(key: string): Promise<{ bytes: ArrayBuffer; rows: AuditRow[] }> {
  const bytes = await (await testEnv.RESULTS.get(key))!.arrayBuffer();
  return { bytes, rows: decodeRecords(await gunzip(bytes)).map(({ shard: _s, ...r }) => r) };
}
async function writeSegment(key: string, rows: AuditRow[]) {
  await testEnv.RESULTS.put(key, await gzip(encodeRecords(locateId((rows[0] as AuditRow).id).shard, rows)));
}

beforeAll(async () => {
  // Security rows for every tenant, and three R2 segments of allowed crawls for the victim.
  await seedEvents(
    tenants.flatMap((t) =>
      Array.from({ length: 4 }, (_, i) => makeEvent({ actor_id: t, action: 'permission_denied', outcome: 'denied', reason: `r${i}` })),
    ),
  );
  for (let seg = 0; seg < 3; seg++) {
    await seedEvents(
      Array.from({ length: 3 }, (_, i) =>
        makeEvent({ actor_id: victim, action: 'crawl_requested', outcome: 'success', details: JSON.stringify({ seg, i }) }),
      ),
    );
    await auditShardStub(testEnv, VS).flushArchive(VS);
  }
});

describe('shards and stores', () => {
  it('puts each tenant on its own shard: ids encode shard and position, security rows in D1', async () => {
    for (const t of tenants) {
      const { results } = await testEnv.DB.prepare('SELECT id, shard FROM audit_events WHERE actor_id = ? ORDER BY id')
        .bind(t)
        .all<{ id: number; shard: number }>();
      expect(results).toHaveLength(4);
      for (const r of results) {
        expect(r.shard).toBe(shardOf(t, 4));
        expect(locateId(r.id)).toMatchObject({ shard: shardOf(t, 4), stream: 'd1' });
      }
    }
    expect(new Set(tenants.map((t) => shardOf(t, 4))).size).toBe(4);
    // Allowed crawls are not D1 rows.
    const crawlRows = await testEnv.DB.prepare("SELECT COUNT(*) AS n FROM audit_events WHERE actor_id = ? AND action = 'crawl_requested'")
      .bind(victim)
      .first<{ n: number }>();
    expect(crawlRows?.n).toBe(0);
  });

  it('writes allowed-request events as gzip NDJSON segments, hash-chained per shard, with a manifest', async () => {
    const keys = await segmentKeys(VS);
    expect(keys).toHaveLength(3);
    const positions: number[] = [];
    for (const key of keys) {
      const { bytes, rows } = await readSegment(key);
      expect(new Uint8Array(bytes).slice(0, 2)).toEqual(new Uint8Array([0x1f, 0x8b])); // gzip magic
      for (const r of rows) {
        expect(locateId(r.id)).toMatchObject({ shard: VS, stream: 'r2' });
        expect(hashRow(r)).toBe(r.hash);
        positions.push(locateId(r.id).position);
      }
    }
    expect(positions).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const manifests = await testEnv.RESULTS.list({ prefix: `audit/manifests/s${String(VS).padStart(3, '0')}/` });
    expect(manifests.objects.length).toBeGreaterThan(0);
    const manifest = JSON.parse(await (await testEnv.RESULTS.get(manifests.objects[0]!.key))!.text());
    expect(manifest.segments.map((s: { key: string }) => s.key)).toEqual(keys);
  });

  it('lists archived and D1 events together, newest first, paging across shards with a stable cursor', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < 20; page++) {
      const { text } = await callApp(app, `/admin/audit?limit=5&since=0${cursor ? `&cursor=${cursor}` : ''}`, { credential: 'admin-cred' });
      const body = JSON.parse(text) as { events: Array<AuditRow & { shard: number; stream: string }>; next_cursor: string | null };
      seen.push(...body.events.filter((e) => tenants.includes(e.actor_id)).map((e) => `${e.shard}:${e.stream}:${e.id}`));
      cursor = body.next_cursor;
      if (!cursor) break;
    }
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.filter((s) => s.includes(':r2:'))).toHaveLength(9);
    expect(seen.filter((s) => s.includes(':d1:'))).toHaveLength(16);
  });
});

describe('verify: tampering is reported with shard and position', () => {
  it('an intact log verifies, every shard checked', async () => {
    const { status, body } = await verify();
    expect(status).toBe(200);
    expect(body.ok).toBe(true);
    expect(body.shards.map((s) => s.shard)).toEqual([0, 1, 2, 3]);
    expect(body.shards[VS]?.r2.checked).toBe(9);
  });

  it('D1: an edited, deleted, reordered and truncated row', async () => {
    const rows = await victimRows();
    const [a, b, c, d] = rows as [AuditRow, AuditRow, AuditRow, AuditRow];
    await testEnv.DB.prepare("UPDATE audit_events SET reason = 'fine' WHERE id = ?").bind(b.id).run();
    expect((await verify()).body.broken).toMatchObject({ shard: VS, stream: 'd1', position: locateId(b.id).position, kind: 'edited' });
    await putRow(b);

    await testEnv.DB.prepare('DELETE FROM audit_events WHERE id = ?').bind(c.id).run();
    expect((await verify()).body.broken).toMatchObject({ shard: VS, stream: 'd1', position: locateId(c.id).position, kind: 'deleted' });
    await putRow(c);

    await putRow({ ...a, id: b.id });
    await putRow({ ...b, id: a.id });
    expect((await verify()).body.broken).toMatchObject({ shard: VS, position: locateId(a.id).position, kind: 'reordered' });
    await putRow(a);
    await putRow(b);

    await testEnv.DB.prepare('DELETE FROM audit_events WHERE id = ?').bind(d.id).run();
    expect((await verify()).body.broken).toMatchObject({ shard: VS, stream: 'd1', position: locateId(d.id).position, kind: 'truncated' });
    await putRow(d);
    await expectIntact();
  });

  it('D1: deleting a prefix and moving the checkpoint after it is caught against the writer’s boundary', async () => {
    const rows = await victimRows();
    const [a, b] = rows as [AuditRow, AuditRow];
    await testEnv.DB.prepare('DELETE FROM audit_events WHERE id <= ? AND shard = ?').bind(b.id, VS).run();
    await testEnv.DB.prepare('INSERT OR REPLACE INTO audit_checkpoints (chain, seq, hash, pruned_at) VALUES (?, ?, ?, ?)')
      .bind(shardName(VS), b.id, b.hash, Date.now())
      .run();
    const { status, body } = await verify();
    expect(status).toBe(200);
    expect(body.ok).toBe(false);
    expect(body.broken).toMatchObject({ shard: VS, stream: 'd1', position: 1, kind: 'deleted' });
    expect(body.broken?.detail).toContain('moved past the boundary the writer recorded');
    await testEnv.DB.prepare('DELETE FROM audit_checkpoints WHERE chain = ?').bind(shardName(VS)).run();
    await putRow(a);
    await putRow(b);
    await expectIntact();
  });

  it('R2: an edited, deleted, reordered and truncated segment', async () => {
    const [k1, k2, k3] = (await segmentKeys(VS)) as [string, string, string];
    const s2 = await readSegment(k2);
    const s3 = await readSegment(k3);
    const target = s2.rows[1] as AuditRow;

    await writeSegment(
      k2,
      s2.rows.map((r) => (r.id === target.id ? { ...r, ip: '198.51.100.1' } : r)),
    );
    expect((await verify()).body.broken).toMatchObject({ shard: VS, stream: 'r2', position: locateId(target.id).position, kind: 'edited' });

    await testEnv.RESULTS.delete(k2);
    expect((await verify()).body.broken).toMatchObject({ shard: VS, stream: 'r2', position: 4, kind: 'deleted' });

    // Two segments' contents swapped.
    await testEnv.RESULTS.put(k2, s3.bytes);
    await testEnv.RESULTS.put(k3, s2.bytes);
    expect((await verify()).body.broken).toMatchObject({ shard: VS, stream: 'r2', position: 4, kind: 'reordered' });

    // Records swapped inside a segment.
    await testEnv.RESULTS.put(k3, s3.bytes);
    await writeSegment(k2, [s2.rows[1], s2.rows[0], s2.rows[2]] as AuditRow[]);
    expect((await verify()).body.broken).toMatchObject({ shard: VS, stream: 'r2', position: 4 });

    // The newest segment deleted: the writer's head is past the end.
    await testEnv.RESULTS.put(k2, s2.bytes);
    await testEnv.RESULTS.delete(k3);
    expect((await verify()).body.broken).toMatchObject({ shard: VS, stream: 'r2', position: 7, kind: 'truncated' });

    // A segment cut short (its gzip stream ends early).
    await testEnv.RESULTS.put(k3, s3.bytes.slice(0, Math.floor(s3.bytes.byteLength / 2)));
    expect((await verify()).body.broken).toMatchObject({ shard: VS, stream: 'r2', position: 7, kind: 'unreadable' });

    await testEnv.RESULTS.put(k3, s3.bytes);
    expect((await readSegment(k1)).rows).toHaveLength(3);
    await expectIntact();
  });
});

describe('verify: anchors outside the store it checks', () => {
  it('answers 503 when the R2 checkpoint is missing while the shard objects hold one', async () => {
    await expectIntact(); // takes the first checkpoint if none exists
    const saved = await (await testEnv.RESULTS.get(LATEST_CHECKPOINT_KEY))!.text();
    await testEnv.RESULTS.delete(LATEST_CHECKPOINT_KEY);
    const { status, body } = await verify();
    expect(status).toBe(503);
    expect(body.code).toBe('service_unavailable');
    expect(body.detail).toContain('R2 checkpoint is missing');
    await testEnv.RESULTS.put(LATEST_CHECKPOINT_KEY, saved);
    await expectIntact();
  });

  it('answers 503 when the R2 checkpoint’s signature does not hold, or it was replaced by an older one', async () => {
    const saved = await (await testEnv.RESULTS.get(LATEST_CHECKPOINT_KEY))!.text();
    const [h, p, s] = saved.split('.') as [string, string, string];
    const forged = JSON.parse(atob(p.replace(/-/g, '+').replace(/_/g, '/')));
    forged.shards[VS].d1.pruned.id += 2;
    const forgedPayload = btoa(JSON.stringify(forged)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
    await testEnv.RESULTS.put(LATEST_CHECKPOINT_KEY, `${h}.${forgedPayload}.${s}`);
    const bad = await verify();
    expect(bad.status).toBe(503);
    expect(bad.body.detail).toContain('not valid');

    // A newer checkpoint (the cron's), then the older one put back in R2.
    await testEnv.RESULTS.put(LATEST_CHECKPOINT_KEY, saved);
    const { runHousekeeping } = await import('../../src/housekeeping');
    await runHousekeeping(testEnv, Date.now() + 1000);
    const archived = (await testEnv.RESULTS.list({ prefix: CHECKPOINT_PREFIX })).objects.length;
    expect(archived).toBeGreaterThanOrEqual(2);
    const newest = await (await testEnv.RESULTS.get(LATEST_CHECKPOINT_KEY))!.text();
    await testEnv.RESULTS.put(LATEST_CHECKPOINT_KEY, saved);
    const rolledBack = await verify();
    expect(rolledBack.status).toBe(503);
    expect(rolledBack.body.detail).toContain('older than the one shard');
    // Put the newest checkpoint back: the anchors are shared with every other test file's verify.
    await testEnv.RESULTS.put(LATEST_CHECKPOINT_KEY, newest);
    await expectIntact();
  });

  it('answers 503 when a shard object cannot be read', async () => {
    // The object named for shard 7 answers as another shard (its state is not shard 7's): every call to it fails.
    await auditShardStub(testEnv, 7).anchors(3);
    const { status, body } = await verify({ ...testEnv, AUDIT_SHARDS: '8' });
    expect(status).toBe(503);
    expect(body.detail).toContain('shard 7');
  });
});

export { streamBase };

describe('many concurrent writers across shards', () => {
  it('stores every event of 16 concurrent writers over 4 shards once, D1 rows and R2 records, in intact chains', async () => {
    const prefix = `cw-${RUN}-`;
    const writers = Array.from({ length: 16 }, (_, w) =>
      Array.from({ length: 24 }, (_, i) =>
        makeEvent({
          actor_id: `usr_cw${(w * 24 + i) % 12}_${RUN}`,
          request_id: `${prefix}${w}-${i}`,
          ...(i % 2 === 0 ? { action: 'crawl_requested', outcome: 'success' } : { action: 'permission_denied', outcome: 'denied' }),
        }),
      ),
    );
    expect(new Set(writers.flat().map((e) => shardOf(e.actor_id, 4))).size).toBe(4);
    await Promise.all(writers.map((events) => writeAuditEvents(testEnv, events)));
    for (let s = 0; s < 4; s++) await auditShardStub(testEnv, s).flushArchive(s);

    const d1 = await testEnv.DB.prepare('SELECT COUNT(*) AS n, COUNT(DISTINCT request_id) AS u FROM audit_events WHERE request_id LIKE ?')
      .bind(`${prefix}%`)
      .first<{ n: number; u: number }>();
    expect(d1).toEqual({ n: 192, u: 192 });
    const archived: string[] = [];
    for (let s = 0; s < 4; s++)
      for (const key of await segmentKeys(s))
        for (const r of (await readSegment(key)).rows) if (r.request_id.startsWith(prefix)) archived.push(r.request_id);
    expect(archived).toHaveLength(192);
    expect(new Set(archived).size).toBe(192);
    await expectIntact();
  }, 300_000);
});
