-- Metering (docs/metering.md): usage of every crawl route, MCP tool call and job page, summed per
-- UTC day × tenant × key × user × route × engine. Written in batches off the hot path; read by
-- GET /usage, per-key / per-user usage, the dashboard charts and the usage exports.
CREATE TABLE IF NOT EXISTS usage_rollups (
  day INTEGER NOT NULL,            -- epoch ms of the UTC midnight
  tenant TEXT NOT NULL,
  key_id TEXT NOT NULL DEFAULT '', -- '' = a user's own session
  user_id TEXT NOT NULL DEFAULT '',-- the caller, or the key's owner; '' = ownerless key
  route TEXT NOT NULL,             -- crawl, crawl_stream, md, html, screenshot, pdf, execute_js, job, mcp
  engine TEXT NOT NULL,            -- origin, fetch, browser
  requests INTEGER NOT NULL DEFAULT 0,
  pages INTEGER NOT NULL DEFAULT 0,
  failed_pages INTEGER NOT NULL DEFAULT 0,
  errors INTEGER NOT NULL DEFAULT 0,
  bytes INTEGER NOT NULL DEFAULT 0,
  browser_ms INTEGER NOT NULL DEFAULT 0,
  origin_ms INTEGER NOT NULL DEFAULT 0,
  credits REAL NOT NULL DEFAULT 0,
  PRIMARY KEY (day, tenant, key_id, user_id, route, engine)
);
CREATE INDEX IF NOT EXISTS idx_usage_rollups_tenant_day ON usage_rollups (tenant, day);
CREATE INDEX IF NOT EXISTS idx_usage_rollups_key_day ON usage_rollups (key_id, day);
CREATE INDEX IF NOT EXISTS idx_usage_rollups_user_day ON usage_rollups (user_id, day);

-- Budgets as set (the live counters are in the principal's RateLimiter object): JSON
-- {"credits":N,"period":"day"|"month","total"?:N}, NULL = no budget.
ALTER TABLE api_keys ADD COLUMN budget TEXT;
ALTER TABLE users ADD COLUMN budget TEXT;
