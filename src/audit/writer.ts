/**
 * Writes audit events to storage. Foundation version: logs a structured line (no secrets) so
 * decisions are visible in `wrangler tail`; the audit-log issue replaces this with the D1 writer
 * behind a single-writer hash chain.
 */
import type { Env } from '../env';
import type { AuditEvent } from './types';

export async function writeAuditEvents(_env: Env, events: AuditEvent[]): Promise<void> {
  for (const e of events) console.log(JSON.stringify({ audit: e }));
}
