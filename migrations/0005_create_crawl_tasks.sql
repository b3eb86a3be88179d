-- Crawl job ownership: which tenant created each origin task (GET /crawl/job/{id} of another
-- tenant is a 404). Written by POST /crawl/job from the origin's answer.
CREATE TABLE IF NOT EXISTS crawl_tasks (
  task_id TEXT PRIMARY KEY,
  tenant TEXT NOT NULL,
  principal_id TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS crawl_tasks_tenant_created ON crawl_tasks (tenant, created_at);
