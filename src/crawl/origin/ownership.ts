/**
 * Ownership of origin-side objects (SECURITY.md "Crawl requests": jobs belong to the principal
 * that created them; OWASP API1:2023 BOLA). Crawl4AI task ids and MCP SSE session ids are recorded
 * against the creator's tenant (`tenantOf`: a key acts for its owner) in D1; lookups filter by
 * tenant, so another tenant's id reads exactly like an unknown one. Old rows are purged by the
 * housekeeping cron (`purgeOwnershipRows`, listed in src/housekeeping.ts).
 */
import type { Principal } from '../../auth/principal';
import { tenantOf } from '../../auth/principal';

/** Task rows outlive Crawl4AI's own task TTL (1 h by default) with margin. */
export const TASK_RETENTION_MS = 7 * 86_400_000;
/** MCP sessions are long-lived SSE connections; a day bounds the table. */
export const SESSION_RETENTION_MS = 86_400_000;

/** Records a task for its creator. Never re-assigns an existing task. */
export async function recordTask(db: D1Database, taskId: string, principal: Principal, now = Date.now()): Promise<void> {
  await db
    .prepare('INSERT INTO crawl_tasks (task_id, tenant, principal_id, created_at) VALUES (?1, ?2, ?3, ?4) ON CONFLICT(task_id) DO NOTHING')
    .bind(taskId, tenantOf(principal), principal.id, now)
    .run();
}

/** True when the task exists and belongs to the principal's tenant. */
export async function ownsTask(db: D1Database, taskId: string, principal: Principal): Promise<boolean> {
  const row = await db
    .prepare('SELECT 1 AS one FROM crawl_tasks WHERE task_id = ?1 AND tenant = ?2')
    .bind(taskId, tenantOf(principal))
    .first();
  return row !== null;
}

/** Binds an MCP session id to the tenant that opened it (first binding wins). */
export async function recordSession(db: D1Database, sessionId: string, principal: Principal, now = Date.now()): Promise<void> {
  await db
    .prepare('INSERT INTO mcp_sessions (session_id, tenant, created_at) VALUES (?1, ?2, ?3) ON CONFLICT(session_id) DO NOTHING')
    .bind(sessionId, tenantOf(principal), now)
    .run();
}

/** True when the MCP session was opened by the principal's tenant. */
export async function ownsSession(db: D1Database, sessionId: string, principal: Principal): Promise<boolean> {
  const row = await db
    .prepare('SELECT 1 AS one FROM mcp_sessions WHERE session_id = ?1 AND tenant = ?2')
    .bind(sessionId, tenantOf(principal))
    .first();
  return row !== null;
}

/** Deletes ownership rows past their retention (cron). */
export async function purgeOwnershipRows(db: D1Database, now: number): Promise<{ tasks: number; sessions: number }> {
  const [t, s] = await db.batch([
    db.prepare('DELETE FROM crawl_tasks WHERE created_at < ?1').bind(now - TASK_RETENTION_MS),
    db.prepare('DELETE FROM mcp_sessions WHERE created_at < ?1').bind(now - SESSION_RETENTION_MS),
  ]);
  return { tasks: t?.meta.changes ?? 0, sessions: s?.meta.changes ?? 0 };
}
