-- Stored exports (POST /exports): who asked, what, where the file is in R2, and its manifest.
-- GET /exports/{id} of another tenant is a 404 (every read filters by tenant).
CREATE TABLE IF NOT EXISTS exports (
  id TEXT PRIMARY KEY,
  tenant TEXT NOT NULL,
  principal_id TEXT NOT NULL,
  job_id TEXT NOT NULL,
  format TEXT NOT NULL,
  compression TEXT NOT NULL,
  fields TEXT,
  status TEXT NOT NULL CHECK (status IN ('pending', 'running', 'completed', 'failed')),
  r2_key TEXT,
  manifest TEXT,
  error TEXT,
  webhook_url TEXT,
  webhook_status TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  completed_at INTEGER
);
CREATE INDEX IF NOT EXISTS exports_tenant_created ON exports (tenant, created_at DESC);
CREATE INDEX IF NOT EXISTS exports_job ON exports (job_id);
