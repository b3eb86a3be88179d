/** `scripts/audit-verify.mjs` against a real local D1 (wrangler's local persistence in a temp dir). */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chainEvent, GENESIS_HASH, hashRow } from '../../src/audit/hash-chain';
import type { AuditRow } from '../../src/audit/types';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '../..');
const WRANGLER = path.join(ROOT, 'node_modules/wrangler/bin/wrangler.js');
const ENV = { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: 'false', WRANGLER_SEND_METRICS: 'false', NO_COLOR: '1' };
let dir = '';

async function d1(sql: string) {
  await run(process.execPath, [WRANGLER, 'd1', 'execute', 'DB', '--local', '--persist-to', dir, '--command', sql], { cwd: ROOT, env: ENV });
}

async function cli(): Promise<{ code: number; report: { ok: boolean; checked: number; broken: { seq: number; kind: string } | null } }> {
  try {
    const { stdout } = await run(process.execPath, ['scripts/audit-verify.mjs', '--local', '--persist-to', dir], { cwd: ROOT, env: ENV });
    return { code: 0, report: JSON.parse(stdout) };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    if (e.code !== 1) throw new Error(`audit-verify exited ${e.code}: ${e.stderr}`);
    return { code: 1, report: JSON.parse(e.stdout) };
  }
}

const lit = (v: unknown) =>
  v === null || v === undefined ? 'NULL' : typeof v === 'number' ? String(v) : `'${String(v).replace(/'/g, "''")}'`;
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

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'audit-verify-'));
  await run(
    process.execPath,
    [WRANGLER, 'd1', 'execute', 'DB', '--local', '--persist-to', dir, '--file', 'migrations/0004_create_audit_events.sql'],
    { cwd: ROOT, env: ENV },
  );
  let prev = { id: 0, hash: GENESIS_HASH };
  const rows: AuditRow[] = [];
  for (let i = 0; i < 5; i++) {
    const row = chainEvent(
      {
        ts: 1_790_000_000_000 + i,
        request_id: `req-${i}`,
        actor_id: 'usr_a',
        actor_kind: 'user',
        actor_name: i === 2 ? "o'brien\r\n<b>" : 'alice',
        ip: '192.0.2.1',
        method: 'POST',
        route: '/auth/token',
        action: 'login_failed',
        outcome: 'denied',
        reason: 'bad_password',
        status: 401,
        details: '{"n":1}',
      },
      prev,
    );
    rows.push(row);
    prev = { id: row.id, hash: row.hash };
  }
  await d1(rows.map((r) => `INSERT INTO audit_events (${COLS.join(',')}) VALUES (${COLS.map((c) => lit(r[c])).join(',')})`).join('; '));
}, 120_000);

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

  it('exits 0 on an intact chain and 1 naming the first edited row', async () => {
    const intact = await cli();
    expect(intact.code).toBe(0);
    expect(intact.report).toMatchObject({ ok: true, checked: 5, broken: null });

    await d1("UPDATE audit_events SET outcome = 'success' WHERE id = 3");
    const edited = await cli();
    expect(edited.code).toBe(1);
    expect(edited.report.broken).toMatchObject({ seq: 3, kind: 'edited' });
  });
});
