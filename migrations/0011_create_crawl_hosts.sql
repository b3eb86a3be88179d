-- Index of target hosts that have a HostPacer Durable Object (docs/polite-crawling.md), so admins
-- can list them (GET /admin/hosts). The live state (slots, leases, backoff, robots cache) stays in
-- the object; this table only says which objects exist and when they were last used.
CREATE TABLE IF NOT EXISTS crawl_hosts (
  host TEXT PRIMARY KEY,
  first_seen INTEGER NOT NULL,
  last_seen INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_crawl_hosts_last_seen ON crawl_hosts (last_seen DESC, host);
