/**
 * Secret scan over everything the audit log stores: every column of every D1 row (audit_events,
 * audit_checkpoints), every shard's AuditLog buffers (D1 and archive) and the R2 archive segments. Extend `secrets` as new credentials appear
 * (passwords, keys, access and refresh tokens); `Bearer ` is always searched.
 */
import { runInDurableObject } from 'cloudflare:test';
import { auditShardCount, auditShardStub } from '../../src/audit/writer';
import { SEGMENT_PREFIX, gunzip } from '../../src/audit/segment-codec';
import { testEnv } from './audit';

export interface SecretFinding {
  where: string;
  column: string;
  needle: string;
}

function scanValue(where: string, column: string, value: unknown, needles: string[], out: SecretFinding[]): void {
  if (value === null || value === undefined) return;
  const text = String(value);
  for (const n of needles) if (text.includes(n)) out.push({ where, column, needle: n.slice(0, 6) + '…' });
  if (/bearer /i.test(text)) out.push({ where, column, needle: 'Bearer ' });
}

/** Returns every place a secret (or `Bearer `) appears; an empty list means clean. */
export async function scanAuditStorage(secrets: string[]): Promise<SecretFinding[]> {
  const needles = secrets.filter((s) => s.length >= 8);
  const out: SecretFinding[] = [];
  for (const table of ['audit_events', 'audit_checkpoints']) {
    const { results } = await testEnv.DB.prepare(`SELECT * FROM ${table}`).all<Record<string, unknown>>();
    for (const row of results)
      for (const [col, v] of Object.entries(row)) scanValue(`${table}#${String(row.id ?? row.chain)}`, col, v, needles, out);
  }
  for (let shard = 0; shard < auditShardCount(testEnv); shard++) {
    await auditShardStub(testEnv, shard).flush();
    await runInDurableObject(auditShardStub(testEnv, shard), (_instance, state) => {
      for (const table of ['pending', 'archive_pending']) {
        const exists = state.storage.sql.exec('SELECT name FROM sqlite_master WHERE name = ?', table).toArray().length > 0;
        if (!exists) continue;
        for (const row of state.storage.sql.exec<Record<string, string | number | null>>(`SELECT seq, row FROM ${table}`)) {
          scanValue(`AuditLog(${shard}).${table}#${row.seq}`, 'row', row.row, needles, out);
        }
      }
    });
  }
  const listed = await testEnv.RESULTS.list({ prefix: SEGMENT_PREFIX });
  for (const o of listed.objects) {
    const body = await testEnv.RESULTS.get(o.key);
    if (body) scanValue(o.key, 'segment', await gunzip(await body.arrayBuffer()), needles, out);
  }
  return out;
}
