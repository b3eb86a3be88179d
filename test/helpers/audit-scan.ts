/**
 * Secret scan over everything the audit log stores: every column of every D1 row (audit_events,
 * audit_checkpoints) and the AuditLog object's buffer. Extend `secrets` as new credentials appear
 * (passwords, keys, access and refresh tokens); `Bearer ` is always searched.
 */
import { runInDurableObject } from 'cloudflare:test';
import { auditLogStub } from '../../src/audit/writer';
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
    for (const row of results) for (const [col, v] of Object.entries(row)) scanValue(`${table}#${String(row.id ?? row.chain)}`, col, v, needles, out);
  }
  await runInDurableObject(auditLogStub(testEnv), (_instance, state) => {
    for (const row of state.storage.sql.exec<Record<string, string | number | null>>('SELECT seq, row FROM pending')) {
      scanValue(`AuditLog.pending#${row.seq}`, 'row', row.row, needles, out);
    }
  });
  return out;
}
