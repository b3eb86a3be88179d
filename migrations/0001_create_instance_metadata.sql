-- Facts about this deployment (schema notes, bootstrap markers). Read by /health?deep=1.
CREATE TABLE IF NOT EXISTS instance_metadata (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL,
  updated_at INTEGER NOT NULL
);
INSERT OR IGNORE INTO instance_metadata (key, value, updated_at) VALUES ('schema_created_at', strftime('%s','now') * 1000, strftime('%s','now') * 1000);
