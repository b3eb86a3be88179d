/**
 * `scripts/audit-verify.mjs` against real local stores (wrangler's local D1 and R2 in a temp dir):
 * two shards, D1 rows and R2 segments, a signed checkpoint in R2 — and the tampering the Worker's
 * verify reports (dropped newest segment, deleted prefix with D1's checkpoint moved, edited row),
 * plus a missing or wrongly signed checkpoint (exit 2, never a narrower "ok").
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getPlatformProxy } from 'wrangler';
import { chainEvent, GENESIS_HASH, hashRow } from '../../src/audit/hash-chain';
import { LATEST_CHECKPOINT_KEY, signCheckpoint, type CheckpointPayload } from '../../src/audit/checkpoint-jws';
import { encodeRecords, gzip, segmentKey } from '../../src/audit/segment-codec';
import { streamBase } from '../../src/audit/shards';
import type { AuditEvent, AuditRow } from '../../src/audit/types';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '../..');
const WRANGLER = path.join(ROOT, 'node_modules/wrangler/bin/wrangler.js');
const KEY = 'cli-test-checkpoint-secret-0123456789abcdef';
const ENV = {
  ...process.env,
  CLOUDFLARE_CF_FETCH_ENABLED: 'false',
  WRANGLER_SEND_METRICS: 'false',
  NO_COLOR: '1',
  AUDIT_CHECKPOINT_KEY: KEY,
};
let dir = '';

type Break = { seq: number; kind: string; shard: number; stream: string; position: number };
type Report = {
  ok: boolean;
  checked: number;
  broken: Break | null;
  anchor_unavailable?: boolean;
  checkpoint: { shards: number } | null;
  shards: Array<{ shard: number; signed: boolean; d1: { checked: number }; r2: { checked: number } | null }>;
};

async function cli(...extra: string[]): Promise<{ code: number; report: Report; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['scripts/audit-verify.mjs', '--local', '--persist-to', dir, ...extra], {
      cwd: ROOT,
      env: ENV,
    });
    return { code: 0, report: JSON.parse(stdout) as Report, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    if (e.code !== 1 && e.code !== 2) throw new Error(`audit-verify exited ${e.code}: ${e.stderr}`);
    return { code: e.code, report: JSON.parse(e.stdout) as Report, stderr: e.stderr };
  }
}

/** Opens the temp dir's local D1 and R2 (the CLI runs only while no proxy is open). */
async function withStores(fn: (env: { DB: D1Database; RESULTS: R2Bucket }) => Promise<void>): Promise<void> {
  const proxy = await getPlatformProxy<{ DB: D1Database; RESULTS: R2Bucket }>({
    configPath: path.join(ROOT, 'wrangler.toml'),
    persist: { path: path.join(dir, 'v3') },
  });
  try {
    await fn(proxy.env);
  } finally {
    await proxy.dispose();
  }
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

function chain(base: number, n: number, action: AuditEvent['action'], outcome: AuditEvent['outcome']): AuditRow[] {
  let prev = { id: base, hash: GENESIS_HASH };
  const rows: AuditRow[] = [];
  for (let i = 0; i < n; i++) {
    const row = chainEvent(
      {
        ts: 1_790_000_000_000 + base / 2 ** 30 + i,
        request_id: `req-${base}-${i}`,
        actor_id: 'usr_a',
        actor_kind: 'user',
        actor_name: i === 2 ? "o'brien\r\n<b>" : 'alice',
        ip: '192.0.2.1',
        method: 'POST',
        route: action === 'crawl_requested' ? '/crawl' : '/auth/token',
        action,
        outcome,
        reason: outcome === 'denied' ? 'bad_password' : null,
        status: outcome === 'denied' ? 401 : 200,
        details: '{"n":1}',
      },
      prev,
    );
    rows.push(row);
    prev = { id: row.id, hash: row.hash };
  }
  return rows;
}

const d1Shard0 = chain(streamBase(0, 'd1'), 5, 'login_failed', 'denied');
const d1Shard1 = chain(streamBase(1, 'd1'), 3, 'login_failed', 'denied');
const r2Shard1 = chain(streamBase(1, 'r2'), 6, 'crawl_requested', 'success');
const link = (r: AuditRow) => ({ id: r.id, hash: r.hash });
const genesis = (shard: number, stream: 'd1' | 'r2') => ({ id: streamBase(shard, stream), hash: GENESIS_HASH });

async function putSegment(env: { RESULTS: R2Bucket }, rows: AuditRow[], firstPosition: number): Promise<void> {
  await env.RESULTS.put(segmentKey(1, firstPosition), await gzip(encodeRecords(1, rows)));
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'audit-verify-'));
  await run(
    process.execPath,
    [WRANGLER, 'd1', 'execute', 'DB', '--local', '--persist-to', dir, '--file', 'migrations/0004_create_audit_events.sql'],
    { cwd: ROOT, env: ENV },
  );
  await withStores(async (env) => {
    const insert = env.DB.prepare(`INSERT INTO audit_events (${COLS.join(',')}) VALUES (${COLS.map(() => '?').join(',')})`);
    await env.DB.batch([...d1Shard0, ...d1Shard1].map((r) => insert.bind(...COLS.map((c) => r[c]))));
    await putSegment(env, r2Shard1.slice(0, 4), 1);
    await putSegment(env, r2Shard1.slice(4), 5);
    const payload: CheckpointPayload = {
      v: 1,
      taken_at: 1_790_000_100_000,
      shards: [
        {
          shard: 0,
          d1: { head: link(d1Shard0[4] as AuditRow), pruned: genesis(0, 'd1') },
          r2: { head: genesis(0, 'r2'), pruned: genesis(0, 'r2') },
        },
        {
          shard: 1,
          d1: { head: link(d1Shard1[2] as AuditRow), pruned: genesis(1, 'd1') },
          r2: { head: link(r2Shard1[5] as AuditRow), pruned: genesis(1, 'r2') },
        },
      ],
    };
    await env.RESULTS.put(LATEST_CHECKPOINT_KEY, await signCheckpoint(KEY, payload));
  });
}, 180_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('scripts/audit-verify.mjs', () => {
  it('hashes like the Worker does (same vector as test/audit/unit.test.ts, computed in workerd)', () => {
    const row = {
      id: 1,
      ts: 1_790_000_000_000,
      request_id: 'req-1',
      actor_id: 'usr_a',
      actor_kind: 'user',
      actor_name: 'ä\r\n<b>',
      ip: '192.0.2.1',
      method: 'POST',
      route: '/auth/token',
      action: 'login_failed',
      outcome: 'denied',
      reason: null,
      status: 401,
      details: '{"n":1}',
      prev_hash: GENESIS_HASH,
    } as const;
    expect(hashRow(row as unknown as AuditRow)).toBe('0248e8f117604de947a228a7149b66d951d87fcefd31874998fa7669e6801f88');
  });

  it('verifies every shard against the signed checkpoint: D1 rows and R2 segments, reported per shard', async () => {
    const { code, report } = await cli();
    expect(code).toBe(0);
    expect(report).toMatchObject({ ok: true, checked: 14, broken: null, checkpoint: { shards: 2 } });
    expect(report.shards.map((s) => [s.shard, s.signed, s.d1.checked, s.r2?.checked])).toEqual([
      [0, true, 5, 0],
      [1, true, 3, 6],
    ]);
  });

  it('exits 2 (anchor unavailable) when the checkpoint is signed with another key or missing', async () => {
    const wrongKey = await cli('--key-file', path.join(ROOT, 'package.json'));
    expect(wrongKey.code).toBe(2);
    expect(wrongKey.report).toMatchObject({ ok: false, anchor_unavailable: true });
    expect(wrongKey.stderr).toMatch(/checkpoint is not valid/);

    let jws = '';
    await withStores(async (env) => {
      jws = (await (await env.RESULTS.get(LATEST_CHECKPOINT_KEY))?.text()) ?? '';
      await env.RESULTS.delete(LATEST_CHECKPOINT_KEY);
    });
    const missing = await cli();
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/latest\.jws is missing/);
    await withStores(async (env) => {
      await env.RESULTS.put(LATEST_CHECKPOINT_KEY, jws);
    });
  });

  it('reports the newest segment dropped from R2 with its shard and position', async () => {
    await withStores(async (env) => {
      await env.RESULTS.delete(segmentKey(1, 5));
    });
    const { code, report } = await cli();
    expect(code).toBe(1);
    expect(report.broken).toMatchObject({ shard: 1, stream: 'r2', position: 5, kind: 'truncated' });
    await withStores(async (env) => {
      await putSegment(env, r2Shard1.slice(4), 5);
    });
  });

  it('reports a deleted D1 prefix with the checkpoint moved after it (D1 alone cannot: --d1-only says ok)', async () => {
    await withStores(async (env) => {
      const moved = d1Shard0[1] as AuditRow;
      await env.DB.batch([
        env.DB.prepare('DELETE FROM audit_events WHERE id <= 2'),
        env.DB.prepare("INSERT INTO audit_checkpoints (chain, seq, hash, pruned_at) VALUES ('chain:global', ?, ?, 0)").bind(
          moved.id,
          moved.hash,
        ),
      ]);
    });
    const anchored = await cli();
    expect(anchored.code).toBe(1);
    expect(anchored.report.broken).toMatchObject({ shard: 0, stream: 'd1', position: 1, kind: 'deleted' });

    const d1Only = await cli('--d1-only');
    expect(d1Only.code).toBe(0);
    expect(d1Only.report).toMatchObject({ ok: true, checkpoint: null });
  });

  it('names the first edited row with --d1-only too', async () => {
    await withStores(async (env) => {
      await env.DB.prepare("UPDATE audit_events SET outcome = 'success' WHERE id = 4").run();
    });
    const edited = await cli('--d1-only');
    expect(edited.code).toBe(1);
    expect(edited.report.broken).toMatchObject({ seq: 4, kind: 'edited', shard: 0, stream: 'd1', position: 4 });
  });
});
