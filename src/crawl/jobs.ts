/**
 * Job ownership (SECURITY.md "Crawl requests": jobs belong to the principal that created them;
 * OWASP API1:2023 BOLA). The origin's task ids are recorded against the creator's tenant
 * (`tenantOf`: a key acts for its owner) in D1 `crawl_tasks`; lookups filter by tenant, so another
 * tenant's id reads exactly like an unknown one.
 */
import type { Principal } from '../auth/principal';
import { tenantOf } from '../auth/principal';

/** Records a task for its creator. Idempotent for the same tenant; never re-assigns a task. */
export async function recordTask(db: D1Database, taskId: string, principal: Principal, now = Date.now()): Promise<void> {
  await db
    .prepare('INSERT INTO crawl_tasks (task_id, tenant, principal_id, created_at) VALUES (?1, ?2, ?3, ?4) ON CONFLICT(task_id) DO NOTHING')
    .bind(taskId, tenantOf(principal), principal.id, now)
    .run();
}

/** True when the task exists and belongs to the principal's tenant. */
export async function ownsTask(db: D1Database, taskId: string, principal: Principal): Promise<boolean> {
  const row = await db.prepare('SELECT 1 AS one FROM crawl_tasks WHERE task_id = ?1 AND tenant = ?2').bind(taskId, tenantOf(principal)).first();
  return row !== null;
}
