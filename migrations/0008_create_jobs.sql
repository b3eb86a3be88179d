-- Crawl jobs (POST /jobs). A job's live state (pages, leases, retries, webhooks) is in its CrawlJob
-- Durable Object; these tables are the queryable copy: the owner index for GET /jobs and ownership
-- checks, every page's final record (idempotent: one row per (job_id, idx)), and usage per hour.
CREATE TABLE IF NOT EXISTS jobs (
  id TEXT PRIMARY KEY,
  tenant TEXT NOT NULL,
  principal_id TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'paused', 'completed', 'failed', 'cancelled')),
  priority TEXT NOT NULL CHECK (priority IN ('urgent', 'high', 'normal', 'low')),
  engine TEXT NOT NULL,
  session_id TEXT,
  total INTEGER NOT NULL,
  done INTEGER NOT NULL DEFAULT 0,
  failed INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  finished_at INTEGER
);
CREATE INDEX IF NOT EXISTS jobs_tenant_created ON jobs (tenant, created_at DESC);
CREATE INDEX IF NOT EXISTS jobs_created ON jobs (created_at);

-- One row per page with a final outcome. `result` is the CrawlResult JSON, or NULL when it was
-- too big for a row and lives in R2 under `r2_key`.
CREATE TABLE IF NOT EXISTS job_results (
  job_id TEXT NOT NULL,
  idx INTEGER NOT NULL,
  url TEXT NOT NULL,
  success INTEGER NOT NULL,
  status_code INTEGER,
  attempts INTEGER NOT NULL,
  duration_ms INTEGER NOT NULL,
  bytes INTEGER NOT NULL,
  error TEXT,
  result TEXT,
  r2_key TEXT,
  completed_at INTEGER NOT NULL,
  PRIMARY KEY (job_id, idx)
);

-- Usage per principal and crawler session, per hour (GET /usage).
CREATE TABLE IF NOT EXISTS usage_hourly (
  tenant TEXT NOT NULL,
  principal_id TEXT NOT NULL,
  session_id TEXT NOT NULL DEFAULT '',
  hour INTEGER NOT NULL,
  pages INTEGER NOT NULL DEFAULT 0,
  errors INTEGER NOT NULL DEFAULT 0,
  bytes INTEGER NOT NULL DEFAULT 0,
  total_ms INTEGER NOT NULL DEFAULT 0,
  first_at INTEGER NOT NULL,
  last_at INTEGER NOT NULL,
  PRIMARY KEY (tenant, principal_id, session_id, hour)
);
CREATE INDEX IF NOT EXISTS usage_tenant_hour ON usage_hourly (tenant, hour);
